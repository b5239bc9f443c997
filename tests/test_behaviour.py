"""The breaker's behaviour, run once on in-process storage and once on real Redis."""

import datetime as dt

import pytest

from circuitbreaker_app import CircuitOpenError, State
from circuitbreaker_app.models import BreakerEvent
from circuitbreaker_app.signals import state_changed

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def fail(breaker, times=1, exc=Boom):
    for _ in range(times):
        with pytest.raises(exc):
            breaker.call(_raise, exc("downstream down"))


def _raise(exc):
    raise exc


def ok(breaker):
    return breaker.call(lambda: "ok")


def test_closed_breaker_runs_calls(make_breaker):
    breaker = make_breaker()
    assert ok(breaker) == "ok"
    assert breaker.state == State.CLOSED


def test_consecutive_failures_trip_at_threshold(make_breaker):
    breaker = make_breaker(failure_threshold=3)
    fail(breaker, 2)
    assert breaker.state == State.CLOSED
    fail(breaker)
    assert breaker.state == State.OPEN


def test_success_resets_consecutive_count(make_breaker):
    breaker = make_breaker(failure_threshold=3)
    fail(breaker, 2)
    ok(breaker)
    assert breaker.snapshot().failure_count == 0
    fail(breaker, 2)
    assert breaker.state == State.CLOSED


def test_open_breaker_rejects_without_calling(make_breaker):
    breaker = make_breaker(failure_threshold=1, retry_duration=dt.timedelta(seconds=10))
    fail(breaker)
    calls = []
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(calls.append, 1)
    assert calls == []
    assert info.value.breaker_name == "payments-api"
    assert 9 < info.value.retry_after <= 10


def test_rejected_calls_are_not_failures(make_breaker):
    breaker = make_breaker(failure_threshold=1)
    fail(breaker)
    before = breaker.snapshot().failure_count
    with pytest.raises(CircuitOpenError):
        ok(breaker)
    assert breaker.snapshot().failure_count == before


def test_open_turns_half_open_for_readers(make_breaker, advance):
    breaker = make_breaker(failure_threshold=1, retry_duration=dt.timedelta(seconds=10))
    fail(breaker)
    advance(10.01)
    snapshot = breaker.snapshot()
    assert snapshot.state == State.HALF_OPEN
    event = BreakerEvent.objects.first()
    assert (event.from_state, event.to_state, event.reason) == (
        "open",
        "half_open",
        "retry_elapsed",
    )


def test_trial_success_closes_breaker(make_breaker, advance):
    breaker = make_breaker(failure_threshold=1, success_threshold=2, half_open_max_calls=2)
    fail(breaker)
    advance(11)
    ok(breaker)
    assert breaker.state == State.HALF_OPEN
    ok(breaker)
    assert breaker.state == State.CLOSED
    assert BreakerEvent.objects.first().reason == "trial_succeeded"


def test_trial_failure_reopens_with_backoff(make_breaker, advance):
    breaker = make_breaker(
        failure_threshold=1,
        retry_duration=dt.timedelta(seconds=10),
        max_retry_duration=dt.timedelta(seconds=25),
        retry_backoff=2,
    )
    fail(breaker)
    advance(11)
    fail(breaker)
    snapshot = breaker.snapshot()
    assert snapshot.state == State.OPEN
    assert snapshot.current_retry_duration == 20
    advance(21)
    fail(breaker)
    assert breaker.snapshot().current_retry_duration == 25
    assert BreakerEvent.objects.first().reason == "trial_failed"


def test_close_resets_retry_backoff(make_breaker, advance):
    breaker = make_breaker(failure_threshold=1, retry_duration=dt.timedelta(seconds=10))
    fail(breaker)
    advance(11)
    fail(breaker)
    advance(21)
    ok(breaker)
    assert breaker.state == State.CLOSED
    fail(breaker)
    assert breaker.snapshot().current_retry_duration == 10


def test_half_open_admits_limited_trials(make_breaker, advance):
    breaker = make_breaker(failure_threshold=1, half_open_max_calls=1)
    fail(breaker)
    advance(11)
    with breaker.guard():
        with pytest.raises(CircuitOpenError):
            ok(breaker)
    assert breaker.state == State.CLOSED


def test_half_open_rejection_hint_capped(make_breaker, settings):
    settings.CIRCUITBREAKER_TRIAL_LEASE = 30
    breaker = make_breaker(retry_duration=dt.timedelta(seconds=2))
    breaker.force_half_open()
    with breaker.guard():
        with pytest.raises(CircuitOpenError) as info:
            ok(breaker)
    assert info.value.retry_after == 2


def test_trial_permit_expires_after_lease(make_breaker, advance, settings):
    settings.CIRCUITBREAKER_TRIAL_LEASE = 5
    breaker = make_breaker(failure_threshold=1)
    fail(breaker)
    advance(11)
    guard = breaker.guard()
    guard.__enter__()
    with pytest.raises(CircuitOpenError):
        ok(breaker)
    advance(4.9)
    with pytest.raises(CircuitOpenError):
        ok(breaker)
    advance(0.2)
    assert ok(breaker) == "ok"


def test_skipped_error_releases_trial_permit(make_breaker, advance):
    breaker = make_breaker(failure_threshold=1)
    fail(breaker)
    advance(11)
    with pytest.raises(KeyError):
        with breaker.guard(skip=KeyError):
            raise KeyError("not found")
    assert breaker.state == State.HALF_OPEN
    assert ok(breaker) == "ok"
    assert breaker.state == State.CLOSED


def test_skip_predicate_counts_neither_way(make_breaker):
    breaker = make_breaker(failure_threshold=1)
    with pytest.raises(Boom):
        with breaker.guard(skip=lambda exc: "404" in str(exc)):
            raise Boom("404 not found")
    assert breaker.state == State.CLOSED
    assert breaker.snapshot().failure_count == 0


def test_ignored_exceptions_from_model(make_breaker):
    breaker = make_breaker(failure_threshold=1, ignored_exceptions="builtins.LookupError\n")
    fail(breaker, exc=KeyError)
    assert breaker.state == State.CLOSED


def test_base_exception_releases_permit(make_breaker, advance):
    breaker = make_breaker(failure_threshold=1)
    fail(breaker)
    advance(11)
    with pytest.raises(KeyboardInterrupt):
        breaker.call(_raise, KeyboardInterrupt())
    assert breaker.state == State.HALF_OPEN
    assert breaker.snapshot().trials_in_flight == 0


def test_base_exception_not_counted_closed(make_breaker):
    breaker = make_breaker(failure_threshold=1)
    with pytest.raises(SystemExit):
        breaker.call(_raise, SystemExit(1))
    assert breaker.state == State.CLOSED


def test_count_policy_uses_window(make_breaker, advance):
    breaker = make_breaker(
        trip_policy="count", failure_threshold=3, window=dt.timedelta(seconds=10)
    )
    fail(breaker, 2)
    ok(breaker)
    advance(11)
    fail(breaker, 2)
    assert breaker.state == State.CLOSED
    fail(breaker)
    assert breaker.state == State.OPEN


def test_rate_policy_waits_for_minimum_calls(make_breaker):
    breaker = make_breaker(
        trip_policy="rate", failure_rate_threshold=50, minimum_calls=4, failure_threshold=100
    )
    fail(breaker, 2)
    ok(breaker)
    assert breaker.state == State.CLOSED
    fail(breaker)
    assert breaker.state == State.OPEN
    assert BreakerEvent.objects.first().reason == "failure_rate"


def test_rate_policy_trips_only_on_failure(make_breaker):
    breaker = make_breaker(
        trip_policy="rate", failure_rate_threshold=50, minimum_calls=4, failure_threshold=100
    )
    fail(breaker, 3)
    ok(breaker)
    assert breaker.state == State.CLOSED
    fail(breaker)
    assert breaker.state == State.OPEN
    assert BreakerEvent.objects.first().reason == "failure_rate"


def test_rate_policy_below_threshold_stays_closed(make_breaker):
    breaker = make_breaker(trip_policy="rate", failure_rate_threshold=60, minimum_calls=4)
    for _ in range(3):
        ok(breaker)
        fail(breaker)
    assert breaker.state == State.CLOSED
    assert breaker.snapshot().failure_rate == 50


def test_slow_call_counts_as_failure(make_breaker):
    breaker = make_breaker(failure_threshold=1, slow_call_duration=dt.timedelta(microseconds=1))
    assert breaker.call(lambda: sum(range(10000))) == sum(range(10000))
    assert breaker.state == State.OPEN
    assert "slow call" in BreakerEvent.objects.first().detail


def test_stale_generation_outcome_ignored(make_breaker):
    breaker = make_breaker(failure_threshold=1)
    guard = breaker.guard()
    guard.__enter__()
    breaker.reset(reason="fresh start")
    guard.__exit__(Boom, Boom("slow call that began earlier"), None)
    assert breaker.state == State.CLOSED


def test_force_open_hold_rejects_until_released(make_breaker, advance):
    breaker = make_breaker()
    breaker.force_open(hold=True, reason="maintenance")
    advance(3600)
    with pytest.raises(CircuitOpenError) as info:
        ok(breaker)
    assert info.value.retry_after is None
    snapshot = breaker.release_hold(reason="done")
    assert snapshot.state == State.OPEN
    assert not snapshot.held
    advance(11)
    assert ok(breaker) == "ok"


def test_force_open_without_hold_expires(make_breaker, advance):
    breaker = make_breaker(retry_duration=dt.timedelta(seconds=10))
    breaker.force_open(hold=False)
    assert breaker.state == State.OPEN
    advance(10.5)
    assert breaker.state == State.HALF_OPEN


def test_held_closed_never_trips(make_breaker):
    breaker = make_breaker(failure_threshold=2)
    breaker.force_closed(hold=True)
    fail(breaker, 5)
    snapshot = breaker.snapshot()
    assert snapshot.state == State.CLOSED
    assert snapshot.failure_count == 5
    assert snapshot.held


def test_force_half_open_admits_trials(make_breaker):
    breaker = make_breaker()
    breaker.force_half_open(reason="probe")
    assert breaker.state == State.HALF_OPEN
    ok(breaker)
    assert breaker.state == State.CLOSED


def test_reset_zeroes_counters_and_hold(make_breaker):
    breaker = make_breaker(failure_threshold=5)
    fail(breaker, 3)
    breaker.force_open(hold=True)
    snapshot = breaker.reset(reason="all clear")
    assert snapshot.state == State.CLOSED
    assert snapshot.failure_count == 0
    assert not snapshot.held
    event = BreakerEvent.objects.first()
    assert (event.reason, event.detail) == ("reset", "all clear")


def test_forced_event_records_actor(make_breaker, django_user_model):
    user = django_user_model.objects.create(username="oncall")
    breaker = make_breaker()
    breaker.force_open(hold=True, actor=user, reason="known outage")
    event = BreakerEvent.objects.get()
    assert event.actor == user
    assert event.reason == "forced"
    assert event.detail == "known outage"


def test_hold_survives_cache_flush(make_breaker, storage):
    breaker = make_breaker()
    breaker.force_open(hold=True)
    storage.forget(breaker.config)
    assert breaker.state == State.OPEN
    assert breaker.snapshot().held


def test_lost_state_starts_closed(make_breaker, storage):
    breaker = make_breaker(failure_threshold=1)
    fail(breaker)
    storage.forget(breaker.config)
    assert breaker.state == State.CLOSED


def test_trip_writes_one_event_with_error(make_breaker):
    breaker = make_breaker(failure_threshold=2)
    fail(breaker, 2)
    event = BreakerEvent.objects.get()
    assert (event.from_state, event.to_state, event.reason) == (
        "closed",
        "open",
        "failure_threshold",
    )
    assert event.detail == "tests.test_behaviour.Boom: downstream down"


def test_signal_sent_on_transition(make_breaker):
    received = []

    def receiver(**kwargs):
        received.append(
            (kwargs["breaker_name"], kwargs["old_state"], kwargs["new_state"], kwargs["reason"])
        )

    state_changed.connect(receiver)
    try:
        fail(make_breaker(failure_threshold=1))
    finally:
        state_changed.disconnect(receiver)
    assert received == [("payments-api", State.CLOSED, State.OPEN, "failure_threshold")]


def test_raising_receiver_does_not_break_call(make_breaker, caplog):
    def receiver(**kwargs):
        raise RuntimeError("receiver bug")

    state_changed.connect(receiver)
    try:
        fail(make_breaker(failure_threshold=1))
    finally:
        state_changed.disconnect(receiver)
    assert "receiver bug" in caplog.text


def test_transition_logged_with_name(make_breaker, caplog):
    fail(make_breaker(failure_threshold=1))
    record = next(r for r in caplog.records if "closed -> open" in r.getMessage())
    assert record.levelname == "WARNING"
    assert "payments-api" in record.getMessage()


def test_local_state_follows_cache_clear(settings, db):
    from django.core.cache import caches

    from circuitbreaker_app import get_breaker

    settings.CIRCUITBREAKER_CACHE_ALIAS = "local"
    breaker = get_breaker("cleared", failure_threshold=1)
    fail(breaker)
    assert breaker.state == State.OPEN
    caches["local"].clear()
    assert breaker.state == State.CLOSED


def test_error_detail_drops_query_strings(make_breaker):
    breaker = make_breaker(failure_threshold=1)
    with pytest.raises(Boom):
        breaker.call(_raise, Boom("GET /rates?api_key=SECRET123 failed"))
    snapshot = breaker.snapshot()
    assert "SECRET123" not in snapshot.last_error
    assert "/rates?…" in snapshot.last_error
    assert "SECRET123" not in BreakerEvent.objects.get().detail
