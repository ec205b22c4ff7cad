"""Write a YAML instrument's content as an XLSForm workbook (a test helper, and how
examples/forms/*.xlsx are made: `python -m tests.survey.xlsx_writer FORM.yaml`).

It works on the raw YAML data, not on offramp's model, so comparing the two readers' results is a
real check that both formats mean the same thing: the mapping here is the XLSForm convention
written out by hand (survey / choices / settings sheets, `label::Language (code)` columns, groups
for pages, nested groups for blocks, `note` rows named consent and debrief).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook

LANGUAGE_NAMES = {"en": "English", "ar": "Arabic", "fr": "French", "es": "Spanish"}
TEXT_COLUMNS = ("label", "hint", "required_message", "constraint_message")
PLAIN_COLUMNS = ("relevant", "constraint", "choice_filter", "calculation", "default",
                 "appearance", "parameters", "max_length", "missing", "required")


def column(base: str, language: str) -> str:
    return f"{base}::{LANGUAGE_NAMES.get(language, language)} ({language})"


def _texts(value: Any, default: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {default: str(value)}


def workbook_from_yaml(doc: dict[str, Any]) -> Workbook:
    languages = list(doc.get("languages") or [doc.get("default_language", "en")])
    default = str(doc.get("default_language", languages[0]))
    survey_header = ["type", "name"]
    for base in TEXT_COLUMNS:
        survey_header += [column(base, lang) for lang in languages]
    survey_header += list(PLAIN_COLUMNS)
    rows: list[dict[str, str]] = []

    def row(kind: str, name: str = "", **values: Any) -> None:
        entry = {"type": kind, "name": name}
        for base in TEXT_COLUMNS:
            for lang, text in _texts(values.get(base), default).items():
                entry[column(base, lang)] = text
        for key in PLAIN_COLUMNS:
            value = values.get(key)
            if value in (None, "", False):
                continue
            if key == "required":
                value = "yes"
            elif key == "missing":
                value = " ".join(value) if isinstance(value, list) else str(value)
            elif key == "default" and isinstance(value, list):
                value = " ".join(str(v) for v in value)
            entry[key] = str(value)
        rows.append(entry)

    def question(q: dict[str, Any]) -> None:
        values = {k: v for k, v in q.items() if k not in ("name", "type", "randomize")}
        if q.get("randomize"):
            values["parameters"] = "randomize=true"
        row(str(q["type"]), str(q["name"]), **values)

    if doc.get("consent"):
        row("note", "consent", label=doc["consent"])
    for page in doc["pages"]:
        row("begin_group", str(page["id"]), label=page.get("title"), relevant=page.get("relevant"),
            appearance="field-list")
        for item in page.get("questions") or []:
            if "block" in item:
                row("begin_group", str(item["block"]), label=item.get("label"),
                    hint=item.get("hint"), relevant=item.get("relevant"),
                    appearance=item.get("appearance"))
                for inner in item.get("questions") or []:
                    question(inner)
                row("end_group")
            else:
                question(item)
        row("end_group")
    if doc.get("debrief"):
        row("note", "debrief", label=doc["debrief"])

    choices_rows: list[dict[str, str]] = []
    extra_columns: list[str] = []
    for list_name, items in (doc.get("choices") or {}).items():
        for item in items:
            entry = {"list_name": str(list_name), "name": str(item["value"])}
            for lang, text in _texts(item.get("label"), default).items():
                entry[column("label", lang)] = text
            if item.get("missing"):
                entry["missing"] = str(item["missing"])
            for key, value in item.items():
                if key not in ("value", "label", "missing"):
                    entry[key] = str(value)
                    if key not in extra_columns:
                        extra_columns.append(key)
            choices_rows.append(entry)
    choices_header = ["list_name", "name", *[column("label", lang) for lang in languages],
                      "missing", *extra_columns]

    settings_header = ["form_id", "version", "default_language"]
    settings_row = {"form_id": str(doc["id"]), "version": str(doc.get("version", "")),
                    "default_language": f"{LANGUAGE_NAMES.get(default, default)} ({default})"}
    for lang, text in _texts(doc.get("title"), default).items():
        settings_header.append(column("form_title", lang))
        settings_row[column("form_title", lang)] = text

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "survey"
    for title, header, data in (("survey", survey_header, rows),
                                ("choices", choices_header, choices_rows),
                                ("settings", settings_header, [settings_row])):
        target = sheet if title == "survey" else workbook.create_sheet(title)
        target.append(header)
        for entry in data:
            target.append([entry.get(h) for h in header])
    return workbook


def write_xlsform(yaml_path: Path, out: Path) -> Path:
    doc = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    workbook_from_yaml(doc).save(out)
    return out


if __name__ == "__main__":
    source = Path(sys.argv[1])
    print(write_xlsform(source, source.with_suffix(".xlsx")))
