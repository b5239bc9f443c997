"""The breaker change page: fieldsets, live panel, chart, recent events, and the event admin."""

import datetime as dt

import pytest
from django.urls import reverse

from circuitbreaker_app import get_breaker
from circuitbreaker_app.admin.events_inline import RECENT_EVENTS
from circuitbreaker_app.models import BreakerEvent, CircuitBreaker
from tests.admin_support import change_url, events_url, log_in, record_failures, record_successes
from tests.factories import BreakerEventFactory, CircuitBreakerFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


@pytest.fixture
def superuser(client):
    return log_in(client, "superuser")


@pytest.fixture
def breaker_row():
    return CircuitBreakerFactory(name="payments-api", failure_threshold=3)


def form_data(row, **changes):
    """Build a valid change-form POST for the row, with the events inline left as it is."""
    shown = list(row.events.order_by("-created_at", "-id")[:RECENT_EVENTS])
    data = {
        "name": row.name,
        "description": row.description,
        "trip_policy": row.trip_policy,
        "failure_threshold": row.failure_threshold,
        "window": "00:01:00",
        "failure_rate_threshold": row.failure_rate_threshold,
        "minimum_calls": row.minimum_calls,
        "slow_call_duration": "",
        "retry_duration": "00:00:10",
        "max_retry_duration": "00:01:20",
        "retry_backoff": row.retry_backoff,
        "half_open_max_calls": row.half_open_max_calls,
        "success_threshold": row.success_threshold,
        "ignored_exceptions": "",
        "events-TOTAL_FORMS": len(shown),
        "events-INITIAL_FORMS": len(shown),
        "events-MIN_NUM_FORMS": 0,
        "events-MAX_NUM_FORMS": 0,
    }
    for index, event in enumerate(shown):
        data[f"events-{index}-id"] = event.pk
        data[f"events-{index}-breaker"] = row.pk
    data.update(changes)
    return data


def test_fields_grouped_in_fieldsets(client, superuser, breaker_row):
    response = client.get(change_url(breaker_row))

    names = [fieldset.name for fieldset in response.context["adminform"]]
    assert names == [None, "Trip policy", "Open and half-open", "Which errors count", "Timestamps"]


def test_help_texts_give_units(client, superuser, breaker_row):
    html = client.get(change_url(breaker_row)).content.decode()

    assert "Sliding window for the count and rate policies (HH:MM:SS)." in html
    assert "Percent of failed calls in the window" in html


def test_live_panel_shows_state(client, superuser, breaker_row):
    record_failures("payments-api", 3, message=XSS)

    html = client.get(change_url(breaker_row)).content.decode()

    assert "Live state" in html
    assert (
        'data-cb-endpoint="/admin/circuitbreaker_app/circuitbreaker/live/?name=payments-api"'
        in html
    )
    assert 'data-state="open">open<' in html
    assert 'data-cb-field="failures">3 / 3<' in html
    assert XSS not in html
    assert "&lt;script&gt;" in html


def test_chart_draws_calls_and_failures(client, superuser, breaker_row):
    record_successes("payments-api", 4)
    record_failures("payments-api", 2)

    html = client.get(change_url(breaker_row)).content.decode()

    assert '<svg class="cb-chart" role="img"' in html
    assert "<title>Calls: 6, failures: 2 in the last 60 s</title>" in html
    assert html.count('class="cb-bar-calls"') == 30
    assert html.count('class="cb-bar-failures"') == 30


def test_recent_events_newest_first_and_limited(client, superuser, breaker_row):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for minute in range(RECENT_EVENTS + 5):
        event = BreakerEventFactory(breaker=breaker_row, detail=f"event {minute}")
        BreakerEvent.objects.filter(pk=event.pk).update(
            created_at=start + dt.timedelta(minutes=minute)
        )

    response = client.get(change_url(breaker_row))

    formset = response.context["inline_admin_formsets"][0].formset
    details = [form.instance.detail for form in formset.forms]
    assert len(details) == RECENT_EVENTS
    assert details[0] == f"event {RECENT_EVENTS + 4}"
    assert details[-1] == "event 5"


def test_recent_events_are_read_only(client, superuser, breaker_row):
    BreakerEventFactory(breaker=breaker_row, detail=XSS)

    response = client.get(change_url(breaker_row))

    inline = response.context["inline_admin_formsets"][0]
    html = response.content.decode()
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    assert not inline.has_delete_permission
    assert XSS not in html


def test_save_keeps_events(client, superuser, breaker_row):
    get_breaker("payments-api").force_open(hold=True, reason="maintenance")
    BreakerEventFactory.create_batch(RECENT_EVENTS + 2, breaker=breaker_row)
    count = breaker_row.events.count()

    response = client.post(change_url(breaker_row), form_data(breaker_row, failure_threshold=7))

    assert response.status_code == 302
    saved = CircuitBreaker.objects.get(pk=breaker_row.pk)
    assert saved.failure_threshold == 7
    assert saved.held_state == "open"
    assert saved.events.count() == count


def test_name_read_only_on_change_page(client, superuser, breaker_row):
    response = client.get(change_url(breaker_row))

    form = response.context["adminform"].form
    assert "name" not in form.fields
    assert 'name="name"' not in response.content.decode()


def test_rename_post_keeps_name(client, superuser, breaker_row):
    response = client.post(change_url(breaker_row), form_data(breaker_row, name="billing-api"))

    assert response.status_code == 302
    assert CircuitBreaker.objects.get(pk=breaker_row.pk).name == "payments-api"
    assert not CircuitBreaker.objects.filter(name="billing-api").exists()


def test_name_editable_on_add_page(client, superuser, breaker_row):
    add_url = reverse("admin:circuitbreaker_app_circuitbreaker_add")
    data = form_data(breaker_row, name="billing-api")
    data.update({"events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0})

    page = client.get(add_url)
    response = client.post(add_url, data)

    assert "name" in page.context["adminform"].form.fields
    assert response.status_code == 302
    assert CircuitBreaker.objects.filter(name="billing-api").exists()


def test_event_admin_filters_and_hierarchy(client, superuser, breaker_row):
    BreakerEventFactory(breaker=breaker_row, reason="failure_threshold")
    BreakerEventFactory(breaker__name="search", reason="trial_failed")
    BreakerEventFactory(breaker=breaker_row, reason="forced", to_state="closed", actor=superuser)

    response = client.get(events_url(), {"reason": "forced"})

    changelist = response.context["cl"]
    titles = [str(spec.title) for spec in changelist.filter_specs]
    assert titles == ["breaker", "to state", "reason", "actor"]
    assert changelist.date_hierarchy == "created_at"
    assert [event.reason for event in changelist.result_list] == ["forced"]


def test_event_admin_filters_by_actor(client, superuser, breaker_row):
    BreakerEventFactory(breaker=breaker_row)
    BreakerEventFactory(breaker=breaker_row, actor=superuser, detail="by hand")

    response = client.get(events_url(), {"actor__id__exact": superuser.pk})

    assert [event.detail for event in response.context["cl"].result_list] == ["by hand"]


def test_event_change_page_escapes_detail(client, superuser, breaker_row):
    event = BreakerEventFactory(breaker=breaker_row, detail=XSS)

    response = client.get(reverse("admin:circuitbreaker_app_breakerevent_change", args=[event.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert XSS not in html
    assert "&lt;script&gt;" in html
