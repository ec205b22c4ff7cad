"""Against a real `offramp serve`: schemathesis, a flood, and what the server prints."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from offramp.store import Repository, make_engine
from tests.conftest import KeyPair, LiveServer, free_port, start_server, stop_server, write_config

pytestmark = [pytest.mark.slow]

IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
IPV6 = re.compile(r"\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}\b|::1\b", re.IGNORECASE)


def _serve(tmp_path: Path, keypair: KeyPair, extra: str = "") -> LiveServer:
    port = free_port()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'live.sqlite'}", keypair, port=port,
                          extra=extra)
    return start_server(config, port, tmp_path / "server-output.log")


def test_schemathesis_finds_no_server_error(tmp_path: Path, keypair: KeyPair) -> None:
    server = _serve(tmp_path, keypair)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{server.base_url}/openapi.json",
             # negative_data_rejection is left out: it does not count 413 (our body cap) as a
             # rejection of an oversized batch.
             "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
             "response_schema_conformance",
             "--max-examples", "40", "--workers", "1", "--seed", "4", "--no-color"],
            capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
        )
    finally:
        stop_server(server)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
    assert "Traceback" not in server.printed() and "internal error" not in server.printed()


def _hold_slot(base_url: str) -> socket.socket:
    """A request whose body never arrives: it occupies one in-flight slot until closed."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"POST /api/v1/screen HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")
    return sock


def test_a_flood_gets_clear_answers_and_counters_never_go_backwards(
    tmp_path: Path, keypair: KeyPair
) -> None:
    server = _serve(tmp_path, keypair, extra="max_inflight = 3\n")
    held = [_hold_slot(server.base_url) for _ in range(3)]
    try:
        with httpx.Client(base_url=server.base_url) as http:
            busy = None
            for _ in range(50):  # the held requests reach the app within moments
                busy = http.post("/api/v1/screen", json={"query": "x"})
                if busy.status_code == 503:
                    break
            assert busy is not None and busy.status_code == 503
            assert busy.headers["retry-after"] == "1" and "busy" in busy.text
            assert http.get("/healthz").status_code == 200  # liveness still answers
        for sock in held:
            sock.close()
        held = []

        # A fresh connection per request: no race with the server closing an idle keep-alive
        # connection on a loaded machine (that would be a client-side reset, not an answer).
        with httpx.Client(base_url=server.base_url, headers={"connection": "close"},
                          limits=httpx.Limits(max_connections=16)) as shared:

            def hit(i: int) -> int:
                if i % 2:
                    return shared.get("/intercept").status_code
                return shared.post("/api/v1/screen", json={"query": f"q{i}"}).status_code

            with ThreadPoolExecutor(16) as pool:
                statuses = list(pool.map(hit, range(400)))
        assert set(statuses) <= {200, 503}
        served_pages = sum(1 for i, s in enumerate(statuses) if i % 2 and s == 200)
    finally:
        for sock in held:
            sock.close()
        stop_server(server)
    engine = make_engine(f"sqlite:///{tmp_path / 'live.sqlite'}")
    rows = Repository(engine).read_counts()
    engine.dispose()
    assert sum(r.count for r in rows if r.event == "impression") == served_pages


def test_server_output_never_holds_an_address_a_user_agent_or_a_query(
    tmp_path: Path, keypair: KeyPair
) -> None:
    marker = uuid.uuid4().hex[:12]
    agent = f"Mozilla/5.0 (X11; Linux) AgentMarker{marker}"
    server = _serve(tmp_path, keypair, extra='log_level = "debug"\n')
    headers = {"user-agent": agent, "x-forwarded-for": "203.0.113.77", "x-real-ip": "198.51.100.9",
               "referer": f"https://search.example/?q=zorblax+ref{marker}",
               "accept-language": "ar,en;q=0.5"}
    query = f"where to find zorblax qry{marker}"
    try:
        with httpx.Client(base_url=server.base_url, headers=headers) as http:
            http.get("/demo/search", params={"q": query})
            http.get("/demo/search", params={"q": f"harmless qry{marker}"})
            http.get("/intercept", params={"lang": f"x{marker}", "q": query})
            http.get(f"/go/help?arm=qry{marker}&lang=en")
            http.get(f"/go/qry{marker}")
            http.get(f"/nothing/qry{marker}")
            http.post("/api/v1/screen", json={"query": query})
            http.post("/api/v1/screen", content=f"qry{marker}".encode(),
                      headers={"content-type": "application/json"})
            http.post("/api/v1/screen/batch", json={"queries": [query, "x" * 20_000]})
            http.get("/api/v1/screen/auth", headers={"x-original-uri": f"/s?q={query}"})
            http.get("/s/demo", params={"lang": "en", "arm": f"qry{marker}"})
            http.post("/api/v1/screen", content=b"x" * 100_000,
                      headers={"content-type": "application/json"})
        # A malformed request line, as scanners send.
        host, port = server.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(f"GET /qry{marker} HTTP/9\r\n\r\n".encode())
            sock.recv(1024)
    finally:
        stop_server(server)
    printed = server.printed()
    for needle in (marker, "zorblax", "Mozilla", "AgentMarker", "203.0.113", "198.51.100"):
        assert needle not in printed, needle
    assert not IPV4.search(printed), IPV4.search(printed)
    assert not IPV6.search(printed), IPV6.search(printed)
