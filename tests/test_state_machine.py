"""Random sequences of calls, time steps and operator actions against a reference model."""

import dataclasses
import itertools
import uuid

import hypothesis.strategies as st
import pytest
from django.core.cache import caches
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from circuitbreaker_app.states import Hold, Reason, State
from circuitbreaker_app.storage import LocalStorage, RedisStorage
from circuitbreaker_app.storage.base import BreakerConfig
from tests.reference import ReferenceBreaker

# Durations end in .5 (or other fractions) and time moves in whole seconds,
# so no step lands on a boundary even with the few milliseconds of real time
# that pass on the Redis server during a run.
LEASE = 5.5
TIMINGS = dict(window=20.5, retry_duration=10.5, max_retry_duration=30.5, retry_backoff=1.5)


class BreakerMachine(RuleBasedStateMachine):
    storage_factory = None

    @initialize(
        policy=st.sampled_from(["consecutive", "count", "rate"]),
        threshold=st.integers(1, 4),
        half_open_max=st.integers(1, 3),
        success_threshold=st.integers(1, 3),
    )
    def setup(self, policy, threshold, half_open_max, success_threshold):
        self.storage = type(self).storage_factory()
        self.now = 0.0
        self.cfg = BreakerConfig(
            name=f"prop-{uuid.uuid4().hex[:10]}",
            trip_policy=policy,
            failure_threshold=threshold,
            minimum_calls=4,
            failure_rate_threshold=50,
            half_open_max_calls=half_open_max,
            success_threshold=success_threshold,
            **TIMINGS,
        )
        self.model = ReferenceBreaker(
            policy=policy,
            threshold=threshold,
            window=TIMINGS["window"],
            retry=TIMINGS["retry_duration"],
            max_retry=TIMINGS["max_retry_duration"],
            backoff=TIMINGS["retry_backoff"],
            half_open_max=half_open_max,
            success_threshold=success_threshold,
            lease=LEASE,
        )
        self.model.seed(self.now, "")
        self.pending = []

    def teardown(self):
        if hasattr(self, "storage"):
            self.storage.forget(self.cfg)

    # Steps

    def _admit(self):
        outcome = self.storage.admit(self.cfg) or self.storage.admit(self.cfg, may_seed=True)
        permit = self.model.admit(self.now)
        assert outcome.allowed == (permit is not None)
        assert (outcome.trial is None) == (permit is None or permit.trial is None)
        return outcome, permit

    def _finish(self, outcome, permit, how):
        if how == "success":
            self.storage.record_success(self.cfg, outcome.generation, outcome.trial)
            self.model.succeed(self.now, permit)
        elif how == "failure":
            self.storage.record_failure(self.cfg, outcome.generation, outcome.trial, "boom")
            self.model.fail(self.now, permit)
        else:
            self.storage.release(self.cfg, outcome.trial)
            self.model.release(self.now, permit)

    @rule(how=st.sampled_from(["success", "failure", "skip"]))
    def call(self, how):
        outcome, permit = self._admit()
        if outcome.allowed:
            self._finish(outcome, permit, how)

    @rule()
    def begin_call(self):
        outcome, permit = self._admit()
        if outcome.allowed:
            self.pending.append((outcome, permit))

    @precondition(lambda self: self.pending)
    @rule(data=st.data(), how=st.sampled_from(["success", "failure", "skip"]))
    def finish_call(self, data, how):
        index = data.draw(st.integers(0, len(self.pending) - 1))
        outcome, permit = self.pending.pop(index)
        self._finish(outcome, permit, how)

    @rule(seconds=st.sampled_from([1, 2, 3, 6, 11, 21, 40]))
    def advance(self, seconds):
        self.now += seconds
        self.storage.clock_offset += seconds

    @rule(
        state=st.sampled_from([State.OPEN, State.CLOSED, State.HALF_OPEN]),
        hold=st.sampled_from([Hold.NONE, Hold.OPEN, Hold.CLOSED]),
    )
    def force(self, state, hold):
        if state == State.HALF_OPEN or hold not in (Hold.NONE, state.value):
            hold = Hold.NONE
        self.storage.force(self._cfg(hold), state, hold, Reason.FORCED)
        self.model.force(self.now, state.value, hold.value)
        self.cfg = self._cfg(hold)

    @rule()
    def release_hold(self):
        self.storage.release_hold(self.cfg)
        self.model.release_hold(self.now)
        self.cfg = self._cfg(Hold.NONE)

    @rule()
    def flush(self):
        self.storage.forget(self.cfg)
        self.model.seed(self.now, self.cfg.held_state)

    def _cfg(self, hold):
        return dataclasses.replace(self.cfg, held_state=str(hold))

    # The comparison

    @invariant()
    def matches_model(self):
        if not hasattr(self, "storage"):
            return
        snapshot = self.storage.snapshots([self.cfg])[0].snapshot
        self.model.resolve(self.now)
        assert snapshot.state == self.model.state
        assert snapshot.held_state == self.model.held
        assert snapshot.failure_count == self.model.failure_count(self.now)
        assert snapshot.trials_in_flight == len(self.model.live_trials(self.now))
        assert abs(snapshot.current_retry_duration - self.model.current_retry) < 1e-6


PROPERTY_SETTINGS = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def ticking_clock():
    """Return a clock that moves 0.1 ms per reading, like real time during a run."""
    ticks = itertools.count()
    return lambda: 1000.0 + next(ticks) / 10_000


@override_settings(CIRCUITBREAKER_TRIAL_LEASE=LEASE)
def test_local_storage_matches_model():
    BreakerMachine.storage_factory = lambda: LocalStorage(clock=ticking_clock())
    BreakerMachine.TestCase.settings = PROPERTY_SETTINGS
    BreakerMachine.TestCase().runTest()


@pytest.mark.django_db
@override_settings(CIRCUITBREAKER_TRIAL_LEASE=LEASE, CIRCUITBREAKER_CACHE_ALIAS="default")
def test_redis_storage_matches_model():
    storage = RedisStorage(caches["default"])

    def fresh():
        storage.clock_offset = 0.0
        return storage

    BreakerMachine.storage_factory = fresh
    BreakerMachine.TestCase.settings = PROPERTY_SETTINGS
    BreakerMachine.TestCase().runTest()
