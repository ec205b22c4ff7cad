"""Several researchers, then a rotation, on a real server: who can open what, and what is shown.

Two researchers' keys are in force; every response opens with either. The operator rotates to a
third key and restarts: new responses go to it, old ones still open with the old keys, the /keys
page and `offramp store verify` show the set in force, and a record copied to another row is
reported by the export as failed, with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from offramp.cli import cli
from offramp.data.decrypt import SEALED_TO_OTHERS
from offramp.data.export import run_export
from offramp.store import make_engine
from offramp.store.tables import responses
from offramp.vault.keys import fingerprint, generate, load_public_key
from tests.conftest import free_port, start_server, stop_server, write_config
from tests.store.live import UNLIMITED, complete_one

pytestmark = [pytest.mark.slow]
PASS = "shared passphrase for this test"


def _export(db_url: str, keys: list[Path], out: Path):  # type: ignore[no-untyped-def]
    return run_export(db_url, keys, ["csv"], out, passphrase=PASS).report


def test_several_recipients_then_rotation(db_url: str, keypair, tmp_path: Path) -> None:
    a = generate(tmp_path / "a", PASS, profile="interactive")
    b = generate(tmp_path / "b", PASS, profile="interactive")
    c = generate(tmp_path / "c", PASS, profile="interactive")
    port = free_port()
    config = write_config(tmp_path, db_url, keypair, port=port, extra=UNLIMITED)
    text = config.read_text()
    config.write_text(re.sub(r"public_keys = .*", f'public_keys = ["{a.public}", "{b.public}"]',
                             text))
    server = start_server(config, port, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.base_url, timeout=20) as http:
            for i in range(2):
                complete_one(http, f"before rotation {i}")
            shown = http.get("/keys").text
            as_json = http.get("/api/v1/keys").json()
    finally:
        stop_server(server)
    prints_ab = [fingerprint(load_public_key(k.public)) for k in (a, b)]
    assert all(f"<code>{p}</code>" in shown for p in prints_ab)
    assert as_json["fingerprints"] == prints_ab and as_json["since"]
    for key in (a, b):  # either researcher opens every response
        report = _export(db_url, [key.private], tmp_path / "out")
        assert (report.opened, report.failed) == (2, 0)

    rotated = CliRunner().invoke(cli, ["keys", "rotate", "--config", str(config), str(c.public)],
                                 env={"OFFRAMP_PUBLIC_KEYS": None})
    assert rotated.exit_code == 0, rotated.output
    server = start_server(config, port, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.base_url, timeout=20) as http:
            complete_one(http, "after rotation")
            assert http.get("/api/v1/keys").json()["fingerprints"] == [
                fingerprint(load_public_key(c.public))
            ]
    finally:
        stop_server(server)

    old_only = _export(db_url, [a.private], tmp_path / "out")
    assert (old_only.opened, old_only.failed) == (2, 1)
    assert old_only.failures == {SEALED_TO_OTHERS: 1}
    new_only = _export(db_url, [c.private], tmp_path / "out")
    assert (new_only.opened, new_only.failed) == (1, 2)
    both = _export(db_url, [b.private, c.private], tmp_path / "out")
    assert (both.opened, both.failed) == (3, 0)

    verify = CliRunner().invoke(cli, ["store", "verify", "--config", str(config)],
                                env={"OFFRAMP_PUBLIC_KEYS": None})
    assert verify.exit_code == 0, verify.output
    assert "(in force):\n    " + fingerprint(load_public_key(c.public)) in verify.output
    assert "  2 records, since" in verify.output

    # Someone with database access copies a response into a new row: the copy does not open.
    engine = make_engine(db_url)
    with engine.begin() as conn:
        row = conn.execute(select(responses).order_by(responses.c.response_id)).first()
        assert row is not None
        copy = {k: v for k, v in row._mapping.items() if k != "response_id"}
        conn.execute(insert(responses).values(**{**copy, "submission_id": "f" * 64}))
    engine.dispose()
    result = CliRunner().invoke(
        cli, ["export", "--db", db_url, "--key", str(b.private), "--key", str(c.private),
              "--out", str(tmp_path / "out")], env={"OFFRAMP_PASSPHRASE": PASS},
    )
    assert result.exit_code == 1
    assert "opened 3 responses; 1 failed" in result.output
    assert ("1 failed: record fails its integrity check: altered, or moved to another "
            "instrument, page, arm, language, day or submission") in result.output
