"""Reading XLSForms through pyxform: every feature, and every problem placed at its cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from offramp.errors import InputError
from offramp.survey.instrument import Block
from offramp.survey.load import load_instrument, read_form
from offramp.survey.problems import FormInvalid
from offramp.survey.xlsform import language_code
from tests.survey.conftest import FormWriter

CHOICES = [
    ["list_name", "name", "label::English (en)", "label::Arabic (ar)", "missing", "region"],
    ["yesno", "yes", "Yes", "نعم", None, None],
    ["yesno", "no", "No", "لا", None, None],
    ["yesno", "pnts", "Prefer not to say", "أفضّل عدم الإجابة", "refused", None],
    ["region", "north", "North", "الشمال", None, None],
    ["region", "south", "South", "الجنوب", None, None],
    ["area", "n1", "Northern city", "مدينة شمالية", None, "north"],
    ["area", "s1", "Southern city", "مدينة جنوبية", None, "south"],
    ["agree", "1", "Disagree", "لا أوافق", None, None],
    ["agree", "2", "Agree", "أوافق", None, None],
    ["agree", "dk", "Don't know", "لا أعرف", "dont_know", None],
]
SETTINGS = [
    ["form_id", "version", "default_language", "form_title::English (en)",
     "form_title::Arabic (ar)"],
    ["clinic", "7", "English (en)", "Clinic survey", "استبيان العيادة"],
]
HEADER = ["type", "name", "label::English (en)", "label::Arabic (ar)", "hint::English (en)",
          "hint::Arabic (ar)", "required", "relevant", "constraint",
          "constraint_message::English (en)", "constraint_message::Arabic (ar)",
          "choice_filter", "calculation", "default", "appearance", "parameters", "missing",
          "max_length"]


def row(type_: str, name: str = "", en: str = "", ar: str = "", **extra: str) -> list[str | None]:
    values: dict[str, str | None] = {"type": type_, "name": name,
                                     "label::English (en)": en or None,
                                     "label::Arabic (ar)": ar or None}
    for key, value in extra.items():
        values[key.replace("__", "::")] = value
    return [values.get(h) for h in HEADER]


def full_form(xlsform: FormWriter) -> Path:
    survey = [
        HEADER,
        row("note", "consent", "Taking part is voluntary.", "المشاركة طوعية."),
        row("begin_group", "p1", "First page", "الصفحة الأولى", appearance="field-list"),
        row("select_one yesno", "q1", "Have you seen this message?", "هل رأيت هذه الرسالة؟",
            required="yes", parameters="randomize=true"),
        row("integer", "age", "Age", "العمر", constraint=". >= 18",
            **{"constraint_message__English (en)": "Adults only",
               "constraint_message__Arabic (ar)": "للبالغين فقط"}, missing="refused dont_know"),
        row("select_one region", "region", "Region", "المنطقة"),
        row("end_group"),
        row("begin_group", "p2", "Second page", "الصفحة الثانية", relevant="${q1} = 'yes'"),
        row("select_one area", "area", "Area", "المنطقة الفرعية",
            choice_filter="region = ${region}"),
        row("begin_group", "grid", "How much do you agree?", "إلى أي مدى توافق؟",
            appearance="table-list"),
        row("select_one agree", "g1", "Statement one", "العبارة الأولى"),
        row("select_one agree", "g2", "Statement two", "العبارة الثانية"),
        row("end_group"),
        row("text", "words", "Comments", "تعليقات", default="none", max_length="300",
            **{"hint__English (en)": "Optional", "hint__Arabic (ar)": "اختياري"}),
        row("calculate", "older", calculation="${age} + 1"),
        row("end_group"),
        row("select_multiple yesno", "alone", "A page of its own", "صفحة مستقلة"),
        row("rank region", "ranked", "Rank the regions", "رتّب المناطق"),
        row("note", "debrief", "Thank you.", "شكرًا."),
    ]
    return xlsform(survey, CHOICES, SETTINGS)


def test_reads_every_feature(xlsform: FormWriter) -> None:
    instrument = load_instrument(full_form(xlsform))
    assert instrument.id == "clinic"
    assert instrument.version_label == "7"
    assert instrument.languages == ("en", "ar")
    assert instrument.title == {"en": "Clinic survey", "ar": "استبيان العيادة"}
    assert instrument.consent == {"en": "Taking part is voluntary.", "ar": "المشاركة طوعية."}
    assert instrument.debrief == {"en": "Thank you.", "ar": "شكرًا."}
    assert [p.id for p in instrument.pages] == ["p1", "p2", "alone", "ranked"]
    p1, p2 = instrument.pages[0], instrument.pages[1]
    assert p1.title == {"en": "First page", "ar": "الصفحة الأولى"}
    assert p2.relevant == "${q1} = 'yes'"
    q1 = instrument.question("q1")
    assert q1.required and q1.randomize and q1.type == "select_one"
    assert [c.value for c in q1.choices] == ["yes", "no", "pnts"]
    assert [c.missing for c in q1.choices] == [None, None, "refused"]
    age = instrument.question("age")
    assert age.constraint == ". >= 18"
    assert age.constraint_message == {"en": "Adults only", "ar": "للبالغين فقط"}
    assert [(c.value, c.missing) for c in age.choices] == [("-97", "refused"),
                                                          ("-98", "dont_know")]
    assert age.choices[0].label["ar"] == "أفضّل عدم الإجابة"
    area = instrument.question("area")
    assert area.choice_filter == "region = ${region}"
    assert [c.filters for c in area.choices] == [{"region": "north"}, {"region": "south"}]
    assert p2.blocks == (Block("grid", {"en": "How much do you agree?",
                                        "ar": "إلى أي مدى توافق؟"}, {}, None, "table-list"),)
    assert [q.name for q in p2.questions] == ["area", "g1", "g2", "words", "older"]
    assert instrument.question("g1").block == "grid"
    assert instrument.question("g1").appearance is None
    words = instrument.question("words")
    assert (words.default, words.max_length, words.hint["ar"]) == ("none", 300, "اختياري")
    assert instrument.question("older").calculation == "${age} + 1"
    assert instrument.question("alone").type == "select_multiple"
    assert instrument.question("ranked").type == "rank"


def test_a_hand_written_odk_grid_reads_as_a_grid(xlsform: FormWriter) -> None:
    survey = [
        ["type", "name", "label", "appearance"],
        ["begin_group", "page", "Page", "field-list"],
        ["begin_group", "views", "Your views", "field-list"],
        ["select_one agree", "header", "Statements", "label"],
        ["select_one agree", "a1", "One", "list-nolabel"],
        ["select_one agree", "a2", "Two", "list-nolabel"],
        ["end_group"],
        ["end_group"],
    ]
    choices = [["list_name", "name", "label"], ["agree", "1", "No"], ["agree", "2", "Yes"]]
    instrument = read_form(xlsform(survey, choices)).instrument
    assert instrument is not None
    page = instrument.pages[0]
    assert page.blocks[0].is_grid
    assert [q.name for q in page.questions] == ["a1", "a2"]
    assert {q.appearance for q in page.questions} == {None}


def test_plain_label_columns_are_the_default_language(xlsform: FormWriter) -> None:
    survey = [["type", "name", "label", "label::French (fr)"],
              ["text", "q", "Question", "Question en français"]]
    settings = [["form_id", "default_language"], ["x", "English (en)"]]
    instrument = load_instrument(xlsform(survey, None, settings))
    assert instrument.languages == ("en", "fr")
    assert instrument.question("q").label == {"en": "Question", "fr": "Question en français"}


@pytest.mark.parametrize(("written", "code"), [
    ("English (en)", "en"), ("ar", "ar"), ("Português (pt_BR)", "pt-BR"), ("English", None),
])
def test_language_codes(written: str, code: str | None) -> None:
    assert language_code(written) == code


def test_every_problem_is_reported_with_its_cell(xlsform: FormWriter) -> None:
    survey = [
        ["type", "name", "label", "relevant"],
        ["begin_group", "p1", "Page"],
        ["select_one nolist", "q1", "A"],
        ["text", "q2", "B", "${nobody} = 1"],
        ["text", "q2", "C"],
        ["begin_repeat", "r", "R"],
        ["text", "q3", "D"],
        ["end_repeat"],
        ["date", "when", "E"],
        ["start", "started"],
        ["end_group"],
    ]
    choices = [["list_name", "name", "label"], ["yesno", "yes", "Yes"]]
    result = read_form(xlsform(survey, choices))
    found = {(p.location.sheet, p.location.row, p.location.column, p.location.letter): p.message
             for p in result.problems}
    assert "does not exist" in found[("survey", 3, "type", "A")]
    assert "${nobody}" in found[("survey", 4, "relevant", "D")]
    assert "used twice (first in row 4)" in found[("survey", 5, "name", "B")]
    assert "repeats are not supported" in found[("survey", 6, "type", "A")]
    assert "'date' is not supported" in found[("survey", 9, "type", "A")]
    assert "never records" in found[("survey", 10, "type", "A")]
    assert result.instrument is not None  # conversion went on to find the rest
    with pytest.raises(FormInvalid) as raised:
        load_instrument(xlsform(survey, choices))
    assert "and 5 more errors" in str(raised.value)
    assert isinstance(raised.value, InputError)


def test_problems_name_the_column_of_a_translation(xlsform: FormWriter) -> None:
    survey = [["type", "name", "label::English (en)", "label::Arabic (ar)"],
              ["text", "q", "Question", None]]
    result = read_form(xlsform(survey))
    [warning] = [p for p in result.problems if "translation" in p.message]
    assert warning.severity == "warning"
    assert str(warning.location).endswith("[survey], row 2, column D (label::Arabic (ar))")


def test_duplicate_choice_values_and_bad_missing_kinds(xlsform: FormWriter) -> None:
    survey = [["type", "name", "label"], ["select_one l", "q", "Q"]]
    choices = [["list_name", "name", "label", "missing"],
               ["l", "a", "A", None], ["l", "a", "A again", None], ["l", "b", "B", "maybe"]]
    result = read_form(xlsform(survey, choices))
    messages = {(p.location.sheet, p.location.row): p.message for p in result.problems}
    assert "twice (first in row 2)" in messages[("choices", 3)]
    assert "refused or dont_know" in messages[("choices", 4)]


def test_groups_nest_two_deep_at_most_and_or_other_is_refused(xlsform: FormWriter) -> None:
    survey = [["type", "name", "label"],
              ["begin_group", "a", "A"], ["begin_group", "b", "B"], ["begin_group", "c", "C"],
              ["text", "t", "T"], ["end_group"], ["end_group"], ["end_group"],
              ["select_one l or_other", "o", "O"]]
    choices = [["list_name", "name", "label"], ["l", "x", "X"]]
    messages = [p.message for p in read_form(xlsform(survey, choices)).problems]
    assert any("nest at most two deep" in m for m in messages)
    assert any("or_other" in m for m in messages)


def test_an_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a workbook")
    result = read_form(path)
    assert result.instrument is None
    assert len(result.problems) == 1 and "cannot read" in result.problems[0].message
    assert read_form(tmp_path / "absent.xlsx").problems[0].message == "no such instrument file"
