"""Key rotation: point the server's config at a new set of researchers' public keys.

Rotation never touches a private key and never re-encrypts anything. Records already sealed stay
sealed to the keys that were in force when they arrived, and open with those keys' private halves
(give `offramp export` every --key you need); records sealed after the server restarts go to the
new set. New key pairs are made on the researchers' own machines (`offramp keys generate`); only
their .pub files come to the server.

The config file is edited in place, carefully: only the `public_keys` line changes, the result is
parsed again and compared with the original before it replaces the file, and the old text is kept
beside it as <config>.bak.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offramp.config import load_settings
from offramp.errors import ConfigError, KeyFileError
from offramp.vault.keys import fingerprint, key_id, load_public_key

_PUBLIC_KEYS = re.compile(r"^public_keys[ \t]*=[ \t]*\[.*?\][ \t]*(#[^\n]*)?$", re.S | re.M)
_ENV = "OFFRAMP_PUBLIC_KEYS"


@dataclass(frozen=True)
class KeyEntry:
    path: Path
    fingerprint: str  # "(unreadable: ...)" when an old file can no longer be read


@dataclass(frozen=True)
class Rotation:
    config: Path
    backup: Path | None
    old: list[KeyEntry]
    new: list[KeyEntry]

    @property
    def changed(self) -> bool:
        return [e.fingerprint for e in self.old] != [e.fingerprint for e in self.new]


def _entry(path: Path) -> KeyEntry:
    try:
        return KeyEntry(path, fingerprint(load_public_key(path)))
    except KeyFileError as exc:
        return KeyEntry(path, f"(unreadable: {exc.message})")


def _as_written(path: Path, base: Path) -> str:
    """A path as the config should hold it: relative to the config's folder when inside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return str(resolved)


def _line(values: Sequence[str]) -> str:
    # JSON string escapes are valid in TOML basic strings.
    return "public_keys = [" + ", ".join(json.dumps(v) for v in values) + "]"


def _parse(text: str, config: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {config} is not valid TOML: {exc}") from None


def rotate_config(
    config: Path, new_keys: Sequence[Path], environ: Mapping[str, str] | None = None
) -> Rotation:
    """Make `new_keys` the key set in force for `config`; returns what was and what is now."""
    environ = os.environ if environ is None else environ
    if not new_keys:
        raise KeyFileError("rotation needs at least one new public key file")
    if environ.get(_ENV):
        raise ConfigError(
            f"{_ENV} is set and would override the config file",
            hint=f"change {_ENV} instead, or unset it before rotating",
        )
    settings = load_settings(config, environ={})
    base = config.resolve().parent
    old = [_entry(Path(p)) for p in settings.public_keys]
    seen: set[bytes] = set()
    new: list[KeyEntry] = []
    written: list[str] = []
    for path in new_keys:
        public = load_public_key(path)  # refuses private key files: they never go on a server
        kid = key_id(public)
        if kid in seen:
            continue
        seen.add(kid)
        new.append(KeyEntry(path, fingerprint(public)))
        written.append(_as_written(path, base))
    rotation = Rotation(config, None, old, new)
    if not rotation.changed:
        return rotation

    text = config.read_text(encoding="utf-8")
    before = _parse(text, config)
    line = _line(written)
    matches = list(_PUBLIC_KEYS.finditer(text))
    if len(matches) > 1:
        raise ConfigError(f"{config} sets public_keys twice", hint=f"set it by hand: {line}")
    if matches:
        updated = text[: matches[0].start()] + line + text[matches[0].end() :]
    else:
        # A top-level key must come before any [table]; the top of the file always qualifies.
        updated = line + "\n" + text
    after = _parse(updated, config)
    expected = {**before, "public_keys": written}
    if after != expected:
        raise ConfigError(
            f"could not safely rewrite public_keys in {config}", hint=f"set it by hand: {line}"
        )
    # The config may hold a database password: both files keep the original's permissions.
    mode = config.stat().st_mode & 0o777
    backup = config.with_name(config.name + ".bak")
    temporary = config.with_name(f".{config.name}.{os.getpid()}.tmp")
    for path, content in ((backup, text), (temporary, updated)):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(path, mode)
    os.replace(temporary, config)
    return Rotation(config, backup, old, new)
