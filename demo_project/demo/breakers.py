"""The demo's breakers: their names, what guards them, and the settings demo_setup gives them."""

import datetime as dt

WEATHER = "demo-weather"
FORECAST = "demo-forecast"
RATES = "demo-rates"

# Short windows and retry durations, so that breakers trip and recover within
# a minute while an operator watches the admin.
DEMO_BREAKERS = {
    WEATHER: {
        "description": "Current weather; guarded by @circuit_breaker with a fallback.",
        "trip_policy": "consecutive",
        "failure_threshold": 3,
        "retry_duration": dt.timedelta(seconds=10),
        "max_retry_duration": dt.timedelta(seconds=60),
    },
    FORECAST: {
        "description": "Three-day forecast; guarded by breaker.guard() inside the view.",
        "trip_policy": "count",
        "failure_threshold": 4,
        "window": dt.timedelta(seconds=30),
        "retry_duration": dt.timedelta(seconds=15),
        "max_retry_duration": dt.timedelta(seconds=60),
    },
    RATES: {
        "description": "Exchange rates; guarded by the httpx BreakerTransport, no fallback.",
        "trip_policy": "rate",
        "failure_rate_threshold": 50,
        "minimum_calls": 6,
        "window": dt.timedelta(seconds=10),
        "retry_duration": dt.timedelta(seconds=10),
        "max_retry_duration": dt.timedelta(seconds=60),
    },
}
