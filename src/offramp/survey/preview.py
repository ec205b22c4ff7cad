"""`offramp survey preview`: one form served for its author, with a banner, and nothing stored.

The preview runs the real pages (the same routes, templates and flow as production) over an
in-memory SQLite database that vanishes when the preview stops, with no researcher keys: the last
page shows what would have been recorded instead of sealing it. The form is read again whenever
its file changes, so an author can edit the spreadsheet and reload the page.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool
from starlette.applications import Starlette

from offramp.config import Settings
from offramp.errors import OfframpError
from offramp.intercept.messages import load_catalogue
from offramp.store import Repository, upgrade
from offramp.survey.load import load_instrument
from offramp.web.services import PublishedInstrument, Services

log = logging.getLogger("offramp.survey.preview")


class PreviewSource:
    """The form being previewed, re-read when its file changes (a broken edit keeps the last
    good version and says why on the terminal)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp = self._mtime()
        self._current = PublishedInstrument(load_instrument(path), 0)

    def _mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def current(self) -> PublishedInstrument:
        stamp = self._mtime()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._stamp = stamp
                    try:
                        self._current = PublishedInstrument(load_instrument(self.path), 0)
                        log.warning("reloaded %s", self.path)
                    except OfframpError as exc:
                        log.warning("kept the previous version: %s", exc)
        return self._current


def preview_app(path: Path, settings: Settings | None = None) -> Starlette:
    """The ASGI app that previews `path` at /s/<form id>."""
    from offramp.app import create_app

    source = PreviewSource(path)
    settings = replace(settings or Settings(), database_url="sqlite://", instruments=(),
                       public_keys=(), demo=False)
    engine = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})
    upgrade(engine)
    services = Services(settings, Repository(engine), None,
                        load_catalogue(default_language=settings.default_language),
                        {source.current().instrument.id: source.current()}, [])
    app = create_app(settings, services=services)
    app.state.survey_preview = source
    return app
