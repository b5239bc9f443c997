"""Breakers declared in the database, and the audit trail of their transitions."""

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .states import REASON_LABELS, Hold, Reason, State
from .storage.base import BreakerConfig
from .validators import (
    import_exception_class,
    parse_exception_paths,
    validate_exception_paths,
    validate_positive_duration,
)

logger = logging.getLogger(__name__)


class TripPolicy(models.TextChoices):
    CONSECUTIVE = "consecutive", _("consecutive failures")
    COUNT = "count", _("failures inside the window")
    RATE = "rate", _("failure rate inside the window")


class HeldState(models.TextChoices):
    NONE = Hold.NONE.value, _("not held")
    OPEN = Hold.OPEN.value, _("held open")
    CLOSED = Hold.CLOSED.value, _("held closed")


STATE_CHOICES = [(state.value, state.label) for state in State]
REASON_CHOICES = [(reason.value, REASON_LABELS[reason]) for reason in Reason]


def _seconds(duration):
    return None if duration is None else duration.total_seconds()


class CircuitBreaker(models.Model):
    """A named breaker and the policy that trips, opens and closes it."""

    name = models.SlugField(
        _("name"),
        max_length=100,
        unique=True,
        help_text=_("Letters, digits, hyphens and underscores; code refers to the breaker by it."),
    )
    description = models.TextField(_("description"), blank=True)
    trip_policy = models.CharField(
        _("trip policy"),
        max_length=16,
        choices=TripPolicy.choices,
        default=TripPolicy.CONSECUTIVE,
        help_text=_("What trips the breaker: a run of failures, a count or a rate in the window."),
    )
    failure_threshold = models.PositiveIntegerField(
        _("failure threshold"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_("Failures that trip the breaker when the count reaches this number."),
    )
    window = models.DurationField(
        _("window"),
        default=dt.timedelta(seconds=60),
        validators=[validate_positive_duration],
        help_text=_("Sliding window for the count and rate policies (HH:MM:SS)."),
    )
    failure_rate_threshold = models.PositiveSmallIntegerField(
        _("failure rate threshold"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "Percent of failed calls in the window that trips a rate-policy breaker (1-100)."
        ),
    )
    minimum_calls = models.PositiveIntegerField(
        _("minimum calls"),
        default=10,
        validators=[MinValueValidator(1)],
        help_text=_("Calls the window must hold before the rate policy may trip."),
    )
    slow_call_duration = models.DurationField(
        _("slow call duration"),
        null=True,
        blank=True,
        validators=[validate_positive_duration],
        help_text=_(
            "A call that takes longer counts as a failure (HH:MM:SS, fractions allowed: 00:00:02.5); empty turns this off."
        ),
    )
    retry_duration = models.DurationField(
        _("retry duration"),
        default=dt.timedelta(seconds=30),
        validators=[validate_positive_duration],
        help_text=_(
            "How long the breaker stays open before trial calls are let through (HH:MM:SS)."
        ),
    )
    max_retry_duration = models.DurationField(
        _("maximum retry duration"),
        default=dt.timedelta(minutes=5),
        validators=[validate_positive_duration],
        help_text=_(
            "Upper bound of the retry duration as it grows after failed trials (HH:MM:SS)."
        ),
    )
    retry_backoff = models.FloatField(
        _("retry backoff"),
        default=2.0,
        validators=[MinValueValidator(1.0)],
        help_text=_(
            "Factor applied to the retry duration after each failed trial (1 = no growth)."
        ),
    )
    half_open_max_calls = models.PositiveIntegerField(
        _("half-open maximum calls"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Trial calls allowed in flight at once while half-open, across all processes."),
    )
    success_threshold = models.PositiveIntegerField(
        _("success threshold"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Successful trial calls that close a half-open breaker."),
    )
    ignored_exceptions = models.TextField(
        _("ignored exceptions"),
        blank=True,
        validators=[validate_exception_paths],
        help_text=_("Dotted paths of exception classes, one a line, that count neither way."),
    )
    held_state = models.CharField(
        _("hold"),
        max_length=8,
        choices=HeldState.choices,
        default=HeldState.NONE,
        blank=True,
        help_text=_("Set by the force actions; kept here so a hold survives a cache flush."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("circuit breaker")
        verbose_name_plural = _("circuit breakers")
        ordering = ["name"]
        permissions = [("force_breaker_state", _("Can force a breaker open, closed or half-open"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(failure_threshold__gte=1), name="cb_failure_threshold_positive"
            ),
            models.CheckConstraint(
                condition=Q(failure_rate_threshold__gte=1, failure_rate_threshold__lte=100),
                name="cb_failure_rate_threshold_percent",
            ),
            models.CheckConstraint(
                condition=Q(minimum_calls__gte=1), name="cb_minimum_calls_positive"
            ),
            models.CheckConstraint(
                condition=Q(half_open_max_calls__gte=1), name="cb_half_open_max_calls_positive"
            ),
            models.CheckConstraint(
                condition=Q(success_threshold__gte=1), name="cb_success_threshold_positive"
            ),
            models.CheckConstraint(
                condition=Q(retry_backoff__gte=1), name="cb_retry_backoff_min_one"
            ),
            models.CheckConstraint(
                condition=Q(window__gt=dt.timedelta(0)), name="cb_window_positive"
            ),
            models.CheckConstraint(
                condition=Q(retry_duration__gt=dt.timedelta(0)), name="cb_retry_duration_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_retry_duration__gte=F("retry_duration")),
                name="cb_max_retry_duration_not_below_retry",
            ),
            models.CheckConstraint(
                condition=Q(slow_call_duration__isnull=True)
                | Q(slow_call_duration__gt=dt.timedelta(0)),
                name="cb_slow_call_duration_positive",
            ),
            models.CheckConstraint(
                condition=Q(held_state__in=[choice.value for choice in HeldState]),
                name="cb_held_state_valid",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        retry, maximum = self.retry_duration, self.max_retry_duration
        if retry and maximum and maximum < retry:
            raise ValidationError(
                {
                    "max_retry_duration": _(
                        "The maximum retry duration must not be below the retry duration (%(retry)s)."
                    )
                    % {"retry": retry}
                }
            )

    def ignored_exception_classes(self):
        """Import the ignored exception classes, logging and skipping any that fail."""
        classes = []
        for path in parse_exception_paths(self.ignored_exceptions):
            try:
                classes.append(import_exception_class(path))
            except ValueError as exc:
                logger.error(
                    "Breaker %s: ignoring bad ignored_exceptions entry: %s", self.name, exc
                )
        return tuple(classes)

    def to_config(self):
        """Copy the row into the immutable BreakerConfig that the hot path reads."""
        return BreakerConfig(
            name=self.name,
            pk=self.pk,
            trip_policy=self.trip_policy,
            failure_threshold=self.failure_threshold,
            window=_seconds(self.window),
            failure_rate_threshold=self.failure_rate_threshold,
            minimum_calls=self.minimum_calls,
            slow_call_duration=_seconds(self.slow_call_duration),
            retry_duration=_seconds(self.retry_duration),
            max_retry_duration=_seconds(self.max_retry_duration),
            retry_backoff=self.retry_backoff,
            half_open_max_calls=self.half_open_max_calls,
            success_threshold=self.success_threshold,
            ignored_exceptions=self.ignored_exception_classes(),
            held_state=self.held_state,
        )


class BreakerEvent(models.Model):
    """One transition of a breaker: who or what caused it, and why."""

    breaker = models.ForeignKey(
        CircuitBreaker, on_delete=models.CASCADE, related_name="events", verbose_name=_("breaker")
    )
    from_state = models.CharField(_("from state"), max_length=16, choices=STATE_CHOICES)
    to_state = models.CharField(_("to state"), max_length=16, choices=STATE_CHOICES)
    reason = models.CharField(_("reason"), max_length=32, choices=REASON_CHOICES)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("breaker event")
        verbose_name_plural = _("breaker events")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.breaker_id}: {self.from_state} -> {self.to_state} ({self.reason})"
