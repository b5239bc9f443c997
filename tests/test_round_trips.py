"""Round trips per guarded call on Redis: one before the call, at most one after it."""

import pytest

from circuitbreaker_app import CircuitOpenError

pytestmark = pytest.mark.django_db


@pytest.fixture
def alias(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    return "default"


def measure(round_trips, func):
    round_trips["count"] = 0
    func()
    return round_trips["count"]


def boom():
    raise RuntimeError("down")


def call_ignoring(breaker, func):
    def run():
        try:
            breaker.call(func)
        except (RuntimeError, CircuitOpenError):
            pass

    return run


@pytest.mark.parametrize("policy", ["consecutive", "count"])
def test_closed_success_needs_one_round_trip(make_breaker, round_trips, policy):
    breaker = make_breaker(trip_policy=policy)
    breaker.call(lambda: None)
    assert measure(round_trips, call_ignoring(breaker, lambda: None)) == 1


def test_success_after_failure_resets_once(make_breaker, round_trips):
    breaker = make_breaker(trip_policy="consecutive", failure_threshold=5)
    call_ignoring(breaker, boom)()
    assert measure(round_trips, call_ignoring(breaker, lambda: None)) == 2
    assert measure(round_trips, call_ignoring(breaker, lambda: None)) == 1


def test_rate_policy_success_needs_two(make_breaker, round_trips):
    breaker = make_breaker(trip_policy="rate")
    breaker.call(lambda: None)
    assert measure(round_trips, call_ignoring(breaker, lambda: None)) == 2


@pytest.mark.parametrize("policy", ["consecutive", "count", "rate"])
def test_failure_needs_two_round_trips(make_breaker, round_trips, policy):
    breaker = make_breaker(trip_policy=policy, failure_threshold=100)
    breaker.call(lambda: None)
    assert measure(round_trips, call_ignoring(breaker, boom)) == 2


def test_tripping_failure_needs_two(make_breaker, round_trips):
    breaker = make_breaker(failure_threshold=2)
    call_ignoring(breaker, boom)()
    assert measure(round_trips, call_ignoring(breaker, boom)) == 2


def test_rejected_call_needs_one(make_breaker, round_trips):
    breaker = make_breaker()
    breaker.force_open(hold=True)
    assert measure(round_trips, call_ignoring(breaker, lambda: None)) == 1


def test_trial_call_needs_two(make_breaker, round_trips):
    breaker = make_breaker()
    breaker.force_half_open()
    assert measure(round_trips, call_ignoring(breaker, lambda: None)) == 2
