"""The ``circuit_breaker`` decorator for functions, methods and coroutine functions."""

import functools
import inspect
import re

from .breaker import get_breaker, validate_name
from .exceptions import CircuitOpenError
from .guard import CallGuard, skip_matcher
from .registry import validate_defaults


def name_for(func):
    """Derive a breaker name from a function's module and qualified name, as a slug."""
    raw = f"{func.__module__}.{func.__qualname__}"
    slug = re.sub(r"[^-a-zA-Z0-9_]+", "-", raw).strip("-")
    return slug[-100:].lstrip("-")


def circuit_breaker(name=None, *, fallback=None, skip=None, **defaults):
    """Guard a function with the named breaker; usable bare or with arguments.

    ``fallback`` is called with the function's arguments when the breaker
    rejects a call. ``skip`` takes exception classes or a predicate for
    errors that count neither way. Other keywords seed the breaker's
    database row the first time the name is used; after that the row wins.
    """
    if callable(name):
        return _wrap(name, None, None, None, {})

    validate_defaults(defaults)
    if name is not None:
        validate_name(name)

    def decorator(func):
        return _wrap(func, name, fallback, skip, defaults)

    return decorator


def _wrap(func, name, fallback, skip, defaults):
    name = name or name_for(func)
    validate_name(name)
    matcher = skip_matcher(skip)
    if inspect.iscoroutinefunction(func):
        return _wrap_async(func, name, fallback, matcher, defaults)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        guard = CallGuard(get_breaker(name, **defaults), matcher)
        try:
            guard.__enter__()
        except CircuitOpenError:
            if fallback is None:
                raise
            return fallback(*args, **kwargs)
        return guard.run(func, args, kwargs)

    wrapper.breaker_name = name
    return wrapper


def _wrap_async(func, name, fallback, matcher, defaults):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        guard = CallGuard(get_breaker(name, **defaults), matcher)
        try:
            await guard.aenter()
        except CircuitOpenError:
            if fallback is None:
                raise
            result = fallback(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result
        return await guard.arun(func, args, kwargs)

    wrapper.breaker_name = name
    return wrapper
