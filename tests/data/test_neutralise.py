"""Formula neutralisation: hostile strings are defused, numbers and reserved codes stay intact."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offramp.data.neutralise import (
    needs_prefix,
    neutralise,
    neutralise_frame,
    restore,
    restore_frame,
)
from tests.data.conftest import HOSTILE

DEFUSED = [
    "=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", " =1", "'=1", "''+x", "-", "+", "@",
    '=HYPERLINK("http://example.invalid","x")', "=cmd|' /C calc'!A0", "\u00a0=1", "\n=1",
    "-1e5", "+5", "--5", "-5-5", "=-97",
]
KEPT = ["-97", "-98", "-99", "-5", "-5.5", "0", "5", "1e5", "hello", "'quoted'", "a=b",
        "ünïcödé", "", "<b>", "_x000D_"]


@pytest.mark.parametrize("value", DEFUSED)
def test_hostile_cells_get_an_apostrophe(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert restore(neutralise(value)) == value


@pytest.mark.parametrize("value", KEPT)
def test_codes_numbers_and_plain_text_are_untouched(value: str) -> None:
    assert neutralise(value) == value
    assert restore(value) == value


def test_none_stays_none() -> None:
    assert neutralise(None) is None and restore(None) is None


formulaish = st.text(alphabet="=+-@\t\r '0123456789.aZ\u00a0", max_size=8)


@given(st.one_of(formulaish, st.text(max_size=12)))
def test_restore_undoes_neutralise_exactly(value: str) -> None:
    safe = neutralise(value)
    assert safe is not None
    assert restore(safe) == value
    # After neutralisation nothing starts a formula (unless it is a number or a reserved code).
    stripped = safe.lstrip()
    if stripped[:1] in ("=", "+", "-", "@") or safe[:1] in ("\t", "\r"):
        assert not needs_prefix(safe) and safe == value


@given(st.lists(st.one_of(st.none(), formulaish, st.sampled_from(HOSTILE)), max_size=30))
def test_vectorised_rule_is_the_scalar_rule(values: list[str | None]) -> None:
    frame = pl.DataFrame({"t": values, "n": list(range(len(values)))},
                         schema={"t": pl.Utf8, "n": pl.Int64})
    safe = neutralise_frame(frame)
    assert safe["t"].to_list() == [neutralise(v) for v in values]
    assert safe["n"].to_list() == list(range(len(values)))  # numbers untouched
    assert restore_frame(safe).equals(frame)


def test_numeric_columns_keep_negative_numbers_and_codes() -> None:
    frame = pl.DataFrame({"x": [-97, -5, 3], "y": [-99.0, -0.5, None]})
    assert neutralise_frame(frame).equals(frame)
