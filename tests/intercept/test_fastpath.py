"""The screening API's fast path answers exactly as the route does, and hands on everything else."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from offramp.intercept.openapi import MAX_QUERY_CHARS
from tests.intercept.conftest import MakeClient

QUERIES = ["where to find ZORBLAX", "weather tomorrow", "", "z.o.r.b.l.a.x", "ünïcödé ✓ quillion",
           "x" * 2000]


def _post(client: TestClient, body: object) -> tuple[int, dict[str, str], bytes]:
    response = client.post("/api/v1/screen", content=json.dumps(body).encode(),
                           headers={"content-type": "application/json"})
    return response.status_code, dict(response.headers), response.content


@pytest.mark.parametrize("query", QUERIES)
def test_the_fast_path_gives_the_route_bytes_and_headers(client: TestClient, query: str) -> None:
    fast = _post(client, {"query": query})
    # A second key is not the everyday request: the route itself answers it, the same way.
    routed = _post(client, {"query": query, "note": 1})
    assert fast == routed
    assert fast[0] == 200 and fast[1]["content-type"] == "application/json"
    assert fast[1]["x-frame-options"] == "DENY"  # the security headers still apply
    assert query.encode() not in fast[2] or query == ""


def test_everything_else_reaches_the_route_with_its_body(client: TestClient) -> None:
    assert _post(client, ["zorblax"])[0] == 422
    assert _post(client, {"query": 5})[0] == 422
    too_long = _post(client, {"query": "x" * (MAX_QUERY_CHARS + 1)})
    assert too_long[0] == 422 and b"longer than" in too_long[2]
    broken = client.post("/api/v1/screen", content=b'{"query": ',
                         headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["detail"]
    with_lang = client.post("/api/v1/screen", json={"query": "zorblax", "lang": "ar"}).json()
    assert with_lang["intercept"] == "/intercept?lang=ar"
    assert client.get("/api/v1/screen").status_code == 405


def test_without_a_term_list_the_route_says_so(make_client: MakeClient) -> None:
    client = make_client(terms=None)
    response = client.post("/api/v1/screen", json={"query": "weather"})
    assert response.status_code == 503 and "no term list" in response.json()["detail"]
