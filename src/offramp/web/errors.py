"""Generic error pages that leak nothing: JSON for API paths, a plain page otherwise."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from offramp.errors import ConfigError, StoreUnavailable
from offramp.web.templating import render

log = logging.getLogger("offramp.web")

TITLES = {
    400: "Bad request",
    404: "Page not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported content type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def error_response(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    if request.url.path.startswith("/api/"):
        body = {"error": TITLES.get(status, "Error"), "detail": message}
        return JSONResponse(body, status, headers=headers)
    html = render("error.html", lang="en", title=TITLES.get(status, "Error"), message=message)
    return HTMLResponse(html, status, headers=headers)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = "There is no page at this address."
    # Headers such as Allow (405) and Retry-After (429/503) are part of the answer.
    return error_response(request, exc.status_code, detail, exc.headers)


async def store_unavailable(request: Request, exc: Exception) -> Response:
    # Logged without anything about the request: the path alone could carry a query.
    log.warning("store unavailable: %s", exc)
    return error_response(
        request, 503, "We could not reach our database just now. Please try again in a minute."
    )


async def not_configured(request: Request, exc: Exception) -> Response:
    # A feature this server was not set up for (screening without a term list, say): the
    # operator's message, which names the setting, never anything from the request.
    log.warning("not configured: %s", exc)
    return error_response(request, 503, str(exc))


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("internal error: %s", type(exc).__name__)
    return error_response(request, 500, "Please try again later.")


EXCEPTION_HANDLERS = {
    HTTPException: http_exception,
    StoreUnavailable: store_unavailable,
    ConfigError: not_configured,
    Exception: server_error,
}
