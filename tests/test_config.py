"""Configuration reads: cached per process, refreshed after a save, created safely."""

import threading

import pytest
from django.db import connection, connections

from circuitbreaker_app import State, get_breaker
from circuitbreaker_app.models import CircuitBreaker
from circuitbreaker_app.registry import get_config
from tests.factories import CircuitBreakerFactory


@pytest.mark.django_db
def test_hot_path_skips_database(make_breaker, django_assert_num_queries):
    breaker = make_breaker(failure_threshold=5)
    breaker.call(lambda: None)
    with django_assert_num_queries(0):
        for _ in range(10):
            breaker.call(lambda: None)
        assert breaker.state == State.CLOSED


@pytest.mark.django_db
def test_save_refreshes_config_at_once(make_breaker):
    breaker = make_breaker(failure_threshold=5)
    breaker.call(lambda: None)
    row = CircuitBreaker.objects.get(name="payments-api")
    row.failure_threshold = 1
    row.save()
    with pytest.raises(RuntimeError):
        breaker.call(_boom)
    assert breaker.state == State.OPEN


@pytest.mark.django_db
def test_config_reread_after_ttl(make_breaker, settings, django_assert_num_queries):
    breaker = make_breaker()
    breaker.call(lambda: None)
    CircuitBreaker.objects.filter(name="payments-api").update(failure_threshold=1)
    assert breaker.config.failure_threshold == 3
    settings.CIRCUITBREAKER_CONFIG_TTL = 0
    assert breaker.config.failure_threshold == 1


@pytest.mark.django_db
def test_deleted_row_drops_live_state(make_breaker):
    breaker = make_breaker(failure_threshold=1)
    with pytest.raises(RuntimeError):
        breaker.call(_boom)
    CircuitBreaker.objects.get(name="payments-api").delete()
    CircuitBreakerFactory(name="payments-api", failure_threshold=1)
    assert breaker.state == State.CLOSED


@pytest.mark.django_db(transaction=True)
def test_racing_creators_make_one_row():
    barrier = threading.Barrier(8)
    errors = []

    def create():
        try:
            barrier.wait()
            get_config("raced", {"failure_threshold": 7})
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert CircuitBreaker.objects.filter(name="raced").count() == 1
    assert get_breaker("raced").config.failure_threshold == 7


@pytest.mark.django_db
def test_unreachable_database_uses_defaults(settings, monkeypatch):
    from django.db import DatabaseError

    def broken(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken)
    breaker = get_breaker("no-db", failure_threshold=2)
    assert breaker.config.failure_threshold == 2


def _boom():
    raise RuntimeError("down")


@pytest.mark.django_db
def test_event_recreates_vanished_row(make_breaker):
    from circuitbreaker_app.models import BreakerEvent

    breaker = make_breaker(failure_threshold=1)
    breaker.call(lambda: None)
    # As after a rollback: the row is gone, no delete signal was sent, and
    # this process still has the row cached.
    CircuitBreaker.objects.filter(name="payments-api")._raw_delete("default")
    with pytest.raises(RuntimeError):
        breaker.call(_boom)
    event = BreakerEvent.objects.get()
    assert event.breaker.name == "payments-api"
    assert event.breaker.failure_threshold == 1
