"""Load-test survey pages with wrk against a real `offramp serve` on loopback.

    .venv/bin/python benchmarks/bench_survey.py [--duration 10] [--connections 32]
        [--workers 1,2] [--respondents 256] [--db sqlite|postgresql://...]

The form is examples/forms/help_seeking.yaml (10 pages, 41 questions, English and Arabic). Before
the run, `--respondents` respondents are walked (over HTTP) to the page "attitudes" (a grid of six
questions). Each wrk request is then one respondent re-sending the page before it ("earlier
messages", three questions) with valid answers, as after the browser's Back button: the server
loads and decrypts the draft, parses the page, evaluates the skip logic of every page and the
progress, encrypts and saves the draft (one durable commit), and renders the grid page. Requests
rotate over the respondents. Figures printed, per number of workers:

  healthz     GET /healthz: the stack's ceiling (the naive baseline measured in the same run)
  start       GET /s/help_seeking: the consent page (new token, nothing stored)
  page        POST /s/help_seeking: one page render as described above (the figure that matters)

with requests/s, p50 and p99 latency, non-200 answers, and page as a share of the ceiling. wrk
runs with 2 threads on the same 2 cores as the server (and, on a busy machine, other work): read
the figures as relative.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import httpx

from _serve import free_port, start_server

ROOT = Path(__file__).resolve().parents[1]
FORM = ROOT / "examples" / "forms" / "help_seeking.yaml"
WALK: list[tuple[str, dict[str, str | list[str]]]] = [
    ("about", {"age_years": "34", "gender": "woman", "region": "south"}),
    ("place", {"area": "s_coast", "household": ["partner"]}),
    ("message", {"saw_message": "yes", "message_clear": "4", "message_feel": ["worried"]}),
    ("message_before", {"times_seen": "3", "first_seen": "month", "changed_search": "yes"}),
]
REPEATED = WALK[-1]


def encode(token: str, page: str, answers: dict[str, str | list[str]]) -> str:
    fields = [("token", token), ("page", page), ("nav", "next")]
    for name, value in answers.items():
        fields.extend((name, v) for v in ([value] if isinstance(value, str) else value))
    return urlencode(fields)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    if match is None:
        raise RuntimeError(f"no {name} in page: {html[:300]}")
    return match.group(1)


def prepare(base: str, count: int) -> list[str]:
    """Walk `count` respondents to the grid page; the bodies wrk will send for them."""
    bodies = []
    headers = {"content-type": "application/x-www-form-urlencoded"}
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(count):
            token = hidden(client.get("/s/help_seeking").text, "token")
            page = client.post("/s/help_seeking", headers=headers, content=urlencode(
                [("token", token), ("page", "consent"), ("nav", "accept")]))
            for page_id, answers in WALK:
                page = client.post("/s/help_seeking", headers=headers,
                                   content=encode(token, page_id, answers))
                if page.status_code != 200:
                    raise RuntimeError(f"walk failed on {page_id}: {page.status_code}")
            assert hidden(page.text, "page") == "attitudes"
            bodies.append(encode(token, *REPEATED))
    return bodies


def lua_rotating_posts(path: Path, bodies: list[str]) -> None:
    quoted = ",\n".join('"' + b.replace("\\", "\\\\").replace('"', '\\"') + '"' for b in bodies)
    path.write_text(
        "local bodies = {\n" + quoted + "\n}\n"
        "local i = 0\n"
        'local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}\n'
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        '  return wrk.format("POST", "/s/help_seeking", headers, bodies[i])\n'
        "end\n",
        encoding="utf-8",
    )


def wrk(url: str, duration: int, connections: int, script: Path | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script is not None:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def millis(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if match is None:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": float(rate.group(1)) if rate else float("nan"),
        "p50": millis("50%"),
        "p99": millis("99%"),
        "bad": float(bad.group(1)) if bad else 0.0,
        "requests": float(total.group(1)) if total else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def temporary_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def serve(config: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "offramp", "serve", "--config", str(config), "--port",
           str(port), "--workers", str(workers)]
    return start_server(cmd, port, log, timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--respondents", type=int, default=256)
    parser.add_argument("--db", default="sqlite",
                        help="sqlite (a temporary file), or a PostgreSQL server URL (a temporary "
                             "database is created there and dropped afterwards)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed")

    from offramp.vault.keys import generate

    folder = Path(tempfile.mkdtemp(prefix="bench-survey-"))
    try:
        keys = generate(folder / "keys", "benchmark passphrase", profile="interactive")
        shutil.copyfile(FORM, folder / FORM.name)
        print(f"form: {FORM.relative_to(ROOT)}; {args.respondents} respondents; "
              f"wrk -t2 -c{args.connections} -d{args.duration}s; cores: {os.cpu_count()}")
        print(f"{'workers':>7} {'endpoint':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'non-200':>8}")
        for workers in [int(w) for w in args.workers.split(",")]:
            db = (f"sqlite:///{folder / f'bench-{workers}.sqlite'}" if args.db == "sqlite"
                  else temporary_database(args.db, f"offramp_bench_{os.getpid()}_{workers}"))
            port = free_port()
            config = folder / f"offramp-{workers}.toml"
            config.write_text(
                f'database_url = "{db}"\n'
                f'instruments = ["{FORM.name}"]\n'
                f'public_keys = ["{keys.public}"]\n'
                "survey_rate = 1000000\nsurvey_burst = 1000000\n",
                encoding="utf-8",
            )
            process = serve(config, port, workers, folder / "server.log")
            try:
                base = f"http://127.0.0.1:{port}"
                script = folder / "post.lua"
                lua_rotating_posts(script, prepare(base, args.respondents))
                results = {
                    "healthz": wrk(f"{base}/healthz", args.duration, args.connections),
                    "start": wrk(f"{base}/s/help_seeking", args.duration, args.connections),
                    "page": wrk(base, args.duration, args.connections, script),
                }
            finally:
                process.terminate()
                process.wait(timeout=30)
                if args.db != "sqlite":
                    drop_database(args.db, db.rsplit("/", 1)[1])
            for name, figures in results.items():
                print(f"{workers:>7} {name:<8} {figures['rps']:>9.0f} {figures['p50']:>8.2f} "
                      f"{figures['p99']:>8.2f} {figures['bad']:>8.0f}")
            share = results["page"]["rps"] / results["healthz"]["rps"]
            print(f"{workers:>7} page renders at {share:.0%} of the /healthz ceiling")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
