"""Typed errors, one module for the whole library.

Faces turn these into one clear line (CLI, non-zero exit) or a 4xx JSON body
(API); a user never sees a traceback.
"""

from __future__ import annotations


class PartneringError(Exception):
    """Base class for every error a user can cause and should be told about."""

    def user_message(self) -> str:
        return str(self)


class ConfigError(PartneringError):
    """A setting (database URL, option file, parameter) is wrong."""


class IngestError(PartneringError):
    """A file, or a row of a file, cannot be loaded.

    ``row`` is the 1-based physical line number in the file (header = line 1)
    where known; ``column`` names the column as spelled in the file.
    """

    def __init__(self, file: str, reason: str, row: int | None = None, column: str | None = None):
        self.file = file
        self.row = row
        self.column = column
        self.reason = reason
        super().__init__(self.user_message())

    def user_message(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}"


class ValidationError(PartneringError):
    """Input values are impossible or inconsistent (options, parameters, series)."""


class NotFoundError(PartneringError):
    """A named thing (organisation, indicator, batch) does not exist."""


class InfeasibleError(PartneringError):
    """An optimisation has no feasible solution; the message says which constraint binds."""


class AccessDenied(PartneringError):
    """The user may not see or change this."""
