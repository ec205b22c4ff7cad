"""Source text -> syntax tree: a precedence-climbing (Pratt) parser for the XLSForm subset of XPath.

Precedence, loosest first, as in XPath 1.0: or; and; = !=; < <= > >=; + -; * div mod; unary minus.
All binary operators associate to the left. Everything a form cannot mean in offramp (paths,
predicates, unknown functions, wrong argument counts, regex patterns RE2 refuses) is an
ExpressionError here, at parse time, pointing at the place, so `offramp survey check` finds it
before any respondent does.

A hostile or generated form cannot exhaust the stack or the CPU: the source is capped at
MAX_LENGTH characters and nesting at MAX_DEPTH levels (checked while parsing and again on the
finished tree), and all later passes over the tree recurse at most that deep.
"""

from __future__ import annotations

import difflib
import re
from typing import Final

from offramp.survey._expr_ast import (
    LEVELS,
    Call,
    Chain,
    Column,
    Current,
    Negate,
    Node,
    Number,
    String,
    Variable,
    walk,
)
from offramp.survey._expr_errors import ExpressionError
from offramp.survey._expr_functions import FUNCTIONS, UNSUPPORTED, PatternError, compile_pattern
from offramp.survey._expr_lexer import (
    COMMA,
    DOT,
    EOF,
    LPAREN,
    NAME,
    NUM,
    OP,
    QUESTION_NAME,
    RPAREN,
    STR,
    VAR,
    Token,
    token_at,
)

MAX_LENGTH: Final = 4000
MAX_DEPTH: Final = 100

_WORD_OPERATORS = frozenset({"and", "or", "div", "mod"})
# `${a} div-1` lexes as the XPath name `div-1`; in operator position it can only mean `div -1`.
_GLUED_OPERATOR = re.compile(r"(and|or|div|mod)-")


def parse_tree(source: str, *, choice_filter: bool = False) -> Node:
    """The syntax tree of source, or ExpressionError pointing at the problem.

    With choice_filter, a bare name (`name`, `state`) is a column of the choice being filtered, as
    in XLSForm's choice_filter; elsewhere a bare name is a mistake for ${name}.
    """
    if not isinstance(source, str):
        raise TypeError(f"an expression is a str, not {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(source):,} characters long; the limit is {MAX_LENGTH:,}",
            source=source,
            position=MAX_LENGTH,
        )
    root = _Parser(source, choice_filter).parse()
    for node, depth in walk(root):
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                source=source,
                position=node.pos,
            )
    return root


def _show(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


class _Parser:
    def __init__(self, source: str, choice_filter: bool) -> None:
        self.source = source
        self.choice_filter = choice_filter
        self.previous: Token | None = None
        self.token = token_at(source, 0)
        self.depth = 0

    # --- plumbing --------------------------------------------------------------------------------

    def error(self, reason: str, position: int) -> ExpressionError:
        return ExpressionError(reason, source=self.source, position=position)

    def advance(self) -> Token:
        token = self.token
        self.previous = token
        self.token = token_at(self.source, token.end)
        return token

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                self.token.pos,
            )

    def operator(self) -> str | None:
        """The binary operator at the current token, if it is one."""
        token = self.token
        if token.kind == OP:
            return token.text
        if token.kind == NAME:
            if token.text in _WORD_OPERATORS:
                return token.text
            glued = _GLUED_OPERATOR.match(token.text)
            if glued is not None:
                self.token = Token(NAME, glued.group(1), token.pos)
                return glued.group(1)
        return None

    # --- grammar ---------------------------------------------------------------------------------

    def parse(self) -> Node:
        if self.token.kind == EOF:
            raise self.error("the expression is empty", 0)
        node = self.expression(1)
        if self.token.kind != EOF:
            raise self.trailing(self.token)
        return node

    def expression(self, min_level: int) -> Node:
        self.enter()
        left = self.unary()
        operator = self.operator()
        while operator is not None and LEVELS[operator] >= min_level:
            level = LEVELS[operator]
            operators: list[str] = []
            operands = [left]
            while operator is not None and LEVELS[operator] == level:
                self.advance()
                operators.append(operator)
                operands.append(self.expression(level + 1))
                operator = self.operator()
            left = Chain(tuple(operators), tuple(operands), pos=left.pos)
        self.depth -= 1
        return left

    def unary(self) -> Node:
        token = self.token
        if token.kind == OP and token.text == "-":
            self.advance()
            self.enter()
            operand = self.unary()
            self.depth -= 1
            return Negate(operand, pos=token.pos)
        return self.primary()

    def primary(self) -> Node:
        token = self.token
        kind = token.kind
        if kind == NUM:
            self.advance()
            return Number(float(token.text), pos=token.pos)
        if kind == STR:
            self.advance()
            return String(token.text[1:-1], pos=token.pos)
        if kind == VAR:
            self.advance()
            return Variable(token.text[2:-1], pos=token.pos)
        if kind == DOT:
            self.advance()
            return Current(pos=token.pos)
        if kind == LPAREN:
            self.advance()
            inner = self.expression(1)
            if self.token.kind != RPAREN:
                raise self.error(
                    f"expected ')' to close the '(' at column {token.pos + 1}", self.token.pos
                )
            self.advance()
            return inner
        if kind == NAME:
            return self.call(token)
        raise self.missing_value(token)

    def call(self, name_token: Token) -> Node:
        name = name_token.text
        if token_at(self.source, name_token.end).kind != LPAREN:
            if self.choice_filter and _is_column(name):
                self.advance()
                return Column(name, pos=name_token.pos)
            raise self.error(self.bare_name(name), name_token.pos)
        function = FUNCTIONS.get(name)
        if function is None:
            if name in UNSUPPORTED:
                reason = f"{name}() is not supported: {UNSUPPORTED[name]}"
            else:
                close = difflib.get_close_matches(name, FUNCTIONS, n=1)
                reason = f"unknown function {_show(name)}" + (
                    f": did you mean {close[0]}()?"
                    if close
                    else "; the functions offramp supports are "
                    + ", ".join(f"{known}()" for known in sorted(FUNCTIONS))
                )
            raise self.error(reason, name_token.pos)
        self.advance()
        opening = self.advance()
        args: list[Node] = []
        if self.token.kind != RPAREN:
            while True:
                args.append(self.expression(1))
                if self.token.kind == COMMA:
                    self.advance()
                    continue
                if self.token.kind == RPAREN:
                    break
                raise self.error(
                    f"expected ',' or ')' in the call to {name}() opened at column "
                    f"{opening.pos + 1}",
                    self.token.pos,
                )
        self.advance()
        count = len(args)
        too_few = count < function.min_args
        too_many = function.max_args is not None and count > function.max_args
        if too_few or too_many:
            given = f"{count} {'was' if count == 1 else 'were'} given"
            raise self.error(f"{function.arity_text()}, but {given}", name_token.pos)
        self.check_literals(name, args)
        return Call(name, tuple(args), pos=name_token.pos)

    def check_literals(self, name: str, args: list[Node]) -> None:
        """Mistakes visible in literal arguments, caught now rather than on a respondent's page."""
        if name == "selected" and _is_number(args[1]):
            raise self.error(
                "put the choice value in quotes, e.g. selected(${q}, '1'): choice values are text",
                args[1].pos,
            )
        if name == "regex" and isinstance(args[1], String):
            try:
                compile_pattern(args[1].value)
            except PatternError as error:
                raise self.error(
                    f"regex() pattern is not valid: {error} (offramp uses RE2 syntax: no "
                    "look-around and no back-references)",
                    args[1].pos,
                ) from None

    # --- messages for what is not an expression ------------------------------------------------

    def bare_name(self, name: str) -> str:
        if name in _WORD_OPERATORS:
            return f"expected a value before {name!r}"
        if name in ("true", "false"):
            return f"write {name}() with parentheses"
        if name in FUNCTIONS or name in UNSUPPORTED:
            return f"{name} is a function: write {name}(...)"
        if name.lower() in _WORD_OPERATORS:
            return f"operators are lower-case: write {name.lower()!r}"
        if self.choice_filter:
            return f"{_show(name)} is not a choice column name"
        return f"unknown name {_show(name)}: refer to a question as ${{{name[:40]}}}"

    def missing_value(self, token: Token) -> ExpressionError:
        after = f" after {self.previous.text!r}" if self.previous is not None else ""
        if token.kind == EOF:
            return self.error(f"the expression ends early: a value is missing{after}", token.pos)
        if token.kind == OP and token.text == "+":
            return self.error("'+' cannot start a value (there is no unary plus)", token.pos)
        return self.error(f"expected a value{after}, found {token.text!r}", token.pos)

    def trailing(self, token: Token) -> ExpressionError:
        if token.kind == RPAREN:
            return self.error("this ')' has no matching '('", token.pos)
        if token.kind == COMMA:
            return self.error("',' only separates a function's arguments", token.pos)
        if token.kind == NAME and token.text.lower() in _WORD_OPERATORS:
            return self.error(f"operators are lower-case: write {token.text.lower()!r}", token.pos)
        return self.error(f"an operator is missing before {_show(token.text)}", token.pos)


def _is_column(name: str) -> bool:
    return (
        name not in _WORD_OPERATORS
        and name not in ("true", "false")
        and name not in FUNCTIONS
        and name not in UNSUPPORTED
        and QUESTION_NAME.fullmatch(name) is not None
    )


def _is_number(node: Node) -> bool:
    return isinstance(node.operand if isinstance(node, Negate) else node, Number)
