"""Domain exceptions: every mistake a user can make is one of these, never a traceback."""

from __future__ import annotations


class GradcheckError(Exception):
    """A user-caused error; the CLI prints it and exits with ``exit_code``."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class OpError(GradcheckError, ValueError):
    """An engine op got inputs it cannot work with (shapes, axes, dtypes, dz)."""


class SpecError(GradcheckError):
    """An exercise spec is unreadable, invalid, or inconsistent."""


class UsageError(GradcheckError):
    """A bad command line: unknown exercise, bad flag value, missing file."""
