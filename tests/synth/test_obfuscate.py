"""The obfuscation generator, and the screen stage's recall per obfuscation type on it."""

from __future__ import annotations

import random

import pytest

from offramp.screen import Screener, words
from offramp.screen.evaluate import evaluate
from offramp.screen.normalize import fold
from offramp.synth.obfuscate import (
    NEGATIVE_KINDS,
    POSITIVE_KINDS,
    evaluation_set,
    invented_terms,
    obfuscate,
)


@pytest.mark.parametrize("kind", [k for k in POSITIVE_KINDS if k != "plain"])
def test_each_kind_changes_the_text(kind: str) -> None:
    rng = random.Random(1)
    changed = sum(obfuscate("zorblaxquil", kind, rng, "vexmora") != "zorblaxquil"
                  for _ in range(50))  # fmt: skip
    assert changed >= 45


def test_obfuscations_that_fold_back() -> None:
    rng = random.Random(2)
    for kind in ("case", "fullwidth", "diacritics", "homoglyph", "math", "invisible"):
        assert fold(obfuscate("zorblax", kind, rng)) == "zorblax", kind


def test_invented_terms_avoid_dictionary_words() -> None:
    en = words.load(["en"])
    terms = invented_terms(300, random.Random(3), en)
    assert len(set(terms)) == 300 and not set(terms) & en


def test_recall_per_type_and_false_positive_rate() -> None:
    rng = random.Random(4)
    en = sorted(words.load(["en"]))
    terms = invented_terms(1500, rng, set(en))
    screener = Screener.from_terms(terms)
    labelled = evaluation_set([(t, "default") for t in terms], en, per_kind=60, seed=5)
    result = evaluate(screener, labelled)
    for kind in POSITIVE_KINDS:
        recall = result.by_kind[kind].recall
        assert recall is not None and recall >= 0.98, (kind, recall)
    negatives = [result.by_kind[k] for k in NEGATIVE_KINDS]
    fp = sum(s.fp for s in negatives)
    assert fp / sum(s.fp + s.tn for s in negatives) <= 0.002


def test_near_misses_never_land_on_listed_terms() -> None:
    from offramp.synth.obfuscate import near_miss

    listed = frozenset({"zorb", "lax", "zorblax", "quil"})
    rng = random.Random(6)
    for kind in ("near_miss_part", "near_miss_edit"):
        for _ in range(200):
            query = near_miss("zorblax", kind, rng, ["lax", "quil", "table"], listed)
            assert query not in listed and query not in {"zorblaxquil", "zorblax"}


def test_extra_kinds_are_generated_on_request() -> None:
    labelled = evaluation_set([("zorblax", "c")], ["table", "chair"], per_kind=3, extra=True)
    assert {"split", "doubled", "vowel_drop"} <= set(labelled["kind"].to_list())
