"""System checks for the CIRCUITBREAKER_* settings and the configured cache."""

import math

from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.checks import Error, Warning, register
from django.utils.translation import gettext as _

from .conf import CACHE_ERROR_POLICIES, app_settings
from .storage import is_redis_cache

# Cache backends that keep entries in one process only.
NOT_SHARED = ("django.core.cache.backends.locmem.LocMemCache",)
DUMMY = "django.core.cache.backends.dummy.DummyCache"


# Ten years: larger values overflow the integer milliseconds Redis takes.
MAXIMUM_SECONDS = 10 * 365 * 86400


def _is_number(value, minimum, inclusive=True):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not math.isfinite(value) or value > MAXIMUM_SECONDS:
        return False
    return value >= minimum if inclusive else value > minimum


NUMBER_SETTINGS = (
    ("CONFIG_TTL", 0, True, "circuitbreaker.E002"),
    ("TRIAL_LEASE", 0, False, "circuitbreaker.E004"),
    ("CACHE_ERROR_LOG_INTERVAL", 0, True, "circuitbreaker.E006"),
    ("KEY_TTL", 0, False, "circuitbreaker.E007"),
)


@register()
def check_settings(app_configs=None, **kwargs):
    """Report CIRCUITBREAKER_* settings of the wrong type or range."""
    errors = []
    for name, minimum, inclusive, check_id in NUMBER_SETTINGS:
        value = getattr(app_settings, name)
        if not _is_number(value, minimum, inclusive):
            if inclusive:
                message = _(
                    "%(setting)s is %(value)r; it must be a number of seconds from zero "
                    "to ten years."
                )
            else:
                message = _(
                    "%(setting)s is %(value)r; it must be a number of seconds above zero "
                    "and at most ten years."
                )
            setting = f"CIRCUITBREAKER_{name}"
            errors.append(
                Error(
                    message % {"setting": setting, "value": value},
                    hint=_("Set %(setting)s to a number such as 30, or remove it.")
                    % {"setting": setting},
                    id=check_id,
                )
            )
    policy = app_settings.ON_CACHE_ERROR
    if policy not in CACHE_ERROR_POLICIES:
        errors.append(
            Error(
                _("CIRCUITBREAKER_ON_CACHE_ERROR is %(value)r; it must be 'allow' or 'deny'.")
                % {"value": policy},
                hint=_("'allow' runs guarded calls while the cache is down; 'deny' rejects them."),
                id="circuitbreaker.E003",
            )
        )
    return errors


@register()
def check_cache(app_configs=None, **kwargs):
    """Report a cache alias that is missing, a dummy, or not shared between processes."""
    alias = app_settings.CACHE_ALIAS
    if not isinstance(alias, str) or alias not in settings.CACHES:
        return [
            Error(
                _("CIRCUITBREAKER_CACHE_ALIAS is %(alias)r, which is not a key of CACHES.")
                % {"alias": alias},
                hint=_("Use one of %(aliases)s or add the alias to CACHES.")
                % {"aliases": sorted(settings.CACHES)},
                id="circuitbreaker.E001",
            )
        ]
    backend = settings.CACHES[alias].get("BACKEND", "")
    try:
        cache = caches[alias]
    except InvalidCacheBackendError as exc:
        return [
            Error(
                _("Cache %(alias)r cannot be loaded: %(error)s") % {"alias": alias, "error": exc},
                hint=_("Fix the BACKEND of this entry in CACHES."),
                id="circuitbreaker.E008",
            )
        ]
    return _classify(alias, backend, cache)


# django-redis spells the options in capitals, Django's RedisCache passes
# redis-py's own keyword names.
TIMEOUT_OPTIONS = ("SOCKET_TIMEOUT", "socket_timeout")


def _check_timeouts(alias):
    options = settings.CACHES[alias].get("OPTIONS", {})
    if any(options.get(name) for name in TIMEOUT_OPTIONS):
        return []
    return [
        Warning(
            _(
                "Cache %(alias)r sets no socket timeout, so a Redis server that stops "
                "answering can stall every guarded call."
            )
            % {"alias": alias},
            hint=_(
                "Add a timeout in seconds to the cache's OPTIONS: SOCKET_TIMEOUT for "
                "django-redis, socket_timeout for Django's RedisCache (0.5 is a common value)."
            ),
            id="circuitbreaker.W003",
        )
    ]


def _classify(alias, backend, cache):
    if backend == DUMMY:
        return [
            Error(
                _(
                    "Cache %(alias)r is a DummyCache, which stores nothing, "
                    "so breakers cannot keep state."
                )
                % {"alias": alias},
                hint=_("Point CIRCUITBREAKER_CACHE_ALIAS at a Redis cache (django-redis)."),
                id="circuitbreaker.E005",
            )
        ]
    if is_redis_cache(cache):
        return _check_timeouts(alias)
    if backend in NOT_SHARED:
        return [
            Warning(
                _(
                    "Cache %(alias)r (%(backend)s) is not shared between processes: "
                    "each process keeps its own breaker state."
                )
                % {"alias": alias, "backend": backend},
                hint=_("Use django-redis so that every worker and host sees the same breaker."),
                id="circuitbreaker.W001",
            )
        ]
    return [
        Warning(
            _(
                "Cache %(alias)r (%(backend)s) cannot run atomic scripts, so breaker state "
                "is kept in each process instead of in the cache."
            )
            % {"alias": alias, "backend": backend},
            hint=_("Use django-redis or Django's RedisCache for state shared by the fleet."),
            id="circuitbreaker.W002",
        )
    ]
