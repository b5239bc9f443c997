"""The requests adapter and the httpx transports against a real local HTTP server."""

import subprocess
import sys

import httpx
import pytest
import requests
from asgiref.sync import sync_to_async
from django.conf import settings

from circuitbreaker_app import CircuitOpenError, State, get_breaker
from circuitbreaker_app.contrib import name_per_host
from circuitbreaker_app.contrib.httpx import AsyncBreakerTransport, BreakerTransport
from circuitbreaker_app.contrib.requests import BreakerAdapter
from tests.factories import CircuitBreakerFactory
from tests.http_server import start_server, stop_server

DEAD_URL = f"http://127.0.0.1:{settings.DEAD_PORT}"


@pytest.fixture(scope="module")
def running_server():
    server = start_server()
    yield server
    stop_server(server)


@pytest.fixture
def server(running_server):
    running_server.hits.clear()
    return running_server


@pytest.fixture
def breaker(make_breaker):
    return make_breaker("inventory-api", failure_threshold=2)


def requests_session(**adapter_kwargs):
    session = requests.Session()
    session.mount(
        "http://", BreakerAdapter(adapter_kwargs.pop("name", "inventory-api"), **adapter_kwargs)
    )
    return session


# requests


def test_adapter_passes_success_through(server, breaker):
    response = requests_session().get(server.url + "/ok")
    assert response.status_code == 200
    assert response.text == "status 200"
    assert breaker.snapshot().failure_count == 0


def test_adapter_counts_5xx_and_returns_it(server, breaker):
    response = requests_session().get(server.url + "/status/503")
    assert response.status_code == 503
    assert breaker.snapshot().failure_count == 1


def test_adapter_counts_404_as_success(server, breaker):
    session = requests_session()
    session.get(server.url + "/status/500")
    response = session.get(server.url + "/status/404")
    assert response.status_code == 404
    assert breaker.snapshot().failure_count == 0


def test_adapter_open_rejects_before_sending(server, breaker):
    session = requests_session()
    session.get(server.url + "/status/500")
    session.get(server.url + "/status/500")
    assert breaker.state == State.OPEN
    with pytest.raises(CircuitOpenError) as info:
        session.get(server.url + "/ok")
    assert info.value.breaker_name == "inventory-api"
    assert server.hits == ["/status/500", "/status/500"]


def test_adapter_counts_timeouts(server, breaker):
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests_session().get(server.url + "/slow/0.3", timeout=0.05)
    assert breaker.snapshot().failure_count == 1


def test_adapter_counts_refused_connections(breaker):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests_session().get(DEAD_URL + "/ok", timeout=1)
    assert breaker.snapshot().failure_count == 1


def test_adapter_429_is_success_by_default(server, breaker):
    response = requests_session().get(server.url + "/status/429")
    assert response.status_code == 429
    assert breaker.snapshot().failure_count == 0


def test_adapter_429_counts_when_configured(server, breaker):
    statuses = [429, *range(500, 600)]
    response = requests_session(failure_statuses=statuses).get(server.url + "/status/429")
    assert response.status_code == 429
    assert breaker.snapshot().failure_count == 1


def test_adapter_skip_counts_neither_way(breaker):
    session = requests_session(skip=requests.exceptions.ConnectionError)
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(DEAD_URL + "/ok", timeout=1)
    assert breaker.snapshot().failure_count == 0


def test_adapter_names_breaker_per_host(server, make_breaker):
    port = server.server_address[1]
    breaker = make_breaker(f"api-127-0-0-1-{port}", failure_threshold=5)
    response = requests_session(name=name_per_host("api-")).get(server.url + "/status/502")
    assert response.status_code == 502
    assert breaker.snapshot().failure_count == 1


def test_adapter_rejects_non_int_statuses():
    with pytest.raises(TypeError, match="failure_statuses"):
        BreakerAdapter("inventory-api", failure_statuses=["500"])


@pytest.mark.parametrize(("path", "expected"), [("/ok", 1), ("/status/500", 2)])
def test_adapter_redis_round_trips(server, db, round_trips, settings, path, expected):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    CircuitBreakerFactory(name="inventory-api", trip_policy="count", failure_threshold=5)
    session = requests_session()
    session.get(server.url + "/ok")  # loads the row and the Lua script
    round_trips["count"] = 0
    session.get(server.url + path)
    assert round_trips["count"] == expected


# httpx, synchronous


def httpx_client(**transport_kwargs):
    name = transport_kwargs.pop("name", "inventory-api")
    return httpx.Client(transport=BreakerTransport(name, **transport_kwargs))


def test_transport_counts_5xx_and_returns_it(server, breaker):
    with httpx_client() as client:
        response = client.get(server.url + "/status/500")
    assert response.status_code == 500
    assert response.text == "status 500"
    assert breaker.snapshot().failure_count == 1


def test_transport_open_rejects_before_sending(server, breaker):
    with httpx_client() as client:
        client.get(server.url + "/status/500")
        client.get(server.url + "/status/500")
        with pytest.raises(CircuitOpenError):
            client.get(server.url + "/ok")
    assert server.hits == ["/status/500", "/status/500"]


def test_transport_counts_timeouts(server, breaker):
    with httpx_client() as client, pytest.raises(httpx.ReadTimeout):
        client.get(server.url + "/slow/0.3", timeout=0.05)
    assert breaker.snapshot().failure_count == 1


def test_transport_counts_refused_connections(breaker):
    with httpx_client() as client, pytest.raises(httpx.ConnectError):
        client.get(DEAD_URL + "/ok", timeout=1)
    assert breaker.snapshot().failure_count == 1


def test_transport_429_on_and_off(server, breaker):
    with httpx_client() as client:
        client.get(server.url + "/status/429")
    assert breaker.snapshot().failure_count == 0
    with httpx_client(failure_statuses=[429]) as client:
        client.get(server.url + "/status/429")
    assert breaker.snapshot().failure_count == 1


def test_transport_success_closes_half_open(server, breaker):
    breaker.force_half_open()
    with httpx_client() as client:
        assert client.get(server.url + "/ok").status_code == 200
    assert breaker.state == State.CLOSED


def test_transport_wraps_given_transport(server, breaker):
    inner = httpx.HTTPTransport(retries=0)
    with httpx_client(transport=inner) as client:
        client.get(server.url + "/status/500")
    assert breaker.snapshot().failure_count == 1


def test_integrations_not_imported_by_app():
    code = (
        "import sys\n"
        "from django.conf import settings\n"
        "settings.configure(INSTALLED_APPS=['circuitbreaker_app'])\n"
        "import django\n"
        "django.setup()\n"
        "import circuitbreaker_app.contrib, circuitbreaker_app.middleware\n"
        "from circuitbreaker_app import circuit_breaker, get_breaker\n"
        "print(sorted({'requests', 'httpx'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# httpx, asynchronous: the breaker's database steps run in other threads, so
# rows must be committed.


@pytest.fixture
def committed_breaker(transactional_db, alias):
    CircuitBreakerFactory(name="inventory-api", failure_threshold=2)
    return get_breaker("inventory-api")


async def async_get(url, **kwargs):
    transport = AsyncBreakerTransport("inventory-api", **kwargs.pop("transport_kwargs", {}))
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.get(url, **kwargs)


async def test_async_transport_counts_5xx(server, committed_breaker):
    response = await async_get(server.url + "/status/500")
    assert response.status_code == 500
    snapshot = await sync_to_async(committed_breaker.snapshot)()
    assert snapshot.failure_count == 1


async def test_async_transport_open_rejects(server, committed_breaker):
    await async_get(server.url + "/status/500")
    await async_get(server.url + "/status/500")
    with pytest.raises(CircuitOpenError):
        await async_get(server.url + "/ok")
    assert server.hits == ["/status/500", "/status/500"]


async def test_async_transport_counts_timeouts(server, committed_breaker):
    with pytest.raises(httpx.ReadTimeout):
        await async_get(server.url + "/slow/0.3", timeout=0.05)
    snapshot = await sync_to_async(committed_breaker.snapshot)()
    assert snapshot.failure_count == 1


async def test_async_transport_counts_refused(committed_breaker):
    with pytest.raises(httpx.ConnectError):
        await async_get(DEAD_URL + "/ok", timeout=1)
    snapshot = await sync_to_async(committed_breaker.snapshot)()
    assert snapshot.failure_count == 1


async def test_async_transport_429_configured(server, committed_breaker):
    await async_get(server.url + "/status/429")
    await async_get(server.url + "/status/429", transport_kwargs={"failure_statuses": [429]})
    snapshot = await sync_to_async(committed_breaker.snapshot)()
    assert snapshot.failure_count == 1
