"""A Starlette search app behind offramp's ASGI middleware.

Run:  OFFRAMP_TERMS=terms.txt uvicorn starlette_app:app        (screen in-process)
      OFFRAMP_API=http://127.0.0.1:8000 uvicorn starlette_app:app   (screen through offramp)
"""

from __future__ import annotations

import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _engine import search, suggest
from _screen import intercept_url, screen_from_environment

from offramp.intercept.integrations import Policy, filter_results
from offramp.intercept.integrations.asgi import OfframpMiddleware

screen = screen_from_environment()


async def results(request: Request) -> JSONResponse:
    found = search(request.query_params.get("q", ""))
    # Engines may also drop abusive results for queries that are not blocked themselves.
    return JSONResponse({"results": filter_results(screen, found)})


async def suggestions(request: Request) -> JSONResponse:
    return JSONResponse(filter_results(screen, suggest(request.query_params.get("q", ""))))


search_app = Starlette(routes=[Route("/search", results), Route("/suggest", suggestions)])
app = OfframpMiddleware(
    search_app, screen,
    Policy(search={"/search": "q"}, suggest={"/suggest": "q"}, intercept_url=intercept_url()),
)
