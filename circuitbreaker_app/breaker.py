"""The Breaker: guard calls, read live state, and let operators force it."""

import logging
import re
import threading
import time

from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from . import registry
from .conf import app_settings
from .events import record_transitions
from .exceptions import StorageUnavailable
from .guard import CallGuard
from .states import Hold, Reason, State
from .storage import get_storage
from .storage.base import unknown_snapshot

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[-a-zA-Z0-9_]+")

_breakers: dict[str, "Breaker"] = {}
_breakers_lock = threading.Lock()
_outage_logged: dict[str, float] = {}


def validate_name(name):
    """Raise ValueError unless the name is a non-empty slug (it becomes a Redis hash tag)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or len(name) > 100:
        message = _(
            "Invalid breaker name %(name)r: use 1-100 letters, digits, hyphens or underscores."
        )
        raise ValueError(message % {"name": name})


def get_breaker(name, **defaults):
    """Return the breaker called ``name``; ``defaults`` seed its row if none exists yet."""
    breaker = _breakers.get(name)
    if breaker is None:
        validate_name(name)
        registry.validate_defaults(defaults)
        with _breakers_lock:
            breaker = _breakers.setdefault(name, Breaker(name, defaults))
    elif defaults and defaults != breaker.defaults:
        # The newest declaration's defaults seed the row whenever it has to
        # be created again (a fresh database, as in a project's tests).
        registry.validate_defaults(defaults)
        breaker.defaults = dict(defaults)
    return breaker


def read_snapshots(configs):
    """Read many breakers' live state in one storage call (one Redis round trip).

    Takes BreakerConfig objects (``CircuitBreaker.to_config()``) and returns
    their snapshots in order; all are marked unavailable if the cache is down.
    """
    configs = list(configs)
    try:
        outcomes = get_storage().snapshots(configs)
    except StorageUnavailable as exc:
        log_cache_error("*", exc, "reporting every state as unknown")
        return [unknown_snapshot(cfg) for cfg in configs]
    for cfg, outcome in zip(configs, outcomes, strict=True):
        record_transitions(cfg, outcome)
    return [outcome.snapshot for outcome in outcomes]


def log_cache_error(name, exc, fallback):
    """Warn that the cache failed for a breaker, at most once per CACHE_ERROR_LOG_INTERVAL."""
    now = time.monotonic()
    last = _outage_logged.get(name)
    if last is not None and now - last < app_settings.CACHE_ERROR_LOG_INTERVAL:
        return
    _outage_logged[name] = now
    logger.warning("Breaker %s: cache unreachable (%s); %s", name, exc, fallback)


class Breaker:
    """A named circuit breaker whose live state sits in the shared cache."""

    def __init__(self, name, defaults=None):
        validate_name(name)
        self.name = name
        self.defaults = dict(defaults or {})

    def __repr__(self):
        return f"<Breaker {self.name}>"

    @property
    def config(self):
        return registry.get_config(self.name, self.defaults)

    @property
    def storage(self):
        return get_storage()

    # Guarded calls

    def guard(self, skip=None):
        """Return a context manager that runs its block under this breaker."""
        return CallGuard(self, skip)

    def call(self, func, *args, **kwargs):
        """Run ``func(*args, **kwargs)`` under the breaker and return its result."""
        with CallGuard(self, None):
            return func(*args, **kwargs)

    async def acall(self, func, *args, **kwargs):
        """Await ``func(*args, **kwargs)`` under the breaker and return its result."""
        return await self.acall_with(None, func, *args, **kwargs)

    async def acall_with(self, skip, func, *args, **kwargs):
        """Await ``func`` under the breaker, treating errors matched by ``skip`` as neither way."""
        guard = CallGuard(self, skip)
        await guard.aenter()
        return await guard.arun(func, args, kwargs)

    async def aconfig(self):
        """Return the config without touching the ORM from the event loop."""
        cfg = registry.cached_config(self.name)
        if cfg is None:
            cfg = await sync_to_async(registry.get_config)(self.name, self.defaults)
        return cfg

    # Reading

    @property
    def state(self):
        """Return the live State, open turned half-open once the retry time has passed."""
        return self.snapshot().state

    def snapshot(self):
        """Return a BreakerSnapshot read in one storage call; ``available`` is False if the cache is down."""
        cfg = self.config
        try:
            outcome = self.storage.snapshots([cfg])[0]
        except StorageUnavailable as exc:
            log_cache_error(self.name, exc, "reporting the state as unknown")
            return unknown_snapshot(cfg)
        record_transitions(cfg, outcome)
        return outcome.snapshot

    def history(self, buckets=20):
        """Return calls and failures per slice of the window, or None if the cache is down."""
        try:
            return self.storage.history(self.config, buckets)
        except StorageUnavailable as exc:
            log_cache_error(self.name, exc, "showing no history")
            return None

    # Operator actions

    def force_open(self, hold=True, actor=None, reason=""):
        """Open the breaker; with ``hold`` it rejects calls until an operator releases it."""
        return self._force(
            State.OPEN, Hold.OPEN if hold else Hold.NONE, Reason.FORCED, actor, reason
        )

    def force_closed(self, hold=False, actor=None, reason=""):
        """Close the breaker and zero its counters; with ``hold`` it never trips."""
        hold = Hold.CLOSED if hold else Hold.NONE
        return self._force(State.CLOSED, hold, Reason.FORCED, actor, reason)

    def force_half_open(self, actor=None, reason=""):
        """Make the breaker half-open so that trial calls decide its next state."""
        return self._force(State.HALF_OPEN, Hold.NONE, Reason.FORCED, actor, reason)

    def reset(self, actor=None, reason=""):
        """Close the breaker, zero its counters and release any hold."""
        return self._force(State.CLOSED, Hold.NONE, Reason.RESET, actor, reason)

    def release_hold(self, actor=None, reason=""):
        """Release a hold and keep the live state; an open breaker then waits its retry duration."""
        cfg = self._fresh_config()
        outcome = self.storage.release_hold(cfg)
        self._store_hold(Hold.NONE)
        record_transitions(cfg, outcome, actor=actor, detail=reason)
        return outcome.snapshot

    def _force(self, state, hold, code, actor, reason):
        # The cache goes first: if it is unreachable StorageUnavailable is
        # raised and the database keeps its old hold, so nothing changes.
        cfg = self._fresh_config()
        outcome = self.storage.force(cfg, state, hold, code)
        self._store_hold(hold)
        record_transitions(cfg, outcome, actor=actor, detail=reason)
        return outcome.snapshot

    def _fresh_config(self):
        registry.invalidate(self.name)
        return self.config

    def _store_hold(self, hold):
        from .models import CircuitBreaker

        CircuitBreaker.objects.filter(name=self.name).update(held_state=str(hold))
        registry.invalidate(self.name)
        logger.info("Breaker %s: hold stored as %r", self.name, str(hold))
