"""Benchmark of the screen stage, printed beside a naive baseline measured in the same run.

    .venv/bin/python benchmarks/bench_screen.py [--terms 20000] [--queries 1000000]

A list of invented tokens and synthetic queries: ordinary dictionary words, with a share of
accented (non-ASCII) queries, queries with digits and stated ages, punctuation, one-letter
words, and obfuscated listed terms. Figures: online ``check`` (one query at a time, one core:
queries/s and latency percentiles), batch ``screen_batch`` (the whole column, Polars on all
cores), the naive baseline (a Python loop over terms with one word-boundary regex each) on a
sample, and the memory of a compiled list. CPU seconds are printed beside wall seconds because
the machine may be shared.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import polars as pl

from offramp.screen import Screener, screen_batch, words
from offramp.screen import compiled as compiled_list
from offramp.screen import terms as term_files
from offramp.synth.obfuscate import POSITIVE_KINDS, invented_terms, obfuscate

ACCENTED = {"a": "àáâä", "e": "éèêë", "i": "íï", "o": "óöô", "u": "úüû", "n": "ñ", "c": "ç"}


def make_queries(n: int, terms: list[str], vocabulary: list[str], rng: random.Random) -> list[str]:
    """Synthetic search queries; about 0.5 % carry an (obfuscated) listed term."""
    out = []
    for _ in range(n):
        k = rng.randint(1, 6)
        q = [rng.choice(vocabulary) for _ in range(k)]
        roll = rng.random()
        if roll < 0.005:
            kind = rng.choice(POSITIVE_KINDS)
            q[rng.randrange(k)] = obfuscate(rng.choice(terms), kind, rng, rng.choice(terms))
        elif roll < 0.035:  # accented words: the non-ASCII path
            i = rng.randrange(k)
            q[i] = "".join(rng.choice(ACCENTED[c]) if c in ACCENTED and rng.random() < 0.3
                           else c for c in q[i])  # fmt: skip
        elif roll < 0.065:  # numbers, some of them ages
            q.insert(rng.randrange(k + 1), rng.choice(["2024", "10", "3", "12 years", "age 40",
                                                       "1990s", "v2", "5 best"]))  # fmt: skip
        elif roll < 0.105:  # punctuation and one-letter words
            q.insert(rng.randrange(k + 1), rng.choice(["a", "i", "don't", "e-mail", "u.s.",
                                                       "&", "?", "what's"]))  # fmt: skip
        elif roll < 0.13:
            q = [w.capitalize() for w in q]
        out.append(" ".join(q))
    return out


def percentile(sorted_values: list[int], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))] / 1000


def latencies(check, queries, clock) -> list[int]:  # type: ignore[no-untyped-def]
    """Per-query times in ns by `clock`, sorted."""
    times = []
    for q in queries:
        t0 = clock()
        check(q)
        times.append(clock() - t0)
    times.sort()
    return times


def print_latencies(label: str, times: list[int]) -> None:
    print(f"{label} (µs): p50 {percentile(times, 0.5):.1f}, p90 {percentile(times, 0.9):.1f}, "
          f"p99 {percentile(times, 0.99):.1f}, p99.9 {percentile(times, 0.999):.1f}")


def timed(fn, *args):  # type: ignore[no-untyped-def]
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--baseline-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    vocabulary = sorted(words.load(["en"]))
    terms = invented_terms(args.terms, rng, set(vocabulary))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print(f"list: {len(terms):,} invented terms; queries: {args.queries:,} synthetic")

    with tempfile.TemporaryDirectory() as tmp:
        plain_path = Path(tmp) / "terms.txt"
        plain_path.write_text("\n".join(terms) + "\n", encoding="utf-8")
        (screener, wall, _) = timed(Screener.from_file, plain_path)
        print(f"load plain list: {wall:.2f} s")
        compiled_path = Path(tmp) / "terms.compiled"
        compiled_list.write(term_files.load(plain_path), compiled_path)
        tracemalloc.start()
        (hashed, wall, _) = timed(Screener.from_file, compiled_path)
        _, peak = tracemalloc.get_traced_memory()
        current = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        print(f"load compiled list: {wall:.2f} s, memory held {current / 2**20:.1f} MB "
              f"(peak while loading {peak / 2**20:.1f} MB), file "
              f"{compiled_path.stat().st_size / 2**20:.1f} MB")  # fmt: skip

    queries = make_queries(args.queries, terms, vocabulary, rng)
    print(f"queries made; mean length {statistics.fmean(map(len, queries)):.1f} characters")

    # --- online: one query at a time --------------------------------------------------------
    check = screener.check

    def run_all(qs: list[str]) -> int:
        return sum(1 for q in qs if check(q).blocked)

    (blocked, wall, cpu) = timed(run_all, queries)
    print(f"online check, first pass (token cache filling): {len(queries) / wall:,.0f} q/s wall, "
          f"{len(queries) / cpu:,.0f} q/s CPU; blocked {blocked:,}")  # fmt: skip
    (blocked, wall, cpu) = timed(run_all, queries)
    print(f"online check, second pass: {len(queries) / wall:,.0f} q/s wall, "
          f"{len(queries) / cpu:,.0f} q/s CPU")  # fmt: skip
    fresh = make_queries(200_000, terms, vocabulary, random.Random(args.seed + 1))
    print_latencies("online latency on 200,000 new queries, wall",
                    latencies(check, fresh, time.perf_counter_ns))
    # CPU time of this thread per query: what the query costs, without the waits that other
    # processes on a shared machine cause (the clock itself adds about 0.2 µs).
    print_latencies("online latency on 200,000 new queries, CPU",
                    latencies(check, make_queries(200_000, terms, vocabulary,
                                                  random.Random(args.seed + 2)),
                              time.thread_time_ns))
    # Real traffic brings words never seen before (typos, names): each costs one token
    # analysis on first sight. Here one query in five carries such a word.
    letters = "abcdefghijklmnopqrstuvwxyz"
    unseen_rng = random.Random(args.seed + 3)
    novel = []
    for q in make_queries(200_000, terms, vocabulary, random.Random(args.seed + 4)):
        if unseen_rng.random() < 0.2:
            word = "".join(unseen_rng.choice(letters) for _ in range(unseen_rng.randint(4, 10)))
            q = f"{q} {word}"
        novel.append(q)
    print_latencies("online latency, one query in five with a never-seen word, wall",
                    latencies(check, novel, time.perf_counter_ns))
    hashed_check = hashed.check
    sample = queries[:200_000]
    (_, wall, cpu) = timed(lambda: [hashed_check(q) for q in sample])
    (_, wall, cpu) = timed(lambda: [hashed_check(q) for q in sample])
    print(f"online check, compiled list (warm): {len(sample) / wall:,.0f} q/s wall, "
          f"{len(sample) / cpu:,.0f} q/s CPU")  # fmt: skip

    # --- batch: the whole column ------------------------------------------------------------
    column = pl.Series("query", queries)
    batch_screener = Screener.from_terms(terms)  # a cold token cache, as a fresh process has
    (out, wall, cpu) = timed(screen_batch, batch_screener, column)
    print(f"batch screen_batch, cold: {len(queries) / wall:,.0f} q/s wall "
          f"({cpu:.2f} CPU s over {pl.thread_pool_size()} threads); blocked "
          f"{int(out['blocked'].sum()):,}")  # fmt: skip
    (out, wall, cpu) = timed(screen_batch, batch_screener, column)
    batch_qps = len(queries) / wall
    print(f"batch screen_batch, warm: {batch_qps:,.0f} q/s wall ({cpu:.2f} CPU s)")
    agree = out["blocked"].to_list() == [check(q).blocked for q in queries]
    print(f"batch and online verdicts agree on every query: {agree}")

    # --- naive baseline ---------------------------------------------------------------------
    patterns = [re.compile(r"\b" + re.escape(t) + r"\b") for t in terms]
    base_sample = queries[: args.baseline_sample]

    def naive(qs: list[str]) -> int:
        return sum(1 for q in qs if any(p.search(q.lower()) for p in patterns))

    (_, wall, _) = timed(naive, base_sample)
    naive_qps = len(base_sample) / wall
    (_, wall, _) = timed(run_all, queries[:200_000])
    online_qps = 200_000 / wall
    print(f"naive baseline (regex per term, {len(base_sample)} queries): {naive_qps:,.0f} q/s")
    print(f"ratio online/naive: {online_qps / naive_qps:,.0f}x; batch/naive: "
          f"{batch_qps / naive_qps:,.0f}x")  # fmt: skip
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:.0f} MB; load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
