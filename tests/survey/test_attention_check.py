"""An attention check is scored at export: the page must not reveal its answer."""

from __future__ import annotations

from pathlib import Path

from offramp.survey import flow
from offramp.survey.yamlform import load_yaml_instrument

FORM = """
id: attn
languages: [en]
choices:
  agree:
    - {value: agree, label: Agree}
    - {value: disagree, label: Disagree}
pages:
  - id: p1
    questions:
      - name: check
        type: select_one agree
        label: "To show you are reading, please choose Agree."
        appearance: attention
        constraint: ". = 'agree'"
      - name: age
        type: integer
        label: Age in years
        constraint: ". >= 18"
"""


def test_attention_constraint_is_not_enforced_but_others_are(tmp_path: Path) -> None:
    path = tmp_path / "form.yaml"
    path.write_text(FORM, encoding="utf-8")
    instrument = load_yaml_instrument(path)
    page = instrument.pages[0]
    result = flow.parse_page(
        instrument, page, {"check": ["disagree"], "age": ["12"]}, {}, "en"
    )
    assert "check" not in result.errors
    assert result.answers["check"] == "disagree"
    assert "age" in result.errors
    assert flow.is_attention_check(page.questions[0])
    assert not flow.is_attention_check(page.questions[1])
