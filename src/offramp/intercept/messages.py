"""The message catalogue: one YAML file per language, each holding the variants (experiment arms).

The catalogue is data, not code, so translators and researchers change wording without a release.
"""

from __future__ import annotations

from dataclasses import dataclass
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
)


@dataclass(frozen=True)
class LanguageCatalogue:
    language: str
    name: str
    draft: bool
    variants: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Catalogue:
    languages: dict[str, LanguageCatalogue]
    default_language: str

    def variants(self) -> list[str]:
        return sorted(self.languages[self.default_language].variants)

    def messages(self, language: str, variant: str) -> dict[str, str]:
        catalogue = self.languages.get(language) or self.languages[self.default_language]
        base = self.languages[self.default_language].variants.get(variant, {})
        return {**base, **catalogue.variants.get(variant, {})}


def load_catalogue(directory: Path = CATALOGUE_DIR, default_language: str = "en") -> Catalogue:
    languages: dict[str, LanguageCatalogue] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML: {exc}", file=str(path)) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("variants"), dict):
            raise InputError("a message file needs language and variants", file=str(path))
        language = str(doc.get("language", path.stem))
        variants = {
            str(name): {str(k): str(v) for k, v in (texts or {}).items()}
            for name, texts in doc["variants"].items()
        }
        languages[language] = LanguageCatalogue(
            language, str(doc.get("name", language)), bool(doc.get("draft", False)), variants
        )
    if default_language not in languages:
        raise InputError(
            f"no catalogue for the default language {default_language!r}", file=str(directory)
        )
    for name, texts in languages[default_language].variants.items():
        missing = [k for k in REQUIRED_KEYS if k not in texts]
        if missing:
            raise InputError(
                f"variant {name!r} lacks {', '.join(missing)}",
                file=str(directory / f"{default_language}.yaml"),
            )
    return Catalogue(languages, default_language)
