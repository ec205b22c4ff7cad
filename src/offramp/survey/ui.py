"""The survey pages' own words (buttons, progress, error messages) in each language we ship.

Questions come from the instrument; everything around them comes from here, so an instrument in
Arabic gets Arabic buttons without its author translating "Next". A language we do not ship falls
back to English for these words, and `offramp survey check` warns about it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import yaml

from offramp.survey.instrument import MissingKind, Text

_FOLDER = Path(__file__).resolve().parent / "ui"
FALLBACK = "en"


@functools.cache
def _catalogue(language: str) -> Mapping[str, str]:
    path = _FOLDER / f"{language}.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


@functools.cache
def shipped_languages() -> frozenset[str]:
    return frozenset(p.stem for p in _FOLDER.glob("*.yaml"))


def _base(language: str) -> str:
    return language.split("-")[0].split("_")[0].lower()


def has_language(language: str) -> bool:
    return language in shipped_languages() or _base(language) in shipped_languages()


@functools.cache
def words(language: str) -> Mapping[str, str]:
    """Every interface string for `language`, English where the language lacks one."""
    merged = dict(_catalogue(FALLBACK))
    merged.update(_catalogue(_base(language)))
    merged.update(_catalogue(language))
    return merged


def text(language: str, key: str, **values: object) -> str:
    template = words(language)[key]
    return template.format(**values) if values else template


def missing_label(kind: MissingKind, languages: tuple[str, ...]) -> Text:
    """The label of a text or number question's "prefer not to say" / "don't know" option."""
    key = "prefer_not_to_say" if kind == "refused" else "dont_know"
    return {language: text(language, key) for language in languages}
