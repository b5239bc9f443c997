"""Redis specifics: key names, hash tags, TTLs, script reloads, Django's own RedisCache."""

import dataclasses
import time

import pytest
from django.core.cache import caches

from circuitbreaker_app import CircuitOpenError, State, get_breaker, registry
from circuitbreaker_app.models import CircuitBreaker
from circuitbreaker_app.storage import RedisStorage, get_storage
from circuitbreaker_app.storage.redis import redis_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def alias(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    return "default"


def breaker_keys(redis_client, name):
    return sorted(key.decode() for key in redis_client.scan_iter(match=f"*{{{name}}}*"))


def test_keys_share_hash_tag_and_prefix(make_breaker, redis_client, settings):
    breaker = make_breaker("tagged", failure_threshold=1)
    with pytest.raises(RuntimeError):
        breaker.call(_boom)
    keys = breaker_keys(redis_client, "tagged")
    assert len(keys) >= 3
    for key in keys:
        assert key.startswith(f"{settings.KEY_PREFIX}:1:circuitbreaker:")
        assert key.index("{tagged}") == key.index("{")


def test_every_key_has_ttl(make_breaker, redis_client):
    breaker = make_breaker("ttl", failure_threshold=1)
    breaker.call(lambda: None)
    with pytest.raises(RuntimeError):
        breaker.call(_boom)
    for key in breaker_keys(redis_client, "ttl"):
        assert redis_client.pttl(key) > 0


def test_script_reloaded_after_flush(make_breaker, redis_client):
    breaker = make_breaker("reload")
    breaker.call(lambda: None)
    redis_client.script_flush()
    assert breaker.call(lambda: "again") == "again"
    assert breaker.state == State.CLOSED


def test_bulk_read_reloads_script(make_breaker, redis_client):
    breaker = make_breaker("bulk-reload")
    breaker.call(lambda: None)
    redis_client.script_flush()
    assert breaker.snapshot().state == State.CLOSED


def test_version_keeps_sites_apart(db, settings):
    settings.CACHES = {**settings.CACHES, "v2": {**settings.CACHES["default"], "VERSION": 2}}
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    breaker = get_breaker("versioned", failure_threshold=5)
    with pytest.raises(RuntimeError):
        breaker.call(_boom)
    settings.CIRCUITBREAKER_CACHE_ALIAS = "v2"
    assert get_storage().keys("versioned")[0].startswith(f"{settings.KEY_PREFIX}:2:")
    assert breaker.snapshot().failure_count == 0
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    assert breaker.snapshot().failure_count == 1


def test_builtin_redis_cache_supported(db, settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "builtin_redis"
    assert isinstance(get_storage(), RedisStorage)
    assert redis_client(caches["builtin_redis"]) is not None
    breaker = get_breaker("builtin", failure_threshold=1)
    with pytest.raises(RuntimeError):
        breaker.call(_boom)
    assert breaker.state == State.OPEN


def _boom():
    raise RuntimeError("down")


def test_flush_reads_hold_from_row(make_breaker):
    breaker = make_breaker("stale-hold")
    breaker.call(lambda: None)
    # Another process holds the breaker open; this process still has the
    # old row cached when the cache loses the state.
    CircuitBreaker.objects.filter(name="stale-hold").update(held_state="open")
    get_storage().forget(breaker.config)
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: None)
    assert breaker.snapshot().held


def test_flush_drops_released_hold(make_breaker):
    breaker = make_breaker("released-hold")
    breaker.force_open(hold=True)
    breaker.config  # noqa: B018 - caches the row that still says held open
    CircuitBreaker.objects.filter(name="released-hold").update(held_state="")
    registry._configs["released-hold"] = (
        dataclasses.replace(breaker.config, held_state="open"),
        time.monotonic(),
    )
    get_storage().forget(breaker.config)
    assert breaker.call(lambda: "ran") == "ran"
    assert not breaker.snapshot().held


def test_new_caches_setting_gets_new_storage(db, settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    before = get_storage()
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "VERSION": 3}}
    after = get_storage()
    assert after is not before
    assert after.keys("swapped")[0].startswith(f"{settings.KEY_PREFIX}:3:")
