"""Quality flags as columns, never deletions: the researcher decides what to exclude.

Columns added to every dataset (0/1 flags; null = could not be assessed for that respondent):

- `qc_speed_ratio`: the respondent's seconds on the pages they saw, divided by the sum of those
  pages' median seconds over all respondents (1.0 = typical pace, 0.25 = four times faster).
  `qc_speeder` is 1 when the ratio is below `speeder_threshold` (default 0.5; Leiner 2019 found
  a relative speed index of 2, i.e. twice the median pace, separates meaningless answers well).
- `qc_straightline`: 1 when, in at least one grid, the respondent gave the same substantive answer
  to every item (at least `grid_min_items` answered). A grid is a run of select_one questions on
  one page sharing one choice list; missing-kind answers ("prefer not to say") are not counted.
- `qc_attention_failed`: 1 when the respondent failed at least one attention check they were
  shown. Convention: a question whose `appearance` includes the word `attention` and whose
  `constraint` states the right answer (e.g. `. = 'agree'`); an unanswered or declined check
  counts as failed. The survey must not enforce that constraint (else nobody can fail it).
- `qc_duplicate`: 1 when another respondent's whole answer pattern matches this one on at least
  `duplicate_threshold` of the columns either was shown (default 0.95), with `qc_duplicate_of`
  the respondent number of the closest match and `qc_duplicate_similarity` the share matched.

Near-duplicates are found exactly (all pairs) up to EXACT_LIMIT distinct patterns; above that by
locality-sensitive hashing on random bands of columns, chosen so that a pair at the threshold
collides in some band with probability >= 0.99 under independent disagreements, and every
candidate pair is then compared exactly (no false positives; the rare miss is a false negative).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from offramp.data.codes import MISSING_STRINGS, NOT_SHOWN
from offramp.survey.expressions import ExpressionError, evaluate, truthy
from offramp.survey.instrument import Instrument, Question

SPEED_RATIO = "qc_speed_ratio"
SPEEDER = "qc_speeder"
STRAIGHTLINE = "qc_straightline"
ATTENTION = "qc_attention_failed"
DUPLICATE = "qc_duplicate"
DUPLICATE_OF = "qc_duplicate_of"
DUPLICATE_SIMILARITY = "qc_duplicate_similarity"
QUALITY_COLUMNS = (SPEED_RATIO, SPEEDER, STRAIGHTLINE, ATTENTION, DUPLICATE, DUPLICATE_OF,
                   DUPLICATE_SIMILARITY)
QUALITY_LABELS = {
    SPEED_RATIO: "Seconds on the pages seen / sum of those pages' median seconds",
    SPEEDER: "Quality flag: answered much faster than the median pace",
    STRAIGHTLINE: "Quality flag: same answer to every item of a grid",
    ATTENTION: "Quality flag: failed an attention check",
    DUPLICATE: "Quality flag: answer pattern nearly identical to another respondent's",
    DUPLICATE_OF: "Respondent number of the closest matching answer pattern",
    DUPLICATE_SIMILARITY: "Share of columns that match the closest pattern",
}
EXACT_LIMIT = 1500
EMPTY_TIMINGS = pl.DataFrame(
    schema={"_response_id": pl.Int64, "page": pl.Utf8, "page_seconds": pl.Float64,
            "instrument_id": pl.Utf8}
)
_ORDER = "_response_id"


@dataclass(frozen=True)
class QualitySettings:
    speeder_threshold: float = 0.5
    grid_min_items: int = 3
    duplicate_threshold: float = 0.95
    duplicate_min_items: int = 10
    """Respondents shown fewer columns are not assessed (short patterns match by chance)."""
    seed: int = 20240601
    """Seed of the random bands (the result is reproducible for the same data)."""


@dataclass
class QualityInfo:
    """What the codebook records about the flags: settings, grids, checks, method, counts."""

    settings: QualitySettings
    grids: list[list[str]] = field(default_factory=list)
    attention_checks: list[dict[str, str]] = field(default_factory=list)
    duplicate_method: str = "exact"
    duplicate_bands: int = 0
    duplicate_recall_at_threshold: float = 1.0
    flagged: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "settings": asdict(self.settings)}


# -- attention checks ---------------------------------------------------------------------------
def is_attention_check(question: Question) -> bool:
    return bool(question.constraint) and "attention" in (question.appearance or "").split()


def attention_checks(instrument: Instrument) -> list[Question]:
    return [q for q in instrument.questions() if q.answers and is_attention_check(q)]


def attention_failed(checks: list[Question], response: Any) -> int | None:
    """1 if any shown check failed, 0 if all shown checks passed, None if none was shown."""
    outcome: int | None = None
    for question in checks:
        if question.name not in response.shown:
            continue
        value = response.answers.get(question.name)
        declined = any(c.missing and c.value == value for c in question.choices)
        if value is None or value in ("", []) or declined:
            return 1
        try:
            passed = truthy(evaluate(str(question.constraint), response.answers, value))
        except ExpressionError:
            continue  # `survey check` rejects such expressions; never guess a verdict
        if not passed:
            return 1
        outcome = 0
    return outcome


# -- speeders ---------------------------------------------------------------------------------
def speed_ratios(timings: pl.DataFrame) -> pl.DataFrame:
    """Per respondent: own seconds on the pages seen / sum of those pages' median seconds."""
    valid = timings.drop_nulls("page_seconds")
    medians = valid.group_by("instrument_id", "page").agg(
        pl.col("page_seconds").median().alias("median")
    )
    joined = valid.join(medians, on=["instrument_id", "page"], how="left")
    per = joined.group_by(_ORDER).agg(
        pl.col("page_seconds").sum().alias("own"), pl.col("median").sum().alias("typical")
    )
    return per.select(
        _ORDER,
        pl.when(pl.col("typical") > 0).then(pl.col("own") / pl.col("typical"))
        .otherwise(None).alias(SPEED_RATIO),
    )


# -- straight-lining ------------------------------------------------------------------------------
def grids(instruments: list[Instrument], min_items: int) -> list[list[str]]:
    """Runs of >= min_items select_one questions on one page with one choice list."""
    found: list[list[str]] = []
    for instrument in instruments:
        for page in instrument.pages:
            groups: dict[Any, list[str]] = {}
            for q in page.questions:
                if q.type == "select_one" and q.choices:
                    signature = q.choice_list or tuple(c.value for c in q.choices)
                    groups.setdefault(signature, []).append(q.name)
            for names in groups.values():
                if len(names) >= min_items and names not in found:
                    found.append(names)
    return found


def straightline_expr(grid_list: list[list[str]], columns: list[str], min_items: int) -> pl.Expr:
    codes = sorted(MISSING_STRINGS)
    per_grid = []
    for grid in grid_list:
        names = [n for n in grid if n in columns]
        if len(names) < min_items:
            continue
        substantive = [
            pl.when(pl.col(n).is_in(codes)).then(None).otherwise(pl.col(n).cast(pl.Utf8))
            for n in names
        ]
        answered = pl.sum_horizontal(s.is_not_null().cast(pl.Int64) for s in substantive)
        first = pl.coalesce(substantive)
        same = pl.all_horizontal((s.is_null() | (s == first)) for s in substantive)
        per_grid.append(
            pl.when(answered >= min_items).then(same.cast(pl.Int64)).otherwise(None)
        )
    if not per_grid:
        return pl.lit(None, dtype=pl.Int64).alias(STRAIGHTLINE)
    return pl.max_horizontal(per_grid).alias(STRAIGHTLINE)


# -- near-duplicates ------------------------------------------------------------------------------
def _encode(
    data: pl.DataFrame, columns: list[str]
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.bool_]]:
    """Each column as small integer codes (equal value = equal code) and a not-shown mask."""
    schema = data.schema  # built once: data.schema constructs a new mapping on every access
    codes = data.select(
        (
            pl.col(name).cast(pl.Categorical).to_physical().cast(pl.UInt32) + 1
            if schema[name] == pl.Utf8
            else pl.col(name).rank("dense").cast(pl.UInt32)
        ).fill_null(0)  # 0 = empty; equal values get equal codes, starting at 1
        for name in columns
    ).to_numpy()
    not_shown = data.select(
        (pl.col(name) == (str(NOT_SHOWN) if schema[name] == pl.Utf8 else NOT_SHOWN))
        .fill_null(False)
        for name in columns
    ).to_numpy()
    return codes.astype(np.uint32, copy=False), not_shown.astype(np.bool_, copy=False)


def _similarity(
    codes: npt.NDArray[np.uint32], not_shown: npt.NDArray[np.bool_],
    left: npt.NDArray[np.int64], right: npt.NDArray[np.int64], chunk: int = 20000,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    sims = np.empty(len(left), dtype=np.float64)
    compared = np.empty(len(left), dtype=np.int64)
    for start in range(0, len(left), chunk):
        i, j = left[start : start + chunk], right[start : start + chunk]
        informative = ~(not_shown[i] & not_shown[j])
        same = (codes[i] == codes[j]) & informative
        n = informative.sum(axis=1)
        compared[start : start + chunk] = n
        with np.errstate(invalid="ignore", divide="ignore"):
            sims[start : start + chunk] = np.where(n > 0, same.sum(axis=1) / np.maximum(n, 1), 0.0)
    return sims, compared


def _band_pairs(
    codes: npt.NDArray[np.uint32], columns: npt.NDArray[np.int64], window: int
) -> npt.NDArray[np.int64]:
    h = np.zeros(codes.shape[0], dtype=np.uint64)
    prime = np.uint64(1099511628211)
    for c in columns:
        h = (h * prime) ^ (codes[:, c].astype(np.uint64) + np.uint64(1))
    order = np.argsort(h, kind="stable")
    hs = h[order]
    found = []
    for w in range(1, min(window, len(hs) - 1) + 1):
        eq = np.flatnonzero(hs[:-w] == hs[w:])
        if eq.size:
            a, b = order[eq], order[eq + w]
            found.append(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    return np.concatenate(found).astype(np.int64)


def near_duplicates(
    data: pl.DataFrame, columns: list[str], settings: QualitySettings, info: QualityInfo
) -> pl.DataFrame:
    """qc_duplicate, qc_duplicate_of (respondent number), qc_duplicate_similarity per row."""
    n = data.height
    none = pl.DataFrame({DUPLICATE: [None] * n, DUPLICATE_OF: [None] * n,
                         DUPLICATE_SIMILARITY: [None] * n},
                        schema={DUPLICATE: pl.Int64, DUPLICATE_OF: pl.Int64,
                                DUPLICATE_SIMILARITY: pl.Float64})
    if n == 0 or not columns:
        return none
    codes, not_shown = _encode(data, columns)
    assessed = (~not_shown).sum(axis=1) >= settings.duplicate_min_items
    # Identical patterns first: one representative each enters the pairwise search.
    row_hash = pl.DataFrame(codes).hash_rows(seed=1).to_numpy()
    _, first_index, inverse = np.unique(row_hash, return_index=True, return_inverse=True)
    reps = np.sort(first_index)
    rep_of = first_index[inverse]
    best_sim = np.full(n, -1.0)
    best_partner = np.full(n, -1, dtype=np.int64)
    # Members of an identical group match another member with similarity 1.
    by_group = np.argsort(inverse, kind="stable")
    sizes = np.bincount(inverse)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    first = by_group[starts]
    second = by_group[np.minimum(starts + 1, n - 1)]
    in_group = sizes[inverse] > 1
    group_partner = np.where(np.arange(n) == first[inverse], second[inverse], first[inverse])
    best_sim[in_group] = 1.0
    best_partner[in_group] = group_partner[in_group]
    pairs = _candidate_pairs(codes, reps, settings, info)
    if len(pairs):
        sims, compared = _similarity(codes, not_shown, pairs[:, 0], pairs[:, 1])
        keep = compared >= settings.duplicate_min_items
        pairs, sims = pairs[keep], sims[keep]
        both = np.concatenate([pairs, pairs[:, ::-1]])
        both_sims = np.concatenate([sims, sims])
        frame = pl.DataFrame({"i": both[:, 0], "j": both[:, 1], "s": both_sims})
        best = frame.sort(["i", "s", "j"], descending=[False, True, False]).group_by(
            "i", maintain_order=True).first()
        rep_sim = np.full(n, -1.0)
        rep_partner = np.full(n, -1, dtype=np.int64)
        rep_sim[best["i"].to_numpy()] = best["s"].to_numpy()
        rep_partner[best["i"].to_numpy()] = best["j"].to_numpy()
        # A representative's best partner is also the best for its identical copies.
        candidate_sim, candidate_partner = rep_sim[rep_of], rep_partner[rep_of]
        better = candidate_sim > best_sim
        best_sim[better] = candidate_sim[better]
        best_partner[better] = candidate_partner[better]
    flagged = (best_sim >= settings.duplicate_threshold) & assessed
    respondent = data["respondent"].to_numpy()
    partner_number = respondent[np.maximum(best_partner, 0)]
    return pl.DataFrame(
        {"flag": flagged.astype(np.int64), "assessed": assessed, "of": partner_number,
         "sim": best_sim}
    ).select(
        pl.when(pl.col("assessed")).then(pl.col("flag")).otherwise(None).alias(DUPLICATE),
        pl.when(pl.col("flag") == 1).then(pl.col("of").cast(pl.Int64)).otherwise(None)
        .alias(DUPLICATE_OF),
        pl.when(pl.col("flag") == 1).then(pl.col("sim")).otherwise(None)
        .alias(DUPLICATE_SIMILARITY),
    )


def _candidate_pairs(
    codes: npt.NDArray[np.uint32], reps: npt.NDArray[np.int64], settings: QualitySettings,
    info: QualityInfo,
) -> npt.NDArray[np.int64]:
    m = len(reps)
    if m < 2:
        return np.empty((0, 2), dtype=np.int64)
    if m <= EXACT_LIMIT:
        a, b = np.triu_indices(m, k=1)
        info.duplicate_method = "exact"
        return np.stack([reps[a], reps[b]], axis=1).astype(np.int64)
    sub = codes[reps]
    p = sub.shape[1]
    agreement = np.empty(p)
    for j in range(p):
        freq = np.bincount(sub[:, j]) / m
        agreement[j] = float((freq**2).sum())
    target = 0.5 / m
    s = settings.duplicate_threshold
    rng = np.random.default_rng(settings.seed)
    miss, bands, found = 1.0, 0, []
    while miss > 0.01 and bands < 150:
        order = rng.permutation(p)
        logs = np.cumsum(np.log(np.maximum(agreement[order], 1e-12)))
        k = int(np.searchsorted(-logs, -math.log(target))) + 1
        k = min(max(k, 1), p)
        band = order[:k]
        found.append(_band_pairs(sub, band.astype(np.int64), window=30))
        miss *= 1.0 - s**k
        bands += 1
    info.duplicate_method = "lsh"
    info.duplicate_bands = bands
    info.duplicate_recall_at_threshold = round(1.0 - miss, 4)
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    local = np.concatenate(found)
    if not len(local):
        return local
    keys = np.unique(local[:, 0] * m + local[:, 1])
    return np.stack([reps[keys // m], reps[keys % m]], axis=1).astype(np.int64)


# -- all flags ----------------------------------------------------------------------------------
def pattern_columns(data: pl.DataFrame, meta: tuple[str, ...]) -> list[str]:
    return [c for c in data.columns if c not in meta and c not in QUALITY_COLUMNS
            and not c.startswith("_")]


def add_quality_flags(
    data: pl.DataFrame, timings: pl.DataFrame, instruments: dict[tuple[str, int], Instrument],
    settings: QualitySettings, meta: tuple[str, ...],
) -> tuple[pl.DataFrame, QualityInfo]:
    """The dataset with every flag column added at its end, and what the codebook says of them."""
    ordered = [instruments[k] for k in sorted(instruments, key=lambda k: (k[0], -k[1]))]
    info = QualityInfo(settings)
    info.grids = grids(ordered, settings.grid_min_items)
    seen: set[str] = set()
    for instrument in ordered:
        for q in attention_checks(instrument):
            if q.name not in seen:
                seen.add(q.name)
                info.attention_checks.append({"name": q.name, "constraint": str(q.constraint)})
    ratios = speed_ratios(timings)
    data = data.join(ratios, on=_ORDER, how="left", maintain_order="left")
    data = data.with_columns(
        pl.when(pl.col(SPEED_RATIO).is_null()).then(None)
        .otherwise((pl.col(SPEED_RATIO) < settings.speeder_threshold).cast(pl.Int64))
        .alias(SPEEDER),
        straightline_expr(info.grids, data.columns, settings.grid_min_items),
    )
    if ATTENTION not in data.columns:
        data = data.with_columns(pl.lit(None, dtype=pl.Int64).alias(ATTENTION))
    duplicates = near_duplicates(data, pattern_columns(data, meta), settings, info)
    data = pl.concat([data, duplicates], how="horizontal")
    rest = [c for c in data.columns if c not in QUALITY_COLUMNS]
    data = data.select(*rest, *QUALITY_COLUMNS)
    info.flagged = {
        name: int(data[name].fill_null(0).sum())
        for name in (SPEEDER, STRAIGHTLINE, ATTENTION, DUPLICATE)
    }
    return data, info


