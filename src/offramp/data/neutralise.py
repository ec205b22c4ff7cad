"""Neutralising spreadsheet formulas in text cells (CSV and XLSX exports).

Respondents' free text is hostile input, and researchers open exports in Excel or LibreOffice,
which evaluate a cell that starts with `=`, `+`, `-` or `@` (and some start a formula after a
tab or carriage return) — "CSV injection" (OWASP). Such a text cell gets a leading apostrophe,
the spreadsheet convention for "this is text".

What is left alone, because a spreadsheet reads it as a number or as our reserved code, never a
formula: the missing-value codes `-97`, `-98`, `-99`, and a plain decimal number such as `-5` or
`-0.5`. Numeric columns are never touched (they are written as numbers, not text).

The rule is reversible, so a round trip is exact: a value is prefixed when, after any leading
apostrophes and white space, it starts with a formula character. A value that already started with
an apostrophe followed by such a character is therefore prefixed too, and `restore` removes exactly
one apostrophe from exactly the values `neutralise` prefixed.
"""

from __future__ import annotations

import re

import polars as pl

from offramp.data.codes import MISSING_STRINGS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_DANGEROUS = r"^'*\s*[=+\-@\t\r]"
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_dangerous = re.compile(_DANGEROUS)
_number = re.compile(_NUMBER)


def _exempt(value: str) -> bool:
    return value in MISSING_STRINGS or _number.match(value) is not None


def needs_prefix(value: str) -> bool:
    return _dangerous.match(value) is not None and not _exempt(value)


def neutralise(value: str | None) -> str | None:
    """Prefix an apostrophe to a cell a spreadsheet would evaluate as a formula."""
    if value is None or not needs_prefix(value):
        return value
    return "'" + value


def restore(value: str | None) -> str | None:
    """Undo `neutralise` exactly (for programs that read a CSV/XLSX export back)."""
    if value is None or not value.startswith("'") or not needs_prefix(value[1:]):
        return value
    return value[1:]


def neutralise_expr(column: str) -> pl.Expr:
    """The same rule as a Polars expression (vectorised: millions of cells per second)."""
    col = pl.col(column)
    prefix = (
        col.str.contains(_DANGEROUS)
        & ~col.is_in(sorted(MISSING_STRINGS))
        & ~col.str.contains(_NUMBER)
    )
    return pl.when(prefix).then(pl.lit("'") + col).otherwise(col).alias(column)


def restore_expr(column: str) -> pl.Expr:
    col = pl.col(column)
    rest = col.str.slice(1)
    prefixed = (
        col.str.starts_with("'")
        & rest.str.contains(_DANGEROUS)
        & ~rest.is_in(sorted(MISSING_STRINGS))
        & ~rest.str.contains(_NUMBER)
    )
    return pl.when(prefixed).then(rest).otherwise(col).alias(column)


def text_columns(data: pl.DataFrame) -> list[str]:
    return [name for name, dtype in data.schema.items() if dtype == pl.Utf8]


def neutralise_frame(data: pl.DataFrame) -> pl.DataFrame:
    """Every text column neutralised; numeric, date and 0/1 columns unchanged."""
    return data.with_columns(neutralise_expr(name) for name in text_columns(data))


def restore_frame(data: pl.DataFrame) -> pl.DataFrame:
    return data.with_columns(restore_expr(name) for name in text_columns(data))
