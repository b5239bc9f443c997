"""Send steady requests to the demo pages and print a progress line."""

from django.core.management.base import BaseCommand, CommandError

from ...traffic import Traffic, run


def positive_float(text):
    value = float(text)
    if value <= 0:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    """Send steady requests to the demo pages so breakers trip and recover on their own."""

    help = (
        "Send steady requests to the demo pages and print a progress line: requests sent, "
        "response statuses and each demo breaker's state. Runs until interrupted unless "
        "--duration or --count is given."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Root URL of the running demo site (default: %(default)s).",
        )
        parser.add_argument(
            "--rate",
            type=positive_float,
            default=4.0,
            help="Requests per second; slow pages lower it (default: %(default)s).",
        )
        parser.add_argument("--duration", type=positive_float, help="Stop after this many seconds.")
        parser.add_argument("--count", type=int, help="Stop after this many requests.")
        parser.add_argument(
            "--interval",
            type=positive_float,
            default=2.0,
            help="Seconds between progress lines (default: %(default)s).",
        )

    def handle(self, *args, base_url, rate, duration, count, interval, **options):
        if count is not None and count < 1:
            raise CommandError(f"--count must be 1 or more; got {count}.")
        traffic = Traffic(base_url)
        try:
            run(traffic, rate, duration, count, interval, report=self.stdout.write)
        except KeyboardInterrupt:
            self.stdout.write(traffic.progress_line())
