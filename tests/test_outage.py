"""Guarded calls while the shared cache is unreachable."""

import logging
import socket
import time

import pytest

from circuitbreaker_app import CircuitOpenError, get_breaker
from circuitbreaker_app.breaker import read_snapshots
from circuitbreaker_app.exceptions import StorageUnavailable
from tests.factories import CircuitBreakerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_cache(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "dead"


@pytest.fixture
def silent_cache(settings):
    """Point the cache at a server that accepts connections and never replies."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    settings.CACHES = {
        **settings.CACHES,
        "silent": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3},
        },
    }
    settings.CIRCUITBREAKER_CACHE_ALIAS = "silent"
    yield
    listener.close()


def test_calls_run_when_cache_down(dead_cache):
    assert get_breaker("payments-api").call(lambda: "ran") == "ran"


def test_failures_do_not_raise_cache_errors(dead_cache):
    with pytest.raises(ZeroDivisionError):
        get_breaker("payments-api").call(lambda: 1 / 0)


def test_deny_policy_rejects_calls(dead_cache, settings):
    settings.CIRCUITBREAKER_ON_CACHE_ERROR = "deny"
    with pytest.raises(CircuitOpenError) as info:
        get_breaker("payments-api").call(lambda: "ran")
    assert info.value.retry_after is None
    assert "cache is unreachable" in str(info.value)


def test_warning_logged_once_a_minute(dead_cache, caplog):
    breaker = get_breaker("payments-api")
    with caplog.at_level(logging.WARNING, logger="circuitbreaker_app"):
        for _ in range(5):
            breaker.call(lambda: None)
    warnings = [r for r in caplog.records if "cache unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert "payments-api" in warnings[0].getMessage()


def test_snapshot_reports_unknown_state(dead_cache):
    CircuitBreakerFactory(name="payments-api")
    snapshot = get_breaker("payments-api").snapshot()
    assert snapshot.available is False


def test_bulk_read_reports_unknown_state(dead_cache):
    rows = [CircuitBreakerFactory(name=f"bulk-{i}") for i in range(3)]
    snapshots = read_snapshots([row.to_config() for row in rows])
    assert [s.available for s in snapshots] == [False, False, False]


def test_force_raises_and_keeps_hold(dead_cache):
    row = CircuitBreakerFactory(name="payments-api")
    with pytest.raises(StorageUnavailable):
        get_breaker("payments-api").force_open(hold=True)
    row.refresh_from_db()
    assert row.held_state == ""


def test_silent_cache_bounded_by_socket_timeout(silent_cache):
    breaker = get_breaker("payments-api")
    started = time.monotonic()
    assert breaker.call(lambda: "ran") == "ran"
    # One admit step, bounded by the 0.3 s timeouts; no outcome step is
    # attempted when the admit failed.
    assert time.monotonic() - started < 1.5
