"""WSGI middleware (Flask, Bottle, Pyramid, ...): screen search and suggestion requests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from offramp.intercept.integrations.core import Policy, Screen, decide

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_REASONS = {200: "200 OK", 303: "303 See Other"}


class OfframpWSGIMiddleware:
    """Wrap the WSGI app: ``app.wsgi_app = OfframpWSGIMiddleware(app.wsgi_app, screen, policy)``."""

    def __init__(self, app: WSGIApp, screen: Screen, policy: Policy) -> None:
        self.app = app
        self.screen = screen
        self.policy = policy

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in self.policy.search or path in self.policy.suggest:
            params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            # PEP 3333 hands the query string over as latin-1; recover the UTF-8 text.
            params = {k.encode("latin-1").decode("utf-8", "replace"):
                      [v.encode("latin-1").decode("utf-8", "replace") for v in vs]
                      for k, vs in params.items()}
            decision = decide(self.policy, self.screen, path, lambda p: params.get(p, []))
            if decision is not None:
                headers = [*decision.headers, ("content-length", str(len(decision.body)))]
                start_response(_REASONS[decision.status], headers)
                return [decision.body]
        return self.app(environ, start_response)
