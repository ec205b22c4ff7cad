"""The integrations, each running the real thing: Starlette, Flask, Django, nginx."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from offramp.intercept.integrations import LocalScreen, Policy, RemoteScreen, decide, filter_results
from tests.conftest import (
    DEMO_ASSETS,
    KeyPair,
    LiveServer,
    free_port,
    start_server,
    stop_server,
    unavailable,
    write_config,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "integrations"
TERMS = DEMO_ASSETS / "terms.txt"


@pytest.fixture(scope="module")
def offramp_server(tmp_path_factory: pytest.TempPathFactory, keypair: KeyPair
                   ) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("offramp")
    port = free_port()
    config = write_config(folder, f"sqlite:///{folder / 'o.sqlite'}", keypair, port=port)
    server = start_server(config, port, folder / "server.log")
    yield server
    stop_server(server)


@dataclass
class Obj:
    title: str
    description: str
    url: str


def test_filter_results_and_decide() -> None:
    screen = LocalScreen(TERMS)
    items = [{"title": "Weather", "description": "rain", "url": "https://a.example/"},
             {"title": "ok", "description": "about quillion", "url": "https://b.example/"},
             {"title": "ok", "description": "fine", "url": "https://c.example/vexmora"}]
    assert filter_results(screen, items) == items[:1]
    objects = [Obj("zorblax", "", ""), Obj("fine", "also fine", "https://d.example/")]
    assert filter_results(screen, objects) == objects[1:]
    assert filter_results(screen, ["zorblax news", "weather"]) == ["weather"]
    assert filter_results(screen, []) == []
    policy = Policy(search={"/s": "q"}, suggest={"/ac": "term"}, intercept_url="/i")
    hit = decide(policy, screen, "/s", {"q": ["plindrath oskette"]}.get)  # type: ignore[arg-type]
    assert hit is not None and hit.status == 303 and ("location", "/i") in hit.headers
    assert ("referrer-policy", "no-referrer") in hit.headers
    assert decide(policy, screen, "/s", {"q": ["weather"]}.get) is None  # type: ignore[arg-type]
    empty = decide(policy, screen, "/ac", {"term": ["zorblax"]}.get)  # type: ignore[arg-type]
    assert empty is not None and empty.body == b"[]"
    assert decide(policy, screen, "/other", {"q": ["zorblax"]}.get) is None  # type: ignore[arg-type]


def test_remote_screen_fails_open_or_closed_when_unreachable() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    assert RemoteScreen(dead, timeout=0.5).blocked("zorblax") is False
    assert RemoteScreen(dead, timeout=0.5, on_error="closed").blocked("weather") is True
    assert RemoteScreen(dead, on_error="closed").blocked_many(["a", "b"]) == [True, True]


def test_remote_screen_against_the_api(offramp_server: LiveServer) -> None:
    screen = RemoteScreen(offramp_server.base_url)
    assert screen.blocked("zorblax") and not screen.blocked("weather")
    queries = ["zorblax" if i % 7 == 0 else f"w{i}" for i in range(2500)]  # three batches
    assert screen.blocked_many(queries) == [i % 7 == 0 for i in range(2500)]


def _load_example(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for key in ("OFFRAMP_API", "OFFRAMP_TERMS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location(f"example_{name}_{uuid.uuid4().hex}",
                                                  EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env(mode: str, server: LiveServer) -> dict[str, str]:
    return {"OFFRAMP_API": server.base_url} if mode == "api" else {"OFFRAMP_TERMS": str(TERMS)}


def _check_engine(get) -> None:  # type: ignore[no-untyped-def]
    """The same behaviour for every integration: `get(path, q)` -> (status, headers, body)."""
    status, headers, body = get("/search", "weather")
    assert status == 200 and b"Weather tomorrow" in body
    status, headers, body = get("/search", "where to find ZORBLAX")
    assert status == 303 and headers["location"].endswith("/intercept")
    assert headers["referrer-policy"] == "no-referrer"
    assert b"zorblax" not in body.lower()
    # Results are filtered even when the query itself is fine.
    status, _, body = get("/search", "market")
    assert status == 200 and b"Quillion" not in body
    status, _, body = get("/search", "train")
    assert status == 200 and b"vexmora" not in body
    # Autocomplete: a blocked prefix gets nothing; blocked completions are dropped.
    status, headers, body = get("/suggest", "zorblax w")
    assert status == 200 and body.strip() == b"[]"
    status, _, body = get("/suggest", "we")
    assert b"weather" in body and b"weekly" in body
    status, _, body = get("/suggest", "qui")
    assert status == 200 and b"quillion" not in body


@pytest.mark.parametrize("mode", ["in-process", "api"])
def test_starlette_example(mode: str, offramp_server: LiveServer,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    env = _env(mode, offramp_server)
    module = _load_example("starlette_app", env, monkeypatch)
    with TestClient(module.app, follow_redirects=False) as client:
        def get(path: str, q: str):  # type: ignore[no-untyped-def]
            r = client.get(path, params={"q": q})
            return r.status_code, r.headers, r.content

        _check_engine(get)


@pytest.mark.parametrize("mode", ["in-process", "api"])
def test_flask_example(mode: str, offramp_server: LiveServer,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(mode, offramp_server)
    module = _load_example("flask_app", env, monkeypatch)
    client = module.app.test_client()

    def get(path: str, q: str):  # type: ignore[no-untyped-def]
        r = client.get(path, query_string={"q": q})
        return r.status_code, r.headers, r.data

    _check_engine(get)


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited early:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"did not start:\n{log.read_text()}")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["in-process", "api"])
def test_django_project(mode: str, offramp_server: LiveServer, tmp_path: Path) -> None:
    project = EXAMPLES / "django_project"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OFFRAMP_", "DJANGO_"))}
    env.update({"OFFRAMP_API": offramp_server.base_url} if mode == "api"
               else {"OFFRAMP_TERMS": str(TERMS)})
    check = subprocess.run([sys.executable, "manage.py", "check"], cwd=project, env=env,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    port = free_port()
    log = tmp_path / "django.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/", process, log)
        with httpx.Client(base_url=base) as http:
            def get(path: str, q: str):  # type: ignore[no-untyped-def]
                r = http.get(path + "/", params={"q": q})
                return r.status_code, r.headers, r.content

            _check_engine(get)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_django_app_refuses_bad_settings(tmp_path: Path) -> None:
    project = EXAMPLES / "django_project"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OFFRAMP_", "DJANGO_"))}
    env.update({"OFFRAMP_API": "ftp://nowhere"})
    check = subprocess.run([sys.executable, "manage.py", "check"], cwd=project, env=env,
                           capture_output=True, text=True, check=False)
    assert check.returncode != 0 and "must start with http" in check.stderr


@pytest.mark.slow
def test_nginx_auth_request_recipe(offramp_server: LiveServer, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        unavailable("Debian's nginx is not installed")
    # The search engine upstream: the Starlette example without any screening of its own.
    import uvicorn  # noqa: F401 - the engine runs under uvicorn in a subprocess
    engine_port, nginx_port = free_port(), free_port()
    engine_log = tmp_path / "engine.log"
    engine_env = {**os.environ, "PYTHONPATH": str(EXAMPLES)}
    with engine_log.open("wb") as out:
        engine = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(EXAMPLES), "--port",
             str(engine_port), "--no-access-log", "starlette_app:search_app"],
            env=engine_env, stdout=out, stderr=subprocess.STDOUT,
        )
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = (EXAMPLES / "nginx" / "offramp.conf").read_text()
    conf = (conf.replace("@LISTEN@", f"127.0.0.1:{nginx_port}")
            .replace("@ENGINE@", f"127.0.0.1:{engine_port}")
            .replace("@OFFRAMP@", offramp_server.base_url.removeprefix("http://"))
            .replace("@PREFIX@", str(prefix)))
    (prefix / "nginx.conf").write_text(conf)
    test = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                          capture_output=True, text=True, check=False)
    assert test.returncode == 0, test.stderr
    proxy = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                              "-g", "daemon off; master_process off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{nginx_port}"
        _wait_http(f"http://127.0.0.1:{engine_port}/suggest?q=", engine, engine_log)
        _wait_http(base + "/intercept", proxy, prefix / "error.log")
        with httpx.Client(base_url=base) as http:
            def get(path: str, q: str):  # type: ignore[no-untyped-def]
                r = http.get(path, params={"q": q})
                return r.status_code, r.headers, r.content

            # The upstream engine here filters nothing itself, so check nginx's part only.
            status, _, body = get("/search", "weather")
            assert status == 200 and b"Weather tomorrow" in body
            status, headers, body = get("/search", "where to find ZORBLAX")
            assert status == 303 and headers["location"].endswith("/intercept")
            assert headers["referrer-policy"] == "no-referrer"
            page = http.get(headers["location"])
            assert page.status_code == 200
            assert "This search may be for illegal material" in page.text
            status, _, body = get("/suggest", "plindrath oskette")
            assert status == 200 and body == b"[]"
            status, _, body = get("/suggest", "we")
            assert b"weather" in body
            help_link = http.get("/go/help?arm=control&lang=en")
            assert help_link.status_code == 303
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        engine.terminate()
        engine.wait(timeout=10)
    leftovers = " ".join(p.read_text(errors="replace") for p in prefix.glob("*.log"))
    assert "zorblax" not in leftovers.lower()
