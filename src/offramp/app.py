"""create_app(settings): the one ASGI app that mounts intercept, survey and the shared plumbing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from offramp.config import Settings
from offramp.intercept import routes as intercept_routes
from offramp.intercept.admin import admin_routes
from offramp.intercept.fastpath import ScreenFastPath
from offramp.intercept.limits import InflightLimitMiddleware
from offramp.store.db import sqlite_file
from offramp.survey import routes as survey_routes
from offramp.vault import routes as vault_routes
from offramp.web.errors import EXCEPTION_HANDLERS
from offramp.web.security import BodyLimitMiddleware, SecurityHeadersMiddleware
from offramp.web.services import Services, build_services

log = logging.getLogger("offramp")
STATIC = Path(__file__).resolve().parent / "web" / "static"
FLUSH_SECONDS = 5.0
CHECKPOINT_SECONDS = 1.0
"""Deferred draft deletion and SQLite's checkpoint (store/drafts.py): often, so that under load
each one copies little."""
DRAFT_PURGE_SECONDS = 3600.0


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _flush(svc: Services) -> None:
    try:
        svc.counters.flush(svc.repository)
    except Exception as exc:
        log.warning("counter flush failed, will retry: %s", type(exc).__name__)


def _purge_drafts(svc: Services) -> None:
    try:
        svc.repository.purge_drafts()
    except Exception as exc:  # retried at the next hour
        log.warning("draft purge failed, will retry: %s", type(exc).__name__)


def _checkpoint(svc: Services) -> None:
    """Delete the drafts of the responses stored since the last round, then checkpoint."""
    try:
        svc.repository.drafts.delete_discarded()
        svc.repository.drafts.checkpoint()
    except Exception as exc:  # retried in a second (the drafts to delete stay listed)
        log.warning("draft checkpoint failed, will retry: %s", type(exc).__name__)


def _housekeeping(svc: Services) -> None:
    """Periodic work off the request path: flush counters, pick up a changed term list."""
    _flush(svc)
    if svc.screener is not None:
        # A broken new list is logged by the holder and the old one stays in force.
        svc.screener.reload_if_changed()


def counter_spill_dir(settings: Settings) -> Path:
    """settings.counter_spill_dir, else the SQLite database's folder, else the working directory."""
    if settings.counter_spill_dir is not None:
        return settings.counter_spill_dir
    database = sqlite_file(make_url(settings.database_url))
    return database.resolve().parent if database is not None else Path.cwd()


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    svc = services or build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def flusher() -> None:
            rounds = 0
            while True:
                await asyncio.sleep(CHECKPOINT_SECONDS)
                await asyncio.to_thread(_checkpoint, svc)
                rounds += 1
                if rounds % int(FLUSH_SECONDS // CHECKPOINT_SECONDS) == 0:
                    await asyncio.to_thread(_housekeeping, svc)
                if rounds % int(DRAFT_PURGE_SECONDS // CHECKPOINT_SECONDS) == 0:
                    await asyncio.to_thread(_purge_drafts, svc)

        spill_dir = counter_spill_dir(settings)
        taken = svc.counters.take_spilled(spill_dir)
        if taken:
            log.info("took back %d counts that a stopped server could not write", taken)
        task = asyncio.create_task(flusher())
        try:
            yield
        finally:
            task.cancel()
            # A graceful stop writes what is pending: counters survive restarts. If the database
            # cannot take them now, they go to a file that the next start takes back.
            await asyncio.to_thread(_flush, svc)
            await asyncio.to_thread(_checkpoint, svc)
            if svc.counters.pending():
                spilled = svc.counters.spill(spill_dir)
                log.warning("database unavailable at stop: %d counts kept in %s", spilled,
                            spill_dir)

    app = Starlette(
        routes=[
            *admin_routes(settings, svc.repository),  # only on admin_host, when configured
            Route("/healthz", healthz),
            *intercept_routes.routes,
            *survey_routes.routes,
            *vault_routes.routes,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(InflightLimitMiddleware, max_inflight=settings.max_inflight),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(ScreenFastPath, services=svc),
        ],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.services = svc
    return app
