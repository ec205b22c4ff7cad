"""Benchmark: 5,000 synthetic respondents to the reference instrument, then the reference report.

Run: .venv/bin/python benchmarks/bench_report.py [--n 5000] [--seed 1] [--keep DIR]
(other processes on the machine change the figures a lot: the load average is printed beside them)

Figures, each beside a baseline measured in the same run:
- synth: respondents/s walking the real survey flow, with the generator's Python draws, and the
  same generator drawing every scalar through numpy's Generator (the naive way: one numpy call per
  draw); then the export's dataset build (quality flags included) and the writing of the files;
- report: the analysis plan alone (what `offramp analyse` computes: the baseline a report cannot
  beat), the whole report build (analyses + per-group estimates + charts), the HTML rendering,
  and the PDF (WeasyPrint), with pages per second;
- the end-to-end time of synth + HTML report, and with the PDF: the issue's "under a minute".
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from offramp.analysis.runner import load_dataset, run_plan
from offramp.data.codebook import read_codebook
from offramp.report.build import build_report, declined_dummies, exclusions, numeric_items
from offramp.report.labels import Vocabulary
from offramp.report.plan import load_report_plan
from offramp.report.render import render_html, write_html, write_pdf
from offramp.survey.load import load_instrument
from offramp.synth.generator import Generator
from offramp.synth.respondents import synthesise
from offramp.synth.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENT = ROOT / "examples" / "reference" / "instrument.yaml"
SCENARIO = ROOT / "examples" / "reference" / "scenario.yaml"
PLAN = ROOT / "examples" / "2know-style-plan.yaml"
T = TypeVar("T")


class NumpyDraws:
    """random.Random's interface, every draw one numpy call: the naive baseline generator."""

    def __init__(self, seed: int) -> None:
        self.g = np.random.default_rng(seed)

    def random(self) -> float:
        return float(self.g.random())

    def gauss(self, mu: float, sigma: float) -> float:
        return float(self.g.normal(mu, sigma))

    def expovariate(self, rate: float) -> float:
        return float(self.g.exponential(1.0 / rate))

    def uniform(self, a: float, b: float) -> float:
        return float(self.g.uniform(a, b))

    def lognormvariate(self, mu: float, sigma: float) -> float:
        return float(self.g.lognormal(mu, sigma))

    def randrange(self, n: int) -> int:
        return int(self.g.integers(n))

    def choice(self, seq: Sequence[T]) -> T:
        return seq[int(self.g.integers(len(seq)))]

    def choices(self, population: Sequence[T], weights: Sequence[float]) -> list[T]:
        p = np.asarray(weights, dtype=np.float64)
        return [population[int(self.g.choice(len(population), p=p / p.sum()))]]

    def sample(self, population: Sequence[T], k: int) -> list[T]:
        return [population[int(i)] for i in self.g.choice(len(population), k, replace=False)]


def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "?"


class Timer:
    """`with Timer() as t: ...` then t.seconds."""

    seconds = 0.0

    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the dataset and report in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    instrument = load_instrument(INSTRUMENT)
    scenario = load_scenario(SCENARIO)
    print(f"offramp report benchmark: {args.n:,} respondents, reference instrument "
          f"({len(instrument.questions())} questions, {len(instrument.pages)} pages)")
    print(f"load average before: {_load()} (other processes share this machine)")

    # -- synth: the generator alone, Python draws vs numpy scalar draws ----------------------
    sample = min(args.n, 2000)
    with Timer() as fast:
        generator = Generator(instrument, scenario, args.seed)
        for _ in range(sample):
            generator.respondent()
    with Timer() as naive:
        generator = Generator(instrument, scenario, args.seed)
        generator.rng = NumpyDraws(args.seed)  # type: ignore[assignment]
        for _ in range(sample):
            generator.respondent()
    print(f"generate      {sample / fast.seconds:10,.0f} respondents/s   "
          f"(naive numpy scalar draws: {sample / naive.seconds:,.0f}/s, "
          f"{naive.seconds / fast.seconds:.1f}x slower)")

    out = folder / "reference.parquet"
    with Timer() as synth:
        synthesise(instrument, scenario, args.n, args.seed, out)
    print(f"synth {args.n:,}   {synth.seconds:8.2f} s   (generate, dataset build with quality "
          "flags, parquet + codebook + truth)")

    # -- report ----------------------------------------------------------------------------------
    plan = load_report_plan(PLAN)
    data = load_dataset(out)
    codebook = read_codebook(out)
    analysis_runs, build_runs = [], []
    for _ in range(2):  # best of two: the first run of each also warms caches up
        with Timer() as analyse:
            baseline = load_report_plan(PLAN)
            kept = exclusions(baseline, data)[0]
            kept = declined_dummies(baseline, numeric_items(baseline, kept),
                                    Vocabulary(codebook, "en"))
            run_plan(baseline.analysis, kept)
        analysis_runs.append(analyse.seconds)
        with Timer() as build:
            report = build_report(load_report_plan(PLAN), data, codebook, dataset_path=out)
        build_runs.append(build.seconds)
    analyse.seconds, build.seconds = min(analysis_runs), min(build_runs)
    with Timer() as html_t:
        html = render_html(report, plan_name=PLAN.name)
        write_html(html, folder / "report.html")
    with Timer() as pdf_t:
        pages = write_pdf(html, folder / "report.pdf")
    analyses = sum(len(s.analyses) for s in plan.analysis.sections)
    print(f"analysis only {analyse.seconds:8.2f} s   ({analyses} analyses of the plan: the "
          "baseline, what `offramp analyse` computes)")
    print(f"report build  {build.seconds:8.2f} s   (analyses + per-group estimates + "
          f"{len(report.figures)} charts + {len(report.tables)} tables; "
          f"{build.seconds - analyse.seconds:+.2f} s over the baseline)")
    print(f"html          {html_t.seconds:8.2f} s   ({len(html) / 1e6:.2f} MB, one file)")
    print(f"pdf           {pdf_t.seconds:8.2f} s   ({pages} pages, {pages / pdf_t.seconds:.1f} "
          "pages/s)")
    total_html = synth.seconds + build.seconds + html_t.seconds
    print(f"synth + report (html)        {total_html:8.2f} s")
    print(f"synth + report (html + pdf)  {total_html + pdf_t.seconds:8.2f} s   "
          f"(issue 8 asks for under 60 s)")
    print(f"load average after: {_load()}")
    if args.keep is None:
        shutil.rmtree(folder)
    else:
        print(f"kept {folder}")


if __name__ == "__main__":
    main()
