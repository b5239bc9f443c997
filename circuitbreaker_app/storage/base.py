"""The storage contract that every live-state backend implements."""

import abc
import datetime as dt
from dataclasses import dataclass

from ..states import Hold, Reason, State

MICROSECONDS = 1_000_000


@dataclass(frozen=True)
class BreakerConfig:
    """A breaker's settings as the hot path needs them, copied from its database row."""

    name: str
    pk: int | None = None
    trip_policy: str = "consecutive"
    failure_threshold: int = 5
    window: float = 60.0
    failure_rate_threshold: int = 50
    minimum_calls: int = 10
    slow_call_duration: float | None = None
    retry_duration: float = 30.0
    max_retry_duration: float = 300.0
    retry_backoff: float = 2.0
    half_open_max_calls: int = 1
    success_threshold: int = 1
    ignored_exceptions: tuple = ()
    held_state: str = ""


@dataclass(frozen=True)
class Transition:
    """One state change made by the storage call that returned it."""

    old_state: State
    new_state: State
    reason: Reason


@dataclass(frozen=True)
class BreakerSnapshot:
    """A complete, consistent reading of one breaker's live state."""

    name: str
    state: State
    held_state: Hold
    generation: int
    failure_count: int
    call_count: int
    success_count: int
    retry_at: dt.datetime | None
    retry_after: float | None
    opened_at: dt.datetime | None
    last_changed_at: dt.datetime | None
    last_reason: str
    last_error: str
    trials_in_flight: int
    trial_successes: int
    current_retry_duration: float
    trip_policy: str = "consecutive"
    failure_threshold: int = 5
    failure_rate_threshold: int = 50
    available: bool = True

    @property
    def held(self) -> bool:
        return self.held_state != Hold.NONE

    @property
    def failure_rate(self) -> float | None:
        """Return the failure percentage inside the window (rate policy), else None."""
        total = self.failure_count + self.success_count
        if self.trip_policy != "rate" or total == 0:
            return None
        return 100.0 * self.failure_count / total


class Outcome:
    """What one storage step returned.

    ``snapshot`` is the complete state after the step for reads, operator
    actions and any step that made a transition; for other guarded-call
    steps it is None, because the hot path gets a lean reply with only the
    fields below. ``retry_after`` is the seconds until an open breaker turns
    half-open (None while held open), or until a half-open breaker frees a
    trial permit.
    """

    __slots__ = (
        "allowed",
        "trial",
        "generation",
        "state",
        "failure_count",
        "retry_after",
        "snapshot",
        "transitions",
    )

    def __init__(
        self,
        allowed,
        trial,
        generation,
        state,
        failure_count,
        retry_after,
        snapshot=None,
        transitions=(),
    ):
        self.allowed = allowed
        self.trial = trial
        self.generation = generation
        self.state = state
        self.failure_count = failure_count
        self.retry_after = retry_after
        self.snapshot = snapshot
        self.transitions = transitions


@dataclass(frozen=True)
class History:
    """Calls and failures per time slice of the window, oldest slice first."""

    starts: tuple[dt.datetime, ...]
    width: float
    calls: tuple[int, ...]
    failures: tuple[int, ...]


def build_history(cfg, now_micros, epoch_offset, counts):
    """Assemble a History from the newest time and (calls, failures) pairs, oldest first."""
    buckets = len(counts)
    width = cfg.window / buckets
    first = now_micros / MICROSECONDS + epoch_offset - cfg.window
    starts = tuple(dt.datetime.fromtimestamp(first + i * width, tz=dt.UTC) for i in range(buckets))
    return History(
        starts=starts,
        width=width,
        calls=tuple(int(calls) for calls, _ in counts),
        failures=tuple(int(failures) for _, failures in counts),
    )


@dataclass
class ReplyDecoder:
    """Turn the flat reply shared by both backends into an Outcome.

    ``epoch_offset`` converts the backend's clock (microseconds) to Unix time.
    """

    epoch_offset: float = 0.0

    def datetime(self, micros):
        if micros is None or int(micros) < 0:
            return None
        seconds = int(micros) / MICROSECONDS + self.epoch_offset
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)

    def decode(self, cfg: BreakerConfig, reply) -> Outcome:
        """Decode a lean reply (one space-separated string) or a full one (a list)."""
        if isinstance(reply, bytes | str):
            return self._decode_lean(_text(reply).split(" "))
        return self._decode_full(cfg, [_text(item) for item in reply])

    def _decode_lean(self, reply):
        # 0, state, generation, consecutive failures (-1 unless that policy),
        # allowed, trial, retry_at, now, next trial lease expiry.
        state = State(reply[1])
        trial = int(reply[5])
        return Outcome(
            allowed=int(reply[4]) == 1,
            trial=trial if trial >= 0 else None,
            generation=int(reply[2]),
            state=state,
            failure_count=int(reply[3]),
            retry_after=_retry_after(state, int(reply[6]), int(reply[8]), int(reply[7])),
        )

    def _decode_full(self, cfg, reply):
        now = int(reply[8])
        retry_at = int(reply[6])
        state = State(reply[1])
        snapshot = BreakerSnapshot(
            name=cfg.name,
            state=state,
            held_state=Hold(reply[2]),
            generation=int(reply[3]),
            failure_count=int(reply[4]),
            call_count=int(reply[5]),
            success_count=int(reply[17]),
            retry_at=self.datetime(retry_at),
            retry_after=_seconds(retry_at - now) if state == State.OPEN and retry_at >= 0 else None,
            opened_at=self.datetime(reply[7]),
            last_changed_at=self.datetime(reply[11]),
            last_reason=reply[12],
            last_error=reply[13],
            trials_in_flight=int(reply[14]),
            trial_successes=int(reply[15]),
            current_retry_duration=int(reply[16]) / MICROSECONDS,
            trip_policy=cfg.trip_policy,
            failure_threshold=cfg.failure_threshold,
            failure_rate_threshold=cfg.failure_rate_threshold,
        )
        count = int(reply[19])
        transitions = tuple(
            Transition(State(reply[i]), State(reply[i + 1]), Reason(reply[i + 2]))
            for i in range(20, 20 + 3 * count, 3)
        )
        trial = int(reply[9])
        return Outcome(
            allowed=int(reply[10]) == 1,
            trial=trial if trial >= 0 else None,
            generation=snapshot.generation,
            state=state,
            failure_count=snapshot.failure_count,
            retry_after=_retry_after(state, retry_at, int(reply[18]), now),
            snapshot=snapshot,
            transitions=transitions,
        )


def _seconds(micros):
    return max(0.0, micros / MICROSECONDS)


def _retry_after(state, retry_at, next_trial_at, now):
    if state == State.OPEN:
        return _seconds(retry_at - now) if retry_at >= 0 else None
    if state == State.HALF_OPEN:
        return _seconds(next_trial_at - now) if next_trial_at >= 0 else 0.0
    return None


def _text(item):
    return item.decode() if isinstance(item, bytes) else item


def unknown_snapshot(cfg: BreakerConfig) -> BreakerSnapshot:
    """Build the snapshot shown when the cache cannot be read: state unknown."""
    return BreakerSnapshot(
        name=cfg.name,
        state=State.CLOSED,
        held_state=Hold(cfg.held_state),
        generation=0,
        failure_count=0,
        call_count=0,
        success_count=0,
        retry_at=None,
        retry_after=None,
        opened_at=None,
        last_changed_at=None,
        last_reason="",
        last_error="",
        trials_in_flight=0,
        trial_successes=0,
        current_retry_duration=cfg.retry_duration,
        trip_policy=cfg.trip_policy,
        failure_threshold=cfg.failure_threshold,
        failure_rate_threshold=cfg.failure_rate_threshold,
        available=False,
    )


class BreakerStorage(abc.ABC):
    """Hold the live state of breakers; every method is one atomic step.

    Each method resolves open to half-open first when the retry time has
    passed, and reports that transition in the returned Outcome. Methods
    raise StorageUnavailable when the backing cache cannot be reached.
    """

    @abc.abstractmethod
    def admit(self, cfg: BreakerConfig, may_seed=False) -> Outcome | None:
        """Decide whether a call may run, and take a trial permit in half-open.

        Atomic: reading the state, counting the call and taking a permit are
        one step, so at most ``half_open_max_calls`` permits are live at once.
        When the breaker's state was lost or never built and ``may_seed`` is
        false, it returns None: the caller reads the row again and calls back
        with ``may_seed=True``, which rebuilds the state from that config.
        """

    @abc.abstractmethod
    def record_failure(self, cfg, generation, trial, detail) -> Outcome | None:
        """Count a failure of a call admitted under ``generation``, tripping if the policy fires.

        Atomic: counting and tripping are one step, so concurrent failures at
        the threshold trip the breaker exactly once. Ignored when the
        generation is no longer current. Backends may return None when the
        breaker's state was lost, since the outcome cannot count then.
        """

    @abc.abstractmethod
    def record_success(self, cfg, generation, trial) -> Outcome | None:
        """Count a success of a call admitted under ``generation``; may close a half-open breaker."""

    @abc.abstractmethod
    def release(self, cfg, trial) -> Outcome | None:
        """Give back a trial permit whose call counts neither way (skipped or cancelled)."""

    @abc.abstractmethod
    def force(self, cfg, state: State, hold: Hold, reason: Reason) -> Outcome:
        """Move the breaker to ``state`` with ``hold``; closing also zeroes the counters."""

    @abc.abstractmethod
    def release_hold(self, cfg) -> Outcome:
        """Drop the hold and keep the live state; an unheld open breaker gets a retry time."""

    @abc.abstractmethod
    def forget(self, cfg) -> None:
        """Delete the breaker's live state; the next step starts it afresh."""

    @abc.abstractmethod
    def history(self, cfg, buckets=20) -> "History":
        """Count admitted calls and failures in ``buckets`` equal slices of the window."""

    @abc.abstractmethod
    def snapshots(self, cfgs) -> list[Outcome]:
        """Read many breakers at once (one round trip on Redis), resolving open to half-open."""
