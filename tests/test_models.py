"""Model validation and the database constraints behind it."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from circuitbreaker_app.models import CircuitBreaker
from tests.factories import BreakerEventFactory, CircuitBreakerFactory

pytestmark = pytest.mark.django_db

BAD_VALUES = [
    ("name", "has space"),
    ("name", "brace{tag}"),
    ("name", ""),
    ("failure_threshold", 0),
    ("failure_rate_threshold", 0),
    ("failure_rate_threshold", 101),
    ("minimum_calls", 0),
    ("half_open_max_calls", 0),
    ("success_threshold", 0),
    ("retry_backoff", 0.5),
    ("window", dt.timedelta(0)),
    ("retry_duration", dt.timedelta(seconds=-1)),
    ("slow_call_duration", dt.timedelta(0)),
]


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_bad_value_names_its_field(field, value):
    breaker = CircuitBreaker(**{"name": "ok-name", field: value})
    with pytest.raises(ValidationError) as info:
        breaker.full_clean()
    assert field in info.value.message_dict


def test_defaults_are_valid():
    CircuitBreaker(name="defaults").full_clean()


def test_max_retry_below_retry_rejected():
    breaker = CircuitBreaker(
        name="backoff",
        retry_duration=dt.timedelta(seconds=60),
        max_retry_duration=dt.timedelta(seconds=30),
    )
    with pytest.raises(ValidationError) as info:
        breaker.full_clean()
    assert "max_retry_duration" in info.value.message_dict


def test_ignored_exceptions_must_import():
    breaker = CircuitBreaker(name="ignored", ignored_exceptions="builtins.KeyError\nnope.Missing")
    with pytest.raises(ValidationError) as info:
        breaker.full_clean()
    message = " ".join(info.value.message_dict["ignored_exceptions"])
    assert "Line 2" in message
    assert "nope.Missing" in message


def test_ignored_exceptions_must_be_exceptions():
    breaker = CircuitBreaker(name="ignored", ignored_exceptions="os.path.join")
    with pytest.raises(ValidationError) as info:
        breaker.full_clean()
    assert "not an exception class" in str(info.value)


def test_ignored_exceptions_accepts_classes():
    breaker = CircuitBreaker(
        name="ignored", ignored_exceptions="builtins.KeyError\n\n  json.JSONDecodeError  \n"
    )
    breaker.full_clean()
    assert breaker.to_config().ignored_exceptions[1].__name__ == "JSONDecodeError"


CONSTRAINT_VALUES = [
    {"failure_threshold": 0},
    {"failure_rate_threshold": 101},
    {"minimum_calls": 0},
    {"half_open_max_calls": 0},
    {"success_threshold": 0},
    {"retry_backoff": 0.9},
    {"window": dt.timedelta(0)},
    {"retry_duration": dt.timedelta(0)},
    {"retry_duration": dt.timedelta(seconds=90), "max_retry_duration": dt.timedelta(seconds=60)},
    {"slow_call_duration": dt.timedelta(0)},
    {"held_state": "sideways"},
]


@pytest.mark.parametrize("values", CONSTRAINT_VALUES)
def test_database_rejects_bad_row(values):
    with pytest.raises(IntegrityError), transaction.atomic():
        CircuitBreaker.objects.create(name="raw", **values)


def test_config_copies_durations_in_seconds():
    row = CircuitBreakerFactory(
        name="cfg",
        window=dt.timedelta(minutes=2),
        slow_call_duration=dt.timedelta(milliseconds=250),
    )
    cfg = row.to_config()
    assert cfg.window == 120
    assert cfg.slow_call_duration == 0.25
    assert cfg.pk == row.pk


def test_events_newest_first():
    breaker = CircuitBreakerFactory(name="events")
    first = BreakerEventFactory(breaker=breaker)
    second = BreakerEventFactory(breaker=breaker, to_state="half_open", reason="retry_elapsed")
    assert list(breaker.events.all()) == [second, first]


def test_failing_import_is_field_error():
    breaker = CircuitBreaker(name="gdal", ignored_exceptions="tests.broken_module.Error")
    with pytest.raises(ValidationError) as info:
        breaker.full_clean()
    assert "fails on purpose" in " ".join(info.value.message_dict["ignored_exceptions"])


def test_failing_import_skipped_at_runtime(caplog):
    row = CircuitBreakerFactory(
        name="gdal", ignored_exceptions="builtins.KeyError\ntests.broken_module.Error"
    )
    assert row.to_config().ignored_exceptions == (KeyError,)
    assert "gdal" in caplog.text
