"""Exceptions raised to the code that calls through a breaker."""

from django.utils.translation import gettext


class CircuitOpenError(Exception):
    """Raise when a breaker rejects a call without running it.

    ``retry_after`` is the number of seconds until the breaker turns
    half-open, or ``None`` while an operator holds it open.
    """

    def __init__(self, breaker_name, retry_after=None, message=None):
        self.breaker_name = breaker_name
        self.retry_after = retry_after
        super().__init__(message or self._default_message())

    def _default_message(self):
        if self.retry_after is None:
            return gettext("Breaker %(name)s is held open; calls are rejected until released.") % {
                "name": self.breaker_name
            }
        return gettext("Breaker %(name)s is open; retry in %(seconds).1f s.") % {
            "name": self.breaker_name,
            "seconds": self.retry_after,
        }


class BreakerNotFound(LookupError):
    """Raise when an operator names a breaker that has no database row."""


class StorageUnavailable(Exception):
    """Raise from a storage backend when the shared cache cannot be reached."""
