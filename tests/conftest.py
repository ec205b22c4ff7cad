"""Shared fixtures: throwaway databases on SQLite and PostgreSQL, keys, a live server, a browser.

With OFFRAMP_TEST_REQUIRE_ALL=1 (set by .ci/run), a PostgreSQL or browser test that cannot run
fails instead of skipping, so a green CI proves both really ran.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

REQUIRE_ALL = os.environ.get("OFFRAMP_TEST_REQUIRE_ALL") == "1"
PASSPHRASE = "correct horse battery staple"


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where every test must really run."""
    if REQUIRE_ALL:
        pytest.fail(f"required test could not run: {reason}")
    pytest.skip(reason)


AXE = Path(os.environ.get(
    "OFFRAMP_AXE_JS",
    Path(__file__).resolve().parents[1] / ".venv/npm/node_modules/axe-core/axe.min.js",
))
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_source() -> str:
    """axe-core's script, which the browser tests inject (installed by `make test`)."""
    if not AXE.exists():
        unavailable(f"axe-core is not installed at {AXE} (run `make test`, or "
                    "`npm install --prefix .venv/npm axe-core`)")
    return AXE.read_text(encoding="utf-8")


def run_axe(browser: Any, source: str, tags: list[str]) -> list[dict[str, Any]]:
    """axe-core's violations of `tags` on the browser's current page."""
    browser.execute_script(source)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(JSON.stringify(r.violations))).catch(e => done(JSON.stringify("
        "[{id: 'axe-error', help: String(e), nodes: []}])));",
        tags,
    )
    return list(json.loads(result))


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get("OFFRAMP_TEST_POSTGRES_URL")
    if not url:
        unavailable("OFFRAMP_TEST_POSTGRES_URL is not set")
    assert url is not None
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5):
            pass
    except Exception as exc:
        unavailable(f"PostgreSQL at {url} is not reachable: {exc}")
    return url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped after the test."""
    import psycopg

    schema = f"offramp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in postgres_admin_url else "?"
    yield f"{postgres_admin_url}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes db_url runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'offramp.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@dataclass(frozen=True)
class KeyPair:
    public: Path
    private: Path
    passphrase: str


@pytest.fixture(scope="session")
def keypair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    from offramp.vault.keys import generate

    paths = generate(tmp_path_factory.mktemp("keys"), PASSPHRASE, profile="interactive")
    return KeyPair(paths.public, paths.private, PASSPHRASE)


DEMO_ASSETS = Path(__file__).resolve().parent.parent / "src" / "offramp" / "demo_assets"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    folder: Path,
    db_url: str,
    keypair: KeyPair,
    *,
    port: int = 0,
    demo: bool = True,
    extra: str = "",
) -> Path:
    for name in ("terms.txt", "survey.yaml"):
        shutil.copyfile(DEMO_ASSETS / name, folder / name)
    config = folder / "offramp.toml"
    config.write_text(
        f'database_url = "{db_url}"\n'
        'terms = "terms.txt"\n'
        'instruments = ["survey.yaml"]\n'
        f'public_keys = ["{keypair.public}"]\n'
        f"demo = {'true' if demo else 'false'}\n"
        f"port = {port}\n" + extra,
        encoding="utf-8",
    )
    return config


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    output: Path
    config: Path

    def printed(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


def start_server(
    config: Path, port: int, output: Path, *, workers: int = 1, timeout: float = 30
) -> LiveServer:
    """`offramp serve` as a subprocess, returned once /healthz answers; raises with its output."""
    command = [sys.executable, "-m", "offramp", "serve", "--config", str(config), "--port",
               str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with output.open("ab") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{output.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return LiveServer(base, process, output, config)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start:\n{output.read_text()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def live_server(tmp_path: Path, db_url: str, keypair: KeyPair) -> Iterator[LiveServer]:
    port = free_port()
    config = write_config(tmp_path, db_url, keypair, port=port)
    server = start_server(config, port, tmp_path / "server-output.log")
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser_no_js() -> Iterator[object]:
    """Debian's Chromium, headless, with JavaScript disabled (as Tor Browser's Safest mode)."""
    yield from _browser(javascript=False)


@pytest.fixture(scope="session")
def browser_js() -> Iterator[object]:
    """Chromium with JavaScript on, only to inject checkers such as axe; pages ship no script."""
    yield from _browser(javascript=True)


def _browser(javascript: bool) -> Iterator[object]:
    chromium, driver = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    if not (chromium.exists() and driver.exists()):
        unavailable("Debian's chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    browser = webdriver.Chrome(service=Service(str(driver)), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def click_and_wait(browser: Any, element: Any) -> None:
    """Click something that navigates, and return once the next page has replaced this one.

    ChromeDriver sometimes answers a click, or a staleness probe, with "Node with given id does not
    belong to the document" when the navigation wins the race; that means the page has gone,
    which is what we wait for, so it is treated as such rather than as a failure.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old_page = browser.find_element(By.TAG_NAME, "html")

    def gone_race(exc: WebDriverException) -> bool:
        return "does not belong to the document" in str(exc)

    try:
        element.click()
    except WebDriverException as exc:
        if not gone_race(exc):
            raise

    def old_page_gone(_: Any) -> bool:
        try:
            old_page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if gone_race(exc):
                return True
            raise
        return False

    WebDriverWait(browser, 15).until(old_page_gone)
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: b.find_elements(By.TAG_NAME, "main")
    )
