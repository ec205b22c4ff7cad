"""The page shown instead of results, counted redirects, the screening API and the demo engine."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from offramp.web.i18n import choose_language
from offramp.web.services import Services, services
from offramp.web.templating import render

MAX_QUERY_CHARS = 10_000
MAX_BATCH = 10_000


def _pick_arm(svc: Services) -> str:
    return secrets.choice(svc.catalogue.variants())


def render_interstitial(request: Request, svc: Services, status: int = 200) -> Response:
    """Assign an arm, count the impression, render. Nothing about the visitor is kept."""
    available = sorted(svc.catalogue.languages)
    language = choose_language(request, available, svc.settings.default_language)
    arm = _pick_arm(svc)
    svc.counters.add(language=language, arm=arm, event="impression")
    texts = svc.catalogue.messages(language, arm)
    links = {"help": f"/go/help?arm={arm}&lang={language}"}
    if svc.survey_link_target():
        links["survey"] = f"/go/survey?arm={arm}&lang={language}"
    html = render("intercept.html", lang=language, t=texts, links=links)
    return HTMLResponse(html, status)


async def intercept_page(request: Request) -> Response:
    return render_interstitial(request, services(request))


async def go(request: Request) -> Response:
    svc = services(request)
    link = request.path_params["link"]
    arm = request.query_params.get("arm", "")
    language = request.query_params.get("lang", svc.settings.default_language)
    if arm not in svc.catalogue.variants():
        arm = "unknown"
    if language not in svc.catalogue.languages:
        language = svc.settings.default_language
    if link == "help":
        target = svc.settings.links.get("help", svc.settings.help_url)
    elif link == "survey" and svc.survey_link_target():
        target = f"{svc.survey_link_target()}?lang={language}&arm={arm}"
    elif link in svc.settings.links:
        target = svc.settings.links[link]
    else:
        raise HTTPException(404, "There is no such link.")
    svc.counters.add(language=language, arm=arm, event="click", link=link)
    return RedirectResponse(target, status_code=303)


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(415, "Send the body as application/json.")
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "The body is not valid JSON.") from None


def _query_text(value: Any) -> str:
    if not isinstance(value, str):
        raise HTTPException(422, "query must be a string.")
    if len(value) > MAX_QUERY_CHARS:
        raise HTTPException(413, f"query is longer than {MAX_QUERY_CHARS} characters.")
    return value


async def api_screen(request: Request) -> Response:
    body = await _json_body(request)
    if not isinstance(body, dict) or "query" not in body:
        raise HTTPException(422, 'Send {"query": "..."}.')
    verdict = services(request).current_screener().check(_query_text(body["query"]))
    return JSONResponse(verdict.to_dict())


async def api_screen_batch(request: Request) -> Response:
    body = await _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise HTTPException(422, 'Send {"queries": ["...", ...]}.')
    queries = body["queries"]
    if len(queries) > MAX_BATCH:
        raise HTTPException(413, f"at most {MAX_BATCH} queries per batch.")
    screener = services(request).current_screener()
    verdicts = [screener.check(_query_text(q)).to_dict() for q in queries]
    return JSONResponse({"verdicts": verdicts})


async def demo_search(request: Request) -> Response:
    svc = services(request)
    if not svc.settings.demo:
        raise HTTPException(404, "There is no page at this address.")
    query = request.query_params.get("q", "")[:MAX_QUERY_CHARS]
    if query and svc.current_screener().check(query).blocked:
        return render_interstitial(request, svc)
    html = render("demo_search.html", lang="en", query=query, searched=bool(query))
    return HTMLResponse(html)


async def home(request: Request) -> Response:
    svc = services(request)
    if svc.settings.demo:
        return RedirectResponse("/demo/search", status_code=303)
    return JSONResponse({"service": "offramp"})


routes = [
    Route("/", home),
    Route("/intercept", intercept_page),
    Route("/go/{link}", go),
    Route("/api/v1/screen", api_screen, methods=["POST"]),
    Route("/api/v1/screen/batch", api_screen_batch, methods=["POST"]),
    Route("/demo/search", demo_search),
]
