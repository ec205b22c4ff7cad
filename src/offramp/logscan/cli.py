"""``offramp logscan``: prevalence of CSAM-seeking searches in search logs."""

from __future__ import annotations

from datetime import date

import click

from offramp.errors import ConfigError
from offramp.logscan.options import ColumnMap, ScanOptions
from offramp.logscan.run import scan_logs
from offramp.logscan.tables import PERIODS, TableSettings


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"--change-date {value!r} is not a date (YYYY-MM-DD)") from exc


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--terms", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Term list (plain, YAML or compiled), as for `offramp screen`.")
@click.argument("logs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Output folder; written complete or not at all.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "jsonl", "text"]),
              help="Log format; default: from each file's suffix (.parquet, .csv, .tsv, .jsonl, "
              ".txt, .log; .gz for compressed text formats).")
@click.option("--query-column", default="query", show_default=True,
              help="Column (or JSON field, or text field name) holding the query.")
@click.option("--timestamp-column", help="Column with the time of the search "
              "[default: 'timestamp' if present].")
@click.option("--language-column", help="Column with the language [default: 'language' if "
              "present].")
@click.option("--session-column", help="Column with an opaque session id [default: 'session' "
              "if present]. Only a hash of it is used; it never reaches the output.")
@click.option("--timestamp-format", help="strftime format of text timestamps (default: ISO 8601 "
              "or epoch numbers).")
@click.option("--timestamp-unit", type=click.Choice(["s", "ms", "us", "ns"]),
              help="Unit of numeric (epoch) timestamps [default: s].")
@click.option("--text-fields", default="query", show_default=True,
              help="Text logs: comma-separated names of the fields of a line, e.g. "
              "'timestamp,session,language,query'; the last field takes the rest of the line.")
@click.option("--text-delimiter", default="\t", show_default="tab",
              help="Text logs: the field separator.")
@click.option("--csv-delimiter", help="CSV field separator [default: ',' or tab for .tsv].")
@click.option("--period", "periods", multiple=True, type=click.Choice(list(PERIODS)),
              help="Time tables to write (repeatable) [default: day].")
@click.option("--min-cell", default=10, show_default=True, type=click.IntRange(min=1),
              help="Suppress cells resting on fewer searches (or sessions) than this.")
@click.option("--level", default=0.95, show_default=True, type=click.FloatRange(0.5, 0.999),
              help="Confidence level of the Wilson intervals.")
@click.option("--change-date", help="Interrupted time series at this date (YYYY-MM-DD): "
              "level and slope change of daily prevalence, HAC standard errors.")
@click.option("--its-maxlags", type=click.IntRange(min=0),
              help="HAC lags for the time series [default: floor(4 (days/100)^(2/9))].")
@click.option("--truth", type=click.Path(exists=True, dir_okay=False),
              help="Truth file of a synthetic log (offramp synth logs): draw it in the report.")
@click.option("--include-queries", is_flag=True,
              help="Also write the text of MATCHED queries (matched_queries.csv). Sensitive.")
@click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail",
              show_default=True, help="Bad rows: stop with file and row, or count and skip them.")
@click.option("--cluster", help="Run on Dask: 'local' (a LocalCluster on this machine), a "
              "scheduler address (tcp://host:8786), or a scheduler file (.json).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Workers of --cluster local [default: 2].")
@click.option("--table-format", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True, help="Format of the output tables.")
@click.option("--batch-rows", default=2_000_000, show_default=True, type=click.IntRange(min=1),
              help="Rows screened at a time (bounds memory).")
@click.option("--chunk-rows", default=4_000_000, show_default=True, type=click.IntRange(min=1),
              help="Rows per partition of a Parquet file (the unit of work on a cluster).")
@click.option("--no-report", is_flag=True, help="Do not write report.html.")
def logscan(
    terms: str,
    logs: tuple[str, ...],
    out: str,
    fmt: str | None,
    query_column: str,
    timestamp_column: str | None,
    language_column: str | None,
    session_column: str | None,
    timestamp_format: str | None,
    timestamp_unit: str | None,
    text_fields: str,
    text_delimiter: str,
    csv_delimiter: str | None,
    periods: tuple[str, ...],
    min_cell: int,
    level: float,
    change_date: str | None,
    its_maxlags: int | None,
    truth: str | None,
    include_queries: bool,
    on_error: str,
    cluster: str | None,
    workers: int | None,
    table_format: str,
    batch_rows: int,
    chunk_rows: int,
    no_report: bool,
) -> None:
    """Measure the prevalence of CSAM-seeking searches in search logs.

    Reads LOGS (files or folders of Parquet, CSV, JSON lines or text logs, gzip allowed for the
    text formats) in bounded batches, screens every query with the term list, and writes to
    --out prevalence tables (overall, per day/week/month, category, rule, age band, language)
    with Wilson intervals and small-cell suppression, session metrics when the logs carry a
    session id, report.html and manifest.json. Query text is never written unless
    --include-queries is given.
    """
    named = {
        "timestamp": timestamp_column,
        "language": language_column,
        "session": session_column,
    }
    if workers is not None and cluster != "local":
        raise ConfigError("--workers applies to --cluster local only")
    fields = tuple(f.strip() for f in text_fields.split(",") if f.strip())
    if not fields:
        raise ConfigError("--text-fields names no fields")
    columns = ColumnMap(
        query=query_column,
        timestamp=timestamp_column or "timestamp",
        language=language_column or "language",
        session=session_column or "session",
        explicit=frozenset(role for role, value in named.items() if value is not None),
        timestamp_format=timestamp_format,
        timestamp_unit=timestamp_unit,  # type: ignore[arg-type]
        text_fields=fields,
        text_delimiter=text_delimiter,
        csv_delimiter=csv_delimiter,
    )
    options = ScanOptions(
        columns=columns,
        format=fmt,
        on_error=on_error,  # type: ignore[arg-type]
        include_queries=include_queries,
        batch_rows=batch_rows,
        chunk_rows=chunk_rows,
    )
    settings = TableSettings(periods=periods or ("day",), min_cell=min_cell, level=level)
    if include_queries:
        click.echo(
            f"offramp: warning: --include-queries writes the text of matched queries to {out}; "
            "treat that folder as sensitive and delete it when done",
            err=True,
        )
    result = scan_logs(
        terms, logs, out, options, settings=settings, cluster=cluster, workers=workers,
        change=_parse_date(change_date), its_maxlags=its_maxlags, truth=truth,
        table_format=table_format, report=not no_report,
    )
    m = result.manifest
    overall = result.tables["overall"].row(0, named=True)
    prevalence = overall["prevalence"]
    click.echo(f"scanned {m['rows']['scanned']:,} searches in {m['run']['seconds']:.1f} s "
               f"({m['run']['rows_per_second'] or 0:,} rows/s)")
    if prevalence is not None:
        click.echo(f"prevalence {prevalence:.3%} "
                   f"(95% CI {overall['ci_low']:.3%} to {overall['ci_high']:.3%})"
                   if level == 0.95 else f"prevalence {prevalence:.3%}")
    if m["rows"]["skipped"] or m["rows"]["losses_of_unknown_size"]:
        click.echo(f"skipped {m['rows']['skipped']:,} bad rows"
                   + (f" and {m['rows']['losses_of_unknown_size']} damaged file ends"
                      if m["rows"]["losses_of_unknown_size"] else "")
                   + " (see manifest.json)", err=True)
    click.echo(f"wrote {out}/ ({', '.join(result.files)})")
