"""Benchmark: the final-submit HTTP path, completed responses/s and latency, with wrk.

Run: .venv/bin/python benchmarks/bench_store_http.py [--db sqlite|postgres] [--workers 2]
                                                     [--connections 64,32,16] [--seconds 10]

A real `offramp serve` (the demo survey, no rate limit) is started in a temporary folder. Many
respondents are put on the survey's last page first: one is walked there over HTTP, and its
encrypted draft is cloned for every other token, so the run measures only the final submit (load
the draft, check the page, seal, commit durably, answer "thank you"). wrk, a separate process,
posts each token's last page once, with --connections in flight (one run for each number given).
Every reply must be the thank-you page; afterwards the store must hold at least as many responses
as wrk counted, and every one of them must open with the private key.

Figures printed, each beside a naive baseline measured in the same run: the same server with
group_commit = false (one commit per response) against offramp's group commit. PostgreSQL uses
OFFRAMP_TEST_POSTGRES_URL (a throwaway schema).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from _serve import free_port, start_server
from offramp.data.decrypt import context_of
from offramp.store import Repository, make_engine
from offramp.survey.session import SurveyState, _context
from offramp.vault.drafts import decrypt_draft, encrypt_draft, token_hash
from offramp.vault.keys import generate, load_private_key
from offramp.vault.sealing import Opener

ASSETS = Path(__file__).resolve().parent.parent / "src" / "offramp" / "demo_assets"
PASSPHRASE = "benchmark passphrase"  # noqa: S105 - a throwaway key made for this run
LUA = r"""
local tokens = {}
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
function init(args)
  for line in io.lines(args[1]) do table.insert(tokens, line) end
  step = tonumber(args[2])
  idx = id + 1
  wrapped = 0
  resent = 0
  bad = 0
end
function request()
  if idx > #tokens then idx = idx - #tokens; wrapped = 1 end
  resent = resent + wrapped  -- every request after a wrap re-sends a submitted token
  local t = tokens[idx]
  idx = idx + step
  local body = "token=" .. t .. "&page=p3&lang=en&arm=none&nav=next&comments=benchmark+comment"
  return wrk.format("POST", "/s/demo",
    {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, "<h1>Thank you</h1>", 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b, w = 0, 0
  for _, thread in ipairs(threads) do
    b = b + thread:get("bad"); w = w + thread:get("resent")
  end
  io.write(string.format("RESULT requests=%d bad=%d resent=%d p50=%d p99=%d max=%d\n",
    summary.requests, b, w, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending += [int(c) for c in children]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


@dataclass
class Run:
    rate: float
    requests: int
    bad: int
    resent: int  # requests that re-sent an already submitted token (idempotent resubmits)
    p50_ms: float
    p99_ms: float
    max_ms: float
    stored: int
    cpu_ms: float  # server CPU per reply, whatever else the machine was doing


def start(config: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "offramp", "serve", "--config", str(config), "--port",
           str(port), "--workers", str(workers)]
    return start_server(cmd, port, log)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def walk_to_last_page(base: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as http:
        html = http.get("/s/demo").text
        token = re.search(r'name="token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        for page, answers in (("consent", {"nav": "accept"}),
                              ("p1", {"sought_help": "no"}), ("p2", {"would_help": "warning"})):
            fields = {"token": token, "page": page, "lang": "en", "arm": "none", "nav": "next",
                      **answers}
            response = http.post("/s/demo", data=fields)
            response.raise_for_status()
        assert 'value="p3"' in response.text
    return token


def clone_drafts(repo: Repository, template_token: str, count: int, out: Path) -> None:
    """Put `count` respondents on the last page, each with its own token and draft."""
    blob = repo.load_draft(token_hash(template_token))
    assert blob is not None
    state = SurveyState.from_bytes(decrypt_draft(template_token, blob, _context("demo")))
    expires = dt.date.today() + dt.timedelta(days=2)
    tokens = []
    rows = []
    for _ in range(count):
        token = secrets.token_urlsafe(32)
        state.seed = secrets.randbits(32)
        tokens.append(token)
        rows.append((token_hash(token), "demo", expires,
                     encrypt_draft(token, state.to_bytes(), _context("demo"))))
        if len(rows) == 2000:
            repo.save_drafts(rows)
            rows = []
    repo.save_drafts(rows)
    out.write_text("\n".join(tokens) + "\n")


def one_run(folder: Path, db_url: str, args: argparse.Namespace, keys, group_commit: bool,  # type: ignore[no-untyped-def]
            connections: int) -> Run:
    port = free_port()
    config = folder / f"offramp-{group_commit}.toml"
    config.write_text(
        f'database_url = "{db_url}"\n'
        f'instruments = ["{ASSETS / "survey.yaml"}"]\n'
        f'public_keys = ["{keys.public}"]\n'
        "survey_rate = 1000000\nsurvey_burst = 1000000\nmax_inflight = 100000\n"
        f"group_commit = {'true' if group_commit else 'false'}\n"
        f"log_level = \"warning\"\nport = {port}\n"
    )
    server = start(config, port, args.workers, folder / "server.log")
    engine = make_engine(db_url)
    repo = Repository(engine, group_commit=False)
    before = repo.count_responses()
    try:
        template = walk_to_last_page(f"http://127.0.0.1:{port}")
        tokens = folder / "tokens.txt"
        clone_drafts(repo, template, args.tokens, tokens)
        script = folder / "final_submit.lua"
        script.write_text(LUA)
        threads = 2
        cpu_before = cpu_seconds(server.pid)
        completed = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{args.seconds}s", "--latency",
             "-s", str(script), f"http://127.0.0.1:{port}", "--", str(tokens), str(threads)],
            capture_output=True, text=True, check=True,
        )
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        stop(server)
    out = completed.stdout
    result = re.search(r"RESULT requests=(\d+) bad=(\d+) resent=(\d+) p50=(\d+) p99=(\d+) "
                       r"max=(\d+)", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert result and rate, out
    stored = repo.count_responses() - before
    engine.dispose()
    requests, bad, resent = (int(result.group(i)) for i in (1, 2, 3))
    return Run(float(rate.group(1)), requests, bad, resent,
               *(int(result.group(i)) / 1000 for i in (4, 5, 6)), stored,
               cpu * 1000 / max(requests, 1))


def check_store(db_url: str, keys) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    repo = Repository(engine, group_commit=False)
    opener = Opener([load_private_key(keys.private, PASSPHRASE)])
    records = ((s.sealed, context_of(s)) for s in repo.iter_responses())
    results = list(opener.open_many(records))
    engine.dispose()
    return len(results), sum(isinstance(r, Exception) for r in results)


def report(label: str, run: Run) -> None:
    print(f"  {label:<34} {run.rate:>8,.0f} responses/s   p50 {run.p50_ms:6.1f} ms   "
          f"p99 {run.p99_ms:6.1f} ms   max {run.max_ms:7.1f} ms")
    print(f"  {'':<34} {run.requests:,} replies, {run.bad} not 'thank you', "
          f"{run.resent} resubmits; store grew by {run.stored:,}; "
          f"server CPU {run.cpu_ms:.2f} ms per reply")
    if run.bad or run.stored < run.requests - run.resent:
        raise SystemExit("FAILED: a reply was not 'thank you' or a thanked response is missing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", default="64,32,16",
                        help="comma-separated: one run of each kind per number of connections "
                             "(fewer in flight: less queueing, smaller batches)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=100000)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}, "
          f"{args.workers} worker(s), {args.connections} connections, {args.seconds} s each")
    counts = [int(c) for c in args.connections.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="offramp-bench-"))
    schema = None
    try:
        keys = generate(folder / "keys", PASSPHRASE, profile="interactive")
        if args.db == "sqlite":
            db_url = f"sqlite:///{folder / 'bench.sqlite'}"
        else:
            import psycopg

            admin = os.environ.get("OFFRAMP_TEST_POSTGRES_URL")
            if not admin:
                raise SystemExit("set OFFRAMP_TEST_POSTGRES_URL for --db postgres")
            schema = f"offramp_bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            separator = "&" if "?" in admin else "?"
            db_url = f"{admin}{separator}options={quote(f'-csearch_path={schema}')}"
        print(f"{args.db}:")
        for connections in counts:
            if not args.skip_naive:
                report(f"naive, {connections} connections",
                       one_run(folder, db_url, args, keys, False, connections))
            report(f"offramp, {connections} connections",
                   one_run(folder, db_url, args, keys, True, connections))
        total, failed = check_store(db_url, keys)
        print(f"  all {total:,} stored responses opened with the key; {failed} failed")
        if failed:
            raise SystemExit("FAILED: stored responses that do not open")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if schema is not None:
            import psycopg

            with psycopg.connect(os.environ["OFFRAMP_TEST_POSTGRES_URL"], autocommit=True) as c:
                c.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(f"load average after: {os.getloadavg()[0]:.1f} (other work on this machine counts)")


if __name__ == "__main__":
    main()
