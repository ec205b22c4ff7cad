"""The age helper: stated ages in a query ("12 yo", "12yo", "age 12", "twelve years").

Works on folded text (see ``normalize.fold``), so ``Twelve-Year-Old`` and ``１２ＹＯ`` read the
same. English is always understood; a list may declare more languages (``languages:`` in YAML).
A verdict carries only the age *band* (``AGE_BANDS``), never the number or the words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_EN_NUMBERS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
)
# Folded spellings (diacritics removed) of 1..20 in the bundled languages.
NUMBER_WORDS: dict[str, tuple[str, ...]] = {
    "en": tuple(_EN_NUMBERS.split()),
    "de": _words(
        "eins zwei drei vier funf sechs sieben acht neun zehn elf zwolf dreizehn "
        "vierzehn funfzehn sechzehn siebzehn achtzehn neunzehn zwanzig "
    ),
    "fr": _words(
        "un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze "
        "quinze seize dix-sept dix-huit dix-neuf vingt "
    ),
    "es": _words(
        "uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce "
        "quince dieciseis diecisiete dieciocho diecinueve veinte "
    ),
    "pt": _words(
        "um dois tres quatro cinco seis sete oito nove dez onze doze treze catorze "
        "quinze dezesseis dezessete dezoito dezenove vinte "
    ),
    "it": _words(
        "uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici "
        "quattordici quindici sedici diciassette diciotto diciannove venti "
    ),
    "nl": _words(
        "een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien "
        "vijftien zestien zeventien achttien negentien twintig "
    ),
}
# Words after the number ("12 yo") and words before it ("age 12"), folded.
UNITS: dict[str, tuple[str, ...]] = {
    "en": ("yo", "y-o", "yr", "yrs", "year", "years", "yr-old", "year-old", "years-old"),
    "de": ("jahre", "jahr", "jahrig", "jahrige", "jahriger", "jahriges", "jahrigen"),
    "fr": ("ans", "an"),
    "es": ("anos", "ano"),
    "pt": ("anos", "ano"),
    "it": ("anni", "anno"),
    "nl": ("jaar", "jarig", "jarige"),
}
AGE_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("age", "aged"),
    "de": ("alter",),
    "fr": ("age",),
    "es": ("edad",),
    "pt": ("idade",),
    "it": ("eta",),
    "nl": ("leeftijd",),
}
LANGUAGES = tuple(sorted(NUMBER_WORDS))

#: The bands a verdict may carry, youngest first.
AGE_BANDS = ("0-12", "13-15", "16-17", "18+")


def band(age: int) -> str:
    """The band of an age in years."""
    if age <= 12:
        return "0-12"
    if age <= 15:
        return "13-15"
    if age <= 17:
        return "16-17"
    return "18+"


def band_below(age_band: str | None, limit: int) -> bool:
    """True when every age in ``age_band`` is below ``limit`` (a rule's ``age_below``)."""
    if age_band is None:
        return False
    upper = {"0-12": 12, "13-15": 15, "16-17": 17}.get(age_band)
    return upper is not None and upper < limit


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


class AgeReader:
    """Finds stated ages in folded text, for a fixed set of languages."""

    def __init__(self, languages: Iterable[str] = ("en",)) -> None:
        langs = sorted({"en", *(lang for lang in languages if lang in NUMBER_WORDS)})
        self.languages = tuple(langs)
        self._values: dict[str, int] = {}
        for lang in langs:
            for value, word in enumerate(NUMBER_WORDS[lang], start=1):
                self._values.setdefault(word, value)
        units = [u for lang in langs for u in UNITS[lang]]
        before = [w for lang in langs for w in AGE_WORDS[lang]]
        num = rf"\d{{1,2}}|{_alternation(self._values)}"
        edge_l, edge_r = r"(?<![^\W_])", r"(?![^\W_])"
        self._pattern = re.compile(
            rf"{edge_l}(?:(?P<n1>{num})[ -]?(?:{_alternation(units)})"
            rf"|(?:{_alternation(before)})[ -]?(?P<n2>{num})){edge_r}"
        )
        # What one token can contribute to a stated age that spans two tokens ("12 yo",
        # "age 12"): the screener's fast path combines these per-token tests.
        self.number_at_end = re.compile(rf"{edge_l}(?:{num})$")
        self.number_at_start = re.compile(rf"^(?:{num}){edge_r}")
        self.unit_at_start = re.compile(rf"^(?:{_alternation(units)}){edge_r}")
        self.age_word_at_end = re.compile(rf"{edge_l}(?:{_alternation(before)})$")
        # A token without a digit and without any of these words states no age at all.
        self.any_word = re.compile(_alternation([*self._values, *units, *before]))

    def youngest(self, folded: str) -> int | None:
        """The smallest stated age (1..99) in folded text, or None."""
        found: int | None = None
        for m in self._pattern.finditer(folded):
            raw = m.group("n1") or m.group("n2")
            value = int(raw) if raw.isdigit() else self._values[raw]
            if 1 <= value <= 99 and (found is None or value < found):
                found = value
        return found

    def band(self, folded: str) -> str | None:
        """The band of the youngest stated age, or None."""
        age = self.youngest(folded)
        return None if age is None else band(age)


@lru_cache(maxsize=16)
def reader(languages: tuple[str, ...]) -> AgeReader:
    """A shared reader per language set (compiling the pattern is the costly part)."""
    return AgeReader(languages)
