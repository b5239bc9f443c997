"""Live state for admin pages: one cache read per request, and its JSON form."""

import math

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..breaker import read_snapshots
from ..models import CircuitBreaker
from ..reporting import format_duration, reason_label
from ..states import State

ERROR_PREVIEW_LENGTH = 120
REQUEST_ATTRIBUTE = "_circuitbreaker_snapshots"


def load_snapshots(rows):
    """Read the live state of the given rows in one round trip and return it keyed by name."""
    rows = list(rows)
    snapshots = read_snapshots([row.to_config() for row in rows])
    return {snapshot.name: snapshot for snapshot in snapshots}


def request_snapshots(request):
    """Return every breaker's snapshot by name, read once per request.

    The list filter, the columns and the summary line share this read, so a
    changelist costs one database query and one cache round trip for it.
    """
    snapshots = getattr(request, REQUEST_ATTRIBUTE, None)
    if snapshots is None:
        snapshots = load_snapshots(CircuitBreaker.objects.all())
        setattr(request, REQUEST_ATTRIBUTE, snapshots)
    return snapshots


def cache_available(snapshots):
    """Return True unless a snapshot is marked unavailable (an empty list counts as available)."""
    return all(snapshot.available for snapshot in snapshots)


def matches_state(snapshot, value):
    """Tell whether a snapshot matches a live-state filter value (a state or ``held``)."""
    if not snapshot.available:
        return False
    if value == "held":
        return snapshot.held
    return snapshot.state == value


def count_states(snapshots):
    """Count known snapshots per state value, plus the held and the unknown ones."""
    counts = {state.value: 0 for state in State}
    counts.update(held=0, unknown=0)
    for snapshot in snapshots:
        if not snapshot.available:
            counts["unknown"] += 1
            continue
        counts[snapshot.state.value] += 1
        counts["held"] += int(snapshot.held)
    return counts


def summary_text(counts):
    """Write the summary line, for example "2 open · 1 half-open · 14 closed"."""
    if counts["unknown"]:
        return ngettext(
            "%(count)d breaker, state unknown",
            "%(count)d breakers, state unknown",
            counts["unknown"],
        ) % {"count": counts["unknown"]}
    # The same message as the breakers command prints, so it is translated once.
    text = _("%(open)d open · %(half_open)d half-open · %(closed)d closed") % counts
    if counts["held"]:
        text += " · " + _("%(count)d held") % {"count": counts["held"]}
    return text


def state_text(snapshot):
    """Label the live state as shown on the badge, with the hold marked."""
    if not snapshot.available:
        return _("state unknown")
    if snapshot.held:
        return _("%(state)s · held") % {"state": snapshot.state.label}
    return str(snapshot.state.label)


def badge_state(snapshot):
    """Return the value that picks the badge colour: a state value or ``unknown``."""
    return snapshot.state.value if snapshot.available else "unknown"


def failures_text(snapshot):
    """Show failures against the threshold: ``4 / 5``, or the rate for the rate policy."""
    if not snapshot.available:
        return "–"
    if snapshot.trip_policy == "rate":
        rate = snapshot.failure_rate
        shown = "–" if rate is None else f"{rate:.0f} %"
        return f"{shown} / {snapshot.failure_rate_threshold} %"
    return f"{snapshot.failure_count} / {snapshot.failure_threshold}"


def retry_seconds(snapshot):
    """Return the seconds until half-open for an open, unheld breaker, else None."""
    if not snapshot.available or snapshot.state != State.OPEN or snapshot.held:
        return None
    return snapshot.retry_after


def format_countdown(seconds):
    """Format seconds as ``M:SS`` or ``H:MM:SS``, rounding up as live.js does."""
    whole = int(-(-seconds // 1))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def retry_text(snapshot):
    """Show the countdown to half-open, or why there is none."""
    if not snapshot.available:
        return "–"
    if snapshot.state == State.OPEN and snapshot.held:
        return _("until released")
    seconds = retry_seconds(snapshot)
    return "–" if seconds is None else format_countdown(seconds)


def elapsed_text(moment, now):
    """Say how long ago a moment was, in the same format as the breakers command."""
    return format_duration(math.floor(max(0.0, (now - moment).total_seconds())))


def transition_text(snapshot, now=None):
    """Say how long ago the last transition was, and why."""
    if not snapshot.available or snapshot.last_changed_at is None:
        return "–"
    ago = elapsed_text(snapshot.last_changed_at, now or timezone.now())
    if not snapshot.last_reason:
        return _("%(ago)s ago") % {"ago": ago}
    return _("%(age)s ago, %(reason)s") % {
        "age": ago,
        "reason": reason_label(snapshot.last_reason),
    }


def error_preview(snapshot):
    """Shorten the last error for a table cell. Templates and live.js escape the result."""
    text = snapshot.last_error if snapshot.available else ""
    if len(text) <= ERROR_PREVIEW_LENGTH:
        return text
    return text[: ERROR_PREVIEW_LENGTH - 1] + "…"


def _isoformat(moment):
    return None if moment is None else moment.isoformat()


def snapshot_payload(snapshot, now=None):
    """Turn a snapshot into the JSON object that the admin's live endpoint returns."""
    return {
        "name": snapshot.name,
        "available": snapshot.available,
        "state": snapshot.state.value if snapshot.available else None,
        "held_state": str(snapshot.held_state),
        "failure_count": snapshot.failure_count,
        "success_count": snapshot.success_count,
        "call_count": snapshot.call_count,
        "failure_threshold": snapshot.failure_threshold,
        "failure_rate": snapshot.failure_rate,
        "failure_rate_threshold": snapshot.failure_rate_threshold,
        "trip_policy": snapshot.trip_policy,
        "generation": snapshot.generation,
        "trials_in_flight": snapshot.trials_in_flight,
        "retry_after": retry_seconds(snapshot),
        "retry_at": _isoformat(snapshot.retry_at),
        "opened_at": _isoformat(snapshot.opened_at),
        "last_changed_at": _isoformat(snapshot.last_changed_at),
        "last_reason": snapshot.last_reason,
        "last_error": snapshot.last_error,
        "display": display_texts(snapshot, now),
    }


def display_texts(snapshot, now=None):
    """Render the translated texts that the page shows for a snapshot."""
    return {
        "state": state_text(snapshot),
        "badge": badge_state(snapshot),
        "failures": failures_text(snapshot),
        "retry": retry_text(snapshot),
        "last_transition": transition_text(snapshot, now),
        "last_error": error_preview(snapshot),
    }


def live_payload(snapshots):
    """Build the whole JSON document: availability, summary and one object per breaker."""
    snapshots = list(snapshots)
    now = timezone.now()
    counts = count_states(snapshots)
    return {
        "available": cache_available(snapshots),
        "generated_at": now.isoformat(),
        "summary": {**counts, "text": summary_text(counts)},
        "breakers": [snapshot_payload(snapshot, now) for snapshot in snapshots],
    }
