"""The read-only inline of a breaker's most recent events on its change page."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.functional import lazy
from django.utils.translation import gettext

from ..models import BreakerEvent

RECENT_EVENTS = 20


def _recent_events_title():
    return gettext("recent events (newest first, at most %(count)d)") % {"count": RECENT_EVENTS}


class RecentEventFormSet(BaseInlineFormSet):
    """An inline formset that shows only the newest events of its breaker."""

    def get_queryset(self):
        # The inline filters the queryset by breaker after get_queryset(request),
        # so the limit can only be applied here, after that filter.
        return super().get_queryset()[:RECENT_EVENTS]


class RecentEventInline(admin.TabularInline):
    """Show the breaker's newest events, read-only, newest first."""

    model = BreakerEvent
    formset = RecentEventFormSet
    fields = ["created_at", "from_state", "to_state", "reason", "actor", "detail"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    extra = 0
    max_num = 0
    can_delete = False
    # live.css hides the "original" cell, which would repeat each event's __str__.
    classes = ["cb-events"]
    verbose_name_plural = lazy(_recent_events_title, str)()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_view_permission(self, request, obj=None):
        # Events are part of the breaker's page, so a user who may view the breaker sees them.
        opts = self.parent_model._meta
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or (
            request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
