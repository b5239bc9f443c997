"""Operator actions that force breakers: what each does, its confirmation page and its audit trail."""

import logging
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import operations
from ..breaker import get_breaker
from ..events import DETAIL_LENGTH
from ..exceptions import StorageUnavailable
from . import columns
from .live import load_snapshots

logger = logging.getLogger(__name__)

PERMISSION = "force_breaker_state"
CONFIRMATION_TEMPLATE = "admin/circuitbreaker_app/circuitbreaker/force_confirmation.html"


@dataclass(frozen=True)
class Force:
    """One way an operator can force a breaker, and how the admin words it."""

    name: str
    label: str
    summary: str
    rejects_calls: bool
    action: str
    hold: bool = False

    def run(self, breaker, actor, reason):
        """Apply the operator action with the actor and reason, so the Breaker writes the event."""
        return operations.run_action(
            breaker, self.action, hold=self.hold, actor=actor, reason=reason
        )


FORCES = {
    force.name: force
    for force in (
        Force(
            "hold_open",
            _("Hold open"),
            _("Reject every call until an operator releases the hold."),
            rejects_calls=True,
            action=operations.OPEN,
            hold=True,
        ),
        Force(
            "force_open",
            _("Open"),
            _("Reject calls until the retry duration passes, then let trial calls through."),
            rejects_calls=True,
            action=operations.OPEN,
        ),
        Force(
            "force_close",
            _("Close (reset counters)"),
            _("Let calls through, zero the counters and release any hold."),
            rejects_calls=False,
            action=operations.CLOSE,
        ),
        Force(
            "hold_closed",
            _("Hold closed"),
            _("Let every call through and never trip until an operator releases the hold."),
            rejects_calls=False,
            action=operations.CLOSE,
            hold=True,
        ),
        Force(
            "force_half_open",
            _("Half-open"),
            _("Let trial calls through now. Their results close or open the breaker."),
            rejects_calls=True,
            action=operations.HALF_OPEN,
        ),
        Force(
            "release_hold",
            _("Release hold"),
            _("Drop the hold and keep the live state. An open breaker waits its retry duration."),
            rejects_calls=False,
            action=operations.RELEASE,
        ),
    )
}


class ReasonForm(forms.Form):
    """The reason an operator gives for forcing breakers, stored with each event."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=DETAIL_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Stored with each breaker event and shown in the event history."),
    )


def confirming_form(request):
    """Bind the reason form to a confirming POST (``post=yes``), or return it unbound."""
    if request.method == "POST" and request.POST.get("post") == "yes":
        return ReasonForm(request.POST)
    return ReasonForm()


def apply_force(modeladmin, request, queryset, force, reason):
    """Force every breaker in the queryset, then log and report what happened.

    Releasing the hold of a breaker that is not held changes nothing, so it
    is reported apart and gets no LogEntry. As in the ``breakers`` command,
    the hold is read from the breaker's row.
    """
    changed, failed, not_held = [], [], []
    for row in queryset:
        if force.action == operations.RELEASE and not row.held_state:
            not_held.append(row.name)
            continue
        try:
            force.run(get_breaker(row.name), request.user, reason)
        except StorageUnavailable as exc:
            logger.error(
                "Admin: %s by %s on breaker %s failed, breaker unchanged: %s",
                force.name,
                request.user,
                row.name,
                exc,
            )
            failed.append(row.name)
            continue
        record_change(modeladmin, request, row, force, reason)
        changed.append(row.name)
    report(modeladmin, request, force, changed, failed, not_held)


def record_change(modeladmin, request, row, force, reason):
    """Write the admin LogEntry and the INFO log line for one forced breaker."""
    message = "%s: %s" % (force.label, reason)
    modeladmin.log_change(request, row, message)
    logger.info(
        "Admin: %s forced breaker %s with %s, reason: %s",
        request.user,
        row.name,
        force.name,
        reason,
    )


def report(modeladmin, request, force, changed, failed, not_held):
    """Tell the operator which breakers changed, had no hold to release, or stayed as they were."""
    if changed:
        text = ngettext(
            "%(action)s: done for %(count)d breaker (%(names)s).",
            "%(action)s: done for %(count)d breakers (%(names)s).",
            len(changed),
        ) % {"action": force.label, "count": len(changed), "names": ", ".join(changed)}
        modeladmin.message_user(request, text, messages.SUCCESS)
    if failed:
        text = ngettext(
            "The cache is unreachable, so %(count)d breaker was not changed: %(names)s.",
            "The cache is unreachable, so %(count)d breakers were not changed: %(names)s.",
            len(failed),
        ) % {"count": len(failed), "names": ", ".join(failed)}
        modeladmin.message_user(request, text, messages.ERROR)
    if not_held:
        text = ngettext(
            "%(count)d breaker was not held, so it was left unchanged: %(names)s.",
            "%(count)d breakers were not held, so they were left unchanged: %(names)s.",
            len(not_held),
        ) % {"count": len(not_held), "names": ", ".join(not_held)}
        modeladmin.message_user(request, text, messages.WARNING)


def render_confirmation(modeladmin, request, queryset, force, form, bulk=True):
    """Render the page that lists the breakers and requests a reason before forcing them."""
    rows = list(queryset)
    snapshots = load_snapshots(rows)
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Are you sure?"),
        "subtitle": force.label,
        "opts": opts,
        "force": force,
        "form": form,
        "bulk": bulk,
        "breakers": [
            (row, columns.state_badge(snapshots[row.name]), columns.failures(snapshots[row.name]))
            for row in rows
        ],
        "cache_available": all(s.available for s in snapshots.values()),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)


def confirm_then_force(modeladmin, request, queryset, force):
    """Show the confirmation page, or force the breakers once the operator confirmed."""
    form = confirming_form(request)
    if form.is_bound and form.is_valid():
        apply_force(modeladmin, request, queryset, force, form.cleaned_data["reason"])
        return None
    return render_confirmation(modeladmin, request, queryset, force, form)
