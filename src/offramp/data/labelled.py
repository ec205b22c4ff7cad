"""SPSS (.sav) and Stata (.dta) exports with variable labels, value labels and missing kinds.

Both are written by pyreadstat from the tidy dataset plus its codebook:
- Column names become the codebook's `stat_name` (legal in both programs; offramp.data.naming).
- select_one answers become integer codes with value labels (codebook `choices[].code`), so
  SPSS and Stata users get labelled categorical variables; multi-select dummies get 0 "Not
  chosen" / 1 "Chosen"; quality flags 0 "No" / 1 "Yes".
- Missing kinds: in SPSS the reserved codes -97/-98/-99 are declared user-missing values of
  every numeric and text variable (labelled, excluded from statistics, still distinct). In Stata
  they become the extended missing values .a (refused), .b (don't know), .c (not shown), with
  value labels; Stata text variables cannot hold extended missing values, so there the codes
  stay as the text "-97"/"-98"/"-99" (as in the CSV). System-missing (`.`) is "shown but not
  answered"; in text variables both programs store it as empty text.
- Labels use the newest instrument's default language (all languages are in the codebook).
  SPSS keeps 256 bytes of a variable label and 120 of a value label; Stata 80 characters of a
  variable label: longer ones are shortened with "…" (the codebook has them in full).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyreadstat

from offramp.data.atomic import atomic_path
from offramp.data.codebook import STATA_MISSING
from offramp.data.codes import CODE_LABELS, MISSING_STRINGS
from offramp.errors import InputError
from offramp.survey.instrument import pick

SPSS_VARIABLE_LABEL_BYTES = 256
SPSS_VALUE_LABEL_BYTES = 120
STATA_VARIABLE_LABEL_CHARS = 80
YES_NO = {0: "No", 1: "Yes"}
CHOSEN = {0: "Not chosen", 1: "Chosen"}


def _shorten_bytes(text: str, limit: int) -> str:
    if len(text.encode("utf-8")) <= limit:
        return text
    ellipsis = "…"
    budget = limit - len(ellipsis.encode("utf-8"))
    cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut + ellipsis


def _shorten_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _language(codebook: dict[str, Any]) -> str:
    instruments = codebook.get("instruments") or []
    if instruments and instruments[0].get("default_language"):
        return str(instruments[0]["default_language"])
    languages = codebook.get("languages") or ["en"]
    return str(languages[0])


def _text(label: dict[str, str], language: str) -> str:
    return pick(dict(label), language, "en") if label else ""


def variable_label(variable: dict[str, Any], language: str) -> str:
    label = _text(variable.get("label") or {}, language)
    if not label and variable.get("calculation"):
        label = f"Calculated: {variable['calculation']}"
    if variable.get("choice") is not None:
        choice = next((c for c in variable.get("choices", [])
                       if c["value"] == variable["choice"]), None)
        choice_text = _text(choice["label"], language) if choice else variable["choice"]
        label = f"{label}: {choice_text}" if label else choice_text
    return label


def value_labels(variable: dict[str, Any], language: str) -> dict[int, str]:
    kind = variable.get("type")
    if kind == "select_one":
        labels = {int(c["code"]): _text(c["label"], language) or c["value"]
                  for c in variable.get("choices", []) if "code" in c}
    elif kind == "choice_dummy":
        labels = dict(CHOSEN)
    elif variable.get("role") == "quality" and variable["name"] not in (
        "qc_speed_ratio", "qc_duplicate_of", "qc_duplicate_similarity"
    ):
        labels = dict(YES_NO)
    else:
        labels = {}
    return labels


def _select_one_codes(
    series: pl.Series, variable: dict[str, Any], warnings: list[str]
) -> pl.Series:
    mapping = {c["value"]: int(c["code"]) for c in variable.get("choices", []) if "code" in c}
    mapping.update({code: int(code) for code in MISSING_STRINGS})
    coded = series.replace_strict(mapping, default=None, return_dtype=pl.Int64)
    unknown = int(coded.null_count() - series.null_count())
    if unknown:
        warnings.append(
            f"{variable['name']}: {unknown} values outside the choice list written as missing"
        )
    return coded


def prepare(
    data: pl.DataFrame, codebook: dict[str, Any], warnings: list[str] | None = None
) -> tuple[pl.DataFrame, dict[str, dict[str, Any]]]:
    """The frame with SPSS/Stata names and select_one codes; and each variable's codebook entry."""
    warnings = warnings if warnings is not None else []
    by_name = {v["name"]: v for v in codebook.get("variables", [])}
    columns = []
    entries: dict[str, dict[str, Any]] = {}
    for name in data.columns:
        variable = by_name.get(name, {"name": name, "stat_name": name, "label": {}})
        series = data[name]
        if variable.get("type") == "select_one" and series.dtype == pl.Utf8:
            series = _select_one_codes(series, variable, warnings)
        stat_name = str(variable.get("stat_name") or name)
        columns.append(series.alias(stat_name))
        entries[stat_name] = variable
    return pl.DataFrame(columns), entries


def _write(
    function: Callable[..., None], frame: Any, path: Path, **options: Any
) -> Path:
    with atomic_path(path) as temporary:
        try:
            function(frame, str(temporary), **options)
        except pyreadstat.ReadstatError as exc:
            raise InputError(f"cannot write {path.name}: {exc}", file=str(path)) from exc
    return path


def write_sav(data: pl.DataFrame, path: Path, codebook: dict[str, Any]) -> Path:
    frame, entries = prepare(data, codebook)
    language = _language(codebook)
    labels: dict[str, str] = {}
    values: dict[str, dict[Any, str]] = {}
    missing: dict[str, list[Any]] = {}
    measure: dict[str, str] = {}
    formats: dict[str, str] = {}
    reserved = {code: _shorten_bytes(label, SPSS_VALUE_LABEL_BYTES)
                for code, label in CODE_LABELS.items()}
    for name, dtype in frame.schema.items():
        variable = entries[name]
        labels[name] = _shorten_bytes(variable_label(variable, language), SPSS_VARIABLE_LABEL_BYTES)
        if variable.get("measure"):
            measure[name] = variable["measure"]
        if dtype == pl.Utf8:
            if variable.get("role") != "meta":
                missing[name] = sorted(MISSING_STRINGS)
            continue
        if not dtype.is_numeric():
            continue
        if dtype.is_integer():
            formats[name] = "F8.0"
        own = {k: _shorten_bytes(v, SPSS_VALUE_LABEL_BYTES)
               for k, v in value_labels(variable, language).items()}
        if variable.get("role") == "question":
            missing[name] = sorted(CODE_LABELS, reverse=True)
            own.update(reserved)
        if own:
            values[name] = {(float(k) if dtype.is_float() else k): v for k, v in own.items()}
    return _write(
        pyreadstat.write_sav, frame, path,
        column_labels=labels, variable_value_labels=values, missing_ranges=missing,
        variable_measure=measure, variable_format=formats,
        file_label=_file_label(codebook),
    )


def _file_label(codebook: dict[str, Any]) -> str:
    ids = sorted({f"{i['id']} v{i['version']}" for i in codebook.get("instruments", [])})
    return _shorten_chars("offramp export: " + ", ".join(ids), 80)


def write_dta(data: pl.DataFrame, path: Path, codebook: dict[str, Any]) -> Path:
    frame, entries = prepare(data, codebook)
    language = _language(codebook)
    labels: dict[str, str] = {}
    values: dict[str, dict[Any, str]] = {}
    missing: dict[str, list[str]] = {}
    replaced: list[pl.Series] = []
    for name, dtype in frame.schema.items():
        variable = entries[name]
        labels[name] = _shorten_chars(
            variable_label(variable, language), STATA_VARIABLE_LABEL_CHARS
        )
        own: dict[Any, str] = dict(value_labels(variable, language))
        series = frame[name]
        if dtype.is_numeric() and variable.get("role") == "question":
            codes = [float(c) for c in CODE_LABELS] if dtype.is_float() else list(CODE_LABELS)
            has_codes = bool(series.is_in(codes).any())
            if has_codes:
                letters = {code: STATA_MISSING[code] for code in CODE_LABELS}
                # Unanswered must be NaN here: pyreadstat writes a None in a mixed object
                # column as an arbitrary number (seen: 0 and 3), a NaN as Stata's `.`.
                numbers = series.cast(pl.Float64).fill_null(float("nan")).to_numpy()
                objects = numbers.astype(object)
                for code, letter in letters.items():
                    objects[numbers == code] = letter
                series = pl.Series(name, objects.tolist(), dtype=pl.Object)
                missing[name] = sorted(letters.values())
                own = {k: v for k, v in own.items() if k not in CODE_LABELS}
                own.update({STATA_MISSING[code]: label for code, label in CODE_LABELS.items()})
            if own and dtype.is_float():
                own = {float(k) if isinstance(k, int) else k: v for k, v in own.items()}
        if own:
            values[name] = own
        replaced.append(series)
    return _write(
        pyreadstat.write_dta, pl.DataFrame(replaced), path,
        column_labels=labels, variable_value_labels=values, missing_user_values=missing,
        file_label=_file_label(codebook),
    )
