"""`offramp store backup|verify|purge` on both databases."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from nacl.public import PrivateKey

from offramp.cli import cli
from offramp.store import Repository, make_engine, upgrade
from offramp.store.repository import NewResponse
from offramp.vault.keys import fingerprint, load_public_key
from offramp.vault.sealing import SealContext, Sealer

DAY = dt.date(2024, 6, 1)


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["store", *args])


def sealed_response(sealer: Sealer, sid: str, day: dt.date = DAY, version: int = 1) -> NewResponse:
    context = SealContext("demo", version, "p3", "none", "en", day.isoformat(), sid)
    return NewResponse(sid, "demo", version, "p3", "none", "en", day, 30,
                       sealer.seal(b'{"answers": {}}', context))


def test_verify_a_clean_store_names_its_key_sets(repo: Repository, db_url: str, keypair,
                                                 tmp_path: Path) -> None:
    old = PrivateKey.generate().public_key
    current = load_public_key(keypair.public)
    repo.publish_instrument("demo", "a" * 64, "{}", day=DAY)
    repo.register_key_set([fingerprint(old)], day=DAY)
    repo.register_key_set([fingerprint(current)], day=DAY + dt.timedelta(days=10))
    repo.store_responses([sealed_response(Sealer([old]), f"o{i}") for i in range(3)])
    repo.store_responses([sealed_response(Sealer([current]), f"n{i}") for i in range(2)])
    config = tmp_path / "offramp.toml"
    config.write_text(f'database_url = "{db_url}"\npublic_keys = ["{keypair.public}"]\n')

    result = run("verify", "--config", str(config))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "responses: 5" in lines
    assert "  demo v1: 5 (0 exported)" in lines
    assert "sealed records: 5 checked, 5 well-formed, 0 damaged" in lines
    assert "  3 records, since 2024-06-01:" in lines
    assert f"    {fingerprint(old)}" in lines
    assert "  2 records, since 2024-06-11  (in force):" in lines
    assert lines[-1] == "verdict: OK"

    as_json = json.loads(run("verify", "--db", db_url, "--json").output)
    assert as_json["checked"] == 5 and as_json["problems"] == []
    assert [u["records"] for u in as_json["key_sets"]] == [3, 2]


def test_verify_finds_damaged_records_and_unknown_versions(repo: Repository, db_url: str) -> None:
    sealer = Sealer([PrivateKey.generate().public_key])
    repo.publish_instrument("demo", "a" * 64, "{}", day=DAY)
    good = sealed_response(sealer, "good")
    truncated = sealed_response(sealer, "cut")
    repo.store_responses([
        good,
        NewResponse(**{**truncated.__dict__, "sealed": truncated.sealed[:60]}),
        NewResponse(**{**good.__dict__, "submission_id": "junk", "sealed": b"plain text"}),
        sealed_response(sealer, "v9", version=9),
    ])
    result = run("verify", "--db", db_url)
    assert result.exit_code == 1
    out = result.output
    assert "sealed records: 4 checked, 2 well-formed, 2 damaged" in out
    assert "  1 damaged: sealed record is truncated (recipient header) (response ids 2)" in out
    assert "  1 damaged: not an offramp sealed record (bad magic) (response ids 3)" in out
    assert "  problem: 1 responses of demo v9, a version never published" in out
    assert "verdict: 3 problem(s)" in out
    assert "plain text" not in out


def test_purge_drafts_and_exported_responses(repo: Repository, db_url: str) -> None:
    sealer = Sealer([PrivateKey.generate().public_key])
    today = dt.date.today()
    repo.save_draft("old", "demo", today - dt.timedelta(days=1), b"x")
    repo.save_draft("new", "demo", today + dt.timedelta(days=1), b"x")
    repo.store_responses([sealed_response(sealer, f"s{i}", DAY + dt.timedelta(days=i))
                          for i in range(4)])
    repo.mark_exported([r.response_id for r in repo.iter_responses()][:2])

    assert run("purge", "--db", db_url, "--drafts", "--dry-run").output == (
        "would purge 1 drafts past their TTL\n"
    )
    assert run("purge", "--db", db_url, "--drafts").output == "purged 1 drafts past their TTL\n"
    args = ["purge", "--db", db_url, "--responses", "--instrument", "demo",
            "--from", "2024-06-01", "--to", "2024-06-03"]
    assert run(*args, "--dry-run").output == (
        "would purge 2 responses of demo from 2024-06-01 to 2024-06-03; "
        "1 never exported (kept)\n"
    )
    refused = CliRunner().invoke(cli, ["store", *args], input="n\n")
    assert refused.exit_code == 1 and repo.count_responses() == 4
    done = run(*args, "--yes")
    assert done.exit_code == 0, done.output
    assert done.output == (
        "purged 2 responses of demo from 2024-06-01 to 2024-06-03; 1 never exported were kept\n"
    )
    assert repo.count_responses() == 2
    verify = run("verify", "--db", db_url).output
    assert f"purged on {today}: 1 drafts" in verify
    assert f"purged on {today}: 2 responses of demo from 2024-06-01 to 2024-06-03" in verify


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["purge", "--db", "sqlite:///x.sqlite"], "say what to purge"),
        (["purge", "--db", "sqlite:///x.sqlite", "--responses"], "needs --instrument"),
        (["verify"], "say which store"),
        (["verify", "--db", "sqlite:////nowhere/x.sqlite"], "no such database file"),
        (["purge", "--db", "SQLITE", "--drafts"], "is not a database URL"),
    ],
)
def test_bad_input_is_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.output.startswith("offramp: error: ") and message in result.output
    assert len(result.output.splitlines()) == 1


def test_backup_while_writing_is_consistent_and_checked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    repo = Repository(engine)
    sealer = Sealer([PrivateKey.generate().public_key])
    repo.publish_instrument("demo", "a" * 64, "{}")
    repo.store_responses([sealed_response(sealer, f"first{i}") for i in range(300)])
    stop = threading.Event()

    def keep_writing() -> None:
        i = 0
        while not stop.is_set():
            repo.store_response(**{
                k: v for k, v in sealed_response(sealer, f"live{i}").__dict__.items()
            })
            i += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = run("backup", "--db", url, "--out", str(tmp_path / "copy.sqlite"))
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    copied = int(result.output.split()[2])
    assert copied >= 300
    copy = sqlite3.connect(tmp_path / "copy.sqlite")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT count(*) FROM responses").fetchone()[0] == copied
    finally:
        copy.close()
    assert run("verify", "--db", f"sqlite:///{tmp_path / 'copy.sqlite'}").exit_code == 0
    again = run("backup", "--db", url, "--out", str(tmp_path / "copy.sqlite"))
    assert again.exit_code == 2 and "exists already" in again.output
    assert not list(tmp_path.glob(".*partial"))
    engine.dispose()


def test_backup_of_postgresql_points_at_pg_dump() -> None:
    result = run("backup", "--db", "postgresql://u@localhost/x", "--out", "x.dump")
    assert result.exit_code == 2
    assert "use pg_dump" in result.output and "pg_dump --format=custom" in result.output
