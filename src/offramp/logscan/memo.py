"""Which queries this process has screened already, and their verdicts, found by hash.

Search logs repeat their popular queries endlessly, and a query's verdict does not change within
a run, so each distinct query is screened once per process. The memo is keyed by two
independent 64-bit hashes of the query text (Polars' seeded hash with two fixed seeds: 128
bits, so two different queries share a key with probability about n^2 / 2^129, nil for any real
log) and held in sorted NumPy arrays: a batch's distinct keys are looked up with one vectorised
``searchsorted`` per segment, whatever the memo's size, and no query string ever becomes a
Python object. New keys go into a small sorted segment that is merged into the larger ones as
it grows (log-structured), so inserting never copies the whole memo each batch.

Verdicts are stored as small integer codes into the list of distinct verdict keys (code 0 is a
clear query), of which a run has only a handful.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

from offramp.logscan.partial import CLEAR

SEEDS = (0x5EED_0FF_1, 0x5EED_0FF_2)
U64 = npt.NDArray[np.uint64]
I32 = npt.NDArray[np.int32]


def hash_columns(query: pl.Expr) -> list[pl.Expr]:
    """The two key columns ``_a`` and ``_b`` of each query."""
    return [query.hash(SEEDS[0]).alias("_a"), query.hash(SEEDS[1]).alias("_b")]


@dataclass(slots=True)
class _Segment:
    a: U64  # sorted
    b: U64
    code: I32

    def find(self, a: U64, b: U64) -> I32:
        """The code of each (a, b), or -1 where absent; ``a`` must be sorted (it is much
        faster to binary-search sorted needles: each search starts where the last ended in
        the cache)."""
        n = self.a.size
        if n == 0 or a.size == 0:
            return np.full(a.shape, -1, dtype=np.int32)
        at = np.minimum(np.searchsorted(self.a, a), n - 1)
        same_a = self.a[at] == a
        match = same_a & (self.b[at] == b)
        out = np.where(match, self.code[at], -1).astype(np.int32)
        # the same ``a`` for two different queries (about never): walk the run of equal ``a``
        for i in np.flatnonzero(same_a & ~match):
            j = int(at[i]) + 1
            while j < n and self.a[j] == a[i]:
                if self.b[j] == b[i]:
                    out[i] = self.code[j]
                    break
                j += 1
        return out


def _merge(segments: list[_Segment]) -> _Segment:
    a = np.concatenate([s.a for s in segments])
    order = np.argsort(a)
    return _Segment(a[order], np.concatenate([s.b for s in segments])[order],
                    np.concatenate([s.code for s in segments])[order])


@dataclass
class VerdictMemo:
    """Verdict codes of screened queries; thread-safe; at most ``capacity`` queries."""

    capacity: int
    vkeys: list[str] = field(default_factory=lambda: [CLEAR])
    size: int = 0
    _codes: dict[str, int] = field(default_factory=lambda: {CLEAR: 0})
    _segments: list[_Segment] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def code_of(self, vkey: str) -> int:
        code = self._codes.get(vkey)
        if code is None:
            code = self._codes[vkey] = len(self.vkeys)
            self.vkeys.append(vkey)
        return code

    def find(self, a: U64, b: U64) -> I32:
        """Codes for the keys (a, b); -1 where the query has not been screened yet."""
        with self._lock:
            segments = list(self._segments)
        order = np.argsort(a)
        a_sorted, b_sorted = a[order], b[order]
        found = np.full(a.shape, -1, dtype=np.int32)
        for segment in segments:
            todo = np.flatnonzero(found < 0)
            if todo.size == 0:
                break
            found[todo] = segment.find(a_sorted[todo], b_sorted[todo])
        out = np.empty_like(found)
        out[order] = found
        return out

    def codes_for(self, vkeys: pl.Series) -> I32:
        """The code of each verdict key (new keys get new codes)."""
        with self._lock:
            names = vkeys.unique().to_list()
            codes = [self.code_of(k) for k in names]
        mapped = vkeys.replace_strict(names, codes, return_dtype=pl.Int32)
        return mapped.to_numpy().astype(np.int32, copy=False)

    def add(self, a: U64, b: U64, codes: I32) -> None:
        """Remember new keys with their codes (while there is room)."""
        with self._lock:
            room = self.capacity - self.size
            if room <= 0 or a.size == 0:
                return
            keep = slice(0, min(room, a.size))
            fresh = _merge([_Segment(a[keep].copy(), b[keep].copy(), codes[keep].copy())])
            self.size += fresh.a.size
            segments = [*self._segments, fresh]
            # log-structured: merge the newest segments while they are as big as the one before
            while len(segments) > 1 and segments[-1].a.size * 2 >= segments[-2].a.size:
                segments[-2:] = [_merge(segments[-2:])]
            self._segments = segments
