"""`POST /api/v1/screen`'s everyday request answered before Starlette's router sees it.

A search engine calls the screening API once per search, so its cost per request is the number
that matters most to an operator. The everyday request is `{"query": "..."}` as JSON; this
middleware answers exactly that, with the same bytes as the route (`routes.api_screen`), and
skips the router, the Request and Response objects and the exception layer. Anything else (another
content type, a `lang`, a malformed or oversized body) is handed on untouched, with its body
replayed, to the route, which answers it and its errors in full. It sits inside the security
headers, the in-flight cap and the body limit, so those apply as before.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offramp.intercept.openapi import MAX_QUERY_CHARS
from offramp.intercept.routes import verdict_json
from offramp.web.services import Services

PATH = "/api/v1/screen"


class ScreenFastPath:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST"
                or not _is_json(scope)):
            await self.app(scope, receive, send)
            return
        body, message = await _read_body(receive)
        query = _everyday_query(body) if message is None else None
        if query is None or self.services.screener is None:
            await self.app(scope, _replay(body, message, receive), send)
            return
        payload = verdict_json(self.services.current_screener().check(query))
        await send({
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(payload)).encode()),
                        (b"content-type", b"application/json")],
        })
        await send({"type": "http.response.body", "body": payload})


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";")[0].strip().lower() == b"application/json")
    return False


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body; or what was read and the first message that was not body (a disconnect)."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts), message
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts), None


def _everyday_query(body: bytes) -> str | None:
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if type(data) is not dict or len(data) != 1:
        return None
    query = data.get("query")
    if type(query) is not str or len(query) > MAX_QUERY_CHARS:
        return None
    return query


def _replay(body: bytes, stop: Message | None, receive: Receive) -> Receive:
    """A receive that gives the app the body already read, then whatever comes next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if stop is not None:
        pending.append(stop)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
