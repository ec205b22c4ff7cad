"""`offramp export` as a researcher meets it: failures counted by reason, bad input in one line.

Records are sealed through the real vault into a real store (SQLite and PostgreSQL); damaged,
foreign and malformed records are made the way they would arise (sealed to another key, altered
bytes, a moved context, a payload that is not a response), never by mocking the opener.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from offramp.cli import cli
from offramp.data.decrypt import NOT_A_RESPONSE, NOT_JSON, SEALED_TO_OTHERS
from offramp.store import make_engine
from offramp.store.tables import responses
from offramp.vault.keys import generate, load_public_key
from offramp.vault.sealing import SealContext, seal
from tests.data.conftest import Synthetic, make_instrument, rich_people, seal_into


def _export(db_url: str, key: Path, out: Path, passphrase: str | None, *extra: str) -> Any:
    env = {"OFFRAMP_PASSPHRASE": passphrase} if passphrase is not None else {}
    return CliRunner().invoke(
        cli, ["export", "--db", db_url, "--key", str(key), "--out", str(out), *extra],
        env=env, catch_exceptions=False,
    )


@pytest.fixture
def other_keypair(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("other"), "another passphrase", profile="interactive")


def test_failures_are_counted_by_reason_and_exit_nonzero(
    db_url: str, keypair: Any, other_keypair: Any, tmp_path: Path
) -> None:
    instrument = make_instrument()
    people = rich_people(instrument, 10)
    _, version = seal_into(db_url, keypair.public, instrument, people)
    # Two records sealed to someone else's key only.
    seal_into(db_url, other_keypair.public, instrument, people[:2])
    # One record whose plain text is not JSON, one that is JSON but not a response.
    seal_into(db_url, keypair.public, instrument, people[:2],
              payloads=[b"\xff not json", json.dumps([1, 2]).encode()])
    engine = make_engine(db_url)
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(select(responses.c.response_id).order_by(
            responses.c.response_id))]
        # One record altered on disk, one moved to another experiment arm.
        blob = conn.execute(select(responses.c.sealed).where(
            responses.c.response_id == ids[0])).scalar_one()
        damaged = bytes(blob[:-1]) + bytes([blob[-1] ^ 1])
        conn.execute(update(responses).where(responses.c.response_id == ids[0])
                     .values(sealed=damaged))
        conn.execute(update(responses).where(responses.c.response_id == ids[1])
                     .values(arm="moved"))
    # One record of an instrument version that was never published.
    public = load_public_key(keypair.public)
    context = SealContext("study", version + 5, "p3", "none", "en", "2024-05-01")
    with engine.begin() as conn:
        conn.execute(responses.insert().values(
            submission_id="unpublished", instrument_id="study", instrument_version=version + 5,
            page_id="p3", arm="none", language="en", day=dt.date(2024, 5, 1), seconds=1,
            sealed=seal(json.dumps({"answers": {}, "shown": []}).encode(), context, [public]),
        ))
    engine.dispose()

    out = tmp_path / "out"
    result = _export(db_url, keypair.private, out, keypair.passphrase, "--format", "parquet")
    assert result.exit_code == 1, result.output
    assert "opened 8 responses; 7 failed" in result.stdout
    assert f"  2 failed: {SEALED_TO_OTHERS}" in result.stderr
    assert f"  1 failed: {NOT_JSON}" in result.stderr
    assert f"  1 failed: {NOT_A_RESPONSE}" in result.stderr
    assert result.stderr.count("record fails its integrity check") == 1
    assert "  2 failed: record fails its integrity check" in result.stderr
    assert "which is not published in this database" in result.stderr
    data = pl.read_parquet(out / "study.parquet")
    assert data.height == 8
    codebook = json.loads((out / "study.codebook.json").read_text())
    assert codebook["export"]["opened"] == 8
    assert sum(codebook["export"]["failed"].values()) == 7


def test_wrong_key_is_one_line_and_exit_2(
    db_url: str, keypair: Any, other_keypair: Any, tmp_path: Path
) -> None:
    instrument = make_instrument()
    seal_into(db_url, keypair.public, instrument, rich_people(instrument, 3))
    out = tmp_path / "out"
    result = _export(db_url, other_keypair.private, out, "another passphrase")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("offramp: error: none of the 3 responses is sealed to the given key")
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())  # nothing half-written


def test_wrong_passphrase_is_one_line_and_exit_2(
    db_url: str, keypair: Any, tmp_path: Path
) -> None:
    instrument = make_instrument()
    seal_into(db_url, keypair.public, instrument, rich_people(instrument, 2))
    result = _export(db_url, keypair.private, tmp_path / "out", "not the passphrase")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "wrong passphrase" in lines[0], result.stderr


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no passphrase", "no passphrase given"),
        ("public key instead", "not an offramp private key"),
        ("missing key file", "no such key file"),
        ("missing database", "no such database file"),
        ("unknown instrument", "no instrument 'nope' in this database"),
        ("unreachable server", "the response store cannot be reached"),
    ],
)
def test_bad_input_is_one_clear_line(
    case: str, expected: str, keypair: Any, tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite"
    instrument = make_instrument()
    seal_into(f"sqlite:///{db}", keypair.public, instrument,
              [Synthetic({"age": 30}, ["age"])])
    db_url, key, passphrase, extra = f"sqlite:///{db}", keypair.private, keypair.passphrase, []
    if case == "no passphrase":
        passphrase = None
    elif case == "public key instead":
        key = keypair.public
    elif case == "missing key file":
        key = tmp_path / "absent.key"
    elif case == "missing database":
        db_url = f"sqlite:///{tmp_path / 'typo.sqlite'}"
    elif case == "unknown instrument":
        extra = ["--instrument", "nope"]
    else:
        db_url = "postgresql://nobody@127.0.0.1:1/none"
    result = _export(db_url, key, tmp_path / "out", passphrase, *extra)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("offramp: error: ") and expected in lines[0], lines[0]
    assert not (tmp_path / "typo.sqlite").exists()


def test_every_format_at_once_and_the_summary(db_url: str, keypair: Any, tmp_path: Path) -> None:
    instrument = make_instrument()
    seal_into(db_url, keypair.public, instrument, rich_people(instrument, 12))
    out = tmp_path / "out"
    args = [a for f in ("parquet", "csv", "sav", "dta", "xlsx") for a in ("--format", f)]
    result = _export(db_url, keypair.private, out, keypair.passphrase, *args)
    assert result.exit_code == 0, result.output
    assert "opened 12 responses; 0 failed" in result.stdout
    for suffix in ("parquet", "csv", "sav", "dta", "xlsx", "codebook.json", "codebook.html"):
        assert f"wrote {out / ('study.' + suffix)}" in result.stdout


def test_parallel_open_gives_the_same_dataset(db_url: str, keypair: Any, tmp_path: Path) -> None:
    from offramp.data import export as export_module

    instrument = make_instrument()
    seal_into(db_url, keypair.public, instrument, rich_people(instrument, 30))
    one = export_module.run_export(db_url, [keypair.private], ["parquet"], tmp_path / "one",
                                   passphrase=keypair.passphrase)
    original = export_module.BATCH
    export_module.BATCH = 7  # several batches across the two workers
    try:
        two = export_module.run_export(db_url, [keypair.private], ["parquet"], tmp_path / "two",
                                       passphrase=keypair.passphrase, jobs=2)
    finally:
        export_module.BATCH = original
    assert one.data is not None and two.data is not None
    assert two.data.equals(one.data)
    assert two.report.opened == one.report.opened == 30


def test_two_instruments_share_one_dataset(db_url: str, keypair: Any, tmp_path: Path) -> None:
    from offramp.survey.instrument import Instrument, Page, Question

    study = make_instrument()
    other = Instrument("pilot", {"en": "Pilot"}, ("en",), "en",
                       (Page("only", {}, (Question("mood", "integer", {"en": "Mood"}),)),))
    seal_into(db_url, keypair.public, study, rich_people(study, 3))
    seal_into(db_url, keypair.public, other, [Synthetic({"mood": 4}, ["mood"])])
    out = tmp_path / "out"
    result = _export(db_url, keypair.private, out, keypair.passphrase, "--format", "parquet")
    assert result.exit_code == 0, result.output
    data = pl.read_parquet(out / "responses.parquet")
    assert data["instrument_id"].to_list() == ["study"] * 3 + ["pilot"]
    assert data["mood"].to_list() == [-99, -99, -99, 4]  # not asked of the study's respondents
    assert data["age"][3] == -99
    codebook = json.loads((out / "responses.codebook.json").read_text())
    assert {i["id"] for i in codebook["instruments"]} == {"study", "pilot"}
