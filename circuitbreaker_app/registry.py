"""Per-process cache of breaker configuration, so the hot path skips the database."""

import datetime as dt
import logging
import threading
import time

from django.apps import apps
from django.core.exceptions import SynchronousOnlyOperation, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _

from .conf import app_settings
from .storage.base import BreakerConfig

logger = logging.getLogger(__name__)

CONFIG_FIELDS = frozenset(
    {
        "description",
        "trip_policy",
        "failure_threshold",
        "window",
        "failure_rate_threshold",
        "minimum_calls",
        "slow_call_duration",
        "retry_duration",
        "max_retry_duration",
        "retry_backoff",
        "half_open_max_calls",
        "success_threshold",
        "ignored_exceptions",
    }
)
DURATION_FIELDS = ("window", "slow_call_duration", "retry_duration", "max_retry_duration")

_configs: dict[str, tuple[BreakerConfig, float]] = {}
_lock = threading.Lock()


def cached_config(name):
    """Return the cached config while it is younger than CONFIG_TTL, else None."""
    entry = _configs.get(name)
    if entry is not None and time.monotonic() - entry[1] < app_settings.CONFIG_TTL:
        return entry[0]
    return None


def get_config(name, defaults=None):
    """Return the breaker's config, reading the database at most once per CONFIG_TTL.

    ``refresh`` reads it sooner, when a breaker's live state must be rebuilt.
    """
    cfg = cached_config(name)
    if cfg is None:
        cfg = _load(name, defaults)
    return cfg


def refresh(name, defaults=None):
    """Read the breaker's row again, whatever the age of the cached copy.

    If the database cannot be read, the cached copy stays in use.
    """
    return _load(name, defaults)


def recreate_row(cfg):
    """Create the breaker's row again from the config in use, after it vanished."""
    from .models import CircuitBreaker

    values = {field: getattr(cfg, field) for field in CONFIG_FIELDS - {"description"}}
    values["ignored_exceptions"] = "\n".join(
        f"{cls.__module__}.{cls.__qualname__}" for cls in cfg.ignored_exceptions
    )
    values["held_state"] = cfg.held_state
    row, created = CircuitBreaker.objects.get_or_create(
        name=cfg.name, defaults=model_defaults(values)
    )
    if created:
        logger.warning(
            "Breaker %s: its row was missing; created it from the config in use", cfg.name
        )
    invalidate(cfg.name)
    return row


def invalidate(name=None):
    """Forget cached config for one breaker, or for all when ``name`` is None."""
    with _lock:
        if name is None:
            _configs.clear()
        else:
            _configs.pop(name, None)


def validate_defaults(defaults):
    """Raise TypeError for unknown settings and ValidationError for bad values.

    Runs when a breaker is declared, so a mistake fails at once on every
    database, not only on the first call against a database without the row.
    Before the app registry is ready only the names are checked.
    """
    unknown = set(defaults) - CONFIG_FIELDS
    if unknown:
        message = _("Unknown breaker settings %(unknown)s; valid ones are %(valid)s.")
        raise TypeError(message % {"unknown": sorted(unknown), "valid": sorted(CONFIG_FIELDS)})
    if not defaults or not apps.ready:
        return
    from .models import CircuitBreaker

    row = CircuitBreaker(name="validation", **model_defaults(defaults))
    row.full_clean(exclude=["name"], validate_unique=False, validate_constraints=False)


def model_defaults(defaults):
    """Turn decorator keyword defaults into model field values; numbers are seconds."""
    values = dict(defaults or {})
    for field in DURATION_FIELDS:
        if isinstance(values.get(field), int | float):
            values[field] = dt.timedelta(seconds=values[field])

    # A long retry_duration alone must not fail validation against the
    # default maximum, so the maximum grows to match it.
    retry = values.get("retry_duration")
    if "max_retry_duration" not in values and isinstance(retry, dt.timedelta):
        from .models import CircuitBreaker

        default = CircuitBreaker._meta.get_field("max_retry_duration").default
        values["max_retry_duration"] = max(retry, default)
    return values


def _load(name, defaults):
    try:
        cfg = _fetch_or_create(name, defaults).to_config()
    except (DatabaseError, SynchronousOnlyOperation) as exc:
        # SynchronousOnlyOperation: the sync API was called from a coroutine,
        # where the ORM may not run; that is no reason to fail the call.
        cfg = _fallback(name, defaults, exc)
    _remember(name, cfg)
    return cfg


def _remember(name, cfg):
    # A fallback config is remembered too, so an unreachable database is
    # tried again once per CONFIG_TTL, not on every call.
    with _lock:
        _configs[name] = (cfg, time.monotonic())


def _fetch_or_create(name, defaults):
    from .models import CircuitBreaker

    row = CircuitBreaker.objects.filter(name=name).first()
    if row is not None:
        return row
    row = CircuitBreaker(name=name, **model_defaults(defaults))
    # The unique check is left to the insert: another process may create the
    # row after this check, and the IntegrityError branch below handles that.
    row.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        # Another process created the row between our read and our insert.
        return CircuitBreaker.objects.get(name=name)
    logger.info("Breaker %s: created from the decorator's defaults", name)
    return row


def _fallback(name, defaults, exc):
    entry = _configs.get(name)
    if entry is not None:
        logger.warning("Breaker %s: cannot read the row (%s); keeping the old config", name, exc)
        return entry[0]
    logger.warning("Breaker %s: cannot read the row (%s); using the code's defaults", name, exc)
    from .models import CircuitBreaker

    try:
        return CircuitBreaker(name=name, **model_defaults(defaults)).to_config()
    except (TypeError, ValidationError):
        return BreakerConfig(name=name)
