"""The admin's live JSON endpoint, and every admin page while the cache is down."""

import pytest
from django.urls import reverse

from circuitbreaker_app import get_breaker
from tests.admin_support import (
    change_url,
    changelist_url,
    events_url,
    force_url,
    live_url,
    log_in,
    record_failures,
)
from tests.factories import BreakerEventFactory, CircuitBreakerFactory

pytestmark = pytest.mark.django_db

BREAKER_FIELDS = {
    "name",
    "available",
    "state",
    "held_state",
    "failure_count",
    "success_count",
    "call_count",
    "failure_threshold",
    "failure_rate",
    "failure_rate_threshold",
    "trip_policy",
    "generation",
    "trials_in_flight",
    "retry_after",
    "retry_at",
    "opened_at",
    "last_changed_at",
    "last_reason",
    "last_error",
    "display",
}
DISPLAY_FIELDS = {"state", "badge", "failures", "retry", "last_transition", "last_error"}


@pytest.fixture
def viewer(client):
    return log_in(client, "viewer")


def test_live_returns_documented_fields(client, viewer):
    CircuitBreakerFactory(name="payments-api", failure_threshold=2)
    CircuitBreakerFactory(name="search")
    record_failures("payments-api", 2, message="<b>timeout</b>")

    response = client.get(live_url())

    payload = response.json()
    payments = payload["breakers"][0]
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert set(payload) == {"available", "generated_at", "summary", "breakers"}
    assert payload["available"] is True
    assert payload["summary"]["open"] == 1
    assert payload["summary"]["closed"] == 1
    assert payload["summary"]["text"] == "1 open · 0 half-open · 1 closed"
    assert [breaker["name"] for breaker in payload["breakers"]] == ["payments-api", "search"]
    assert set(payments) == BREAKER_FIELDS
    assert set(payments["display"]) == DISPLAY_FIELDS
    assert payments["state"] == "open"
    assert payments["failure_count"] == 2
    assert 0 < payments["retry_after"] <= 10
    assert payments["last_reason"] == "failure_threshold"
    assert payments["last_error"] == "builtins.RuntimeError: <b>timeout</b>"
    assert payments["display"]["failures"] == "2 / 2"


def test_live_filters_by_name(client, viewer):
    for name in ["a-api", "b-api", "c-api"]:
        CircuitBreakerFactory(name=name)

    response = client.get(live_url(), {"name": ["a-api", "c-api"]})

    assert [breaker["name"] for breaker in response.json()["breakers"]] == ["a-api", "c-api"]


def test_live_marks_held_breaker(client, viewer):
    CircuitBreakerFactory(name="payments-api")
    get_breaker("payments-api").force_open(hold=True)

    breaker = client.get(live_url()).json()["breakers"][0]

    assert breaker["held_state"] == "open"
    assert breaker["retry_after"] is None
    assert breaker["display"]["state"] == "open · held"
    assert breaker["display"]["retry"] == "until released"


def test_live_reports_unknown_when_cache_down(client, viewer, settings):
    CircuitBreakerFactory(name="payments-api")
    settings.CIRCUITBREAKER_CACHE_ALIAS = "dead"

    response = client.get(live_url())

    payload = response.json()
    breaker = payload["breakers"][0]
    assert response.status_code == 200
    assert payload["available"] is False
    assert payload["summary"]["unknown"] == 1
    assert breaker["available"] is False
    assert breaker["state"] is None
    assert breaker["display"]["state"] == "state unknown"
    assert breaker["display"]["badge"] == "unknown"


def cache_down_pages(row):
    event = BreakerEventFactory(breaker=row)
    return [
        changelist_url(),
        changelist_url() + "?live_state=open",
        change_url(row),
        reverse("admin:circuitbreaker_app_circuitbreaker_add"),
        reverse("admin:circuitbreaker_app_circuitbreaker_history", args=[row.pk]),
        reverse("admin:circuitbreaker_app_circuitbreaker_delete", args=[row.pk]),
        force_url(row, "hold_open"),
        live_url(),
        events_url(),
        reverse("admin:circuitbreaker_app_breakerevent_change", args=[event.pk]),
        reverse("admin:index"),
    ]


def test_every_page_renders_when_cache_down(client, settings):
    log_in(client, "superuser")
    row = CircuitBreakerFactory(name="payments-api")
    settings.CIRCUITBREAKER_CACHE_ALIAS = "dead"

    for url in cache_down_pages(row):
        response = client.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("page", ["changelist", "change"])
def test_cache_down_shows_state_unknown(client, settings, page):
    log_in(client, "superuser")
    row = CircuitBreakerFactory(name="payments-api")
    settings.CIRCUITBREAKER_CACHE_ALIAS = "dead"
    url = changelist_url() if page == "changelist" else change_url(row)

    html = client.get(url).content.decode()

    assert 'data-state="unknown">state unknown<' in html
    assert '<p class="errornote cb-warning" data-cb-warning>' in html
    assert "No history: state unknown." in html or page == "changelist"


def test_cache_up_hides_warning(client):
    log_in(client, "superuser")
    CircuitBreakerFactory(name="payments-api")

    html = client.get(changelist_url()).content.decode()

    assert '<p class="errornote cb-warning" data-cb-warning hidden>' in html
