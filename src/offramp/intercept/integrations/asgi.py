"""ASGI middleware (Starlette, FastAPI, Quart, ...): screen search and suggestion requests."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from offramp.intercept.integrations.core import Decision, Policy, Screen, decide


class OfframpMiddleware:
    """Wrap the search engine's ASGI app: ``app = OfframpMiddleware(app, screen, policy)``."""

    def __init__(self, app: ASGIApp, screen: Screen, policy: Policy) -> None:
        self.app = app
        self.screen = screen
        self.policy = policy
        self._paths = set(policy.search) | set(policy.suggest)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self._paths:
            await self.app(scope, receive, send)
            return
        params = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"),
                          keep_blank_values=True)

        def run() -> Decision | None:
            return decide(self.policy, self.screen, scope["path"], lambda p: params.get(p, []))

        # A remote screen does network I/O: keep it off the event loop.
        if getattr(self.screen, "remote", False):
            decision = await asyncio.to_thread(run)
        else:
            decision = run()
        if decision is None:
            await self.app(scope, receive, send)
            return
        headers = [(k.encode(), v.encode()) for k, v in decision.headers]
        headers.append((b"content-length", str(len(decision.body)).encode()))
        await send({"type": "http.response.start", "status": decision.status,
                    "headers": headers})
        await send({"type": "http.response.body", "body": decision.body})
