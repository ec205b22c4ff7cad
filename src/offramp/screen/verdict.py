"""The value the screen stage hands to everything downstream.

A verdict says *whether* a query was blocked and *why* (categories, rule ids, an age band), and
which list decided it. It never carries the query: verdicts are logged, counted and returned over
HTTP, and the query text must not travel with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of screening one query.

    ``age`` is an age band such as ``"13-15"`` when the query states an age, else ``None``.
    ``list_version`` is the content hash of the term list that produced the verdict.
    """

    blocked: bool
    categories: tuple[str, ...]
    rules: tuple[str, ...]
    age: str | None
    list_version: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; lists instead of tuples, and nothing about the query itself."""
        return {
            "blocked": self.blocked,
            "categories": list(self.categories),
            "rules": list(self.rules),
            "age": self.age,
            "list_version": self.list_version,
        }
