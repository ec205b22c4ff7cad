"""Synthetic data from the reference instrument, made once per session for the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from offramp.survey.load import load_instrument
from offramp.synth.respondents import synthesise
from offramp.synth.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
INSTRUMENT = ROOT / "examples" / "reference" / "instrument.yaml"
SCENARIO = ROOT / "examples" / "reference" / "scenario.yaml"
PLAN = ROOT / "examples" / "2know-style-plan.yaml"


@pytest.fixture(scope="session")
def reference_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 synthetic respondents to the reference instrument (parquet, codebook, truth)."""
    out = tmp_path_factory.mktemp("reference") / "reference.parquet"
    synthesise(load_instrument(INSTRUMENT), load_scenario(SCENARIO), 1500, 3, out)
    return out
