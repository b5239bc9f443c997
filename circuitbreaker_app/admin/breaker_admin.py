"""The circuit breaker admin: live changelist, change page with live panel, force views."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..breaker import get_breaker
from ..models import CircuitBreaker
from ..storage.base import unknown_snapshot
from . import columns, live
from .actions import FORCE_ACTIONS
from .chart import render_chart
from .events_inline import RecentEventInline
from .filters import LiveStateFilter
from .forcing import FORCES, PERMISSION, apply_force, confirming_form, render_confirmation

POLL_INTERVAL_MS = 3000
HISTORY_BUCKETS = 30


class LiveChangeList(ChangeList):
    """A changelist that gives each row on the page its snapshot from the request's one read."""

    def get_results(self, request):
        super().get_results(request)
        snapshots = live.request_snapshots(request)
        for row in self.result_list:
            row.live_snapshot = snapshots.get(row.name) or unknown_snapshot(row.to_config())


@admin.register(CircuitBreaker)
class CircuitBreakerAdmin(admin.ModelAdmin):
    """Configure breakers, watch their live state and force them during an incident."""

    change_list_template = "admin/circuitbreaker_app/circuitbreaker/change_list.html"
    change_form_template = "admin/circuitbreaker_app/circuitbreaker/change_form.html"
    list_display = [
        "name",
        "live_state",
        "live_failures",
        "live_retry",
        "live_last_transition",
        "live_last_error",
    ]
    list_filter = [LiveStateFilter, "trip_policy"]
    search_fields = ["name", "description"]
    actions = FORCE_ACTIONS
    readonly_fields = ["held_state", "created_at", "updated_at"]
    inlines = [RecentEventInline]
    fieldsets = [
        (None, {"fields": ["name", "description", "held_state"]}),
        (
            _("Trip policy"),
            {
                "fields": [
                    "trip_policy",
                    "failure_threshold",
                    "window",
                    "failure_rate_threshold",
                    "minimum_calls",
                ]
            },
        ),
        (
            _("Open and half-open"),
            {
                "fields": [
                    "retry_duration",
                    "max_retry_duration",
                    "retry_backoff",
                    "half_open_max_calls",
                    "success_threshold",
                ]
            },
        ),
        (_("Which errors count"), {"fields": ["slow_call_duration", "ignored_exceptions"]}),
        (_("Timestamps"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    class Media:
        css = {"all": ["circuitbreaker_app/live.css"]}
        js = ["circuitbreaker_app/live.js"]

    def get_readonly_fields(self, request, obj=None):
        # Code finds a breaker by its name, so after a rename get_breaker()
        # with the old name would create a new row from its defaults.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("name")
        return fields

    # Permissions

    def has_force_breaker_state_permission(self, request, obj=None):
        """Tell whether the user may force breakers open, closed or half-open."""
        return request.user.has_perm(f"{self.opts.app_label}.{PERMISSION}")

    # Changelist

    def get_changelist(self, request, **kwargs):
        return LiveChangeList

    @admin.display(description=_("state"))
    def live_state(self, obj):
        return columns.state_badge(obj.live_snapshot)

    @admin.display(description=_("failures / threshold"))
    def live_failures(self, obj):
        return columns.failures(obj.live_snapshot)

    @admin.display(description=_("half-open in"))
    def live_retry(self, obj):
        return columns.retry_countdown(obj.live_snapshot)

    @admin.display(description=_("last transition"))
    def live_last_transition(self, obj):
        return columns.last_transition(obj.live_snapshot)

    @admin.display(description=_("last error"))
    def live_last_error(self, obj):
        return columns.last_error(obj.live_snapshot)

    def changelist_view(self, request, extra_context=None):
        snapshots = live.request_snapshots(request).values()
        context = {
            "cb_summary": live.summary_text(live.count_states(snapshots)),
            "cb_available": live.cache_available(snapshots),
            "cb_live_url": reverse(self._url_name("live"), current_app=self.admin_site.name),
            "cb_poll_interval": POLL_INTERVAL_MS,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    # Change page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if obj is not None and self.has_view_or_change_permission(request, obj):
            context.update(self._live_context(request, obj))
        return super().change_view(request, object_id, form_url, context)

    def _live_context(self, request, obj):
        snapshot = live.load_snapshots([obj])[obj.name]
        history = get_breaker(obj.name).history(HISTORY_BUCKETS) if snapshot.available else None
        return {
            "cb_snapshot": snapshot,
            "cb_available": snapshot.available,
            "cb_chart": render_chart(history),
            "cb_live_url": self._live_url([obj.name]),
            "cb_poll_interval": POLL_INTERVAL_MS,
            "cb_cells": self._panel_cells(snapshot),
            "cb_forces": self._force_links(request, obj),
        }

    def _panel_cells(self, snapshot):
        return [
            (_("state"), columns.state_badge(snapshot)),
            (_("failures / threshold"), columns.failures(snapshot)),
            (_("half-open in"), columns.retry_countdown(snapshot)),
            (_("last transition"), columns.last_transition(snapshot)),
            (_("last error"), columns.last_error(snapshot)),
        ]

    def _force_links(self, request, obj):
        if not self.has_force_breaker_state_permission(request, obj):
            return []
        return [
            (force, reverse(self._url_name("force"), args=[obj.pk, force.name]))
            for force in FORCES.values()
        ]

    # Extra views

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("live/", wrap(self.live_view), name=self._url_name("live", namespaced=False)),
            path(
                "<path:object_id>/force/<slug:force_name>/",
                wrap(self.force_view),
                name=self._url_name("force", namespaced=False),
            ),
            *super().get_urls(),
        ]

    def _url_name(self, view, namespaced=True):
        name = f"{self.opts.app_label}_{self.opts.model_name}_{view}"
        return f"{self.admin_site.name}:{name}" if namespaced else name

    def _live_url(self, names):
        url = reverse(self._url_name("live"), current_app=self.admin_site.name)
        query = "&".join(f"name={name}" for name in names)
        return f"{url}?{query}" if query else url

    def live_view(self, request):
        """Return the live state of all breakers, or of those named by ``?name=``, as JSON."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        rows = CircuitBreaker.objects.all()
        names = request.GET.getlist("name")
        if names:
            rows = rows.filter(name__in=names)
        snapshots = live.load_snapshots(rows).values()
        # admin_view() already marks the response never_cache (no-store).
        return JsonResponse(live.live_payload(snapshots))

    def force_view(self, request, object_id, force_name):
        """Confirm and apply one force action to one breaker, from its change page."""
        force = FORCES.get(force_name)
        if force is None:
            raise Http404(gettext('Unknown force action "%(name)s".') % {"name": force_name})
        if not (
            self.has_view_or_change_permission(request)
            and self.has_force_breaker_state_permission(request)
        ):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(gettext('No circuit breaker with ID "%(id)s".') % {"id": object_id})
        queryset = self.get_queryset(request).filter(pk=obj.pk)
        form = confirming_form(request)
        if form.is_bound and form.is_valid():
            apply_force(self, request, queryset, force, form.cleaned_data["reason"])
            return HttpResponseRedirect(reverse(self._url_name("change"), args=[obj.pk]))
        return render_confirmation(self, request, queryset, force, form, bulk=False)
