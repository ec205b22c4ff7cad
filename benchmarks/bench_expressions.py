"""How fast relevance and constraint expressions evaluate, beside baselines from the same run.

    .venv/bin/python benchmarks/bench_expressions.py [--seconds 1.0]

Rows, for a mix of expressions typical of a mid-size form (relevance with selected() and
comparisons, a constraint with regex() and string-length(), a score calculation, a choice filter):

- parsed once, `Expression.evaluate`          what a page does (parse() is cached)
- `evaluate(source, ...)`                      the same through the cache lookup
- parse on every call (naive baseline)         what an uncached engine would cost
- hand-written Python lambdas (ceiling)        the same logic with no interpreter at all

A page of a mid-size form evaluates perhaps 10-30 expressions; divide the first row by that to
see the share of a page render's budget (the issue's target is >= 3,000 renders/s).
"""

from __future__ import annotations

import argparse
import math
import re
import time
from collections.abc import Callable
from typing import Any

from offramp.survey.expressions import _parse, evaluate, parse

ANSWERS: dict[str, object] = {
    "age": 34,
    "consent": "yes",
    "topics": ["b", "d"],
    "contact": "",
    "q1": 2,
    "q2": 3,
    "q3": None,
    "q4": 1,
    "region": "north",
}
CHOICE_ROW = {"name": "c", "state": "north"}

CASES: list[tuple[str, object, bool]] = [
    ("${consent} = 'yes' and ${age} >= 18", None, False),
    ("selected(${topics}, 'b') or selected(${topics}, 'c')", None, False),
    ("count-selected(${topics}) >= 1 and not(selected(${topics}, 'none'))", None, False),
    ("${contact} = '' or regex(${contact}, '[^@ ]+@[^@ ]+')", None, False),
    (". >= 0 and . <= 120", 42, False),
    ("string-length(.) <= 500", "a short free-text answer", False),
    (
        "coalesce(${q1}, 0) + coalesce(${q2}, 0) + coalesce(${q3}, 0) + coalesce(${q4}, 0)",
        None,
        False,
    ),
    ("if(${age} < 25, 'young', if(${age} < 60, 'middle', 'older'))", None, False),
    ("state = ${region}", CHOICE_ROW, True),
]


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


_EMAIL = re.compile(r"[^@ ]+@[^@ ]+")

# The same logic written by hand for these answers' types: the ceiling an interpreter approaches.
HAND: list[Callable[[dict[str, Any], Any], object]] = [
    lambda a, c: a.get("consent") == "yes" and _num(a.get("age")) >= 18,
    lambda a, c: "b" in (a.get("topics") or []) or "c" in (a.get("topics") or []),
    lambda a, c: len(a.get("topics") or []) >= 1 and "none" not in (a.get("topics") or []),
    lambda a, c: (
        a.get("contact") in ("", None) or _EMAIL.fullmatch(str(a.get("contact"))) is not None
    ),
    lambda a, c: 0 <= _num(c) <= 120,
    lambda a, c: len(str(c)) <= 500,
    lambda a, c: sum(_num(a.get(k) or 0) for k in ("q1", "q2", "q3", "q4")),
    lambda a, c: (
        "young" if _num(a.get("age")) < 25 else "middle" if _num(a.get("age")) < 60 else "older"
    ),
    lambda a, c: c["state"] == a.get("region"),
]


def rate(run: Callable[[], object], seconds: float) -> float:
    """Evaluations per second of `run` (which evaluates every case once)."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(20):
            run()
        count += 20
    return count * len(CASES) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per row (default 1)")
    seconds = parser.parse_args().seconds

    parsed = [(parse(src, choice_filter=cf), cur) for src, cur, cf in CASES]
    for (expression, current), hand in zip(parsed, HAND, strict=True):
        got, want = expression.evaluate(ANSWERS, current), hand(ANSWERS, current)
        assert got == want or (isinstance(want, bool) and got is want), (expression, got, want)

    def cached() -> None:
        for expression, current in parsed:
            expression.evaluate(ANSWERS, current)

    def through_evaluate() -> None:
        for source, current, choice_filter in CASES:
            evaluate(source, ANSWERS, current, choice_filter=choice_filter)

    def naive() -> None:
        for source, current, choice_filter in CASES:
            _parse(source, choice_filter).evaluate(ANSWERS, current)

    def by_hand() -> None:
        for function, (_, current, _cf) in zip(HAND, CASES, strict=True):
            function(ANSWERS, current)

    rows = [
        ("parsed once, Expression.evaluate", cached),
        ("evaluate(source, ...) via the cache", through_evaluate),
        ("parse on every call (naive baseline)", naive),
        ("hand-written Python lambdas (ceiling)", by_hand),
    ]
    print(f"{len(CASES)} expressions, {seconds:g} s per row, one core")
    for label, run in rows:
        per_second = rate(run, seconds)
        print(f"  {label:<40} {per_second:>12,.0f} evaluations/s  {1e6 / per_second:8.2f} us each")


if __name__ == "__main__":
    main()
