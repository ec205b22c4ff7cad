"""Bad input, reported with file and row: stop (``--on-error fail``) or count and go on (``skip``).

Messages never quote the offending row: a broken log row usually contains a query, and a query
must not leak into terminal scrollback or CI logs any more than into the output files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from offramp.errors import InputError
from offramp.logscan.options import OnError

SKIP_HINT = "use --on-error skip to count and skip such rows instead of stopping"


@dataclass(frozen=True, slots=True)
class Skip:
    """One reported problem: where it is, why, and how many rows it cost (None = unknown)."""

    file: str
    unit: str  # "row" (Parquet), "line" (JSON lines, text), "record" (CSV), "after line", ...
    position: int | None
    reason: str
    rows: int | None

    @property
    def where(self) -> str:
        return self.unit if self.position is None else f"{self.unit} {self.position}"

    def sort_key(self) -> tuple[str, int, str]:
        return (self.file, -1 if self.position is None else self.position, self.reason)

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "where": self.where, "reason": self.reason, "rows": self.rows}


@dataclass(slots=True)
class Problems:
    """Collects the skipped rows of one partition (or raises at the first problem).

    Each partition keeps its first ``max_examples`` problems; the run sorts the union and keeps
    the first ``max_examples`` of it, so the examples reported do not depend on which partition
    finished first (local and Dask runs report the same ones).
    """

    on_error: OnError
    max_examples: int = 50
    rows_skipped: int = 0
    unknown_losses: int = 0  # problems whose row count cannot be known (truncated files)
    by_reason: dict[str, int] = field(default_factory=dict)
    examples: list[Skip] = field(default_factory=list)

    def report(
        self,
        file: str,
        unit: str,
        position: int | None,
        reason: str,
        rows: int | None = 1,
        *,
        skippable: bool = True,
    ) -> None:
        """Raise InputError in fail mode (or when it cannot be skipped), else count it."""
        skip = Skip(file, unit, position, reason, rows)
        if self.on_error == "fail" or not skippable:
            raise InputError(
                f"{skip.where}: {reason}", file=file, hint=SKIP_HINT if skippable else None
            )
        self.add(skip)

    def report_many(self, file: str, unit: str, positions: list[int], reason: str) -> None:
        """Many rows with the same problem: raise at the first, or count them all."""
        if not positions:
            return
        self.report(file, unit, positions[0], reason)
        for position in positions[1 : max(self.max_examples - len(self.examples) + 1, 1)]:
            self.examples.append(Skip(file, unit, position, reason, 1))
        rest = len(positions) - 1
        self.rows_skipped += rest
        self.by_reason[reason] = self.by_reason.get(reason, 0) + rest

    def add(self, skip: Skip) -> None:
        if skip.rows is None:
            self.unknown_losses += 1
        else:
            self.rows_skipped += skip.rows
        self.by_reason[skip.reason] = self.by_reason.get(skip.reason, 0) + (skip.rows or 0)
        if len(self.examples) < self.max_examples:
            self.examples.append(skip)

    def merge(self, other: Problems) -> None:
        """Add another partition's problems (examples are capped only by ``finished``)."""
        self.rows_skipped += other.rows_skipped
        self.unknown_losses += other.unknown_losses
        for reason, n in other.by_reason.items():
            self.by_reason[reason] = self.by_reason.get(reason, 0) + n
        self.examples.extend(other.examples)

    def finished(self) -> list[Skip]:
        """The examples to report: sorted by file and position, at most ``max_examples``."""
        return sorted(self.examples, key=Skip.sort_key)[: self.max_examples]

    @property
    def any(self) -> bool:
        return self.rows_skipped > 0 or self.unknown_losses > 0
