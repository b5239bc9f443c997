"""Register the breaker and event admins; the admin's autodiscovery imports this package."""

from .breaker_admin import CircuitBreakerAdmin
from .event_admin import BreakerEventAdmin

__all__ = ["BreakerEventAdmin", "CircuitBreakerAdmin"]
