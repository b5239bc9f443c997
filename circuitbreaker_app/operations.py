"""Operator actions on a breaker named by a person: look it up, then force its state."""

from difflib import get_close_matches

from .breaker import get_breaker
from .exceptions import BreakerNotFound
from .models import CircuitBreaker

OPEN = "open"
CLOSE = "close"
HALF_OPEN = "half-open"
RESET = "reset"
RELEASE = "release"
ACTIONS = (OPEN, CLOSE, HALF_OPEN, RESET, RELEASE)
HOLDING_ACTIONS = (OPEN, CLOSE)


def find_breaker(name):
    """Return the Breaker of an existing row; raise BreakerNotFound if no row has that name.

    ``get_breaker`` alone would create the row on the first guarded call,
    so a mistyped name must be caught here.
    """
    if not CircuitBreaker.objects.filter(name=name).exists():
        raise BreakerNotFound(name)
    return get_breaker(name)


def similar_names(name, limit=5):
    """Return up to ``limit`` existing breaker names close to ``name``, best first, ignoring case."""
    names = {}
    for existing in CircuitBreaker.objects.values_list("name", flat=True):
        names.setdefault(existing.lower(), existing)
    matches = get_close_matches(name.lower(), list(names), n=limit, cutoff=0.6)
    return [names[match] for match in matches]


def run_action(breaker, action, hold=False, actor=None, reason=""):
    """Apply one operator action and return the breaker's snapshot after it.

    Raises StorageUnavailable when the cache is down, and then nothing changes.
    """
    if action == OPEN:
        return breaker.force_open(hold=hold, actor=actor, reason=reason)
    if action == CLOSE:
        return breaker.force_closed(hold=hold, actor=actor, reason=reason)
    if action == HALF_OPEN:
        return breaker.force_half_open(actor=actor, reason=reason)
    if action == RESET:
        return breaker.reset(actor=actor, reason=reason)
    if action == RELEASE:
        return breaker.release_hold(actor=actor, reason=reason)
    raise ValueError(f"Unknown breaker action {action!r}; expected one of {', '.join(ACTIONS)}.")
