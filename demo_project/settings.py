"""Settings of the demo project: SQLite and an in-process cache unless the environment says otherwise.

REDIS_URL switches the cache to django-redis; DATABASE_URL (postgres://...)
switches the database to PostgreSQL; DEMO_SQLITE_PATH moves the SQLite file.
DEMO_UPSTREAM_URL points the demo pages at the flaky upstream.
"""

import os
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "circuitbreaker_app",
    "demo_project.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "circuitbreaker_app.middleware.CircuitBreakerMiddleware",
]

ROOT_URLCONF = "demo_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "demo_project.wsgi.application"


def _database():
    url = os.environ.get("DATABASE_URL")
    if not url:
        path = os.environ.get("DEMO_SQLITE_PATH", BASE_DIR / "demo.sqlite3")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    parts = urlparse(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": parts.port or "",
    }


DATABASES = {"default": _database()}


def _cache():
    url = os.environ.get("REDIS_URL")
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }


CACHES = {"default": _cache()}

# The demo runs in one process without REDIS_URL, so the in-process cache is fine.
SILENCED_SYSTEM_CHECKS = [] if os.environ.get("REDIS_URL") else ["circuitbreaker.W001"]

CIRCUITBREAKER_CONFIG_TTL = 5

# The flaky upstream that the demo pages call (demo_project/demo/upstream.py),
# and the seconds a demo page waits for it before counting a timeout.
DEMO_UPSTREAM_URL = os.environ.get("DEMO_UPSTREAM_URL", "http://127.0.0.1:8001")
DEMO_UPSTREAM_TIMEOUT = float(os.environ.get("DEMO_UPSTREAM_TIMEOUT", "1.0"))

LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"circuitbreaker_app": {"handlers": ["console"], "level": "INFO"}},
}
