"""A module that fails while loading, as one needing a missing system library does."""

from django.core.exceptions import ImproperlyConfigured

raise ImproperlyConfigured("Could not find the XYZ library (this module fails on purpose)")
