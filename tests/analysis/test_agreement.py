"""Kappa and Krippendorff's alpha against published worked examples; the coding workflow files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from offramp.analysis import (
    assign_units,
    coded_dataset,
    coding_agreement,
    cohen_kappa,
    kappa_from_table,
    krippendorff_alpha,
    load_coding,
)
from offramp.errors import InputError

N = None
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, missing values; published alphas 0.743 (nominal), 0.815 (ordinal), 0.849 (interval),
# 0.797 (ratio).
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_published_example(level: str, published: float) -> None:
    assert krippendorff_alpha(KRIPPENDORFF_2011, level) == pytest.approx(published, abs=5e-4)


def test_krippendorff_binary_two_coders() -> None:
    # Krippendorff (2011) section A: 2 coders, 10 units, binary; published alpha = 0.095
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert krippendorff_alpha([a, b]) == pytest.approx(0.095, abs=5e-4)


@pytest.mark.parametrize(
    ("table", "published"),
    [([[20, 5], [10, 15]], 0.40), ([[45, 15], [25, 15]], 0.1304), ([[25, 35], [5, 35]], 0.2593)],
)
def test_cohen_kappa_worked_examples(table: list[list[int]], published: float) -> None:
    k = kappa_from_table(np.array(table, dtype=float))
    assert k.kappa == pytest.approx(published, abs=5e-5)
    ref = cohens_kappa(np.array(table))
    assert k.std_error == pytest.approx(ref.std_kappa)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_weighted_kappa_matches_statsmodels(weights: str) -> None:
    t = np.array([[10, 3, 1], [2, 12, 4], [1, 2, 9]], dtype=float)
    k = kappa_from_table(t, weights=weights)
    ref = cohens_kappa(t, wt=weights)
    assert k.kappa == pytest.approx(ref.kappa)
    assert k.std_error == pytest.approx(ref.std_kappa)


def test_cohen_kappa_from_codes() -> None:
    a = ["x"] * 20 + ["x"] * 5 + ["y"] * 10 + ["y"] * 15 + [None]
    b = ["x"] * 20 + ["y"] * 5 + ["x"] * 10 + ["y"] * 15 + ["x"]
    k = cohen_kappa(a, b)
    assert k.kappa == pytest.approx(0.4) and k.n == 50


def _project(tmp_path: Path, codings: str, exclusive: bool = False) -> Path:
    (tmp_path / "codings.csv").write_text(codings, encoding="utf-8")
    plan = tmp_path / "coding.yaml"
    plan.write_text(
        "question: why_stopped\n"
        f"exclusive: {'true' if exclusive else 'false'}\n"
        "coders: [ana, ben]\n"
        "codes:\n"
        "  - {code: cost, label: Cost of help}\n"
        "  - {code: stigma, label: Fear of stigma}\n"
        "codings: codings.csv\n",
        encoding="utf-8",
    )
    return plan


def test_coding_workflow_agreement(tmp_path: Path) -> None:
    rows = ["unit,coder,code"]
    # 10 units double coded: cost agreed on 1-4, disagreed on 5; stigma agreed on 6-8
    for u in range(1, 11):
        ana = "cost" if u <= 5 else "stigma" if u <= 8 else ""
        ben = "cost" if u <= 4 else "stigma" if u <= 8 else ""
        rows += [f"{u},ana,{ana}", f"{u},ben,{ben}"]
    rows += ["11,ana,cost", "12,ben,stigma"]
    project = load_coding(_project(tmp_path, "\n".join(rows) + "\n", exclusive=True))
    res = coding_agreement(project)
    assert res.n_double_coded == 10
    cost = res.table.row(0, named=True)
    a = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    b = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert cost["cohen_kappa"] == pytest.approx(cohen_kappa(a, b).kappa)
    assert cost["krippendorff_alpha"] == pytest.approx(krippendorff_alpha([a, b]))
    assert cost["percent_agreement"] == pytest.approx(90.0)
    assert res.overall_alpha is not None and 0 < res.overall_alpha < 1
    coded = coded_dataset(project)
    assert coded.columns == ["unit", "why_stopped_code__cost", "why_stopped_code__stigma"]
    assert coded.filter(coded["unit"] == "5")["why_stopped_code__cost"][0] == 1
    majority = coded_dataset(project, rule="majority")
    assert majority.filter(majority["unit"] == "5")["why_stopped_code__cost"][0] == 0


def test_coding_file_errors_name_file_and_line(tmp_path: Path) -> None:
    plan = _project(tmp_path, "unit,coder,code\n1,ana,cost\n1,ben,costs\n")
    with pytest.raises(InputError, match=r"codings.csv:3: code 'costs' is not in the codebook"):
        load_coding(plan)
    plan = _project(tmp_path, "unit,coder,code\n1,cleo,cost\n")
    with pytest.raises(InputError, match=r"codings.csv:2: coder 'cleo'"):
        load_coding(plan)
    plan = _project(tmp_path, "unit,coder,code\n1,ana,cost\n2,ben,cost\n")
    with pytest.raises(InputError, match="no response was coded by two"):
        coding_agreement(load_coding(plan))
    bad = tmp_path / "bad.yaml"
    bad.write_text("question: q\ncoders: [a]\ncodes: [x]\ncodings: c.csv\ncoders_extra: 1\n")
    with pytest.raises(InputError, match=r"bad.yaml:5: unknown key 'coders_extra'"):
        load_coding(bad)


def test_assign_units_overlap() -> None:
    units = [str(i) for i in range(100)]
    a = assign_units(units, ["ana", "ben", "cleo"], overlap=0.2, seed=1)
    per_unit = a.group_by("unit").len()
    assert (per_unit["len"] == 3).sum() == 20
    assert (per_unit["len"] == 1).sum() == 80
    assert set(a["unit"]) == set(units)
    assert a.equals(assign_units(units, ["ana", "ben", "cleo"], overlap=0.2, seed=1))
