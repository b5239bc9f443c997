"""A flaky upstream HTTP service for the demo: a WSGI app run in its own process.

Run it with ``python -m demo_project.demo.upstream --port 8001``. It binds to
127.0.0.1 only. ``GET /control`` returns the current error rate, latency
and outage flag as JSON; ``POST /control`` (JSON or form fields) changes
them. The data endpoints, ``/weather/<city>``, ``/forecast/<city>`` and
``/rates/<base>``, obey those conditions: during an outage they respond with
503 at once, otherwise they wait ``latency`` seconds and fail with 500 at
``error_rate``.
"""

import argparse
import json
import logging
import random
import signal
import sys
import threading
import time
import zlib
from dataclasses import asdict, dataclass
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

logger = logging.getLogger("demo.upstream")

CITIES = ("Lisbon", "Oslo", "Nairobi", "Lima", "Osaka")
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF")
# Value of one unit in euros, roughly; the upstream adds a little noise.
EURO_VALUE = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17, "JPY": 0.0061, "CHF": 1.05}
CONDITIONS = ("clear", "cloudy", "rain", "wind", "fog")
MAX_LATENCY = 30.0


@dataclass
class Conditions:
    """The failure settings the data endpoints obey, changed through /control."""

    error_rate: float = 0.0
    latency: float = 0.0
    outage: bool = False


class ConditionStore:
    """Thread-safe holder of the current Conditions."""

    def __init__(self, conditions):
        self._conditions = conditions
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            return Conditions(**asdict(self._conditions))

    def update(self, changes):
        """Apply validated changes and return the new Conditions; raise ValueError on bad input."""
        values = parse_conditions(changes, self.get())
        with self._lock:
            self._conditions = values
        logger.info("Upstream conditions changed: %s", asdict(values))
        return values


def parse_conditions(changes, current):
    """Merge the fields present in ``changes`` into ``current``, checking each range."""
    values = asdict(current)
    if "error_rate" in changes:
        values["error_rate"] = _number(changes["error_rate"], "error_rate", 0.0, 1.0)
    if "latency" in changes:
        values["latency"] = _number(changes["latency"], "latency", 0.0, MAX_LATENCY)
    if "outage" in changes:
        values["outage"] = _flag(changes["outage"])
    return Conditions(**values)


def _number(raw, name, low, high):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}; got {value:g}")
    return value


def _flag(raw):
    if isinstance(raw, bool):
        return raw
    return str(raw).lower() in ("1", "true", "on", "yes")


# Data, made up but stable per city and currency


def weather(city):
    seed = zlib.crc32(city.encode())
    drift = random.uniform(-0.5, 0.5)
    return {
        "city": city,
        "temperature_c": round(5 + seed % 25 + drift, 1),
        "conditions": CONDITIONS[seed % len(CONDITIONS)],
    }


def forecast(city):
    seed = zlib.crc32(city.encode())
    days = []
    for day in range(1, 4):
        days.append(
            {
                "day": day,
                "high_c": 8 + (seed + day * 7) % 22,
                "conditions": CONDITIONS[(seed + day) % len(CONDITIONS)],
            }
        )
    return {"city": city, "days": days}


def rates(base):
    noise = {code: random.uniform(0.995, 1.005) for code in CURRENCIES}
    table = {
        code: round(EURO_VALUE[base] / EURO_VALUE[code] * noise[code], 4)
        for code in CURRENCIES
        if code != base
    }
    return {"base": base, "rates": table}


# The WSGI application


class UpstreamApp:
    """Route requests to the control endpoint or to the flaky data endpoints."""

    def __init__(self, store):
        self.store = store

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        parts = environ.get("PATH_INFO", "/").strip("/").split("/")
        if parts == ["control"]:
            status, body = self.control(method, environ)
        elif method != "GET":
            status, body = "405 Method Not Allowed", {"error": "only GET is allowed here"}
        else:
            status, body = self.data(parts)
        return _json(start_response, status, body)

    def control(self, method, environ):
        if method == "GET":
            return "200 OK", asdict(self.store.get())
        if method != "POST":
            return "405 Method Not Allowed", {"error": "use GET or POST"}
        try:
            changes = _read_body(environ)
            return "200 OK", asdict(self.store.update(changes))
        except ValueError as exc:
            return "400 Bad Request", {"error": str(exc)}

    def data(self, parts):
        found = _lookup(parts)
        if found is None:
            return "404 Not Found", {"error": "no such resource"}
        conditions = self.store.get()
        if conditions.outage:
            return "503 Service Unavailable", {"error": "outage"}
        time.sleep(conditions.latency)
        if random.random() < conditions.error_rate:
            return "500 Internal Server Error", {"error": "random failure"}
        return "200 OK", found()


def _lookup(parts):
    if len(parts) != 2:
        return None
    kind, key = parts
    if kind == "weather" and key in CITIES:
        return lambda: weather(key)
    if kind == "forecast" and key in CITIES:
        return lambda: forecast(key)
    if kind == "rates" and key in CURRENCIES:
        return lambda: rates(key)
    return None


def _read_body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ValueError("invalid Content-Length") from None
    raw = environ["wsgi.input"].read(length).decode("utf-8", "replace")
    if environ.get("CONTENT_TYPE", "").startswith("application/json"):
        try:
            changes = json.loads(raw or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from None
        if not isinstance(changes, dict):
            raise ValueError("the JSON body must be an object")
        return changes
    return dict(parse_qsl(raw))


def _json(start_response, status, body):
    payload = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    start_response(status, headers)
    return [payload]


# The server


class ThreadingServer(ThreadingMixIn, WSGIServer):
    # Slow responses must not hold up the control endpoint.
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        # One line per request would flood the demo's terminal.
        pass


def serve(port, conditions):
    """Start the server on 127.0.0.1 and return it; ``port`` 0 picks a free port."""
    app = UpstreamApp(ConditionStore(conditions))
    return make_server(
        "127.0.0.1", port, app, server_class=ThreadingServer, handler_class=QuietHandler
    )


def main(argv=None):
    """Run the upstream until interrupted."""
    parser = argparse.ArgumentParser(description="Run the demo's flaky upstream on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8001, help="TCP port; 0 picks a free one.")
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="Share of requests failing with 500, 0 to 1."
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="Seconds added to each data response."
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    try:
        conditions = parse_conditions(
            {"error_rate": args.error_rate, "latency": args.latency}, Conditions()
        )
    except ValueError as exc:
        parser.error(str(exc))
    server = serve(args.port, conditions)
    # SIGTERM (sent by scripts/demo.sh on exit) unwinds like Ctrl-C, so the socket closes.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    # Tests and scripts read the port from this line, so it is printed as soon as it is bound.
    print(f"Upstream listening on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        logger.info("Upstream stopped")


if __name__ == "__main__":
    main()
