"""Where a passphrase comes from: OFFRAMP_PASSPHRASE for scripts, else a hidden prompt."""

from __future__ import annotations

import os
import sys

import click

from offramp.errors import KeyFileError

PASSPHRASE_ENV = "OFFRAMP_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret
NEW_PASSPHRASE_ENV = "OFFRAMP_NEW_PASSPHRASE"  # noqa: S105 - a variable name


def _get(variable: str, prompt: str, *, confirm: bool) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    if not sys.stdin.isatty():
        raise KeyFileError(
            "no passphrase given", hint=f"set {variable} or run in a terminal to be asked"
        )
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def get_passphrase(*, confirm: bool = False) -> str:
    """The passphrase of an existing key (or of a key about to be made, with confirm=True)."""
    return _get(PASSPHRASE_ENV, "Passphrase", confirm=confirm)


def get_new_passphrase() -> str:
    """The replacement passphrase for `keys change-passphrase` (always confirmed at a prompt)."""
    return _get(NEW_PASSPHRASE_ENV, "New passphrase", confirm=True)
