"""Helpers shared by the admin tests: users with roles, tripped breakers and admin URLs."""

from django.contrib.auth.models import Permission
from django.urls import reverse

from circuitbreaker_app import get_breaker
from tests.factories import UserFactory

# Permission codenames of each role; "superuser" and "anonymous" are handled apart.
ROLE_PERMISSIONS = {
    "staff": [],
    "viewer": ["view_circuitbreaker", "view_breakerevent"],
    "editor": ["change_circuitbreaker", "view_breakerevent"],
    "operator": ["view_circuitbreaker", "view_breakerevent", "force_breaker_state"],
}
ROLES = ["anonymous", "staff", "viewer", "editor", "operator", "superuser"]
FORCING_ROLES = {"operator", "superuser"}


def make_user(role, username=None):
    """Create a staff user with the role's permissions; None for ``anonymous``."""
    if role == "anonymous":
        return None
    if role == "superuser":
        return UserFactory(username=username or "root", is_superuser=True)
    user = UserFactory(username=username or role)
    codenames = ROLE_PERMISSIONS[role]
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="circuitbreaker_app", codename__in=codenames
        )
    )
    return user


def log_in(client, role):
    """Log the client in with a fresh user of the role and return the user."""
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    return user


def fail(message="downstream failed"):
    raise RuntimeError(message)


def record_failures(name, count, message="downstream failed"):
    """Run ``count`` failing calls through the breaker."""
    breaker = get_breaker(name)
    for _ in range(count):
        try:
            breaker.call(fail, message)
        except RuntimeError:
            pass


def record_successes(name, count):
    """Run ``count`` successful calls through the breaker."""
    breaker = get_breaker(name)
    for _ in range(count):
        breaker.call(lambda: None)


def changelist_url():
    return reverse("admin:circuitbreaker_app_circuitbreaker_changelist")


def change_url(row):
    return reverse("admin:circuitbreaker_app_circuitbreaker_change", args=[row.pk])


def force_url(row, action):
    return reverse("admin:circuitbreaker_app_circuitbreaker_force", args=[row.pk, action])


def live_url():
    return reverse("admin:circuitbreaker_app_circuitbreaker_live")


def events_url():
    return reverse("admin:circuitbreaker_app_breakerevent_changelist")
