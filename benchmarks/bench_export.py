"""Benchmark: export of 100,000 synthetic respondents x 300 variables, sealed here first.

Run: .venv/bin/python benchmarks/bench_export.py [--respondents 100000] [--db URL] [--keep DIR]
(other processes on the machine change the figures a lot: note the load average beside them)

The script generates a 25-page instrument with 300 dataset columns (175 select_one in grids,
25 integer, 25 decimal, 25 short text, 25 two-choice multi-selects; every other page behind a
skip rule), generates respondents (with planted speeders, straight-liners and near-copies),
seals each one with the real vault to a fresh key pair and stores it in a temporary SQLite
database (or the database of --db); nothing is committed and the folder is deleted afterwards.

Figures printed, each beside a naive baseline measured in the same run:
- open: records/s decrypting and parsing, one process and two worker processes;
- build: the columnar dataset build vs the per-cell rule (`cell()`) on a 10,000-record subset;
- quality flags (speeders, straight-lining, attention, near-duplicates);
- write time of each format, and openpyxl's writer on 5,000 rows, extrapolated, as the naive
  XLSX baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import insert

from offramp.data.codebook import build_codebook, write_codebook
from offramp.data.dataset import build_part, cell, columns_for
from offramp.data.decrypt import OpenReport, open_stored
from offramp.data.export import build
from offramp.data.formats import WRITERS
from offramp.data.quality import QualitySettings
from offramp.store import Repository, make_engine, upgrade
from offramp.store.tables import responses
from offramp.survey.instrument import Choice, Instrument, Page, Question
from offramp.vault.keys import KeyPairPaths, generate, load_private_key, load_public_key
from offramp.vault.sealing import SealContext, seal

PAGES = 25
LIKERT = (
    *(Choice(str(v), {"en": f"Level {v}"}) for v in range(1, 6)),
    Choice("dk", {"en": "Don't know"}, missing="dont_know"),
)
PHRASES = ["no comment", "the help page was clear", "=1+1", "prefer a phone line",
           "more anonymity", "-", "@mention", "it was fine"]


def make_instrument() -> Instrument:
    pages = []
    for p in range(PAGES):
        questions = [
            Question(f"p{p}_s{i}", "select_one", {"en": f"Statement {p}.{i}"}, choices=LIKERT,
                     choice_list="likert")
            for i in range(7)
        ]
        questions += [
            Question(f"p{p}_n", "integer", {"en": f"Count {p}"}),
            Question(f"p{p}_d", "decimal", {"en": f"Amount {p}"}),
            Question(f"p{p}_t", "text", {"en": f"Comment {p}"}),
            Question(f"p{p}_m", "select_multiple", {"en": f"Options {p}"},
                     choices=(Choice("x", {"en": "X"}), Choice("y", {"en": "Y"}))),
        ]
        relevant = f"${{p{p - 1}_s0}} != '1'" if p % 2 else None
        pages.append(Page(f"page{p}", {"en": f"Page {p}"}, tuple(questions), relevant=relevant))
    return Instrument("bench", {"en": "Benchmark"}, ("en",), "en", tuple(pages))


def respondent(instrument: Instrument, rng: random.Random, previous: list[dict[str, Any]]
               ) -> dict[str, Any]:
    if previous and rng.random() < 0.01:  # a near-copy of an earlier respondent
        answers = dict(rng.choice(previous[-200:])["answers"])
        answers[f"p0_s{rng.randrange(7)}"] = str(rng.randint(1, 5))
    else:
        straight = rng.random() < 0.05
        answers = {}
        for q in instrument.questions():
            if rng.random() < 0.05:
                continue
            if q.type == "select_one":
                answers[q.name] = "3" if straight else rng.choice(
                    ["1", "2", "3", "4", "5", "5", "4", "dk"])
            elif q.type == "integer":
                answers[q.name] = rng.randint(0, 40)
            elif q.type == "decimal":
                answers[q.name] = round(rng.uniform(0, 100), 2)
            elif q.type == "text":
                answers[q.name] = rng.choice(PHRASES)
            else:
                answers[q.name] = rng.sample(["x", "y"], rng.randint(0, 2))
    shown = [q.name for p, page in enumerate(instrument.pages)
             if p % 2 == 0 or answers.get(f"p{p - 1}_s0") != "1" for q in page.questions]
    answers = {k: v for k, v in answers.items() if k in shown and v != []}
    pace = 0.2 if rng.random() < 0.05 else rng.uniform(0.7, 1.5)
    seconds = {f"page{p}": int(30 * pace) for p in range(PAGES)}
    return {"answers": answers, "shown": shown, "page_seconds": seconds}


def seal_all(db: str, public_key: Any, instrument: Instrument, n: int) -> float:
    engine = make_engine(db)
    upgrade(engine)
    version = Repository(engine).publish_instrument(instrument.id, instrument.source_hash(),
                                                    instrument.to_json())
    rng = random.Random(1)
    previous: list[dict[str, Any]] = []
    start = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for i in range(n):
        payload = respondent(instrument, rng, previous)
        previous.append(payload)
        if len(previous) > 400:
            del previous[:200]
        day = dt.date(2024, 1, 1) + dt.timedelta(days=i % 90)
        submission_id = uuid.uuid4().hex
        context = SealContext(instrument.id, version, "page24", "none", "en", day.isoformat(),
                              submission_id=submission_id)
        batch.append({
            "submission_id": submission_id, "instrument_id": instrument.id,
            "instrument_version": version, "page_id": "page24", "arm": "none", "language": "en",
            "day": day, "seconds": 600,
            "sealed": seal(json.dumps(payload).encode(), context, [public_key]),
        })
        if len(batch) == 1000:
            with engine.begin() as conn:
                conn.execute(insert(responses), batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(responses), batch)
    engine.dispose()
    return time.perf_counter() - start


def naive_build(subset: list[Any], columns: list[Any]) -> list[list[Any]]:
    """The first cut's way: one function call per cell."""
    return [[cell(c, r) for c in columns] for r in subset]


def timed(label: str, figures: dict[str, float], function: Any, *args: Any, **kw: Any) -> Any:
    start = time.perf_counter()
    value = function(*args, **kw)
    figures[label] = time.perf_counter() - start
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="database URL (default: temporary SQLite)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this folder and keep it (sealed database, keys, outputs); "
                        "run again with the same --keep to reuse the sealed respondents")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="offramp-bench-export-"))
    folder.mkdir(parents=True, exist_ok=True)
    n = args.respondents
    try:
        passphrase = "benchmark passphrase"  # noqa: S105 - a throwaway key for this run
        reuse = args.keep is not None and (folder / "keys" / "researcher.key").exists()
        if reuse:
            pair = KeyPairPaths(folder / "keys" / "researcher.pub",
                                folder / "keys" / "researcher.key")
        else:
            pair = generate(folder / "keys", passphrase, profile="interactive")
        key = load_private_key(pair.private, passphrase)
        instrument = make_instrument()
        columns = columns_for(instrument)
        db = args.db or f"sqlite:///{folder / 'bench.sqlite'}"
        print(f"instrument: {len(instrument.questions())} questions -> {len(columns)} columns")
        if reuse:
            print(f"setup: reusing the respondents sealed in {folder}")
        else:
            seconds = seal_all(db, load_public_key(pair.public), instrument, n)
            print(f"setup: sealed and stored {n:,} respondents in {seconds:.1f} s "
                  f"({n / seconds:,.0f}/s)")
        engine = make_engine(db)
        repository = Repository(engine)
        instruments = {(instrument.id, 1): instrument}
        figures: dict[str, float] = {}

        def open_only() -> int:
            report = OpenReport()
            return sum(1 for _ in open_stored(repository.iter_responses(), [key], report))

        opened = timed("open (1 process)", figures, open_only)
        n = opened
        settings = QualitySettings()
        builder, report = timed("open + build (1 process)", figures, build, repository, [key],
                                instruments, None, settings, 1)
        builder2, _ = timed("open + build (2 processes)", figures, build, repository, [key],
                            instruments, None, settings, 2)
        built = timed("merge + quality flags", figures, builder2.finish)
        del builder
        data = built.data
        print(f"dataset: {data.height:,} rows x {data.width} columns")

        subset = list(open_stored(repository.iter_responses(), [key], OpenReport()))[:10_000]
        small = len(subset)
        timed("build 10k columnar", figures, build_part, instrument, subset, OpenReport())
        timed("build 10k per-cell (naive)", figures, naive_build, subset, columns)
        del subset
        codebook = timed("codebook", figures, build_codebook, instruments, None, data,
                         built.quality, report)
        out = folder / "out"
        out.mkdir(parents=True, exist_ok=True)
        write_codebook(codebook, out / "bench")
        for fmt in ("parquet", "csv", "xlsx", "sav", "dta"):
            timed(f"write {fmt}", figures, WRITERS[fmt], data, out / f"bench.{fmt}", codebook)

        def openpyxl_naive(rows: int = 5000) -> None:
            book = openpyxl.Workbook(write_only=True)
            sheet = book.create_sheet("data")
            sheet.append(data.columns)
            for row in data.head(rows).iter_rows():
                sheet.append([v.isoformat() if isinstance(v, dt.date) else v for v in row])
            book.save(folder / "naive.xlsx")

        timed("write xlsx openpyxl 5k rows (naive)", figures, openpyxl_naive)
        engine.dispose()

        print(f"\nload average during the run: {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores")
        print(f"{'step':44} {'seconds':>9} {'records/s':>12}")
        for label, value in figures.items():
            count = small if "10k" in label else min(5_000, n) if "5k" in label else n
            print(f"{label:44} {value:9.2f} {count / value:12,.0f}")
        per_row = figures["write xlsx openpyxl 5k rows (naive)"] / min(5_000, n)
        print(f"{'  openpyxl extrapolated to all rows':44} {per_row * n:9.2f}")
        naive_rate = figures["build 10k per-cell (naive)"] / small
        print(f"{'  per-cell build extrapolated to all rows':44} {naive_rate * n:9.2f}")
        export = (figures["open + build (2 processes)"] + figures["merge + quality flags"]
                  + figures["codebook"])
        writes = sum(v for k, v in figures.items() if k.startswith("write ") and "naive" not in k)
        print(f"\nexport to parquet end to end (2 processes): "
              f"{export + figures['write parquet']:.1f} s; to all five formats: "
              f"{export + writes:.1f} s")
        sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
        print("files: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))
        flagged = built.quality.flagged
        print(f"quality: {flagged} (duplicates by {built.quality.duplicate_method}, "
              f"{built.quality.duplicate_bands} bands)")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
