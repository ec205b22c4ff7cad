"""Variable names that SPSS and Stata accept, derived once and recorded in the codebook.

Instrument names follow XLSForm rules (letters, digits, `_`, `-`, `.`), and multi-select dummies
append `__choice`, so some dataset columns are not legal in .sav or .dta files: Stata allows at
most 32 characters of letters, digits and `_` (27 here, see MAX_LENGTH); SPSS allows no
leading `_`, no `-`, and refuses a few reserved words. One mapping serves both formats, so a
researcher who moves between SPSS and Stata meets the same names; the codebook's `stat_name`
says which column each became.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_LENGTH = 27
"""Stata allows 32 characters, but pyreadstat names each variable's value-label set after the
variable plus a running number (up to five digits), and that name must fit in 32 as well."""
_ILLEGAL = re.compile(r"[^A-Za-z0-9_]")
# SPSS reserved keywords and Stata's reserved names (compared without case, as both do).
RESERVED = frozenset(
    {
        "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with",
        "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
        "_n", "_pi", "_pred", "_rc", "_skip", "strl", "using",
    }
)


def _base(name: str) -> str:
    clean = _ILLEGAL.sub("_", name)
    if not clean or not clean[0].isalpha():
        clean = "v" + clean
    if clean.lower() in RESERVED or re.fullmatch(r"str\d+", clean.lower()):
        clean = "v_" + clean
    return clean[:MAX_LENGTH]


def stat_names(names: Iterable[str]) -> dict[str, str]:
    """Map each dataset column to a legal, unique SPSS/Stata name (unchanged when already legal).

    Names that are already legal keep priority, so renaming one column never renames another
    that needed no change; clashes after cleaning get `_2`, `_3`, ... within the 32 characters.
    """
    names = list(names)
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if _base(name) == name:
            result[name] = name
            taken.add(name.lower())
    for name in names:
        if name in result:
            continue
        base = _base(name)
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            suffix = f"_{n}"
            candidate = base[: MAX_LENGTH - len(suffix)] + suffix
        result[name] = candidate
        taken.add(candidate.lower())
    return result
