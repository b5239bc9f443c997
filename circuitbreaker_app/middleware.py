"""Turn an uncaught CircuitOpenError into a 503 Service Unavailable response."""

import logging
import math

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext

from .exceptions import CircuitOpenError

logger = logging.getLogger(__name__)

TEMPLATE_NAME = "circuitbreaker_app/503.html"


class CircuitBreakerMiddleware:
    """Return 503 with Retry-After when a view lets a CircuitOpenError escape.

    Every other exception is left to Django's own handling.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        return self.get_response(request)

    async def __acall__(self, request):
        return await self.get_response(request)

    def process_exception(self, request, exception):
        """Return the 503 response for a CircuitOpenError, or None for any other error."""
        # Django calls this hook synchronously in both modes (through
        # sync_to_async under ASGI), so rendering a template here is safe.
        if not isinstance(exception, CircuitOpenError):
            return None
        logger.debug(
            "Breaker %s is open; responding to %s %s with 503",
            exception.breaker_name,
            request.method,
            request.path,
        )
        return service_unavailable(request, exception)


def service_unavailable(request, error):
    """Build the 503 response for a rejected call, as JSON or HTML after the Accept header."""
    retry_after = retry_after_seconds(error.retry_after)
    if prefers_json(request):
        response = JsonResponse(_json_body(error, retry_after), status=503)
    else:
        context = {"breaker_name": error.breaker_name, "retry_after": retry_after}
        response = render(request, TEMPLATE_NAME, context, status=503)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    # The body depends on Accept, and a rejection must not be served from a cache later.
    patch_vary_headers(response, ["Accept"])
    add_never_cache_headers(response)
    return response


def retry_after_seconds(retry_after):
    """Round a retry delay up to whole seconds; None (held open) stays None."""
    if retry_after is None:
        return None
    return max(0, math.ceil(retry_after))


def prefers_json(request):
    """Return True when Accept ranks application/json above text/html.

    Each type is ranked by the most specific Accept entry that matches it, by
    quality and then by specificity; a tie goes to HTML.
    """
    json_rank = _rank(request, "application/json")
    if json_rank is None:
        return False
    html_rank = _rank(request, "text/html")
    return html_rank is None or json_rank > html_rank


def _rank(request, media_type):
    accepted = request.accepted_type(media_type)
    if accepted is None:
        return None
    return (accepted.quality, accepted.specificity)


def _json_body(error, retry_after):
    return {
        "error": "service_unavailable",
        "detail": gettext("A service this page depends on is unavailable. Try again later."),
        "retry_after": retry_after,
    }
