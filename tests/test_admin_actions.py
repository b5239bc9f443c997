"""Force actions: confirmation page, reason, audit trail, messages, CSRF and cache outages."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.test import Client

from circuitbreaker_app import get_breaker
from circuitbreaker_app.models import BreakerEvent, CircuitBreaker
from tests.admin_support import (
    change_url,
    changelist_url,
    force_url,
    log_in,
    record_failures,
)
from tests.factories import CircuitBreakerFactory

pytestmark = pytest.mark.django_db


def start_closed(name):
    """Leave the breaker closed and unheld (its fresh state)."""


def start_tripped(name):
    record_failures(name, 3)


def start_held_open(name):
    get_breaker(name).force_open(hold=True)


# action, how the breaker starts, expected state, expected hold
CASES = [
    ("hold_open", start_closed, "open", "open"),
    ("force_open", start_closed, "open", ""),
    ("force_close", start_tripped, "closed", ""),
    ("hold_closed", start_tripped, "closed", "closed"),
    ("force_half_open", start_closed, "half_open", ""),
    ("release_hold", start_held_open, "open", ""),
]


@pytest.fixture
def operator(client):
    return log_in(client, "operator")


@pytest.fixture
def breaker_row():
    return CircuitBreakerFactory(name="payments-api", failure_threshold=3)


def bulk_post(client, rows, action, **extra):
    data = {"action": action, "_selected_action": [row.pk for row in rows], **extra}
    return client.post(changelist_url(), data)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(("action", "start", "state", "hold"), CASES)
def test_bulk_action_forces_after_confirmation(
    client, operator, breaker_row, action, start, state, hold
):
    start("payments-api")
    events_before = BreakerEvent.objects.count()

    response = bulk_post(client, [breaker_row], action, post="yes", reason="card gateway incident")

    snapshot = get_breaker("payments-api").snapshot()
    assert response.status_code == 302
    assert snapshot.state == state
    assert snapshot.held_state == hold
    assert CircuitBreaker.objects.get(pk=breaker_row.pk).held_state == hold
    assert BreakerEvent.objects.count() == events_before + 1
    event = BreakerEvent.objects.first()
    assert event.actor == operator
    assert event.detail == "card gateway incident"


@pytest.mark.parametrize(("action", "start", "state", "hold"), CASES)
def test_change_page_button_forces(client, operator, breaker_row, action, start, state, hold):
    start("payments-api")

    response = client.post(force_url(breaker_row, action), {"post": "yes", "reason": "drill"})

    snapshot = get_breaker("payments-api").snapshot()
    assert response.status_code == 302
    assert response["Location"] == change_url(breaker_row)
    assert snapshot.state == state
    assert snapshot.held_state == hold
    assert BreakerEvent.objects.first().actor == operator


def test_close_resets_counters(client, operator, breaker_row):
    record_failures("payments-api", 2)

    bulk_post(client, [breaker_row], "force_close", post="yes", reason="fixed")

    assert get_breaker("payments-api").snapshot().failure_count == 0


def test_bulk_action_shows_confirmation_first(client, operator, breaker_row):
    response = bulk_post(client, [breaker_row], "hold_open")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name.endswith("force_confirmation.html")
    assert '<input type="hidden" name="post" value="yes">' in html
    assert '<input type="hidden" name="action" value="hold_open">' in html
    assert f'<input type="hidden" name="_selected_action" value="{breaker_row.pk}">' in html
    assert 'name="reason"' in html
    assert "Calls through these breakers will be rejected" in html
    assert get_breaker("payments-api").snapshot().state == "closed"


def test_change_page_button_shows_confirmation(client, operator, breaker_row):
    response = client.get(force_url(breaker_row, "force_half_open"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<input type="hidden" name="post" value="yes">' in html
    assert 'name="action"' not in html
    assert get_breaker("payments-api").snapshot().state == "closed"


def test_confirmation_requires_reason(client, operator, breaker_row):
    response = bulk_post(client, [breaker_row], "hold_open", post="yes", reason="")

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert get_breaker("payments-api").snapshot().state == "closed"
    assert not BreakerEvent.objects.exists()


def test_action_writes_admin_log_entry(client, operator, breaker_row):
    bulk_post(client, [breaker_row], "hold_open", post="yes", reason="maintenance window")

    entry = LogEntry.objects.get()
    assert entry.user == operator
    assert entry.object_id == str(breaker_row.pk)
    assert entry.get_change_message() == "Hold open: maintenance window"


def test_action_logs_user_at_info(client, operator, breaker_row, caplog):
    caplog.set_level("INFO", logger="circuitbreaker_app.admin.forcing")

    bulk_post(client, [breaker_row], "hold_open", post="yes", reason="maintenance")

    assert "Admin: operator forced breaker payments-api with hold_open, reason: maintenance" in (
        caplog.text
    )


def test_action_reports_count_and_names(client, operator):
    rows = [CircuitBreakerFactory(name=name) for name in ["a-api", "b-api"]]

    response = bulk_post(client, rows, "force_open", post="yes", reason="drill")

    assert messages_of(response) == ["Open: done for 2 breakers (a-api, b-api)."]


def test_release_unheld_changes_nothing(client, operator, breaker_row):
    response = bulk_post(client, [breaker_row], "release_hold", post="yes", reason="drill")

    assert response.status_code == 302
    assert messages_of(response) == [
        "1 breaker was not held, so it was left unchanged: payments-api."
    ]
    assert not BreakerEvent.objects.exists()
    assert not LogEntry.objects.exists()


def test_release_button_on_unheld_changes_nothing(client, operator, breaker_row):
    response = client.post(force_url(breaker_row, "release_hold"), {"post": "yes", "reason": "x"})

    assert response.status_code == 302
    assert response["Location"] == change_url(breaker_row)
    assert messages_of(response) == [
        "1 breaker was not held, so it was left unchanged: payments-api."
    ]
    assert not BreakerEvent.objects.exists()
    assert not LogEntry.objects.exists()


def test_release_mixed_selection_releases_held(client, operator):
    rows = [CircuitBreakerFactory(name=name) for name in ["a-api", "b-api", "c-api"]]
    get_breaker("b-api").force_open(hold=True)
    events_before = BreakerEvent.objects.count()

    response = bulk_post(client, rows, "release_hold", post="yes", reason="incident over")

    assert messages_of(response) == [
        "Release hold: done for 1 breaker (b-api).",
        "2 breakers were not held, so they were left unchanged: a-api, c-api.",
    ]
    assert get_breaker("b-api").snapshot().held_state == ""
    assert CircuitBreaker.objects.get(name="b-api").held_state == ""
    assert BreakerEvent.objects.count() == events_before + 1
    assert [entry.object_repr for entry in LogEntry.objects.all()] == ["b-api"]


def test_action_requires_csrf_token(breaker_row):
    client = Client(enforce_csrf_checks=True)
    log_in(client, "operator")

    rejected = bulk_post(client, [breaker_row], "hold_open", post="yes", reason="x")
    rejected_button = client.post(
        force_url(breaker_row, "hold_open"), {"post": "yes", "reason": "x"}
    )

    assert rejected.status_code == 403
    assert rejected_button.status_code == 403
    assert get_breaker("payments-api").snapshot().state == "closed"


def test_action_accepts_csrf_token(breaker_row):
    client = Client(enforce_csrf_checks=True)
    log_in(client, "operator")
    client.get(changelist_url())
    token = client.cookies["csrftoken"].value

    response = bulk_post(
        client, [breaker_row], "hold_open", post="yes", reason="x", csrfmiddlewaretoken=token
    )

    assert response.status_code == 302
    assert get_breaker("payments-api").snapshot().state == "open"


def test_unknown_force_action_is_not_found(client, operator, breaker_row):
    response = client.get(force_url(breaker_row, "explode"))

    assert response.status_code == 404


def test_force_on_missing_breaker_is_not_found(client, operator):
    response = client.get("/admin/circuitbreaker_app/circuitbreaker/9999/force/hold_open/")

    assert response.status_code == 404


def test_cache_down_action_changes_nothing(client, operator, breaker_row, settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "dead"

    response = bulk_post(client, [breaker_row], "hold_open", post="yes", reason="x")

    assert response.status_code == 302
    assert messages_of(response) == [
        "The cache is unreachable, so 1 breaker was not changed: payments-api."
    ]
    assert CircuitBreaker.objects.get(pk=breaker_row.pk).held_state == ""
    assert not BreakerEvent.objects.exists()
    assert not LogEntry.objects.exists()


def test_cache_down_button_changes_nothing(client, operator, breaker_row, settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "dead"

    confirmation = client.get(force_url(breaker_row, "hold_closed"))
    response = client.post(force_url(breaker_row, "hold_closed"), {"post": "yes", "reason": "x"})

    assert confirmation.status_code == 200
    assert "state unknown" in confirmation.content.decode()
    assert response.status_code == 302
    assert CircuitBreaker.objects.get(pk=breaker_row.pk).held_state == ""
    assert not BreakerEvent.objects.exists()
