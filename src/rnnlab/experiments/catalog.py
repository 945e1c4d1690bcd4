"""Imports every built-in experiment so each registers itself."""

from . import counting  # noqa: F401
