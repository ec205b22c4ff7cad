"""The syntax tree of an expression, and the printer that turns a tree back into source.

Binary operators of one precedence level that follow each other (`a + b - c`, `x or y or z`) form
one `Chain` node rather than a left-leaning tower of binary nodes. Real forms chain dozens of
`selected(...) or ...` and sum dozens of scores; as chains they cost one level of nesting, so the
depth limit only bites on genuinely nested expressions, and evaluation walks a chain in a loop.

Every node records `pos`, the index in the source where it starts, for error messages; `pos` is
left out of equality so that a tree printed and parsed again compares equal to the original.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from offramp.survey._expr_values import format_number

# Binding strength of each binary operator (XPath 1.0 section 3.4-3.5): higher binds tighter.
LEVELS: dict[str, int] = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
}


@dataclass(frozen=True, slots=True)
class Number:
    """A numeric literal (never negative: `-3` is Negate(Number(3)))."""

    value: float
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class String:
    """A string literal in single or double quotes (XPath 1.0 has no escapes)."""

    value: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Variable:
    """`${name}`: the answer to the question called name."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Column:
    """A bare name in a choice_filter: that column of the choice being filtered (e.g. `name`)."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Current:
    """`.`: the value being constrained (the question's own answer)."""

    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus."""

    operand: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Chain:
    """`operands[0] operators[0] operands[1] ...`, left to right, all operators of one level."""

    operators: tuple[str, ...]
    operands: tuple[Node, ...]
    pos: int = field(default=0, compare=False)

    @property
    def level(self) -> int:
        return LEVELS[self.operators[0]]


@dataclass(frozen=True, slots=True)
class Call:
    """A function call, e.g. `selected(${q}, 'a')`."""

    name: str
    args: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


Node = Number | String | Variable | Column | Current | Negate | Chain | Call


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Chain):
        return node.operands
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Negate):
        return (node.operand,)
    return ()


def walk(root: Node) -> Iterator[tuple[Node, int]]:
    """Every node with its depth (root = 1), without recursion, so no tree can exhaust the stack."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in reversed(children(node)))


def unparse(node: Node) -> str:
    """Source text for a tree, with the fewest parentheses that keep its structure."""
    if isinstance(node, Number):
        return format_number(node.value)
    if isinstance(node, String):
        return quote(node.value)
    if isinstance(node, Variable):
        return "${" + node.name + "}"
    if isinstance(node, Column):
        return node.name
    if isinstance(node, Current):
        return "."
    if isinstance(node, Negate):
        inner = unparse(node.operand)
        return f"-({inner})" if isinstance(node.operand, Chain) else f"-{inner}"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(unparse(arg) for arg in node.args)})"
    level = node.level
    parts = [_operand(node.operands[0], level)]
    for operator, operand in zip(node.operators, node.operands[1:], strict=True):
        parts.append(operator)
        parts.append(_operand(operand, level))
    return " ".join(parts)


def _operand(node: Node, level: int) -> str:
    # A chain of a looser or equal level inside this one must keep its parentheses: looser for
    # precedence, equal because (a - b) - c and a - (b - c) are different chains.
    text = unparse(node)
    if isinstance(node, Chain) and node.level <= level:
        return f"({text})"
    return text


def quote(text: str) -> str:
    """A string literal for text. XPath 1.0 has no escapes, so text holding both kinds of quote
    becomes a concat() of pieces that each fit in one kind."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    pieces = [quote(piece) for piece in text.split("'")]
    return "concat(" + ', "\'", '.join(pieces) + ")"
