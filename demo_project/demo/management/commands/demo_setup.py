"""Create the demo breakers and a demo superuser with a random password."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from circuitbreaker_app.models import CircuitBreaker

from ...breakers import DEMO_BREAKERS


class Command(BaseCommand):
    """Create the demo breakers, leaving existing rows as they are, and a demo superuser."""

    help = (
        "Create the demo breakers (existing rows are left unchanged) and a superuser "
        "with a new random password, which is printed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--username", default="demo", help="Superuser to create or update (default: demo)."
        )
        parser.add_argument("--no-superuser", action="store_true", help="Create the breakers only.")

    def handle(self, *args, username, no_superuser, **options):
        for name, fields in DEMO_BREAKERS.items():
            _, created = CircuitBreaker.objects.get_or_create(name=name, defaults=fields)
            verb = "created" if created else "already exists, left unchanged"
            self.stdout.write(f"Breaker {name}: {verb}")
        if not no_superuser:
            password = set_superuser(username)
            self.stdout.write(f"Superuser {username} has the password: {password}")


def set_superuser(username):
    """Create or update a superuser with a new random password and return the password."""
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    return password
