"""Properties over generated queries: batch == check, check(fold(q)) == check(q), and the fast
path of check() gives exactly the verdict of the full stage."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offramp.screen import Screener, screen_batch
from offramp.screen.normalize import fold
from offramp.synth.obfuscate import POSITIVE_KINDS, obfuscate

TERMS = ["zorblax", "quillion", "vexmora", "plindrath oskette", "skarneth", "meddow", "fennic",
         "tarvune", "drossil", "glorvane"]  # fmt: skip
PIECES = [*TERMS, "museum", "12", "yo", "age", "twelve", "years", "old", "zwölf", "jahre",
          "a", "i", "z", "o", "r", "-", ".", "!", "$", "1", "0", "the", "weather", "x"]  # fmt: skip

SCREENERS = {
    "plain": Screener.from_terms(TERMS),
    "yaml": Screener.from_file(__import__("pathlib").Path(__file__).parents[2]
                               / "examples" / "terms" / "demo-terms.yaml"),
}  # fmt: skip


@st.composite
def queries(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            parts.append(draw(st.sampled_from(PIECES)))
        elif choice == 1:
            term = draw(st.sampled_from(TERMS))
            kind = draw(st.sampled_from(POSITIVE_KINDS))
            seed = draw(st.integers(0, 2**16))
            parts.append(obfuscate(term, kind, random.Random(seed), draw(st.sampled_from(TERMS))))
        elif choice == 2:
            parts.append(draw(st.text(max_size=8)))
        else:
            parts.append(draw(st.text(alphabet="zorblaxquin1!|$@0 .-_", max_size=10)))
    sep = draw(st.sampled_from([" ", "", "  ", "-", " . "]))
    return sep.join(parts)


settings_ = settings(max_examples=300, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


@settings_
@given(st.sampled_from(sorted(SCREENERS)), st.lists(queries(), min_size=1, max_size=12))
def test_batch_agrees_with_check(name: str, qs: list[str]) -> None:
    s = SCREENERS[name]
    out = screen_batch(s, qs)
    for q, row in zip(qs, out.iter_rows(named=True), strict=True):
        v = s.check(q)
        assert row == {"blocked": v.blocked, "categories": list(v.categories),
                       "rules": list(v.rules), "age": v.age}, q  # fmt: skip


@settings_
@given(st.sampled_from(sorted(SCREENERS)), queries())
def test_check_of_folded_query_is_the_same(name: str, q: str) -> None:
    s = SCREENERS[name]
    assert s.check(fold(q)) == s.check(q)


@settings_
@given(st.sampled_from(sorted(SCREENERS)), queries())
def test_fast_path_equals_full_stage(name: str, q: str) -> None:
    s = SCREENERS[name]
    assert s.check(q) == s._exhaustive(q)
