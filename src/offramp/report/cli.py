"""`offramp report`: the research report (HTML, and PDF on request) from a plan and a dataset.

    offramp report --plan PLAN.yaml --data DATASET --out report.html [--pdf report.pdf]
    offramp report --data DATASET --out report.html      # no plan: one frequency table a question

The plan is an analysis plan (docs/analysis.md) with report keys (docs/reporting.md). Every
mistake in it is reported as `PLAN:LINE: what is wrong; did you mean ...?` before anything runs.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from offramp.data.codebook import read_codebook


@click.command()
@click.option("--plan", "plan_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Report plan (YAML): sections of analyses and how to chart them. Without it, "
              "one frequency table per question.")
@click.option("--data", "data_path", type=click.Path(path_type=Path), required=True,
              help="Dataset (.parquet or .csv) written by `offramp export` (or `offramp synth "
              "respondents`); its codebook beside it.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="HTML file to write: self-contained, no script, no external resource.")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also print the report to this PDF (A4, page numbers, contents).")
@click.option("--results", "results_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the analysis results JSON (offramp.analysis.results/1) here.")
def report(data_path: Path, out: Path, plan_path: Path | None, pdf_path: Path | None,
           results_path: Path | None) -> None:
    """Write a research report: methods from the data, every estimate with its interval."""
    from offramp.report.render import write_html, write_pdf

    started = time.perf_counter()
    if plan_path is None:
        from offramp.report.simple import build_simple_report, read_dataset

        if results_path is not None:
            raise click.UsageError("--results needs --plan")
        html = build_simple_report(read_dataset(data_path), read_codebook(data_path))
        write_html(html, out)
        click.echo(f"wrote {out}")
    else:
        import json

        from offramp.analysis.runner import load_dataset
        from offramp.report.build import build_report
        from offramp.report.plan import load_report_plan
        from offramp.report.render import render_html

        plan = load_report_plan(plan_path)
        data = load_dataset(data_path)
        built = build_report(plan, data, read_codebook(data_path), dataset_path=data_path)
        html = render_html(built, plan_name=plan_path.name, language=plan.language)
        write_html(html, out)
        click.echo(f"wrote {out} ({len(built.figures)} figures, "
                   f"{len(built.tables) + len(built.appendix)} tables)")
        if results_path is not None:
            results_path.write_text(json.dumps(built.results, indent=1, ensure_ascii=False,
                                               allow_nan=False) + "\n", encoding="utf-8")
            click.echo(f"wrote {results_path}")
    if pdf_path is not None:
        pages = write_pdf(html, pdf_path)
        click.echo(f"wrote {pdf_path} ({pages} pages)")
    click.echo(f"done in {time.perf_counter() - started:.1f} s")
