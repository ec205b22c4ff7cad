"""The functions an expression may call, with the arity the parser checks and what each returns.

Behaviour follows ODK Collect's JavaRosa engine where forms depend on it; where JavaRosa is
quirky in a way no form relies on, XPath 1.0 wins. Every function returns a value for every
input: a respondent's answer can never make one raise. (The single exception is regex() with a
pattern computed at run time that RE2 refuses; see `dynamic_pattern`.)

regex() uses RE2, whose matching time is linear in the text, so a pattern with catastrophic
backtracking in another engine (`(a+)+$`) cannot stall a page.
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import re2

from offramp.survey._expr_values import (
    NAN,
    Value,
    to_index,
    to_number,
    to_string,
    truthy,
)

Impl = Callable[..., Value]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    impl: Impl | None  # None: evaluated lazily by the compiler (if, coalesce)
    defaults_to_current: bool = False  # string-length() means string-length(.)

    def arity_text(self) -> str:
        low, high = self.min_args, self.max_args
        if high == low:
            count = f"{low} argument{'s' if low != 1 else ''}"
        elif high is None:
            count = f"at least {low} argument{'s' if low != 1 else ''}"
        else:
            count = f"{low} to {high} arguments"
        return f"{self.name}() takes {count}"


def _selected_values(value: Value) -> tuple[str, ...] | list[str]:
    return value if isinstance(value, tuple) else to_string(value).split()


def _selected(answer: Value, choice: Value) -> bool:
    return to_string(choice).strip() in _selected_values(answer)


def _count_selected(answer: Value) -> float:
    return float(len(_selected_values(answer)))


def _selected_at(answer: Value, index: Value) -> str:
    values = _selected_values(answer)
    position = to_index(index)
    return values[position] if 0 <= position < len(values) else ""


def _int(value: Value) -> float:
    number = to_number(value)
    if math.isfinite(number):
        return float(math.trunc(number))
    return number


def _round(value: Value, places: Value = 0.0) -> float:
    # ODK: round half towards positive infinity on the decimal digits the form shows (2.675 -> 2.68,
    # -2.5 -> -2), special values unchanged, absurd place counts NaN.
    number = to_number(value)
    digits = to_index(places)
    if not math.isfinite(number):
        return number
    if abs(digits) > 30:
        return NAN
    mode = decimal.ROUND_HALF_UP if number >= 0 else decimal.ROUND_HALF_DOWN
    context = decimal.Context(prec=400, rounding=mode)
    exact = decimal.Decimal(repr(number))
    return float(exact.quantize(decimal.Decimal(1).scaleb(-digits), context=context))


def _finite_or_same(operation: Callable[[float], int]) -> Impl:
    def apply(value: Value) -> float:
        number = to_number(value)
        return float(operation(number)) if math.isfinite(number) else number

    return apply


def _extreme(pick: Callable[[list[float]], float]) -> Impl:
    # ODK skips NaN arguments (an unanswered question) and is NaN only if all are.
    def apply(*values: Value) -> float:
        numbers = [n for n in map(to_number, values) if n == n]
        return pick(numbers) if numbers else NAN

    return apply


def _substr(value: Value, start: Value, end: Value | None = None) -> str:
    # ODK substr(): 0-based, end exclusive, negative positions count from the end.
    text = to_string(value)
    length = len(text)
    first = to_index(start)
    last = length if end is None else to_index(end)
    if first < 0:
        first += length
    if last < 0:
        last += length
    first = min(max(first, 0), length)
    last = min(max(last, 0), length)
    return text[first:last] if first <= last else ""


def _substring_before(value: Value, part: Value) -> str:
    text, needle = to_string(value), to_string(part)
    index = text.find(needle)
    return text[:index] if index >= 0 else ""


def _substring_after(value: Value, part: Value) -> str:
    text, needle = to_string(value), to_string(part)
    index = text.find(needle)
    return text[index + len(needle) :] if index >= 0 else ""


def _boolean_from_string(value: Value) -> bool:
    text = to_string(value)
    return text.lower() == "true" or text == "1"


# --- regex() -----------------------------------------------------------------------------------

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # errors are reported to the researcher, not to stderr


class PatternError(ValueError):
    """RE2 refused a pattern; the message is RE2's reason."""


def compile_pattern(pattern: str) -> Any:
    """An RE2 program for pattern, or PatternError with RE2's reason."""
    try:
        return re2.compile(_utf8(pattern), _RE2_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(str(reason)) from None


@functools.lru_cache(maxsize=256)
def dynamic_pattern(pattern: str) -> Any:
    """A computed pattern's program, cached; a refused pattern is returned as its PatternError,
    so a page that evaluates it again does not recompile it."""
    try:
        return compile_pattern(pattern)
    except PatternError as error:
        return error


def _utf8(text: str) -> bytes:
    # Python strings may hold lone surrogates that UTF-8 cannot encode; RE2 sees '?' for them.
    return text.encode("utf-8", "replace")


def regex_matches(program: Any, value: Value) -> bool:
    """ODK Collect's regex(): the pattern must match the whole string (Java's Pattern.matches)."""
    return program.fullmatch(_utf8(to_string(value))) is not None


# --- the table ---------------------------------------------------------------------------------


def _table(*functions: Function) -> dict[str, Function]:
    return {function.name: function for function in functions}


FUNCTIONS: dict[str, Function] = _table(
    # choices
    Function("selected", 2, 2, _selected),
    Function("count-selected", 1, 1, _count_selected),
    Function("selected-at", 2, 2, _selected_at),
    # logic
    Function("not", 1, 1, lambda value: not truthy(value)),
    Function("true", 0, 0, lambda: True),
    Function("false", 0, 0, lambda: False),
    Function("boolean", 1, 1, truthy),
    Function("if", 3, 3, None),
    Function("coalesce", 2, None, None),
    # conversions
    Function("number", 0, 1, to_number, defaults_to_current=True),
    Function("string", 0, 1, to_string, defaults_to_current=True),
    Function("int", 1, 1, _int),
    Function("boolean-from-string", 1, 1, _boolean_from_string),
    # numbers
    Function("round", 1, 2, _round),
    Function("floor", 1, 1, _finite_or_same(math.floor)),
    Function("ceiling", 1, 1, _finite_or_same(math.ceil)),
    Function("abs", 1, 1, lambda value: abs(to_number(value))),
    Function("min", 1, None, _extreme(min)),
    Function("max", 1, None, _extreme(max)),
    # strings
    Function("string-length", 0, 1, lambda v: float(len(to_string(v))), defaults_to_current=True),
    Function(
        "normalize-space", 0, 1, lambda v: " ".join(to_string(v).split()), defaults_to_current=True
    ),
    Function("concat", 0, None, lambda *values: "".join(map(to_string, values))),
    Function("contains", 2, 2, lambda a, b: to_string(b) in to_string(a)),
    Function("starts-with", 2, 2, lambda a, b: to_string(a).startswith(to_string(b))),
    Function("ends-with", 2, 2, lambda a, b: to_string(a).endswith(to_string(b))),
    Function("substr", 2, 3, _substr),
    Function("substring-before", 2, 2, _substring_before),
    Function("substring-after", 2, 2, _substring_after),
    Function("regex", 2, 2, None),
)

# Functions real forms use that offramp deliberately lacks, with the reason a researcher needs.
_NO_TIME = "offramp records no dates or times of respondents, so it has no date functions"
_NO_NODESETS = "offramp forms have no repeats or secondary instances, so no node-set functions"
_NO_IDENTIFIERS = "offramp keeps no identifiers or stored values for respondents"
_NO_RANDOM = "randomisation belongs in the form's settings (choice order), not in expressions"
UNSUPPORTED: dict[str, str] = {
    **dict.fromkeys(
        (
            "today",
            "now",
            "date",
            "date-time",
            "decimal-date-time",
            "decimal-time",
            "format-date",
            "format-date-time",
        ),
        _NO_TIME,
    ),
    **dict.fromkeys(
        (
            "count",
            "sum",
            "position",
            "indexed-repeat",
            "instance",
            "current",
            "count-non-empty",
            "join",
            "jr:choice-name",
            "pulldata",
            "last",
        ),
        _NO_NODESETS,
    ),
    **dict.fromkeys(("random", "randomize"), _NO_RANDOM),
    **dict.fromkeys(("uuid", "once"), _NO_IDENTIFIERS),
}
