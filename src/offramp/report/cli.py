"""`offramp report`: a self-contained HTML report of a dataset."""

from __future__ import annotations

import os
from pathlib import Path

import click

from offramp.data.codebook import read_codebook
from offramp.report.simple import build_simple_report, read_dataset


@click.command()
@click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path),
    required=True,
    help="Dataset (.csv or .parquet) written by `offramp export`; its codebook beside it.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="HTML file to write.")
def report(data_path: Path, out: Path) -> None:
    """Write a self-contained HTML report (no script, no external resource)."""
    data = read_dataset(data_path)
    html = build_simple_report(data, read_codebook(data_path))
    temporary = out.with_name(f".{out.name}.partial")
    temporary.write_text(html, encoding="utf-8")
    os.replace(temporary, out)
    click.echo(f"wrote {out}")
