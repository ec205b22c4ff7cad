"""Settings: file plus environment, validated once, one clear line on a wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from offramp.config import load_settings
from offramp.errors import ConfigError


def test_defaults_without_file() -> None:
    settings = load_settings(None, environ={})
    assert settings.port == 8000
    assert settings.database_url.startswith("sqlite:///")


def test_file_values_and_relative_paths(tmp_path: Path) -> None:
    config = tmp_path / "offramp.toml"
    config.write_text('terms = "lists/terms.txt"\nport = 9000\ndatabase_url = "sqlite:///x.db"\n')
    settings = load_settings(config, environ={})
    assert settings.terms == tmp_path / "lists" / "terms.txt"
    assert settings.port == 9000
    assert settings.database_url == f"sqlite:///{tmp_path / 'x.db'}"


def test_environment_overrides_file(tmp_path: Path) -> None:
    config = tmp_path / "offramp.toml"
    config.write_text("port = 9000\n")
    settings = load_settings(config, environ={"OFFRAMP_PORT": "9100", "OFFRAMP_DEMO": "yes"})
    assert settings.port == 9100
    assert settings.demo is True


@pytest.mark.parametrize(
    ("text", "environ", "fragment"),
    [
        ("port = 99999\n", {}, "port=99999: allowed range is 0..65535"),
        ("", {"OFFRAMP_PORT": "eighty"}, "port='eighty': expected a whole number"),
        ("colour = 'red'\n", {}, "unknown setting 'colour'"),
        ("demo = 'perhaps'\n", {}, "expected true or false"),
        ("log_level = 'loud'\n", {}, "log_level='loud'"),
        ("database_url = 'offramp.db'\n", {}, "database_url='offramp.db'"),
        ("port = [\n", {}, "not valid TOML"),
    ],
)
def test_wrong_values_name_the_setting(
    tmp_path: Path, text: str, environ: dict[str, str], fragment: str
) -> None:
    config = tmp_path / "offramp.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ=environ)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})
