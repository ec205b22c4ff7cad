"""The long multilingual form in Chromium: JavaScript off, English and Arabic, then exported.

A respondent meets skip logic (a page shown only after "yes"), a choice filter (areas of the
region they chose), a constraint they break and then fix, and uses Back; the export then holds
exactly what they typed. A second pass with JavaScript on runs axe-core over every kind of page
(the pages ship no script; axe is injected by the driver).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.conftest import (
    WCAG_TAGS,
    KeyPair,
    LiveServer,
    axe_source,
    click_and_wait,
    free_port,
    run_axe,
    start_server,
    stop_server,
)
from tests.survey.long_form import EXPECTED_CSV, FORM, PAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
AXE_TAGS = [*WCAG_TAGS, "best-practice"]
WORDS = {
    "en": {"accept": "I agree to take part", "next": "Next", "back": "Back", "thanks": "Thank you",
           "age_error": "This survey is for adults aged 18 to 99."},
    "ar": {"accept": "أوافق على المشاركة", "next": "التالي", "back": "السابق",
           "thanks": "شكرًا لك", "age_error": "هذا الاستبيان للبالغين من 18 إلى 99 عامًا."},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, keypair: KeyPair) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("survey-browser")
    (folder / FORM.name).write_bytes(FORM.read_bytes())
    port = free_port()
    config = folder / "offramp.toml"
    config.write_text(
        f'database_url = "sqlite:///{folder / "survey.sqlite"}"\n'
        f'instruments = ["{FORM.name}"]\n'
        f'public_keys = ["{keypair.public}"]\n'
        f"port = {port}\n",
        encoding="utf-8",
    )
    live = start_server(config, port, folder / "server.log")
    yield live
    stop_server(live)


def _press(browser, text: str) -> None:  # type: ignore[no-untyped-def]
    click_and_wait(browser, browser.find_element(By.XPATH, f"//button[normalize-space()='{text}']"))


def _fill(browser, answers: dict[str, str | list[str]]) -> None:  # type: ignore[no-untyped-def]
    for name, value in answers.items():
        for item in [value] if isinstance(value, str) else value:
            inputs = browser.find_elements(By.CSS_SELECTOR, f"[name='{name}']")
            kinds = {i.get_attribute("type") or i.tag_name for i in inputs}
            if kinds & {"radio", "checkbox"}:
                box = browser.find_element(By.CSS_SELECTOR,
                                           f"input[name='{name}'][value='{item}']")
                if not box.is_selected():
                    box.click()
            elif inputs and inputs[0].tag_name == "select":
                Select(inputs[0]).select_by_value(item)
            else:
                field = browser.find_element(By.ID, name)
                field.clear()
                field.send_keys(item)


def _page_id(browser) -> str:  # type: ignore[no-untyped-def]
    return str(browser.find_element(By.CSS_SELECTOR, "input[name='page']").get_attribute("value"))


def _walk(browser, base: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    words = WORDS[lang]
    browser.get(f"{base}/s/help_seeking?lang={lang}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == (
        "rtl" if lang == "ar" else "ltr")
    assert not browser.find_elements(By.TAG_NAME, "script")
    _press(browser, words["accept"])
    for page, answers in PAGES:
        assert _page_id(browser) == page
        assert not browser.find_elements(By.TAG_NAME, "script")
        assert len(browser.page_source.encode()) < 50 * 1024
        if page == "about":
            # A constraint broken, then fixed; the other answers survive the error.
            _fill(browser, {**answers, "age_years": "12"})
            _press(browser, words["next"])
            error = browser.find_element(By.ID, "age_years-error")
            assert error.text == words["age_error"]
            assert browser.find_element(By.ID, "age_years").get_attribute(
                "aria-describedby") == "age_years-error age_years-hint"
            assert browser.find_element(
                By.CSS_SELECTOR, "input[name='region'][value='south']").is_selected()
        if page == "place":
            # The choice filter: only the areas of the region chosen on the page before.
            areas = [e.get_attribute("value") for e in
                     browser.find_elements(By.CSS_SELECTOR, "input[name='area']")]
            assert areas == ["s_city", "s_coast"]
        if page == "attitudes":
            # Back to the page of earlier messages: its answers are still there.
            _press(browser, words["back"])
            assert _page_id(browser) == "message_before"
            assert browser.find_element(By.ID, "times_seen").get_attribute("value") == "3"
            _press(browser, words["next"])
            assert _page_id(browser) == "attitudes"
        _fill(browser, answers)
        _press(browser, words["next"])
    assert words["thanks"] in browser.find_element(By.TAG_NAME, "h1").text


def test_long_form_in_english_and_arabic_then_export(
    server: LiveServer, browser_no_js, keypair: KeyPair, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    for lang in ("en", "ar"):
        _walk(browser_no_js, server.base_url, lang)

    config = server.config.read_text()
    db_url = config.split('database_url = "')[1].split('"')[0]
    out = tmp_path / "export"
    result = subprocess.run(
        [sys.executable, "-m", "offramp", "export", "--db", db_url, "--key", str(keypair.private),
         "--format", "csv", "--out", str(out)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "OFFRAMP_PASSPHRASE": keypair.passphrase},
    )
    assert result.returncode == 0, result.stderr
    data = pl.read_csv(out / "help_seeking.csv", infer_schema_length=0)
    assert sorted(data["language"].to_list()) == ["ar", "en"]
    for row in data.iter_rows(named=True):
        for column, expected in EXPECTED_CSV.items():
            assert _same(row[column] or "", expected), (row["language"], column, row[column])
        # A ranking: each choice's position, blank where the respondent gave none.
        assert (row["barriers__shame"], row["barriers__privacy"]) == ("1", "2")
        assert row["barriers__cost"] is None
    assert "Shorter waiting times." not in server.printed()


def _same(cell: str, expected: str) -> bool:
    """Equal as text, or as numbers (a decimal column writes -98 as -98.0)."""
    if cell == expected:
        return True
    try:
        return float(cell) == float(expected)
    except ValueError:
        return False


def _axe(browser, source: str) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    return [(v["id"], v["help"], len(v["nodes"])) for v in run_axe(browser, source, AXE_TAGS)]


def test_axe_finds_nothing_on_any_kind_of_page(server: LiveServer, browser_js) -> None:  # type: ignore[no-untyped-def]
    source = axe_source()
    browser = browser_js
    browser.set_script_timeout(30)
    problems: dict[str, object] = {}
    for lang in ("en", "ar"):
        words = WORDS[lang]
        browser.get(f"{server.base_url}/s/help_seeking?lang={lang}")
        problems[f"{lang}:consent"] = _axe(browser, source)
        _press(browser, words["accept"])
        _fill(browser, {**PAGES[0][1], "age_years": "12"})
        _press(browser, words["next"])
        problems[f"{lang}:error"] = _axe(browser, source)
        for page, answers in PAGES:
            problems[f"{lang}:{page}"] = _axe(browser, source)
            _fill(browser, answers)
            _press(browser, words["next"])
        problems[f"{lang}:thanks"] = _axe(browser, source)
        browser.get(f"{server.base_url}/s/help_seeking/resume?lang={lang}")
        problems[f"{lang}:resume"] = _axe(browser, source)
    assert {k: v for k, v in problems.items() if v} == {}
