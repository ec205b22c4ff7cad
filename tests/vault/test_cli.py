"""`offramp keys ...` and what a researcher sees when a key or passphrase is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from offramp.cli import cli
from offramp.config import load_settings
from offramp.vault.keys import fingerprint, load_private_key, load_public_key

PASS = "first passphrase"


def run(*args: str, **env: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env={"OFFRAMP_PUBLIC_KEYS": None, **env})


def make_pair(folder: Path, name: str = "researcher") -> tuple[Path, Path]:
    result = run("keys", "generate", "--out", str(folder), "--name", name, "--kdf-profile",
                 "interactive", OFFRAMP_PASSPHRASE=PASS)
    assert result.exit_code == 0, result.output
    return folder / f"{name}.pub", folder / f"{name}.key"


def test_generate_and_fingerprint(tmp_path: Path) -> None:
    public, private = make_pair(tmp_path)
    expected = fingerprint(load_public_key(public))
    result = run("keys", "fingerprint", str(public))
    assert result.output == expected + "\n"
    both = run("keys", "fingerprint", str(public), str(private))
    assert both.output.splitlines() == [f"{expected}  {public}", f"{expected}  {private}"]


def test_generate_without_a_passphrase_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["keys", "generate", "--out", str(tmp_path)],
                                env={"OFFRAMP_PASSPHRASE": ""})
    assert result.exit_code == 2
    assert result.output.startswith("offramp: error: no passphrase given")


def test_change_passphrase(tmp_path: Path) -> None:
    public, private = make_pair(tmp_path)
    result = run("keys", "change-passphrase", str(private), OFFRAMP_PASSPHRASE=PASS,
                 OFFRAMP_NEW_PASSPHRASE="second passphrase")
    assert result.exit_code == 0, result.output
    assert fingerprint(load_public_key(public)) in result.output
    assert load_private_key(private, "second passphrase").public_key == load_public_key(public)
    wrong = run("keys", "change-passphrase", str(private), OFFRAMP_PASSPHRASE=PASS,
                OFFRAMP_NEW_PASSPHRASE="third")
    assert wrong.exit_code == 2
    assert wrong.output == (
        f"offramp: error: {private}: wrong passphrase (or the key file was altered) "
        "(check OFFRAMP_PASSPHRASE)\n"
    )


def test_wrong_passphrase_at_export_is_one_clear_line_and_exit_2(
    tmp_path: Path,
) -> None:
    _, private = make_pair(tmp_path)
    env = {**os.environ, "OFFRAMP_PASSPHRASE": "not it"}
    result = subprocess.run(
        [sys.executable, "-m", "offramp", "export", "--db", f"sqlite:///{tmp_path / 'x.sqlite'}",
         "--key", str(private), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"offramp: error: {private}: wrong passphrase (or the key file was altered) "
        "(check OFFRAMP_PASSPHRASE)"
    ]


def test_damaged_key_file_at_export_is_one_line(tmp_path: Path) -> None:
    damaged = tmp_path / "researcher.key"
    damaged.write_text('{"kind": "offramp-private-key", "version": 1}')
    result = run("export", "--db", f"sqlite:///{tmp_path / 'x.sqlite'}", "--key", str(damaged),
                 "--out", str(tmp_path / "out"), OFFRAMP_PASSPHRASE=PASS)
    assert result.exit_code == 2
    assert result.output == f"offramp: error: {damaged}: the private key file is damaged\n"


CONFIG = """# the server's settings
database_url = "sqlite:///offramp.sqlite"
public_keys = [
  "keys/old.pub",  # the first researcher
]
port = 8123

[links]
help = "https://example.org/help"
"""


def test_rotate_replaces_only_the_key_set(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    old_pub, _ = make_pair(keys, "old")
    new_a, _ = make_pair(keys, "new_a")
    new_b, _ = make_pair(tmp_path / "elsewhere", "new_b")
    config = tmp_path / "offramp.toml"
    config.write_text(CONFIG)
    config.chmod(0o640)
    before = tomllib.loads(CONFIG)

    result = run("keys", "rotate", "--config", str(config), str(new_a), str(new_b), str(new_a))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"was: {fingerprint(load_public_key(old_pub))}  {tmp_path}/keys/old.pub"
    assert lines[1] == f"now: {fingerprint(load_public_key(new_a))}  {new_a}"
    assert lines[2] == f"now: {fingerprint(load_public_key(new_b))}  {new_b}"
    after = tomllib.loads(config.read_text())
    assert after == {**before, "public_keys": ["keys/new_a.pub", "elsewhere/new_b.pub"]}
    assert (tmp_path / "offramp.toml.bak").read_text() == CONFIG
    assert oct(config.stat().st_mode & 0o777) == oct(0o640)
    assert load_settings(config, environ={}).public_keys == (new_a.resolve(), new_b.resolve())

    again = run("keys", "rotate", "--config", str(config), str(new_a), str(new_b))
    assert again.exit_code == 0 and "key set unchanged" in again.output


def test_rotate_adds_the_line_when_missing_and_refuses_private_keys(tmp_path: Path) -> None:
    new_pub, new_key = make_pair(tmp_path / "keys", "new")
    config = tmp_path / "offramp.toml"
    config.write_text('port = 8000\n[links]\nhelp = "https://example.org"\n')
    refused = run("keys", "rotate", "--config", str(config), str(new_key))
    assert refused.exit_code == 2
    assert "not an offramp public key (.pub) file" in refused.output
    assert "public_keys" not in config.read_text()
    result = run("keys", "rotate", "--config", str(config), str(new_pub))
    assert result.exit_code == 0, result.output
    assert tomllib.loads(config.read_text()) == {
        "port": 8000, "links": {"help": "https://example.org"}, "public_keys": ["keys/new.pub"]
    }


def test_rotate_refuses_when_the_environment_overrides_the_file(tmp_path: Path) -> None:
    new_pub, _ = make_pair(tmp_path, "new")
    config = tmp_path / "offramp.toml"
    config.write_text("port = 8000\n")
    result = CliRunner().invoke(
        cli, ["keys", "rotate", "--config", str(config), str(new_pub)],
        env={"OFFRAMP_PUBLIC_KEYS": "/somewhere/else.pub"},
    )
    assert result.exit_code == 2
    assert "OFFRAMP_PUBLIC_KEYS is set" in result.output
    assert config.read_text() == "port = 8000\n"


@pytest.mark.parametrize("command", ["generate", "fingerprint", "change-passphrase", "rotate"])
def test_every_keys_command_documents_itself(command: str) -> None:
    result = run("keys", command, "--help")
    assert result.exit_code == 0
    assert "Usage: cli keys " + command in result.output or "Usage:" in result.output
