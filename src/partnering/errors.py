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
    """A file, or a row of a file, cannot be loaded: the one typed error for row-level problems.

    ``row`` is the 1-based physical line number in the file (header = line 1)
    where known; ``column`` names the column as spelled in the file.  A pydantic
    validation error becomes one with :meth:`from_validation`.
    """

    def __init__(self, file: str, reason: str, row: int | None = None, column: str | None = None):
        self.file = file
        self.row = row
        self.column = column
        self.reason = reason
        super().__init__(self.user_message())

    @classmethod
    def from_validation(cls, exc: Exception, file: str, *, first_line: int | None = None,
                        row: int | None = None) -> "IngestError":
        """The first problem of a validation error as file / row / column / reason.

        ``exc`` is a ``pydantic.ValidationError`` (read through its ``errors()`` list, so pydantic is not
        imported here) or any other exception (its text becomes the reason).  When rows were validated
        as a list, the row index in the error's location plus ``first_line`` (the line of the first row:
        2 below a CSV header) gives ``row``; the last field name in the location gives ``column``.
        """
        errors = exc.errors(include_url=False) if callable(getattr(exc, "errors", None)) else []
        if not errors:
            return cls(file, str(exc), row=row)
        err = errors[0]
        loc = tuple(err.get("loc", ()))
        index = next((p for p in loc if isinstance(p, int)), None)
        if index is not None and first_line is not None:
            row = first_line + index
        column = next((p for p in reversed(loc) if isinstance(p, str)), None)
        reason = str(err.get("msg", exc)).removeprefix("Value error, ")
        value = err.get("input")
        if value is None or isinstance(value, str | int | float):
            reason = f"{reason} (got {value!r})"
        return cls(file, reason, row=row, column=column)

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
