"""Syntax tree -> a Python closure that evaluates it. No eval(), no code generation from text.

Pages evaluate the same relevance and constraint expressions for every respondent, so the tree is
turned once into nested closures (one per node) and each evaluation is plain function calls:
no dispatch on node types, chains evaluated in a loop, `and`/`or`/`if()`/`coalesce()` lazy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from offramp.survey._expr_ast import (
    Call,
    Chain,
    Column,
    Current,
    Negate,
    Node,
    Number,
    String,
    Variable,
)
from offramp.survey._expr_errors import ExpressionError
from offramp.survey._expr_functions import (
    FUNCTIONS,
    PatternError,
    compile_pattern,
    dynamic_pattern,
    regex_matches,
)
from offramp.survey._expr_parser import MAX_LENGTH
from offramp.survey._expr_values import (
    Value,
    divide,
    equals,
    from_answer,
    modulo,
    to_number,
    to_string,
    truthy,
)

Evaluator = Callable[[Mapping[str, object], object], Value]
Binary = Callable[[Value, Value], Value]

_BINARY: dict[str, Binary] = {
    "=": equals,
    "!=": lambda a, b: not equals(a, b),
    "<": lambda a, b: to_number(a) < to_number(b),
    "<=": lambda a, b: to_number(a) <= to_number(b),
    ">": lambda a, b: to_number(a) > to_number(b),
    ">=": lambda a, b: to_number(a) >= to_number(b),
    "+": lambda a, b: to_number(a) + to_number(b),
    "-": lambda a, b: to_number(a) - to_number(b),
    "*": lambda a, b: to_number(a) * to_number(b),
    "div": lambda a, b: divide(to_number(a), to_number(b)),
    "mod": lambda a, b: modulo(to_number(a), to_number(b)),
}


def compile_tree(node: Node, source: str) -> Evaluator:
    """A closure computing node's value from (answers, current)."""
    if isinstance(node, Number | String):
        constant: Value = node.value
        return lambda answers, current: constant
    if isinstance(node, Variable):
        name = node.name
        return lambda answers, current: from_answer(answers.get(name))
    if isinstance(node, Column):
        column = node.name
        return lambda answers, current: from_answer(
            current.get(column) if isinstance(current, Mapping) else None
        )
    if isinstance(node, Current):
        return lambda answers, current: from_answer(current)
    if isinstance(node, Negate):
        operand = compile_tree(node.operand, source)
        return lambda answers, current: -to_number(operand(answers, current))
    if isinstance(node, Chain):
        return _chain(node, source)
    return _call(node, source)


def _chain(node: Chain, source: str) -> Evaluator:
    parts = tuple(compile_tree(operand, source) for operand in node.operands)
    if node.operators[0] == "or":

        def any_true(answers: Mapping[str, object], current: object) -> Value:
            # A plain loop, not any(generator): no extra frame per nesting level, and faster.
            for part in parts:  # noqa: SIM110 - see the comment above
                if truthy(part(answers, current)):
                    return True
            return False

        return any_true
    if node.operators[0] == "and":

        def all_true(answers: Mapping[str, object], current: object) -> Value:
            for part in parts:  # noqa: SIM110 - a loop, as in any_true
                if not truthy(part(answers, current)):
                    return False
            return True

        return all_true
    first = parts[0]
    if len(parts) == 2:
        operation, second = _BINARY[node.operators[0]], parts[1]
        return lambda answers, current: operation(first(answers, current), second(answers, current))
    steps = tuple(
        (_BINARY[operator], part) for operator, part in zip(node.operators, parts[1:], strict=True)
    )

    def fold(answers: Mapping[str, object], current: object) -> Value:
        value = first(answers, current)
        for operation, part in steps:
            value = operation(value, part(answers, current))
        return value

    return fold


def _is_null(value: Value) -> bool:
    # ODK's coalesce() skips empty strings and NaN (what an unanswered question yields).
    if isinstance(value, float):
        return value != value
    return not isinstance(value, bool) and len(value) == 0


def _call(node: Call, source: str) -> Evaluator:
    function = FUNCTIONS[node.name]
    args: tuple[Node, ...] = node.args
    if not args and function.defaults_to_current:
        args = (Current(pos=node.pos),)
    parts = tuple(compile_tree(arg, source) for arg in args)
    if node.name == "if":
        condition, then, otherwise = parts

        def branch(answers: Mapping[str, object], current: object) -> Value:
            if truthy(condition(answers, current)):
                return then(answers, current)
            return otherwise(answers, current)

        return branch
    if node.name == "coalesce":
        return _coalesce(parts)
    if node.name == "regex":
        return _regex(node, parts, source)
    impl = function.impl
    assert impl is not None  # only if(), coalesce() and regex() are compiled specially
    if not parts:
        return lambda answers, current: impl()
    if len(parts) == 1:
        (only,) = parts
        return lambda answers, current: impl(only(answers, current))
    if len(parts) == 2:
        left, right = parts
        return lambda answers, current: impl(left(answers, current), right(answers, current))
    return lambda answers, current: impl(*[part(answers, current) for part in parts])


def _coalesce(parts: tuple[Evaluator, ...]) -> Evaluator:
    *candidates, last = parts

    def coalesce(answers: Mapping[str, object], current: object) -> Value:
        for candidate in candidates:
            value = candidate(answers, current)
            if not _is_null(value):
                return value
        return last(answers, current)

    return coalesce


def _regex(node: Call, parts: tuple[Evaluator, ...], source: str) -> Evaluator:
    text, pattern_part = parts
    pattern_node = node.args[1]
    if isinstance(pattern_node, String):
        program = compile_pattern(pattern_node.value)  # the parser has already checked it
        return lambda answers, current: regex_matches(program, text(answers, current))

    def computed(answers: Mapping[str, object], current: object) -> Value:
        # A pattern computed from answers is the only thing that can fail after parsing: say so
        # clearly instead of guessing true or false for a constraint.
        pattern = to_string(pattern_part(answers, current))
        if len(pattern) > MAX_LENGTH:
            reason = f"the pattern is longer than {MAX_LENGTH:,} characters"
        else:
            program = dynamic_pattern(pattern)
            if not isinstance(program, PatternError):
                return regex_matches(program, text(answers, current))
            reason = str(program)
        raise ExpressionError(
            f"regex() pattern computed here is not valid: {reason}",
            source=source,
            position=pattern_node.pos,
        )

    return computed
