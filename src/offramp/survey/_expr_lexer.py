"""Tokens of the XLSForm expression language, read one at a time at a given position.

The parser asks for the token at a position rather than receiving a list, so it can re-read the
source where XPath's tokenisation is context-dependent (`${a} div-1`, where `div-1` would be one
XPath name but can only mean `div -1` here).

Characters from other languages' habits (`==`, `&&`, `!`, `%`, `/`, typographic quotes pasted from
a word processor) get an error that says what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from offramp.survey._expr_errors import ExpressionError

NUM: Final = "number"
STR: Final = "string"
VAR: Final = "variable"
DOT: Final = "."
NAME: Final = "name"
OP: Final = "operator"
LPAREN: Final = "("
RPAREN: Final = ")"
COMMA: Final = ","
EOF: Final = "end"

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
# XLSForm names: a letter or '_' first, then letters, digits, '_', '-', '.'.
# A function name may carry one prefix (jr:choice-name), so that it can be refused by name.
_NAME = re.compile(r"[^\W\d][\w.-]*(?::[^\W\d][\w.-]*)?")
QUESTION_NAME = re.compile(r"[^\W\d][\w.-]*")
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*")

_TYPOGRAPHIC_QUOTES = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00b4\u0060"

_MISTAKES: dict[str, str] = {
    "==": "use '=' to compare, not '=='",
    "<>": "use '!=' for 'not equal', not '<>'",
    "&&": "use 'and' to combine conditions, not '&&'",
    "||": "use 'or' to combine conditions, not '||'",
    "..": "'..' (the parent node) is not supported: refer to questions as ${name}",
    "//": "XPath paths are not supported: refer to questions as ${name}",
    "::": "XPath axes are not supported: refer to questions as ${name}",
}
_MISTAKE_CHARS: dict[str, str] = {
    "!": "use not(...) for negation, or '!=' for 'not equal'",
    "&": "use 'and' to combine conditions",
    "%": "use 'mod' for the remainder, not '%'",
    "/": "'/' is not supported: divide with 'div', and refer to questions as ${name}, not by path",
    "|": "'|' (node-set union) is not supported",
    "[": "predicates in brackets are not supported",
    "]": "unexpected ']'",
    "@": "attributes ('@') are not supported: refer to questions as ${name}",
    "{": "unexpected '{': a question reference is written ${name}",
    "}": "unexpected '}': a question reference is written ${name}",
    "#": "'#' does not start a comment in an expression",
    ";": "unexpected ';'",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def end(self) -> int:
        return self.pos + len(self.text)


def skip_space(source: str, pos: int) -> int:
    """Past any whitespace; any Unicode space counts (pasted cells often hold no-break spaces)."""
    while pos < len(source) and source[pos].isspace():
        pos += 1
    return pos


def token_at(source: str, pos: int) -> Token:
    """The token starting at or after `pos` (after whitespace)."""
    pos = skip_space(source, pos)
    if pos >= len(source):
        return Token(EOF, "", len(source))
    char = source[pos]
    pair = source[pos : pos + 2]
    if pair in _MISTAKES:
        raise ExpressionError(_MISTAKES[pair], source=source, position=pos)
    if char == "$":
        return _variable(source, pos)
    if char in "'\"":
        end = source.find(char, pos + 1)
        if end == -1:
            raise ExpressionError(
                f"this string has no closing quote ({char})", source=source, position=pos
            )
        return Token(STR, source[pos : end + 1], pos)
    if char.isdigit() or (char == "." and source[pos + 1 : pos + 2].isdigit()):
        match = _NUMBER.match(source, pos)
        if match is None:  # a digit outside 0-9 (e.g. Arabic-Indic)
            raise ExpressionError(
                f"unexpected character {char!r}: write numbers with the digits 0-9",
                source=source,
                position=pos,
            )
        return Token(NUM, match.group(), pos)
    if char == ".":
        return Token(DOT, ".", pos)
    if char in "(),":
        return Token(char, char, pos)
    for operator in _OPERATORS:
        if source.startswith(operator, pos):
            return Token(OP, operator, pos)
    name = _NAME.match(source, pos)
    if name is not None:
        return Token(NAME, name.group(), pos)
    raise ExpressionError(_unexpected(char), source=source, position=pos)


def _unexpected(char: str) -> str:
    if char in _MISTAKE_CHARS:
        return _MISTAKE_CHARS[char]
    if char in _TYPOGRAPHIC_QUOTES:
        return (
            f"{char!r} is a typographic quote (often added by a word processor): "
            "quote strings with ' or \""
        )
    if char.isprintable():
        return f"unexpected character {char!r}"
    return f"unexpected invisible character U+{ord(char):04X}"


def _variable(source: str, pos: int) -> Token:
    if source[pos + 1 : pos + 2] != "{":
        raise ExpressionError(
            "'$' must start a question reference written ${name}", source=source, position=pos
        )
    close = source.find("}", pos + 2)
    if close == -1:
        raise ExpressionError(
            "this question reference has no closing '}'", source=source, position=pos
        )
    name = source[pos + 2 : close]
    if not QUESTION_NAME.fullmatch(name):
        if not name:
            reason = "empty question reference '${}': put a question name between the braces"
        else:
            shown = name if len(name) <= 40 else name[:40] + "..."
            reason = (
                f"{shown!r} is not a question name: names start with a letter or '_' and "
                "hold only letters, digits, '_', '-' and '.'"
            )
        raise ExpressionError(reason, source=source, position=pos + 2)
    return Token(VAR, source[pos : close + 1], pos)
