"""Headers and limits applied to every response, as plain ASGI middleware (no per-route opt-in).

The policy is strict because respondent pages need nothing but our own stylesheet: no script, no
fonts, no frames, and no referrer leaves the page. Nothing here reads or logs the client address.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "interest-cohort=(), browsing-topics=()",
    "cache-control": "no-store",
}


_RAW_SECURITY = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]
_REPLACED = frozenset(name for name, _ in _RAW_SECURITY) - {b"cache-control"}
# No respondent page sets a cookie; strip any that a library might add, and name no server.
_DROPPED = _REPLACED | {b"set-cookie", b"server"}


def secure_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A response's raw headers with the policy applied: ours replace any of the same name, but
    a response's own cache-control stands (static files may be cached)."""
    kept = [(name, value) for name, value in headers if name.lower() not in _DROPPED]
    own_cache = any(name.lower() == b"cache-control" for name, _ in kept)
    kept.extend(item for item in _RAW_SECURITY if not (own_cache and item[0] == b"cache-control"))
    return kept


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # On raw header pairs: every response passes here, and MutableHeaders scans the
                # whole list for each name it sets.
                message["headers"] = secure_headers(list(message.get("headers", ())))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    """Raised inside the app when a request body passes the configured cap."""


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes`, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await _too_large(scope, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _too_large(scope, send)


TOO_LARGE_API = b'{"error":"Request too large","detail":"The body is over the size limit."}'
TOO_LARGE_PAGE = (
    "What you sent was too long. Go back with your browser's Back button, shorten your answer "
    "and send it again. Your earlier answers are kept."
)


async def _too_large(scope: Scope, send: Send) -> None:
    """413 as JSON for the API and as a page that says what to do for people."""
    if str(scope.get("path", "")).startswith("/api/"):
        body, content_type = TOO_LARGE_API, b"application/json"
    else:
        from offramp.web.templating import render  # imported late: templates load on first use

        page = render("error.html", lang="en", title="Too long to send", message=TOO_LARGE_PAGE)
        body, content_type = page.encode("utf-8"), b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
