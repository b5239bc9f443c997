"""Breaker states, hold values and transition reasons."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class State(StrEnum):
    """The live state of a breaker; the value is what storage and JSON use."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"

    @property
    def label(self):
        return STATE_LABELS[self]


STATE_LABELS = {
    State.CLOSED: _("closed"),
    State.OPEN: _("open"),
    State.HALF_OPEN: _("half-open"),
}


class Hold(StrEnum):
    """An operator's hold on a breaker; empty when none is set."""

    NONE = ""
    OPEN = "open"
    CLOSED = "closed"


class Reason(StrEnum):
    """The cause of a transition, as a code shared by events, signals, logs and the admin."""

    FAILURE_THRESHOLD = "failure_threshold"
    FAILURE_RATE = "failure_rate"
    RETRY_ELAPSED = "retry_elapsed"
    TRIAL_SUCCEEDED = "trial_succeeded"
    TRIAL_FAILED = "trial_failed"
    FORCED = "forced"
    RESET = "reset"
    HOLD_RELEASED = "hold_released"


REASON_LABELS = {
    Reason.FAILURE_THRESHOLD: _("failure threshold reached"),
    Reason.FAILURE_RATE: _("failure rate reached"),
    Reason.RETRY_ELAPSED: _("retry duration elapsed"),
    Reason.TRIAL_SUCCEEDED: _("trial calls succeeded"),
    Reason.TRIAL_FAILED: _("trial call failed"),
    Reason.FORCED: _("forced by an operator"),
    Reason.RESET: _("reset by an operator"),
    Reason.HOLD_RELEASED: _("hold released"),
}
