"""A running server picks up a changed term list on SIGHUP; a bad new list leaves the old one."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from tests.conftest import KeyPair, free_port, start_server, stop_server, write_config


def _blocked(base: str, query: str) -> bool:
    response = httpx.post(f"{base}/api/v1/screen", json={"query": query}, timeout=5)
    assert response.status_code == 200
    return bool(response.json()["blocked"])


def _wait_for(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_sighup_reloads_and_a_broken_list_is_rejected(tmp_path: Path, keypair: KeyPair) -> None:
    port = free_port()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", keypair, port=port)
    server = start_server(config, port, tmp_path / "out.log")
    try:
        terms = tmp_path / "terms.txt"
        assert _blocked(server.base_url, "zorblax")
        assert not _blocked(server.base_url, "frimbule")

        terms.write_text("zorblax\nfrimbule\n", encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: _blocked(server.base_url, "frimbule"))

        # An unreadable list is refused; the list in force stays in force.
        terms.write_bytes(b"\xff\xfe not utf-8 \x00")
        server.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert server.process.poll() is None
        assert _blocked(server.base_url, "frimbule")
        assert _blocked(server.base_url, "zorblax")
    finally:
        stop_server(server)
    assert "frimbule" not in server.printed()
