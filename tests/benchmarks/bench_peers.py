"""Compare guarded-call speed and round trips with pybreaker, both on one real Redis server.

Run: .venv/bin/python -m tests.benchmarks.bench_peers [--calls N] [--latency-ms MS]
(needs the bench extra: pip install -e '.[bench]'). It prints calls per
second and Redis round trips per call for each library and the ratio
between them. ``--latency-ms`` routes both libraries through a local proxy
that delays each packet, to show how round trips weigh across a network.
Nothing here is a pass/fail test.
"""

import argparse
import time
import uuid

import django
from django.conf import settings

from tests.benchmarks.latency_proxy import LatencyProxy


def configure(redis_url):
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "circuitbreaker_app"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": f"bench-{uuid.uuid4().hex[:6]}",
            }
        },
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class RoundTrips:
    """Count packed sends on redis-py connections: one per round trip."""

    def __init__(self):
        import redis.connection

        self.count = 0
        cls = redis.connection.AbstractConnection
        original = cls.send_packed_command

        def counting(conn, command, check_health=True):
            self.count += 1
            return original(conn, command, check_health)

        cls.send_packed_command = counting


ROUNDS = 5


def measure(label, func, calls, trips):
    """Time ``calls`` calls in each of ROUNDS rounds and keep the fastest, to damp noise."""
    func()
    best = 0.0
    trips.count = 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(calls):
            func()
        best = max(best, calls / (time.perf_counter() - started))
    return {"label": label, "rate": best, "trips": trips.count / (calls * ROUNDS)}


def ours(name):
    from circuitbreaker_app import get_breaker

    breaker = get_breaker(name, failure_threshold=10**9, trip_policy="count")
    return breaker.call


def peer(redis_url, name):
    import pybreaker
    import redis

    client = redis.Redis.from_url(redis_url)
    storage = pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, client, namespace=name)
    breaker = pybreaker.CircuitBreaker(fail_max=10**9, state_storage=storage)
    return breaker.call


def failing():
    raise RuntimeError("down")


def call_swallowing(call):
    def run():
        try:
            call(failing)
        except RuntimeError:
            pass

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="guarded calls per round")
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay added to each packet, each way"
    )
    args = parser.parse_args()
    port = args.redis_port
    if args.latency_ms > 0:
        proxy = LatencyProxy(args.redis_host, port, args.latency_ms / 1000).start()
        port = proxy.port
    args.redis_url = f"redis://{args.redis_host}:{port}/14"
    print(f"Redis at {args.redis_url}, {args.latency_ms} ms added each way, {args.calls} calls")
    configure(args.redis_url)
    trips = RoundTrips()

    our_call = ours(f"bench-{uuid.uuid4().hex[:6]}")
    peer_call = peer(args.redis_url, f"bench-{uuid.uuid4().hex[:6]}")
    cases = [
        ("success", lambda call: lambda: call(int)),
        ("failure", call_swallowing),
    ]
    print(f"{'case':<10}{'library':<20}{'calls/s':>10}{'trips/call':>12}{'speed ratio':>13}")
    for case, make in cases:
        mine = measure("circuitbreaker_app", make(our_call), args.calls, trips)
        theirs = measure("pybreaker", make(peer_call), args.calls, trips)
        for row in (mine, theirs):
            ratio = row["rate"] / theirs["rate"]
            print(
                f"{case:<10}{row['label']:<20}{row['rate']:>10.0f}{row['trips']:>12.2f}{ratio:>12.2f}x"
            )


if __name__ == "__main__":
    main()
