"""Wilson intervals against statsmodels; small-cell suppression, primary and secondary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

from offramp.logscan import ScanOptions, TableSettings, scan_logs, wilson
from offramp.logscan.stats import suppression_mask


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(level: float) -> None:
    x = np.array([0, 1, 3, 50, 999, 1000, 12_345])
    n = np.array([10, 10, 1000, 100, 1000, 1000, 1_000_000])
    low, high = wilson(x, n, level)
    ref_low, ref_high = proportion_confint(x, n, alpha=1 - level, method="wilson")
    np.testing.assert_allclose(low, ref_low, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(high, ref_high, rtol=1e-12, atol=1e-15)


def test_wilson_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table I, example 81/263: 0.2553 to 0.3662
    low, high = wilson([81], [263], 0.95)
    assert (round(float(low[0]), 4), round(float(high[0]), 4)) == (0.2553, 0.3662)


def test_wilson_with_no_trials_is_undefined() -> None:
    low, high = wilson([0], [0])
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_primary_and_secondary_suppression() -> None:
    # one small cell in a partition: the next smallest nonzero cell goes too
    mask = suppression_mask([3, 40, 25, 0], [100, 100, 100, 100], 10, partition=True)
    assert mask.tolist() == [True, False, True, False]
    # overlapping rows (categories): no secondary suppression
    mask = suppression_mask([3, 40, 25], [100, 100, 100], 10, partition=False)
    assert mask.tolist() == [True, False, False]
    # a small denominator suppresses too; zero is shown (it reveals nobody)
    mask = suppression_mask([0, 0, 12], [5, 0, 50], 10, partition=False)
    assert mask.tolist() == [True, False, False]


def test_published_tables_blank_small_cells(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "log.parquet"
    rows = (
        [("2024-05-01", "zorblax")] * 4 + [("2024-05-01", "kalumo")] * 96
        + [("2024-05-02", "zorblax")] * 30 + [("2024-05-02", "kalumo")] * 70
        + [("2024-05-03", "zorblax")] * 50 + [("2024-05-03", "kalumo")] * 50
    )
    pl.DataFrame(rows, schema=["timestamp", "query"], orient="row").with_columns(
        pl.col("timestamp").str.to_date()
    ).write_parquet(path)
    tables = scan_logs(terms, [path], None, settings=TableSettings(min_cell=10)).tables
    by_day = tables["by_day"]
    assert by_day["suppressed"].to_list() == [True, True, False]
    assert by_day["blocked"].to_list() == [None, None, 50]
    assert by_day["prevalence"].to_list()[:2] == [None, None]
    assert by_day["ci_low"].to_list()[:2] == [None, None]
    assert by_day["searches"].to_list() == [100, 100, 100]  # denominators are not small
    overall = tables["overall"].row(0, named=True)
    assert overall["blocked"] == 84 and not overall["suppressed"]
    assert scan_logs(terms, [path], None, ScanOptions(), settings=TableSettings(min_cell=1)
                     ).tables["by_day"]["blocked"].to_list() == [4, 30, 50]
