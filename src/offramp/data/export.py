"""The export pipeline: open the sealed records offline, build the dataset, write every format.

Kept apart from the CLI so scripts and tests can call `run_export` directly. Opening is the
slow step (one X25519 operation and one JSON parse per record), so with jobs > 1 ranges of
records are read, opened and built in worker processes, each given the private keys at start-up
and reading the store itself; everything else runs once over the whole dataset (the quality
flags need all respondents).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from nacl.public import PrivateKey
from sqlalchemy.exc import DBAPIError, OperationalError

from offramp.data.codebook import build_codebook, write_codebook
from offramp.data.dataset import DatasetBuilder, InstrumentKey
from offramp.data.decrypt import SEALED_TO_OTHERS, OpenReport, open_stored
from offramp.data.formats import WRITERS
from offramp.data.quality import QualitySettings
from offramp.errors import InputError, IntegrityError, KeyFileError, StoreUnavailable
from offramp.store import Repository, make_engine, upgrade
from offramp.store.db import normalise_url, sqlite_file
from offramp.survey.instrument import Instrument
from offramp.vault.keys import fingerprint, load_private_key
from offramp.vault.passphrase import Passphrase

BATCH = 2000


@dataclass
class ExportResult:
    written: list[Path] = field(default_factory=list)
    report: OpenReport = field(default_factory=OpenReport)
    codebook: dict[str, Any] = field(default_factory=dict)
    data: pl.DataFrame | None = None
    marked: int = 0
    """Records marked exported in the store (0 with mark_exported=False)."""


def open_repository(db: str) -> Repository:
    """The store at `db`, refusing to create an empty SQLite file for a mistyped path."""
    database = sqlite_file(normalise_url(db))
    if database is not None and not database.exists():
        raise InputError("no such database file", file=str(database),
                         hint="give the sqlite:/// URL of the server's database (or a copy)")
    engine = make_engine(db)
    try:
        upgrade(engine)
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise StoreUnavailable("the response store cannot be reached",
                               hint=type(exc.orig).__name__ if exc.orig else None) from exc
    return Repository(engine)


def load_instruments(
    repository: Repository, instrument_id: str | None
) -> dict[InstrumentKey, Instrument]:
    instruments = {
        (iid, version): Instrument.from_json(definition)
        for iid, version, definition in repository.instrument_versions()
        if instrument_id is None or iid == instrument_id
    }
    if not instruments:
        what = f"no instrument {instrument_id!r}" if instrument_id else "no published instrument"
        raise InputError(f"{what} in this database")
    return instruments


# -- worker processes ----------------------------------------------------------------------------
# Each worker reads its own ranges of records from the store (its own connection), opens and
# builds them, and sends back only the built batches (polars frames, compact to pickle). The
# parent only hands out (first_id, last_id) ranges: it neither reads nor pickles records, which
# had cost as much CPU as a worker spent opening them.
_worker: dict[str, Any] = {}


def _init_worker(url: str, keys: list[bytes], definitions: list[tuple[str, int, str]],
                 settings: QualitySettings, instrument_id: str | None) -> None:
    _worker["repository"] = Repository(make_engine(url), group_commit=False)
    _worker["keys"] = [PrivateKey(k) for k in keys]
    _worker["instruments"] = {(i, v): Instrument.from_json(d) for i, v, d in definitions}
    _worker["settings"] = settings
    _worker["instrument_id"] = instrument_id


Parts = tuple[list[pl.DataFrame], list[pl.DataFrame], OpenReport]


def _open_range(first_id: int, last_id: int) -> Parts:
    report = OpenReport()
    records = _worker["repository"].iter_responses(
        _worker["instrument_id"], first_id=first_id, last_id=last_id
    )
    builder = DatasetBuilder(_worker["instruments"], report, batch_size=last_id - first_id + 2,
                             settings=_worker["settings"])
    with gc_paused():
        builder.add_all(open_stored(records, _worker["keys"], report))
        frames, timings = builder.parts()
    return frames, timings, report


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while records are opened and built.

    Each record adds a few hundred acyclic dicts and strings that reference counting frees; the
    cycle collector would still walk every live one again and again (measured: 20-40% of the
    time of open + build). It is switched back on, as it was, afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build(
    repository: Repository,
    keys: Sequence[PrivateKey],
    instruments: dict[InstrumentKey, Instrument],
    instrument_id: str | None,
    settings: QualitySettings,
    jobs: int = 1,
) -> tuple[DatasetBuilder, OpenReport]:
    """Open every record (of one instrument) and build the dataset's batches; jobs > 1 opens
    ranges of BATCH records in that many worker processes."""
    report = OpenReport()
    builder = DatasetBuilder(instruments, report, settings=settings)
    if jobs <= 1:
        with gc_paused():
            builder.add_all(open_stored(repository.iter_responses(instrument_id), keys, report))
        return builder, report
    ranges = repository.response_id_ranges(instrument_id, size=BATCH)
    definitions = [(i, v, inst.to_json()) for (i, v), inst in instruments.items()]
    url = repository.engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(
        max_workers=min(jobs, max(1, len(ranges))), initializer=_init_worker,
        initargs=(url, [bytes(k) for k in keys], definitions, settings, instrument_id),
    ) as pool:
        # Every range at once (each is two numbers); results are collected in order, so the
        # dataset's batches come back in storage order.
        firsts, lasts = [r[0] for r in ranges], [r[1] for r in ranges]
        for frames, timings, part_report in pool.map(_open_range, firsts, lasts):
            builder.extend_parts(frames, timings)
            report.merge(part_report)
    return builder, report


def _nothing_opened(report: OpenReport, keys: Sequence[PrivateKey]) -> None:
    if report.opened or not report.failed:
        return
    if set(report.failures) == {SEALED_TO_OTHERS}:
        prints = ", ".join(fingerprint(k.public_key) for k in keys)
        raise KeyFileError(
            f"none of the {report.failed} responses is sealed to the given key ({prints})",
            hint="use the private key whose public half the server lists in public_keys",
        )
    reasons = "; ".join(f"{n} {reason}" for reason, n in report.failures.most_common())
    raise IntegrityError(f"none of the {report.failed} responses opened: {reasons}")


def run_export(
    db: str,
    key_files: list[Path],
    formats: Sequence[str],
    out: Path,
    instrument_id: str | None = None,
    *,
    passphrase: str | Sequence[str | Passphrase],
    settings: QualitySettings | None = None,
    jobs: int = 1,
    mark_exported: bool = True,
) -> ExportResult:
    """Decrypt, build and write; raises OfframpError for anything a person must fix.

    `passphrase` is one passphrase for every key file, or one per key file in their order (a
    Passphrase names its source, which a wrong-passphrase error then names too).
    With `mark_exported`, the records in the written dataset (never those that failed to open)
    are marked exported in the store once every file is on disk, which lets
    `offramp store purge --responses` delete them.
    """
    unknown = [f for f in formats if f not in WRITERS]
    if unknown:
        raise InputError(f"unknown format {unknown[0]!r}; use one of {', '.join(sorted(WRITERS))}")
    keys = _load_keys(key_files, passphrase)
    repository = open_repository(db)
    try:
        instruments = load_instruments(repository, instrument_id)
        builder, report = build(repository, keys, instruments, instrument_id,
                                settings or QualitySettings(), jobs)
        repository.engine.dispose()  # no connection held open while the files are written
        _nothing_opened(report, keys)
        built = builder.finish()
        codebook = build_codebook(instruments, None, built.data, built.quality, report)
        out.mkdir(parents=True, exist_ok=True)
        ids = sorted({iid for iid, _ in instruments})
        stem = out / (ids[0] if len(ids) == 1 else "responses")
        result = ExportResult(report=report, codebook=codebook, data=built.data)
        for fmt in dict.fromkeys(formats):
            path = stem.with_name(f"{stem.name}.{fmt}")
            result.written.append(WRITERS[fmt](built.data, path, codebook))
        result.written += write_codebook(codebook, stem)
        # Every file is now durable (atomic_path flushes the file and its folder): only now may
        # the store learn that these records are safe to purge.
        if mark_exported:
            result.marked = _mark(repository, built.response_ids)
    finally:
        repository.engine.dispose()
    return result


def _load_keys(
    key_files: Sequence[Path], passphrase: str | Sequence[str | Passphrase]
) -> list[PrivateKey]:
    given = [passphrase] * len(key_files) if isinstance(passphrase, str) else list(passphrase)
    if len(given) != len(key_files):
        raise InputError(f"{len(given)} passphrases for {len(key_files)} key files")
    return [
        load_private_key(path, p.value, source=p.source) if isinstance(p, Passphrase)
        else load_private_key(path, p)
        for path, p in zip(key_files, given, strict=True)
    ]


def _mark(repository: Repository, response_ids: list[int]) -> int:
    try:
        return repository.mark_exported(response_ids)
    except (OperationalError, DBAPIError) as exc:
        raise StoreUnavailable(
            "the files were written, but the records could not be marked exported",
            hint="run the export again when the store is writable, or pass --no-mark",
        ) from exc


def default_jobs() -> int:
    return max(1, min(4, (os.cpu_count() or 1)))
