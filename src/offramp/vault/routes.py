"""The key set in force, published: which researchers' keys this server seals answers to.

Fingerprints of public keys are meant to be public. Showing them lets the operator check the
running server after a rotation, and lets anyone (a respondent, an ethics board) compare them
with the fingerprints the researchers publish, so a server quietly sealing to someone else's key
is visible. The page holds nothing about respondents and no count of responses.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from offramp.store.repository import key_set_id
from offramp.vault.keys import fingerprint
from offramp.web.services import Services, services
from offramp.web.templating import environment

_PAGE = environment.from_string(
    """{% extends "base.html" %}
{% block title %}Researchers' keys{% endblock %}
{% block main %}
<h1>Researchers' keys</h1>
<p>Answers to surveys on this server are encrypted on arrival so that only holders of these
keys can read them. Compare the fingerprints with the ones the research team publishes.</p>
{% if fingerprints %}
<ul class="fingerprints">
{% for value in fingerprints %}<li><code>{{ value }}</code></li>
{% endfor %}</ul>
{% if since %}<p>In force since {{ since }}.</p>{% endif %}
{% else %}
<p>No keys are configured: this server runs no survey.</p>
{% endif %}
{% endblock %}"""
)


async def _in_force(svc: Services) -> tuple[list[str], str | None]:
    fingerprints = [fingerprint(k) for k in svc.recipients]
    if not fingerprints:
        return fingerprints, None
    wanted = key_set_id(fingerprints)
    known = await run_in_threadpool(svc.repository.key_sets)
    since = next((k.first_day.isoformat() for k in known if k.key_set_id == wanted), None)
    return fingerprints, since


async def keys_page(request: Request) -> Response:
    fingerprints, since = await _in_force(services(request))
    return HTMLResponse(_PAGE.render(lang="en", fingerprints=fingerprints, since=since))


async def keys_json(request: Request) -> Response:
    fingerprints, since = await _in_force(services(request))
    return JSONResponse({"fingerprints": fingerprints, "since": since})


routes = [
    Route("/keys", keys_page, methods=["GET"]),
    Route("/api/v1/keys", keys_json, methods=["GET"]),
]
