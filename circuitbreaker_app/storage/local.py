"""Live state in this process's memory, for caches that cannot run scripts.

Every step runs under one lock, which makes it atomic inside the process but
invisible to other processes: use it for development, tests and
single-process deployments. The logic mirrors ``lua/breaker.lua`` step for
step; both pass the same behaviour suite.
"""

import bisect
import threading
import time

from ..conf import app_settings
from .base import MICROSECONDS, BreakerStorage, ReplyDecoder, build_history


def _micros(seconds):
    return int(round(seconds * MICROSECONDS))


class _Window:
    """Timestamps of events, oldest first, for the sliding-window counts."""

    def __init__(self):
        self.times = []

    def add(self, now):
        bisect.insort(self.times, now)

    def trim(self, now, window):
        del self.times[: bisect.bisect_right(self.times, now - window)]

    def count(self, now, window):
        return len(self.times) - bisect.bisect_right(self.times, now - window)

    def count_between(self, low, high):
        return bisect.bisect_right(self.times, high) - bisect.bisect_right(self.times, low)

    def clear(self):
        self.times.clear()


class _BreakerState:
    def __init__(self, cfg, now):
        held = cfg.held_state
        self.state = "open" if held == "open" else "closed"
        self.held = held
        # Starting at the clock keeps calls admitted before a flush stale after it.
        self.gen = now
        self.failures = 0
        self.seq = now
        self.opened_at = now if held == "open" else -1
        self.retry_at = -1
        self.retry_us = _micros(cfg.retry_duration)
        self.trial_ok = 0
        self.changed_at = now
        self.reason = ""
        self.last_error = ""
        self.calls = _Window()
        self.fails = _Window()
        self.oks = _Window()
        self.trials = {}


class _Step:
    """One atomic step on one breaker; the same operations as the Lua script."""

    def __init__(self, cfg, st, now, lease):
        self.cfg = cfg
        self.st = st
        self.now = now
        self.lease = lease
        self.window = _micros(cfg.window)
        self.transitions = []
        self.allowed = -1
        self.trial = -1

    def next_seq(self):
        self.st.seq += 1
        return self.st.seq

    def transition(self, new_state, reason):
        st = self.st
        self.transitions.append((st.state, new_state, reason))
        st.state = new_state
        st.gen += 1
        st.changed_at = self.now
        st.reason = reason
        st.trial_ok = 0
        st.trials.clear()

    def open(self, reason, retry_us):
        st = self.st
        self.transition("open", reason)
        st.opened_at = self.now
        st.retry_us = retry_us
        st.retry_at = -1 if st.held == "open" else self.now + retry_us

    def close(self, reason):
        st = self.st
        self.transition("closed", reason)
        st.retry_us = _micros(self.cfg.retry_duration)
        st.retry_at = -1
        st.failures = 0
        st.fails.clear()
        st.oks.clear()

    def resolve(self):
        st = self.st
        if st.state == "open" and st.held != "open" and 0 <= st.retry_at <= self.now:
            self.transition("half_open", "retry_elapsed")

    def policy_trips(self):
        st, cfg = self.st, self.cfg
        if cfg.trip_policy == "consecutive":
            st.failures += 1
            return st.failures >= cfg.failure_threshold, "failure_threshold"
        if cfg.trip_policy == "rate":
            return self.rate_trips(), "failure_rate"
        st.fails.trim(self.now, self.window)
        return len(st.fails.times) >= cfg.failure_threshold, "failure_threshold"

    def rate_trips(self):
        st, cfg = self.st, self.cfg
        st.fails.trim(self.now, self.window)
        st.oks.trim(self.now, self.window)
        failures = len(st.fails.times)
        total = failures + len(st.oks.times)
        return total >= cfg.minimum_calls and failures * 100 >= cfg.failure_rate_threshold * total

    def admit(self):
        st = self.st
        self.allowed = 0
        if st.state == "closed":
            self.allowed = 1
            self.next_seq()
            st.calls.add(self.now)
            st.calls.trim(self.now, self.window)
        elif st.state == "half_open":
            self.expire_trials()
            if len(st.trials) < self.cfg.half_open_max_calls:
                self.allowed = 1
                self.trial = self.next_seq()
                st.trials[self.trial] = self.now + self.lease
                st.calls.add(self.now)
                st.calls.trim(self.now, self.window)

    def expire_trials(self):
        trials = self.st.trials
        for trial, expiry in list(trials.items()):
            if expiry <= self.now:
                del trials[trial]

    def failure(self, generation, trial, detail):
        st, cfg = self.st, self.cfg
        if generation != st.gen:
            return
        self.next_seq()
        st.fails.add(self.now)
        st.last_error = detail
        if st.state == "half_open":
            st.trials.pop(trial, None)
            retry_us = min(int(st.retry_us * cfg.retry_backoff), _micros(cfg.max_retry_duration))
            self.open("trial_failed", retry_us)
        elif st.state == "closed":
            trips, reason = self.policy_trips()
            if trips and st.held != "closed":
                self.open(reason, _micros(cfg.retry_duration))

    def success(self, generation, trial):
        st, cfg = self.st, self.cfg
        if generation != st.gen:
            return
        if st.state == "half_open":
            st.trials.pop(trial, None)
            st.trial_ok += 1
            if st.trial_ok >= cfg.success_threshold:
                self.close("trial_succeeded")
        elif st.state == "closed":
            if cfg.trip_policy == "consecutive":
                st.failures = 0
            elif cfg.trip_policy == "rate":
                self.next_seq()
                st.oks.add(self.now)
                st.oks.trim(self.now, self.window)

    def release_trial(self, trial):
        self.st.trials.pop(trial, None)

    def force(self, target, hold, reason):
        self.st.held = hold
        if target == "closed":
            self.close(reason)
        elif target == "open":
            self.open(reason, _micros(self.cfg.retry_duration))
        else:
            self.transition("half_open", reason)

    def release_hold(self):
        st = self.st
        if st.held == "":
            return
        st.held = ""
        self.transition(st.state, "hold_released")
        if st.state == "open" and st.retry_at < 0:
            st.retry_at = self.now + st.retry_us

    def reply(self):
        st, cfg, now = self.st, self.cfg, self.now
        if cfg.trip_policy == "consecutive":
            failures = st.failures
        else:
            failures = st.fails.count(now, self.window)
        live_trials = sorted(expiry for expiry in st.trials.values() if expiry > now)
        # Always the full reply: without a network there is nothing to save.
        reply = [
            1,
            st.state,
            st.held,
            st.gen,
            failures,
            st.calls.count(now, self.window),
            st.retry_at,
            st.opened_at,
            now,
            self.trial,
            self.allowed,
            st.changed_at,
            st.reason,
            st.last_error,
            len(live_trials),
            st.trial_ok,
            st.retry_us,
            st.oks.count(now, self.window),
            live_trials[0] if live_trials else -1,
            len(self.transitions),
        ]
        for transition in self.transitions:
            reply.extend(transition)
        return reply


class LocalStorage(BreakerStorage):
    """Keep breakers in a dict guarded by one lock; clock: ``time.monotonic()``.

    ``clock_offset`` (seconds) is added to the clock; tests move it forward
    instead of sleeping.
    """

    blocking = False
    MARKER = "circuitbreaker:local-state"

    def __init__(self, cache=None, clock=time.monotonic):
        self.cache = cache
        self.clock = clock
        self.clock_offset = 0.0
        self._states = {}
        self._lock = threading.Lock()

    def _follow_cache(self):
        # With a LocMemCache the state behaves as if it lived in that cache:
        # a marker entry sits beside the cache's own entries, and when
        # cache.clear() or culling removes it, every breaker starts afresh.
        # Other caches give no cheap way to notice a flush.
        entries = getattr(self.cache, "_cache", None)
        if entries is None or not hasattr(entries, "move_to_end"):
            return
        key = self.cache.make_key(self.MARKER)
        try:
            # Kept most recently used, so culling reaches it last.
            entries.move_to_end(key)
        except KeyError:
            self._states.clear()
            self.cache.set(self.MARKER, True, timeout=None)

    def _now(self):
        return _micros(self.clock() + self.clock_offset)

    def _decoder(self):
        # Snapshots show wall-clock datetimes; the monotonic clock has no epoch.
        return ReplyDecoder(epoch_offset=time.time() - self.clock() - self.clock_offset)

    def _run(self, cfg, action, *args, may_seed=False):
        # Lost state is rebuilt only from a config the caller just read (as
        # in the Lua script): a read shows the rebuilt state without keeping
        # it, and an outcome report for lost state is dropped.
        with self._lock:
            self._follow_cache()
            now = self._now()
            st = self._states.get(cfg.name)
            if st is None:
                if action is not None and not may_seed:
                    return None
                st = _BreakerState(cfg, now)
                if may_seed:
                    self._states[cfg.name] = st
            step = _Step(cfg, st, now, _micros(app_settings.TRIAL_LEASE))
            step.resolve()
            if action is not None:
                getattr(step, action)(*args)
            reply = step.reply()
        return self._decoder().decode(cfg, reply)

    def admit(self, cfg, may_seed=False):
        # Like the Redis storage: lost state (a cleared cache, first use) is
        # rebuilt from a fresh read of the row, which the caller makes.
        return self._run(cfg, "admit", may_seed=may_seed)

    def record_failure(self, cfg, generation, trial, detail):
        return self._run(cfg, "failure", generation, trial, detail)

    def record_success(self, cfg, generation, trial):
        return self._run(cfg, "success", generation, trial)

    def release(self, cfg, trial):
        return self._run(cfg, "release_trial", trial)

    def force(self, cfg, state, hold, reason):
        return self._run(cfg, "force", str(state), str(hold), str(reason), may_seed=True)

    def release_hold(self, cfg):
        return self._run(cfg, "release_hold", may_seed=True)

    def forget(self, cfg):
        with self._lock:
            self._states.pop(cfg.name, None)

    def history(self, cfg, buckets=20):
        with self._lock:
            self._follow_cache()
            now = self._now()
            st = self._states.get(cfg.name)
            window = _micros(cfg.window)
            counts = []
            for i in range(buckets):
                low = now - window + i * window / buckets
                high = low + window / buckets
                if st is None:
                    counts.append((0, 0))
                else:
                    counts.append(
                        (st.calls.count_between(low, high), st.fails.count_between(low, high))
                    )
        return build_history(cfg, now, self._decoder().epoch_offset, counts)

    def snapshots(self, cfgs):
        return [self._run(cfg, None) for cfg in cfgs]
