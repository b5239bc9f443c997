"""Bulk actions of the breaker changelist. Each shows a confirmation page that requests a reason."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .forcing import FORCES, PERMISSION, confirm_then_force


@admin.action(description=_("Hold open the selected breakers"), permissions=[PERMISSION])
def hold_open(modeladmin, request, queryset):
    """Open the selected breakers and hold them open until released."""
    return confirm_then_force(modeladmin, request, queryset, FORCES["hold_open"])


@admin.action(description=_("Open the selected breakers"), permissions=[PERMISSION])
def force_open(modeladmin, request, queryset):
    """Open the selected breakers until their retry duration passes."""
    return confirm_then_force(modeladmin, request, queryset, FORCES["force_open"])


@admin.action(
    description=_("Close the selected breakers (reset counters)"), permissions=[PERMISSION]
)
def force_close(modeladmin, request, queryset):
    """Close the selected breakers, zero their counters and release any hold."""
    return confirm_then_force(modeladmin, request, queryset, FORCES["force_close"])


@admin.action(description=_("Hold closed the selected breakers"), permissions=[PERMISSION])
def hold_closed(modeladmin, request, queryset):
    """Close the selected breakers and hold them closed until released."""
    return confirm_then_force(modeladmin, request, queryset, FORCES["hold_closed"])


@admin.action(description=_("Half-open the selected breakers"), permissions=[PERMISSION])
def force_half_open(modeladmin, request, queryset):
    """Make the selected breakers half-open so that trial calls decide their state."""
    return confirm_then_force(modeladmin, request, queryset, FORCES["force_half_open"])


@admin.action(description=_("Release the hold on the selected breakers"), permissions=[PERMISSION])
def release_hold(modeladmin, request, queryset):
    """Release the hold on the selected breakers and keep their live state."""
    return confirm_then_force(modeladmin, request, queryset, FORCES["release_hold"])


FORCE_ACTIONS = [hold_open, force_open, force_close, hold_closed, force_half_open, release_hold]
