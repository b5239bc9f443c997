"""Live state on a Redis server, one Lua script per atomic step."""

import logging
from importlib import resources

from redis.exceptions import NoScriptError, RedisError

from ..conf import app_settings
from ..exceptions import StorageUnavailable
from .base import MICROSECONDS, BreakerStorage, ReplyDecoder, build_history

logger = logging.getLogger(__name__)

SCRIPT = resources.files(__package__).joinpath("lua/breaker.lua").read_text()
HISTORY_SCRIPT = resources.files(__package__).joinpath("lua/history.lua").read_text()
KEY_SUFFIXES = ("state", "calls", "failures", "successes", "trials")


def redis_client(cache):
    """Return the redis-py client behind a django-redis or Django RedisCache, or None."""
    client = getattr(cache, "client", None)
    if client is not None and hasattr(client, "get_client"):
        return client.get_client(write=True)
    inner = getattr(cache, "_cache", None)
    if inner is not None and hasattr(inner, "get_client"):
        return inner.get_client(write=True)
    return None


def _micros(seconds):
    return int(round(seconds * MICROSECONDS))


class RedisStorage(BreakerStorage):
    """Keep each breaker in five keys that share one hash tag, changed only by Lua.

    ``clock_offset`` (seconds) is added to the Redis server's clock; tests
    move it forward instead of sleeping.
    """

    blocking = True

    def __init__(self, cache):
        self.cache = cache
        self.clock_offset = 0.0
        self.decoder = ReplyDecoder()
        self._packed = {}
        self._keys = {}
        self._sha = None

    def keys(self, name):
        keys = self._keys.get(name)
        if keys is None:
            # The braces make ``name`` the Redis Cluster hash tag of every key,
            # so one script may touch all of them; make_key adds KEY_PREFIX and VERSION.
            keys = [
                self.cache.make_key(f"circuitbreaker:{{{name}}}:{suffix}")
                for suffix in KEY_SUFFIXES
            ]
            _bounded(self._keys)[name] = keys
        return keys

    def _args(self, cfg, op, may_seed, *extra):
        seed = "1" if may_seed else "0"
        return [op, _micros(self.clock_offset), self._packed_config(cfg), seed, *extra]

    def _packed_config(self, cfg):
        # Packed once per config object: one argument instead of thirteen
        # keeps the request small on the hot path.
        lease, key_ttl = app_settings.TRIAL_LEASE, app_settings.KEY_TTL
        entry = self._packed.get(cfg.name)
        if entry is not None and entry[0] is cfg and entry[1] == (lease, key_ttl):
            return entry[2]
        ttl = key_ttl + 2 * max(cfg.window, cfg.max_retry_duration)
        words = [
            cfg.trip_policy,
            cfg.failure_threshold,
            _micros(cfg.window),
            cfg.failure_rate_threshold,
            cfg.minimum_calls,
            _micros(cfg.retry_duration),
            _micros(cfg.max_retry_duration),
            repr(float(cfg.retry_backoff)),
            cfg.half_open_max_calls,
            cfg.success_threshold,
            _micros(lease),
            int(ttl * 1000),
            cfg.held_state,
        ]
        packed = " ".join(str(word) for word in words)
        _bounded(self._packed)[cfg.name] = (cfg, (lease, key_ttl), packed)
        return packed

    def _client(self):
        client = redis_client(self.cache)
        if client is None:
            raise StorageUnavailable(f"cache {self.cache!r} has no redis-py client")
        return client

    def _load(self, client):
        self._sha = client.script_load(SCRIPT)
        return self._sha

    def _run(self, cfg, op, *extra, may_seed=False):
        keys = self.keys(cfg.name)
        args = self._args(cfg, op, may_seed, *extra)
        try:
            client = self._client()
            sha = self._sha or self._load(client)
            try:
                reply = client.evalsha(sha, len(keys), *keys, *args)
            except NoScriptError:
                # The server lost its script cache (restart, SCRIPT FLUSH): load again.
                reply = client.evalsha(self._load(client), len(keys), *keys, *args)
        except RedisError as exc:
            raise StorageUnavailable(str(exc)) from exc
        if reply == b"missing" or reply == "missing":
            return None
        return self.decoder.decode(cfg, reply)

    def admit(self, cfg, may_seed=False):
        return self._run(cfg, "admit", may_seed=may_seed)

    def record_failure(self, cfg, generation, trial, detail):
        return self._run(cfg, "failure", generation, _trial(trial), detail)

    def record_success(self, cfg, generation, trial):
        return self._run(cfg, "success", generation, _trial(trial))

    def release(self, cfg, trial):
        return self._run(cfg, "release", "", _trial(trial))

    def force(self, cfg, state, hold, reason):
        extra = ("", "", str(state), str(hold), str(reason))
        return self._run(cfg, "force", *extra, may_seed=True)

    def release_hold(self, cfg):
        return self._run(cfg, "release_hold", may_seed=True)

    def forget(self, cfg):
        try:
            self._client().delete(*self.keys(cfg.name))
        except RedisError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def history(self, cfg, buckets=20):
        keys = self.keys(cfg.name)[1:3]
        args = [_micros(self.clock_offset), _micros(cfg.window), buckets]
        try:
            # Off the hot path, so plain EVAL keeps this simple.
            reply = self._client().eval(HISTORY_SCRIPT, len(keys), *keys, *args)
        except RedisError as exc:
            raise StorageUnavailable(str(exc)) from exc
        counts = [(reply[i], reply[i + 1]) for i in range(1, len(reply), 2)]
        return build_history(cfg, int(reply[0]), 0.0, counts)

    def snapshots(self, cfgs):
        cfgs = list(cfgs)
        if not cfgs:
            return []
        try:
            replies = self._pipeline(cfgs)
        except RedisError as exc:
            raise StorageUnavailable(str(exc)) from exc
        return [self.decoder.decode(cfg, reply) for cfg, reply in zip(cfgs, replies, strict=True)]

    def _pipeline(self, cfgs):
        client = self._client()
        sha = self._sha or self._load(client)
        try:
            return self._send_pipeline(client, sha, cfgs)
        except NoScriptError:
            return self._send_pipeline(client, self._load(client), cfgs)

    def _send_pipeline(self, client, sha, cfgs):
        # One round trip for all breakers; transaction=False because the
        # script already makes each breaker's step atomic.
        pipe = client.pipeline(transaction=False)
        for cfg in cfgs:
            keys = self.keys(cfg.name)
            pipe.evalsha(sha, len(keys), *keys, *self._args(cfg, "snapshot", False))
        return pipe.execute()


# Breaker names can be many (one per host with name_per_host), so the
# per-name caches start over when they reach this size.
NAME_CACHE_SIZE = 10_000


def _bounded(cache):
    if len(cache) >= NAME_CACHE_SIZE:
        cache.clear()
    return cache


def _trial(trial):
    return "" if trial is None else str(trial)
