"""Starting a real server for the load benchmarks: a free port, and waiting until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(cmd: Sequence[str], port: int, log: Path, *, timeout: float = 90,
                 env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Run `cmd` with its output in `log`; return once GET /healthz on `port` answers 200.
    Exits the benchmark with the log if the server stops or does not answer in time."""
    with log.open("ab") as out:
        process = subprocess.Popen(list(cmd), env=dict(env or os.environ), stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as reply:
                if reply.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start:\n{log.read_text()}")
