"""Folding: one canonical form for queries and terms (first, simple version)."""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"\w+")


def fold(text: str) -> str:
    """NFKC, case folding, diacritics removed, word tokens joined by single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return " ".join(t for t in _TOKEN.findall(text) if t.strip("_"))
