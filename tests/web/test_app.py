"""The app in-process: headers on every page, clear answers to bad input, a visit stores nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from offramp.app import create_app
from offramp.config import load_settings
from tests.conftest import KeyPair, write_config

PAGES = ["/demo/search", "/demo/search?q=zorblax", "/intercept", "/s/demo", "/healthz", "/nowhere"]


@pytest.fixture
def client(tmp_path: Path, keypair: KeyPair) -> Iterator[TestClient]:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", keypair)
    with TestClient(create_app(load_settings(config, environ={}))) as test_client:
        yield test_client


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_everywhere(client: TestClient, path: str) -> None:
    response = client.get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in response.headers
    assert "server" not in response.headers
    assert "<script" not in response.text.lower()


def test_blocked_query_shows_interstitial_and_clean_query_does_not(client: TestClient) -> None:
    blocked = client.get("/demo/search", params={"q": "ZORBLAX videos"})
    assert "This search may be for illegal material" in blocked.text
    assert "zorblax" not in blocked.text.lower()  # the page never echoes the query
    clean = client.get("/demo/search", params={"q": "weather tomorrow"})
    assert "This search may be for illegal material" not in clean.text


def test_go_redirect_is_counted_and_carries_nothing(client: TestClient) -> None:
    response = client.get("/go/help?arm=control&lang=en", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "https://example.org/help"
    assert client.get("/go/elsewhere", follow_redirects=False).status_code == 404
    services = client.app.state.services  # type: ignore[attr-defined]
    assert services.counters.pending() >= 1


def test_wrong_method_names_the_allowed_ones(client: TestClient) -> None:
    response = client.get("/api/v1/screen")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "Method not allowed"


def test_unknown_route_is_a_plain_page(client: TestClient) -> None:
    response = client.get("/does/not/exist")
    assert response.status_code == 404
    assert "There is no page at this address." in response.text
    assert "Traceback" not in response.text


def test_oversized_post_is_refused(client: TestClient) -> None:
    response = client.post(
        "/s/demo",
        content=b"x" * 200_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "shorten your answer" in response.text
    assert "Your earlier answers are kept" in response.text
    api = client.post("/api/v1/screen", content=b"x" * 200_000,
                      headers={"content-type": "application/json"})
    assert api.status_code == 413
    assert api.json()["error"] == "Request too large"


def test_malformed_form_is_a_clear_400(client: TestClient) -> None:
    response = client.post(
        "/s/demo",
        content=b"--zz\r\ngarbage",
        headers={"content-type": "multipart/form-data; boundary=zz"},
    )
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_tampered_token_is_a_clear_page(client: TestClient) -> None:
    response = client.post("/s/demo", data={"token": "not-a-token", "page": "p1"})
    assert response.status_code == 400
    assert "start the survey again" in response.text


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"query": "zorblax"}', "text/plain", 415),
        (b"{not json", "application/json", 400),
        (b'{"q": "x"}', "application/json", 422),
        (b'{"query": 5}', "application/json", 422),
    ],
)
def test_screen_api_bad_input(
    client: TestClient, body: bytes, content_type: str, status: int
) -> None:
    response = client.post("/api/v1/screen", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert "error" in response.json()


def test_screen_api_verdict_never_contains_the_query(client: TestClient) -> None:
    response = client.post("/api/v1/screen", json={"query": "zorblax"})
    assert response.status_code == 200
    verdict = response.json()
    assert verdict["blocked"] is True
    assert set(verdict) >= {"blocked", "categories", "rules", "list_version"}
    assert "zorblax" not in response.text


def test_a_visit_stores_nothing(client: TestClient) -> None:
    page = client.get("/s/demo").text
    assert re.search(r'name="token" value="[A-Za-z0-9_-]{43}"', page)
    repository = client.app.state.services.repository  # type: ignore[attr-defined]
    assert repository.count_responses() == 0


def test_the_policy_replaces_same_named_headers_and_keeps_a_response_own_cache_rule() -> None:
    from offramp.web.security import SECURITY_HEADERS, secure_headers

    raw = [(b"content-type", b"text/html"), (b"X-Frame-Options", b"ALLOWALL"),
           (b"set-cookie", b"id=1"), (b"server", b"x"), (b"referrer-policy", b"unsafe-url")]
    out = secure_headers(raw)
    names = [name.lower() for name, _ in out]
    assert len(names) == len(set(names))  # one of each: ours replaced theirs
    assert b"set-cookie" not in names and b"server" not in names
    assert dict(out)[b"x-frame-options"] == b"DENY"
    assert dict(out)[b"referrer-policy"] == b"no-referrer"
    assert dict(out)[b"cache-control"] == SECURITY_HEADERS["cache-control"].encode()
    cached = dict(secure_headers([(b"cache-control", b"max-age=3600")]))
    assert cached[b"cache-control"] == b"max-age=3600"
