"""The changelist filter by live state, read from the cache."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..states import State
from .live import matches_state, request_snapshots


class LiveStateFilter(admin.SimpleListFilter):
    """Filter breakers by their live state in the cache, or by a hold."""

    title = _("live state")
    parameter_name = "live_state"

    def lookups(self, request, model_admin):
        return [(state.value, state.label) for state in State] + [("held", _("held"))]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        names = [
            name
            for name, snapshot in request_snapshots(request).items()
            if matches_state(snapshot, value)
        ]
        return queryset.filter(name__in=names)
