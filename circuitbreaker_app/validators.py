"""Field validators for breaker configuration."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


def validate_positive_duration(value):
    """Reject a duration of zero or less."""
    if value is not None and value <= dt.timedelta(0):
        raise ValidationError(
            _("Enter a duration greater than zero, for example 00:00:30 for 30 seconds."),
            code="not_positive",
        )


def parse_exception_paths(text):
    """Split the ``ignored_exceptions`` text into dotted paths, one a line, blanks dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def import_exception_class(path):
    """Import a dotted path and return it when it names an exception class, else raise ValueError."""
    # NOTE: validating imports the named module, so its top-level code runs
    # in the web process; only staff who may change breakers can reach this.
    try:
        obj = import_string(path)
    except Exception as exc:  # noqa: BLE001 - any import-time error is a bad entry
        # ImportError is the usual case, but a module may also raise while
        # loading (ImproperlyConfigured when a system library is missing).
        message = _("%(path)s cannot be imported: %(error)s") % {"path": path, "error": exc}
        raise ValueError(message) from exc
    if not (isinstance(obj, type) and issubclass(obj, BaseException)):
        raise ValueError(_("%(path)s is not an exception class.") % {"path": path})
    return obj


def validate_exception_paths(text):
    """Check that each line imports and names an exception class."""
    errors = []
    for number, path in enumerate(parse_exception_paths(text), start=1):
        try:
            import_exception_class(path)
        except ValueError as exc:
            errors.append(
                ValidationError(
                    _(
                        "Line %(number)d: %(problem)s Write one dotted path a line, such as "
                        "requests.exceptions.HTTPError."
                    )
                    % {"number": number, "problem": exc},
                    code="bad_exception_path",
                )
            )
    if errors:
        raise ValidationError(errors)
