"""CircuitBreakerMiddleware: an uncaught CircuitOpenError becomes a 503 response."""

import datetime as dt

import pytest
from django.http import HttpResponse
from django.urls import path

from circuitbreaker_app import CircuitOpenError

MIDDLEWARE = "circuitbreaker_app.middleware.CircuitBreakerMiddleware"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

pytestmark = pytest.mark.urls(__name__)


def open_view(request):
    raise CircuitOpenError("payments-api", float(request.GET.get("retry", "2.1")))


def held_view(request):
    raise CircuitOpenError("payments-api", None)


def broken_view(request):
    raise ValueError("not a breaker problem")


async def async_open_view(request):
    raise CircuitOpenError("payments-api", 0.4)


def breaker_view(request):
    from circuitbreaker_app import get_breaker

    return HttpResponse(get_breaker("payments-api").call(lambda: "paid"))


urlpatterns = [
    path("open/", open_view),
    path("held/", held_view),
    path("broken/", broken_view),
    path("async-open/", async_open_view),
    path("pay/", breaker_view),
]


@pytest.fixture(autouse=True)
def middleware(settings):
    if MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


def test_open_breaker_gives_503_html(client):
    response = client.get("/open/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"Try again in 3 seconds." in response.content


def test_retry_after_rounds_up(client):
    assert client.get("/open/?retry=2.1")["Retry-After"] == "3"
    assert client.get("/open/?retry=5")["Retry-After"] == "5"
    assert client.get("/open/?retry=0.001")["Retry-After"] == "1"
    assert client.get("/open/?retry=0")["Retry-After"] == "0"


def test_held_open_omits_retry_after(client):
    response = client.get("/held/")
    assert response.status_code == 503
    assert "Retry-After" not in response
    assert b"Try again later." in response.content


def test_response_varies_and_is_not_cached(client):
    response = client.get("/open/")
    assert "Accept" in response["Vary"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/json, text/plain, */*",
        "text/html;q=0.5, application/json",
        "application/*",
    ],
)
def test_json_when_ranked_above_html(client, accept):
    response = client.get("/open/", headers={"Accept": accept})
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["retry_after"] == 3
    assert response.json()["error"] == "service_unavailable"


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        BROWSER_ACCEPT,
        "application/json, text/html",
        "text/html, application/json;q=0.9",
        "text/plain",
    ],
)
def test_html_unless_json_ranked_above(client, accept):
    headers = {} if accept is None else {"Accept": accept}
    response = client.get("/open/", headers=headers)
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")


def test_held_open_json_has_null_retry(client):
    response = client.get("/held/", headers={"Accept": "application/json"})
    assert response.json()["retry_after"] is None


def test_other_exceptions_pass_through(client):
    with pytest.raises(ValueError, match="not a breaker problem"):
        client.get("/broken/")


async def test_async_view_gives_503(async_client):
    response = await async_client.get("/async-open/")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"


def test_template_can_be_overridden(client, settings, tmp_path):
    folder = tmp_path / "circuitbreaker_app"
    folder.mkdir()
    (folder / "503.html").write_text("down: {{ breaker_name }} {{ retry_after }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    response = client.get("/open/")
    assert response.content == b"down: payments-api 3"


def test_real_open_breaker_gives_503(client, make_breaker):
    breaker = make_breaker("payments-api", retry_duration=dt.timedelta(seconds=30))
    assert client.get("/pay/").content == b"paid"
    breaker.force_open(hold=False)
    response = client.get("/pay/")
    assert response.status_code == 503
    assert 29 <= int(response["Retry-After"]) <= 30


def test_real_held_breaker_omits_retry_after(client, make_breaker):
    breaker = make_breaker("payments-api")
    breaker.force_open(hold=True)
    response = client.get("/pay/")
    assert response.status_code == 503
    assert "Retry-After" not in response
