"""Several processes on one real Redis server share one breaker exactly."""

import multiprocessing

import pytest
from django.db import connection

from circuitbreaker_app import CircuitOpenError, State, get_breaker
from circuitbreaker_app.models import BreakerEvent
from tests import workers
from tests.factories import CircuitBreakerFactory

pytestmark = pytest.mark.django_db(transaction=True)

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def alias(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    return "default"


@pytest.fixture
def db_name(transactional_db):
    return connection.settings_dict["NAME"]


def run_all(processes, timeout=60):
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout)
    assert [process.exitcode for process in processes] == [0] * len(processes)


@pytest.mark.parametrize("policy", ["consecutive", "count"])
def test_concurrent_failures_add_up_exactly(alias, db_name, policy):
    CircuitBreakerFactory(name="shared", trip_policy=policy, failure_threshold=100_000)
    barrier = SPAWN.Barrier(4)
    run_all(
        [
            SPAWN.Process(target=workers.record_failures, args=(db_name, "shared", 5, 10, barrier))
            for _ in range(4)
        ]
    )
    assert get_breaker("shared").snapshot().failure_count == 4 * 5 * 10


@pytest.mark.parametrize("threshold", [20, 5])
def test_simultaneous_trip_writes_one_event(alias, db_name, threshold):
    CircuitBreakerFactory(name="tripping", failure_threshold=threshold)
    barrier = SPAWN.Barrier(4)
    run_all(
        [
            SPAWN.Process(target=workers.record_failures, args=(db_name, "tripping", 5, 1, barrier))
            for _ in range(4)
        ]
    )
    assert get_breaker("tripping").state == State.OPEN
    assert BreakerEvent.objects.filter(to_state="open").count() == 1


def test_half_open_admits_exact_trials(alias, db_name):
    CircuitBreakerFactory(name="probing", half_open_max_calls=2, success_threshold=10)
    get_breaker("probing").force_half_open()
    barrier = SPAWN.Barrier(6)
    reached = SPAWN.Value("i", 0)
    run_all(
        [
            SPAWN.Process(
                target=workers.trial_call, args=(db_name, "probing", barrier, reached, 0.5)
            )
            for _ in range(6)
        ]
    )
    assert reached.value == 2


def test_killed_trial_replaced_after_lease(alias, db_name, storage):
    CircuitBreakerFactory(name="orphaned", half_open_max_calls=1)
    breaker = get_breaker("orphaned")
    breaker.force_half_open()
    entered = SPAWN.Event()
    child = SPAWN.Process(target=workers.hang_in_trial, args=(db_name, "orphaned", 5, entered))
    child.start()
    try:
        assert entered.wait(60)
        assert breaker.snapshot().trials_in_flight == 1
    finally:
        child.kill()
        child.join()
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: None)
    storage.clock_offset += 5.1
    assert breaker.call(lambda: "replaced") == "replaced"
    assert breaker.state == State.CLOSED
