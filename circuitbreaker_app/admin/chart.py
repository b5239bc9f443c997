"""A small SVG bar chart of calls and failures over a breaker's window, drawn on the server."""

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

WIDTH = 480
HEIGHT = 140
PLOT_TOP = 12
PLOT_BOTTOM = 116
PLOT_LEFT = 36
PLOT_RIGHT = WIDTH - 8
BAR_GAP = 2


def render_chart(history):
    """Draw calls (grey) and failures (red) per slice of the window as an inline SVG element.

    ``history`` is a History from ``Breaker.history()``. None means the cache
    could not be read, and then a short note is returned instead.
    """
    if history is None:
        return format_html('<p class="cb-chart-missing">{}</p>', _("No history: state unknown."))
    peak = max(history.calls, default=0) or 1
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(history.calls), 1)
    bars = format_html_join(
        "",
        "{}",
        (
            (_bar_pair(index, calls, failures, slot, peak),)
            for index, (calls, failures) in enumerate(
                zip(history.calls, history.failures, strict=True)
            )
        ),
    )
    return format_html(
        '<svg class="cb-chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}"'
        ' xmlns="http://www.w3.org/2000/svg"><title>{title}</title>{axes}{bars}{labels}</svg>',
        w=WIDTH,
        h=HEIGHT,
        title=_chart_title(history),
        axes=_axes(peak),
        bars=bars,
        labels=_time_labels(history),
    )


def _chart_title(history):
    return _("Calls: %(calls)d, failures: %(failures)d in the last %(seconds)d s") % {
        "calls": sum(history.calls),
        "failures": sum(history.failures),
        "seconds": round(history.width * len(history.calls)),
    }


def _number(value):
    # format_html escapes its arguments into strings, so numbers are formatted first.
    return f"{value:.1f}"


def _height(count, peak):
    return (PLOT_BOTTOM - PLOT_TOP) * count / peak


def _bar_pair(index, calls, failures, slot, peak):
    x = PLOT_LEFT + index * slot + BAR_GAP / 2
    width = max(slot - BAR_GAP, 1)
    calls_height = _height(calls, peak)
    failures_height = _height(failures, peak)
    return format_html(
        '<rect class="cb-bar-calls" x="{x}" y="{cy}" width="{w}" height="{ch}">'
        "<title>{calls_title}</title></rect>"
        '<rect class="cb-bar-failures" x="{x}" y="{fy}" width="{w}" height="{fh}"/>',
        x=_number(x),
        w=_number(width),
        cy=_number(PLOT_BOTTOM - calls_height),
        ch=_number(calls_height),
        fy=_number(PLOT_BOTTOM - failures_height),
        fh=_number(failures_height),
        calls_title=_("%(calls)d calls, %(failures)d failures")
        % {"calls": calls, "failures": failures},
    )


def _axes(peak):
    return format_html(
        '<line class="cb-axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/>'
        '<line class="cb-axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"/>'
        '<text class="cb-label" x="{lx}" y="{ty}" text-anchor="end">{peak}</text>'
        '<text class="cb-label" x="{lx}" y="{b}" text-anchor="end">0</text>',
        l=PLOT_LEFT,
        r=PLOT_RIGHT,
        t=PLOT_TOP,
        b=PLOT_BOTTOM,
        lx=PLOT_LEFT - 4,
        ty=PLOT_TOP + 8,
        peak=peak,
    )


def _time_labels(history):
    seconds = round(history.width * len(history.calls))
    return format_html(
        '<text class="cb-label" x="{l}" y="{y}">{start}</text>'
        '<text class="cb-label" x="{r}" y="{y}" text-anchor="end">{now}</text>',
        l=PLOT_LEFT,
        r=PLOT_RIGHT,
        y=HEIGHT - 6,
        start=_("%(seconds)d s ago") % {"seconds": seconds},
        now=_("now"),
    )
