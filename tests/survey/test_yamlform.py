"""Reading YAML instruments: problems carry the file and line."""

from __future__ import annotations

from offramp.survey.load import read_form
from tests.survey.conftest import FormWriter


def problems(path) -> list[tuple[int | None, str]]:  # type: ignore[no-untyped-def]
    return [(p.location.row, p.message) for p in read_form(path).problems
            if p.severity == "error"]


def test_every_problem_has_its_line(yamlform: FormWriter) -> None:
    path = yamlform("""\
id: bad form
languages: [en]
choices:
  yn:
    - {value: "y", label: "Yes"}
    - {value: "y", label: "Yes again"}
    - {value: "n", label: "No", missing: perhaps}
pages:
  - id: p1
    colour: blue
    questions:
      - {name: q1, type: select_one nolist, label: "A"}
      - {name: q2, type: date, label: "B"}
      - {name: q3, type: text}
      - {name: q 4, type: text, label: "D"}
      - {name: q5, type: integer, label: "E", missing: [refused, sometimes]}
      - {name: q6, type: text, label: "F", max_length: -3}
      - {name: q7, type: text, label: "G", required: perhaps}
""")
    found = problems(path)
    lines = {line for line, _ in found}
    assert {1, 6, 7, 10, 12, 13, 14, 15, 16, 17, 18} <= lines, found
    text = "\n".join(message for _, message in found)
    for expected in ("id 'bad form'", "twice", "refused or dont_know", "unknown key 'colour'",
                     "'nolist' does not exist", "'date' is not supported", "has no label",
                     "single underscores", "not 'sometimes'", "max_length", "true or false"):
        assert expected in text


def test_duplicate_keys_are_reported(yamlform: FormWriter) -> None:
    path = yamlform("""\
id: x
pages:
  - id: p
    questions:
      - name: q
        type: text
        label: A
        label: B
""")
    assert (8, "the key 'label' is written twice in this mapping") in problems(path)


def test_broken_yaml_and_wrong_shapes(yamlform: FormWriter) -> None:
    assert problems(yamlform("id: [unclosed\n"))[0][1].startswith("not valid YAML")
    assert problems(yamlform("- a list\n")) == [(1, "an instrument must be a YAML mapping")]
    assert "pages must be a non-empty list" in problems(yamlform("id: x\npages: []\n"))[0][1]


def test_a_translation_in_an_undeclared_language(yamlform: FormWriter) -> None:
    path = yamlform("""\
id: x
languages: [en]
pages:
  - id: p
    questions:
      - {name: q, type: text, label: {en: A, de: B}}
""")
    assert any("written in 'de'" in m for _, m in problems(path))


def test_labels_as_plain_strings_are_the_default_language(yamlform: FormWriter) -> None:
    path = yamlform("""\
id: x
languages: [ar, en]
pages:
  - id: p
    questions:
      - {name: q, type: text, label: سؤال}
""")
    instrument = read_form(path).instrument
    assert instrument is not None
    assert instrument.default_language == "ar"
    assert instrument.question("q").label == {"ar": "سؤال"}
