"""The ``breakers`` command: list breakers' live state, or force one breaker's state."""

import json
import math
from time import sleep

from django.conf import settings
from django.core.cache import caches
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from ... import operations, reporting
from ...conf import app_settings
from ...exceptions import BreakerNotFound, StorageUnavailable
from ...states import State
from ...storage import is_redis_cache

# NOTE: argparse also exits with 2 on a usage error, such as an unknown option
# or a missing NAME. That happens before the command runs, and stderr then
# starts with "usage:".
OPEN_EXIT_STATUS = 2
CLEAR_SCREEN = "\x1b[H\x1b[2J"
LISTING_OPTIONS = ("json", "state", "watch", "fail_if_open")


def action_help():
    """Return the help text of each action, translated now because argparse needs plain str."""
    return {
        operations.OPEN: gettext(
            "Open the breaker. It turns half-open after its retry duration unless --hold is given."
        ),
        operations.CLOSE: gettext(
            "Close the breaker and zero its counters. With --hold it never trips."
        ),
        operations.HALF_OPEN: gettext(
            "Make the breaker half-open, so that trial calls decide its state."
        ),
        operations.RESET: gettext("Close the breaker, zero its counters and release any hold."),
        operations.RELEASE: gettext("Release the breaker's hold and keep its live state."),
    }


def hold_help():
    return {
        operations.OPEN: gettext("Keep the breaker open until an operator releases or resets it."),
        operations.CLOSE: gettext(
            "Keep the breaker closed, so it never trips, until released or reset."
        ),
    }


class Command(BaseCommand):
    """List breakers' live state as a table or JSON, or force one breaker's state."""

    @property
    def help(self):
        # A property, because argparse needs a plain str and the language is
        # only known when the command runs.
        return gettext(
            "Show the live state of every breaker, or force one breaker open, closed or "
            "half-open. Forced changes are recorded as events with no user."
        )

    def add_arguments(self, parser):
        add_listing_arguments(parser)
        actions = parser.add_subparsers(dest="action", metavar="ACTION", title=gettext("actions"))
        for action, help_text in action_help().items():
            add_action_parser(actions, action, help_text)

    def handle(self, *args, **options):
        self.warn_if_not_shared()
        if options.get("action"):
            reject_listing_options(options)
            self.run_action(options)
        else:
            self.list_breakers(options)

    def warn_if_not_shared(self):
        """Warn that a cache other than Redis keeps state in this process only."""
        alias = app_settings.CACHE_ALIAS
        if alias in settings.CACHES and is_redis_cache(caches[alias]):
            return
        message = gettext(
            "Warning: cache '%(alias)s' is not a Redis cache, so breaker state lives in each "
            "process. This command sees and changes only its own copy, not the site's."
        ) % {"alias": alias}
        self.stderr.write(message)

    # Listing

    def list_breakers(self, options):
        states = parse_states(options["state"])
        interval = parse_interval(options["watch"])
        if interval is None:
            self.list_once(states, options["json"], options["fail_if_open"])
        elif options["fail_if_open"]:
            raise CommandError(
                gettext("--fail-if-open checks once, so it cannot be used with --watch.")
            )
        else:
            self.watch(states, interval, options["json"])

    def list_once(self, states, as_json, fail_if_open):
        reports = reporting.read_reports(states)
        if not all(report.available for report in reports):
            raise CommandError(cache_unreachable_message())
        self.write_reports(reports, as_json)
        if fail_if_open:
            check_none_open(reports)

    def watch(self, states, interval, as_json):
        """Redraw the listing every ``interval`` seconds until Ctrl-C, which exits with 0."""
        try:
            while True:
                self.draw_frame(states, interval, as_json)
                sleep(interval)
        except KeyboardInterrupt:
            # The table ends on a newline, so the shell prompt starts below the
            # "^C" that the terminal echoed. JSON output gets none, because
            # each of its lines must be one JSON document.
            if not as_json:
                self.stdout.write("")

    def draw_frame(self, states, interval, as_json):
        # A cache outage does not stop the watch. The frame shows the state as
        # unknown, and the next frame reads it again.
        reports = reporting.read_reports(states)
        if as_json:
            self.stdout.write(json.dumps(reporting.to_document(reports)))
            self.stdout.flush()
            return
        if self.stdout.isatty():
            self.stdout.write(CLEAR_SCREEN, ending="")
        self.stdout.write(watch_heading(interval))
        if not all(report.available for report in reports):
            self.stdout.write(self.style.WARNING(cache_unreachable_message()))
        self.write_reports(reports, as_json=False)
        self.stdout.write("")
        self.stdout.flush()

    def write_reports(self, reports, as_json):
        if as_json:
            self.stdout.write(json.dumps(reporting.to_document(reports), indent=2))
        elif not reports:
            self.stdout.write(gettext("No breakers to show."))
        else:
            now = reporting.utc_now()
            rows = [reporting.table_row(report, now) for report in reports]
            self.stdout.write(reporting.format_table(reporting.table_header(), rows))
            self.stdout.write(reporting.summarize(reports))

    # Actions

    def run_action(self, options):
        name, action = options["name"], options["action"]
        try:
            breaker = operations.find_breaker(name)
            was_held = bool(breaker.config.held_state)
            snapshot = operations.run_action(
                breaker, action, hold=options.get("hold", False), reason=options["reason"]
            )
        except BreakerNotFound:
            raise CommandError(not_found_message(name)) from None
        except StorageUnavailable as exc:
            raise CommandError(action_failed_message(name, exc)) from None
        if action == operations.RELEASE and not was_held:
            self.stdout.write(not_held_message(snapshot))
        else:
            self.stdout.write(self.style.SUCCESS(result_message(snapshot)))


def add_listing_arguments(parser):
    parser.add_argument(
        "--json", action="store_true", help=gettext("Print a JSON document instead of a table.")
    )
    parser.add_argument(
        "--state",
        action="append",
        metavar="STATE",
        help=gettext(
            "Show only breakers in this state: closed, open or half_open. Repeat the "
            "option or separate states with commas to show several."
        ),
    )
    parser.add_argument(
        "--watch",
        metavar="SECONDS",
        help=gettext("Redraw the listing every SECONDS seconds until interrupted with Ctrl-C."),
    )
    parser.add_argument(
        "--fail-if-open",
        action="store_true",
        help=gettext(
            "Exit with status 2 when any listed breaker is open, for cron and monitoring."
        ),
    )


def add_action_parser(actions, action, help_text):
    parser = actions.add_parser(action, help=help_text, description=help_text)
    parser.add_argument("name", metavar="NAME", help=gettext("The breaker's name."))
    parser.add_argument(
        "--reason", default="", help=gettext("Why the state is forced; stored in the event.")
    )
    if action in operations.HOLDING_ACTIONS:
        parser.add_argument("--hold", action="store_true", help=hold_help()[action])


def reject_listing_options(options):
    flags = [f"--{key.replace('_', '-')}" for key in LISTING_OPTIONS if options.get(key)]
    if flags:
        raise CommandError(
            gettext("%(options)s only apply to the listing, not to the %(action)s action.")
            % {"options": ", ".join(flags), "action": options["action"]}
        )


def parse_states(values):
    """Turn --state values into a set of States; accept "half-open" for half_open."""
    states = set()
    for value in values or []:
        for part in value.split(","):
            states.add(parse_state(part.strip()))
    return states


def parse_state(value):
    try:
        return State(value.replace("-", "_"))
    except ValueError:
        raise CommandError(
            gettext('Invalid state "%(value)s": use closed, open or half_open.') % {"value": value}
        ) from None


def parse_interval(value):
    """Turn the --watch value into seconds, or None when --watch is not given."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise CommandError(
            gettext('Invalid --watch interval "%(value)s": give a number of seconds above 0.')
            % {"value": value}
        )
    return seconds


def check_none_open(reports):
    """Raise CommandError with exit status 2 if any of the reports shows an open breaker."""
    names = [report.config.name for report in reports if report.snapshot.state == State.OPEN]
    if names:
        message = ngettext(
            "%(count)d breaker is open: %(names)s.",
            "%(count)d breakers are open: %(names)s.",
            len(names),
        ) % {"count": len(names), "names": ", ".join(names)}
        raise CommandError(message, returncode=OPEN_EXIT_STATUS)


def watch_heading(interval):
    return gettext("Every %(interval)gs, at %(time)s UTC. Press Ctrl-C to stop.") % {
        "interval": interval,
        "time": reporting.utc_now().strftime("%H:%M:%S"),
    }


def cache_unreachable_message():
    return gettext(
        'The cache "%(alias)s" is unreachable, so the breakers\' live state is unknown. '
        "Check that its server is running and that CIRCUITBREAKER_CACHE_ALIAS names it."
    ) % {"alias": app_settings.CACHE_ALIAS}


def action_failed_message(name, exc):
    return gettext(
        'Breaker %(name)s was not changed: the cache "%(alias)s" is unreachable (%(error)s). '
        "Check that its server is running, then try again."
    ) % {"name": name, "alias": app_settings.CACHE_ALIAS, "error": exc}


def not_found_message(name):
    matches = operations.similar_names(name)
    if matches:
        return gettext('Breaker "%(name)s" not found. Close matches: %(matches)s.') % {
            "name": name,
            "matches": ", ".join(matches),
        }
    return gettext(
        'Breaker "%(name)s" not found, and no breaker has a similar name. '
        'Run "manage.py breakers" to list them.'
    ) % {"name": name}


def result_message(snapshot):
    values = {"name": snapshot.name, "state": snapshot.state.label}
    if snapshot.held:
        return gettext("Breaker %(name)s is now %(state)s, held until released.") % values
    if snapshot.state == State.OPEN and snapshot.retry_after is not None:
        values["duration"] = reporting.format_duration(math.ceil(snapshot.retry_after))
        return gettext("Breaker %(name)s is now open; trial calls start in %(duration)s.") % values
    return gettext("Breaker %(name)s is now %(state)s.") % values


def not_held_message(snapshot):
    return gettext("Breaker %(name)s was not held; it stays %(state)s.") % {
        "name": snapshot.name,
        "state": snapshot.state.label,
    }
