"""Settings: a TOML file plus OFFRAMP_* environment variables, validated once at start-up.

Environment variables win over the file, so a container can override one value without a new file.
A wrong value stops the program with one line naming the setting and what is allowed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from offramp.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Everything the server needs; paths relative to the config file are resolved against it."""

    database_url: str = "sqlite:///offramp.sqlite"
    terms: Path | None = None
    instruments: tuple[Path, ...] = ()
    public_keys: tuple[Path, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    default_language: str = "en"
    demo: bool = False
    max_body_bytes: int = 64 * 1024
    draft_ttl_days: int = 2
    help_url: str = "https://example.org/help"
    links: Mapping[str, str] = field(default_factory=dict)
    log_level: str = "info"
    # Intercept (issue 4): message experiments, operator page, flood limit. See docs/experiments.md.
    messages_dir: Path | None = None
    arms: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    admin_token_hash: str = ""
    admin_host: str = ""
    admin_listen: str = "127.0.0.1:8001"
    max_inflight: int = 1024
    counter_spill_dir: Path | None = None
    """Where a stopping server leaves the counts it could not write (database down); the next
    start takes them back. Default: beside a SQLite database, else the working directory."""
    # Survey (issue 5): a token bucket per instrument and worker (posts a second, burst).
    # See docs/surveys.md.
    survey_rate: int = 200
    survey_burst: int = 400
    # Store (issue 6): concurrent final submits share one durable commit; none is answered
    # before its commit. false = one commit per response (the benchmarks' naive baseline).
    group_commit: bool = True


_ENV_PREFIX = "OFFRAMP_"
_LOG_LEVELS = ("debug", "info", "warning", "error")


def _as_int(name: str, value: Any, *, minimum: int, maximum: int) -> int:
    try:
        number = int(value)
        if isinstance(value, bool) or str(number) != str(value).strip():
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name}={value!r}: expected a whole number") from None
    if not minimum <= number <= maximum:
        raise ConfigError(f"setting {name}={number}: allowed range is {minimum}..{maximum}")
    return number


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"setting {name}={value!r}: expected true or false")


def _as_path(name: str, value: Any, base: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"setting {name}: expected a file path")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _as_paths(name: str, value: Any, base: Path) -> tuple[Path, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(os.pathsep) if v]
    if not isinstance(value, list):
        raise ConfigError(f"setting {name}: expected a list of file paths")
    return tuple(_as_path(name, v, base) for v in value)


def _is_token_hash(value: str) -> bool:
    prefix, _, digest = value.partition(":")
    return prefix == "sha256" and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


def _as_arms(value: Any) -> dict[str, dict[str, float]]:
    """``[arms."*"] control = 1`` tables; from the environment, the same as JSON text."""
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError('setting arms: expected JSON like {"*": {"control": 1}}') from None
    if not isinstance(value, dict):
        raise ConfigError("setting arms: expected tables of arm = weight per language")
    arms: dict[str, dict[str, float]] = {}
    for language, weights in value.items():
        if not isinstance(weights, dict) or not all(
            isinstance(w, int | float) and not isinstance(w, bool) for w in weights.values()
        ):
            raise ConfigError(f"setting arms.{language}: expected arm = weight (numbers)")
        arms[str(language)] = {str(k): float(v) for k, v in weights.items()}
    return arms


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (optional) and OFFRAMP_* variables into validated Settings."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        try:
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        base = path.resolve().parent
    known = {f.name for f in fields(Settings)}
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"unknown setting {key!r} in {path}", hint=f"known: {', '.join(sorted(known))}"
            )
    for key, value in environ.items():
        if key.startswith(_ENV_PREFIX) and key[len(_ENV_PREFIX) :].lower() in known:
            raw[key[len(_ENV_PREFIX) :].lower()] = value
    return _validate(raw, base)


def _validate(raw: Mapping[str, Any], base: Path) -> Settings:
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("port",):
            values[key] = _as_int(key, value, minimum=0, maximum=65535)
        elif key == "max_body_bytes":
            values[key] = _as_int(key, value, minimum=1024, maximum=64 * 1024 * 1024)
        elif key == "draft_ttl_days":
            values[key] = _as_int(key, value, minimum=1, maximum=90)
        elif key in ("demo", "group_commit"):
            values[key] = _as_bool(key, value)
        elif key == "terms":
            values[key] = _as_path(key, value, base)
        elif key in ("instruments", "public_keys"):
            values[key] = _as_paths(key, value, base)
        elif key in ("messages_dir", "counter_spill_dir"):
            values[key] = _as_path(key, value, base)
        elif key == "max_inflight" or key in ("survey_rate", "survey_burst"):
            values[key] = _as_int(key, value, minimum=1, maximum=1_000_000)
        elif key == "arms":
            values[key] = _as_arms(value)
        elif key == "admin_token_hash":
            if not isinstance(value, str) or (value and not _is_token_hash(value)):
                raise ConfigError(
                    "setting admin_token_hash: expected sha256:<64 hex digits>",
                    hint="make one with `offramp experiment token`",
                )
            values[key] = value
        elif key == "log_level":
            if str(value).lower() not in _LOG_LEVELS:
                raise ConfigError(f"setting log_level={value!r}: allowed {', '.join(_LOG_LEVELS)}")
            values[key] = str(value).lower()
        elif key == "links":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ConfigError('setting links: expected a table of name = "url"')
            values[key] = dict(value)
        elif key == "database_url":
            if not isinstance(value, str) or "://" not in value:
                raise ConfigError(
                    f"setting database_url={value!r}: expected sqlite:///FILE or postgresql://..."
                )
            values[key] = value
        else:
            if not isinstance(value, str):
                raise ConfigError(f"setting {key}={value!r}: expected text")
            values[key] = value
    database_url = values.get("database_url")
    if (
        database_url
        and database_url.startswith("sqlite:///")
        and not database_url.startswith("sqlite:////")
    ):
        relative = database_url[len("sqlite:///") :]
        if relative and relative != ":memory:":
            values["database_url"] = f"sqlite:///{base / relative}"
    return Settings(**values)
