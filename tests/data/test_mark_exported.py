"""`offramp export` marks what it wrote as exported, so retention can purge exactly that.

Real store (SQLite and PostgreSQL), real vault, real CLI for the purge: records sealed to another
key or altered on disk fail to open, stay unmarked, and survive `store purge --responses`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from offramp.cli import cli
from offramp.data import export as export_module
from offramp.store import make_engine
from offramp.store.tables import responses
from offramp.vault.keys import generate
from tests.data.conftest import make_instrument, rich_people, seal_into


def _rows(db_url: str) -> dict[int, Any]:
    """response_id -> exported_day of every stored record."""
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(responses.c.response_id, responses.c.exported_day)).all()
    engine.dispose()
    return {int(r[0]): r[1] for r in rows}


def _store_with_failures(db_url: str, keypair: Any, tmp_path: Path) -> set[int]:
    """12 records that open, 2 sealed to another key, 1 altered; returns the failing ids."""
    other = generate(tmp_path / "other", "another passphrase", profile="interactive")
    instrument = make_instrument()
    people = rich_people(instrument, 15)
    seal_into(db_url, keypair.public, instrument, people[:13])
    seal_into(db_url, other.public, instrument, people[13:])
    engine = make_engine(db_url)
    with engine.begin() as conn:
        ids = [int(r[0]) for r in conn.execute(
            select(responses.c.response_id).order_by(responses.c.response_id))]
        conn.execute(update(responses).where(responses.c.response_id == ids[4])
                     .values(arm="moved"))  # fails its integrity check
    engine.dispose()
    return {ids[4], *ids[13:]}


@pytest.mark.parametrize("jobs", [1, 2])
def test_export_then_purge_removes_exactly_the_exported(
    db_url: str, keypair: Any, tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = _store_with_failures(db_url, keypair, tmp_path)
    before = _rows(db_url)
    assert all(day is None for day in before.values())
    monkeypatch.setattr(export_module, "BATCH", 4)  # several batches across the workers
    result = export_module.run_export(db_url, [keypair.private], ["parquet"], tmp_path / "out",
                                      passphrase=keypair.passphrase, jobs=jobs)
    assert result.report.opened == 12 and result.report.failed == 3
    assert result.marked == 12
    assert all(path.exists() for path in result.written)
    after = _rows(db_url)
    assert {i for i, day in after.items() if day is None} == failing

    purge = CliRunner().invoke(cli, [
        "store", "purge", "--db", db_url, "--responses", "--instrument", "study",
        "--from", "2024-01-01", "--to", "2024-12-31", "--yes",
    ])
    assert purge.exit_code == 0, purge.output
    assert "purged 12 responses" in purge.output and "3 never exported were kept" in purge.output
    assert set(_rows(db_url)) == failing


def test_cli_reports_the_marking_and_no_mark_leaves_the_store_alone(
    db_url: str, keypair: Any, tmp_path: Path
) -> None:
    failing = _store_with_failures(db_url, keypair, tmp_path)
    base = ["export", "--db", db_url, "--key", str(keypair.private), "--format", "csv"]
    env = {"OFFRAMP_PASSPHRASE": keypair.passphrase}
    trial = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "a"), "--no-mark"], env=env)
    assert trial.exit_code == 1, trial.output  # some records failed
    assert "marked" not in trial.stdout
    assert all(day is None for day in _rows(db_url).values())

    real = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "b")], env=env)
    assert real.exit_code == 1, real.output
    assert "marked 12 responses exported in the store" in real.stdout
    assert {i for i, day in _rows(db_url).items() if day is None} == failing


def test_nothing_is_marked_when_a_file_could_not_be_written(
    db_url: str, keypair: Any, tmp_path: Path
) -> None:
    _store_with_failures(db_url, keypair, tmp_path)
    out = tmp_path / "out"
    (out / "study.codebook.json").mkdir(parents=True)  # the last file written cannot replace it
    with pytest.raises(OSError):
        export_module.run_export(db_url, [keypair.private], ["csv"], out,
                                 passphrase=keypair.passphrase)
    assert (out / "study.csv").exists()  # the data file was written, the export was not whole
    assert all(day is None for day in _rows(db_url).values())
