"""Several researchers' keys at one export, each with its own passphrase.

Each key's passphrase comes from its --passphrase-file, else OFFRAMP_PASSPHRASE, else a prompt
naming the key file (tested in a real pseudo-terminal). A wrong one names the key file and where
the passphrase came from, in one line.
"""

from __future__ import annotations

import os
import pty
import select
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from offramp.cli import cli
from offramp.vault.keys import generate
from tests.data.conftest import make_instrument, rich_people, seal_into


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two key holders with their own passphrases; old records sealed to one, new to the other."""
    folder = tmp_path_factory.mktemp("team")
    alice = generate(folder, "alice's own words", profile="interactive", name="alice")
    bob = generate(folder, "bob: another phrase", profile="interactive", name="bob")
    db = f"sqlite:///{folder / 'store.sqlite'}"
    instrument = make_instrument()
    people = rich_people(instrument, 6)
    seal_into(db, alice.public, instrument, people[:3])  # before the key rotation
    seal_into(db, bob.public, instrument, people[3:])  # after it
    (folder / "alice.pass").write_text("alice's own words\n")  # as `echo ... > file` writes it
    (folder / "bob.pass").write_text("bob: another phrase")
    (folder / "wrong.pass").write_text("not bob's")
    return {"db": db, "alice": alice.private, "bob": bob.private, "folder": folder}


def _export(team: dict[str, Any], out: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    args = ["export", "--db", team["db"], "--key", str(team["alice"]), "--key", str(team["bob"]),
            "--format", "parquet", "--out", str(out), "--no-mark", *extra]
    return CliRunner().invoke(cli, args, env={"OFFRAMP_PASSPHRASE": None, **(env or {})})


def test_one_passphrase_file_per_key(team: dict[str, Any], tmp_path: Path) -> None:
    folder = team["folder"]
    result = _export(team, tmp_path, "--passphrase-file", str(folder / "alice.pass"),
                     "--passphrase-file", str(folder / "bob.pass"))
    assert result.exit_code == 0, result.output
    assert "opened 6 responses; 0 failed" in result.stdout
    assert pl.read_parquet(tmp_path / "study.parquet").height == 6


def test_a_wrong_passphrase_names_its_key_and_source(team: dict[str, Any], tmp_path: Path) -> None:
    folder = team["folder"]
    result = _export(team, tmp_path / "out", "--passphrase-file", str(folder / "alice.pass"),
                     "--passphrase-file", str(folder / "wrong.pass"))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"offramp: error: {team['bob']}: wrong passphrase (or the key file was altered) "
        f"(check the passphrase file {folder / 'wrong.pass'})"
    ]
    assert not (tmp_path / "out").exists()


def test_the_environment_passphrase_serves_every_key_and_names_the_failing_one(
    team: dict[str, Any], tmp_path: Path
) -> None:
    result = _export(team, tmp_path, env={"OFFRAMP_PASSPHRASE": "alice's own words"})
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"offramp: error: {team['bob']}: wrong passphrase (or the key file was altered) "
        "(check OFFRAMP_PASSPHRASE)"
    ]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["alice.pass"], "1 --passphrase-file for 2 --key"),
        (["alice.pass", "absent.pass"], "absent.pass: no such passphrase file"),
        (["alice.pass", "empty.pass"], "empty.pass: the passphrase file is empty"),
        ([], "no passphrase given"),
    ],
)
def test_bad_passphrase_files_are_one_line(
    team: dict[str, Any], tmp_path: Path, files: list[str], expected: str
) -> None:
    (team["folder"] / "empty.pass").write_text("\n")
    extra = [a for f in files for a in ("--passphrase-file", str(team["folder"] / f))]
    result = _export(team, tmp_path / "out", *extra)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("offramp: error: "), result.stderr
    assert expected in lines[0]


def _run_in_terminal(args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run `python -m offramp ARGS` in a pseudo-terminal, typing an answer at each new prompt."""
    env = {k: v for k, v in os.environ.items() if k != "OFFRAMP_PASSPHRASE"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
        os.execve(sys.executable, [sys.executable, "-m", "offramp", *args], env)  # noqa: S606
    seen = b""
    sent = 0
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            os.kill(pid, 9)
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        prompts = seen.count(b"Passphrase for ")
        if sent < min(prompts, len(answers)) and seen.rstrip().endswith(b":"):
            os.write(fd, answers[sent].encode() + b"\n")
            sent += 1
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def test_a_prompt_per_key_names_the_key(team: dict[str, Any], tmp_path: Path) -> None:
    args = ["export", "--db", team["db"], "--key", str(team["alice"]), "--key", str(team["bob"]),
            "--format", "parquet", "--out", str(tmp_path / "ok"), "--no-mark"]
    code, seen = _run_in_terminal(args, ["alice's own words", "bob: another phrase"])
    assert code == 0, seen
    assert f"Passphrase for {team['alice']}:" in seen and f"Passphrase for {team['bob']}:" in seen
    assert "alice's own words" not in seen  # hidden input
    assert "opened 6 responses; 0 failed" in seen

    args[args.index("--out") + 1] = str(tmp_path / "bad")
    code, seen = _run_in_terminal(args, ["alice's own words", "a typo"])
    assert code == 2, seen
    assert (f"{team['bob']}: wrong passphrase (or the key file was altered) "
            "(check the passphrase typed for it)") in seen.replace("\r\n", " ")
    assert "Traceback" not in seen
