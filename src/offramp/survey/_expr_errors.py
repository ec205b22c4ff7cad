"""ExpressionError: a relevance, constraint or calculation that cannot be understood.

Researchers write these expressions in spreadsheet cells, so the message has to show *where* in
the cell the problem is: it repeats the offending line of the expression with a caret under the
column, the way compilers do. The place in the form (file, sheet row, column name) is added by the
caller with `located()`, because only the form reader knows it.
"""

from __future__ import annotations

from offramp.errors import InputError

# How much of a long expression to show around the caret; an XLSForm cell can hold 4,000
# characters and a terminal line cannot.
_WINDOW = 36


class ExpressionError(InputError):
    """An expression that does not parse, or uses something offramp does not support.

    `position` is the 0-based index in `source` that the problem points at (it may equal
    `len(source)` when the expression ends too early). `reason` is the message without the excerpt.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str,
        position: int,
        file: str | None = None,
        line: int | None = None,
        column: str | int | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.position = max(0, min(position, len(source)))
        text = f"{reason} (column {self.position + 1} of the expression)\n" + caret_excerpt(
            source, self.position
        )
        super().__init__(text, file=file, line=line, column=column)

    def located(
        self, *, file: str | None = None, line: int | None = None, column: str | int | None = None
    ) -> ExpressionError:
        """This error placed in a form: `err.located(file=f, line=12, column="relevant")`."""
        return ExpressionError(
            self.reason,
            source=self.source,
            position=self.position,
            file=file,
            line=line,
            column=column,
        )


def caret_excerpt(source: str, position: int) -> str:
    """Two indented lines: the line of `source` holding `position`, and a caret under it.

    Control characters (tabs, escape sequences from a hostile cell) print as spaces, so the caret
    stays aligned and nothing reaches the terminal as a command. Long lines are cut to a window
    around the caret, marked with '...'.
    """
    start = max(source.rfind("\n", 0, position), source.rfind("\r", 0, position)) + 1
    ends = [i for i in (source.find("\n", position), source.find("\r", position)) if i != -1]
    end = min(ends) if ends else len(source)
    column = position - start
    lo, hi = start, end
    prefix = suffix = ""
    if column > _WINDOW:
        lo = position - _WINDOW
        prefix = "..."
    if hi - position > _WINDOW:
        hi = position + _WINDOW
        suffix = "..."
    shown = "".join(ch if ch.isprintable() else " " for ch in source[lo:hi])
    return f"    {prefix}{shown}{suffix}\n    {' ' * (len(prefix) + position - lo)}^"
