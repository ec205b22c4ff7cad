"""Arms, counters and the experiment report: assignment, batching, restarts, CLI, operator page."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from scipy.stats import chisquare
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from offramp.errors import ConfigError
from offramp.intercept.admin import new_token, token_hash
from offramp.intercept.cli import experiment
from offramp.intercept.counters import CounterBuffer
from offramp.intercept.experiment import build_arms, build_report
from offramp.intercept.messages import load_catalogue
from offramp.store import Repository, make_engine, upgrade
from offramp.store.repository import CounterRow
from tests.conftest import KeyPair, free_port, start_server, stop_server, write_config
from tests.intercept.conftest import MakeClient


def test_assignment_follows_weights_per_language() -> None:
    arms = build_arms({"*": {"control": 1, "supportive": 3}, "ar": {"control": 1}},
                      load_catalogue())
    rng = random.Random(12345)
    draws = Counter(arms.assign("en", rng) for _ in range(20_000))
    assert chisquare([draws["control"], draws["supportive"]], [5_000, 15_000]).pvalue > 0.001
    assert {arms.assign("ar", rng) for _ in range(200)} == {"control"}
    assert arms.weights("ru") == {"control": 1.0, "supportive": 3.0}
    # No arms configured: control only, so nothing is experimented on by accident.
    assert build_arms({}, load_catalogue()).arms("en") == ("control",)


@pytest.mark.parametrize(
    ("config", "message"),
    [({"*": {"shouty": 1}}, "no such message variant"), ({"xx": {"control": 1}}, "xx"),
     ({"*": {"control": -1}}, ">= 0"), ({"*": {"control": 0}}, "above 0")],
)
def test_bad_arm_settings_fail_at_start(config: dict[str, dict[str, float]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_arms(config, load_catalogue())


def test_arms_from_settings_file_and_environment(tmp_path: Path) -> None:
    from offramp.config import load_settings

    path = tmp_path / "o.toml"
    path.write_text('[arms."*"]\ncontrol = 1\nsupportive = 2\n[arms.ar]\ncontrol = 1\n')
    assert load_settings(path, environ={}).arms == {
        "*": {"control": 1.0, "supportive": 2.0}, "ar": {"control": 1.0}}
    env = {"OFFRAMP_ARMS": '{"*": {"supportive": 1}}'}
    assert load_settings(path, environ=env).arms == {"*": {"supportive": 1.0}}
    with pytest.raises(ConfigError, match="arms"):
        load_settings(None, environ={"OFFRAMP_ARMS": "control=1"})


def test_pages_are_assigned_and_counted_without_identifiers(make_client: MakeClient) -> None:
    client = make_client(arms={"*": {"control": 1, "supportive": 1}})
    seen = Counter()
    for _ in range(60):
        response = client.get("/intercept?lang=en")
        assert "set-cookie" not in response.headers
        seen["supportive" if "You can stop" in response.text else "control"] += 1
    assert seen["control"] > 5 and seen["supportive"] > 5
    client.get("/go/help?arm=supportive&lang=en")
    client.get("/go/survey?arm=control&lang=ar")
    svc = client.app.state.services  # type: ignore[attr-defined]
    pending = dict(svc.counters._counts)
    today = dt.date.today()
    assert pending[(today, "en", "control", "impression", "-")] == seen["control"]
    assert pending[(today, "en", "supportive", "impression", "-")] == seen["supportive"]
    assert pending[(today, "en", "supportive", "click", "help")] == 1
    assert pending[(today, "ar", "control", "click", "survey")] == 1


def test_counters_flush_in_one_batch_and_survive_a_failed_flush(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    upgrade(engine)
    repository = Repository(engine)
    buffer = CounterBuffer()
    for i in range(1000):
        buffer.add(language="en", arm="control", event="impression")
        if i % 10 == 0:
            buffer.add(language="en", arm="control", event="click", link="help")
    assert repository.read_counts() == []  # nothing is written per page view
    assert buffer.pending() == 1100

    class Broken(Repository):
        def add_counts(self, rows):  # type: ignore[no-untyped-def]
            raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        buffer.flush(Broken(engine))
    assert buffer.pending() == 1100  # counts went back: none lost
    assert buffer.flush(repository) == 1100
    counts = {(r.event, r.link): r.count for r in repository.read_counts()}
    assert counts == {("impression", "-"): 1000, ("click", "help"): 100}


def _read_counts(db_url: str) -> list[CounterRow]:
    engine = make_engine(db_url)
    try:
        return Repository(engine).read_counts()
    finally:
        engine.dispose()  # PostgreSQL connections are closed, not left to the collector


def _totals(db_url: str) -> Counter[tuple[str, str, str]]:
    totals: Counter[tuple[str, str, str]] = Counter()
    for row in _read_counts(db_url):
        totals[(row.arm, row.event, row.link)] += row.count
    return totals


@pytest.mark.slow
def test_counts_are_lossless_across_a_graceful_restart(
    tmp_path: Path, db_url: str, keypair: KeyPair
) -> None:
    port = free_port()
    config = write_config(tmp_path, db_url, keypair, port=port,
                          extra='[arms."*"]\ncontrol = 1\nsupportive = 1\n')
    output = tmp_path / "server.log"
    expected: Counter[tuple[str, str, str]] = Counter()
    previous: Counter[tuple[str, str, str]] = Counter()
    for round_number in range(2):
        server = start_server(config, port, output)
        try:
            with httpx.Client(base_url=server.base_url) as http:
                for i in range(150):
                    page = http.get("/intercept").text
                    arm = "supportive" if "You can stop" in page else "control"
                    expected[(arm, "impression", "-")] += 1
                    if i % 4 == round_number:
                        assert http.get(f"/go/help?arm={arm}&lang=en").status_code == 303
                        expected[(arm, "click", "help")] += 1
        finally:
            stop_server(server)  # SIGTERM: a graceful stop flushes what is pending
        totals = _totals(db_url)
        assert all(totals[k] >= previous[k] for k in previous)  # never backwards
        previous = totals
    assert _totals(db_url) == expected


def _seed(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    day = dt.date(2025, 3, 1)
    rows = [
        CounterRow(day, "en", "control", "impression", "-", 1000),
        CounterRow(day, "en", "control", "click", "help", 90),
        CounterRow(day, "en", "supportive", "impression", "-", 1000),
        CounterRow(day, "en", "supportive", "click", "help", 160),
        CounterRow(day, "en", "third", "impression", "-", 900),
        CounterRow(day, "en", "third", "click", "help", 95),
        CounterRow(day, "ar", "control", "impression", "-", 50),
        CounterRow(day, "ar", "control", "click", "help", 4),
        CounterRow(day + dt.timedelta(days=1), "en", "control", "click", "survey", 7),
    ]
    Repository(engine).add_counts(rows)
    engine.dispose()


def test_report_numbers_match_statsmodels(db_url: str) -> None:
    _seed(db_url)
    report = build_report(_read_counts(db_url), language="en")
    by_arm = {a.arm: a for a in report.arms}
    assert [a.arm for a in report.arms] == ["control", "supportive", "third"]
    assert (by_arm["supportive"].impressions, by_arm["supportive"].clicks) == (1000, 160)
    low, high = proportion_confint(160, 1000, method="wilson")
    assert (by_arm["supportive"].ci_low, by_arm["supportive"].ci_high) == pytest.approx((low, high))
    z1, p1 = proportions_ztest([160, 90], [1000, 1000])
    z2, p2 = proportions_ztest([95, 90], [900, 1000])
    assert by_arm["supportive"].z == pytest.approx(z1) and by_arm["third"].z == pytest.approx(z2)
    assert by_arm["third"].p_value == pytest.approx(p2)
    holm = multipletests([p1, p2], method="holm")[1]
    assert by_arm["supportive"].p_holm == pytest.approx(holm[0])
    assert by_arm["third"].p_holm == pytest.approx(holm[1])
    assert by_arm["supportive"].prob_beats_control > 0.99
    assert report.sample_size_per_arm is not None and report.sample_size_per_arm > 1000


def test_report_cli_text_and_json(db_url: str) -> None:
    _seed(db_url)
    runner = CliRunner()
    result = runner.invoke(experiment, ["report", "--db", db_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)
    assert [r["language"] for r in reports] == ["all", "ar", "en"]
    assert reports[0]["arms"][0]["impressions"] == 1050
    assert reports[0]["arms"][0]["z"] is None  # control against itself: no test
    text = runner.invoke(experiment, ["report", "--db", db_url, "--lang", "en", "--lift", "0.5"])
    assert text.exit_code == 0, text.output
    assert "supportive" in text.output and "16.00%" in text.output
    assert "sample size:" in text.output and "+50% lift" in text.output
    survey = runner.invoke(experiment, ["report", "--db", db_url, "--link", "survey",
                                        "--since", "2025-03-02", "--format", "json"])
    # impressions were all counted on the first day: a later window has none.
    assert json.loads(survey.output)[0]["arms"] == []


def test_operator_page_needs_the_token_and_the_admin_host(
    make_client: MakeClient, settings: object
) -> None:
    token = new_token()
    client = make_client(admin_token_hash=token_hash(token), admin_host="ops.example.test")
    # Not on the respondent-facing host at all.
    assert client.get("/admin/experiment").status_code == 404
    ops = "http://ops.example.test"
    refused = client.get(f"{ops}/admin/experiment")
    assert refused.status_code == 401 and "basic" in refused.headers["www-authenticate"].lower()
    assert client.get(f"{ops}/admin/experiment",
                      headers={"authorization": "Bearer wrong"}).status_code == 401
    basic = base64.b64encode(f"operator:{token}".encode()).decode()
    page = client.get(f"{ops}/admin/experiment", headers={"authorization": f"Basic {basic}"})
    assert page.status_code == 200 and "Wilson" in page.text and "<script" not in page.text
    data = client.get(f"{ops}/admin/experiment.json?lang=en",
                      headers={"authorization": f"Bearer {token}"})
    assert data.status_code == 200 and data.json()["language"] == "en"
    # The respondent routes do not answer on the operators' host.
    assert client.get(f"{ops}/intercept").status_code == 404


def test_operator_page_off_by_default(client: object) -> None:
    assert client.get("/admin/experiment").status_code == 404  # type: ignore[attr-defined]


def test_token_command_prints_a_matching_hash() -> None:
    result = CliRunner().invoke(experiment, ["token"])
    token = result.output.split("store nowhere else): ")[1].split()[0]
    assert f'admin_token_hash = "{token_hash(token)}"' in result.output


def test_token_hash_setting_is_validated() -> None:
    from offramp.config import load_settings

    with pytest.raises(ConfigError, match="offramp experiment token"):
        load_settings(None, environ={"OFFRAMP_ADMIN_TOKEN_HASH": "hunter2"})


def test_experiment_serve_binds_loopback_and_needs_token(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    db = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    _seed(db)
    token = new_token()
    port = free_port()
    config = tmp_path / "ops.toml"
    config.write_text(f'database_url = "{db}"\nadmin_token_hash = "{token_hash(token)}"\n'
                      f'admin_listen = "127.0.0.1:{port}"\n')
    log = tmp_path / "ops.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "offramp", "experiment", "serve", "--config", str(config)],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/admin/experiment"
        for _ in range(100):
            try:
                first = httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert first.status_code == 401
        ok = httpx.get(url + "?lang=en", auth=("anyone", token), timeout=5)
        assert ok.status_code == 200 and "supportive" in ok.text
        assert ok.headers["referrer-policy"] == "no-referrer"
    finally:
        process.terminate()
        process.wait(timeout=10)
