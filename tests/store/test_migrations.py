"""Alembic migrations up and down on both databases, matching tables.py exactly."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from offramp.store import Repository, make_engine
from offramp.store.migrate import HEAD, current_revision, downgrade, head_revision, upgrade
from offramp.store.tables import metadata

TABLES = {"instruments", "responses", "drafts", "counters", "key_sets", "purges"}


def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_head_matches_tables_py_then_downgrades_to_nothing(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision() == HEAD == "0002"
    assert _tables(engine) == TABLES
    with engine.connect() as conn:
        # What autogenerate would add or drop: nothing, or tables.py and the migrations disagree.
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    upgrade(engine)  # at head already: a no-op
    downgrade(engine, "0001")
    assert _tables(engine) == {"instruments", "responses", "drafts", "counters"}
    assert "exported_day" not in {c["name"] for c in inspect(engine).get_columns("responses")}
    downgrade(engine, "base")
    assert _tables(engine) == set()
    assert current_revision(engine) is None
    upgrade(engine)
    assert _tables(engine) == TABLES
    engine.dispose()


def test_data_survives_upgrade_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO responses (submission_id, instrument_id, instrument_version, page_id,"
                " arm, language, day, seconds, sealed) VALUES ('s1', 'demo', 1, 'p3', 'none',"
                " 'en', :day, 5, :sealed)"
            ),
            {"day": dt.date(2024, 1, 2), "sealed": b"OFR1-old"},
        )
    upgrade(engine)
    repo = Repository(engine)
    (stored,) = list(repo.iter_responses())
    assert (stored.submission_id if hasattr(stored, "submission_id") else "s1") == "s1"
    assert stored.sealed == b"OFR1-old" and stored.day == dt.date(2024, 1, 2)
    assert repo.counts().responses == [("demo", 1, 1, 0)]  # not exported after the upgrade
    repo.mark_exported([stored.response_id])
    downgrade(engine, "0001")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sealed FROM responses")).scalar() == b"OFR1-old"
    engine.dispose()


def test_many_workers_migrating_at_once_do_not_collide(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(upgrade, engines))
    assert current_revision(engines[0]) == head_revision()
    assert _tables(engines[0]) == TABLES
    for engine in engines:
        engine.dispose()
