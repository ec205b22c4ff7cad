"""Quality flags: each checked against a hand computation or a brute-force reference."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest

from offramp.data import quality
from offramp.data.dataset import build_dataset
from offramp.data.decrypt import OpenedResponse
from offramp.data.quality import QualityInfo, QualitySettings, near_duplicates
from offramp.store.repository import StoredResponse
from tests.data.conftest import make_instrument, shown_for


def opened(answers: dict[str, Any], page_seconds: dict[str, Any], rid: int) -> OpenedResponse:
    instrument = make_instrument()
    stored = StoredResponse(rid, "study", 1, "p3", "none", "en", dt.date(2024, 5, 1), 60, b"")
    return OpenedResponse(stored, answers, shown_for(instrument, answers), page_seconds)


def build(people: list[tuple[dict[str, Any], dict[str, Any]]], **settings: Any) -> pl.DataFrame:
    responses = [opened(a, s, i) for i, (a, s) in enumerate(people, start=1)]
    return build_dataset({("study", 1): make_instrument()}, responses,
                         settings=QualitySettings(**settings))


def test_speed_ratio_is_own_time_over_median_time() -> None:
    base = {"sought_help": "yes"}
    data = build([
        (base, {"p1": 10, "p2": 20, "p3": 30}),
        (base, {"p1": 12, "p2": 18, "p3": 30}),
        (base, {"p1": 2, "p2": 4, "p3": 6}),
        ({"sought_help": "pnts"}, {"p1": 4, "p3": 20}),  # skipped page 2: only pages seen count
        (base, {}),  # an old record without timings
    ])
    # medians: p1 = median(10, 12, 2, 4) = 7, p2 = median(20, 18, 4) = 18, p3 = 25
    expected = [60 / 50, 60 / 50, 12 / 50, 24 / 32, None]
    got = data["qc_speed_ratio"].to_list()
    assert got[:4] == pytest.approx(expected[:4]) and got[4] is None
    assert data["qc_speeder"].to_list() == [0, 0, 1, 0, None]


def test_straightlining_in_a_grid() -> None:
    grid = lambda *v: {"sought_help": "yes", **{f"g{i}": x for i, x in enumerate(v, 1)}}  # noqa: E731
    data = build([
        (grid("3", "3", "3", "3"), {}),
        (grid("3", "3", "4", "3"), {}),
        (grid("3", "3", "3", "dk"), {}),  # three same + don't know: still straight
        (grid("3", "3", "dk", "dk"), {}),  # only two substantive answers: not assessed
        ({"sought_help": "pnts"}, {}),  # grid not shown
    ])
    assert data["qc_straightline"].to_list() == [1, 0, 1, None, None]


def test_grids_need_a_shared_choice_list_on_one_page() -> None:
    assert quality.grids([make_instrument()], 3) == [["g1", "g2", "g3", "g4"]]
    assert quality.grids([make_instrument()], 5) == []


def test_attention_check_convention() -> None:
    yes = {"sought_help": "yes"}
    data = build([
        ({**yes, "attn": "2"}, {}),
        ({**yes, "attn": "4"}, {}),
        ({**yes}, {}),  # shown, unanswered: counts as failed
        ({**yes, "attn": "dk"}, {}),  # declined: counts as failed
    ])
    assert data["qc_attention_failed"].to_list() == [0, 1, 1, 1]
    checks = quality.attention_checks(make_instrument())
    assert [q.name for q in checks] == ["attn"]
    hidden = opened({**yes, "attn": "4"}, {}, 9)
    hidden = OpenedResponse(hidden.stored, hidden.answers, ["sought_help"], {})
    assert quality.attention_failed(checks, hidden) is None


def brute_force(codes: np.ndarray, not_shown: np.ndarray, min_items: int) -> tuple[np.ndarray,
                                                                                 np.ndarray]:
    n = len(codes)
    best = np.full(n, -1.0)
    for i in range(n):
        informative = ~(not_shown[i] & not_shown)
        same = ((codes == codes[i]) & informative).sum(axis=1)
        count = informative.sum(axis=1)
        sims = np.where(count >= min_items, same / np.maximum(count, 1), -1.0)
        sims[i] = -1.0
        best[i] = sims.max()
    return best, (~not_shown).sum(axis=1) >= min_items


def synthetic(n: int, p: int, planted: int, rng: np.random.Generator) -> pl.DataFrame:
    """n respondents x p 5-point items, some not shown; `planted` near-copies of earlier rows."""
    values = rng.integers(1, 6, size=(n, p))
    values[rng.random((n, p)) < 0.1] = -99
    for k in range(planted):
        source, target = k, n - 1 - k
        values[target] = values[source]
        flip = rng.choice(p, size=max(1, p // 50), replace=False)  # 98% identical
        values[target, flip] = (values[target, flip] % 5) + 1
    frame = pl.DataFrame({f"q{j}": values[:, j] for j in range(p)})
    return frame.with_columns(pl.int_range(1, n + 1).alias("respondent"))


@pytest.mark.parametrize("threshold", [0.95, 0.5])
def test_exact_search_matches_brute_force(threshold: float) -> None:
    rng = np.random.default_rng(3)
    data = synthetic(300, 40, 5, rng)
    columns = [f"q{j}" for j in range(40)]
    settings = QualitySettings(duplicate_threshold=threshold)
    info = QualityInfo(settings)
    flags = near_duplicates(data, columns, settings, info)
    codes = data.select(columns).to_numpy()
    best, assessed = brute_force(codes, codes == -99, settings.duplicate_min_items)
    assert info.duplicate_method == "exact"
    expected = np.where(assessed, (best >= threshold).astype(int), -1)
    assert flags["qc_duplicate"].fill_null(-1).to_list() == expected.tolist()
    sims = flags["qc_duplicate_similarity"].to_numpy()
    flagged = expected == 1
    assert np.allclose(sims[flagged], best[flagged])
    if threshold == 0.95:
        assert flags["qc_duplicate"].sum() == 10  # five planted pairs, both members flagged
        assert flags["qc_duplicate_of"][299] == 1


def test_identical_copies_point_at_each_other() -> None:
    rng = np.random.default_rng(4)
    data = synthetic(50, 20, 0, rng)
    number = pl.lit(51, dtype=data.schema["respondent"]).alias("respondent")
    copy = data.head(1).with_columns(number)
    data = pl.concat([data, copy])
    flags = near_duplicates(data, [f"q{j}" for j in range(20)], QualitySettings(),
                            QualityInfo(QualitySettings()))
    assert flags["qc_duplicate_of"][0] == 51 and flags["qc_duplicate_of"][50] == 1
    assert flags["qc_duplicate_similarity"][0] == 1.0


@pytest.mark.slow
def test_lsh_search_finds_planted_duplicates_without_false_positives() -> None:
    rng = np.random.default_rng(5)
    n, p = 4000, 60
    data = synthetic(n, p, 25, rng)
    columns = [f"q{j}" for j in range(p)]
    settings = QualitySettings()
    info = QualityInfo(settings)
    flags = near_duplicates(data, columns, settings, info)
    assert info.duplicate_method == "lsh" and info.duplicate_recall_at_threshold >= 0.99
    codes = data.select(columns).to_numpy()
    best, _ = brute_force(codes, codes == -99, settings.duplicate_min_items)
    truth = set(np.flatnonzero(best >= settings.duplicate_threshold).tolist())
    found = set(np.flatnonzero(flags["qc_duplicate"].fill_null(0).to_numpy() == 1).tolist())
    assert found <= truth  # every flag is real (candidates are verified exactly)
    assert len(truth) == 50 and found == truth  # and here every planted copy was found
