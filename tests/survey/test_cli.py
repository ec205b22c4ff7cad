"""`offramp survey check|publish|preview`."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from click.testing import CliRunner
from starlette.testclient import TestClient

from offramp.cli import cli
from offramp.store import Repository, make_engine
from offramp.survey.preview import preview_app
from tests.survey.conftest import FormWriter
from tests.survey.long_form import FORM, PAGES
from tests.survey.respondent import Respondent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def bad_form(xlsform: FormWriter) -> Path:
    survey = [["type", "name", "label", "relevant"],
              ["begin_group", "p", "Page"],
              ["select_one missing_list", "a", "A"],
              ["text", "b", "B", "${zz} > 1"],
              ["end_group"]]
    return xlsform(survey, [["list_name", "name", "label"], ["yn", "y", "Yes"]])


def test_check_a_good_form() -> None:
    code, out, _ = run("survey", "check", str(FORM))
    assert code == 0
    assert out.strip() == ("help_seeking: 10 pages, 41 questions, languages en, ar; "
                           "0 errors, 0 warnings")


def test_check_reports_every_problem_with_its_cell(xlsform: FormWriter) -> None:
    path = bad_form(xlsform)
    code, out, err = run("survey", "check", str(path))
    assert code == 1
    assert f"{path} [survey], row 3, column A (type): error: the choice list 'missing_list'" in out
    assert f"{path} [survey], row 4, column D (relevant): error: refers to ${{zz}}" in out
    assert "2 errors" in err
    code, out, _ = run("survey", "check", "--json", str(path))
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["row"], r["letter"]) for r in rows if r["severity"] == "error"] == [(3, "A"),
                                                                                  (4, "D")]
    assert [r["message"] for r in rows if r["severity"] == "warning"] == [
        "there is no consent text: respondents start at the first question"]


def test_strict_fails_on_warnings(yamlform: FormWriter) -> None:
    path = yamlform("id: x\npages:\n  - id: p\n    questions:\n"
                    "      - {name: q, type: text, label: A}\n")
    assert run("survey", "check", str(path))[0] == 0
    assert run("survey", "check", "--strict", str(path))[0] == 1


def test_check_an_unreadable_file(tmp_path: Path) -> None:
    code, out, _ = run("survey", "check", str(tmp_path / "nothing.yaml"))
    assert code == 1 and "no such instrument file" in out
    other = tmp_path / "form.txt"
    other.write_text("hello")
    code, out, _ = run("survey", "check", str(other))
    assert code == 1 and "unknown instrument format" in out


def test_publish_makes_immutable_versions(tmp_path: Path, xlsform: FormWriter) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    form = tmp_path / "help_seeking.yaml"
    shutil.copyfile(FORM, form)
    assert run("survey", "publish", str(form), "--db", db)[1].strip() == \
        "published help_seeking version 1"
    assert run("survey", "publish", str(form), "--db", db)[1].strip() == \
        "unchanged: help_seeking is already published as version 1"
    form.write_text(form.read_text().replace("Last questions", "Final questions"))
    assert run("survey", "publish", str(form), "--db", db)[1].strip() == \
        "published help_seeking version 2"
    versions = Repository(make_engine(db)).instrument_versions()
    assert [(iid, v) for iid, v, _ in versions] == [("help_seeking", 1), ("help_seeking", 2)]
    assert "Last questions" in versions[0][2] and "Final questions" in versions[1][2]
    code, _, err = run("survey", "publish", str(bad_form(xlsform)), "--db", db)
    assert code == 1 and "not published" in err
    assert len(Repository(make_engine(db)).instrument_versions()) == 2


def test_preview_shows_a_banner_and_stores_nothing(tmp_path: Path) -> None:
    form = tmp_path / "help_seeking.yaml"
    shutil.copyfile(FORM, form)
    app = preview_app(form)
    with TestClient(app) as client:
        respondent = Respondent(client, "help_seeking")
        respondent.start()
        assert "Preview of this survey: nothing you enter is stored." in respondent.html
        respondent.consent()
        for _page, answers in PAGES:
            assert "Preview of this survey" in respondent.html
            respondent.post(answers)
        assert "This was a preview, so nothing was stored." in respondent.html
        assert "<dt>age_years</dt><dd>34</dd>" in respondent.html
        repository = app.state.services.repository
        assert repository.count_responses() == 0

        # The author edits the form; the next page view shows the change.
        time.sleep(0.01)
        form.write_text(form.read_text().replace("Before you start", "x").replace(
            "Research survey on online safety and help", "Edited title"))
        stamp = form.stat().st_mtime + 5
        import os

        os.utime(form, (stamp, stamp))
        assert "Edited title" in client.get("/s/help_seeking").text
