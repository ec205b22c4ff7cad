"""Instrument checks that span rows: expressions, order, cycles, translations, grids, defaults."""

from __future__ import annotations

from offramp.survey.load import read_form
from offramp.survey.problems import Problem
from tests.survey.conftest import FormWriter

HEAD = """\
id: x
languages: [en]
consent: Taking part is voluntary.
choices:
  yn:
    - {value: "y", label: "Yes"}
    - {value: "n", label: "No"}
  city:
    - {value: a, label: A, region: north}
    - {value: b, label: B, region: south}
  other:
    - {value: "1", label: One}
pages:
"""


def check(yamlform: FormWriter, pages: str) -> list[Problem]:
    return read_form(yamlform(HEAD + pages)).problems


def messages(found: list[Problem], severity: str = "error") -> list[str]:
    return [p.message for p in found if p.severity == severity]


def test_a_clean_form_has_no_problems(yamlform: FormWriter) -> None:
    found = check(yamlform, """\
  - id: p1
    questions:
      - {name: q1, type: select_one yn, label: A}
  - id: p2
    relevant: ${q1} = 'y'
    questions:
      - {name: q2, type: select_one city, label: B, choice_filter: "region = 'north'"}
""")
    assert found == []


def test_bad_expression_points_at_the_column(yamlform: FormWriter) -> None:
    found = check(yamlform, """\
  - id: p1
    questions:
      - {name: q1, type: integer, label: A, constraint: ". > = 3"}
""")
    [problem] = found
    assert problem.location.row == 16
    assert "constraint cannot be understood" in problem.message
    assert "column 5 of the expression" in problem.message
    assert "    . > = 3\n        ^" in problem.message


def test_unknown_variables_and_choice_columns(yamlform: FormWriter) -> None:
    found = check(yamlform, """\
  - id: p1
    questions:
      - {name: q1, type: select_one yn, label: A}
  - id: p2
    questions:
      - {name: q2, type: select_one city, label: B, relevant: "${q11} = 'y'",
         choice_filter: "regoin = ${q1}"}
      - {name: q3, type: note, label: "You said ${q0}"}
""")
    text = messages(found)
    assert "relevant refers to ${q11}, which is not a question in this form" in text
    assert any("reads the column 'regoin'" in m for m in text)
    assert "label shows ${q0}, which is not a question in this form" in text
    hints = [p.hint for p in found]
    assert "did you mean ${q1}?" in hints


def test_same_page_dependencies_are_errors_and_later_pages_warnings(yamlform: FormWriter) -> None:
    found = check(yamlform, """\
  - id: p1
    questions:
      - {name: q1, type: select_one yn, label: A}
      - {name: q2, type: text, label: B, relevant: "${q1} = 'y'"}
      - {name: c1, type: calculate, calculation: "${q1}"}
      - {name: q3, type: text, label: C, relevant: "${c1} = 'y'"}
      - {name: q4, type: text, label: D, relevant: "${q5} = 'y'"}
  - id: p2
    questions:
      - {name: q5, type: select_one yn, label: E}
""")
    errors = messages(found)
    assert "relevant depends on ${q1}, which is on the same page" in errors
    assert errors.count("relevant depends on ${q1}, which is on the same page") == 2  # via c1
    assert "relevant depends on ${q5}, which comes on a later page" in messages(found, "warning")


def test_cycles_are_reported_once(yamlform: FormWriter) -> None:
    found = check(yamlform, """\
  - id: p1
    questions:
      - {name: a, type: calculate, calculation: "${b} + 1"}
      - {name: b, type: calculate, calculation: "${a} + 1"}
      - {name: s, type: calculate, calculation: "${s}"}
      - {name: q, type: text, label: Q}
""")
    cycles = [m for m in messages(found) if m.startswith("circular")]
    assert cycles == ["circular reference: ${a} -> ${b} -> ${a}",
                      "circular reference: ${s} -> ${s}"]


def test_missing_translations_are_warnings_at_their_place(yamlform: FormWriter) -> None:
    form = yamlform("""\
id: x
languages: [en, ar]
consent: {en: Voluntary., ar: طوعي.}
choices:
  yn:
    - {value: "y", label: {en: "Yes", ar: نعم}}
    - {value: "n", label: {en: "No"}}
pages:
  - id: p1
    title: {en: Page}
    questions:
      - {name: q1, type: select_one yn, label: {en: A, ar: أ}, hint: {en: Hint}}
""")
    found = read_form(form).problems
    assert messages(found) == []
    warnings = {(p.location.row, p.message) for p in found if p.severity == "warning"}
    assert (7, "choice 'n' of list 'yn' has no ar translation") in warnings
    assert (10, "the title of page 'p1' has no ar translation") in warnings
    assert (12, "the hint of 'q1' has no ar translation") in warnings


def test_interface_language_we_do_not_ship_is_a_warning(yamlform: FormWriter) -> None:
    form = yamlform("""\
id: x
languages: [en, sw]
consent: {en: Voluntary., sw: Hiari.}
pages:
  - id: p1
    questions:
      - {name: q1, type: text, label: {en: A, sw: B}}
""")
    warnings = messages(read_form(form).problems, "warning")
    assert any("no interface text" in w and "'sw'" in w for w in warnings)


def test_grids_share_one_list_and_defaults_are_choices(yamlform: FormWriter) -> None:
    found = check(yamlform, """\
  - id: p1
    questions:
      - block: g
        appearance: table-list
        label: Grid
        questions:
          - {name: g1, type: select_one yn, label: A, default: maybe}
          - {name: g2, type: select_one other, label: B}
      - {name: n, type: integer, label: C, default: "-97"}
      - {name: m, type: select_multiple yn, label: D, default: "y z"}
""")
    text = messages(found)
    assert any("must hold select_one questions that share one choice list" in m for m in text)
    assert "the default 'maybe' is not one of the choices" in text
    assert "the default -97 is a reserved missing-value code" in text
    assert "the default 'y z' names values that are not choices" in text


def test_duplicate_names_across_pages_and_blocks(yamlform: FormWriter) -> None:
    found = check(yamlform, """\
  - id: p1
    questions:
      - {name: q1, type: text, label: A}
  - id: q1
    questions:
      - {name: q2, type: text, label: B}
      - {name: q2, type: text, label: C}
""")
    assert [m for m in messages(found) if "used twice" in m] == [
        "the name 'q1' is used twice (also by a question)",
        "the name 'q2' is used twice (also by a question)",
    ]


def test_no_consent_is_a_warning(yamlform: FormWriter) -> None:
    form = yamlform("id: x\npages:\n  - id: p\n    questions:\n"
                    "      - {name: q, type: text, label: A}\n")
    assert any("no consent text" in w for w in messages(read_form(form).problems, "warning"))


def test_reserved_names(yamlform: FormWriter) -> None:
    found = check(yamlform, """\
  - id: p1
    questions:
      - {name: token, type: text, label: A}
""")
    assert messages(found) == ["the name 'token' is used by the survey pages themselves"]
