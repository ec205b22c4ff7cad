"""Where a passphrase comes from: a passphrase file, OFFRAMP_PASSPHRASE, else a hidden prompt.

`offramp export` may be given several private keys, each held by another researcher with a
passphrase of their own. Each key's passphrase comes, in this order, from:
1. `--passphrase-file FILE`, given once per `--key` and paired with the keys in order (the file
   holds the passphrase; one trailing line break is ignored) — for scripts;
2. OFFRAMP_PASSPHRASE, for every key without a passphrase file (one passphrase for them all);
3. a hidden prompt naming the key file, in a terminal.
The source travels with the passphrase, so a wrong one names its key file and where it came from.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from offramp.errors import InputError, KeyFileError

PASSPHRASE_ENV = "OFFRAMP_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret
NEW_PASSPHRASE_ENV = "OFFRAMP_NEW_PASSPHRASE"  # noqa: S105 - a variable name


@dataclass(frozen=True)
class Passphrase:
    """A passphrase and where it came from (for the hint of a wrong-passphrase error)."""

    value: str
    source: str

    def __repr__(self) -> str:  # never print the passphrase itself
        return f"Passphrase(source={self.source!r})"


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


def read_passphrase_file(path: Path) -> str:
    """The passphrase a file holds: its text without one trailing line break."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such passphrase file", file=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("the passphrase file is not UTF-8 text", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read the passphrase file ({exc.strerror})",
                         file=str(path)) from None
    value = text.removesuffix("\n").removesuffix("\r")
    if not value:
        raise InputError("the passphrase file is empty", file=str(path))
    return value


def passphrases_for(
    key_files: Sequence[Path], passphrase_files: Sequence[Path] = ()
) -> list[Passphrase]:
    """One passphrase per key file (see the module docstring for where each comes from)."""
    if passphrase_files and len(passphrase_files) != len(key_files):
        raise InputError(
            f"{len(passphrase_files)} --passphrase-file for {len(key_files)} --key",
            hint="give one passphrase file per key, in the order of the keys",
        )
    if passphrase_files:
        return [
            Passphrase(read_passphrase_file(p), f"the passphrase file {p}")
            for p in passphrase_files
        ]
    shared = os.environ.get(PASSPHRASE_ENV)
    if shared:
        return [Passphrase(shared, PASSPHRASE_ENV)] * len(key_files)
    if not sys.stdin.isatty():
        raise KeyFileError(
            "no passphrase given",
            hint=f"set {PASSPHRASE_ENV}, give --passphrase-file per key, or run in a terminal "
            "to be asked",
        )
    return [
        Passphrase(str(click.prompt(f"Passphrase for {key}", hide_input=True)),
                   "the passphrase typed for it")
        for key in key_files
    ]
