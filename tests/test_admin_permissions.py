"""Who may see which admin page, who is offered the force actions, and what a crafted POST does."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from circuitbreaker_app import get_breaker
from circuitbreaker_app.admin.actions import FORCE_ACTIONS
from circuitbreaker_app.models import BreakerEvent
from tests.admin_support import (
    FORCING_ROLES,
    ROLES,
    change_url,
    changelist_url,
    events_url,
    force_url,
    live_url,
    log_in,
)
from tests.factories import BreakerEventFactory, CircuitBreakerFactory

pytestmark = pytest.mark.django_db

FORCE_NAMES = {action.__name__ for action in FORCE_ACTIONS}

# Expected status per role for pages that need view permission on breakers.
VIEW_STATUS = {
    "anonymous": 302,
    "staff": 403,
    "viewer": 200,
    "editor": 200,
    "operator": 200,
    "superuser": 200,
}
FORCE_STATUS = {**VIEW_STATUS, "viewer": 403, "editor": 403}


@pytest.fixture
def breaker_row():
    return CircuitBreakerFactory(name="payments-api")


def pages(row):
    event = BreakerEventFactory(breaker=row)
    return {
        "changelist": changelist_url(),
        "change": change_url(row),
        "history": reverse("admin:circuitbreaker_app_circuitbreaker_history", args=[row.pk]),
        "live": live_url(),
        "events": events_url(),
        "event": reverse("admin:circuitbreaker_app_breakerevent_change", args=[event.pk]),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["changelist", "change", "history", "live", "events", "event"])
def test_page_access_by_role(client, breaker_row, role, page):
    url = pages(breaker_row)[page]
    log_in(client, role)

    response = client.get(url)

    assert response.status_code == VIEW_STATUS[role]
    if role == "anonymous":
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("role", ROLES)
def test_force_confirmation_access_by_role(client, breaker_row, role):
    log_in(client, role)

    response = client.get(force_url(breaker_row, "hold_open"))

    assert response.status_code == FORCE_STATUS[role]


@pytest.mark.parametrize("role", ROLES[1:])
def test_force_actions_offered_by_role(client, breaker_row, role):
    log_in(client, role)

    response = client.get(changelist_url())

    if response.status_code == 403:
        assert role == "staff"
        return
    action_form = response.context["action_form"]
    choices = action_form.fields["action"].choices if action_form else []
    offered = {value for value, _label in choices}
    if role in FORCING_ROLES:
        assert FORCE_NAMES <= offered
    else:
        assert not FORCE_NAMES & offered


@pytest.mark.parametrize("role", ROLES[1:])
def test_force_buttons_shown_by_role(client, breaker_row, role):
    log_in(client, role)

    response = client.get(change_url(breaker_row))

    html = response.content.decode()
    has_buttons = 'data-cb-force="hold_open"' in html
    assert has_buttons == (role in FORCING_ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(FORCE_NAMES))
def test_crafted_bulk_post_by_role(client, breaker_row, role, action):
    if action == "release_hold":
        # Releasing an unheld breaker changes nothing. Holding closed keeps the state closed.
        get_breaker("payments-api").force_closed(hold=True)
    events_before = BreakerEvent.objects.count()
    log_in(client, role)
    data = {"action": action, "_selected_action": [breaker_row.pk], "post": "yes", "reason": "x"}

    client.post(changelist_url(), data)

    # A LogEntry is written only after the breaker was forced.
    assert LogEntry.objects.exists() == (role in FORCING_ROLES)
    if role not in FORCING_ROLES:
        assert get_breaker("payments-api").snapshot().state == "closed"
        assert BreakerEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("extra_permission", "status", "expected_messages"),
    [
        (None, 200, []),
        ("delete_circuitbreaker", 302, ["No action selected."]),
    ],
)
def test_crafted_bulk_post_messages(
    client, breaker_row, extra_permission, status, expected_messages
):
    user = log_in(client, "viewer")
    if extra_permission:
        user.user_permissions.add(Permission.objects.get(codename=extra_permission))
    data = {
        "action": "hold_open",
        "_selected_action": [breaker_row.pk],
        "post": "yes",
        "reason": "x",
    }

    response = client.post(changelist_url(), data)

    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert response.status_code == status
    assert messages == expected_messages
    assert get_breaker("payments-api").snapshot().state == "closed"
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_crafted_button_post_by_role(client, breaker_row, role):
    log_in(client, role)

    response = client.post(force_url(breaker_row, "hold_open"), {"post": "yes", "reason": "x"})

    forced = get_breaker("payments-api").snapshot().state == "open"
    assert forced == (role in FORCING_ROLES)
    if role not in FORCING_ROLES and role != "anonymous":
        assert response.status_code == 403


def test_force_permission_without_view_is_denied(client, breaker_row):
    user = log_in(client, "staff")
    user.user_permissions.add(Permission.objects.get(codename="force_breaker_state"))

    response = client.get(force_url(breaker_row, "hold_open"))

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["viewer", "editor", "operator"])
def test_event_admin_is_read_only(client, breaker_row, role):
    event = BreakerEventFactory(breaker=breaker_row)
    log_in(client, role)
    url = reverse("admin:circuitbreaker_app_breakerevent_change", args=[event.pk])

    add = client.get(reverse("admin:circuitbreaker_app_breakerevent_add"))
    delete = client.post(reverse("admin:circuitbreaker_app_breakerevent_delete", args=[event.pk]))
    change = client.post(url, {"detail": "rewritten"})

    assert add.status_code == 403
    assert delete.status_code == 403
    assert change.status_code == 403
    event.refresh_from_db()
    assert event.detail != "rewritten"
