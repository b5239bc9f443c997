"""Rebuilding lost live state: from a fresh row, and safely when the database fails."""

import asyncio
import time

import pytest
from django.db import OperationalError

from circuitbreaker_app import CircuitOpenError, get_breaker, registry
from circuitbreaker_app.models import CircuitBreaker
from circuitbreaker_app.storage import get_storage
from tests.factories import CircuitBreakerFactory


def ok():
    return "ran"


def boom():
    raise RuntimeError("down")


@pytest.fixture
def database_down(monkeypatch):
    """Return a switch that makes every later read of a breaker row fail, counting attempts."""
    attempts = {"count": 0}

    def down(*args, **kwargs):
        attempts["count"] += 1
        raise OperationalError("connection refused")

    def switch():
        monkeypatch.setattr(registry, "_fetch_or_create", down)
        return attempts

    return switch


@pytest.mark.django_db
def test_read_after_flush_keeps_hold_from_row(make_breaker, storage):
    breaker = make_breaker("read-seed")
    breaker.call(ok)
    CircuitBreaker.objects.filter(name="read-seed").update(held_state="open")
    storage.forget(breaker.config)
    breaker.snapshot()
    with pytest.raises(CircuitOpenError):
        breaker.call(ok)


@pytest.mark.django_db
def test_late_report_does_not_rebuild_state(make_breaker, storage):
    breaker = make_breaker("late-report")
    breaker.call(ok)
    CircuitBreaker.objects.filter(name="late-report").update(held_state="open")
    with pytest.raises(RuntimeError), breaker.guard():
        storage.forget(breaker.config)
        raise RuntimeError("downstream")
    with pytest.raises(CircuitOpenError):
        breaker.call(ok)


@pytest.mark.django_db
def test_database_down_rebuild_keeps_cached_row(make_breaker, storage, database_down):
    CircuitBreakerFactory(name="db-down", held_state="open", failure_threshold=1)
    breaker = get_breaker("db-down")
    with pytest.raises(CircuitOpenError):
        breaker.call(ok)
    database_down()
    storage.forget(breaker.config)
    with pytest.raises(CircuitOpenError):
        breaker.call(ok)
    assert breaker.config.failure_threshold == 1


@pytest.mark.django_db
def test_database_down_read_once_per_ttl(make_breaker, database_down):
    breaker = make_breaker("db-hot")
    breaker.call(ok)
    registry._configs["db-hot"] = (breaker.config, time.monotonic() - 3600)
    attempts = database_down()
    for _ in range(20):
        breaker.call(ok)
    assert attempts["count"] == 1


@pytest.mark.django_db
def test_row_created_concurrently_not_error(alias, monkeypatch):
    original = CircuitBreaker.full_clean

    def racing_full_clean(self, *args, **kwargs):
        # Another process inserts the row between this one's read and insert.
        if self.pk is None and not CircuitBreaker.objects.filter(name=self.name).exists():
            CircuitBreaker.objects.create(name=self.name, failure_threshold=7)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CircuitBreaker, "full_clean", racing_full_clean)
    breaker = get_breaker("raced-row", failure_threshold=2)
    assert breaker.call(ok) == "ran"
    assert breaker.config.failure_threshold == 7


@pytest.mark.django_db(transaction=True)
def test_sync_call_in_event_loop_after_flush(make_breaker, storage):
    breaker = make_breaker("sync-in-async")
    breaker.call(ok)
    storage.forget(breaker.config)

    async def view():
        return breaker.call(ok)

    assert asyncio.run(view()) == "ran"


@pytest.mark.django_db
def test_lost_state_hash_keeps_counting(settings, redis_client):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    CircuitBreakerFactory(name="hash-lost", trip_policy="count", failure_threshold=50)
    breaker = get_breaker("hash-lost")
    for _ in range(2):
        with pytest.raises(RuntimeError):
            breaker.call(boom)
    redis_client.delete(get_storage().keys("hash-lost")[0])
    counts = []
    for _ in range(3):
        with pytest.raises(RuntimeError):
            breaker.call(boom)
        counts.append(breaker.snapshot().failure_count)
    assert counts == [3, 4, 5]


@pytest.mark.django_db(transaction=True)
def test_sync_trip_in_event_loop_logged(make_breaker, caplog):
    breaker = make_breaker("sync-trip", failure_threshold=1)
    breaker.call(ok)

    async def view():
        with pytest.raises(RuntimeError):
            breaker.call(boom)

    asyncio.run(view())
    assert breaker.snapshot().state == "open"
    assert "could not write the event" in caplog.text
