"""``offramp analyse``: run an analysis plan over an exported dataset and write results JSON."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from offramp.analysis.plan import Analysis, load_plan
from offramp.analysis.runner import load_dataset, run_plan


@click.command(name="analyse")
@click.option(
    "--plan",
    "plan_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Analysis plan (YAML): sections of frequencies, crosstabs, models, ...",
)
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dataset from `offramp export`: .parquet or .csv.",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the results JSON (read by `offramp report`).",
)
@click.option(
    "--keep-going",
    is_flag=True,
    help="Record a failing analysis as an error entry and run the rest, instead of stopping.",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not print one line per analysis.")
def analyse(
    plan_path: Path, data_path: Path, out_path: Path, keep_going: bool, quiet: bool
) -> None:
    """Run an analysis plan over a dataset and write the results as JSON.

    Every variable in the plan is checked against the dataset first; a mistake is reported with
    the plan's file and line. Cells resting on fewer respondents than the plan's `suppression`
    (default 10) are blanked in the results.
    """
    plan = load_plan(plan_path)
    data = load_dataset(data_path)

    def report(a: Analysis, seconds: float) -> None:
        if not quiet:
            click.echo(f"{plan.path}:{a.line}: {a.kind} ({seconds:.2f} s)", err=True)

    results = run_plan(plan, data, dataset_path=data_path, keep_going=keep_going, progress=report)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # write then rename, so a report never reads half a results file
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1, ensure_ascii=False, allow_nan=False)
        handle.write("\n")
    Path(tmp).replace(out_path)
    if not quiet:
        n = sum(len(s["results"]) for s in results["sections"])
        click.echo(f"wrote {n} result(s) to {out_path}", err=True)
