"""System checks on the settings and the configured cache."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from circuitbreaker_app.checks import check_cache, check_settings

ROOT = Path(__file__).resolve().parent.parent


def ids(messages):
    return [message.id for message in messages]


def test_default_settings_pass():
    assert check_settings() == []
    assert check_cache() == []


@pytest.mark.parametrize(
    ("setting", "value", "check_id"),
    [
        ("CIRCUITBREAKER_CONFIG_TTL", -1, "circuitbreaker.E002"),
        ("CIRCUITBREAKER_CONFIG_TTL", "10", "circuitbreaker.E002"),
        ("CIRCUITBREAKER_TRIAL_LEASE", 0, "circuitbreaker.E004"),
        ("CIRCUITBREAKER_TRIAL_LEASE", True, "circuitbreaker.E004"),
        ("CIRCUITBREAKER_CACHE_ERROR_LOG_INTERVAL", None, "circuitbreaker.E006"),
        ("CIRCUITBREAKER_KEY_TTL", 0, "circuitbreaker.E007"),
        ("CIRCUITBREAKER_KEY_TTL", float("inf"), "circuitbreaker.E007"),
        ("CIRCUITBREAKER_KEY_TTL", 1e16, "circuitbreaker.E007"),
        ("CIRCUITBREAKER_TRIAL_LEASE", float("nan"), "circuitbreaker.E004"),
        ("CIRCUITBREAKER_ON_CACHE_ERROR", "explode", "circuitbreaker.E003"),
    ],
)
def test_bad_setting_reported(settings, setting, value, check_id):
    setattr(settings, setting, value)
    messages = check_settings()
    assert ids(messages) == [check_id]
    assert setting in messages[0].msg
    assert messages[0].hint


def test_unknown_cache_alias_reported(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "nowhere"
    assert ids(check_cache()) == ["circuitbreaker.E001"]


def test_dummy_cache_is_error(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "dummy"
    assert ids(check_cache()) == ["circuitbreaker.E005"]


def test_locmem_cache_warns_not_shared(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "local"
    assert ids(check_cache()) == ["circuitbreaker.W001"]


def test_builtin_redis_cache_accepted(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "builtin_redis"
    assert check_cache() == []


def test_redis_cache_without_timeout_warns(settings):
    settings.CACHES = {
        **settings.CACHES,
        "untimed": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": settings.REDIS_URL},
    }
    settings.CIRCUITBREAKER_CACHE_ALIAS = "untimed"
    assert ids(check_cache()) == ["circuitbreaker.W003"]


def test_database_cache_warns_no_scripts(settings):
    settings.CACHES = {
        **settings.CACHES,
        "db": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cb_cache"},
    }
    settings.CIRCUITBREAKER_CACHE_ALIAS = "db"
    assert ids(check_cache()) == ["circuitbreaker.W002"]


def test_check_ids_are_unique():
    import circuitbreaker_app.checks as module

    source = Path(module.__file__).read_text()
    found = [line.split('"')[1] for line in source.splitlines() if '"circuitbreaker.' in line]
    assert len(found) == len(set(found))


def test_manage_check_fails_on_bad_setting(tmp_path):
    (tmp_path / "bad_settings.py").write_text(
        "from demo_project.settings import *\nCIRCUITBREAKER_ON_CACHE_ERROR = 'sometimes'\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bad_settings",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "circuitbreaker.E003" in result.stderr
