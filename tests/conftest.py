"""Shared fixtures: real Redis, clean live state per test, breakers on either storage."""

import os

import pytest
import redis
import redis.connection
from django.conf import settings

from circuitbreaker_app import breaker as breaker_module
from circuitbreaker_app import registry
from circuitbreaker_app import storage as storage_package
from circuitbreaker_app.storage import get_storage
from tests.factories import CircuitBreakerFactory

STORAGE_ALIASES = ["local", "default"]


def pytest_configure(config):
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis at {settings.REDIS_URL} is not answering ({exc}); start it with .ci/run"
        if os.environ.get("CI") == "true":
            raise pytest.UsageError(message) from exc
        raise pytest.UsageError(message + " or set TEST_REDIS_URL.") from exc


@pytest.fixture(scope="session", autouse=True)
def _end_stray_db_sessions(django_db_setup, django_db_blocker):
    """Close sessions left by worker threads and child processes, so the test database drops."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close()


@pytest.fixture(scope="session")
def redis_client():
    return redis.Redis.from_url(settings.REDIS_URL)


def _forget_process_state():
    registry.invalidate()
    breaker_module._breakers.clear()
    breaker_module._outage_logged.clear()
    storage_package._storages.clear()


@pytest.fixture(autouse=True)
def clean_state(redis_client):
    _forget_process_state()
    yield
    _forget_process_state()
    for key in redis_client.scan_iter(match=f"*{settings.KEY_PREFIX}*", count=1000):
        redis_client.delete(key)


@pytest.fixture(params=STORAGE_ALIASES)
def alias(request, settings):
    """Run the test once on in-process storage and once on Redis."""
    settings.CIRCUITBREAKER_CACHE_ALIAS = request.param
    return request.param


@pytest.fixture
def storage(alias):
    return get_storage()


@pytest.fixture
def make_breaker(db, alias):
    """Create a breaker row and return its Breaker, on the storage chosen by ``alias``."""
    from circuitbreaker_app import get_breaker

    def make(name="payments-api", **fields):
        CircuitBreakerFactory(name=name, **fields)
        return get_breaker(name)

    return make


@pytest.fixture
def round_trips(monkeypatch):
    """Count Redis round trips: each packed send on a connection is one."""
    counter = {"count": 0}
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        counter["count"] += 1
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    return counter


@pytest.fixture
def advance(storage):
    """Move the storage's clock forward by some seconds, instead of sleeping."""

    def move(seconds):
        storage.clock_offset += seconds

    return move
