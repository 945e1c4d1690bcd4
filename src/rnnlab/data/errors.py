"""Exceptions raised by ``rnnlab.data``: each one says what was expected and what was found.

They subclass the built-in exception a caller would naturally catch (``ValueError`` for bad
content, ``KeyError`` for a missing name, ``FileNotFoundError`` for a missing file), so generic
handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "ChecksumError",
    "DataFormatError",
    "DatasetNotFoundError",
    "DownloadError",
    "MissingValuesError",
    "MissingValuesWarning",
    "UnknownColumnError",
    "UnknownTokenError",
]


class DataFormatError(ValueError):
    """A file exists but its content is not in the expected format."""


class UnknownColumnError(DataFormatError, KeyError):
    """A requested CSV column is not in the header (the message lists the available columns)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class MissingValuesError(DataFormatError):
    """A column has missing values and the policy is ``missing="error"``.

    Attributes:
        lines: 1-based line numbers in the file of the rows with missing values.
        column: the column name.
    """

    def __init__(self, message: str, lines: list[int] | None = None, column: str | None = None):
        super().__init__(message)
        self.lines = list(lines or [])
        self.column = column


class MissingValuesWarning(UserWarning):
    """Missing values were dropped or forward-filled (the explicit ``missing=`` policy)."""


class UnknownTokenError(KeyError):
    """A token is not in a vocabulary that has no unknown-token entry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DatasetNotFoundError(FileNotFoundError):
    """A data file is missing (the message says where it was looked for and how to get it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DownloadError(OSError):
    """A download failed (offline, HTTP error...); the message says how to get the file by hand."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ChecksumError(DataFormatError):
    """A file's sha256 (or md5) differs from the documented value."""
