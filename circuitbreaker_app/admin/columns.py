"""HTML for live values: each element names its breaker and field so live.js can update it."""

from django.utils.html import format_html, format_html_join

from . import live


def live_element(name, field, text, tag="span", attrs=None):
    """Wrap escaped text in an element that live.js finds by breaker name and field."""
    attrs = attrs or {}
    extra = format_html_join("", ' {}="{}"', attrs.items())
    return format_html(
        '<{tag} data-cb-name="{name}" data-cb-field="{field}"{extra}>{text}</{tag}>',
        tag=tag,
        name=name,
        field=field,
        extra=extra,
        text=text,
    )


def state_badge(snapshot):
    """Render the coloured state badge, with the hold in its text."""
    return live_element(
        snapshot.name,
        "state",
        live.state_text(snapshot),
        attrs={"class": "cb-badge", "data-state": live.badge_state(snapshot)},
    )


def failures(snapshot):
    """Render failures against the threshold, or the failure rate for the rate policy."""
    return live_element(snapshot.name, "failures", live.failures_text(snapshot))


def retry_countdown(snapshot):
    """Render the countdown to half-open; live.js ticks it down each second."""
    seconds = live.retry_seconds(snapshot)
    return live_element(
        snapshot.name,
        "retry",
        live.retry_text(snapshot),
        attrs={"data-seconds": "" if seconds is None else f"{seconds:.3f}"},
    )


def last_transition(snapshot):
    """Render how long ago the last transition was and its reason."""
    moment = snapshot.last_changed_at.isoformat() if snapshot.last_changed_at else ""
    return live_element(
        snapshot.name, "last_transition", live.transition_text(snapshot), attrs={"title": moment}
    )


def last_error(snapshot):
    """Render the last counted error, shortened, with the full text as a tooltip."""
    text = snapshot.last_error if snapshot.available else ""
    return live_element(
        snapshot.name,
        "last_error",
        live.error_preview(snapshot),
        tag="code",
        attrs={"class": "cb-error", "title": text},
    )
