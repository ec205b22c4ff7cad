"""Multiple-response tables over var__choice dummies."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from offramp.analysis import multiple_response
from offramp.errors import InputError


def _data() -> pl.DataFrame:
    # 20 pick a+b, 15 pick a, 10 pick c, 5 pick nothing, 4 refused, 6 not shown
    a = [1] * 20 + [1] * 15 + [0] * 10 + [0] * 5 + [-97] * 4 + [-99] * 6
    b = [1] * 20 + [0] * 15 + [0] * 10 + [0] * 5 + [-97] * 4 + [-99] * 6
    c = [0] * 20 + [0] * 15 + [1] * 10 + [0] * 5 + [-97] * 4 + [-99] * 6
    return pl.DataFrame({"why__a": a, "why__b": b, "why__c": c, "other": [1] * 60})


def test_percent_of_cases_and_responses() -> None:
    r = multiple_response(_data(), "why", min_cell=None)
    rows = {row["choice"]: row for row in r.table.iter_rows(named=True)}
    assert r.n_cases == 45 and r.n_responses == 65
    assert r.n_no_selection == 5 and r.n_refused == 4 and r.n_not_shown == 6
    assert rows["a"]["n"] == 35
    assert rows["a"]["percent_of_cases"] == pytest.approx(100 * 35 / 45)
    assert rows["a"]["percent_of_responses"] == pytest.approx(100 * 35 / 65)
    assert sum(row["percent_of_responses"] for row in rows.values()) == pytest.approx(100)
    assert sum(row["percent_of_cases"] for row in rows.values()) > 100


def test_weighted_percentages() -> None:
    df = _data().with_columns(w=pl.Series(np.where(np.arange(60) < 20, 2.0, 1.0)))
    r = multiple_response(df, "why", "w", min_cell=None)
    rows = {row["choice"]: row for row in r.table.iter_rows(named=True)}
    # weighted cases: 20*2 + 25 = 65; a chosen by 20*2 + 15 = 55
    assert r.weighted_cases == pytest.approx(65)
    assert rows["a"]["percent_of_cases"] == pytest.approx(100 * 55 / 65)
    assert rows["a"]["ci_low"] < rows["a"]["percent_of_cases"] < rows["a"]["ci_high"]


def test_suppression_and_errors() -> None:
    r = multiple_response(_data(), "why", min_cell=12)
    rows = {row["choice"]: row for row in r.table.iter_rows(named=True)}
    assert rows["c"]["suppressed"] and rows["c"]["n"] is None
    with pytest.raises(InputError, match="did you mean 'why'"):
        multiple_response(_data(), "whyy")
    bad = _data().with_columns(why__a=pl.lit(3))
    with pytest.raises(InputError, match="expected 0, 1"):
        multiple_response(bad, "why")
