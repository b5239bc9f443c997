"""factory-boy factories for breakers, events and users."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from circuitbreaker_app.models import BreakerEvent, CircuitBreaker


class CircuitBreakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CircuitBreaker
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"breaker-{n}")
    description = factory.Faker("sentence")
    failure_threshold = 3
    retry_duration = dt.timedelta(seconds=10)
    max_retry_duration = dt.timedelta(seconds=80)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("pw")
    is_staff = True


class BreakerEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BreakerEvent

    breaker = factory.SubFactory(CircuitBreakerFactory)
    from_state = "closed"
    to_state = "open"
    reason = "failure_threshold"
    detail = "builtins.RuntimeError: boom"
