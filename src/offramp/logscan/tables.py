"""Prevalence tables from merged counts: overall, per period, category, rule, age, language.

Every table has ``searches`` (the denominator), ``blocked`` (searches the term list flags),
``prevalence`` = blocked / searches with a Wilson interval (``ci_low``, ``ci_high``) and a
``suppressed`` flag. Category, rule and age tables add ``share_of_blocked`` (with its own
interval): of the flagged searches, the share in that category. A search that matches two
categories counts in both, so those rows need not add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from offramp.logscan.partial import TOTAL, parse_key
from offramp.logscan.sessions import SessionCounts
from offramp.logscan.stats import suppress, with_share

PERIODS = {"day": "1d", "week": "1w", "month": "1mo"}
NO_LANGUAGE = "(none)"
NO_AGE = "not stated"
_DERIVED = ["prevalence", "ci_low", "ci_high"]
_SHARE_DERIVED = [*_DERIVED, "share_of_blocked", "share_of_blocked_ci_low",
                  "share_of_blocked_ci_high"]


@dataclass(frozen=True, slots=True)
class TableSettings:
    periods: tuple[str, ...] = ("day",)
    min_cell: int = 10
    level: float = 0.95


def _finish(table: pl.DataFrame, settings: TableSettings, *, partition: bool) -> pl.DataFrame:
    table = with_share(table, "blocked", "searches", "prevalence", settings.level)
    return suppress(table, "blocked", "searches", settings.min_cell, partition=partition,
                    derived=_DERIVED)


def totals(counts: pl.DataFrame) -> tuple[int, int]:
    """(searches, blocked) over everything."""
    searches = int(counts.filter(pl.col("vkey") == TOTAL).get_column("n").sum() or 0)
    blocked = int(counts.filter(pl.col("vkey") != TOTAL).get_column("n").sum() or 0)
    return searches, blocked


def _by(counts: pl.DataFrame, key: pl.Expr, name: str) -> pl.DataFrame:
    return (
        counts.group_by(key.alias(name))
        .agg(
            pl.col("n").filter(pl.col("vkey") == TOTAL).sum().alias("searches"),
            pl.col("n").filter(pl.col("vkey") != TOTAL).sum().alias("blocked"),
        )
        .sort(name)
        .cast({"searches": pl.Int64, "blocked": pl.Int64})
    )


def overall_table(counts: pl.DataFrame, settings: TableSettings) -> pl.DataFrame:
    searches, blocked = totals(counts)
    table = pl.DataFrame({"searches": [searches], "blocked": [blocked]},
                         schema={"searches": pl.Int64, "blocked": pl.Int64})
    return _finish(table, settings, partition=False)


def period_table(counts: pl.DataFrame, period: str, settings: TableSettings) -> pl.DataFrame:
    dated = counts.filter(pl.col("day").is_not_null())
    key = pl.col("day").dt.truncate(PERIODS[period])
    return _finish(_by(dated, key, "period"), settings, partition=True)


def daily_series(counts: pl.DataFrame) -> pl.DataFrame:
    """Unsuppressed day, searches, blocked with every day between first and last (for ITS)."""
    table = _by(counts.filter(pl.col("day").is_not_null()), pl.col("day"), "day")
    if table.height == 0:
        return table
    first, last = table["day"].min(), table["day"].max()
    assert isinstance(first, date) and isinstance(last, date)
    days = pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})
    return days.join(table, on="day", how="left").fill_null(0)


def language_table(counts: pl.DataFrame, settings: TableSettings) -> pl.DataFrame:
    key = pl.col("language").fill_null(NO_LANGUAGE)
    return _finish(_by(counts, key, "language"), settings, partition=True)


def _verdict_table(
    counts: pl.DataFrame, what: str, settings: TableSettings
) -> pl.DataFrame:
    searches, blocked = totals(counts)
    per_key = (
        counts.filter(pl.col("vkey") != TOTAL).group_by("vkey").agg(pl.col("n").sum()).sort("vkey")
    )
    tally: dict[str, int] = {}
    for vkey, n in per_key.iter_rows():
        rules, categories, age = parse_key(vkey)
        labels = {"category": categories, "rule": rules, "age": [age or NO_AGE]}[what]
        for label in labels:
            tally[label] = tally.get(label, 0) + int(n)
    names = sorted(tally)
    table = pl.DataFrame(
        {
            what: names,
            "searches": [searches] * len(names),
            "blocked": [tally[x] for x in names],
            "all_blocked": [blocked] * len(names),
        },
        schema={what: pl.String, "searches": pl.Int64, "blocked": pl.Int64,
                "all_blocked": pl.Int64},
    )
    table = with_share(table, "blocked", "searches", "prevalence", settings.level)
    table = with_share(table, "blocked", "all_blocked", "share_of_blocked", settings.level)
    table = suppress(table, "blocked", "searches", settings.min_cell,
                     partition=(what == "age"), derived=_SHARE_DERIVED)
    return table.drop("all_blocked")


def session_table(counts: SessionCounts, has_time: bool, settings: TableSettings) -> pl.DataFrame:
    rows = [
        ("sessions_with_blocked_search", counts.seeking, counts.sessions),
        ("warned_sessions_searching_again", counts.repeat, counts.seeking),
    ]
    if has_time:
        rows.append(("warned_sessions_continuing", counts.continued, counts.seeking))
    table = pl.DataFrame(
        {
            "metric": [r[0] for r in rows],
            "sessions": [r[1] for r in rows],
            "of_sessions": [r[2] for r in rows],
        },
        schema={"metric": pl.String, "sessions": pl.Int64, "of_sessions": pl.Int64},
    )
    table = with_share(table, "sessions", "of_sessions", "share", settings.level)
    return suppress(table, "sessions", "of_sessions", settings.min_cell, partition=False,
                    derived=["share", "share_ci_low", "share_ci_high"])


def build_tables(
    counts: pl.DataFrame,
    settings: TableSettings,
    *,
    has_time: bool,
    has_language: bool,
    sessions: SessionCounts | None,
) -> dict[str, pl.DataFrame]:
    """Every published table by file stem (e.g. ``by_day``), already suppressed."""
    tables = {"overall": overall_table(counts, settings)}
    if has_time:
        for period in settings.periods:
            tables[f"by_{period}"] = period_table(counts, period, settings)
    tables["by_category"] = _verdict_table(counts, "category", settings)
    tables["by_rule"] = _verdict_table(counts, "rule", settings)
    tables["by_age"] = _verdict_table(counts, "age", settings)
    if has_language:
        tables["by_language"] = language_table(counts, settings)
    if sessions is not None:
        tables["sessions"] = session_table(sessions, has_time, settings)
    return tables
