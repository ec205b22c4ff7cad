"""Term-list files: plain and YAML, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from offramp.errors import InputError
from offramp.screen import Screener
from offramp.screen.terms import load, parse_plain, parse_yaml

HEAD = "categories:\n  core: Core\nrules:\n"


def test_plain_list_ids_are_line_numbers() -> None:
    tl = parse_plain("# comment\n\nzorblax\nquillion vexmora  # note\ntarvun*\n")
    assert [r.id for r in tl.rules] == ["line:3", "line:4", "line:5"]
    assert [r.category for r in tl.rules] == ["default"] * 3
    assert tl.rules[2].terms[0].kind == "prefix"


def test_version_is_a_content_hash() -> None:
    a, b = parse_plain("zorblax\n"), parse_plain("zorblax\nquillion\n")
    assert a.version != b.version and a.version == parse_plain("zorblax\n").version


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("rules: [\n  - id: x\n", 2, "not valid YAML"),
        (HEAD + "  - id: a\n    category: nope\n    terms: [zorblax]\n", 5, "unknown category"),
        (HEAD + "  - id: a\n    category: core\n    terms: ['']\n", 6, "empty term"),
        (HEAD + "  - id: a\n    category: core\n    terms: ['---']\n", 6, "folds to nothing"),
        (HEAD + "  - id: a\n    category: core\n    terms: [zorblax]\n"
         "  - id: a\n    category: core\n    terms: [quillion]\n", 7, "duplicate rule id"),
        (HEAD + "  - id: a\n    category: core\n    term: [zorblax]\n", 6, "unknown rule key"),
        (HEAD + "  - id: a\n    category: core\n    match: fuzzy\n    terms: [x]\n", 6,
         "match must be"),
        (HEAD + "  - id: a\n    category: core\n", 4, "has no terms"),
        (HEAD + "  - id: a\n    category: core\n    age_below: old\n    terms: [x]\n", 6,
         "whole number"),
        (HEAD + "  - id: a\n    category: core\n    match: substring\n    terms: [a b]\n", 7,
         "more than one word"),
    ],
)
def test_yaml_errors_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_yaml(text, source="list.yaml")
    assert info.value.line == line
    assert message in str(info.value)
    assert str(info.value).startswith(f"list.yaml:{line}: ")


def test_plain_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("zorblax\n...\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"t.txt:2: term '...' folds to nothing"):
        load(path)
    path.write_bytes(b"zorblax\n\xff\n")
    with pytest.raises(InputError, match=r"t.txt:2: term list is not UTF-8"):
        load(path)


def test_demo_yaml_loads(demo: Screener) -> None:
    assert demo.index.languages == ("en", "de")
