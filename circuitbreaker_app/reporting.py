"""Read every breaker's live state and render it as a text table or a JSON document."""

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext

from .breaker import read_snapshots
from .models import CircuitBreaker, HeldState, TripPolicy
from .states import REASON_LABELS, Reason, State
from .storage.base import BreakerConfig, BreakerSnapshot

EMPTY = "-"
UNKNOWN = "?"


@dataclass(frozen=True)
class BreakerReport:
    """A breaker's configuration next to the live state read for it."""

    config: BreakerConfig
    snapshot: BreakerSnapshot

    @property
    def available(self):
        return self.snapshot.available


def read_reports(states=None):
    """Read every breaker's row and live state, in one cache round trip, ordered by name.

    With ``states``, keep only breakers in one of those states. A breaker
    whose state is unknown because the cache is down is always kept.
    """
    configs = [row.to_config() for row in CircuitBreaker.objects.order_by("name")]
    reports = [
        BreakerReport(config, snapshot)
        for config, snapshot in zip(configs, read_snapshots(configs), strict=True)
    ]
    if not states:
        return reports
    return [report for report in reports if not report.available or report.snapshot.state in states]


# JSON


def to_document(reports):
    """Build the JSON document: one object per breaker, with the fields documented in docs/command.md."""
    return [_to_object(report) for report in reports]


def _to_object(report):
    cfg, snap = report.config, report.snapshot
    live = snap.available
    return {
        "name": cfg.name,
        "state": str(snap.state) if live else None,
        "available": live,
        "held": str(snap.held_state) or None,
        "trip_policy": cfg.trip_policy,
        "failure_count": snap.failure_count if live else None,
        "failure_threshold": cfg.failure_threshold,
        "failure_rate": _round(snap.failure_rate) if live else None,
        "failure_rate_threshold": cfg.failure_rate_threshold,
        "call_count": snap.call_count if live else None,
        "window_seconds": cfg.window,
        "retry_at": _iso(snap.retry_at),
        "retry_after_seconds": _round(snap.retry_after),
        "opened_at": _iso(snap.opened_at),
        "last_changed_at": _iso(snap.last_changed_at),
        "last_reason": snap.last_reason or None,
        "last_error": snap.last_error or None,
        "generation": snap.generation if live else None,
    }


def _iso(moment):
    return None if moment is None else moment.isoformat()


def _round(value):
    return None if value is None else round(value, 3)


# Text table


def table_header():
    """Return the translated column titles of the table."""
    return [
        gettext("NAME"),
        gettext("STATE"),
        gettext("HOLD"),
        gettext("FAILURES"),
        gettext("WINDOW"),
        gettext("HALF-OPEN IN"),
        gettext("LAST TRANSITION"),
    ]


def table_row(report, now):
    """Return one breaker's table cells; ``now`` is the aware datetime that ages are measured from."""
    cfg, snap = report.config, report.snapshot
    hold = str(HeldState(snap.held_state).label) if snap.held else EMPTY
    if not snap.available:
        return [cfg.name, gettext("unknown"), hold, UNKNOWN, _window(cfg), UNKNOWN, UNKNOWN]
    return [
        cfg.name,
        str(snap.state.label),
        hold,
        _failures(snap),
        _window(cfg),
        _half_open_in(snap),
        _last_transition(snap, now),
    ]


def format_table(header, rows):
    """Align the columns, measuring wide (East Asian) characters as two cells."""
    widths = [
        max(display_width(cell) for cell in column) for column in zip(header, *rows, strict=True)
    ]
    lines = [_format_line(cells, widths) for cells in [header, *rows]]
    return "\n".join(lines)


def _format_line(cells, widths):
    padded = [
        cell + " " * (width - display_width(cell))
        for cell, width in zip(cells, widths, strict=True)
    ]
    return "  ".join(padded).rstrip()


def display_width(text):
    """Count the terminal cells that ``text`` takes: two for wide and full-width characters."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _failures(snap):
    if snap.trip_policy != TripPolicy.RATE:
        return f"{snap.failure_count} / {snap.failure_threshold}"
    rate = EMPTY if snap.failure_rate is None else f"{snap.failure_rate:.0f}%"
    return f"{rate} / {snap.failure_rate_threshold}%"


def _window(cfg):
    # The consecutive policy counts a run of failures, not failures inside the window.
    if cfg.trip_policy == TripPolicy.CONSECUTIVE:
        return EMPTY
    return format_duration(cfg.window)


def _half_open_in(snap):
    if snap.state != State.OPEN or snap.retry_after is None:
        return EMPTY
    return format_duration(math.ceil(snap.retry_after))


def _last_transition(snap, now):
    # A breaker that never changed state has a creation time but no reason.
    if snap.last_changed_at is None or not snap.last_reason:
        return EMPTY
    age = max(0.0, (now - snap.last_changed_at).total_seconds())
    return gettext("%(age)s ago, %(reason)s") % {
        "age": format_duration(math.floor(age)),
        "reason": reason_label(snap.last_reason),
    }


def reason_label(code):
    """Return the translated label of a transition reason code, or the code if it is unknown."""
    try:
        return str(REASON_LABELS[Reason(code)])
    except ValueError:
        return code


def format_duration(seconds):
    """Format whole seconds compactly: ``45s``, ``3m 05s``, ``2h 07m``, ``1d 04h``."""
    seconds = int(seconds)
    if seconds < 60:
        return gettext("%(seconds)ds") % {"seconds": seconds}
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return gettext("%(minutes)dm %(seconds)02ds") % {"minutes": minutes, "seconds": seconds}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return gettext("%(hours)dh %(minutes)02dm") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return gettext("%(days)dd %(hours)02dh") % {"days": days, "hours": hours}


def summarize(reports):
    """Count breakers per state in one line: ``1 open · 0 half-open · 3 closed``."""
    counts = {state: 0 for state in State}
    for report in reports:
        if report.available:
            counts[report.snapshot.state] += 1
    return gettext("%(open)d open · %(half_open)d half-open · %(closed)d closed") % {
        "open": counts[State.OPEN],
        "half_open": counts[State.HALF_OPEN],
        "closed": counts[State.CLOSED],
    }


def utc_now():
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)
