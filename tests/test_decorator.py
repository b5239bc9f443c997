"""The circuit_breaker decorator on functions, methods and coroutine functions."""

import datetime as dt
import inspect

import pytest
from django.core.exceptions import ValidationError

from circuitbreaker_app import CircuitOpenError, State, circuit_breaker, get_breaker
from circuitbreaker_app.models import CircuitBreaker

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def test_bare_decorator_names_after_function(alias):
    @circuit_breaker
    def fetch_rates():
        return 42

    assert fetch_rates() == 42
    expected = "tests-test_decorator-test_bare_decorator_names_after_function-locals-fetch_rates"
    assert fetch_rates.breaker_name == expected
    assert CircuitBreaker.objects.filter(name=expected).exists()


def test_wraps_keeps_metadata(alias):
    @circuit_breaker("meta")
    def documented(x):
        """Say hello."""
        return x

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Say hello."
    assert documented.__wrapped__(3) == 3


def test_defaults_seed_new_row(alias):
    @circuit_breaker("seeded", failure_threshold=2, retry_duration=45)
    def call():
        return None

    call()
    row = CircuitBreaker.objects.get(name="seeded")
    assert row.failure_threshold == 2
    assert row.retry_duration == dt.timedelta(seconds=45)


def test_long_retry_raises_default_maximum(alias):
    @circuit_breaker("patient", retry_duration=600)
    def call():
        return None

    call()
    row = CircuitBreaker.objects.get(name="patient")
    assert row.max_retry_duration == dt.timedelta(seconds=600)


def test_existing_row_wins_over_defaults(alias):
    CircuitBreaker.objects.create(name="owned", failure_threshold=9)

    @circuit_breaker("owned", failure_threshold=1)
    def call():
        raise Boom

    with pytest.raises(Boom):
        call()
    assert get_breaker("owned").state == State.CLOSED


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"retry_duration": 60, "max_retry_duration": 30}, "max_retry_duration"),
        ({"ignored_exceptions": "no.such.Error"}, "ignored_exceptions"),
    ],
)
def test_invalid_default_fails_at_declaration(db, values, field):
    with pytest.raises(ValidationError) as info:
        circuit_breaker("invalid", **values)
    assert field in info.value.message_dict


def test_get_breaker_rejects_unknown_setting():
    with pytest.raises(TypeError, match="foo"):
        get_breaker("unknown-setting", foo=1)


def test_name_with_trailing_newline_rejected():
    with pytest.raises(ValueError, match="Invalid breaker name"):
        get_breaker("abc\n")


def test_unknown_setting_rejected():
    with pytest.raises(TypeError, match="failure_treshold"):
        circuit_breaker("typo", failure_treshold=3)


def test_bad_name_rejected():
    with pytest.raises(ValueError, match="Invalid breaker name"):
        circuit_breaker("has space")


def test_fallback_answers_rejected_calls(alias):
    @circuit_breaker("fallback", failure_threshold=1, fallback=lambda city: f"cached {city}")
    def weather(city):
        raise Boom(city)

    with pytest.raises(Boom):
        weather("Oslo")
    assert weather("Oslo") == "cached Oslo"


def test_open_breaker_raises_without_fallback(alias):
    @circuit_breaker("nofallback", failure_threshold=1)
    def call():
        raise Boom

    with pytest.raises(Boom):
        call()
    with pytest.raises(CircuitOpenError):
        call()


def test_skip_classes_count_neither_way(alias):
    @circuit_breaker("skipper", failure_threshold=1, skip=(KeyError, ValueError))
    def call(exc):
        raise exc

    for _ in range(3):
        with pytest.raises(KeyError):
            call(KeyError("missing"))
    assert get_breaker("skipper").state == State.CLOSED


def test_decorates_methods(alias):
    class Client:
        def __init__(self):
            self.calls = 0

        @circuit_breaker("method", failure_threshold=2)
        def get(self, path):
            self.calls += 1
            return path

    client = Client()
    assert client.get("/a") == "/a"
    assert client.calls == 1


async def test_async_function_guarded(alias):
    @circuit_breaker("async-api", failure_threshold=1, fallback=lambda: "fallback")
    async def fetch():
        raise Boom

    assert inspect.iscoroutinefunction(fetch)
    with pytest.raises(Boom):
        await fetch()
    assert await fetch() == "fallback"


async def test_async_fallback_may_be_coroutine(alias):
    async def cached():
        return "cached"

    @circuit_breaker("async-fallback", failure_threshold=1, fallback=cached)
    async def fetch():
        raise Boom

    with pytest.raises(Boom):
        await fetch()
    assert await fetch() == "cached"


async def test_acall_runs_coroutine(alias):
    async def double(x):
        return 2 * x

    assert await get_breaker("acall").acall(double, 21) == 42


async def test_async_cancellation_releases_permit(alias):
    import asyncio

    from asgiref.sync import sync_to_async

    breaker = get_breaker("cancel", failure_threshold=1)
    await sync_to_async(breaker.force_half_open)()

    async def hang():
        await asyncio.sleep(10)

    task = asyncio.ensure_future(breaker.acall(hang))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    snapshot = await sync_to_async(breaker.snapshot)()
    assert snapshot.state == State.HALF_OPEN
    assert snapshot.trials_in_flight == 0


def test_cleared_cache_reseeds_from_new_defaults(db, settings):
    from django.core.cache import caches

    settings.CIRCUITBREAKER_CACHE_ALIAS = "local"
    get_breaker("reseeded", failure_threshold=2).call(lambda: None)
    # A project's next test: fresh database, cleared cache, other defaults.
    CircuitBreaker.objects.filter(name="reseeded")._raw_delete("default")
    caches["local"].clear()
    breaker = get_breaker("reseeded", failure_threshold=1)
    with pytest.raises(Boom):
        breaker.call(_raise_boom)
    assert breaker.state == State.OPEN
    assert CircuitBreaker.objects.get(name="reseeded").failure_threshold == 1


def _raise_boom():
    raise Boom
