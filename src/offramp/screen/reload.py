"""Hot reload: swap in a changed term list without serving a half-loaded one.

The server holds a ``ScreenerHolder`` and reads ``.current`` per request. A reload builds the new
``Screener`` completely before one attribute assignment publishes it (atomic under the GIL), so a
request sees either the old list or the new one, never a mixture. A broken new list is logged in
one line and the old list stays in force.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

from offramp.errors import OfframpError
from offramp.screen.matcher import Screener

log = logging.getLogger("offramp.screen")


class ScreenerHolder:
    """Holds the screener in force for one term-list file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._digest = self._hash()
        self.current: Screener = Screener.from_file(self.path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _hash(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def reload(self) -> bool:
        """Load the file again; True when a new list is now in force."""
        with self._lock:
            stamp, digest = self._stat(), self._hash()
            try:
                fresh = Screener.from_file(self.path)
            except OfframpError as exc:
                log.error("term list not reloaded, the previous list stays in force: %s", exc)
                return False
            self._stamp, self._digest = stamp, digest
            changed = fresh.list_version != self.current.list_version
            self.current = fresh
            if changed:
                log.info("term list reloaded: version %s", fresh.list_version)
            return changed

    def reload_if_changed(self) -> bool:
        """Reload only when the file's mtime/size and then its content hash changed."""
        stamp = self._stat()
        if stamp == self._stamp:
            return False
        if self._hash() == self._digest:
            self._stamp = stamp
            return False
        return self.reload()
