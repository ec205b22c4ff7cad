"""Fixtures shared by the store tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from offramp.store import Repository, make_engine, upgrade


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    """A migrated store on each database (db_url runs a test on SQLite and on PostgreSQL)."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield Repository(engine)
    engine.dispose()
