"""A small reference model of the breaker state machine, for the property-based test.

It keeps the rules in their plainest form (lists and floats, seconds) so a
difference from a storage backend points at one of the two.
"""

from dataclasses import dataclass, field


@dataclass
class Permit:
    generation: int
    trial: int | None


@dataclass
class ReferenceBreaker:
    policy: str
    threshold: int
    window: float
    retry: float
    max_retry: float
    backoff: float
    half_open_max: int
    success_threshold: int
    lease: float
    rate_threshold: int = 50
    minimum_calls: int = 4
    state: str = "closed"
    held: str = ""
    generation: int = 0
    consecutive: int = 0
    failures: list = field(default_factory=list)
    successes: list = field(default_factory=list)
    retry_at: float | None = None
    current_retry: float = 0.0
    trial_successes: int = 0
    trials: dict = field(default_factory=dict)
    next_trial: int = 0

    def seed(self, now, hold):
        """Start afresh as after a cache flush, keeping the stored hold."""
        self.state = "open" if hold == "open" else "closed"
        self.held = hold
        self.generation += 1000
        self.consecutive = 0
        self.failures, self.successes = [], []
        self.retry_at = None
        self.current_retry = self.retry
        self.trial_successes = 0
        self.trials = {}

    def move(self, state):
        self.state = state
        self.generation += 1
        self.trial_successes = 0
        self.trials = {}

    def trip(self, now, retry):
        self.move("open")
        self.current_retry = retry
        self.retry_at = None if self.held == "open" else now + retry

    def close(self):
        self.move("closed")
        self.current_retry = self.retry
        self.retry_at = None
        self.consecutive = 0
        self.failures, self.successes = [], []

    def resolve(self, now):
        if self.state == "open" and self.held != "open" and self.retry_at is not None:
            if now >= self.retry_at:
                self.move("half_open")

    def in_window(self, times, now):
        return [t for t in times if t > now - self.window]

    def failure_count(self, now):
        if self.policy == "consecutive":
            return self.consecutive
        return len(self.in_window(self.failures, now))

    def live_trials(self, now):
        return {trial: expiry for trial, expiry in self.trials.items() if expiry > now}

    def admit(self, now):
        self.resolve(now)
        if self.state == "closed":
            return Permit(self.generation, None)
        if self.state == "half_open":
            self.trials = self.live_trials(now)
            if len(self.trials) < self.half_open_max:
                self.next_trial += 1
                self.trials[self.next_trial] = now + self.lease
                return Permit(self.generation, self.next_trial)
        return None

    def fail(self, now, permit):
        self.resolve(now)
        if permit.generation != self.generation:
            return
        self.failures.append(now)
        if self.state == "half_open":
            self.trials.pop(permit.trial, None)
            self.trip(now, min(int(self.current_retry * 1e6 * self.backoff) / 1e6, self.max_retry))
        elif self.state == "closed" and self.policy_trips(now) and self.held != "closed":
            self.trip(now, self.retry)

    def policy_trips(self, now):
        if self.policy == "consecutive":
            self.consecutive += 1
            return self.consecutive >= self.threshold
        failures = len(self.in_window(self.failures, now))
        if self.policy == "count":
            return failures >= self.threshold
        return self.rate_exceeded(now)

    def rate_exceeded(self, now):
        failures = len(self.in_window(self.failures, now))
        total = failures + len(self.in_window(self.successes, now))
        return total >= self.minimum_calls and failures * 100 >= self.rate_threshold * total

    def succeed(self, now, permit):
        self.resolve(now)
        if permit.generation != self.generation:
            return
        if self.state == "half_open":
            self.trials.pop(permit.trial, None)
            self.trial_successes += 1
            if self.trial_successes >= self.success_threshold:
                self.close()
        elif self.state == "closed":
            self.consecutive = 0
            if self.policy == "rate":
                self.successes.append(now)

    def release(self, now, permit):
        self.resolve(now)
        self.trials.pop(permit.trial, None)

    def force(self, now, state, hold):
        self.resolve(now)
        self.held = hold
        if state == "closed":
            self.close()
        elif state == "open":
            self.trip(now, self.retry)
        else:
            self.move("half_open")

    def release_hold(self, now):
        self.resolve(now)
        if not self.held:
            return
        self.held = ""
        self.move(self.state)
        if self.state == "open" and self.retry_at is None:
            self.retry_at = now + self.current_retry
