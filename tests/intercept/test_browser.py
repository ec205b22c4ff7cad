"""The interstitial in Chromium: axe-core (WCAG 2.2 AA), 400% zoom reflow, focus order, RTL.

axe-core comes from the npm registry (`make test` runs `npm install axe-core` into
.venv/npm); it is injected by the test driver, so the page itself still ships no script.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.conftest import (
    WCAG_TAGS,
    KeyPair,
    LiveServer,
    axe_source,
    free_port,
    run_axe,
    start_server,
    stop_server,
)
from tests.conftest import write_config as write_base_config

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("en", "ar", "ru", "de", "es", "fr")
AXE_TAGS = [*WCAG_TAGS, "best-practice"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, keypair: KeyPair) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("browser")
    port = free_port()
    config = write_base_config(folder, f"sqlite:///{folder / 'b.sqlite'}", keypair, port=port,
                               extra='[arms."*"]\ncontrol = 1\nsupportive = 1\n')
    live = start_server(config, port, folder / "server.log")
    yield live
    stop_server(live)


def _run_axe(browser, source: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    return run_axe(browser, source, AXE_TAGS)


@pytest.mark.parametrize("arm", ["control", "supportive"])
def test_axe_finds_no_violation(server: LiveServer, browser_js, arm: str) -> None:  # type: ignore[no-untyped-def]
    source = axe_source()
    browser = browser_js
    browser.set_script_timeout(30)
    problems = {}
    for lang in LANGUAGES:
        browser.get(f"{server.base_url}/intercept?lang={lang}&arm={arm}")
        violations = _run_axe(browser, source)
        if violations:
            problems[lang] = [(v["id"], v["help"], len(v["nodes"])) for v in violations]  # type: ignore[arg-type]
    assert problems == {}


def _emulate(browser, width: int, scale: float) -> None:  # type: ignore[no-untyped-def]
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": scale, "mobile": False})


def test_400_percent_zoom_reflows_without_horizontal_scrolling(
    server: LiveServer, browser_no_js
) -> None:  # type: ignore[no-untyped-def]
    browser = browser_no_js
    # 400% zoom of a 1280 px wide window = a 320 CSS px viewport (WCAG 1.4.10 Reflow).
    _emulate(browser, 320, 4)
    try:
        for lang in LANGUAGES:
            browser.get(f"{server.base_url}/intercept?lang={lang}")
            overflow = browser.execute_script(
                "const d = document.documentElement;"
                "return [d.scrollWidth, d.clientWidth,"
                " [...document.querySelectorAll('a, h1, h2, p')].filter(e => {"
                "   const r = e.getBoundingClientRect();"
                "   return r.width > 0 && (r.left < -1 || r.right > d.clientWidth + 1); }).length];"
            )
            # JavaScript is off in this browser for the page, but CDP scripts still run.
            scroll_width, client_width, outside = overflow
            assert scroll_width <= client_width and outside == 0, (lang, overflow)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_focus_order_follows_reading_order_and_rtl_is_mirrored(
    server: LiveServer, browser_js
) -> None:  # type: ignore[no-untyped-def]
    browser = browser_js
    for lang in ("en", "ar"):
        browser.get(f"{server.base_url}/intercept?lang={lang}&arm=control")
        links = browser.find_elements(By.TAG_NAME, "a")
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        order = []
        for _ in links:
            order.append(browser.switch_to.active_element.get_attribute("href"))
            browser.switch_to.active_element.send_keys(Keys.TAB)
        assert order == [a.get_attribute("href") for a in links]
        assert "/go/leave" in order[0] and "/go/help" in order[1] and "/go/survey" in order[2]
        width = browser.execute_script("return document.documentElement.clientWidth")
        leave = browser.find_element(By.CSS_SELECTOR, "header a").rect
        centre = leave["x"] + leave["width"] / 2
        # The "leave" link sits at the end of the line: right in English, left in Arabic.
        assert (centre > width / 2) if lang == "en" else (centre < width / 2)
        h1 = browser.find_element(By.TAG_NAME, "h1")
        assert browser.execute_script("return getComputedStyle(arguments[0]).direction", h1) == (
            "rtl" if lang == "ar" else "ltr")


def test_the_checkers_do_catch_problems(server: LiveServer, browser_js) -> None:  # type: ignore[no-untyped-def]
    """The harness itself: a page with known faults must fail both checks."""
    browser = browser_js
    broken = ("<html><body><img src='x.png'><a href='/x'></a>"
              "<main><h1>t</h1><p style='color:#eeeeee;background-color:#ffffff'>"
              "low contrast text here</p></main>"
              "<div style='width:2000px'>wide</div></body></html>")
    browser.get("data:text/html;charset=utf-8," + quote(broken))
    ids = {v["id"] for v in _run_axe(browser, axe_source())}
    assert {"image-alt", "link-name", "color-contrast", "html-has-lang"} <= ids
    _emulate(browser, 320, 4)
    try:
        widths = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] > widths[1]
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
