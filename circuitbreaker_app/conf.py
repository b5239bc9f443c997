"""Settings of circuitbreaker_app, each read from django.conf.settings when used."""

from django.conf import settings

CACHE_ERROR_POLICIES = ("allow", "deny")


class Settings:
    """Typed access to the ``CIRCUITBREAKER_*`` settings, with their defaults."""

    @property
    def CACHE_ALIAS(self) -> str:
        # The Django cache whose server stores the live state.
        return getattr(settings, "CIRCUITBREAKER_CACHE_ALIAS", "default")

    @property
    def CONFIG_TTL(self) -> float:
        # Seconds a process keeps a breaker's database row before reading it again.
        return getattr(settings, "CIRCUITBREAKER_CONFIG_TTL", 10)

    @property
    def ON_CACHE_ERROR(self) -> str:
        # "allow" runs guarded calls while the cache is down; "deny" rejects them.
        return getattr(settings, "CIRCUITBREAKER_ON_CACHE_ERROR", "allow")

    @property
    def TRIAL_LEASE(self) -> float:
        # Seconds a half-open trial permit lives if its call never reports back.
        return getattr(settings, "CIRCUITBREAKER_TRIAL_LEASE", 30)

    @property
    def CACHE_ERROR_LOG_INTERVAL(self) -> float:
        # Seconds between two cache-outage warnings for the same breaker.
        return getattr(settings, "CIRCUITBREAKER_CACHE_ERROR_LOG_INTERVAL", 60)

    @property
    def KEY_TTL(self) -> float:
        # Seconds the live-state keys outlive their last write (at least twice
        # the window and the longest retry duration are added on top).
        return getattr(settings, "CIRCUITBREAKER_KEY_TTL", 86400)


app_settings = Settings()
