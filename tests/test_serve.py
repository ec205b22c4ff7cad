"""What each server process does once it has started (offramp.serve)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from offramp.serve import CONFIG_ENV, app_from_environment
from tests.conftest import KeyPair, write_config


def test_a_worker_keeps_what_start_up_made_out_of_the_collectors_reach(
    tmp_path: Path, keypair: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full collection walked all ~110,000 objects of a started server (48-62 ms, stopping
    the event loop); frozen after start-up, the app and its services are no longer walked."""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'store.sqlite'}", keypair)
    monkeypatch.setenv(CONFIG_ENV, str(config))
    gc.unfreeze()
    try:
        app = app_from_environment()
        services = app.state.services
        assert gc.get_freeze_count() > 10_000
        walked = gc.get_objects()  # what a full collection looks at: the frozen are not in it
        assert not any(o is app or o is services for o in walked)
        del walked
        made_later: list[list[object]] = [[]]  # a list is always tracked by the collector
        assert any(o is made_later for o in gc.get_objects())  # later objects still are
    finally:
        gc.unfreeze()
        app.state.services.repository.engine.dispose()
