"""Benchmark: a 50-table analysis plan over 100,000 synthetic respondents x 300 variables.

Run: .venv/bin/python benchmarks/bench_analysis.py [--respondents 100000] [--keep DIR]

The dataset is generated here (numpy, fixed seed) into a temporary folder and deleted afterwards;
nothing is committed. Figures printed: time to generate and write the Parquet file, to load and
check the plan, per analysis kind, the whole `offramp analyse` run, and a naive baseline (pure
Python counting of the same frequency tables and crosstabs, with no intervals or tests) measured
in the same run on the same data.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import polars as pl

from offramp.analysis import load_dataset, load_plan, run_plan
from offramp.analysis.plan import Analysis

WORDS = [
    "cost",
    "waiting",
    "list",
    "months",
    "therapy",
    "fees",
    "afford",
    "shame",
    "judged",
    "family",
    "friends",
    "trust",
    "service",
    "confidential",
    "answers",
    "private",
    "help",
    "line",
    "called",
    "later",
    "worried",
    "about",
    "privacy",
]


def generate(n: int, seed: int = 1) -> pl.DataFrame:
    """300 columns: 200 coded items, 40 text categories, 3 multi-selects of 10 choices, a
    12-item Likert battery, 12 continuous, 2 outcomes, design columns, open text."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    group = rng.integers(0, 4, n)
    for i in range(200):
        k = 3 + i % 5
        base = rng.integers(1, k + 1, n)
        shift = (group == i % 4) & (rng.random(n) < 0.15)
        v = np.where(shift, 1, base)
        u = rng.random(n)
        v = np.where(u < 0.04, -97, np.where(u < 0.06, -98, v))
        if i % 3 == 0:  # skip logic on a third of the items
            v = np.where(group == 3, -99, v)
        cols[f"q{i:03d}"] = v
    levels = np.array(["north", "south", "east", "west", "centre", "islands"])
    for i in range(40):
        k = 3 + i % 4
        v = levels[rng.integers(0, k, n)].astype(object)
        v[rng.random(n) < 0.03] = "-97"
        cols[f"c{i:02d}"] = v
    for m in range(3):
        for j in range(10):
            v = (rng.random(n) < 0.08 + 0.04 * j).astype(np.int64)
            v = np.where(group == 3, -99, v)
            cols[f"mr{m}__opt{j}"] = v
    trait = rng.normal(size=n)
    for j in range(12):
        x = np.clip(np.round(3 + 0.8 * trait + rng.normal(size=n)), 1, 5).astype(np.int64)
        x[rng.random(n) < 0.02] = -98
        cols[f"lik{j:02d}"] = x
    for j in range(12):
        cols[f"num{j}"] = rng.normal(size=n)
    eta = -0.5 + 0.6 * cols["num0"] + 0.3 * (group == 1)  # type: ignore[operator]
    cols["sought_help"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    cols["readiness"] = np.digitize(eta + rng.logistic(size=n), [-1.5, -0.5, 0.5]) + 1
    cols["group"] = np.array(["a", "b", "c", "d"])[group]
    cols["region"] = rng.integers(1, 11, n)
    cols["w"] = rng.choice([0.5, 1.0, 2.0, 4.0], n)
    texts = [" ".join(rng.choice(WORDS, int(rng.integers(4, 9)))) for _ in range(min(n, 20_000))]
    cols["comment"] = np.array(texts + ["-99"] * (n - len(texts)), dtype=object)
    df = pl.DataFrame(cols)
    assert df.width == 300, df.width
    return df


def write_plan(path: Path) -> int:
    """A 50-table plan; returns the number of tables."""
    lines = ["title: Benchmark plan", "weights: w", "sections:"]
    tables = 0
    lines += ["  - title: Frequencies", "    analyses:"]
    for i in range(0, 20):
        w = "" if i % 2 else "\n        weights: null"
        lines.append(f"      - kind: frequencies\n        variables: q{i * 7:03d}{w}")
        tables += 1
    lines += ["  - title: Multiple response", "    analyses:"]
    for m in range(3):
        lines.append(f"      - kind: multiple_response\n        variable: mr{m}")
        tables += 1
    lines += ["  - title: Crosstabs by group", "    adjust: holm", "    analyses:"]
    for i in range(20):
        col = "group" if i % 2 else f"c{i:02d}"
        lines.append(f"      - kind: crosstab\n        row: q{i * 5 + 1:03d}\n        col: {col}")
        tables += 1
    lines += ["  - title: Models", "    analyses:"]
    lines.append(
        "      - kind: logit\n        outcome: sought_help\n        predictors: [num0, group, q001]"
        "\n        categorical: [q001]"
    )
    lines.append(
        "      - kind: logit\n        outcome: sought_help\n        predictors: [num0, num1]"
    )
    lines.append(
        "      - kind: ologit\n        outcome: readiness\n        predictors: [num0, group]"
    )
    tables += 3
    lines += ["  - title: Scales", "    analyses:"]
    items = ", ".join(f"lik{j:02d}" for j in range(6))
    items2 = ", ".join(f"lik{j:02d}" for j in range(6, 12))
    lines.append(f"      - kind: reliability\n        items: [{items}]")
    lines.append(f"      - kind: reliability\n        items: [{items2}]")
    lines.append("      - kind: themes\n        variable: comment\n        n_themes: 6")
    tables += 3
    lines += ["  - title: Frequencies of categories", "    analyses:"]
    lines.append("      - kind: frequencies\n        variables: c01")
    tables += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tables


def naive(df: pl.DataFrame, plan_path: Path) -> float:
    """Pure-Python counting of the plan's frequency tables and crosstabs (no CIs, no tests)."""
    plan = load_plan(plan_path)
    started = time.perf_counter()
    for section in plan.sections:
        for a in section.analyses:
            if a.kind == "frequencies":
                for v in a.spec["_variables"][1]:
                    counts = Counter(df[v].to_list())
                    total = sum(c for k, c in counts.items() if k not in (-99, "-99"))
                    _ = {k: 100 * c / total for k, c in counts.items()}
            elif a.kind == "crosstab":
                r, c = a.spec["_rows"][1][0], a.spec["_cols"][1][0]
                table: dict[object, Counter[object]] = defaultdict(Counter)
                for x, y in zip(df[r].to_list(), df[c].to_list(), strict=True):
                    table[x][y] += 1
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="offramp-bench-"))
    try:
        t0 = time.perf_counter()
        df = generate(args.respondents)
        t_gen = time.perf_counter() - t0
        data_path = work / "data.parquet"
        t0 = time.perf_counter()
        df.write_parquet(data_path)
        t_write = time.perf_counter() - t0
        plan_path = work / "plan.yaml"
        n_tables = write_plan(plan_path)
        print(
            f"dataset: {df.height:,} respondents x {df.width} variables "
            f"({data_path.stat().st_size / 1e6:.1f} MB parquet)"
        )
        print(f"generate {t_gen:.2f} s, write parquet {t_write:.2f} s")

        by_kind: dict[str, float] = defaultdict(float)
        count_kind: Counter[str] = Counter()

        def progress(a: Analysis, seconds: float) -> None:
            by_kind[a.kind] += seconds
            count_kind[a.kind] += 1

        t0 = time.perf_counter()
        plan = load_plan(plan_path)
        data = load_dataset(data_path)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        doc = run_plan(plan, data, dataset_path=data_path, progress=progress)
        t_run = time.perf_counter() - t0
        t0 = time.perf_counter()
        (work / "results.json").write_text(json.dumps(doc, allow_nan=False))
        t_json = time.perf_counter() - t0
        n_results = sum(len(s["results"]) for s in doc["sections"])
        print(f"plan: {n_tables} analyses -> {n_results} result tables")
        print(
            f"load plan + dataset {t_load:.2f} s; run (check + all analyses) {t_run:.2f} s; "
            f"write JSON {t_json:.2f} s; total analyse {t_load + t_run + t_json:.2f} s"
        )
        for kind in sorted(by_kind):
            print(
                f"  {kind:18s} {count_kind[kind]:3d} x  {by_kind[kind]:6.2f} s total  "
                f"{by_kind[kind] / count_kind[kind]:6.3f} s each"
            )
        t_naive = naive(data, plan_path)
        ours = by_kind["frequencies"] + by_kind["crosstab"]
        n_naive = count_kind["frequencies"] + count_kind["crosstab"]
        print(
            f"naive baseline (pure-Python counting, same {n_naive} frequency/crosstab tables, "
            f"no intervals/tests/suppression): {t_naive:.2f} s vs offramp {ours:.2f} s"
        )
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in ("data.parquet", "plan.yaml", "results.json"):
                shutil.copy2(work / name, args.keep / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
