"""Words for the reader: question texts, answer labels and choice order, from the codebook.

The analysis stage takes labels as ``{var: {"label": ..., "values": {value: label}}}``; the
codebook beside every export has them per language. Missing-kind choices ("prefer not to say")
are left out of the values on purpose: the analysis would otherwise list them as substantive
answers nobody gave, while the data holds them as the reserved codes (-97, -98).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "ru": "Russian",
    "ar": "Arabic", "it": "Italian", "nl": "Dutch", "pt": "Portuguese", "pl": "Polish",
    "tr": "Turkish", "uk": "Ukrainian", "fa": "Persian", "zh": "Chinese", "ja": "Japanese",
    "sv": "Swedish", "fi": "Finnish", "da": "Danish", "no": "Norwegian", "cs": "Czech",
    "hu": "Hungarian", "ro": "Romanian", "el": "Greek", "he": "Hebrew", "hi": "Hindi",
}
META = {
    "language": "Survey language",
    "arm": "Message arm that led to the survey",
    "instrument_version": "Instrument version",
}


def pick(text: Mapping[str, str] | None, language: str) -> str | None:
    """Text in `language`, else English, else any language the codebook has."""
    if not text:
        return None
    return text.get(language) or text.get("en") or next(iter(text.values()), None)


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code.split("-")[0], code)


class Vocabulary:
    """Labels, choice order and missing-kind choices of every column, in one language."""

    def __init__(self, codebook: Mapping[str, Any] | None, language: str) -> None:
        self.language = language
        self.labels: dict[str, dict[str, Any]] = {}
        self.order: dict[str, list[str]] = {}
        self.missing_choices: dict[str, set[str]] = {}
        self.types: dict[str, str] = {}
        self.variables: list[Mapping[str, Any]] = list((codebook or {}).get("variables") or [])
        languages = list((codebook or {}).get("languages") or [])
        for variable in self.variables:
            self._add(variable)
        self.labels["language"] = {
            "label": META["language"],
            "values": {code: language_name(code) for code in languages},
        }
        self.order["language"] = languages
        for name in ("arm", "instrument_version"):
            self.labels.setdefault(name, {"label": META[name]})

    def _add(self, variable: Mapping[str, Any]) -> None:
        name = str(variable["name"])
        kind = str(variable.get("type", ""))
        self.types[name] = kind
        label = pick(variable.get("label"), self.language) or name
        choices = list(variable.get("choices") or [])
        values = {str(c["value"]): pick(c.get("label"), self.language) or str(c["value"])
                  for c in choices if not c.get("missing")}
        missing = {str(c["value"]) for c in choices if c.get("missing")}
        if kind == "choice_dummy":
            stem = str(variable.get("question") or name.split("__", 1)[0])
            choice = str(variable.get("choice"))
            self.labels.setdefault(stem, {"label": label, "values": values})
            self.order.setdefault(stem, [str(c["value"]) for c in choices
                                         if not c.get("missing")])
            self.missing_choices[stem] = missing
            self.labels[name] = {"label": f"{label}: {values.get(choice, choice)}",
                                 "values": {"1": "Chosen", "0": "Not chosen"}}
            return
        entry: dict[str, Any] = {"label": label}
        if values:  # text and number questions list only their missing kinds: no values
            entry["values"] = values
        self.labels[name] = entry
        self.order[name] = [str(c["value"]) for c in choices if not c.get("missing")]
        self.missing_choices[name] = missing

    def label(self, name: str) -> str:
        return str(self.labels.get(name, {}).get("label") or name)

    def value(self, name: str, value: Any) -> str:
        if value is None:
            return "No answer"
        key = str(value)
        if key.endswith(".0") and key[:-2].lstrip("-").isdigit():
            key = key[:-2]
        values = self.labels.get(name, {}).get("values") or {}
        return str(values.get(key, key))

    def ordered(self, name: str, values: list[str]) -> list[str]:
        """`values` in the codebook's choice order; unknown ones after, as given."""
        known = self.order.get(name) or []
        rank = {v: i for i, v in enumerate(known)}
        return sorted(values, key=lambda v: (rank.get(v, len(known)), values.index(v)))

    def term(self, term: str) -> str:
        """A regression term for people: `age[25-34]` -> `How old are you?: 25–34`."""
        if term == "const":
            return "Intercept (reference groups)"
        if term.startswith("cut["):
            return f"Threshold {term[4:-1]}"
        if term.endswith("]") and "[" in term:
            name, level = term[:-1].split("[", 1)
            return f"{self.label(name)}: {self.value(name, level)}"
        return self.label(term)
