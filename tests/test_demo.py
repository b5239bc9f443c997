"""The demo end to end: a real flaky upstream process, the demo pages, and the one-command script."""

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth import authenticate
from django.core.management import call_command

from circuitbreaker_app import State, get_breaker
from circuitbreaker_app.models import CircuitBreaker
from demo_project.demo.breakers import FORECAST, RATES, WEATHER

ROOT = Path(__file__).resolve().parent.parent
RATES_RETRY = 10  # seconds, as demo_setup configures demo-rates


def start_upstream():
    """Start the upstream on a free port and return the process and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "demo_project.demo.upstream", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert match, f"the upstream printed {line!r} instead of its URL"
    return process, match.group(0)


@pytest.fixture(scope="module")
def upstream_process():
    process, url = start_upstream()
    yield url
    process.terminate()
    process.wait(timeout=5)
    process.stdout.close()


@pytest.fixture
def upstream(upstream_process, settings):
    """Point the demo at a healthy upstream, with a short client timeout."""
    requests.post(upstream_process + "/control", data={"error_rate": 0, "latency": 0, "outage": 0})
    settings.DEMO_UPSTREAM_URL = upstream_process
    settings.DEMO_UPSTREAM_TIMEOUT = 0.2
    return upstream_process


@pytest.fixture
def demo_breakers(db, alias):
    call_command("demo_setup", "--no-superuser", stdout=io.StringIO())


def conditions(upstream):
    return requests.get(upstream + "/control").json()


def break_upstream(client):
    response = client.post("/control/", {"action": "break"})
    assert response.status_code == 302


def heal_upstream(client):
    response = client.post("/control/", {"action": "heal"})
    assert response.status_code == 302


# Pages


def test_weather_page_shows_result(client, upstream, demo_breakers):
    response = client.get("/weather/?city=Oslo")
    assert response.status_code == 200
    assert response.context["current"]["city"] == "Oslo"
    assert len(response.context["forecast"]["days"]) == 3
    assert b"demo-weather" in response.content


def test_weather_falls_back_when_open(client, upstream, demo_breakers):
    fresh = client.get("/weather/?city=Lima").context["current"]
    break_upstream(client)
    # The forecast breaker trips on the fourth failure, so the fifth request is rejected.
    for _ in range(5):
        response = client.get("/weather/?city=Lima")
    assert get_breaker(WEATHER).state == State.OPEN
    assert get_breaker(FORECAST).state == State.OPEN
    assert response.status_code == 200
    assert response.context["current"]["temperature_c"] == fresh["temperature_c"]
    assert response.context["current"]["stale"] is True
    assert b"Forecast paused: its breaker is open" in response.content


def test_rates_page_503_then_recovers(client, upstream, demo_breakers, advance):
    assert client.get("/rates/?base=USD").status_code == 200
    break_upstream(client)
    statuses = [client.get("/rates/?base=USD").status_code for _ in range(5)]
    assert statuses == [502] * 5
    assert get_breaker(RATES).state == State.OPEN

    rejected = client.get("/rates/?base=USD")
    assert rejected.status_code == 503
    assert 0 < int(rejected["Retry-After"]) <= RATES_RETRY

    heal_upstream(client)
    assert client.get("/rates/?base=USD").status_code == 503
    advance(RATES_RETRY)
    recovered = client.get("/rates/?base=USD")
    assert recovered.status_code == 200
    assert "GBP" in dict(recovered.context["rates"])
    assert get_breaker(RATES).state == State.CLOSED


def test_rates_503_as_json(client, upstream, demo_breakers):
    get_breaker(RATES).force_open(hold=True)
    response = client.get("/rates/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert "Retry-After" not in response
    assert response.json()["error"] == "service_unavailable"


def test_latency_counts_as_timeout(client, upstream, demo_breakers):
    response = client.post(
        "/control/", {"action": "apply", "error_rate": 0, "latency_ms": 500, "outage": ""}
    )
    assert response.status_code == 302
    response = client.get("/rates/")
    assert response.status_code == 504
    assert get_breaker(RATES).snapshot().failure_count == 1


def test_control_page_changes_upstream(client, upstream, demo_breakers):
    response = client.post(
        "/control/", {"action": "apply", "error_rate": 100, "latency_ms": 20, "outage": "on"}
    )
    assert response.status_code == 302
    assert conditions(upstream) == {"error_rate": 1.0, "latency": 0.02, "outage": True}
    page = client.get("/control/")
    assert page.context["form"].initial == {"error_rate": 100, "latency_ms": 20, "outage": True}


def test_control_page_rejects_bad_values(client, upstream, demo_breakers):
    response = client.post("/control/", {"action": "apply", "error_rate": 150, "latency_ms": 0})
    assert response.status_code == 400
    assert conditions(upstream)["error_rate"] == 0.0


def test_control_page_without_upstream(client, settings, demo_breakers):
    settings.DEMO_UPSTREAM_URL = f"http://127.0.0.1:{settings.DEAD_PORT}"
    response = client.get("/control/")
    assert response.status_code == 200
    assert b"The upstream is not reachable" in response.content


def test_upstream_rejects_bad_conditions(upstream):
    response = requests.post(upstream + "/control", json={"error_rate": 2})
    assert response.status_code == 400
    assert "between 0 and 1" in response.json()["error"]


def test_state_feed_lists_breakers(client, upstream, demo_breakers):
    get_breaker(WEATHER).force_open(hold=True)
    data = client.get("/state.json").json()
    assert set(data) == {WEATHER, FORECAST, RATES}
    assert data[WEATHER]["state"] == "open"
    assert data[WEATHER]["held"] is True
    assert data[RATES]["state"] == "closed"


# Commands


def test_demo_setup_prints_random_password(db, capsys):
    call_command("demo_setup")
    first = re.search(r"password: (\S+)", capsys.readouterr().out).group(1)
    call_command("demo_setup")
    second = re.search(r"password: (\S+)", capsys.readouterr().out).group(1)
    assert first != second
    assert len(second) >= 16
    assert authenticate(username="demo", password=second).is_superuser


def test_demo_setup_keeps_edited_breakers(db, capsys):
    call_command("demo_setup", "--no-superuser")
    CircuitBreaker.objects.filter(name=WEATHER).update(failure_threshold=9)
    call_command("demo_setup", "--no-superuser")
    assert CircuitBreaker.objects.get(name=WEATHER).failure_threshold == 9
    assert "demo-weather: already exists" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_traffic_prints_progress(live_server, upstream, alias, capsys):
    call_command("demo_setup", "--no-superuser")
    call_command("demo_traffic", base_url=live_server.url, count=4, rate=100, interval=0.01)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("requests 4 | 200:4 | ")
    assert "demo-weather closed" in lines[-1]
    assert "demo-rates closed" in lines[-1]


def test_traffic_counts_unreachable_site(settings, capsys):
    call_command(
        "demo_traffic", base_url=f"http://127.0.0.1:{settings.DEAD_PORT}", count=2, rate=100
    )
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("requests 2 | error:2 | breaker states unavailable")


# The one-command demo


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_pids(pid):
    """Return the PIDs of all descendants of a process, read from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def wait_for_children(pid, count, timeout=10):
    """Return the process's descendants once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    children = child_pids(pid)
    while len(children) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        children = child_pids(pid)
    return children


def read_until(process, marker, timeout):
    """Collect the script's output lines until one contains ``marker``."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError("the demo script did not start:\n" + "".join(lines))


def admin_login(site, username, password):
    session = requests.Session()
    session.get(site + "/admin/login/")
    response = session.post(
        site + "/admin/login/?next=/admin/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
    )
    return response


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds child processes in /proc")
def test_demo_script_starts_and_stops(tmp_path):
    port, upstream_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL", "DATABASE_URL")
    }
    env.update(
        # Reuse the environment running the tests instead of installing into a new one.
        VENV=sys.prefix,
        DEMO_SKIP_INSTALL="1",
        DEMO_SQLITE_PATH=str(tmp_path / "demo.sqlite3"),
        DEMO_PORT=str(port),
        DEMO_UPSTREAM_PORT=str(upstream_port),
        TMPDIR=str(tmp_path),
    )
    script = subprocess.Popen(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = read_until(script, "Press Ctrl-C", timeout=60)
        site = f"http://127.0.0.1:{port}"
        password = re.search(r"Superuser demo has the password: (\S+)", output).group(1)
        children = wait_for_children(script.pid, count=3)

        assert len(children) == 3
        assert requests.get(site + "/admin/login/").status_code == 200
        weather = requests.get(site + "/weather/")
        assert weather.status_code == 200
        assert "°C" in weather.text
        assert admin_login(site, "demo", password).url == site + "/admin/"
    finally:
        script.send_signal(signal.SIGINT)
        script.wait(timeout=15)
        script.stdout.close()
    assert script.returncode == 130
    assert {pid for pid in children if Path(f"/proc/{pid}").exists()} == set()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEMO_PORT", "abc"),
        ("DEMO_PORT", "0"),
        ("DEMO_PORT", "65536"),
        ("DEMO_UPSTREAM_PORT", "80x"),
        ("DEMO_UPSTREAM_PORT", "-1"),
    ],
)
def test_demo_script_rejects_invalid_port(tmp_path, variable, value):
    # The install step would create this missing venv, and PYTHON=false makes it fail at once.
    venv = tmp_path / "venv"
    env = {**os.environ, variable: value, "VENV": str(venv), "PYTHON": "false"}

    result = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert result.returncode == 1
    assert f'invalid {variable} "{value}": give a port number from 1 to 65535' in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not venv.exists()
