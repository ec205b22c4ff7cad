"""The command line: bad input is one line and exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KeyPair


def offramp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # A timeout, so that a server which starts when it should have refused fails the test.
    return subprocess.run(
        [sys.executable, "-m", "offramp", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


def test_help_lists_every_command() -> None:
    result = offramp("--help")
    assert result.returncode == 0
    for command in (
        "demo",
        "serve",
        "keys",
        "screen",
        "survey",
        "export",
        "analyse",
        "report",
        "logscan",
        "synth",
    ):
        assert command in result.stdout


def test_wrong_passphrase(keypair: KeyPair, tmp_path: Path) -> None:
    result = offramp(
        "export",
        "--db",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        "--key",
        str(keypair.private),
        "--out",
        str(tmp_path / "out"),
        env={"OFFRAMP_PASSPHRASE": "wrong"},
    )
    assert_one_line_error(result, "wrong passphrase")


def test_passphrase_missing_without_terminal(keypair: KeyPair, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OFFRAMP_PASSPHRASE"}
    result = subprocess.run(
        [sys.executable, "-m", "offramp", "keys", "generate", "--out", str(tmp_path / "k")],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert_one_line_error(result, "no passphrase given")


def test_unreadable_instrument(tmp_path: Path, keypair: KeyPair) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "id: x\npages:\n  - id: p1\n    questions:\n      - {name: q1, type: magic}\n"
    )
    config = tmp_path / "offramp.toml"
    config.write_text(
        f'instruments = ["{broken}"]\npublic_keys = ["{keypair.public}"]\n'
        f'database_url = "sqlite:///{tmp_path / "db.sqlite"}"\n'
    )
    result = offramp("serve", "--config", str(config))
    assert_one_line_error(result, f"{broken}:5")
    assert "'magic'" in result.stderr


def test_unreadable_config(tmp_path: Path) -> None:
    config = tmp_path / "offramp.toml"
    config.write_text("port = 'x'\n")
    assert_one_line_error(offramp("serve", "--config", str(config)), "port='x'")


@pytest.mark.parametrize(
    "content", [b"\xff\xfe\x00garbage", b"zorblax\n\xff\n", b"", b"# only a comment\n"]
)
def test_unreadable_term_list(tmp_path: Path, keypair: KeyPair, content: bytes) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_bytes(content)
    config = tmp_path / "offramp.toml"
    config.write_text(f'terms = "{terms}"\ndatabase_url = "sqlite:///{tmp_path / "db.sqlite"}"\n')
    result = offramp("serve", "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert str(terms) in result.stderr
