"""Record transitions: one BreakerEvent row, one state_changed signal and one log line each."""

import logging
import re

from django.core.exceptions import SynchronousOnlyOperation
from django.db import DatabaseError, transaction

from . import registry
from .signals import state_changed
from .states import State

logger = logging.getLogger(__name__)

DETAIL_LENGTH = 500


# Query strings in URLs and paths often carry API keys, and error text is
# shown in the admin, the command, logs and event rows, so they are cut out.
QUERY_IN_URL = re.compile(r"([^\s?#'\"]*/[^\s?#'\"]*)\?[^\s#'\"()]+")


def describe_error(exc):
    """Name an exception by type and message, shortened and without URL query strings."""
    text = f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"
    return shorten(QUERY_IN_URL.sub(r"\1?…", text))


def shorten(text, length=DETAIL_LENGTH):
    """Cut text to ``length`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= length else text[: length - 1] + "…"


def record_transitions(cfg, outcome, actor=None, detail=""):
    """Write, signal and log each transition the storage call made.

    Only the process whose atomic step made a transition receives it, so
    each transition is recorded exactly once across the fleet.
    """
    snapshot = outcome.snapshot
    for transition in outcome.transitions:
        _log(cfg.name, transition, snapshot, actor, detail)
        _write_event(cfg, transition, actor, detail)
        _send_signal(cfg.name, transition)


def _log(name, transition, snapshot, actor, detail):
    level = logging.WARNING if transition.new_state == State.OPEN else logging.INFO
    logger.log(
        level,
        "Breaker %s: %s -> %s (%s), failures=%s calls=%s generation=%s actor=%s detail=%s",
        name,
        transition.old_state,
        transition.new_state,
        transition.reason,
        snapshot.failure_count,
        snapshot.call_count,
        snapshot.generation,
        actor,
        detail,
    )


def _write_event(cfg, transition, actor, detail):

    # The savepoint keeps a failed insert from breaking a transaction the
    # caller has open, such as a view under ATOMIC_REQUESTS.
    # NOTE: inside such a transaction the event row is rolled back with it;
    # the log line and the signal are not.
    try:
        with transaction.atomic():
            _insert_event(cfg, transition, actor, detail)
    except (DatabaseError, SynchronousOnlyOperation) as exc:
        # SynchronousOnlyOperation: the sync API was called from a coroutine.
        logger.error("Breaker %s: could not write the event for %s: %s", cfg.name, transition, exc)


def _insert_event(cfg, transition, actor, detail):
    from .models import BreakerEvent, CircuitBreaker

    # The cached config may name a row that was deleted or rolled back since.
    # Transitions are rare, so the row is looked up by name each time.
    breaker_id = CircuitBreaker.objects.filter(name=cfg.name).values_list("pk", flat=True).first()
    if breaker_id is None:
        breaker_id = registry.recreate_row(cfg).pk
    BreakerEvent.objects.create(
        breaker_id=breaker_id,
        from_state=transition.old_state,
        to_state=transition.new_state,
        reason=transition.reason,
        actor=actor if getattr(actor, "pk", None) else None,
        detail=shorten(detail or ""),
    )


def _send_signal(name, transition):
    responses = state_changed.send_robust(
        sender=None,
        breaker_name=name,
        old_state=transition.old_state,
        new_state=transition.new_state,
        reason=transition.reason,
    )
    for receiver, response in responses:
        if isinstance(response, Exception):
            logger.error(
                "Breaker %s: state_changed receiver %r raised %r; the call goes on",
                name,
                receiver,
                response,
            )
