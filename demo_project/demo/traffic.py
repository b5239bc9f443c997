"""Steady requests to the demo pages, with a running count of response statuses."""

import itertools
import math
import time
from collections import Counter

import requests

from .upstream import CITIES, CURRENCIES

STATE_PATH = "/state.json"
STATE_LABELS = {"closed": "closed", "open": "open", "half_open": "half-open"}


def demo_paths():
    """Cycle through the demo pages, one city or currency after another."""
    weather = [f"/weather/?city={city}" for city in CITIES]
    rates = [f"/rates/?base={base}" for base in CURRENCIES]
    # Alternate the two pages so every breaker gets steady traffic.
    return itertools.cycle([path for pair in zip(weather, rates, strict=True) for path in pair])


class Traffic:
    """Send requests to a demo site and count how they ended.

    A connection error or timeout is counted as ``error``, so the run goes on
    while the site restarts.
    """

    def __init__(self, base_url, timeout=10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.paths = demo_paths()
        self.sent = 0
        self.statuses = Counter()

    def send_one(self):
        """Request the next demo page and count its status."""
        self.sent += 1
        try:
            response = self.session.get(self.base_url + next(self.paths), timeout=self.timeout)
        except requests.RequestException:
            self.statuses["error"] += 1
            return
        self.statuses[str(response.status_code)] += 1

    def breaker_states(self):
        """Return the site's breaker states as text, or why they could not be read."""
        try:
            response = self.session.get(self.base_url + STATE_PATH, timeout=self.timeout)
            response.raise_for_status()
            states = response.json()
        except (requests.RequestException, ValueError) as exc:
            return f"breaker states unavailable ({type(exc).__name__})"
        return ", ".join(describe_state(name, state) for name, state in sorted(states.items()))

    def progress_line(self):
        """Summarize the requests so far and the breakers' states in one line."""
        counts = " ".join(f"{status}:{count}" for status, count in sorted(self.statuses.items()))
        return f"requests {self.sent} | {counts or 'none yet'} | {self.breaker_states()}"


def describe_state(name, state):
    text = f"{name} {STATE_LABELS.get(state['state'], state['state'])}"
    if state.get("held"):
        return text + " (held)"
    if state.get("retry_after") is not None:
        return text + f" (retry in {math.ceil(state['retry_after'])} s)"
    return text


def run(traffic, rate, duration=None, count=None, interval=2.0, report=print):
    """Send ``rate`` requests a second until ``duration`` seconds or ``count`` requests.

    With neither bound it runs until interrupted. ``report`` receives a
    progress line every ``interval`` seconds and once at the end.
    """
    started = time.monotonic()
    next_report = started + interval
    while not _finished(traffic, started, duration, count):
        traffic.send_one()
        if time.monotonic() >= next_report:
            report(traffic.progress_line())
            next_report = time.monotonic() + interval
        # Pace by the schedule, not by a fixed sleep, so slow pages do not add up.
        delay = started + traffic.sent / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    report(traffic.progress_line())


def _finished(traffic, started, duration, count):
    if count is not None and traffic.sent >= count:
        return True
    return duration is not None and time.monotonic() - started >= duration
