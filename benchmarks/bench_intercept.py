"""Load-test the intercept endpoints with wrk against a real `offramp serve` on loopback.

    .venv/bin/python benchmarks/bench_intercept.py [--duration 10] [--connections 32]
        [--servers uvicorn:1,uvicorn:2,granian:1,granian:2] [--terms 20000]

For each server set-up it prints requests/s and p99 latency of:
  healthz     GET /healthz: the stack's ceiling (the naive baseline measured in the same run)
  screen      POST /api/v1/screen, one query (real screening of a 20,000-term list, security
              headers, flood limit and counters on)
  intercept   GET /intercept: the interstitial page (arm draw, impression counted, template)
  batch       POST /api/v1/screen/batch with 1,000 queries (figure: queries/s)
and the screen figure as a share of the ceiling. wrk runs in its own process with 2 threads.
The machine has 2 cores shared with the server (and, on a busy machine, with other work):
read the figures as relative.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
import tempfile
from pathlib import Path

from _serve import free_port, start_server

QUERY_WORDS = ["weather", "recipes", "train", "times", "news", "football", "map", "cinema",
               "holiday", "insurance", "zorblax", "quillion"]


def make_terms(path: Path, count: int, rng: random.Random) -> None:
    """Invented tokens only, plus the demo's; never real vocabulary."""
    lines = ["zorblax", "quillion", "vexmora", "plindrath oskette"]
    while len(lines) < count:
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 11)))
        lines.append(word if rng.random() < 0.8 else f"{word} {rng.choice(QUERY_WORDS)}x")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def query(rng: random.Random) -> str:
    return " ".join(rng.choice(QUERY_WORDS[:-2]) for _ in range(rng.randint(2, 5))) + (
        " zorblax" if rng.random() < 0.05 else "")


def lua_post(path: Path, body: str) -> None:
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body)}\n",
        encoding="utf-8",
    )


def start(kind: str, workers: int, config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OFFRAMP_CONFIG": str(config)}
    if kind == "uvicorn":
        cmd = [sys.executable, "-m", "offramp", "serve", "--config", str(config), "--port",
               str(port), "--workers", str(workers)]
    else:
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host",
               "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log",
               "--log-level", "warning", "offramp.serve:app_from_environment"]
    return start_server(cmd, port, log, timeout=60, env=env)


def wrk(url: str, duration: int, connections: int, script: Path | None) -> tuple[float, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script is not None:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"    warning: {errors.group(1)} non-2xx/3xx responses", flush=True)
    return rate, float(p99.group(1)) * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--servers", default="uvicorn:1,uvicorn:2,granian:1,granian:2")
    parser.add_argument("--terms", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    rng = random.Random(7)
    folder = Path(tempfile.mkdtemp(prefix="bench-intercept-"))
    make_terms(folder / "terms.txt", args.terms, rng)
    config = folder / "offramp.toml"
    config.write_text(
        f'database_url = "sqlite:///{folder / "bench.sqlite"}"\nterms = "terms.txt"\n'
        'max_inflight = 100000\n[arms."*"]\ncontrol = 1\nsupportive = 1\n', encoding="utf-8")
    lua_post(folder / "screen.lua", json.dumps({"query": query(rng)}))
    # Distinct queries (a serial number each), so the server's per-batch memo saves nothing.
    batch = [f"{query(rng)} {i}" for i in range(args.batch)]
    lua_post(folder / "batch.lua", json.dumps({"queries": batch}))
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s; {args.terms} terms; "
          f"batch of {args.batch}; {os.cpu_count()} cores; load average before: "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'server':<11}{'endpoint':<11}{'req/s':>10}{'p99 ms':>9}{'of ceiling':>12}"
          f"{'queries/s':>12}", flush=True)
    for setup in args.servers.split(","):
        kind, workers = setup.split(":")
        port = free_port()
        process = start(kind, int(workers), config, port, folder / f"{kind}{workers}.log")
        base = f"http://127.0.0.1:{port}"
        try:
            wrk(f"{base}/healthz", 2, args.connections, None)  # warm-up
            ceiling, p99 = wrk(f"{base}/healthz", args.duration, args.connections, None)
            print(f"{setup:<11}{'healthz':<11}{ceiling:>10.0f}{p99:>9.2f}{'100%':>12}", flush=True)
            for name, path, script in (("screen", "/api/v1/screen", "screen.lua"),
                                       ("intercept", "/intercept", None),
                                       ("batch", "/api/v1/screen/batch", "batch.lua")):
                rate, p99 = wrk(f"{base}{path}", args.duration, args.connections,
                                folder / script if script else None)
                queries = f"{rate * args.batch:>12.0f}" if name == "batch" else ""
                print(f"{setup:<11}{name:<11}{rate:>10.0f}{p99:>9.2f}"
                      f"{rate / ceiling:>11.0%} {queries}", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
