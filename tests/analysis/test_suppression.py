"""Small-cell suppression rules, and the package's public names."""

from __future__ import annotations

import numpy as np

import offramp.analysis
from offramp.analysis.suppression import suppression_mask


def test_primary_suppression_keeps_zeros_and_large_cells() -> None:
    n = np.array([0, 3, 9, 10, 50])
    assert suppression_mask(n, [], 10).tolist() == [False, True, True, False, False]


def test_secondary_suppression_protects_a_lone_blank() -> None:
    # 2x3 table, row-major: only cell 0 is small; its row and column need a second blank
    n = np.array([4, 30, 20, 25, 40, 12])
    groups = [[0, 1, 2], [3, 4, 5], [0, 3], [1, 4], [2, 5]]
    mask = suppression_mask(n, groups, 10)
    for g in groups:
        assert mask[g].sum() != 1, g
    assert mask[0]


def test_public_names_are_sorted_and_exist() -> None:
    names = offramp.analysis.__all__
    assert names == sorted(names, key=lambda s: (not s.isupper(), not s[0].isupper(), s))
    for name in names:
        assert hasattr(offramp.analysis, name)
    for required in ("frequencies", "crosstab", "logit", "ologit"):
        assert required in names
