"""Synthetic respondents: the export's shape, the instrument's rules, known truth, and the real
HTTP path. Statistics are checked against the analysis stage's own estimators (themselves checked
against statsmodels in tests/analysis)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from offramp.analysis import logit
from offramp.cli import cli
from offramp.data.dataset import META_COLUMNS, columns_for
from offramp.data.quality import QUALITY_COLUMNS
from offramp.errors import InputError
from offramp.survey.instrument import Choice, Instrument, Page, Question
from offramp.survey.load import load_instrument
from offramp.synth.generator import SPEEDER, STRAIGHTLINER, Generator
from offramp.synth.opentext import SENTENCES
from offramp.synth.respondents import synthesise
from offramp.synth.scenario import Effect, Scenario, check_scenario, load_scenario
from tests.conftest import KeyPair, free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "reference" / "instrument.yaml"
SCENARIO = ROOT / "examples" / "reference" / "scenario.yaml"
DEMO = ROOT / "src" / "offramp" / "demo_assets" / "survey.yaml"


@pytest.fixture(scope="module")
def reference() -> Instrument:
    return load_instrument(REFERENCE)


@pytest.fixture(scope="module")
def synthetic(reference: Instrument, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("synth") / "reference.parquet"
    return synthesise(reference, load_scenario(SCENARIO), 1500, 11, out)


def test_cli_writes_dataset_codebook_and_truth_in_the_export_shape(tmp_path: Path) -> None:
    out = tmp_path / "demo.csv"
    result = CliRunner().invoke(cli, ["synth", "respondents", "--n", "40", "--seed", "3",
                                      "--instrument", str(DEMO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo.codebook.json").exists()
    assert (tmp_path / "demo.codebook.html").exists()
    truth = json.loads((tmp_path / "demo.truth.json").read_text())
    assert truth["n"] == 40 and truth["seed"] == 3 and truth["effects"] == []
    data = pl.read_csv(out, infer_schema_length=0)
    instrument = load_instrument(DEMO)
    expected = [*META_COLUMNS, *(c.name for c in columns_for(instrument)), *QUALITY_COLUMNS]
    assert data.columns == expected
    assert data.height == 40
    codebook = json.loads((tmp_path / "demo.codebook.json").read_text())
    assert [v["name"] for v in codebook["variables"]] == expected


def test_same_seed_same_data_other_seed_other_data(reference: Instrument, tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIO)
    a = synthesise(reference, scenario, 200, 5, tmp_path / "a.parquet").data
    b = synthesise(reference, scenario, 200, 5, tmp_path / "b.parquet").data
    c = synthesise(reference, scenario, 200, 6, tmp_path / "c.parquet").data
    assert a.equals(b)
    assert not a.equals(c)


def test_skip_logic_and_choice_filter_are_honoured(synthetic) -> None:  # type: ignore[no-untyped-def]
    data = synthetic.data
    modes = ("online", "phone", "in_person")
    detail = (pl.col("sought_help") == "yes") & pl.col("help_mode").is_in(modes)
    # help_source is "not shown" (-99) exactly when the page's condition is false
    assert data.filter(detail)["help_source"].ne("-99").all()
    assert data.filter(~detail.fill_null(False))["help_source"].eq("-99").all()
    assert data.filter(pl.col("sought_help") != "no")["help_barriers__shame"].eq(-99).all()
    assert data.filter(pl.col("saw_warning") != "yes")["warning_effect"].eq("-99").all()
    # the choice filter: the source offered matches the way of contact chosen before
    mode_of = {"self_help": "online", "chat": "online", "helpline": "phone",
               "phone_therapy": "phone", "therapist": "in_person", "doctor": "in_person",
               "community": "in_person"}
    pairs = data.filter(pl.col("help_source").is_in(list(mode_of))).select(
        "help_mode", "help_source").rows()
    assert pairs and all(mode_of[source] == mode for mode, source in pairs)


def test_constraints_hold_and_missing_kinds_stay_distinct(synthetic) -> None:  # type: ignore[no-untyped-def]
    data = synthetic.data
    hours = data["hours_online"]
    answered = hours.filter(~hours.is_in([-97, -98, -99]) & hours.is_not_null())
    assert answered.len() > 1000 and answered.min() >= 0 and answered.max() <= 168
    assert (hours == -97).sum() > 0  # "prefer not to say" in the number's own box
    values = data["first_accidental"].value_counts().to_dict(as_series=False)
    kinds = dict(zip(values["first_accidental"], values["count"], strict=True))
    assert {"yes", "no", "-97", "-98"} <= set(kinds)  # refused and don't know, both present
    assert None in kinds  # shown but left unanswered
    shown = data.filter(pl.col("gender") != "-99").height
    refused = data.filter(pl.col("gender") == "-97").height / shown
    assert 0.01 < refused < 0.07  # the scenario's mean rate is 3%


def test_every_careless_respondent_is_flagged_by_the_export(synthetic) -> None:  # type: ignore[no-untyped-def]
    data = synthetic.data.sort("respondent")
    kinds = [r.careless for r in synthetic.responses]
    speeder = data["qc_speeder"].to_list()
    straight = data["qc_straightline"].to_list()
    assert kinds.count(SPEEDER) > 20 and kinds.count(STRAIGHTLINER) > 20
    for kind, fast, same in zip(kinds, speeder, straight, strict=True):
        if kind == SPEEDER:
            assert fast == 1
        elif kind == STRAIGHTLINER:
            assert same == 1
    # and most attentive respondents are not flagged
    attentive = [f for k, f in zip(kinds, speeder, strict=True) if k is None]
    assert sum(attentive) / len(attentive) < 0.03


def test_open_text_comes_from_templates_in_the_respondents_language(synthetic) -> None:  # type: ignore[no-untyped-def]
    rows = synthetic.data.filter(~pl.col("what_helps").is_in(["-97", "-99"])
                                 & pl.col("what_helps").is_not_null())
    assert rows.height > 200
    for language, text in rows.select("language", "what_helps").rows():
        pool = SENTENCES[language]
        assert any(text.startswith(s) for s in pool), (language, text)


def test_truth_file_states_the_planted_models(synthetic) -> None:  # type: ignore[no-untyped-def]
    truth = synthetic.truth
    wish = next(e for e in truth["effects"] if e["outcome"] == "wish_stop")
    assert wish["reference"] == {"adverse_childhood": "no"}
    assert wish["terms"]["adverse_childhood[yes]"] == pytest.approx(math.log(2.0))
    assert wish["terms"]["const"] == pytest.approx(0.0)  # baseline 0.5
    help_ = next(e for e in truth["effects"] if e["outcome"] == "sought_help")
    assert help_["reference"] == {"language": "en"}
    assert help_["terms"]["language[ru]"] == pytest.approx(math.log(0.5))
    assert help_["terms"]["language[de]"] == 0.0
    assert truth["marginals"]["first_accidental"]["valid_percent"]["yes"] == pytest.approx(
        100 * 0.45 / 0.85)


# -- the planted effect is what a logit recovers: interval coverage over many seeds ----------------
YESNO = (Choice("yes", {"en": "Yes"}), Choice("no", {"en": "No"}),
         Choice("pnts", {"en": "Prefer not to say"}, missing="refused"))
TINY = Instrument(
    id="tiny", title={"en": "Tiny"}, languages=("en", "de"), default_language="en",
    pages=(Page("p1", questions=(
        Question("exposed", "select_one", {"en": "Exposed?"}, choices=YESNO, choice_list="yn"),
        Question("outcome", "select_one", {"en": "Outcome?"}, choices=YESNO, choice_list="yn2"),
    )),),
)


@pytest.mark.slow
def test_planted_log_odds_ratio_is_covered_at_the_nominal_rate() -> None:
    """Over 200 seeds the 95% interval of the fitted log odds ratio covers the planted one in
    about 95% of samples (binomial 99.9% range for 200 draws: 180..197); a generator that
    planted the wrong size, or mixed careless answers into attentive ones, falls outside."""
    scenario = Scenario(
        languages={"en": 0.6, "de": 0.4}, speeders=0.0, straightliners=0.0,
        marginals={"exposed": {"yes": 0.4, "no": 0.6}},
        effects=[Effect("outcome", "yes", 0.3, {"exposed": {"yes": 2.5}, "language": {"de": 0.7}})],
    )
    covered = {"exposed[yes]": 0, "language[de]": 0}
    for seed in range(200):
        generator = Generator(TINY, scenario, seed)
        rows = [generator.respondent() for _ in range(400)]
        data = pl.DataFrame({
            "exposed": [r.answers.get("exposed") for r in rows],
            "outcome": [r.answers.get("outcome") for r in rows],
            "language": [r.language for r in rows],
        }).with_columns(pl.col("exposed").replace({"pnts": "-97"}),
                        pl.col("outcome").replace({"pnts": "-97"}))
        truth = generator.truth()["effects"][0]
        model = logit(data, "outcome", ["exposed", "language"], event="yes",
                      reference=truth["reference"])
        for term in covered:
            row = model.table.filter(pl.col("term") == term).row(0, named=True)
            covered[term] += row["ci_low"] <= truth["terms"][term] <= row["ci_high"]
    for term, hits in covered.items():
        assert 180 <= hits <= 197, (term, hits)


# -- scenario mistakes name the file, the line and the fix ---------------------------------------
@pytest.mark.parametrize(("text", "message"), [
    ("effects:\n  - outcome: wish_stp\n    event: 'yes'\n    baseline: 0.5\n"
     "    odds_ratios: {adverse_childhood: {'yes': 2}}\n",
     ":2: the outcome 'wish_stp' is not a question of instrument 'offramp_reference'; did you "
     "mean 'wish_stop'?"),
    ("effects:\n  - outcome: adverse_childhood\n    event: 'yes'\n    baseline: 0.5\n"
     "    odds_ratios:\n      wish_stop: {'yes': 2}\n",
     ":6: the predictor 'wish_stop' is asked after the outcome 'adverse_childhood'"),
    ("marginals:\n  gender: {man: 0.9, wman: 0.1}\n",
     ":2: 'gender' has no choice 'wman'; did you mean 'woman'"),
    ("languages: {en: 0.5, rus: 0.5}\n", ":1: the instrument has no language 'rus'"),
    ("effects:\n  - outcome: wish_stop\n    event: 'yes'\n    baseline: 1.5\n"
     "    odds_ratios: {adverse_childhood: {'yes': 2}}\n",
     ":4: baseline is a probability strictly between 0 and 1"),
    ("careles: {speeders: 0.1}\n", ":1: unknown scenario key 'careles'; did you mean 'careless'?"),
])
def test_scenario_mistakes_are_placed(reference: Instrument, tmp_path: Path, text: str,
                                      message: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        check_scenario(load_scenario(path), reference)
    assert f"{path}{message}" in str(caught.value)


@pytest.mark.slow
def test_cli_reports_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("marginals:\n  gendre: {man: 1}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "offramp", "synth", "respondents", "--n", "5", "--instrument",
         str(REFERENCE), "--scenario", str(path), "--out", str(tmp_path / "x.parquet")],
        capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"offramp: error: {path}:2: marginals for 'gendre' is not a question of instrument "
        "'offramp_reference'; did you mean 'gender'?"]


# -- --via: the real survey pages, then the real export -------------------------------------------
@pytest.mark.slow
def test_via_pushes_respondents_through_the_server_and_the_export_gives_them_back(
    tmp_path: Path, keypair: KeyPair, reference: Instrument
) -> None:
    (tmp_path / "reference.yaml").write_bytes(REFERENCE.read_bytes())
    (tmp_path / "terms.txt").write_text("zorblax\n", encoding="utf-8")
    port = free_port()
    config = tmp_path / "offramp.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path}/offramp.sqlite"\nterms = "terms.txt"\n'
        f'instruments = ["reference.yaml"]\npublic_keys = ["{keypair.public}"]\n'
        f"demo = true\nport = {port}\n", encoding="utf-8")
    server = start_server(config, port, tmp_path / "server.log")
    try:
        result = CliRunner().invoke(cli, [
            "synth", "respondents", "--n", "12", "--seed", "2", "--instrument", str(REFERENCE),
            "--scenario", str(SCENARIO), "--out", str(tmp_path / "local" / "ref.parquet"),
            "--via", server.base_url])
    finally:
        stop_server(server)
    assert result.exit_code == 0, result.output
    assert "pushed 12 of 12 respondents" in result.output
    env = {**os.environ, "OFFRAMP_PASSPHRASE": keypair.passphrase}
    exported = subprocess.run(
        [sys.executable, "-m", "offramp", "export", "--db", f"sqlite:///{tmp_path}/offramp.sqlite",
         "--key", str(keypair.private), "--format", "parquet", "--out", str(tmp_path / "export")],
        capture_output=True, text=True, env=env, check=False)
    assert exported.returncode == 0, exported.stderr
    remote = pl.read_parquet(tmp_path / "export" / "offramp_reference.parquet")
    local = pl.read_parquet(tmp_path / "local" / "ref.parquet")
    answers = [c.name for c in columns_for(reference)]
    assert remote.select("language", "arm", *answers).equals(
        local.select("language", "arm", *answers))
