"""A real Chromium watches a breaker trip live on the changelist, then an operator closes it.

Playwright's Python client drives Debian's chromium package (/usr/bin/chromium).
Outside CI the test is skipped when that binary is missing; under CI=true it
fails instead. With UPDATE_SCREENSHOTS=1 it rewrites the screenshots under
docs/images/ that the docs show; otherwise it saves them in a temporary folder.
"""

import multiprocessing
import os
import shutil
from pathlib import Path

import pytest
from django.db import connection

from circuitbreaker_app import get_breaker
from tests import workers
from tests.admin_support import make_user, record_failures, record_successes
from tests.factories import CircuitBreakerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
SPAWN = multiprocessing.get_context("spawn")
# Live updates poll every 3 s; allow a few polls.
LIVE_TIMEOUT_MS = 15_000


@pytest.fixture
def browser_page(monkeypatch):
    """Yield a Playwright page in headless Chromium, sized for the screenshots."""
    if not shutil.which(CHROMIUM):
        message = f"{CHROMIUM} is missing; install Debian's chromium package"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright import sync_api

    # Playwright's sync API runs an event loop in this thread, and Django raises
    # SynchronousOnlyOperation for ORM calls from such a thread unless this is set.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 720})
        yield page
        browser.close()


def seed_breakers():
    """Create breakers in every state, so the screenshots show each badge."""
    CircuitBreakerFactory(
        name="payments-api",
        description="Card payments gateway",
        failure_threshold=3,
        retry_duration="00:01:00",
        max_retry_duration="00:05:00",
    )
    CircuitBreakerFactory(name="search", description="Product search cluster", trip_policy="rate")
    CircuitBreakerFactory(name="inventory-api", description="Stock levels per warehouse")
    CircuitBreakerFactory(name="geo-api", description="Address lookup")
    CircuitBreakerFactory(
        name="email-gateway", description="Transactional email", failure_threshold=2
    )
    record_successes("payments-api", 12)
    record_successes("search", 9)
    record_failures("search", 3, message="ReadTimeout: search-3:9200 timed out after 2.0 s")
    get_breaker("inventory-api").force_closed(hold=True, reason="vendor maintenance")
    get_breaker("geo-api").force_half_open(reason="probing after deploy")
    record_failures(
        "email-gateway", 2, message="SMTPServerDisconnected: Connection unexpectedly closed"
    )


def trip_in_another_process(name, count):
    """Record failures from a spawned process that shares the test database and Redis."""
    # The barrier must outlive the child's start, so it is kept in a variable.
    barrier = SPAWN.Barrier(1)
    process = SPAWN.Process(
        target=workers.record_failures,
        args=(connection.settings_dict["NAME"], name, 1, count, barrier),
    )
    process.start()
    process.join(60)
    assert process.exitcode == 0


def log_in(page, base_url):
    make_user("superuser", username="operator")
    page.goto(f"{base_url}/admin/login/?next=/admin/circuitbreaker_app/circuitbreaker/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    # A narrower page hides the last error column, so the screenshots collapse the sidebar.
    page.click("#toggle-nav-sidebar")


def badge(page, name):
    return page.locator(f'[data-cb-name="{name}"][data-cb-field="state"]').first


@pytest.fixture
def images(tmp_path):
    """Return where screenshots go: docs/images/ with UPDATE_SCREENSHOTS=1, else a temp folder."""
    folder = DOCS_IMAGES if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_operator_watches_trip_and_closes(browser_page, live_server, images):
    from playwright.sync_api import expect

    page = browser_page
    seed_breakers()
    log_in(page, live_server.url)
    expect(badge(page, "payments-api")).to_have_text("closed")
    page.evaluate("window.cbNotReloaded = true")

    trip_in_another_process("payments-api", 3)

    expect(badge(page, "payments-api")).to_have_text("open", timeout=LIVE_TIMEOUT_MS)
    expect(badge(page, "payments-api")).to_have_attribute("data-state", "open")
    expect(page.locator("[data-cb-warning]")).to_be_hidden()
    expect(page.locator("[data-cb-summary]")).to_have_text(
        "2 open · 1 half-open · 2 closed · 1 held"
    )
    assert page.evaluate("window.cbNotReloaded") is True
    page.screenshot(path=images / "changelist.png")

    page.click("text=payments-api")
    expect(badge(page, "payments-api")).to_have_text("open")
    page.screenshot(
        path=images / "change_page.png",
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1440, "height": 1000},
    )

    page.click('[data-cb-force="force_close"]')
    page.fill("textarea[name=reason]", "Gateway recovered after failover")
    page.click("input[type=submit][value='Yes, I’m sure']")

    expect(page.locator(".messagelist")).to_contain_text(
        "Close (reset counters): done for 1 breaker"
    )
    expect(badge(page, "payments-api")).to_have_text("closed")
    events = page.locator(".cb-events tbody tr").first
    expect(events).to_contain_text("Gateway recovered after failover")
    expect(events).to_contain_text("operator")
    expect(events).to_contain_text("forced by an operator")
