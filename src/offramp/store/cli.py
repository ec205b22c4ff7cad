"""`offramp store ...`: back up, verify and purge the response store (no private key needed)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

import click

from offramp.config import load_settings
from offramp.errors import InputError
from offramp.store.backup import PG_DUMP_RECIPE, backup_sqlite
from offramp.store.db import make_engine, normalise_url, sqlite_file
from offramp.store.repository import Repository
from offramp.store.verify import render, verify_store
from offramp.vault.keys import fingerprint, load_public_key

log = logging.getLogger("offramp.store")

_DB_HELP = "Database URL (sqlite:///FILE or postgresql://...); default: database_url of --config."
_CONFIG_HELP = "The server's TOML config (for database_url and the key set in force)."


def _database(db: str | None, config: Path | None) -> str:
    if db:
        return db
    if config is None:
        raise InputError("say which store: --db URL or --config FILE")
    return load_settings(config).database_url


def _repository(db: str) -> Repository:
    database = sqlite_file(normalise_url(db))
    if database is not None and not database.exists():
        raise InputError("no such database file", file=str(database))
    return Repository(make_engine(db), group_commit=False)


def _day(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


@click.group()
def store() -> None:
    """Back up, verify and purge the response store (SQLite or PostgreSQL)."""


@store.command("backup")
@click.option("--db", default=None, help=_DB_HELP)
@click.option("--config", "config", type=click.Path(path_type=Path), default=None,
              help=_CONFIG_HELP)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="The backup file to write (a single SQLite file).")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
def backup_command(db: str | None, config: Path | None, out: Path, overwrite: bool) -> None:
    """Copy a live SQLite store consistently (SQLite's online backup API), then check the copy.

    Safe while `offramp serve` runs. For PostgreSQL use pg_dump:

    pg_dump --format=custom --no-owner --file=offramp.dump "$DATABASE_URL"
    """
    url = _database(db, config)
    if normalise_url(url).drivername != "sqlite":
        raise InputError("offramp store backup copies SQLite stores; for PostgreSQL use pg_dump",
                         hint=PG_DUMP_RECIPE)
    result = backup_sqlite(url, out, overwrite=overwrite)
    click.echo(f"backed up {result.responses} responses ({result.pages} pages) to {result.path}; "
               "integrity check ok")


@store.command("verify")
@click.option("--db", default=None, help=_DB_HELP)
@click.option("--config", "config", type=click.Path(path_type=Path), default=None,
              help=_CONFIG_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_command(db: str | None, config: Path | None, as_json: bool) -> None:
    """Count what the store holds and check every sealed record's structure (no key needed).

    Lists the key sets records are sealed to, with their fingerprints, and marks the set in
    force in --config. Exit status 1 when a problem is found.
    """
    in_force: tuple[str, ...] = ()
    if config is not None:
        settings = load_settings(config)
        in_force = tuple(fingerprint(load_public_key(Path(p))) for p in settings.public_keys)
    repository = _repository(_database(db, config))
    try:
        report = verify_store(repository, in_force)
    finally:
        repository.engine.dispose()
    if as_json:
        document = {
            "revision": report.revision,
            "head": report.head,
            "counts": asdict(report.counts) if report.counts else None,
            "checked": report.checked,
            "damaged": dict(report.damaged),
            "damaged_ids": report.damaged_ids,
            "key_sets": [asdict(u) for u in report.key_sets],
            "in_force": list(report.in_force),
            "orphans": report.orphans,
            "purges": [asdict(p) for p in report.purges],
            "problems": report.problems,
        }
        click.echo(json.dumps(document, indent=2, default=str))
    else:
        for line in render(report):
            click.echo(line)
    if report.problems:
        sys.exit(1)


@store.command("purge")
@click.option("--db", default=None, help=_DB_HELP)
@click.option("--config", "config", type=click.Path(path_type=Path), default=None,
              help=_CONFIG_HELP)
@click.option("--drafts", is_flag=True, help="Delete unfinished surveys past their TTL.")
@click.option("--responses", "purge_responses", is_flag=True,
              help="Delete responses of --instrument from --from to --to (inclusive).")
@click.option("--instrument", default=None, help="Instrument id (with --responses).")
@click.option("--from", "from_day", default=None, help="First day, YYYY-MM-DD (with --responses).")
@click.option("--to", "to_day", default=None, help="Last day, YYYY-MM-DD (with --responses).")
@click.option("--include-unexported", is_flag=True,
              help="Also delete responses never exported (they are lost for good).")
@click.option("--dry-run", is_flag=True, help="Only say how many would go.")
@click.option("--yes", is_flag=True, help="Do not ask before deleting responses.")
def purge_command(
    db: str | None, config: Path | None, drafts: bool, purge_responses: bool,
    instrument: str | None, from_day: str | None, to_day: str | None, include_unexported: bool,
    dry_run: bool, yes: bool,
) -> None:
    """Retention: delete expired drafts, and (optionally) responses already exported.

    Only responses marked exported are deleted unless --include-unexported. Every purge is
    logged as a count (printed here, and listed by `offramp store verify`).
    """
    if not (drafts or purge_responses):
        raise InputError("say what to purge: --drafts and/or --responses")
    if purge_responses and not (instrument and from_day and to_day):
        raise InputError("--responses needs --instrument, --from and --to")
    repository = _repository(_database(db, config))
    try:
        if drafts:
            if dry_run:
                expired = repository.counts().drafts_expired
                click.echo(f"would purge {expired} drafts past their TTL")
            else:
                click.echo(f"purged {repository.purge_drafts()} drafts past their TTL")
        if purge_responses:
            assert instrument and from_day and to_day
            first, last = _day(from_day, "--from"), _day(to_day, "--to")
            if last < first:
                raise InputError("--to is before --from")
            exported, unexported = repository.count_in_range(instrument, first, last)
            going = exported + (unexported if include_unexported else 0)
            what = f"responses of {instrument} from {first} to {last}"
            if dry_run:
                click.echo(f"would purge {going} {what}; {unexported} never exported "
                           + ("(included)" if include_unexported else "(kept)"))
                return
            if not yes:
                click.confirm(f"Delete {going} {what}?", abort=True)
            result = repository.purge_responses(
                instrument, first, last, include_unexported=include_unexported
            )
            click.echo(f"purged {result.deleted} {what}; "
                       f"{result.kept_unexported} never exported were kept")
    finally:
        repository.engine.dispose()
