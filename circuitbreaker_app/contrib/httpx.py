"""httpx transports, sync and async, that run each request under a breaker."""

import httpx

from . import DEFAULT_FAILURE_STATUSES, ExchangePolicy

# Errors raised when the downstream sent no valid response. RemoteProtocolError
# covers a server that closes the connection without a response.
COUNTED_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)


class _GuardedTransport:
    inner_class: type

    def __init__(
        self,
        name,
        *,
        transport=None,
        failure_statuses=DEFAULT_FAILURE_STATUSES,
        skip=None,
        defaults=None,
        **transport_kwargs,
    ):
        self.policy = ExchangePolicy(name, failure_statuses, skip, defaults, COUNTED_ERRORS)
        self.transport = transport or self.inner_class(**transport_kwargs)


class BreakerTransport(_GuardedTransport, httpx.BaseTransport):
    """Send requests of an httpx.Client under a breaker, through an inner transport.

    ``name`` is a breaker name or a callable that takes the httpx.Request and
    returns one (see ``contrib.name_per_host``). A response whose status is
    in ``failure_statuses`` is returned as usual but counts as a failure.
    Connection errors and timeouts count and propagate. An open breaker
    raises CircuitOpenError before anything is sent. ``defaults`` seed the
    breaker's database row the first time its name is used. ``transport``
    defaults to ``httpx.HTTPTransport(**transport_kwargs)``.
    """

    inner_class = httpx.HTTPTransport

    def handle_request(self, request):
        """Send the request unless the breaker is open, and report how it ended."""
        # NOTE: the client reads the body after this returns, so errors while
        # reading it are not counted.
        return self.policy.send(request, self.transport.handle_request)

    def close(self):
        self.transport.close()


class AsyncBreakerTransport(_GuardedTransport, httpx.AsyncBaseTransport):
    """Send requests of an httpx.AsyncClient under a breaker, through an inner transport.

    Takes the same arguments as BreakerTransport; ``transport`` defaults to
    ``httpx.AsyncHTTPTransport(**transport_kwargs)``. The breaker's storage
    and database steps run in worker threads, off the event loop.
    """

    inner_class = httpx.AsyncHTTPTransport

    async def handle_async_request(self, request):
        """Send the request unless the breaker is open, and report how it ended."""
        return await self.policy.asend(request, self.transport.handle_async_request)

    async def aclose(self):
        await self.transport.aclose()
