"""Write the output folder all at once, or not at all.

Everything is written into a hidden sibling folder first; only when every file is complete does it
take the output folder's name (a rename, atomic on one file system). A run that fails or is killed
leaves at most a ``.NAME.partial-*`` folder, never a half-written output that looks finished, and
``manifest.json`` (written last, with ``"status"``) tells a complete output from anything else.
An existing output folder is replaced only when it is empty or an earlier logscan output.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from offramp.errors import ConfigError

TOOL = "offramp logscan"


def _is_previous_output(folder: Path) -> bool:
    manifest = folder / "manifest.json"
    try:
        return bool(json.loads(manifest.read_text(encoding="utf-8")).get("tool") == TOOL)
    except (OSError, ValueError, AttributeError):
        return False


def check_target(out: Path) -> None:
    """Refuse early (before hours of scanning) to overwrite a folder that is not ours."""
    if out.exists():
        if not out.is_dir():
            raise ConfigError(f"--out {out} exists and is not a folder")
        if any(out.iterdir()) and not _is_previous_output(out):
            raise ConfigError(
                f"--out {out} already holds files that are not a logscan output",
                hint="choose a new or empty folder",
            )


class AtomicFolder:
    """``with AtomicFolder(out) as staging: ...write files into staging...`` then publish."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.staging = self.out.parent / f".{self.out.name}.partial-{secrets.token_hex(4)}"

    def __enter__(self) -> Path:
        check_target(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.staging.mkdir()
        return self.staging

    def write_bytes(self, name: str, data: bytes) -> None:
        _write(self.staging / name, lambda f: f.write_bytes(data))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        check_target(self.out)
        old: Path | None = None
        if self.out.exists():
            old = self.out.parent / f".{self.out.name}.old-{secrets.token_hex(4)}"
            os.replace(self.out, old)
        os.replace(self.staging, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _write(path: Path, writer: Callable[[Path], object]) -> None:
    """Write through a temporary name in the same folder, then rename (used for single files)."""
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_file_atomically(path: str | Path, writer: Callable[[Path], object]) -> None:
    """Public: write one file through a temporary name beside it and rename it into place."""
    _write(Path(path), writer)
