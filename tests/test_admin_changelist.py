"""The breaker changelist: live columns, summary line, filter, search, escaping and scale."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from circuitbreaker_app import get_breaker
from circuitbreaker_app.models import CircuitBreaker
from tests.admin_support import (
    changelist_url,
    log_in,
    record_failures,
    record_successes,
)
from tests.factories import CircuitBreakerFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


@pytest.fixture
def operator_client(client):
    log_in(client, "superuser")
    return client


def page(client, query=""):
    response = client.get(changelist_url() + query)
    assert response.status_code == 200
    return response.content.decode()


def test_badges_show_state_and_hold(operator_client):
    CircuitBreakerFactory(name="tripped", failure_threshold=2)
    CircuitBreakerFactory(name="held")
    CircuitBreakerFactory(name="trial")
    CircuitBreakerFactory(name="quiet")
    record_failures("tripped", 2)
    get_breaker("held").force_open(hold=True)
    get_breaker("trial").force_half_open()

    html = page(operator_client)

    assert (
        'data-cb-name="tripped" data-cb-field="state" class="cb-badge" data-state="open">open<'
        in html
    )
    assert 'data-state="open">open · held<' in html
    assert (
        'data-cb-name="trial" data-cb-field="state" class="cb-badge" data-state="half_open">half-open<'
        in html
    )
    assert (
        'data-cb-name="quiet" data-cb-field="state" class="cb-badge" data-state="closed">closed<'
        in html
    )


def test_failures_shown_against_threshold(operator_client):
    CircuitBreakerFactory(name="payments-api", failure_threshold=5)
    record_failures("payments-api", 4)

    html = page(operator_client)

    assert 'data-cb-field="failures">4 / 5<' in html


def test_rate_policy_shows_failure_rate(operator_client):
    CircuitBreakerFactory(name="search", trip_policy="rate", minimum_calls=10)
    record_failures("search", 1)
    record_successes("search", 3)

    html = page(operator_client)

    assert 'data-cb-field="failures">25 % / 50 %<' in html


def test_open_breaker_counts_down(operator_client):
    CircuitBreakerFactory(name="payments-api", failure_threshold=1)
    record_failures("payments-api", 1)

    html = page(operator_client)

    assert 'data-cb-field="retry" data-seconds="' in html
    assert ">0:10<" in html or ">0:09<" in html


def test_held_open_breaker_waits_for_release(operator_client):
    CircuitBreakerFactory(name="payments-api")
    get_breaker("payments-api").force_open(hold=True)

    html = page(operator_client)

    assert 'data-cb-field="retry" data-seconds="">until released<' in html


def test_last_transition_says_why(operator_client):
    CircuitBreakerFactory(name="payments-api", failure_threshold=1)
    record_failures("payments-api", 1)

    html = page(operator_client)

    assert "s ago, failure threshold reached<" in html


def test_last_error_is_escaped(operator_client):
    CircuitBreakerFactory(name="payments-api", failure_threshold=1)
    record_failures("payments-api", 1, message=XSS)

    html = page(operator_client)

    assert XSS not in html
    assert "RuntimeError: &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_summary_line_counts_states(operator_client):
    for name in ["a", "b", "c", "d", "e", "f"]:
        CircuitBreakerFactory(name=name, failure_threshold=1)
    record_failures("a", 1)
    record_failures("b", 1)
    get_breaker("c").force_half_open()
    get_breaker("d").force_closed(hold=True)

    html = page(operator_client)

    assert (
        '<p class="cb-summary" data-cb-summary>2 open · 1 half-open · 3 closed · 1 held</p>' in html
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("open", {"tripped", "held-open"}),
        ("half_open", {"trial"}),
        ("closed", {"quiet"}),
        ("held", {"held-open"}),
    ],
)
def test_live_state_filter(operator_client, value, expected):
    CircuitBreakerFactory(name="tripped", failure_threshold=1)
    CircuitBreakerFactory(name="held-open")
    CircuitBreakerFactory(name="trial")
    CircuitBreakerFactory(name="quiet")
    record_failures("tripped", 1)
    get_breaker("held-open").force_open(hold=True)
    get_breaker("trial").force_half_open()

    response = operator_client.get(changelist_url(), {"live_state": value})

    shown = {row.name for row in response.context["cl"].result_list}
    assert shown == expected


def test_search_matches_name_and_description(operator_client):
    CircuitBreakerFactory(name="payments-api", description="Card gateway")
    CircuitBreakerFactory(name="search", description="Elasticsearch cluster")
    CircuitBreakerFactory(name="inventory", description="Stock levels")

    by_name = operator_client.get(changelist_url(), {"q": "payments"})
    by_description = operator_client.get(changelist_url(), {"q": "elasticsearch"})

    assert [row.name for row in by_name.context["cl"].result_list] == ["payments-api"]
    assert [row.name for row in by_description.context["cl"].result_list] == ["search"]


def test_reason_from_operator_is_escaped_in_events(operator_client):
    CircuitBreakerFactory(name="payments-api")
    get_breaker("payments-api").force_open(hold=True, reason=XSS)

    response = operator_client.get("/admin/circuitbreaker_app/breakerevent/")

    html = response.content.decode()
    assert response.status_code == 200
    assert XSS not in html
    assert "&lt;script&gt;" in html


def _create_breakers(count):
    CircuitBreaker.objects.bulk_create(
        CircuitBreaker(name=f"breaker-{index:03d}", description="bulk") for index in range(count)
    )


def _count_queries(client):
    with CaptureQueriesContext(connection) as queries:
        page(client)
    return len(queries)


def test_500_breakers_cost_one_round_trip(
    operator_client, round_trips, django_assert_max_num_queries
):
    _create_breakers(500)
    page(operator_client)  # loads the Lua script into Redis
    round_trips["count"] = 0

    with django_assert_max_num_queries(10):
        html = page(operator_client, "?live_state=closed")

    assert round_trips["count"] == 1
    assert "0 open · 0 half-open · 500 closed" in html


def test_query_count_independent_of_breakers(operator_client):
    _create_breakers(5)
    page(operator_client)
    few = _count_queries(operator_client)

    CircuitBreaker.objects.bulk_create(CircuitBreaker(name=f"more-{i:03d}") for i in range(495))
    page(operator_client)
    many = _count_queries(operator_client)

    assert many == few
