"""Missing-value codes shared by the dataset, the exports and the analysis.

Survey data keeps *why* a value is missing, because "prefer not to say" is an answer, "not shown"
is the instrument's skip logic, and a blank is a respondent who moved on. Researchers trained on
SPSS and Stata expect reserved negative codes, so the tidy dataset uses them in every variable
column (as numbers in numeric and 0/1 columns, as their decimal string in text and choice
columns). A plain null means "shown but left unanswered" (SPSS system-missing).
"""

from __future__ import annotations

from typing import Final

REFUSED: Final = -97
"""The respondent chose "prefer not to say"."""
DONT_KNOW: Final = -98
"""The respondent chose "don't know"."""
NOT_SHOWN: Final = -99
"""The question was not shown: its relevance condition was false (skip logic), the page was
never reached, or the respondent's instrument version did not have it."""

MISSING_CODES: Final[dict[str, int]] = {
    "refused": REFUSED,
    "dont_know": DONT_KNOW,
    "not_shown": NOT_SHOWN,
}
CODE_LABELS: Final[dict[int, str]] = {
    REFUSED: "Prefer not to say",
    DONT_KNOW: "Don't know",
    NOT_SHOWN: "Not shown (skip logic)",
}
MISSING_STRINGS: Final[frozenset[str]] = frozenset(str(c) for c in CODE_LABELS)


def is_missing_code(value: object) -> bool:
    """True when value is one of the reserved codes, as a number or as its string form."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value in CODE_LABELS
    if isinstance(value, str):
        return value in MISSING_STRINGS
    return False
