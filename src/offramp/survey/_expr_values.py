"""XPath 1.0 values and conversions, with the ODK (JavaRosa) reading of answers.

Inside the evaluator every value is one of four types:

    bool                 results of comparisons, and(), not(), true() ...
    float                every number (XPath has only IEEE doubles; so does ODK)
    str                  strings, and text / select_one answers
    tuple[str, ...]      a select_multiple answer: its choice values, in order

Answers arrive as Python objects (str, int, float, list of choice values, None) and are read the way
JavaRosa reads a form's nodes: an unanswered question is the empty string, a number stays a
number, a multi-select is its choice values. That is why `${age} > 17` is false when age is
unanswered (number('') is NaN, and NaN compares false) while `${x} = ''` is true.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Set
from decimal import Decimal
from typing import Final

Value = bool | float | str | tuple[str, ...]

NAN: Final = math.nan
INF: Final = math.inf

# XPath 1.0 Number production for strings: optional minus, digits with an optional fraction, no
# exponent, no '+', surrounded by optional XPath whitespace. Anything else is NaN.
_NUMERIC = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_XPATH_SPACE: Final = " \t\r\n"

# ODK compares numbers for equality with this absolute tolerance, so that
# `${a} + ${b} = 0.3` holds for decimal answers 0.1 and 0.2 as a researcher expects.
EQUALITY_TOLERANCE: Final = 1e-12


def from_answer(raw: object) -> Value:
    """Read one answer (or the current value) as an XPath value, never failing."""
    if isinstance(raw, str):
        return raw
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, float):
        return float(raw)  # a float subclass (numpy.float64) becomes a plain float
    if isinstance(raw, int):
        try:
            return float(raw)
        except OverflowError:
            return INF if raw > 0 else -INF
    if isinstance(raw, list | tuple):
        return _choices(raw)
    if isinstance(raw, Mapping):  # a choice row given as `current` in a choice_filter
        return ""
    if isinstance(raw, Set):
        return tuple(sorted(_choices(raw)))
    try:
        return float(raw)  # type: ignore[arg-type]  # Decimal, Fraction, numpy scalars
    except (TypeError, ValueError, OverflowError):
        return str(raw)


def _choices(items: Iterable[object]) -> tuple[str, ...]:
    """Choice values of a multi-select; split on spaces so a list and 'a b' read the same."""
    parts: list[str] = []
    for item in items:
        if item is None:
            continue
        text = item if isinstance(item, str) else to_string(from_answer(item))
        parts.extend(text.split())
    return tuple(parts)


def to_number(value: Value) -> float:
    """XPath number(): booleans are 1/0, strings must look like a decimal number or are NaN."""
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return _string_to_number(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return _string_to_number(" ".join(value))


def _string_to_number(text: str) -> float:
    stripped = text.strip(_XPATH_SPACE)
    if _NUMERIC.fullmatch(stripped):
        return float(stripped)
    return NAN


def to_string(value: Value) -> str:
    """XPath string(): 'true'/'false'; numbers without exponent or '.0'; 'NaN'; 'Infinity'."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    return " ".join(value)


def format_number(number: float) -> str:
    """A number as XPath prints it: 3 not 3.0, 0.0000001 not 1e-07, 'NaN', '-Infinity'.

    Built from repr(), the shortest text that reads back as the same double, so printing a number
    and parsing it again gives that number.
    """
    if number != number:
        return "NaN"
    if number in (INF, -INF):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    text = repr(number)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def truthy(value: Value) -> bool:
    """XPath boolean(): non-zero and not NaN; non-empty string; a multi-select with a choice."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value != 0.0 and value == value
    return len(value) > 0


def equals(left: Value, right: Value) -> bool:
    """`=` as JavaRosa does it: booleans win, then numbers (with ODK's tolerance), then strings."""
    if isinstance(left, bool) or isinstance(right, bool):
        return truthy(left) == truthy(right)
    if isinstance(left, float) or isinstance(right, float):
        a, b = to_number(left), to_number(right)
        return a == b or abs(a - b) < EQUALITY_TOLERANCE
    return to_string(left) == to_string(right)


def divide(a: float, b: float) -> float:
    """`div` with IEEE results for a zero divisor, as XPath and ODK give: ±Infinity or NaN."""
    if b == 0.0:
        if a != a or a == 0.0:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)
    return a / b


def modulo(a: float, b: float) -> float:
    """`mod` truncates like Java's %: the result has the sign of the dividend; x mod 0 is NaN."""
    if b == 0.0 or a != a or b != b or a in (INF, -INF):
        return NAN
    if b in (INF, -INF):
        return a
    return math.fmod(a, b)


def to_index(value: Value) -> int:
    """A number truncated to a Python int the way Java's (int) cast does: NaN -> 0, clamped."""
    number = to_number(value)
    if number != number:
        return 0
    if number >= 2**31:
        return 2**31 - 1
    if number <= -(2**31):
        return -(2**31)
    return math.trunc(number)
