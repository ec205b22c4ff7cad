"""``offramp screen``: check, batch, lint, evaluate, compile, evalset."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import click
import polars as pl

from offramp.errors import InputError

TERMS = click.option(
    "--terms",
    "terms_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Term list: plain .txt, YAML (.yaml/.yml) or a compiled list.",
)


def _screener(path: Path):  # type: ignore[no-untyped-def]
    from offramp.screen import Screener

    return Screener.from_file(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def screen() -> None:
    """Screen queries against a term list; lint, evaluate and compile lists."""


@screen.command()
@TERMS
@click.argument("queries", nargs=-1)
def check(terms_path: Path, queries: tuple[str, ...]) -> None:
    """Print one JSON verdict per QUERY (or per line of stdin when no QUERY is given).

    Verdicts never contain the query; print order follows input order.
    """
    s = _screener(terms_path)
    source = queries if queries else (line.rstrip("\n") for line in sys.stdin)
    for query in source:
        click.echo(json.dumps(s.check(query).to_dict(), separators=(",", ":")))


def _read_queries(path: Path) -> pl.Series:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False)
        else:
            text = path.read_bytes().decode("utf-8", "replace")
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            return pl.Series("query", [line.rstrip("\r") for line in lines], dtype=pl.String)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"cannot read queries: {exc}", file=str(path)) from None
    if "query" not in frame.columns:
        raise InputError("no column named 'query'", file=str(path))
    return frame["query"].cast(pl.String)


@screen.command()
@TERMS
@click.option("--input", "input_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Queries: .txt (one a line), .csv or .parquet (column query).")  # fmt: skip
@click.option("--output", "output_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Verdicts: .csv or .parquet; one row per input row, same order.")  # fmt: skip
def batch(terms_path: Path, input_path: Path, output_path: Path) -> None:
    """Screen a file of queries; write blocked, categories, rules, age per row.

    In CSV output, categories and rules are joined with ';'. The output never holds the queries.
    """
    from offramp.screen import screen_batch

    out = screen_batch(_screener(terms_path), _read_queries(input_path))
    suffix = output_path.suffix.lower()
    if suffix == ".parquet":
        out.write_parquet(output_path)
    elif suffix == ".csv":
        out.with_columns(
            pl.col("categories").list.join(";"), pl.col("rules").list.join(";")
        ).write_csv(output_path)
    else:
        raise InputError("output must end in .csv or .parquet", file=str(output_path))
    blocked = int(out["blocked"].sum())
    click.echo(f"{len(out)} queries screened, {blocked} blocked", err=True)


@screen.command()
@TERMS
def lint(terms_path: Path) -> None:
    """Report likely mistakes: duplicates, terms folding alike, prefixes of common words,
    rules that can never fire, rules a compiled list cannot hold. Exit 1 when anything is found.
    """
    from offramp.screen import compiled, terms
    from offramp.screen.lint import lint as run

    if compiled.is_compiled(terms_path):
        raise InputError("lint reads the source list, not a compiled list", file=str(terms_path))
    findings = run(terms.load(terms_path))
    for finding in findings:
        click.echo(finding.format(str(terms_path)))
    click.echo(f"{len(findings)} finding(s)", err=True)
    if findings:
        sys.exit(1)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


@screen.command()
@TERMS
@click.option("--labelled", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV or Parquet with columns query,label[,category][,kind].")  # fmt: skip
@click.option("--min-recall", type=float, default=None, help="Exit 1 when recall is lower.")
@click.option("--max-fpr", type=float, default=None,
              help="Exit 1 when the false-positive rate is higher.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def evaluate(terms_path: Path, labelled: Path, min_recall: float | None,
             max_fpr: float | None, as_json: bool) -> None:  # fmt: skip
    """Precision, recall, F1 and false-positive rate against labelled queries, overall, per
    category and per kind, with the confusion table."""
    from offramp.screen.evaluate import evaluate as run
    from offramp.screen.evaluate import read_labelled

    result = run(_screener(terms_path), read_labelled(labelled))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        o = result.overall
        click.echo(f"queries {o.tp + o.fp + o.fn + o.tn}  precision {_fmt(o.precision)}  "
                   f"recall {_fmt(o.recall)}  F1 {_fmt(o.f1)}  FPR {_fmt(o.fpr)}")  # fmt: skip
        click.echo("confusion:            blocked   not blocked")
        click.echo(f"  labelled positive {o.tp:>10} {o.fn:>13}")
        click.echo(f"  labelled negative {o.fp:>10} {o.tn:>13}")
        for title, table in (("category", result.by_category), ("kind", result.by_kind)):
            if not table:
                continue
            click.echo(f"{title:<20} {'n':>7} {'recall':>8} {'FPR':>8} {'precision':>10}")
            for name, sc in sorted(table.items()):
                n = sc.tp + sc.fp + sc.fn + sc.tn
                click.echo(f"{name:<20} {n:>7} {_fmt(sc.recall):>8} {_fmt(sc.fpr):>8} "
                           f"{_fmt(sc.precision):>10}")  # fmt: skip
    failed = []
    recall, fpr = result.overall.recall, result.overall.fpr
    if min_recall is not None and (recall is None or recall < min_recall):
        failed.append(f"recall {_fmt(recall)} < {min_recall}")
    if max_fpr is not None and fpr is not None and fpr > max_fpr:
        failed.append(f"FPR {_fmt(fpr)} > {max_fpr}")
    if failed:
        click.echo("below threshold: " + "; ".join(failed), err=True)
        sys.exit(1)


@screen.command(name="compile")
@TERMS
@click.option("--out", "out_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Compiled list to write.")
@click.option("--drop-unhashable", is_flag=True,
              help="Leave out prefix/substring rules instead of refusing (they are recorded "
                   "in the file and logged when it is loaded).")  # fmt: skip
def compile_(terms_path: Path, out_path: Path, drop_unhashable: bool) -> None:
    """Write a compiled list: word-rule terms stored only as keyed BLAKE2b hashes."""
    from offramp.screen import compiled, terms

    data = compiled.write(terms.load(terms_path), out_path, drop_unhashable=drop_unhashable)
    click.echo(f"compiled {len(data['keys'])} keys of {len(data['rules'])} rules, list version "
               f"{data['list_version']} -> {out_path}", err=True)  # fmt: skip
    if data["dropped_rules"]:
        click.echo(f"left out: {', '.join(data['dropped_rules'])}", err=True)


@screen.command()
@TERMS
@click.option("--out", "out_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="CSV to write.")
@click.option("--per-kind", default=200, show_default=True, help="Queries per kind.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option("--extra", is_flag=True,
              help="Add obfuscations the matcher does not undo (split, doubled, vowel_drop).")
def evalset(terms_path: Path, out_path: Path, per_kind: int, seed: int, extra: bool) -> None:
    """Generate a labelled evaluation set (query,label,kind,category) from a list's word terms:
    every obfuscation type, ordinary queries and near misses."""
    from offramp.screen import terms, words
    from offramp.synth.obfuscate import evaluation_set

    tl = terms.load(terms_path)
    pairs = [(t.folded, r.category) for r in tl.rules if not r.all_of and not r.age_below
             and not r.with_category for t in r.terms if t.kind == "word"]  # fmt: skip
    if not pairs:
        raise InputError("the list has no plain word terms to build queries from",
                         file=str(terms_path))  # fmt: skip
    vocabulary = sorted(words.load(tl.languages))
    rng = random.Random(seed)  # noqa: S311 -- test data
    listed = {p[0] for p in pairs}
    vocabulary = [w for w in rng.sample(vocabulary, min(20000, len(vocabulary))) if w not in listed]
    evaluation_set(pairs, vocabulary, per_kind=per_kind, seed=seed, extra=extra).write_csv(out_path)
