"""Folding: one canonical form for terms and queries, so that obfuscation does not hide a term.

Two layers, both applied identically to list terms and to queries:

``fold(text)``
    A readable canonical text. Character by character: Unicode compatibility decomposition
    (full-width forms, mathematical alphanumerics, ligatures, circled letters), case folding,
    diacritics and other combining marks removed, zero-width and bidi controls dropped,
    confusable homoglyphs (Cyrillic, Greek, small capitals, IPA, Armenian, regional-indicator and
    enclosed letters) mapped to Latin, digits of every script to ASCII digits. Then separators:
    whitespace and control characters become one space (a *hard* boundary between tokens);
    punctuation between two word characters becomes ``-`` (a *soft* boundary inside a token,
    as in ``z.o.r`` or ``z_orblax``) and punctuation at a token's edge disappears. Letters of
    scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar) become one-character
    tokens, so a term in those scripts is found inside running text. Substitution symbols
    ``@ $ ! | +`` and digits are kept as they are: they are resolved at match time, because
    ``1`` may stand for ``i`` or ``l`` and ``12`` may be an age. ``fold`` is idempotent.

``unit_variants`` and ``collapse``
    The match keys built from folded text. Inside a word that has at least one letter, digits
    and substitution symbols are read as letters (``0 o``, ``3 e``, ``4 a`` ...); an ambiguous
    one (``1 | !`` -> ``i`` or ``l``, ``6`` -> ``g`` or ``b``) yields every alternative, capped.
    A run of three or more of one character is read both as a double and as a single letter
    (``zorrrblax`` -> ``zorblax``, ``quilllion`` -> ``quillion``); a double letter is spelling
    and stays. A word of digits only stays digits.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache

# --- characters ------------------------------------------------------------------------------

#: Symbols that stand for letters in obfuscated words; kept by fold, read as letters at match time.
LEET_SYMBOLS = frozenset("@$!|+")

#: Read inside a word that has a letter. Ambiguous entries list every alternative.
SUBSTITUTIONS: dict[str, tuple[str, ...]] = {
    "0": ("o",),
    "1": ("i", "l"),
    "2": ("z",),
    "3": ("e",),
    "4": ("a",),
    "5": ("s",),
    "6": ("g", "b"),
    "7": ("t",),
    "8": ("b",),
    "9": ("g",),
    "@": ("a",),
    "$": ("s",),
    "!": ("i", "l"),
    "|": ("l", "i"),
    "+": ("t",),
}

#: At most this many ambiguous characters of one word are expanded (2**n variants); later ones
#: take their first reading. Bounds the work an adversarial query can cause.
MAX_AMBIGUOUS_PER_UNIT = 4

# Capital letters that look like Latin capitals, mapped before case folding (Greek capital eta
# looks like H, but its lower case looks like n).
_UPPER_CONFUSABLES = {
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
    # Cyrillic
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Һ": "H",
    "Ӏ": "l", "Ү": "Y",
}  # fmt: skip

# Lower-case look-alikes, applied after case folding and decomposition.
_LOWER_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "г": "r", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ь": "b", "ѕ": "s", "і": "i", "ј": "j",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "σ": "o", "ς": "c", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c",
    "ϳ": "j", "μ": "u",
    # Latin small capitals and IPA letters
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i",
    "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s",
    "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ɑ": "a", "ı": "i", "ȷ": "j",
    "ɩ": "i", "ɒ": "o", "ɔ": "c", "ɛ": "e", "ɜ": "e",
    # Latin letters with a stroke or bar, which have no decomposition
    "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ƀ": "b", "ɨ": "i", "ƚ": "l", "ƶ": "z",
    "ȥ": "z", "ɇ": "e", "ɉ": "j", "ɍ": "r", "ɏ": "y", "ǥ": "g", "ꝁ": "k", "ᵽ": "p", "ʉ": "u",
    # Armenian
    "օ": "o", "ս": "u", "ո": "n", "հ": "h", "զ": "q", "ց": "g",
    # Arabic letter variants written interchangeably
    "ی": "ي", "ى": "ي", "ک": "ك", "ة": "ه",
}  # fmt: skip

for _i, _letter in enumerate("abcdefghijklmnopqrstuvwxyz"):
    _LOWER_CONFUSABLES[chr(0x1F1E6 + _i)] = _letter  # regional indicator symbols
    _LOWER_CONFUSABLES[chr(0x1F150 + _i)] = _letter  # negative circled letters
    _LOWER_CONFUSABLES[chr(0x1F170 + _i)] = _letter  # negative squared letters

# Scripts written without spaces between words: each letter becomes its own token.
_UNSPACED_SCRIPTS = (
    "CJK UNIFIED IDEOGRAPH",
    "CJK COMPATIBILITY IDEOGRAPH",
    "HIRAGANA",
    "KATAKANA",
    "THAI",
    "LAO",
    "KHMER",
    "MYANMAR",
)

_DROP = ""  # zero-width, format and combining characters
_SPACE = " "  # hard boundary
_PUNCT = "-"  # punctuation; becomes a soft boundary or disappears
_TATWEEL = "\u0640"


def _classify(c: str) -> str:
    """Fold one character that is already decomposed, case-folded and de-confused."""
    if c in LEET_SYMBOLS:
        return c
    cat = unicodedata.category(c)
    if cat in ("Mn", "Me", "Cf") or c == _TATWEEL:
        return _DROP
    if cat == "Nd":
        return str(unicodedata.digit(c))
    if cat[0] in "LN":
        if cat[0] == "L" and ord(c) > 0x2E7F:
            name = unicodedata.name(c, "")
            if name.startswith(_UNSPACED_SCRIPTS):
                return f" {c} "
        return c if c.isalnum() else _PUNCT
    if cat[0] == "Z" or cat[0] == "C" or c.isspace():
        return _SPACE
    return _PUNCT


def _fold_char_once(c: str) -> str:
    cp = ord(c)
    if 0xD800 <= cp <= 0xDFFF:  # a lone surrogate: not text
        return _SPACE
    c = _UPPER_CONFUSABLES.get(c, c)
    if c in _LOWER_CONFUSABLES:  # before decomposition: lunate sigma must not become sigma
        return _classify(_LOWER_CONFUSABLES[c])
    decomposed = unicodedata.normalize("NFKD", c).casefold()
    decomposed = unicodedata.normalize("NFKD", decomposed)
    out = []
    for d in decomposed:
        d = _LOWER_CONFUSABLES.get(d, d)
        out.append(_classify(d))
    return "".join(out)


def fold_char(c: str) -> str:
    """The folded form of one character (iterated to a fixed point, so fold is idempotent)."""
    result = _fold_char_once(c)
    for _ in range(4):
        again = "".join(_fold_char_once(x) if x not in " -" else x for x in result)
        if again == result:
            break
        result = again
    return result


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table filled on first use; bounded so hostile input cannot grow it."""

    LIMIT = 200_000

    def __missing__(self, cp: int) -> str:
        folded = fold_char(chr(cp))
        if len(self) < self.LIMIT:
            self[cp] = folded
        return folded


_TABLE = _FoldTable()
for _cp in range(128):
    _TABLE[_cp] = fold_char(chr(_cp))

_SEPARATOR_RUN = re.compile(r"-* [ -]*")
_DASH_RUN = re.compile(r"--+")


def fold(text: str) -> str:
    """The canonical form of ``text``: tokens separated by one space, soft joins shown as ``-``.

    >>> fold("Ｚ.O.R.B-lax!!  Vexmöra")
    'z-o-r-b-lax!! vexmora'
    """
    mapped = text.translate(_TABLE)
    if "-" in mapped:
        mapped = _DASH_RUN.sub("-", _SEPARATOR_RUN.sub(" ", mapped))
        mapped = " ".join(t.strip("-") for t in mapped.split(" "))
    return " ".join(mapped.split())


# --- match keys ------------------------------------------------------------------------------

_LONG_RUN = re.compile(r"(.)\1\1+")
#: At most this many long runs of one query are read both ways (2**n readings).
MAX_LONG_RUNS = 3


def collapse(text: str) -> str:
    """Runs of three or more of one character become two: ``zorrrblax`` -> ``zorrblax``.

    A doubled letter is spelling (``booze`` is not ``boze``); three or more is stretching.
    """
    return _LONG_RUN.sub(r"\1\1", text)


def collapse_variants(text: str) -> list[str]:
    """Readings of ``text`` with each long run read as a double *and* as a single letter.

    ``zorrrblax`` -> ``[zorrblax, zorblax]``, so it matches ``zorblax``; ``quilllion`` matches
    ``quillion``.
    """
    runs = list(_LONG_RUN.finditer(text))
    if not runs:
        return [text]
    runs = runs[:MAX_LONG_RUNS]
    out = []
    for choice in itertools.product((2, 1), repeat=len(runs)):
        parts, last = [], 0
        for m, n in zip(runs, choice, strict=True):
            parts.append(text[last : m.start()])
            parts.append(m.group(1) * n)
            last = m.end()
        parts.append(text[last:])
        out.append(collapse("".join(parts)))
    return out


def split_units(token: str) -> list[str]:
    """A folded token's units: split at soft joins and where a symbol run meets a word's edge.

    ``z-orblax`` -> ``[z, orblax]``; ``zorblax!`` -> ``[zorblax, !]``; ``$orblax`` ->
    ``[$, orblax]``; ``z@x`` stays one unit because the symbol is inside the word.
    """
    units: list[str] = []
    for part in token.split("-"):
        if not part:
            continue
        start, end = 0, len(part)
        while start < end and part[start] in LEET_SYMBOLS:
            start += 1
        while end > start and part[end - 1] in LEET_SYMBOLS:
            end -= 1
        if start == end:  # symbols only
            units.append(part)
            continue
        if start:
            units.append(part[:start])
        units.append(part[start:end])
        if end < len(part):
            units.append(part[end:])
    return units


def has_letter(text: str) -> bool:
    """True when ``text`` has a letter (so its digits and symbols are read as letters)."""
    return any(c.isalpha() for c in text)


@lru_cache(maxsize=65536)
def unit_variants(unit: str, letters: bool) -> tuple[str, ...]:
    """Every reading of one unit, substitutions applied (only when ``letters``), not collapsed."""
    if not letters:
        return (unit,)
    choices: list[tuple[str, ...]] = []
    ambiguous = 0
    for c in unit:
        alts = SUBSTITUTIONS.get(c)
        if alts is None:
            choices.append((c,))
        elif len(alts) == 1 or ambiguous >= MAX_AMBIGUOUS_PER_UNIT:
            choices.append(alts[:1])
        else:
            ambiguous += 1
            choices.append(alts)
    if not ambiguous:
        return ("".join(c[0] for c in choices),)
    return tuple("".join(p) for p in itertools.product(*choices))
