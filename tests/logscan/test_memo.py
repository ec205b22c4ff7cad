"""The verdict memo: exact lookups by two hashes, collisions on one hash, capacity, merging."""

from __future__ import annotations

import numpy as np
import polars as pl

from offramp.logscan.memo import VerdictMemo


def _u64(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.uint64)


def test_found_after_added_and_absent_before() -> None:
    memo = VerdictMemo(capacity=100)
    a, b = _u64([5, 1, 9]), _u64([50, 10, 90])
    assert memo.find(a, b).tolist() == [-1, -1, -1]
    codes = memo.codes_for(pl.Series(["", '{"x":1}', '{"x":1}']))
    assert codes.tolist() == [0, 1, 1]
    memo.add(a, b, codes)
    assert memo.vkeys == ["", '{"x":1}']
    assert memo.find(_u64([9, 5, 7]), _u64([90, 50, 70])).tolist() == [1, 0, -1]


def test_same_first_hash_different_second_is_not_confused() -> None:
    memo = VerdictMemo(capacity=100)
    memo.add(_u64([7, 7, 8]), _u64([1, 2, 3]), memo.codes_for(pl.Series(["", "k", ""])))
    assert memo.find(_u64([7, 7, 7]), _u64([2, 1, 3])).tolist() == [1, 0, -1]


def test_capacity_bounds_what_is_remembered() -> None:
    memo = VerdictMemo(capacity=3)
    codes = memo.codes_for(pl.Series(["", "", "k", "k", ""]))
    memo.add(_u64([1, 2, 3, 4, 5]), _u64([1, 2, 3, 4, 5]), codes)
    assert memo.size == 3  # only the first three are kept
    assert memo.find(_u64([3, 4]), _u64([3, 4])).tolist() == [1, -1]


def test_many_small_additions_merge_into_few_segments() -> None:
    rng = np.random.default_rng(1)
    memo = VerdictMemo(capacity=1_000_000)
    all_a, all_b = [], []
    for _ in range(200):
        a = rng.integers(0, 2**63, size=500, dtype=np.int64).astype(np.uint64)
        b = rng.integers(0, 2**63, size=500, dtype=np.int64).astype(np.uint64)
        memo.add(a, b, memo.codes_for(pl.Series(["k" if x % 3 == 0 else "" for x in range(500)])))
        all_a.append(a)
        all_b.append(b)
    assert len(memo._segments) <= 12  # log-structured
    a, b = np.concatenate(all_a), np.concatenate(all_b)
    expected = np.tile([1 if x % 3 == 0 else 0 for x in range(500)], 200)
    assert (memo.find(a, b) == expected).all()
