"""Test settings whose breaker cache is the dead alias, for commands run in a child process."""

from tests.settings import *  # noqa: F403

CIRCUITBREAKER_CACHE_ALIAS = "dead"
