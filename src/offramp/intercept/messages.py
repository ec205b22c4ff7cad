"""The message catalogue: one YAML file per language, each holding the variants (experiment arms).

The catalogue is data, not code, so translators and researchers change wording without a release.

Schema of one file, ``<language>.yaml`` (the file name must be the language tag)::

    language: ar            # BCP 47 tag, equal to the file name's stem
    name: العربية            # the language's own name, shown in the language menu
    draft: true             # optional; true = machine-drafted, not yet reviewed by a native speaker
    direction: rtl          # optional; ltr or rtl (default: rtl for Arabic, Hebrew, Persian...)
    variants:               # one entry per experiment arm; the default language defines the arms
      control:              # every variant has every key of REQUIRED_KEYS, each a non-empty string
        title: ...
        ...

The default language's file (English unless configured otherwise) must be complete; any other file
may lack keys or whole variants, in which case the page falls back to the default language's text
for those keys, and ``offramp messages check`` names each gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from offramp.errors import InputError

CATALOGUE_DIR = Path(__file__).resolve().parent / "messages"
REQUIRED_KEYS = (
    "title",
    "lead",
    "help_heading",
    "help_text",
    "help_link",
    "survey_heading",
    "survey_text",
    "survey_link",
    "leave_link",
    "languages_label",
)
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "yi", "dv", "ckb", "sd", "ug"})
_TOP_KEYS = frozenset({"language", "name", "draft", "direction", "variants"})


@dataclass(frozen=True)
class LanguageCatalogue:
    language: str
    name: str
    draft: bool
    variants: dict[str, dict[str, str]]
    direction: str = "ltr"
    source: str = ""


@dataclass(frozen=True)
class Catalogue:
    languages: dict[str, LanguageCatalogue]
    default_language: str
    _merged: dict[tuple[str, str], dict[str, str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def variants(self) -> list[str]:
        """The arms: the variants the default language defines."""
        return sorted(self.languages[self.default_language].variants)

    def language_codes(self) -> list[str]:
        return sorted(self.languages)

    def direction(self, language: str) -> str:
        entry = self.languages.get(language)
        return entry.direction if entry else "ltr"

    def messages(self, language: str, variant: str) -> dict[str, str]:
        """Texts for one page: the language's own, gaps filled from the default language."""
        key = (language, variant)
        cached = self._merged.get(key)
        if cached is None:
            catalogue = self.languages.get(language) or self.languages[self.default_language]
            base = self.languages[self.default_language].variants.get(variant, {})
            cached = {**base, **catalogue.variants.get(variant, {})}
            self._merged[key] = cached
        return cached


@dataclass(frozen=True)
class Gap:
    """One problem `offramp messages check` reports."""

    language: str
    variant: str
    problem: str
    keys: tuple[str, ...] = ()

    def __str__(self) -> str:
        keys = f": {', '.join(self.keys)}" if self.keys else ""
        return f"{self.language} / {self.variant}: {self.problem}{keys}"


def _load_file(path: Path) -> LanguageCatalogue:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"not valid YAML: {exc}", file=str(path), line=line) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=str(path)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("variants"), dict):
        raise InputError(
            "a message file needs `language`, `name` and a `variants` table", file=str(path),
            hint="see the schema at the top of offramp/intercept/messages.py",
        )
    unknown = sorted(set(map(str, doc)) - _TOP_KEYS)
    if unknown:
        raise InputError(f"unknown top-level key(s) {', '.join(unknown)}", file=str(path))
    language = str(doc.get("language", path.stem))
    if language != path.stem:
        raise InputError(
            f"language {language!r} does not match the file name {path.name!r}", file=str(path)
        )
    direction = str(doc.get("direction") or (
        "rtl" if language.split("-")[0] in RTL_LANGUAGES else "ltr"
    ))
    if direction not in ("ltr", "rtl"):
        raise InputError(f"direction must be ltr or rtl, not {direction!r}", file=str(path))
    variants: dict[str, dict[str, str]] = {}
    for name, texts in doc["variants"].items():
        if not isinstance(texts, dict):
            raise InputError(f"variant {name!r} must be a table of key: text", file=str(path))
        clean: dict[str, str] = {}
        for key, value in texts.items():
            if str(key) not in REQUIRED_KEYS:
                raise InputError(
                    f"variant {name!r} has an unknown key {key!r}", file=str(path),
                    hint=f"known keys: {', '.join(REQUIRED_KEYS)}",
                )
            if not isinstance(value, str):
                raise InputError(f"variant {name!r} key {key!r} must be text", file=str(path))
            if value.strip():
                clean[str(key)] = " ".join(value.split())
        variants[str(name)] = clean
    return LanguageCatalogue(
        language, str(doc.get("name", language)), bool(doc.get("draft", False)), variants,
        direction, str(path),
    )


def load_catalogue(directory: Path = CATALOGUE_DIR, default_language: str = "en") -> Catalogue:
    """Load every ``*.yaml`` in `directory`; the default language must be complete."""
    languages: dict[str, LanguageCatalogue] = {}
    for path in sorted(directory.glob("*.yaml")):
        entry = _load_file(path)
        languages[entry.language] = entry
    if default_language not in languages:
        raise InputError(
            f"no catalogue for the default language {default_language!r}", file=str(directory),
            hint=f"add {default_language}.yaml or change default_language",
        )
    default = languages[default_language]
    if not default.variants:
        raise InputError("the default language defines no variants", file=default.source)
    for name, texts in default.variants.items():
        missing = [k for k in REQUIRED_KEYS if k not in texts]
        if missing:
            raise InputError(
                f"variant {name!r} lacks {', '.join(missing)}", file=default.source,
                hint="the default language must be complete: other languages fall back to it",
            )
    return Catalogue(languages, default_language)


def check_catalogue(catalogue: Catalogue) -> list[Gap]:
    """Every missing translation, per language and variant, plus variants no arm can use."""
    gaps: list[Gap] = []
    arms = catalogue.variants()
    for code in catalogue.language_codes():
        entry = catalogue.languages[code]
        for arm in arms:
            texts = entry.variants.get(arm)
            if texts is None:
                gaps.append(Gap(code, arm, "variant missing (falls back to the default language)"))
                continue
            missing = tuple(k for k in REQUIRED_KEYS if k not in texts)
            if missing:
                gaps.append(Gap(code, arm, "missing translation", missing))
        for extra in sorted(set(entry.variants) - set(arms)):
            gaps.append(Gap(code, extra, f"not a variant of {catalogue.default_language}; unused"))
    return gaps
