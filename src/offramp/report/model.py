"""What the report shows, as plain objects the template renders: no statistics, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup


@dataclass
class Cell:
    text: str
    sub: str = ""
    """A second, smaller line: the interval."""
    cls: str = ""


@dataclass
class Table:
    title: str
    head: list[str]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)
    number: str = ""
    anchor: str = ""
    widths: list[int] | None = None
    """Relative column widths (the first column holds labels and gets the most)."""


@dataclass
class Figure:
    title: str
    svg: Markup
    alt: str
    number: str = ""
    anchor: str = ""


@dataclass
class Block:
    """One analysis of the plan as the reader sees it."""

    title: str
    kind: str
    anchor: str
    plan_line: int | None
    figure: Figure | None = None
    table: Table | None = None
    statistics: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Section:
    number: int
    title: str
    anchor: str
    description: str | None
    adjustment: str | None
    blocks: list[Block]


@dataclass
class Report:
    title: str
    subtitle: str | None
    authors: list[str]
    introduction: list[str]
    methods: Methods
    sections: list[Section]
    appendix: list[Table]
    results: dict[str, Any]
    figures: list[Figure]
    tables: list[Table]




@dataclass
class Methods:
    """The methods section, written from the data: paragraphs and small tables."""

    paragraphs: list[str]
    tables: list[Table]
    facts: dict[str, Any] = field(default_factory=dict)
    """The numbers behind the paragraphs (n, period, exclusions), for tests and scripts."""
