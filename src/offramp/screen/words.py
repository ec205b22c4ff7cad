"""Bundled word lists of common languages, used where ordinary words must not be mistaken.

The matcher does not split a word that is in these lists into glued terms (``motivate`` is
not ``moti`` + ``vate``), and ``offramp screen lint`` warns about terms that are prefixes of
these words. Sources (all free licences; see words/SOURCES.txt): SCOWL (en), igerman98 (de),
the Debian French, Spanish, Italian and Portuguese word lists and OpenTaal (nl), folded and cut
to at most 60,000 words of 3 to 15 letters each.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

AVAILABLE = ("de", "en", "es", "fr", "it", "nl", "pt")


@lru_cache(maxsize=16)
def _one(lang: str) -> frozenset[str]:
    data = resources.files("offramp.screen").joinpath("words", f"{lang}.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def load(languages: Iterable[str]) -> frozenset[str]:
    """The union of the bundled lists for ``languages`` (unknown languages are skipped)."""
    out: frozenset[str] = frozenset()
    for lang in sorted(set(languages)):
        if lang in AVAILABLE:
            out = out | _one(lang)
    return out
