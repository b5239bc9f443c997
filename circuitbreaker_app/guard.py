"""One guarded call: admit it, run it, report how it ended."""

import logging
import time

from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from . import registry
from .conf import app_settings
from .events import describe_error, record_transitions
from .exceptions import CircuitOpenError, StorageUnavailable
from .states import State

logger = logging.getLogger(__name__)

# Returned when the storage lost the breaker's state. The state is rebuilt
# from a fresh read of the row, so a stale copy cannot undo another
# process's hold change.
LOST = object()


def skip_matcher(skip):
    """Turn ``skip=`` (exception classes or a predicate) into a predicate, or None."""
    if skip is None:
        return None
    if isinstance(skip, type) and issubclass(skip, BaseException):
        return lambda exc: isinstance(exc, skip)
    if isinstance(skip, tuple | list):
        classes = tuple(skip)
        if not all(isinstance(item, type) and issubclass(item, BaseException) for item in classes):
            raise TypeError(_("skip= must hold exception classes; got %(skip)r.") % {"skip": skip})
        return lambda exc: isinstance(exc, classes)
    if callable(skip):
        return skip
    message = _("skip= takes exception classes or a predicate (exc) -> bool; got %(skip)r.")
    raise TypeError(message % {"skip": skip})


class CallGuard:
    """Run a block under a breaker: one storage step before it, at most one after it."""

    __slots__ = ("breaker", "skip", "cfg", "outcome", "started")

    def __init__(self, breaker, skip=None):
        self.breaker = breaker
        self.skip = skip_matcher(skip)
        self.cfg = None
        self.outcome = None

    # Synchronous use

    def __enter__(self):
        self.cfg = self.breaker.config
        outcome = self._admit()
        if outcome is LOST:
            self.cfg = registry.refresh(self.breaker.name, self.breaker.defaults)
            outcome = self._admit(may_seed=True)
        if outcome is not None and outcome.transitions:
            record_transitions(self.cfg, outcome)
        self._check(outcome)
        return self

    def __exit__(self, exc_type, exc, tb):
        step = self._next_step(exc)
        if step is not None:
            outcome = self._report(step)
            if outcome is not None and outcome.transitions:
                record_transitions(self.cfg, outcome, detail=_detail(step))
        return False

    def run(self, func, args, kwargs):
        """Call ``func`` inside the entered guard and report how it ended."""
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.__exit__(None, None, None)
        return result

    # Asynchronous use: the ORM and blocking cache I/O stay off the event loop.

    async def arun(self, func, args, kwargs):
        """Await ``func`` inside the entered guard and report how it ended."""
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            await self.aexit(exc)
            raise
        await self.aexit(None)
        return result

    async def aenter(self):
        self.cfg = await self.breaker.aconfig()
        outcome = await self._offload(self._admit)
        if outcome is LOST:
            refresh = sync_to_async(registry.refresh)
            self.cfg = await refresh(self.breaker.name, self.breaker.defaults)
            outcome = await self._offload(self._admit, True)
        if outcome is not None and outcome.transitions:
            await sync_to_async(record_transitions)(self.cfg, outcome)
        self._check(outcome)

    async def aexit(self, exc):
        step = self._next_step(exc)
        if step is None:
            return
        outcome = await self._offload(self._report, step)
        if outcome is not None and outcome.transitions:
            await sync_to_async(record_transitions)(self.cfg, outcome, detail=_detail(step))

    async def _offload(self, func, *args):
        if getattr(self.breaker.storage, "blocking", True):
            return await sync_to_async(func, thread_sensitive=False)(*args)
        return func(*args)

    # Shared steps

    def _admit(self, may_seed=False):
        # Returns the Outcome, LOST when the state must be rebuilt from a
        # fresh row, or None when the call runs unguarded (cache down).
        try:
            outcome = self.breaker.storage.admit(self.cfg, may_seed)
        except StorageUnavailable as exc:
            self._on_cache_error(exc)
            return None
        return LOST if outcome is None else outcome

    def _on_cache_error(self, exc):
        from .breaker import log_cache_error

        if app_settings.ON_CACHE_ERROR == "deny":
            log_cache_error(self.cfg.name, exc, "rejecting calls (ON_CACHE_ERROR=deny)")
            message = _(
                "Breaker %(name)s rejected the call because its cache is unreachable "
                "and CIRCUITBREAKER_ON_CACHE_ERROR is 'deny'."
            ) % {"name": self.cfg.name}
            raise CircuitOpenError(self.cfg.name, None, message) from None
        log_cache_error(self.cfg.name, exc, "running calls unguarded (ON_CACHE_ERROR=allow)")

    def _check(self, outcome):
        self.started = time.perf_counter()
        if outcome is None or outcome.allowed:
            self.outcome = outcome
            return
        retry_after = outcome.retry_after
        if outcome.state == State.HALF_OPEN and retry_after is not None:
            # The permits free up when the trials report back, usually long
            # before their leases end; the retry duration is a fairer hint.
            retry_after = min(retry_after, self.cfg.retry_duration)
        raise CircuitOpenError(self.cfg.name, retry_after)

    def _next_step(self, exc):
        outcome = self.outcome
        if outcome is None:
            return None
        trial, generation = outcome.trial, outcome.generation
        if exc is None:
            return self._success_step(generation, trial)
        if not isinstance(exc, Exception) or self._skipped(exc):
            # Not the downstream's fault: neither count; give back a trial permit.
            return None if trial is None else ("release", trial)
        return ("record_failure", generation, trial, describe_error(exc))

    def _success_step(self, generation, trial):
        slow = self.cfg.slow_call_duration
        elapsed = time.perf_counter() - self.started
        if slow is not None and elapsed > slow:
            detail = f"slow call: took {elapsed:.3f} s, limit {slow:g} s"
            return ("record_failure", generation, trial, detail)
        if trial is None and not self._success_needs_write():
            return None
        return ("record_success", generation, trial)

    def _success_needs_write(self):
        # A success in the closed state changes nothing under the count
        # policy, nor under the consecutive policy when no failure is counted.
        outcome = self.outcome
        policy = self.cfg.trip_policy
        if policy == "rate" or outcome.state != State.CLOSED:
            return True
        return policy == "consecutive" and outcome.failure_count > 0

    def _skipped(self, exc):
        if self.cfg.ignored_exceptions and isinstance(exc, self.cfg.ignored_exceptions):
            return True
        return self.skip is not None and bool(self.skip(exc))

    def _report(self, step):
        method, *args = step
        try:
            return getattr(self.breaker.storage, method)(self.cfg, *args)
        except StorageUnavailable as exc:
            from .breaker import log_cache_error

            log_cache_error(self.cfg.name, exc, "dropping the call's outcome")
            return None


def _detail(step):
    return step[3] if step[0] == "record_failure" else ""
