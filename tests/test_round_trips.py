"""Round trips per guarded call on Redis: one before, at most one after."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def alias(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    return "default"


def test_closed_success_costs_one_round_trip(make_breaker, round_trips):
    breaker = make_breaker(trip_policy="count")
    breaker.call(lambda: None)
    round_trips["count"] = 0
    breaker.call(lambda: None)
    assert round_trips["count"] == 1
