"""Storage backends for live breaker state, chosen from the configured cache."""

import threading

from django.core.cache import caches

from ..conf import app_settings
from .base import BreakerConfig, BreakerSnapshot, BreakerStorage, Outcome, Transition
from .local import LocalStorage
from .redis import RedisStorage

__all__ = [
    "BreakerConfig",
    "BreakerSnapshot",
    "BreakerStorage",
    "LocalStorage",
    "Outcome",
    "RedisStorage",
    "Transition",
    "get_storage",
    "is_redis_cache",
]

_storages = {}
_lock = threading.Lock()


def is_redis_cache(cache):
    """Return True for django-redis and Django's RedisCache, whose server runs our scripts."""
    module = type(cache).__module__
    return module.startswith("django_redis") or module == "django.core.cache.backends.redis"


def get_storage(alias=None):
    """Return the storage for a cache alias (default: ``CIRCUITBREAKER_CACHE_ALIAS``).

    Redis-backed caches get RedisStorage; any other cache gets an in-process
    LocalStorage. One storage is kept per alias.
    """
    alias = alias or app_settings.CACHE_ALIAS
    storage = _storages.get(alias)
    if storage is None:
        with _lock:
            storage = _storages.get(alias)
            if storage is None:
                storage = _storages[alias] = _build(alias)
    return storage


def _build(alias):
    cache = caches[alias]
    if is_redis_cache(cache):
        return RedisStorage(cache)
    return LocalStorage(cache)


def forget_storages(**kwargs):
    """Drop the storages built so far; connected to setting_changed for CACHES.

    A storage keeps the cache object it was built with, so a test that
    swaps CACHES with override_settings must get storages for the new one.
    """
    if kwargs.get("setting", "CACHES") == "CACHES":
        with _lock:
            _storages.clear()
