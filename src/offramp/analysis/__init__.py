"""Survey statistics for offramp datasets: every function takes a Polars DataFrame and returns a
result whose ``.table`` is a Polars DataFrame and whose ``.to_dict()`` is the JSON the report reads.

Missing-value codes (offramp.data.codes) are honoured everywhere: "not shown" is outside every
base, "prefer not to say" and "don't know" are reported, never averaged in. Published tables
suppress cells of fewer than 10 respondents unless ``min_cell=None``.
"""

from offramp.analysis._result import RESULTS_SCHEMA, Result
from offramp.analysis.agreement import Kappa, cohen_kappa, kappa_from_table, krippendorff_alpha
from offramp.analysis.coding import (
    AgreementResult,
    CodingProject,
    assign_units,
    coded_dataset,
    coding_agreement,
    load_coding,
)
from offramp.analysis.crosstab import CrosstabResult, adjust_pvalues, crosstab
from offramp.analysis.frequencies import (
    FrequencyResult,
    MultipleResponseResult,
    frequencies,
    multiple_response,
)
from offramp.analysis.plan import Plan, check_plan, load_plan
from offramp.analysis.regression import OrdinalResult, RegressionResult, logit, ologit
from offramp.analysis.reliability import ReliabilityResult, reliability, scale_score
from offramp.analysis.runner import load_dataset, run_plan
from offramp.analysis.suppression import DEFAULT_MIN_CELL
from offramp.analysis.themes import ThemesResult, suggest_themes
from offramp.analysis.weighting import poststratify, rake

__all__ = [
    "DEFAULT_MIN_CELL",
    "RESULTS_SCHEMA",
    "AgreementResult",
    "CodingProject",
    "CrosstabResult",
    "FrequencyResult",
    "Kappa",
    "MultipleResponseResult",
    "OrdinalResult",
    "Plan",
    "RegressionResult",
    "ReliabilityResult",
    "Result",
    "ThemesResult",
    "adjust_pvalues",
    "assign_units",
    "check_plan",
    "coded_dataset",
    "coding_agreement",
    "cohen_kappa",
    "crosstab",
    "frequencies",
    "kappa_from_table",
    "krippendorff_alpha",
    "load_coding",
    "load_dataset",
    "load_plan",
    "logit",
    "multiple_response",
    "ologit",
    "poststratify",
    "rake",
    "reliability",
    "run_plan",
    "scale_score",
    "suggest_themes",
]
