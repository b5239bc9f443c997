"""Circuit breakers for a Django site's outbound calls, with live state in a shared cache."""

from .exceptions import CircuitOpenError
from .states import State

__all__ = ["CircuitOpenError", "State", "circuit_breaker", "get_breaker"]


def __getattr__(name):
    # The decorator and get_breaker import models lazily, but their modules
    # pull in Django pieces that need settings, so load them on first use.
    if name == "circuit_breaker":
        from .decorators import circuit_breaker

        return circuit_breaker
    if name == "get_breaker":
        from .breaker import get_breaker

        return get_breaker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
