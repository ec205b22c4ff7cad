"""The same instrument written as an XLSForm and as YAML is the same model."""

from __future__ import annotations

from pathlib import Path

import pytest

from offramp.survey.load import load_instrument, read_form
from tests.survey.conftest import FormWriter
from tests.survey.test_xlsform import full_form
from tests.survey.xlsx_writer import write_xlsform

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "forms").glob("*.yaml"))
DEMO = ROOT / "src" / "offramp" / "demo_assets" / "survey.yaml"

FULL_FORM_YAML = """\
id: clinic
version: "7"
languages: [en, ar]
title: {en: Clinic survey, ar: استبيان العيادة}
consent: {en: Taking part is voluntary., ar: المشاركة طوعية.}
debrief: {en: Thank you., ar: شكرًا.}
choices:
  yesno:
    - {value: "yes", label: {en: "Yes", ar: نعم}}
    - {value: "no", label: {en: "No", ar: لا}}
    - {value: pnts, label: {en: Prefer not to say, ar: أفضّل عدم الإجابة}, missing: refused}
  region:
    - {value: north, label: {en: North, ar: الشمال}}
    - {value: south, label: {en: South, ar: الجنوب}}
  area:
    - {value: n1, label: {en: Northern city, ar: مدينة شمالية}, region: north}
    - {value: s1, label: {en: Southern city, ar: مدينة جنوبية}, region: south}
  agree:
    - {value: "1", label: {en: Disagree, ar: لا أوافق}}
    - {value: "2", label: {en: Agree, ar: أوافق}}
    - {value: dk, label: {en: Don't know, ar: لا أعرف}, missing: dont_know}
pages:
  - id: p1
    title: {en: First page, ar: الصفحة الأولى}
    questions:
      - name: q1
        type: select_one yesno
        label: {en: "Have you seen this message?", ar: هل رأيت هذه الرسالة؟}
        required: true
        randomize: true
      - name: age
        type: integer
        label: {en: Age, ar: العمر}
        constraint: ". >= 18"
        constraint_message: {en: Adults only, ar: للبالغين فقط}
        missing: [refused, dont_know]
      - {name: region, type: select_one region, label: {en: Region, ar: المنطقة}}
  - id: p2
    title: {en: Second page, ar: الصفحة الثانية}
    relevant: ${q1} = 'yes'
    questions:
      - name: area
        type: select_one area
        label: {en: Area, ar: المنطقة الفرعية}
        choice_filter: region = ${region}
      - block: grid
        appearance: table-list
        label: {en: "How much do you agree?", ar: إلى أي مدى توافق؟}
        questions:
          - {name: g1, type: select_one agree, label: {en: Statement one, ar: العبارة الأولى}}
          - {name: g2, type: select_one agree, label: {en: Statement two, ar: العبارة الثانية}}
      - name: words
        type: text
        label: {en: Comments, ar: تعليقات}
        hint: {en: Optional, ar: اختياري}
        default: none
        max_length: 300
      - {name: older, type: calculate, calculation: "${age} + 1"}
  - id: alone
    questions:
      - {name: alone, type: select_multiple yesno, label: {en: A page of its own, ar: صفحة مستقلة}}
  - id: ranked
    questions:
      - {name: ranked, type: rank region, label: {en: Rank the regions, ar: رتّب المناطق}}
"""


def test_a_hand_written_xlsform_equals_its_hand_written_yaml(
    xlsform: FormWriter, yamlform: FormWriter
) -> None:
    from_xlsx = load_instrument(full_form(xlsform))
    from_yaml = load_instrument(yamlform(FULL_FORM_YAML))
    assert from_xlsx == from_yaml
    assert from_xlsx.source_hash() == from_yaml.source_hash()


def test_a_changed_label_makes_them_differ(xlsform: FormWriter, yamlform: FormWriter) -> None:
    changed = FULL_FORM_YAML.replace("Statement two", "Statement 2")
    assert load_instrument(full_form(xlsform)) != load_instrument(yamlform(changed))


@pytest.mark.parametrize("path", [*EXAMPLES, DEMO], ids=lambda p: p.name)
def test_yaml_and_its_xlsform_give_the_same_model(path: Path, tmp_path: Path) -> None:
    from_yaml = read_form(path)
    from_xlsx = read_form(write_xlsform(path, tmp_path / f"{path.stem}.xlsx"))
    assert [str(p) for p in from_xlsx.problems if p.severity == "error"] == []
    assert from_yaml.instrument is not None
    assert from_yaml.instrument == from_xlsx.instrument


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_committed_example_xlsform_matches_its_yaml(path: Path) -> None:
    committed = path.with_suffix(".xlsx")
    assert committed.exists(), f"run: python -m tests.survey.xlsx_writer {path}"
    assert load_instrument(committed) == load_instrument(path)


def test_the_model_survives_json(xlsform: FormWriter) -> None:
    from offramp.survey.instrument import Instrument

    instrument = load_instrument(full_form(xlsform))
    assert Instrument.from_json(instrument.to_json()) == instrument
