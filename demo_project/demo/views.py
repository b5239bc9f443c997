"""Demo pages: two pages that call the flaky upstream, a control page and a state feed."""

import math

import httpx
import requests
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from circuitbreaker_app import CircuitOpenError, get_breaker
from circuitbreaker_app.breaker import read_snapshots

from . import clients
from .breakers import DEMO_BREAKERS, FORECAST, RATES, WEATHER
from .forms import ConditionsForm
from .upstream import CITIES, CURRENCIES

# Conditions that the control page's Break and Heal buttons send to the upstream.
HEAL = {"error_rate": 0.0, "latency": 0.0, "outage": False}
BREAK = {"outage": True}


def snapshots(names):
    """Read the named breakers' live state in one storage call."""
    return read_snapshots(get_breaker(name).config for name in names)


def index(request):
    """Show what each demo page guards, and every demo breaker's state."""
    return render(request, "demo/index.html", {"snapshots": snapshots(DEMO_BREAKERS)})


def weather(request):
    """Show current weather (decorator with a fallback) and a forecast (context manager)."""
    city = _choice(request.GET.get("city"), CITIES)
    current, current_error = _current_weather(city)
    forecast, forecast_error = _forecast(city)
    context = {
        "city": city,
        "cities": CITIES,
        "current": current,
        "current_error": current_error,
        "forecast": forecast,
        "forecast_error": forecast_error,
        "snapshots": snapshots([WEATHER, FORECAST]),
    }
    return render(request, "demo/weather.html", context)


def _current_weather(city):
    # With a fallback set, the decorator returns last_known_weather() instead of
    # raising CircuitOpenError.
    try:
        return clients.fetch_weather(city), None
    except requests.RequestException as exc:
        return clients.last_known_weather(city), f"The weather service failed: {_reason(exc)}"


def _forecast(city):
    try:
        with get_breaker(FORECAST).guard(skip=clients.is_client_error):
            return clients.fetch_forecast(city), None
    except CircuitOpenError as exc:
        return None, f"Forecast paused: its breaker is open ({_retry_text(exc)})."
    except requests.RequestException as exc:
        return None, f"The forecast service failed: {_reason(exc)}"


def rates(request):
    """Show exchange rates through the httpx transport; an open breaker becomes a 503."""
    base = _choice(request.GET.get("base"), CURRENCIES)
    context = {"base": base, "currencies": CURRENCIES, "rates": None, "error": None}
    status = 200
    # CircuitOpenError is not caught: CircuitBreakerMiddleware turns it into a 503.
    try:
        with clients.rates_client() as client:
            response = client.get(f"/rates/{base}")
    except httpx.TimeoutException as exc:
        context["error"], status = f"The rates service timed out: {_reason(exc)}", 504
    except httpx.TransportError as exc:
        context["error"], status = f"The rates service is unreachable: {_reason(exc)}", 502
    else:
        if response.is_success:
            context["rates"] = sorted(response.json()["rates"].items())
        else:
            context["error"], status = (
                f"The rates service returned HTTP {response.status_code}.",
                502,
            )
    context["snapshots"] = snapshots([RATES])
    return render(request, "demo/rates.html", context, status=status)


@require_http_methods(["GET", "POST"])
def control(request):
    """Show and change the upstream's error rate, latency and outage."""
    if request.method == "POST":
        return _apply_control(request)
    try:
        form = ConditionsForm.from_conditions(clients.read_conditions())
        upstream_error = None
    except requests.RequestException as exc:
        form, upstream_error = ConditionsForm(), f"The upstream is not reachable: {_reason(exc)}"
    context = {
        "form": form,
        "upstream_error": upstream_error,
        "snapshots": snapshots(DEMO_BREAKERS),
    }
    return render(request, "demo/control.html", context)


def _apply_control(request):
    action = request.POST.get("action")
    if action == "break":
        changes = BREAK
    elif action == "heal":
        changes = HEAL
    else:
        form = ConditionsForm(request.POST)
        if not form.is_valid():
            context = {"form": form, "upstream_error": None, "snapshots": snapshots(DEMO_BREAKERS)}
            return render(request, "demo/control.html", context, status=400)
        changes = form.to_conditions()
    try:
        now = clients.change_conditions(changes)
    except requests.RequestException as exc:
        messages.error(request, f"The upstream did not accept the change: {_reason(exc)}")
    else:
        messages.success(request, _describe(now))
    return redirect("demo:control")


def state(request):
    """Return the demo breakers' live state as JSON, for the traffic command."""
    data = {
        snapshot.name: {
            "state": str(snapshot.state),
            "held": snapshot.held,
            "failure_count": snapshot.failure_count,
            "retry_after": snapshot.retry_after,
            "available": snapshot.available,
        }
        for snapshot in snapshots(DEMO_BREAKERS)
    }
    return JsonResponse(data)


def _choice(value, options):
    return value if value in options else options[0]


def _reason(exc):
    return type(exc).__name__


def _retry_text(exc):
    if exc.retry_after is None:
        return "held open by an operator"
    return f"retry in {math.ceil(exc.retry_after)} s"


def _describe(conditions):
    return (
        f"Upstream now fails {conditions['error_rate']:.0%} of requests, "
        f"adds {conditions['latency'] * 1000:.0f} ms"
        + (", and is in an outage." if conditions["outage"] else ", with no outage.")
    )
