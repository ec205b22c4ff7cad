"""A global cap on requests in progress, so a flood gets a clear 503 instead of a stall.

The cap is global, not per client, because telling clients apart would mean reading their
addresses, which offramp never does. Health checks pass through so an orchestrator can still see
the worker is alive.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_BODY = b"The server is busy. Please retry in a second."


class InflightLimitMiddleware:
    def __init__(self, app: ASGIApp, max_inflight: int) -> None:
        self.app = app
        self.max_inflight = max_inflight
        self.inflight = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/healthz":
            await self.app(scope, receive, send)
            return
        if self.inflight >= self.max_inflight:
            self.refused += 1
            await send({
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(_BODY)).encode()),
                    (b"retry-after", b"1"),
                    (b"cache-control", b"no-store"),
                ],
            })
            await send({"type": "http.response.body", "body": _BODY})
            return
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1
