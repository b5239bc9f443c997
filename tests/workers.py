"""Code that runs in child processes of the several-process tests.

Each child sets Django up against the parent's test database and the same
Redis key prefix (inherited through the environment), then acts on a breaker.
"""

import os
import threading
import time


def setup_django(db_name, settings_overrides=None):
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["TEST_PG_NAME"] = db_name
    import django

    django.setup()
    from django.conf import settings

    # The parent runs against its test database; the child must not create its own.
    settings.DATABASES["default"]["NAME"] = db_name
    for name, value in (settings_overrides or {}).items():
        setattr(settings, name, value)


class Downstream(Exception):
    """The failure the guarded calls raise."""


def _fail(breaker, times):
    from circuitbreaker_app import CircuitOpenError

    for _ in range(times):
        try:
            breaker.call(_raise_downstream)
        except (Downstream, CircuitOpenError):
            pass


def _raise_downstream():
    raise Downstream("down")


def record_failures(db_name, name, threads, per_thread, barrier):
    """Record failures from several threads of this process, all started together."""
    setup_django(db_name)
    from circuitbreaker_app import get_breaker

    breaker = get_breaker(name)
    breaker.config  # noqa: B018 - load the row before the race starts
    barrier.wait()
    workers = [threading.Thread(target=_fail, args=(breaker, per_thread)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    from django.db import connections

    connections.close_all()


def trial_call(db_name, name, barrier, reached, hold_seconds):
    """Try one call in half-open; a call that runs counts itself in ``reached``."""
    setup_django(db_name)
    from circuitbreaker_app import CircuitOpenError, get_breaker

    breaker = get_breaker(name)
    breaker.config  # noqa: B018 - load the row before the race starts
    barrier.wait()

    def upstream():
        with reached.get_lock():
            reached.value += 1
        time.sleep(hold_seconds)

    try:
        breaker.call(upstream)
    except CircuitOpenError:
        pass
    from django.db import connections

    connections.close_all()


def hang_in_trial(db_name, name, lease, entered):
    """Take a trial permit and never report back, until killed."""
    setup_django(db_name, {"CIRCUITBREAKER_TRIAL_LEASE": lease})
    from circuitbreaker_app import get_breaker

    guard = get_breaker(name).guard()
    guard.__enter__()
    entered.set()
    time.sleep(600)
