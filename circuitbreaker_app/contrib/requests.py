"""A requests transport adapter that runs each request under a breaker."""

import functools

import requests
from requests.adapters import HTTPAdapter

from . import DEFAULT_FAILURE_STATUSES, ExchangePolicy

# Errors raised when the downstream sent no valid response. RetryError is
# raised when urllib3 retries on status codes run out.
COUNTED_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.RetryError,
)


class BreakerAdapter(HTTPAdapter):
    """Send requests under a breaker; mount it on a Session for a URL prefix.

    ``name`` is a breaker name or a callable that takes the PreparedRequest
    and returns one (see ``contrib.name_per_host``). A response whose status
    is in ``failure_statuses`` is returned as usual but counts as a failure.
    Connection errors and timeouts count and propagate. An open breaker
    raises CircuitOpenError before anything is sent. ``defaults`` seed the
    breaker's database row the first time its name is used. Other keywords
    go to HTTPAdapter.
    """

    def __init__(
        self,
        name,
        *,
        failure_statuses=DEFAULT_FAILURE_STATUSES,
        skip=None,
        defaults=None,
        **adapter_kwargs,
    ):
        self.policy = ExchangePolicy(name, failure_statuses, skip, defaults, COUNTED_ERRORS)
        super().__init__(**adapter_kwargs)

    def send(self, request, **kwargs):
        """Send the request unless the breaker is open, and report how it ended."""
        # NOTE: with stream=True the body is read after send() returns, so
        # errors while reading it are not counted.
        return self.policy.send(request, functools.partial(super().send, **kwargs))
