"""The ``breakers`` management command: listing, filters, watch, actions, errors and exit statuses."""

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from circuitbreaker_app import get_breaker
from circuitbreaker_app.management.commands import breakers as command_module
from circuitbreaker_app.models import BreakerEvent, CircuitBreaker
from circuitbreaker_app.reporting import display_width, format_duration
from tests.factories import CircuitBreakerFactory

pytestmark = pytest.mark.django_db

PROJECT_DIR = Path(__file__).resolve().parent.parent

DOCUMENT_KEYS = {
    "name",
    "state",
    "available",
    "held",
    "trip_policy",
    "failure_count",
    "failure_threshold",
    "failure_rate",
    "failure_rate_threshold",
    "call_count",
    "window_seconds",
    "retry_at",
    "retry_after_seconds",
    "opened_at",
    "last_changed_at",
    "last_reason",
    "last_error",
    "generation",
}


class Boom(Exception):
    pass


def run(*args):
    """Run the command in this process and return what it printed on stdout."""
    out = io.StringIO()
    call_command("breakers", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def run_json(*args):
    return json.loads(run("--json", *args))


def by_name(document):
    return {item["name"]: item for item in document}


def fail(breaker, times=1):
    for _ in range(times):
        with pytest.raises(Boom):
            breaker.call(_raise)


def _raise():
    raise Boom("downstream down")


def table_line(output, name):
    return next(line for line in output.splitlines() if line.startswith(name + " "))


@pytest.fixture
def dead_cache(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "dead"


@pytest.fixture
def interrupt_after(monkeypatch):
    """Make the watch loop's sleep raise KeyboardInterrupt on its n-th call, as Ctrl-C would."""

    def limit(frames):
        sleeps = []

        def fake_sleep(seconds):
            sleeps.append(seconds)
            if len(sleeps) >= frames:
                raise KeyboardInterrupt

        monkeypatch.setattr(command_module, "sleep", fake_sleep)
        return sleeps

    return limit


# The table


def test_table_lists_every_breaker(make_breaker):
    make_breaker("payments-api")
    make_breaker("search-cluster")
    output = run()
    lines = output.splitlines()
    assert lines[0].split() == [
        "NAME",
        "STATE",
        "HOLD",
        "FAILURES",
        "WINDOW",
        "HALF-OPEN",
        "IN",
        "LAST",
        "TRANSITION",
    ]
    assert lines[1].startswith("payments-api ")
    assert lines[2].startswith("search-cluster ")
    assert lines[3] == "0 open · 0 half-open · 2 closed"


def test_table_columns_are_aligned(make_breaker):
    make_breaker("a", failure_threshold=3)
    make_breaker("much-longer-name", failure_threshold=3)
    get_breaker("a").force_open(hold=True)
    lines = run().splitlines()[:3]
    for title in ("STATE", "HOLD", "FAILURES"):
        column = lines[0].index(title)
        assert lines[1][column] != " "
        assert lines[2][column] != " "
        assert lines[1][column - 1] == " "
        assert lines[2][column - 1] == " "


def test_table_shows_failures_against_threshold(make_breaker):
    breaker = make_breaker("payments-api", failure_threshold=3)
    fail(breaker, 2)
    line = table_line(run(), "payments-api")
    assert " closed " in line
    assert " 2 / 3 " in line


def test_table_shows_rate_for_rate_policy(make_breaker):
    breaker = make_breaker("payments-api", trip_policy="rate", failure_rate_threshold=60)
    fail(breaker)
    breaker.call(lambda: None)
    line = table_line(run(), "payments-api")
    assert " 50% / 60% " in line


def test_table_shows_window_unless_consecutive(make_breaker):
    make_breaker("counted", trip_policy="count", window=dt.timedelta(seconds=90))
    make_breaker("consecutive", trip_policy="consecutive")
    output = run()
    assert " 1m 30s " in table_line(output, "counted")
    assert " 1m 30s " not in table_line(output, "consecutive")


def test_table_counts_down_to_half_open(make_breaker):
    breaker = make_breaker("payments-api", retry_duration=dt.timedelta(seconds=10))
    breaker.force_open(hold=False)
    line = table_line(run(), "payments-api")
    assert " open " in line
    assert " 10s " in line
    assert line.endswith("0s ago, forced by an operator")


def test_table_without_transition_shows_dash(make_breaker):
    make_breaker("payments-api")
    assert table_line(run(), "payments-api").endswith(" -")


def test_table_marks_held_breaker(make_breaker):
    make_breaker("payments-api").force_open(hold=True)
    make_breaker("search-cluster").force_closed(hold=True)
    output = run()
    assert " held open " in table_line(output, "payments-api")
    assert " held closed " in table_line(output, "search-cluster")


def test_table_labels_half_open(make_breaker):
    make_breaker("payments-api").force_half_open()
    output = run()
    assert " half-open " in table_line(output, "payments-api")
    assert "0 open · 1 half-open · 0 closed" in output


def test_empty_listing_prints_notice(db):
    assert run().strip() == "No breakers to show."


# JSON


def test_json_lists_name_and_stored_state(make_breaker):
    make_breaker("a")
    make_breaker("b").force_open(hold=False)
    make_breaker("c").force_half_open()
    states = {item["name"]: item["state"] for item in run_json()}
    assert states == {"a": "closed", "b": "open", "c": "half_open"}


def test_json_document_keys_are_stable(make_breaker):
    make_breaker("payments-api")
    document = run_json()
    assert isinstance(document, list)
    assert set(document[0]) == DOCUMENT_KEYS


def test_json_values_match_live_state(make_breaker):
    breaker = make_breaker(
        "payments-api", failure_threshold=3, retry_duration=dt.timedelta(seconds=10)
    )
    fail(breaker, 3)
    item = by_name(run_json())["payments-api"]
    assert item["state"] == "open"
    assert item["available"] is True
    assert item["held"] is None
    assert item["failure_count"] == 3
    assert item["failure_threshold"] == 3
    assert item["failure_rate"] is None
    assert item["window_seconds"] == 60.0
    assert 9 < item["retry_after_seconds"] <= 10
    assert dt.datetime.fromisoformat(item["retry_at"]).tzinfo is not None
    assert item["last_reason"] == "failure_threshold"
    assert "downstream down" in item["last_error"]
    assert item["generation"] >= 1


def test_json_reports_failure_rate(make_breaker):
    breaker = make_breaker("payments-api", trip_policy="rate")
    fail(breaker)
    breaker.call(lambda: None)
    item = by_name(run_json())["payments-api"]
    assert item["trip_policy"] == "rate"
    assert item["failure_rate"] == 50.0
    assert item["failure_rate_threshold"] == 50
    assert item["call_count"] == 2


def test_json_reports_hold(make_breaker):
    make_breaker("payments-api").force_open(hold=True)
    item = by_name(run_json())["payments-api"]
    assert item["held"] == "open"
    assert item["state"] == "open"
    assert item["retry_at"] is None
    assert item["retry_after_seconds"] is None


# --state


def test_state_filter_keeps_matching(make_breaker):
    make_breaker("a")
    make_breaker("b").force_open(hold=True)
    assert [item["name"] for item in run_json("--state", "open")] == ["b"]
    assert [item["name"] for item in run_json("--state", "closed")] == ["a"]


def test_state_filter_takes_several(make_breaker):
    make_breaker("a")
    make_breaker("b").force_open(hold=True)
    make_breaker("c").force_half_open()
    assert [item["name"] for item in run_json("--state", "half-open,open")] == ["b", "c"]
    assert [item["name"] for item in run_json("--state", "half_open", "--state", "closed")] == [
        "a",
        "c",
    ]


@pytest.mark.parametrize("value", ["opened", "", "half open", "closed,shut"])
def test_state_filter_rejects_bad_value(db, value):
    with pytest.raises(CommandError) as info:
        run("--state", value)
    assert "Invalid state" in str(info.value)
    assert "closed, open or half_open" in str(info.value)
    assert info.value.returncode == 1


# --fail-if-open


def test_fail_if_open_exits_two(make_breaker):
    make_breaker("a")
    make_breaker("b").force_open(hold=False)
    make_breaker("c").force_open(hold=True)
    with pytest.raises(CommandError) as info:
        run("--fail-if-open")
    assert info.value.returncode == 2
    assert str(info.value) == "2 breakers are open: b, c."


def test_fail_if_open_passes_without_open(make_breaker):
    make_breaker("a")
    make_breaker("b").force_half_open()
    output = run("--fail-if-open")
    assert "0 open · 1 half-open · 1 closed" in output


def test_fail_if_open_checks_listed_only(make_breaker):
    make_breaker("a")
    make_breaker("b").force_open(hold=True)
    assert run_json("--fail-if-open", "--state", "closed")[0]["name"] == "a"


def test_fail_if_open_prints_listing_first(make_breaker):
    make_breaker("b").force_open(hold=True)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("breakers", "--json", "--fail-if-open", stdout=out)
    assert json.loads(out.getvalue())[0]["state"] == "open"


# --watch


def test_watch_redraws_until_interrupted(make_breaker, interrupt_after):
    make_breaker("payments-api")
    sleeps = interrupt_after(3)
    output = run("--watch", "2.5")
    assert sleeps == [2.5, 2.5, 2.5]
    assert output.count("Every 2.5s, at ") == 3
    assert output.count("Press Ctrl-C to stop.") == 3
    assert output.count("payments-api ") == 3
    assert "\x1b[" not in output


def test_watch_interrupted_in_draw_exits_cleanly(make_breaker, monkeypatch):
    make_breaker("payments-api")

    def interrupted(states):
        raise KeyboardInterrupt

    monkeypatch.setattr(command_module.reporting, "read_reports", interrupted)
    assert run("--watch", "1") == "\n"


def test_watch_json_prints_line_per_frame(make_breaker, interrupt_after):
    make_breaker("payments-api")
    interrupt_after(2)
    output = run("--json", "--watch", "1")
    lines = output.splitlines()
    assert len(lines) == 2
    assert output.endswith("}]\n")
    assert json.loads(lines[0])[0]["name"] == "payments-api"
    assert json.loads(lines[1])[0]["state"] == "closed"


def test_watch_json_interrupted_in_draw_prints_nothing(make_breaker, monkeypatch):
    make_breaker("payments-api")

    def interrupted(states):
        raise KeyboardInterrupt

    monkeypatch.setattr(command_module.reporting, "read_reports", interrupted)
    assert run("--json", "--watch", "1") == ""


def test_watch_shows_new_state_each_frame(make_breaker, monkeypatch):
    breaker = make_breaker("payments-api")
    sleeps = []

    def open_then_stop(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 1:
            breaker.force_open(hold=True)
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(command_module, "sleep", open_then_stop)
    lines = run("--json", "--watch", "1").splitlines()
    assert json.loads(lines[0])[0]["state"] == "closed"
    assert json.loads(lines[1])[0]["state"] == "open"


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_watch_rejects_bad_interval(db, value):
    with pytest.raises(CommandError) as info:
        run("--watch", value)
    assert f'Invalid --watch interval "{value}"' in str(info.value)


def test_watch_rejects_fail_if_open(db):
    with pytest.raises(CommandError) as info:
        run("--watch", "1", "--fail-if-open")
    assert "cannot be used with --watch" in str(info.value)


# Actions


def last_event(name):
    return BreakerEvent.objects.filter(breaker__name=name).first()


def test_open_action_records_event_without_user(make_breaker):
    make_breaker("payments-api", retry_duration=dt.timedelta(seconds=10))
    output = run("open", "payments-api", "--reason", "gateway maintenance")
    assert output == "Breaker payments-api is now open; trial calls start in 10s.\n"
    event = last_event("payments-api")
    assert event.to_state == "open"
    assert event.reason == "forced"
    assert event.actor is None
    assert event.detail == "gateway maintenance"
    assert CircuitBreaker.objects.get(name="payments-api").held_state == ""


def test_open_hold_action_holds_open(make_breaker):
    breaker = make_breaker("payments-api")
    output = run("open", "payments-api", "--hold")
    assert output == "Breaker payments-api is now open, held until released.\n"
    assert breaker.snapshot().held_state == "open"
    assert CircuitBreaker.objects.get(name="payments-api").held_state == "open"


def test_close_action_zeroes_failures(make_breaker):
    breaker = make_breaker("payments-api", failure_threshold=3)
    fail(breaker, 3)
    output = run("close", "payments-api", "--reason", "fixed upstream")
    assert output == "Breaker payments-api is now closed.\n"
    assert breaker.snapshot().failure_count == 0
    assert last_event("payments-api").detail == "fixed upstream"


def test_close_hold_action_holds_closed(make_breaker):
    breaker = make_breaker("payments-api")
    run("close", "payments-api", "--hold")
    assert breaker.snapshot().held_state == "closed"
    assert CircuitBreaker.objects.get(name="payments-api").held_state == "closed"


def test_open_without_hold_releases_hold(make_breaker):
    breaker = make_breaker("payments-api")
    breaker.force_closed(hold=True)
    run("open", "payments-api")
    assert breaker.snapshot().held is False
    assert CircuitBreaker.objects.get(name="payments-api").held_state == ""


def test_half_open_action(make_breaker):
    breaker = make_breaker("payments-api")
    output = run("half-open", "payments-api", "--reason", "probe")
    assert output == "Breaker payments-api is now half-open.\n"
    assert breaker.state == "half_open"
    event = last_event("payments-api")
    assert event.to_state == "half_open"
    assert event.actor is None


def test_reset_action_releases_hold(make_breaker):
    breaker = make_breaker("payments-api")
    breaker.force_open(hold=True)
    output = run("reset", "payments-api")
    assert output == "Breaker payments-api is now closed.\n"
    assert breaker.snapshot().held is False
    assert last_event("payments-api").reason == "reset"
    assert CircuitBreaker.objects.get(name="payments-api").held_state == ""


def test_release_action_keeps_state(make_breaker):
    breaker = make_breaker("payments-api", retry_duration=dt.timedelta(seconds=10))
    breaker.force_open(hold=True)
    output = run("release", "payments-api", "--reason", "window over")
    assert output == "Breaker payments-api is now open; trial calls start in 10s.\n"
    event = last_event("payments-api")
    assert event.reason == "hold_released"
    assert event.detail == "window over"
    assert event.actor is None
    assert CircuitBreaker.objects.get(name="payments-api").held_state == ""


def test_release_unheld_changes_nothing(make_breaker):
    make_breaker("payments-api")
    output = run("release", "payments-api")
    assert output == "Breaker payments-api was not held; it stays closed.\n"
    assert not BreakerEvent.objects.exists()


def test_unknown_name_lists_close_matches(make_breaker):
    make_breaker("payments-api")
    make_breaker("payments-eu")
    make_breaker("search-cluster")
    with pytest.raises(CommandError) as info:
        run("open", "Payment-api")
    assert str(info.value) == (
        'Breaker "Payment-api" not found. Close matches: payments-api, payments-eu.'
    )
    assert info.value.returncode == 1
    assert not CircuitBreaker.objects.filter(name="Payment-api").exists()


def test_unknown_name_without_matches(make_breaker):
    make_breaker("payments-api")
    with pytest.raises(CommandError) as info:
        run("reset", "zzz")
    assert "no breaker has a similar name" in str(info.value)
    assert 'Run "manage.py breakers" to list them.' in str(info.value)


def test_invalid_name_is_not_found(db):
    with pytest.raises(CommandError) as info:
        run("close", "no spaces allowed")
    assert 'Breaker "no spaces allowed" not found' in str(info.value)


def test_action_rejects_listing_options(make_breaker):
    make_breaker("payments-api")
    with pytest.raises(CommandError) as info:
        run("--json", "--fail-if-open", "open", "payments-api")
    assert str(info.value) == (
        "--json, --fail-if-open only apply to the listing, not to the open action."
    )
    assert not BreakerEvent.objects.exists()


def test_hold_only_on_open_and_close(make_breaker):
    make_breaker("payments-api")
    with pytest.raises(CommandError) as info:
        run("half-open", "payments-api", "--hold")
    assert "--hold" in str(info.value)


# An unreachable cache


def test_listing_fails_when_cache_down(dead_cache):
    CircuitBreakerFactory(name="payments-api")
    with pytest.raises(CommandError) as info:
        run()
    assert 'The cache "dead" is unreachable' in str(info.value)
    assert info.value.returncode == 1


def test_json_fails_when_cache_down(dead_cache):
    CircuitBreakerFactory(name="payments-api")
    with pytest.raises(CommandError) as info:
        run("--json")
    assert info.value.returncode == 1


def test_action_fails_when_cache_down(dead_cache):
    CircuitBreakerFactory(name="payments-api")
    with pytest.raises(CommandError) as info:
        run("open", "payments-api", "--hold")
    message = str(info.value)
    assert message.startswith('Breaker payments-api was not changed: the cache "dead"')
    assert info.value.returncode == 1
    assert CircuitBreaker.objects.get(name="payments-api").held_state == ""
    assert not BreakerEvent.objects.exists()


def test_watch_shows_unknown_when_cache_down(dead_cache, interrupt_after):
    CircuitBreakerFactory(name="payments-api", held_state="open")
    interrupt_after(1)
    output = run("--watch", "1")
    assert 'The cache "dead" is unreachable' in output
    line = table_line(output, "payments-api")
    assert " unknown " in line
    assert " held open " in line
    assert "0 open · 0 half-open · 0 closed" in output


def test_watch_json_marks_unavailable(dead_cache, interrupt_after):
    CircuitBreakerFactory(name="payments-api")
    interrupt_after(1)
    item = json.loads(run("--json", "--watch", "1").splitlines()[0])[0]
    assert item["available"] is False
    assert item["state"] is None
    assert item["failure_count"] is None


# Formatting


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59, "59s"),
        (60, "1m 00s"),
        (185, "3m 05s"),
        (3600, "1h 00m"),
        (7620, "2h 07m"),
        (100800, "1d 04h"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_display_width_counts_wide_characters():
    assert display_width("open") == 4
    assert display_width("半开") == 4


# A real process: exit statuses and no traceback


def run_process(*args, settings_module="tests.settings"):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        # The child reads the rows of this test's database, committed by transactional_db.
        "TEST_PG_NAME": connection.settings_dict["NAME"],
    }
    return subprocess.run(
        [sys.executable, "manage.py", "breakers", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def committed_breaker(transactional_db, settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    CircuitBreakerFactory(name="payments-api")
    return get_breaker("payments-api")


def test_process_lists_and_exits_zero(committed_breaker):
    result = run_process("--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)[0]["name"] == "payments-api"


def test_process_fail_if_open_exits_two(committed_breaker):
    committed_breaker.force_open(hold=True)
    result = run_process("--fail-if-open")
    assert result.returncode == 2
    assert "1 breaker is open: payments-api." in result.stderr
    assert "payments-api" in result.stdout
    assert "Traceback" not in result.stderr


def test_process_action_records_event(committed_breaker):
    result = run_process("open", "payments-api", "--hold", "--reason", "from cron")
    assert result.returncode == 0
    assert result.stdout == "Breaker payments-api is now open, held until released.\n"
    event = last_event("payments-api")
    assert event.actor is None
    assert event.detail == "from cron"


def test_process_unknown_name_exits_one(committed_breaker):
    result = run_process("close", "payments-apx")
    assert result.returncode == 1
    assert 'Breaker "payments-apx" not found. Close matches: payments-api.' in result.stderr
    assert "Traceback" not in result.stderr


def test_process_dead_cache_exits_one(committed_breaker):
    for args in [(), ("open", "payments-api")]:
        result = run_process(*args, settings_module="tests.settings_dead_cache")
        assert result.returncode == 1
        assert 'the cache "dead"' in result.stderr.lower()
        assert "Traceback" not in result.stderr


def test_process_help_lists_actions(db):
    result = run_process("--help")
    assert result.returncode == 0
    for action in ("open", "close", "half-open", "reset", "release", "--fail-if-open"):
        assert action in result.stdout


def test_process_usage_error_exits_two(db):
    result = run_process("opn", "payments-api")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: ")
    assert "invalid choice: 'opn'" in result.stderr


@pytest.mark.django_db
def test_local_cache_warns_state_not_shared(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "local"
    out, err = io.StringIO(), io.StringIO()
    call_command("breakers", stdout=out, stderr=err)
    assert "not a Redis cache" in err.getvalue()


@pytest.mark.django_db
def test_redis_cache_prints_no_warning(settings):
    settings.CIRCUITBREAKER_CACHE_ALIAS = "default"
    out, err = io.StringIO(), io.StringIO()
    call_command("breakers", stdout=out, stderr=err)
    assert err.getvalue() == ""
