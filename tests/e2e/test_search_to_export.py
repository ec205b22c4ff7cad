"""The whole flow in a real browser with JavaScript off, on SQLite and PostgreSQL.

Search a demo term -> interstitial -> survey link -> consent -> answer every page (taking the skip)
-> "thank you" -> export with the private key -> the exact answers, including a unique marker typed
into the free-text field. The marker must then appear nowhere the server could leak it: the
database files or a dump, and everything the server printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import polars as pl
import pytest
from selenium.webdriver.common.by import By

from tests.conftest import LiveServer, click_and_wait

pytestmark = [pytest.mark.browser]


def _click(browser, text: str) -> None:
    """Click a link or button and wait until the browser has loaded the next page."""
    click_and_wait(
        browser,
        browser.find_element(By.XPATH, f"//*[self::a or self::button][normalize-space()='{text}']"),
    )


def test_search_intercept_survey_export(
    live_server: LiveServer, browser_no_js, keypair, tmp_path: Path, db_url: str
) -> None:
    browser = browser_no_js
    marker = f"marker-{uuid.uuid4().hex}"

    browser.get(f"{live_server.base_url}/demo/search")
    box = browser.find_element(By.ID, "q")
    box.send_keys("where to find zorblax")
    click_and_wait(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Search']"))
    assert "This search may be for illegal material" in browser.page_source
    assert not browser.find_elements(By.TAG_NAME, "script")

    _click(browser, "Take the anonymous survey")
    assert "/s/demo" in browser.current_url
    assert "?" not in browser.current_url.split("/s/demo")[1].split("lang")[0].rstrip("?&")
    _click(browser, "I agree to take part")

    # Page 1: answering "prefer not to say" makes page 2 irrelevant (the skip rule).
    browser.find_element(By.XPATH, "//input[@name='sought_help'][@value='pnts']").click()
    _click(browser, "Next")
    assert "In your own words" in browser.page_source, browser.find_element(
        By.TAG_NAME, "main"
    ).text  # page 2 skipped
    _click(browser, "Back")
    browser.find_element(By.XPATH, "//input[@name='sought_help'][@value='no']").click()
    _click(browser, "Next")
    assert "What would help" in browser.page_source
    for value in ("warning", "anonymous_help"):
        browser.find_element(By.XPATH, f"//input[@name='would_help'][@value='{value}']").click()
    _click(browser, "Next")
    browser.find_element(By.ID, "comments").send_keys(f"a clinical comment {marker}")
    _click(browser, "Next")
    assert "Thank you" in browser.page_source

    out = tmp_path / "export"
    env = {**os.environ, "OFFRAMP_PASSPHRASE": keypair.passphrase}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "offramp",
            "export",
            "--db",
            db_url,
            "--key",
            str(keypair.private),
            "--format",
            "csv",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = pl.read_csv(out / "demo.csv", infer_schema_length=0)
    assert data.height == 1
    row = data.row(0, named=True)
    assert row["sought_help"] == "no"
    assert row["would_help__warning"] == "1"
    assert row["would_help__anonymous_help"] == "1"
    assert row["would_help__talk_professional"] == "0"
    assert row["comments"] == f"a clinical comment {marker}"
    assert row["language"] == "en"

    # The server never had the answers in clear: not in the database, not in its output.
    assert marker not in live_server.printed()
    assert "zorblax" not in live_server.printed()
    if db_url.startswith("sqlite"):
        folder = Path(db_url.removeprefix("sqlite:///")).parent
        for path in folder.glob("offramp.sqlite*"):
            assert marker.encode() not in path.read_bytes(), path
    else:
        dump = subprocess.run(
            [
                "pg_dump",
                "--data-only",
                db_url.split("?")[0],
                "--schema",
                db_url.split("search_path%3D")[1],
            ],
            capture_output=True,
            check=True,
        ).stdout
        assert b"INSERT" in dump or b"COPY" in dump
        assert marker.encode() not in dump

    # And the report shows one frequency table per question.
    report = tmp_path / "report.html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "offramp",
            "report",
            "--data",
            str(out / "demo.csv"),
            "--out",
            str(report),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    html = report.read_text()
    assert "Have you ever tried to get help" in html
    assert "<script" not in html

    # The demo's own plan runs on the same export (one respondent: cells suppressed, no crash).
    planned = tmp_path / "planned.html"
    result = subprocess.run(
        [sys.executable, "-m", "offramp", "report", "--plan",
         str(Path(__file__).resolve().parents[2] / "src/offramp/demo_assets/plan.yaml"),
         "--data", str(out / "demo.csv"), "--out", str(planned)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Demo survey report" in planned.read_text()
    assert marker not in planned.read_text()
