"""Test settings: PostgreSQL and a real Redis server, plus deliberately broken cache aliases."""

import os
import uuid

from demo_project.settings import *  # noqa: F403

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Keys of one test run share a prefix, so parallel runs on one server stay apart.
# Child processes inherit it through the environment.
KEY_PREFIX = os.environ.setdefault("CB_TEST_KEY_PREFIX", f"cbtest-{uuid.uuid4().hex[:8]}")
DEAD_PORT = 1

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("TEST_PG_NAME", "postgres"),
        "USER": os.environ.get("TEST_PG_USER", "postgres"),
        "HOST": os.environ.get("TEST_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("TEST_PG_PORT", "5432"),
        "TEST": {"NAME": os.environ.get("TEST_PG_TEST_NAME", f"test_cb_{os.getpid()}")},
    }
}

_TIMEOUTS = {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": KEY_PREFIX,
        "OPTIONS": _TIMEOUTS,
    },
    "builtin_redis": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": KEY_PREFIX + "-builtin",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Nothing listens on port 1: every call fails at once with a refused connection.
    "dead": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{DEAD_PORT}/0",
        "OPTIONS": _TIMEOUTS,
    },
    "dummy": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}

SILENCED_SYSTEM_CHECKS = []
CIRCUITBREAKER_CONFIG_TTL = 60
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
