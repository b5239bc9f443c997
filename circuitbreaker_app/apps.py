"""App configuration: system checks and config-cache invalidation."""

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class CircuitBreakerConfig(AppConfig):
    """Register checks and keep the per-process config cache in step with saves."""

    name = "circuitbreaker_app"
    verbose_name = _("Circuit breakers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .models import CircuitBreaker
        from .storage import forget_storages

        setting_changed.connect(forget_storages, dispatch_uid="cb_forget_storages")
        post_save.connect(_breaker_saved, sender=CircuitBreaker, dispatch_uid="cb_saved")
        post_delete.connect(_breaker_deleted, sender=CircuitBreaker, dispatch_uid="cb_deleted")


def _breaker_saved(sender, instance, **kwargs):
    from . import registry

    registry.invalidate(instance.name)


def _breaker_deleted(sender, instance, **kwargs):
    import logging

    from . import registry
    from .exceptions import StorageUnavailable
    from .storage import get_storage

    registry.invalidate(instance.name)
    try:
        get_storage().forget(instance.to_config())
    except StorageUnavailable as exc:
        logging.getLogger(__name__).warning(
            "Breaker %s: deleted, but its live state could not be removed: %s", instance.name, exc
        )
