"""App configuration of the demo pages."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Pages, commands and a flaky upstream that show breakers at work."""

    name = "demo_project.demo"
    label = "demo"
    verbose_name = "Circuit breaker demo"
