"""XLSForm (.xlsx) -> Instrument, read through pyxform so there is one XLSForm parser, not two.

pyxform reads the workbook (`get_xlsform`) and normalises it (`workbook_to_json`: types, aliases,
per-language labels, binds). This module maps that JSON onto the Instrument model and records the
sheet, row and column of everything, so `offramp survey check` can point at cells.

pyxform stops at the first duplicate name, missing choice list or unknown `${name}`. To report
every problem at once, a lint pass over the rows pyxform read finds those first, reports them, and
quarantines the offending cell in a private copy (renamed, blanked or turned into text) so that
conversion can continue and later checks still run. A form with any error is never served.

How offramp reads an XLSForm (docs/surveys.md has the author's version):

- Top-level groups are pages (as if `field-list`). A group inside a page is a block: with the
  appearance `table-list` a grid of select_one questions sharing one list (likert/matrix), else a
  labelled section. Groups nest at most two deep. A top-level question outside any group is a page
  of its own. Repeats are refused: a page without JavaScript cannot grow.
- A top-level `note` named `consent` is the consent text the respondent must accept before the
  first question; one named `debrief` is shown after the last page. Both translate like labels.
- "Prefer not to say" and "don't know": a `missing` column in the choices sheet marks a choice
  `refused` or `dont_know`. For text and number questions, a `missing` column in the survey sheet
  lists the kinds to offer (e.g. `refused dont_know`); they are stored as -97 / -98.
- Languages: `label::English (en)` or `label::en`; the code is what the pages and data use.
  `settings.default_language` names the language of plain `label` columns (default English).
- `parameters` `randomize=true` (or a `randomize` column) shuffles choices per respondent;
  a `max_length` column caps a text answer (default 2000 characters).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from offramp.survey import ui
from offramp.survey.instrument import (
    MISSING_KINDS,
    Block,
    Choice,
    Instrument,
    MissingKind,
    Page,
    Question,
    Text,
    missing_choice,
)
from offramp.survey.problems import FormRead, Location, Problem, SourceMap

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_REF_RE = re.compile(r"\$\{([^}]*)\}")
_LANG_IN_NAME = re.compile(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)\)\s*$")
_LANG_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")

_TYPES = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "rank": "rank",
    "text": "text",
    "integer": "integer",
    "decimal": "decimal",
    "note": "note",
    "calculate": "calculate",
}
_IDENTIFYING_TYPES = frozenset({
    "start", "end", "today", "deviceid", "imei", "subscriberid", "simserial", "phonenumber",
    "username", "email", "audit", "start-geopoint", "background-audio", "start-geotrace",
})
_FIELD_ALIASES = {
    "relevance": "relevant",
    "calculate": "calculation",
    "constraining_message": "constraint_message",
    "jr:constraintmsg": "constraint_message",
    "requiredmsg": "required_message",
    "jr:requiredmsg": "required_message",
    "caption": "label",
    "value": "name",
    "list name": "list_name",
    "form_title": "title",
}
_EXPRESSION_FIELDS = ("relevant", "constraint", "calculation", "choice_filter", "default")
_TEXT_FIELDS = ("label", "hint", "constraint_message", "required_message")
_GENERATED_LABEL = "generated_table_list_label_"
_GRID_SELECTS = frozenset({"select one", "select all that apply"})
_YES = frozenset({"yes", "true", "true()", "1"})
_NO = frozenset({"no", "false", "false()", "0", ""})
_MEDIA_KEYS = frozenset({"media", "image", "audio", "video", "big-image"})


def language_code(name: str) -> str | None:
    """'English (en)' -> 'en'; 'ar' -> 'ar'; 'English' -> None (no code to use)."""
    match = _LANG_IN_NAME.search(name)
    if match:
        return match.group(1).replace("_", "-")
    stripped = name.strip()
    return stripped.replace("_", "-") if _LANG_CODE.match(stripped) else None


def _field_name(header: str) -> tuple[str, str | None]:
    """A column header -> (model field name, language as written or None)."""
    base, _, language = header.partition("::")
    base = base.strip()
    field = _FIELD_ALIASES.get(base.lower(), base.lower() if base.lower() in (
        "type", "name", "label", "hint", "relevant", "constraint", "constraint_message",
        "required", "required_message", "choice_filter", "calculation", "default",
        "appearance", "parameters", "randomize", "missing", "max_length", "list_name",
    ) else base)
    return field, (language.strip() or None) if language else None


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_letters(path: Path) -> dict[str, dict[str, str]]:
    """sheet (lower case) -> column header (cleaned as pyxform cleans it) -> column letter."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        return {}
    try:
        result: dict[str, dict[str, str]] = {}
        for sheet in workbook.worksheets:
            first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
            result[sheet.title.lower()] = {
                re.sub(r"( )+", " ", str(value).strip()): _column_letter(index)
                for index, value in enumerate(first)
                if value is not None and str(value).strip()
            }
        return result
    finally:
        workbook.close()


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = str(path)
        self.problems: list[Problem] = []
        self.sources = SourceMap(self.file)
        self.default = "en"
        self.languages: list[str] = []
        self.rows: dict[str, int] = {}
        """question or group name -> survey row"""
        self.choice_rows: dict[tuple[str, str], int] = {}
        self.lists: dict[str, tuple[Choice, ...]] = {}
        self.letters: dict[str, dict[str, str]] = {}

    # -- places ---------------------------------------------------------------------------------
    def at(self, sheet: str, row: int | None = None, header: str | None = None) -> Location:
        letter = self.letters.get(sheet, {}).get(header or "") if header else None
        return Location(self.file, sheet, row, header, letter)

    def problem(self, location: Location, message: str, hint: str | None = None,
                severity: str = "error") -> None:
        self.problems.append(
            Problem(location, message, "warning" if severity == "warning" else "error", hint)
        )

    def code(self, language: str) -> str:
        if language == "default":
            return self.default
        return language_code(language) or language

    # -- lint on the rows pyxform read ------------------------------------------------------------
    def lint(self, data: Any) -> Any:
        """Report what would stop pyxform, and return a copy of `data` it can convert."""
        survey = [dict(row) for row in (data.survey or [])]
        choices = [dict(row) for row in (data.choices or [])]
        settings = [dict(row) for row in (data.settings or [])]
        self._languages(data, settings)
        list_names = {str(r.get("list_name") or r.get("list name") or "") for r in choices} - {""}
        seen_choices: dict[tuple[str, str], int] = {}
        for index, row in enumerate(choices):
            number = index + 2
            list_name = str(row.get("list_name") or row.get("list name") or "")
            value = str(row.get("name") or row.get("value") or "")
            if not list_name or not value:
                continue
            key = (list_name, value)
            if key in seen_choices:
                self.problem(
                    self.at("choices", number, "name"),
                    f"choice list {list_name!r} has the value {value!r} twice "
                    f"(first in row {seen_choices[key]})",
                    "each choice of a list needs its own value: it is what the data records",
                )
                row["name"] = f"{value}_dup_r{number}"
                continue
            seen_choices[key] = number
            self.choice_rows[key] = number
            self.sources.add(("choice", list_name, value), self.at("choices", number))
            self.sources.add(("list", list_name), self.at("choices", number))

        names: dict[str, int] = {}
        for index, row in enumerate(survey):
            name = str(row.get("name") or "")
            number = index + 2
            if not name:
                continue
            if name in names:
                self.problem(
                    self.at("survey", number, "name"),
                    f"the name {name!r} is used twice (first in row {names[name]})",
                    "every question and group needs its own name; a question's name is its "
                    "column in the dataset",
                )
                row["name"] = f"{name}_dup_r{number}"
                continue
            names[name] = number
        self.rows = dict(names)

        for index, row in enumerate(survey):
            number = index + 2
            raw_type = re.sub(r"\s+", " ", str(row.get("type") or "").strip())
            if not raw_type:
                continue
            lowered = raw_type.lower()
            if lowered in ("begin repeat", "begin_repeat", "end repeat", "end_repeat"):
                if lowered.startswith("begin"):
                    self.problem(
                        self.at("survey", number, "type"),
                        "repeats are not supported",
                        "a page without JavaScript cannot add rows; ask a fixed number of "
                        "questions in a group instead",
                    )
                row["type"] = "begin_group" if lowered.startswith("begin") else "end_group"
                continue
            words = raw_type.split(" ")
            head = words[0].lower()
            if head in ("select_one_from_file", "select_multiple_from_file",
                        "select_one_external") or "from file" in lowered:
                self.problem(
                    self.at("survey", number, "type"),
                    f"{raw_type!r}: choices from external files are not supported",
                    "put the choices in the choices sheet",
                )
                row["type"] = "text"
            elif head in ("select_one", "select_multiple", "rank") or lowered.startswith(
                ("select one ", "select all that apply ")
            ):
                list_name = words[-1] if len(words) > 1 else ""
                if "or_other" in words[1:]:
                    self.problem(
                        self.at("survey", number, "type"),
                        "'or_other' is not supported",
                        "add an 'other' choice and a text question whose relevant is "
                        "selected(${this}, 'other')",
                    )
                    words = [w for w in words if w != "or_other"]
                    list_name = words[-1] if len(words) > 1 else ""
                    row["type"] = " ".join(words)
                if list_name not in list_names:
                    close = difflib.get_close_matches(list_name, sorted(list_names), n=1)
                    self.problem(
                        self.at("survey", number, "type"),
                        f"the choice list {list_name!r} does not exist in the choices sheet",
                        f"did you mean {close[0]!r}?" if close else
                        f"lists: {', '.join(sorted(list_names)) or 'none'}",
                    )
                    row["type"] = "text"
            for header, value in list(row.items()):
                field, _language = _field_name(header)
                if field not in _EXPRESSION_FIELDS + _TEXT_FIELDS or not isinstance(value, str):
                    continue
                unknown = [ref for ref in _REF_RE.findall(value) if ref not in names]
                for ref in unknown:
                    close = difflib.get_close_matches(ref, sorted(names), n=1)
                    self.problem(
                        self.at("survey", number, header),
                        f"refers to ${{{ref}}}, which is not a question in this form",
                        f"did you mean ${{{close[0]}}}?" if close else None,
                    )
                if unknown:
                    row[header] = ""
        return dataclasses.replace(data, survey=survey, choices=choices or data.choices,
                                   settings=settings or data.settings)

    def _languages(self, data: Any, settings: list[dict[str, Any]]) -> None:
        first = settings[0] if settings else {}
        default = first.get("default_language")
        plain_default = "en"
        if default:
            code = language_code(str(default))
            if code is None:
                self.problem(
                    self.at("settings", 2, "default_language"),
                    f"default_language {default!r} has no language code",
                    "write it as 'English (en)' or simply 'en'",
                )
            else:
                plain_default = code
        found: list[str] = []
        for header_rows in (data.survey_header, data.choices_header):
            headers = header_rows[0] if header_rows else {}
            for header in headers:
                _field, language = _field_name(str(header))
                if language is None or _field in ("media", "image", "audio", "video"):
                    continue
                code = language_code(language)
                if code is None:
                    self.problem(
                        self.at("survey" if header_rows is data.survey_header else "choices", 1,
                                str(header)),
                        f"the language {language!r} has no code",
                        f"write the column as '{header.partition('::')[0]}::{language} (xx)' "
                        "with the language's two-letter code",
                    )
                    code = language
                if code not in found:
                    found.append(code)
        self.default = plain_default if default or not found else found[0]
        self.languages = [self.default] + [c for c in found if c != self.default]

    # -- JSON -> model ----------------------------------------------------------------------------
    def text(self, value: Any) -> Text:
        if value is None or value == "":
            return {}
        if isinstance(value, str):
            return {self.default: value}
        if isinstance(value, Mapping):
            return {self.code(str(k)): str(v) for k, v in value.items() if v not in (None, "")}
        return {self.default: str(value)}

    def build(self, form: Mapping[str, Any], settings: Mapping[str, Any]) -> Instrument | None:
        self.sources.add(("instrument",), self.at("settings", 2) if settings else
                         Location(self.file, "survey"))
        for sheet, letters in self.letters.items():
            columns = self.sources.sheet_columns.setdefault(sheet, {})
            for header, letter in letters.items():
                field, language = _field_name(header)
                key = f"{field}::{self.code(language)}" if language else field
                columns.setdefault(key, (header, letter))
                if language and self.code(language) == self.default:
                    columns.setdefault(field, (header, letter))
            if sheet in ("survey", "choices"):
                for field in _TEXT_FIELDS:
                    if field in columns:
                        columns.setdefault(f"{field}::{self.default}", columns[field])
        for list_name, items in (form.get("choices") or {}).items():
            self.lists[str(list_name)] = tuple(self.choice(str(list_name), c) for c in items)

        instrument_id = str(form.get("id_string") or self.path.stem)
        if not NAME_RE.match(instrument_id):
            self.problem(
                self.at("settings", 2, "form_id"),
                f"form_id {instrument_id!r} must be letters, digits and _ (at most 64)",
                "it is part of the survey's address and of the export's file names",
            )
        title = self.text(form.get("title"))
        if title == {self.default: form.get("id_string")} and "form_title" not in settings:
            title = {self.default: instrument_id}
        consent: Text | None = None
        debrief: Text | None = None
        pages: list[Page] = []
        pending: list[Question] = []
        for child in form.get("children") or []:
            kind = child.get("type")
            name = str(child.get("name") or "")
            if kind == "group" and name == "meta" and (child.get("control") or {}).get("bodyless"):
                continue
            if kind in ("group", "repeat"):
                page = self.page(child)
                if page is not None:
                    if pending:
                        page = dataclasses.replace(page, questions=tuple(pending) + page.questions)
                        pending = []
                    pages.append(page)
                continue
            if kind == "note" and name in ("consent", "debrief"):
                value = self.text(child.get("label"))
                if name == "consent":
                    consent = value
                else:
                    debrief = value
                self.sources.add((name,), self.at("survey", self.rows.get(name)))
                continue
            question = self.question(child, block=None)
            if question is None:
                continue
            if question.type == "calculate":
                if pages:
                    last = pages[-1]
                    pages[-1] = dataclasses.replace(last, questions=(*last.questions, question))
                else:
                    pending.append(question)
                continue
            self.sources.add(("page", name), self.at("survey", self.rows.get(name)))
            pages.append(Page(id=name, title={}, questions=(*tuple(pending), question)))
            pending = []
        if pending:
            if pages:
                last = pages[-1]
                pages[-1] = dataclasses.replace(last, questions=last.questions + tuple(pending))
            else:
                pages.append(Page(id="calculations", questions=tuple(pending)))
        if not pages:
            self.problem(Location(self.file, "survey"), "the form has no questions")
            return None
        return Instrument(
            id=instrument_id,
            title=title,
            languages=tuple(self.languages),
            default_language=self.default,
            pages=tuple(pages),
            consent=consent,
            debrief=debrief,
            version_label=str(form.get("version") or ""),
        )

    def choice(self, list_name: str, item: Mapping[str, Any]) -> Choice:
        value = str(item.get("name", ""))
        missing_raw = str(item.get("missing") or "").strip()
        missing: MissingKind | None = None
        if missing_raw:
            if missing_raw in MISSING_KINDS:
                missing = missing_raw  # type: ignore[assignment]
            else:
                self.problem(
                    self.at("choices", self.choice_rows.get((list_name, value)), "missing"),
                    f"missing must be refused or dont_know, not {missing_raw!r}",
                    "refused = 'prefer not to say', dont_know = 'don't know'",
                )
        filters = {
            str(k): str(v)
            for k, v in item.items()
            if k not in ("name", "label", "missing") and k not in _MEDIA_KEYS
            and not isinstance(v, Mapping)
        }
        return Choice(value=value, label=self.text(item.get("label")), missing=missing,
                      filters=filters)

    def page(self, group: Mapping[str, Any]) -> Page | None:
        name = str(group.get("name") or "")
        row = self.rows.get(name)
        self.sources.add(("page", name), self.at("survey", row))
        questions: list[Question] = []
        blocks: list[Block] = []
        for child in group.get("children") or []:
            if child.get("type") in ("group", "repeat"):
                block = self.block(child)
                if block is None:
                    continue
                blocks.append(block[0])
                questions.extend(block[1])
                continue
            question = self.question(child, block=None)
            if question is not None:
                questions.append(question)
        bind = group.get("bind") or {}
        return Page(
            id=name,
            title=self.text(group.get("label")),
            questions=tuple(questions),
            relevant=bind.get("relevant") or None,
            blocks=tuple(blocks),
        )

    def block(self, group: Mapping[str, Any]) -> tuple[Block, list[Question]] | None:
        """A group inside a page. pyxform rewrites a table-list group into a field-list with a
        generated note (the group's label) and a header select (appearance `label`) above rows
        with appearance `list-nolabel`; a hand-written ODK grid has the same header row. Both are
        read back as a grid block whose questions are plain select_ones."""
        name = str(group.get("name") or "")
        row = self.rows.get(name)
        self.sources.add(("block", name), self.at("survey", row))
        label, hint = group.get("label"), group.get("hint")
        appearance_words = str((group.get("control") or {}).get("appearance") or "").split()
        grid = "table-list" in appearance_words
        questions: list[Question] = []
        for child in group.get("children") or []:
            child_name = str(child.get("name") or "")
            child_appearance = (child.get("control") or {}).get("appearance")
            if child.get("type") in ("group", "repeat"):
                self.problem(
                    self.at("survey", self.rows.get(child_name), "type"),
                    "groups nest at most two deep (a page, and blocks inside it)",
                    "move this group out of its block",
                )
                continue
            if child.get("type") == "note" and child_name.startswith(_GENERATED_LABEL):
                label, hint, grid = child.get("label"), child.get("hint"), True
                continue
            if child_appearance == "label" and child.get("type") in _GRID_SELECTS:
                grid = True  # the header row of a grid: it shows the choices, asks nothing
                continue
            question = self.question(child, block=name)
            if question is not None:
                if grid and question.appearance == "list-nolabel":
                    question = dataclasses.replace(question, appearance=None)
                questions.append(question)
        if grid:
            appearance_words = ["table-list"] + [
                w for w in appearance_words if w not in ("table-list", "field-list")
            ]
        bind = group.get("bind") or {}
        block = Block(
            name=name,
            label=self.text(label),
            hint=self.text(hint),
            relevant=bind.get("relevant") or None,
            appearance=" ".join(appearance_words) or None,
        )
        return block, questions

    def question(self, element: Mapping[str, Any], block: str | None) -> Question | None:
        name = str(element.get("name") or "")
        row = self.rows.get(name)
        self.sources.add(("question", name), self.at("survey", row))
        raw_type = str(element.get("type") or "")
        qtype = _TYPES.get(raw_type)
        if qtype is None:
            if raw_type in _IDENTIFYING_TYPES:
                message = (f"the type {raw_type!r} records when, where or on what device a "
                           "respondent answered; offramp never records that")
                hint = "remove this row"
            else:
                message = f"the question type {raw_type!r} is not supported"
                hint = "supported: select_one, select_multiple, rank, text, integer, " \
                       "decimal, note, calculate"
            self.problem(self.at("survey", row, "type"), message, hint)
            return None
        if element.get("type") == "note" and name in ("consent", "debrief"):
            self.problem(
                self.at("survey", row, "name"),
                f"the {name} note must be outside every group",
                f"move the row named {name} to the top level of the survey sheet",
            )
        if not NAME_RE.match(name) or "__" in name:
            self.problem(
                self.at("survey", row, "name"),
                f"the name {name!r} must be letters, digits and single underscores "
                "(at most 64 characters)",
                "names become dataset columns; multi-select columns are name__choice",
            )
        bind = element.get("bind") or {}
        required = self.flag(bind.get("required"), row, "required")
        choices: tuple[Choice, ...] = ()
        list_name = element.get("list_name") or element.get("itemset")
        if qtype in ("select_one", "select_multiple", "rank"):
            choices = self.lists.get(str(list_name), ())
        missing_raw = str(element.get("missing") or "").split()
        if missing_raw:
            if qtype in ("select_one", "select_multiple", "rank"):
                self.problem(
                    self.at("survey", row, "missing"),
                    "a select question's missing kinds are marked on its choices",
                    "use the missing column of the choices sheet",
                )
            elif qtype in ("note", "calculate"):
                self.problem(self.at("survey", row, "missing"),
                             f"a {qtype} has no answer to be missing")
            else:
                kinds: list[MissingKind] = []
                for kind in missing_raw:
                    if kind in MISSING_KINDS and kind not in kinds:
                        kinds.append(kind)  # type: ignore[arg-type]
                    else:
                        self.problem(self.at("survey", row, "missing"),
                                     f"missing kinds are refused and dont_know, not {kind!r}")
                choices = tuple(
                    missing_choice(k, ui.missing_label(k, tuple(self.languages))) for k in kinds
                )
        parameters = element.get("parameters") or {}
        randomize = self.flag(parameters.get("randomize"), row, "parameters") or self.flag(
            element.get("randomize"), row, "randomize"
        )
        max_length = 2000
        if element.get("max_length") not in (None, ""):
            try:
                max_length = int(str(element["max_length"]))
                if not 1 <= max_length <= 100_000:
                    raise ValueError
            except ValueError:
                self.problem(self.at("survey", row, "max_length"),
                             "max_length must be a whole number from 1 to 100000")
        control = element.get("control") or {}
        default = element.get("default")
        return Question(
            name=name,
            type=qtype,
            label=self.text(element.get("label")),
            hint=self.text(element.get("hint")),
            choices=choices,
            choice_list=str(list_name) if qtype in ("select_one", "select_multiple", "rank")
            else None,
            required=required,
            required_message=self.text(bind.get("jr:requiredMsg")),
            relevant=bind.get("relevant") or None,
            constraint=bind.get("constraint") or None,
            constraint_message=self.text(bind.get("jr:constraintMsg")),
            choice_filter=element.get("choice_filter") or None,
            calculation=bind.get("calculate") or None,
            default=None if default in (None, "") else str(default),
            randomize=randomize,
            appearance=control.get("appearance") or None,
            max_length=max_length,
            block=block,
        )

    def flag(self, value: Any, row: int | None, column: str) -> bool:
        if value is None or isinstance(value, bool):
            return bool(value)
        text = str(value).strip().lower()
        if text in _YES:
            return True
        if text not in _NO:
            self.problem(self.at("survey", row, column),
                         f"{column} must be yes or no, not {value!r}")
        return False


def _pyxform_problem(reader: _Reader, message: str) -> None:
    match = re.search(r"\[row\s*:\s*(\d+)\]", message)
    sheet = "choices" if "choices" in message.lower() and "survey" not in message.lower() \
        else "survey"
    row = int(match.group(1)) if match else None
    text = re.sub(r"^\s*\[row\s*:\s*\d+\]\s*", "", message).strip()
    reader.problem(Location(reader.file, sheet, row), text)


def read_xlsform(path: Path) -> FormRead:
    """Read an XLSForm: the instrument (None if it could not be built) and every problem found."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    reader = _Reader(path)
    if not path.is_file():
        reader.problem(Location(str(path)), "no such instrument file")
        return FormRead(None, reader.problems, reader.sources)
    reader.letters = _header_letters(path)
    try:
        data = get_xlsform(str(path))
    except (PyXFormError, OSError, ValueError, KeyError) as exc:
        reader.problem(Location(str(path)), f"cannot read the workbook: {exc}")
        return FormRead(None, reader.problems, reader.sources)
    cleaned = reader.lint(data)
    warnings: list[str] = []
    try:
        form = workbook_to_json(cleaned, form_name="data", fallback_form_name=path.stem,
                                warnings=warnings)
    except PyXFormError as exc:
        _pyxform_problem(reader, str(exc))
        return FormRead(None, reader.problems, reader.sources)
    settings = (cleaned.settings or [{}])[0] if cleaned.settings else {}
    instrument = reader.build(form, settings)
    return FormRead(instrument, reader.problems, reader.sources)

