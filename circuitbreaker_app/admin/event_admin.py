"""The read-only history of breaker transitions."""

from django.contrib import admin

from ..models import BreakerEvent


@admin.register(BreakerEvent)
class BreakerEventAdmin(admin.ModelAdmin):
    """List every transition with who made it and why; nothing here can be changed."""

    list_display = ["created_at", "breaker", "from_state", "to_state", "reason", "actor", "detail"]
    list_filter = [
        ("breaker", admin.RelatedOnlyFieldListFilter),
        "to_state",
        "reason",
        ("actor", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["breaker", "actor"]
    search_fields = ["breaker__name", "detail"]
    date_hierarchy = "created_at"
    fields = ["created_at", "breaker", "from_state", "to_state", "reason", "actor", "detail"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
