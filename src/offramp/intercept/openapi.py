"""The OpenAPI 3.1 description of the screening API, served at /openapi.json.

Written by hand (the API is three operations) so it states the limits and error statuses exactly;
tests run schemathesis against a live server from this document.
"""

from __future__ import annotations

from functools import cache
from typing import Any

MAX_QUERY_CHARS = 10_000
MAX_BATCH = 10_000

_ERROR = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}
_VERDICT = {
    "type": "object",
    "required": ["blocked", "categories", "rules", "age", "list_version"],
    "properties": {
        "blocked": {"type": "boolean"},
        "categories": {"type": "array", "items": {"type": "string"}},
        "rules": {"type": "array", "items": {"type": "string"}},
        "age": {"type": ["string", "null"], "description": "age band stated in the query"},
        "list_version": {"type": "string", "description": "content hash of the term list"},
        "intercept": {
            "type": ["string", "null"],
            "description": "when `lang` was sent and the query is blocked: the interstitial's path",
        },
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "The body is not valid JSON, or a required header is missing or too long.",
        413: "The body is larger than the server's cap (max_body_bytes).",
        415: "The body is not application/json.",
        422: "The JSON does not have the documented shape, or a query or batch is too long.",
        503: "The server is overloaded or its store is unreachable; retry later.",
    }
    out: dict[str, Any] = {}
    for code in codes:
        media = {"application/json": {"schema": _ERROR}}
        if code in (413, 503):
            # The body cap and the flood limit answer before routing, in plain text.
            media["text/plain"] = {"schema": {"type": "string"}}
        out[str(code)] = {"description": text[code], "content": media}
    return out


@cache
def openapi_document() -> dict[str, Any]:
    query = {"type": "string", "maxLength": MAX_QUERY_CHARS}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "offramp screening API",
            "version": "1",
            "description": (
                "Screen search queries against the operator's term list. Queries are never "
                "stored or logged; responses never contain the query."
            ),
        },
        "paths": {
            "/api/v1/screen": {
                "post": {
                    "operationId": "screen",
                    "summary": "Screen one query",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["query"],
                            "properties": {
                                "query": query,
                                "lang": {"type": "string",
                                         "description": "a catalogue language, e.g. en"},
                            },
                        }}},
                    },
                    "responses": {
                        "200": {"description": "The verdict",
                                "content": {"application/json": {"schema": _VERDICT}}},
                        **_errors(400, 413, 415, 422, 503),
                    },
                }
            },
            "/api/v1/screen/batch": {
                "post": {
                    "operationId": "screenBatch",
                    "summary": "Screen many queries; verdicts in the same order",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["queries"],
                            "properties": {"queries": {
                                "type": "array", "items": query, "maxItems": MAX_BATCH,
                            }},
                        }}},
                    },
                    "responses": {
                        "200": {"description": "One verdict per query",
                                "content": {"application/json": {"schema": {
                                    "type": "object",
                                    "required": ["verdicts"],
                                    "properties": {"verdicts": {"type": "array",
                                                                "items": _VERDICT}},
                                }}}},
                        **_errors(400, 413, 415, 422, 503),
                    },
                }
            },
            "/api/v1/screen/auth": {
                "get": {
                    "operationId": "screenAuthRequest",
                    "summary": "nginx auth_request: screen a parameter of the original URI",
                    "parameters": [
                        {"name": "X-Original-URI", "in": "header", "required": True,
                         "schema": {"type": "string", "maxLength": 4 * MAX_QUERY_CHARS}},
                        {"name": "X-Offramp-Param", "in": "header", "required": False,
                         "schema": {"type": "string", "default": "q"}},
                    ],
                    "responses": {
                        "204": {"description": "Not blocked: serve the search"},
                        "403": {"description": "Blocked: show the interstitial"},
                        **_errors(400, 503),
                    },
                }
            },
        },
    }
