"""Benchmark: sealing + durable storing of responses, and opening them again, on both databases.

Run: .venv/bin/python benchmarks/bench_store.py [--responses 20000] [--threads 32]
                                                [--postgres URL] [--recipients 1]

PostgreSQL is used when --postgres (or OFFRAMP_TEST_POSTGRES_URL) names a server: the benchmark
works in a throwaway schema and drops it afterwards. SQLite runs in a temporary folder.

Figures printed, each beside a naive baseline measured in the same run:
- seal + store, responses/s, every response durable before its call returns:
  naive = one thread, one commit per response (Repository(group_commit=False));
  offramp, threads = --threads concurrent submitters from a thread pool sharing commits through
  group commit (Repository.store_response);
  offramp, event loop = what the server's final page runs: --threads tasks in flight on one event
  loop, each sealing there and awaiting Repository.store_response_async.
  No call returns before the commit holding its response.
- open at export, records/s: naive = reading the records and open_sealed() record by record in
  one process, each parsed; offramp = what `offramp export --jobs N` runs before writing files
  (offramp.data.export.build with --processes workers: each worker reads its own ranges of
  records from the store, opens, parses and builds them into the dataset's columnar batches).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from nacl.public import PrivateKey, PublicKey

from offramp.data.decrypt import context_of
from offramp.data.export import build
from offramp.data.quality import QualitySettings
from offramp.store import Repository, make_engine, upgrade
from offramp.store.repository import NewResponse
from offramp.survey.instrument import Choice, Instrument, Page, Question
from offramp.vault.sealing import SealContext, Sealer, open_sealed

PAYLOAD = json.dumps({
    "answers": {"sought_help": "no", "would_help": ["warning", "anonymous_help"],
                "comments": "a clinical comment of about the usual length " * 3},
    "shown": ["sought_help", "would_help", "comments"],
    "page_seconds": {"p1": 12, "p2": 20, "p3": 41},
}).encode()


BENCH_INSTRUMENT = Instrument(
    "bench", {"en": "Benchmark"}, ("en",), "en",
    (
        Page("p1", {"en": "One"}, (Question(
            "sought_help", "select_one", {"en": "Sought help?"},
            choices=(Choice("yes", {"en": "Yes"}), Choice("no", {"en": "No"}))),)),
        Page("p2", {"en": "Two"}, (Question(
            "would_help", "select_multiple", {"en": "What would help?"},
            choices=(Choice("warning", {"en": "A warning"}),
                     Choice("anonymous_help", {"en": "Anonymous help"}))),)),
        Page("p3", {"en": "Three"}, (Question("comments", "text", {"en": "Comments"}),)),
    ),
)
"""The instrument PAYLOAD answers (published as version 1, which every record names)."""


def sealed_response(sealer: Sealer, i: int, tag: str) -> NewResponse:
    """What the survey's final page hands the store: the answers sealed, bound to their row."""
    day = dt.date.today()
    sid = f"{tag}-{i:08d}-{uuid.uuid4().hex[:16]}"
    context = SealContext("bench", 1, "p3", "none", "en", day.isoformat(), sid)
    return NewResponse(
        submission_id=sid, instrument_id="bench", instrument_version=1, page_id="p3",
        arm="none", language="en", day=day, seconds=60,
        sealed=sealer.seal(PAYLOAD, context), draft_token_hash=sid,
    )


def submit(repo: Repository, sealer: Sealer, i: int, tag: str) -> None:
    """Seal in this thread, then wait for the commit (a caller from a thread pool)."""
    repo.store_response(**dataclasses.asdict(sealed_response(sealer, i, tag)))


def submit_on_loop(repo: Repository, sealer: Sealer, count: int, in_flight: int) -> None:
    """What the server's final page does now: seal on the event loop, then await the commit
    (Repository.store_response_async: one task hands each batch to a thread)."""

    async def run() -> None:
        slots = asyncio.Semaphore(in_flight)

        async def one(i: int) -> None:
            async with slots:
                await repo.store_response_async(sealed_response(sealer, i, "loop"))

        await asyncio.gather(*(one(i) for i in range(count)))

    asyncio.run(run())


def timed(label: str, count: int, run: Callable[[], None]) -> float:
    """Items per second of wall time; also CPU per item (this process and the worker processes
    it started and ended), which other load on the machine disturbs less than the wall time."""
    before = os.times()
    start = time.perf_counter()
    run()
    rate = count / (time.perf_counter() - start)
    after = os.times()
    cpu = (after.user + after.system + after.children_user + after.children_system
           - before.user - before.system - before.children_user - before.children_system
           ) / count * 1e6
    print(f"  {label:<52} {rate:>10,.0f} /s   ({cpu:,.0f} us CPU each)")
    return rate


def bench_database(name: str, url: str, args: argparse.Namespace,
                   recipients: list[PublicKey], private: PrivateKey) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    sealer = Sealer(recipients)
    Repository(engine).publish_instrument("bench", BENCH_INSTRUMENT.source_hash(),
                                          BENCH_INSTRUMENT.to_json())
    naive_repo = Repository(engine, group_commit=False)
    grouped = Repository(engine)
    n_naive = max(500, args.responses // 10)
    print(f"{name}:")
    figures = {}
    figures["naive_store"] = timed(
        f"naive: 1 thread, 1 commit each ({n_naive:,})", n_naive,
        lambda: [submit(naive_repo, sealer, i, "naive") for i in range(n_naive)],
    )

    def concurrent() -> None:
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(lambda i: submit(grouped, sealer, i, "group"), range(args.responses)))

    figures["store"] = timed(
        f"offramp: {args.threads} threads, group commit ({args.responses:,})", args.responses,
        concurrent,
    )
    commits, items = grouped.group_commit_stats
    print(f"  {'':<52} ({items / max(commits, 1):.1f} responses per commit)")
    on_loop = Repository(engine)
    figures["store_loop"] = timed(
        f"offramp: event loop, {args.threads} in flight ({args.responses:,})", args.responses,
        lambda: submit_on_loop(on_loop, sealer, args.responses, args.threads),
    )
    commits, items = on_loop.group_commit_stats
    print(f"  {'':<52} ({items / max(commits, 1):.1f} responses per commit)")

    stored = naive_repo.count_responses()
    keys = [private]
    figures["naive_open"] = timed(
        f"naive open: open_sealed one by one ({n_naive:,})", n_naive,
        lambda: [json.loads(open_sealed(s.sealed, context_of(s), keys))
                 for _, s in zip(range(n_naive), naive_repo.iter_responses(), strict=False)],
    )
    instruments = {("bench", 1): BENCH_INSTRUMENT}
    opened: list[int] = []

    def open_all() -> None:
        _, report = build(naive_repo, keys, instruments, None, QualitySettings(), args.processes)
        opened.append(report.opened)
        assert not report.failed, report.failures

    figures["open"] = timed(
        f"offramp open: export.build in {args.processes} processes ({stored:,})", stored,
        open_all,
    )
    assert opened == [stored], opened
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--recipients", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2, help="for opening")
    parser.add_argument("--postgres", default=os.environ.get("OFFRAMP_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}, "
          f"recipients: {args.recipients}")
    private = PrivateKey.generate()
    recipients = [private.public_key] + [
        PrivateKey.generate().public_key for _ in range(args.recipients - 1)
    ]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        bench_database("SQLite (WAL, synchronous=FULL)", url, args, recipients, private)
    if args.postgres:
        import psycopg

        schema = f"offramp_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            separator = "&" if "?" in args.postgres else "?"
            url = f"{args.postgres}{separator}options={quote(f'-csearch_path={schema}')}"
            bench_database("PostgreSQL (synchronous_commit on)", url, args, recipients, private)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    else:
        print("PostgreSQL: skipped (set --postgres or OFFRAMP_TEST_POSTGRES_URL)")
    print(f"load average after: {os.getloadavg()[0]:.1f} (other work on this machine counts)")


if __name__ == "__main__":
    main()
