"""The screening API and bad input: each answered with a clear status and message."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from tests.intercept.conftest import MakeClient


def test_screen_and_batch(client: TestClient) -> None:
    blocked = client.post("/api/v1/screen", json={"query": "where to find ZORBLAX"}).json()
    assert blocked["blocked"] is True and blocked["rules"] and blocked["list_version"]
    assert "ZORBLAX" not in json.dumps(blocked).upper()  # the verdict never carries the query
    clear = client.post("/api/v1/screen", json={"query": "weather tomorrow"}).json()
    assert clear["blocked"] is False
    batch = client.post("/api/v1/screen/batch",
                        json={"queries": ["zorblax", "weather", "", "quillion news"]}).json()
    assert [v["blocked"] for v in batch["verdicts"]] == [True, False, False, True]
    assert client.post("/api/v1/screen/batch", json={"queries": []}).json() == {"verdicts": []}


def test_language_gives_the_interstitial_path(client: TestClient) -> None:
    out = client.post("/api/v1/screen", json={"query": "zorblax", "lang": "ar"}).json()
    assert out["intercept"] == "/intercept?lang=ar"
    out = client.post("/api/v1/screen", json={"query": "weather", "lang": "ar"}).json()
    assert out["intercept"] is None
    unknown = client.post("/api/v1/screen", json={"query": "x", "lang": "tlh"})
    assert unknown.status_code == 422 and "lang must be one of" in unknown.json()["detail"]


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "detail"),
    [
        ("/api/v1/screen", {"content": b'{"query": "x"}',
                            "headers": {"content-type": "text/plain"}}, 415, "application/json"),
        ("/api/v1/screen", {"content": b"query=x",
                            "headers": {"content-type": "application/x-www-form-urlencoded"}},
         415, "application/json"),
        ("/api/v1/screen", {"content": b'{"query": ', "headers": {"content-type":
                                                                  "application/json"}},
         400, "not valid JSON"),
        ("/api/v1/screen", {"content": b"\xff\xfe", "headers": {"content-type":
                                                                "application/json"}},
         400, "not valid JSON"),
        ("/api/v1/screen", {"content": b"[" * 100_000 + b"]" * 100_000,
                            "headers": {"content-type": "application/json"}}, 413, None),
        ("/api/v1/screen", {"json": ["query"]}, 422, '{"query": "..."}'),
        ("/api/v1/screen", {"json": {"query": 5}}, 422, "query must be a string"),
        ("/api/v1/screen", {"json": {"query": "x" * 10_001}}, 422, "longer than 10000"),
        ("/api/v1/screen/batch", {"json": {"queries": "x"}}, 422, "queries"),
        ("/api/v1/screen/batch", {"json": {"queries": ["a", None]}}, 422,
         "queries[1] must be a string"),
        ("/api/v1/screen/batch", {"json": {"queries": [""] * 10_001}}, 422, "at most 10000"),
    ],
)
def test_bad_input_gets_clear_status(
    client: TestClient, path: str, kwargs: dict[str, object], status: int, detail: str | None
) -> None:
    response = client.post(path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    if detail is not None:
        assert detail in response.json()["detail"]


def test_nested_json_within_the_cap_is_refused_not_crashed(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=4 * 1024 * 1024)
    deep = b"[" * 1_000_000 + b"]" * 1_000_000
    response = client.post("/api/v1/screen", content=deep,
                           headers={"content-type": "application/json"})
    assert response.status_code in (400, 422)


def test_oversized_bodies_are_capped(client: TestClient) -> None:
    body = json.dumps({"queries": ["a" * 1000] * 100}).encode()  # ~100 KB > the 64 KB default
    response = client.post("/api/v1/screen/batch", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413

    def chunks():  # no Content-Length: the cap must hold on a streamed body too
        for _ in range(100):
            yield b"a" * 1024

    streamed = client.post("/api/v1/screen", content=chunks(),
                           headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_wrong_methods_and_unknown_paths(client: TestClient) -> None:
    assert client.get("/api/v1/screen").status_code == 405
    assert client.get("/api/v1/screen").json()["error"] == "Method not allowed"
    assert client.get("/api/v1/nothing").status_code == 404
    assert client.get("/go/nowhere").status_code == 404
    assert "no such link" in client.get("/go/nowhere").text


def test_unknown_arm_and_language_on_go_are_counted_safely(client: TestClient) -> None:
    response = client.get("/go/help?arm=<script>&lang=zz")
    assert response.status_code == 303
    assert response.headers["location"] == "https://example.org/help"
    svc = client.app.state.services  # type: ignore[attr-defined]
    keys = list(svc.counters._counts)
    assert [(k[1], k[2], k[3], k[4]) for k in keys] == [("en", "unknown", "click", "help")]


def test_survey_link_carries_arm_and_language_only(client: TestClient) -> None:
    response = client.get("/go/survey?arm=control&lang=ru&q=zorblax")
    assert response.status_code == 303
    assert response.headers["location"] == "/s/demo?lang=ru&arm=control"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_auth_request_endpoint(client: TestClient) -> None:
    def auth(uri: str | None, param: str | None = None) -> int:
        headers = {} if uri is None else {"x-original-uri": uri}
        if param:
            headers["x-offramp-param"] = param
        return client.get("/api/v1/screen/auth", headers=headers).status_code

    assert auth("/search?q=where+to+find+zorblax") == 403
    assert auth("/search?q=weather&page=2") == 204
    assert auth("/search") == 204
    assert auth("/find?text=plindrath%20oskette", "text") == 403
    assert auth("/find?text=plindrath%20oskette") == 204  # another parameter: not screened
    assert auth(None) == 400
    assert auth("/s?q=" + "a" * 50_000) == 400


def test_openapi_document(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/api/v1/screen", "/api/v1/screen/batch", "/api/v1/screen/auth"}
