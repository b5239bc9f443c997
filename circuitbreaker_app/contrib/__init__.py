"""Pieces shared by the HTTP client integrations.

Importing this package imports no HTTP client; ``contrib.requests`` and
``contrib.httpx`` each need their library installed (the ``requests`` and
``httpx`` extras).
"""

import re
from urllib.parse import urlsplit

from ..breaker import get_breaker
from ..guard import CallGuard, skip_matcher

DEFAULT_FAILURE_STATUSES = range(500, 600)


class FailureStatus(Exception):
    """A response whose status counts as a failure; ExchangePolicy reports it to the breaker without raising it."""

    def __init__(self, status, method, url):
        self.status = status
        parts = urlsplit(str(url))
        # The query string is left out because it may carry API keys.
        super().__init__(f"HTTP {status} from {method} {parts.scheme}://{parts.netloc}{parts.path}")


def name_per_host(prefix=""):
    """Return a callable that names a request's breaker after its host and port.

    ``https://api.example.com:8443/x`` becomes ``<prefix>api-example-com-8443``,
    because breaker names allow only letters, digits, hyphens and underscores.
    """

    def breaker_name(request):
        parts = urlsplit(str(request.url))
        host = parts.hostname or "no-host"
        port = f"-{parts.port}" if parts.port else ""
        slug = re.sub(r"[^-a-zA-Z0-9_]+", "-", f"{prefix}{host}{port}")
        return slug[:100]

    return breaker_name


class ExchangePolicy:
    """Decide which breaker guards a request and which outcomes count as failures.

    ``counted_errors`` are the client library's connection and timeout errors.
    Any other exception (an invalid URL, a bad header) is the caller's fault
    and counts neither way; so does an error matched by ``skip``.
    """

    def __init__(self, name, failure_statuses, skip, defaults, counted_errors):
        if not (isinstance(name, str) or callable(name)):
            raise TypeError(
                f"A breaker name or a callable (request) -> name is required; got {name!r}"
            )
        self.name = name
        self.failure_statuses = _status_set(failure_statuses)
        self.defaults = dict(defaults or {})
        self.counted_errors = counted_errors
        self.user_skip = skip_matcher(skip)

    def guard(self, request):
        """Return the CallGuard for one request; entering it may raise CircuitOpenError."""
        name = self.name(request) if callable(self.name) else self.name
        return CallGuard(get_breaker(name, **self.defaults), self.is_skipped)

    def send(self, request, send):
        """Run ``send(request)`` under the request's breaker and return its response."""
        guard = self.guard(request)
        guard.__enter__()
        try:
            response = send(request)
        except BaseException as exc:
            guard.__exit__(type(exc), exc, exc.__traceback__)
            raise
        failure = self.failure_for(response.status_code, request.method, request.url)
        guard.__exit__(type(failure) if failure else None, failure, None)
        return response

    async def asend(self, request, send):
        """Await ``send(request)`` under the request's breaker and return its response."""
        guard = self.guard(request)
        await guard.aenter()
        try:
            response = await send(request)
        except BaseException as exc:
            await guard.aexit(exc)
            raise
        await guard.aexit(self.failure_for(response.status_code, request.method, request.url))
        return response

    def failure_for(self, status, method, url):
        """Return a FailureStatus when the status counts as a failure, else None."""
        if status in self.failure_statuses:
            return FailureStatus(status, method, url)
        return None

    def is_skipped(self, exc):
        """Return True for errors that are not the downstream's fault."""
        if isinstance(exc, FailureStatus):
            return False
        if not isinstance(exc, self.counted_errors):
            return True
        return self.user_skip is not None and bool(self.user_skip(exc))


def _status_set(statuses):
    statuses = frozenset(statuses)
    bad = sorted(repr(s) for s in statuses if isinstance(s, bool) or not isinstance(s, int))
    if bad:
        raise TypeError(
            f"failure_statuses must hold HTTP status codes as ints; got {', '.join(bad)}"
        )
    return statuses
