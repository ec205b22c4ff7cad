"""Relevance, constraint and calculation expressions: the XLSForm subset of XPath, evaluated safely.

    >>> sorted(parse("${age} >= 18 and selected(${topics}, 'b')").variables())
    ['age', 'topics']
    >>> evaluate("${age} >= 18", {"age": 20})
    True
    >>> evaluate("string-length(.) <= 5", {}, current="hello")
    True

Expressions are parsed into a syntax tree by a hand-written parser and evaluated by closures built
from that tree: never by eval(). Parse errors are `ExpressionError`s whose `position` is the 0-based
column in the expression, and whose message repeats the expression with a caret under it.

What the language is (see docs/ for the researchers' version):

- `${name}` is the answer to question `name`; `.` is the value being constrained (`current`).
- In a choice_filter (parse with `choice_filter=True`), a bare name such as `name` or `state` is
  that column of the choice being filtered: pass the choice's row as `current`, e.g.
  `{"name": "b", "state": "north"}`. Elsewhere a bare name is an error (a forgotten `${}`).
- Literals: numbers (`3`, `2.5`, `.5`; no exponent), strings in '...' or "..." (no escapes).
- Operators, loosest first: `or`; `and`; `=` `!=`; `<` `<=` `>` `>=`; `+` `-`; `*` `div` `mod`;
  unary `-`. All binary operators associate to the left.
- Functions: see FUNCTIONS. Date/time, repeat and random functions are refused with a reason.

Values follow XPath 1.0 as ODK Collect (JavaRosa) applies it to a form's answers:

- An unanswered question (None, or absent from `answers`) is the empty string. So `${age} > 17`
  is false when age is unanswered (number('') is NaN, and every comparison with NaN is false),
  `${x} = ''` is true, and `${x} != 5` is true.
- Numbers are IEEE doubles; `evaluate` returns float for every number (an int answer 17 reads as
  17.0). A string answer compares as a number when the other side is a number: `'18' > 17`.
- `=` / `!=`: if either side is a boolean both are compared as booleans; else if either is a number
  both are compared as numbers (equal within 1e-12, as ODK does, so `0.1 + 0.2 = 0.3`); else as
  strings. `<` `<=` `>` `>=` always compare numbers.
- A multi-select answer may be a list, tuple or set of choice values or one space-separated
  string; `selected()`, `count-selected()` and `selected-at()` treat both alike. Inside the
  evaluator it is a tuple of choice values, and `evaluate("${m}", ...)` returns that tuple.
- Division by zero gives what ODK gives: `1 div 0` is Infinity, `-1 div 0` is -Infinity,
  `0 div 0` and `x mod 0` are NaN. A respondent's answer can never make evaluation raise.
- regex() must match the whole string (as in ODK Collect; Enketo searches instead) and uses RE2,
  whose time is linear in the text. A literal pattern RE2 refuses is an error at parse time; a
  pattern computed from answers that RE2 refuses raises ExpressionError when evaluated.
- Numbers print as XPath prints them (`string(3)` is '3', `string(1 div 0)` is 'Infinity').

Limits: MAX_LENGTH characters of source, MAX_DEPTH levels of nesting. Parsed expressions are
cached, because every page evaluates the same few expressions for every respondent.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from offramp.survey import _expr_values
from offramp.survey._expr_ast import Call, Column, Current, Node, Variable, walk
from offramp.survey._expr_compile import Evaluator, compile_tree
from offramp.survey._expr_errors import ExpressionError
from offramp.survey._expr_functions import FUNCTIONS as _FUNCTION_TABLE
from offramp.survey._expr_parser import MAX_DEPTH, MAX_LENGTH, parse_tree

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Expression",
    "ExpressionError",
    "evaluate",
    "parse",
    "to_number",
    "to_string",
    "truthy",
]

FUNCTIONS: frozenset[str] = frozenset(_FUNCTION_TABLE)
"""Names of the functions an expression may call."""

_CACHE_SIZE = 4096


class Expression:
    """A parsed expression: its source, the questions it reads, and a fast evaluator.

    Immutable and safe to share between threads; `parse()` returns the same object for the same
    source while it stays in the cache.
    """

    __slots__ = ("_columns", "_evaluator", "_uses_current", "_variables", "source", "tree")

    def __init__(self, source: str, tree: Node) -> None:
        self.source = source
        self.tree = tree
        names: set[str] = set()
        columns: set[str] = set()
        uses_current = False
        for node, _depth in walk(tree):
            if isinstance(node, Variable):
                names.add(node.name)
            elif isinstance(node, Column):
                columns.add(node.name)
            elif isinstance(node, Current) or (
                isinstance(node, Call)
                and not node.args
                and _FUNCTION_TABLE[node.name].defaults_to_current
            ):
                uses_current = True
        self._variables = frozenset(names)
        self._columns = frozenset(columns)
        self._uses_current = uses_current
        self._evaluator: Evaluator = compile_tree(tree, source)

    def variables(self) -> frozenset[str]:
        """Names of the questions referred to as ${name}."""
        return self._variables

    def columns(self) -> frozenset[str]:
        """Choice columns a choice_filter reads by bare name (always empty elsewhere)."""
        return self._columns

    def uses_current(self) -> bool:
        """Whether the expression reads `.` (directly, or as string-length() and friends do)."""
        return self._uses_current

    def evaluate(self, answers: Mapping[str, object], current: object = None) -> object:
        """The value of the expression: bool, float, str, or a tuple of choice values.

        answers maps question names to str | int | float | list[str] | None; a name that is
        missing reads as unanswered. current is what `.` means. Use `truthy()` for relevance and
        constraints.
        """
        return self._evaluator(answers, current)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def _parse(source: str, choice_filter: bool) -> Expression:
    return Expression(source, parse_tree(source, choice_filter=choice_filter))


_parse_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse)


def parse(source: str, *, choice_filter: bool = False) -> Expression:
    """Parse source once (cached); raises ExpressionError pointing at the problem.

    choice_filter=True parses an XLSForm choice_filter, where bare names are choice columns.
    """
    if not isinstance(source, str):
        raise TypeError(f"an expression is a str, not {type(source).__name__}")
    return _parse_cached(source, choice_filter)


def evaluate(
    source: str,
    answers: Mapping[str, object],
    current: object = None,
    *,
    choice_filter: bool = False,
) -> object:
    """parse(source, choice_filter=...).evaluate(answers, current)."""
    return parse(source, choice_filter=choice_filter).evaluate(answers, current)


def truthy(value: object) -> bool:
    """XPath boolean() of a result or an answer: true, a non-zero number that is not NaN, a
    non-empty string, a multi-select with at least one choice. None is false."""
    return _expr_values.truthy(_expr_values.from_answer(value))


def to_number(value: object) -> float:
    """XPath number() of a result or an answer (NaN when it is not a number)."""
    return _expr_values.to_number(_expr_values.from_answer(value))


def to_string(value: object) -> str:
    """XPath string() of a result or an answer: how ODK would store a calculation's value."""
    return _expr_values.to_string(_expr_values.from_answer(value))
