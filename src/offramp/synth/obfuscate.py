"""Obfuscated spellings of listed terms, and near misses, for testing the screen stage.

``obfuscate(term, kind, rng)`` writes a term the way a searcher hiding it might: leetspeak,
mixed case, full-width letters, accents, look-alike letters from other scripts, mathematical
letters, invisible characters, separators, spaced-out letters, stretched letters, glued words.
``evaluation_set`` builds a labelled set of queries (query, label, kind, category) with every
obfuscation type, ordinary queries and near misses (a term inside a longer word, a term's
letters spread over unrelated words, a term with one letter changed). All text is made of the
list's own (invented) terms and dictionary words; nothing here is real vocabulary.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import polars as pl

LEET = {
    "a": "4@", "b": "8", "e": "3", "g": "9", "i": "1!|", "l": "1|", "o": "0", "s": "5$",
    "t": "7+", "z": "2",
}  # fmt: skip
HOMOGLYPHS = {
    "a": "аα", "b": "Ьβ", "c": "сϲ", "e": "еε", "h": "һ", "i": "іι", "j": "ј", "k": "кκ",
    "m": "м", "n": "η", "o": "оοօ", "p": "рρ", "s": "ѕ", "t": "т", "u": "υս", "v": "ν",
    "w": "ԝω", "x": "хχ", "y": "у",
}  # fmt: skip
ACCENTS = {
    "a": "áàâäãå", "e": "éèêë", "i": "íìîï", "o": "óòôöõ", "u": "úùûü", "n": "ñ", "c": "ç",
    "y": "ýÿ", "z": "žź", "s": "šś", "r": "ř", "l": "ł",
}  # fmt: skip
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2066")
SEPARATORS = (".", "-", "_", "*", "·", "/")

POSITIVE_KINDS = (
    "plain", "case", "leet", "fullwidth", "diacritics", "homoglyph", "math", "invisible",
    "separators", "spaced", "repeats", "glued", "combined",
)  # fmt: skip
NEGATIVE_KINDS = ("ordinary", "near_miss_part", "near_miss_spread", "near_miss_edit")
#: Obfuscations the matcher deliberately does not undo (docs/screening.md says why); the
#: evaluation set includes them on request, to measure what they cost.
EXTRA_KINDS = ("split", "doubled", "vowel_drop")


def _letters(term: str, rng: random.Random, fn: Callable[[str], str], share: float) -> str:
    out = []
    for c in term:
        out.append(fn(c) if c.isalpha() and rng.random() < share else c)
    return "".join(out)


def _ensure_changed(term: str, result: str, fallback: Callable[[], str]) -> str:
    return result if result != term else fallback()


def obfuscate(term: str, kind: str, rng: random.Random, other: str | None = None) -> str:
    """One obfuscated spelling of ``term`` (folded, lower case) of the given kind."""
    if kind == "plain":
        return term
    if kind == "case":
        return "".join(c.upper() if rng.random() < 0.5 else c for c in term)
    if kind == "leet":
        def sub(c: str) -> str:
            return rng.choice(LEET[c]) if c in LEET else c
        candidates = [i for i, c in enumerate(term) if c in LEET]
        if not candidates:
            return term.upper()
        picks = set(rng.sample(candidates, k=max(1, len(candidates) // 2)))
        return "".join(sub(c) if i in picks else c for i, c in enumerate(term))
    if kind == "fullwidth":
        return "".join(
            chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in term
        )
    if kind == "diacritics":
        def accent(c: str) -> str:
            return rng.choice(ACCENTS[c]) if c in ACCENTS else c + "\u0301"
        return _letters(term, rng, accent, 0.6)
    if kind == "homoglyph":
        def glyph(c: str) -> str:
            return rng.choice(HOMOGLYPHS[c]) if c in HOMOGLYPHS else c
        return _letters(term, rng, glyph, 0.7)
    if kind == "math":
        base = rng.choice((0x1D41A, 0x1D482, 0x1D5BA, 0x1D5EE, 0x1D656, 0x1D68A))  # "a" of a style
        return "".join(chr(base + ord(c) - 97) if "a" <= c <= "z" else c for c in term)
    if kind == "invisible":
        out = []
        for c in term:
            out.append(c)
            if rng.random() < 0.4:
                out.append(rng.choice(INVISIBLE))
        return "".join([*out[:1], rng.choice(INVISIBLE), *out[1:]])
    if kind == "separators":
        sep = rng.choice(SEPARATORS)
        if rng.random() < 0.5:
            return sep.join(term.replace(" ", ""))
        cut = rng.randint(1, max(1, len(term) - 1))
        return term[:cut] + sep + term[cut:]
    if kind == "spaced":
        return " ".join(term.replace(" ", ""))
    if kind == "repeats":
        i = rng.choice([k for k, c in enumerate(term) if c.isalpha()])
        return term[: i + 1] + term[i] * rng.randint(2, 5) + term[i + 1 :]
    if kind == "glued":
        return term.replace(" ", "") + (other or term).replace(" ", "")
    if kind == "combined":
        # applied in this order, so that e.g. upper-casing never turns a Greek eta into an H
        order = ["repeats", "case", "leet", "homoglyph", "diacritics", "fullwidth", "invisible"]
        first, second = sorted(rng.sample(order, 2), key=order.index)
        return obfuscate(obfuscate(term, first, rng), second, rng)
    if kind == "split":  # two multi-letter parts: would also match ordinary word pairs
        word = term.replace(" ", "")
        cut = rng.randint(2, max(2, len(word) - 2))
        return word[:cut] + " " + word[cut:]
    if kind == "doubled":  # one letter doubled: doubles are spelling (booze is not boze)
        i = rng.choice([k for k, c in enumerate(term) if c.isalpha()])
        return term[: i + 1] + term[i] + term[i + 1 :]
    if kind == "vowel_drop":  # text-speak: drop the vowels after the first letter
        return term[0] + "".join(c for c in term[1:] if c not in "aeiou")
    raise ValueError(f"unknown obfuscation kind {kind!r}")


def _made_of(word: str, listed: frozenset[str], longest: int) -> bool:
    """True when ``word`` is a listed term or listed terms glued together (word break)."""
    reach = [True] + [False] * len(word)
    for i in range(len(word)):
        if reach[i]:
            for j in range(i + 1, min(len(word), i + longest) + 1):
                if word[i:j] in listed:
                    reach[j] = True
    return reach[len(word)]


def near_miss(
    term: str,
    kind: str,
    rng: random.Random,
    words: Sequence[str],
    listed: frozenset[str] = frozenset(),
) -> str:
    """A query that shares letters with ``term`` and should not be blocked.

    With a dense list, a changed or extended word can land on another listed term (or on
    listed terms glued together); such candidates are drawn again, up to 50 times.
    """
    longest = max(map(len, listed), default=0)
    for _ in range(50):
        candidate = _near_miss_once(term, kind, rng, words)
        if not any(_made_of(w, listed, longest) for w in candidate.split(" ")):
            return candidate
    return candidate


def _near_miss_once(term: str, kind: str, rng: random.Random, words: Sequence[str]) -> str:
    word = term.split(" ")[0]
    if kind == "near_miss_part":
        affix = rng.choice(words)[: rng.randint(2, 4)]
        return word + affix if rng.random() < 0.5 else affix + word
    if kind == "near_miss_spread":
        cut = rng.randint(2, max(2, len(word) - 2))
        left, right = rng.choice(words), rng.choice(words)
        return f"{left}{word[:cut]} {word[cut:]}{right}"
    if kind == "near_miss_edit":
        i = rng.randrange(len(word))
        options = [c for c in "bcdfghjkmnpqruvwxy" if c != word[i]]
        return word[:i] + rng.choice(options) + word[i + 1 :]
    raise ValueError(f"unknown near-miss kind {kind!r}")


def _context(query: str, rng: random.Random, words: Sequence[str]) -> str:
    before = [rng.choice(words) for _ in range(rng.randint(0, 2))]
    after = [rng.choice(words) for _ in range(rng.randint(0, 2))]
    return " ".join([*before, query, *after])


def evaluation_set(
    terms: Sequence[tuple[str, str]],
    words: Sequence[str],
    *,
    per_kind: int = 500,
    seed: int = 0,
    extra: bool = False,
) -> pl.DataFrame:
    """A labelled set: ``query``, ``label`` (1 = should be blocked), ``kind``, ``category``.

    ``terms`` are (folded term, category) pairs of word rules; ``words`` ordinary words that
    are not on the list. Positives embed an obfuscated term among ordinary words; negatives are
    ordinary queries and near misses. ``extra`` adds the kinds of ``EXTRA_KINDS``.
    """
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets
    listed = frozenset(t for t, _ in terms if " " not in t)
    rows: list[tuple[str, int, str, str | None]] = []
    for kind in POSITIVE_KINDS + (EXTRA_KINDS if extra else ()):
        for _ in range(per_kind):
            term, category = rng.choice(terms)
            other = rng.choice(terms)[0]
            rows.append((_context(obfuscate(term, kind, rng, other), rng, words), 1, kind,
                         category))  # fmt: skip
    for kind in NEGATIVE_KINDS:
        for _ in range(per_kind * (4 if kind == "ordinary" else 1)):
            if kind == "ordinary":
                query = " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
            else:
                term, _ = rng.choice(terms)
                query = _context(near_miss(term, kind, rng, words, listed), rng, words)
            rows.append((query, 0, kind, None))
    return pl.DataFrame(
        rows, schema={"query": pl.String, "label": pl.Int8, "kind": pl.String,
                      "category": pl.String}, orient="row"
    )  # fmt: skip


def invented_terms(n: int, rng: random.Random, avoid: set[str] | frozenset[str]) -> list[str]:
    """``n`` distinct pronounceable invented tokens (4 to 9 letters) that are not in ``avoid``."""
    consonants, vowels = "bcdfghjklmnprstvwxz", "aeiou"
    out: set[str] = set()
    while len(out) < n:
        syllables = rng.randint(2, 3)
        token = "".join(
            rng.choice(consonants)
            + rng.choice(vowels)
            + (rng.choice(consonants) if rng.random() < 0.5 else "")
            for _ in range(syllables)
        )
        if len(token) >= 4 and token not in avoid:
            out.add(token)
    return sorted(out)
