"""One exception tree for offramp.

    OfframpError                 anything we report to a person: CLI prints one line, exit 2
     ├── ConfigError             a setting has a value that is not allowed
     ├── InputError              a file (terms, instrument, plan, log) is malformed: file and line
     ├── KeyFileError            a key file cannot be opened (wrong passphrase, damaged file)
     ├── IntegrityError          a sealed record failed to open or was altered
     └── StoreUnavailable        the database cannot be reached; the web tier answers 503

Messages say what is wrong and what to do next, because the reader is an operator or researcher,
not the developer who wrote the code.
"""

from __future__ import annotations


class OfframpError(Exception):
    """Base class: a problem we can explain to the person running offramp."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(OfframpError):
    """A setting is missing or has a value that is not allowed."""


class InputError(OfframpError):
    """A file given to offramp is malformed. Carries the place so the message can point at it."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | int | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        place = ""
        if file is not None:
            place = str(file)
            if line is not None:
                place += f":{line}"
            if column is not None:
                place += f" (column {column})"
            place += ": "
        super().__init__(place + message, hint=hint)


class KeyFileError(OfframpError):
    """A key file cannot be used: wrong passphrase, wrong kind of file, or damaged."""


class IntegrityError(OfframpError):
    """A sealed record does not open: altered, moved to another context, or sealed to other keys."""


class StoreUnavailable(OfframpError):
    """The database cannot be reached right now; the caller should retry later."""
