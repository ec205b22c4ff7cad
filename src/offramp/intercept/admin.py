"""The operator page: experiment results behind a token, never on the respondent-facing host.

Two ways to reach it, both off by default:
- ``offramp experiment serve`` runs it as its own small server, bound to ``admin_listen``
  (127.0.0.1:8001 unless configured), so it is reachable from the machine itself or a tunnel;
- ``admin_host = "ops.example.org"`` mounts it inside the main server for requests whose Host is
  exactly that name (route that name only from the operators' network at the proxy).

The token is a random 256-bit string, stored in the settings only as ``sha256:<hex>``. A fast hash
is right here: the token is not a password a person chose, so there is nothing to brute-force, and
a slow hash would hand anyone who can reach the page a way to burn CPU. Browsers send it through
HTTP Basic authentication (any user name, the token as password), which needs no JavaScript;
scripts may send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Host, Route

from offramp.config import Settings
from offramp.errors import ConfigError
from offramp.intercept.experiment import ExperimentReport, build_report
from offramp.store.repository import Repository
from offramp.web.errors import EXCEPTION_HANDLERS
from offramp.web.templating import render

REALM = 'Basic realm="offramp operators", charset="UTF-8"'


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def authorised(request: Request, expected_hash: str) -> bool:
    token = _presented_token(request)
    if not token or not expected_hash:
        return False
    return hmac.compare_digest(token_hash(token), expected_hash)


def _parse_params(request: Request) -> dict[str, Any]:
    params = request.query_params
    out: dict[str, Any] = {"link": params.get("link", "help")[:100] or "help"}
    lang = params.get("lang", "")[:20]
    out["language"] = lang or None
    for name, default, low, high in (("lift", 0.2, -0.99, 10.0), ("alpha", 0.05, 1e-6, 0.5),
                                     ("power", 0.8, 0.5, 0.999)):
        try:
            value = float(params.get(name, default))
        except ValueError:
            value = default
        out[name] = value if low <= value <= high else default
    for name in ("since", "until"):
        try:
            out[name] = dt.date.fromisoformat(params[name]) if params.get(name) else None
        except ValueError:
            out[name] = None
    return out


def make_admin_app(settings: Settings, repository: Repository) -> Starlette:
    """The operator app alone; refuses to exist without a token hash."""
    if not settings.admin_token_hash:
        raise ConfigError(
            "the operator page needs admin_token_hash in the settings",
            hint="run `offramp experiment token` and paste its line into the config",
        )
    expected = settings.admin_token_hash

    def report_for(request: Request) -> ExperimentReport:
        return build_report(repository.read_counts(), **_parse_params(request))

    async def page(request: Request) -> Response:
        if not authorised(request, expected):
            return Response("Operator token required.", 401, {"www-authenticate": REALM})
        params = _parse_params(request)
        report = build_report(repository.read_counts(), **params)
        html = render("experiment.html", lang="en", report=report, params=params)
        return HTMLResponse(html)

    async def as_json(request: Request) -> Response:
        if not authorised(request, expected):
            return JSONResponse({"error": "Unauthorized", "detail": "Operator token required."},
                                401, {"www-authenticate": REALM})
        return JSONResponse(report_for(request).to_dict())

    return Starlette(
        routes=[Route("/admin/experiment", page), Route("/admin/experiment.json", as_json)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    )


def admin_routes(settings: Settings, repository: Repository) -> list[BaseRoute]:
    """Routes for the main app: the operator page on `admin_host` only, or nothing at all."""
    if not settings.admin_host:
        return []
    return [Host(settings.admin_host, app=make_admin_app(settings, repository))]
