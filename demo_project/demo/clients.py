"""Client functions for the flaky upstream, each guarded a different way."""

import httpx
import requests
from django.conf import settings
from django.core.cache import cache

from circuitbreaker_app import circuit_breaker
from circuitbreaker_app.contrib.httpx import BreakerTransport

from .breakers import RATES, WEATHER

LAST_WEATHER_KEY = "demo:last-weather:%s"
LAST_WEATHER_TTL = 24 * 3600


def upstream_url(path):
    return settings.DEMO_UPSTREAM_URL.rstrip("/") + path


def is_client_error(exc):
    """Return True for 4xx responses: the request was wrong, the upstream is fine."""
    response = getattr(exc, "response", None)
    return response is not None and 400 <= response.status_code < 500


def last_known_weather(city):
    """Return the last weather fetched for the city, marked stale, or None."""
    data = cache.get(LAST_WEATHER_KEY % city)
    if data is None:
        return None
    return {**data, "stale": True}


@circuit_breaker(WEATHER, fallback=last_known_weather, skip=is_client_error)
def fetch_weather(city):
    """Fetch the current weather; raises requests errors, which the breaker counts."""
    response = requests.get(
        upstream_url(f"/weather/{city}"), timeout=settings.DEMO_UPSTREAM_TIMEOUT
    )
    response.raise_for_status()
    data = response.json()
    cache.set(LAST_WEATHER_KEY % city, data, LAST_WEATHER_TTL)
    return data


def fetch_forecast(city):
    """Fetch the three-day forecast; the view guards this call with a context manager."""
    response = requests.get(
        upstream_url(f"/forecast/{city}"), timeout=settings.DEMO_UPSTREAM_TIMEOUT
    )
    response.raise_for_status()
    return response.json()


def rates_client():
    """Return an httpx.Client whose requests run under the rates breaker."""
    return httpx.Client(
        transport=BreakerTransport(RATES),
        base_url=settings.DEMO_UPSTREAM_URL,
        timeout=settings.DEMO_UPSTREAM_TIMEOUT,
    )


def read_conditions():
    """Return the upstream's current conditions; the control page is not guarded."""
    response = requests.get(upstream_url("/control"), timeout=2)
    response.raise_for_status()
    return response.json()


def change_conditions(changes):
    """Send new conditions to the upstream and return what it now uses."""
    response = requests.post(upstream_url("/control"), json=changes, timeout=2)
    response.raise_for_status()
    return response.json()
