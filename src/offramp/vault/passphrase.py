"""Where a passphrase comes from: OFFRAMP_PASSPHRASE for scripts, else a hidden prompt."""

from __future__ import annotations

import os
import sys

import click

from offramp.errors import KeyFileError


def get_passphrase(*, confirm: bool = False) -> str:
    value = os.environ.get("OFFRAMP_PASSPHRASE")
    if value:
        return value
    if not sys.stdin.isatty():
        raise KeyFileError(
            "no passphrase given", hint="set OFFRAMP_PASSPHRASE or run in a terminal to be asked"
        )
    return str(click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm))
