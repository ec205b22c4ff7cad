"""`offramp export`: decrypt offline with the researchers' key, write dataset + codebook."""

from __future__ import annotations

from pathlib import Path

import click

from offramp.data.codebook import build_codebook, write_codebook
from offramp.data.dataset import build_dataset
from offramp.data.decrypt import OpenReport, open_responses
from offramp.data.formats import WRITERS
from offramp.errors import InputError
from offramp.store import Repository, make_engine, upgrade
from offramp.survey.instrument import Instrument
from offramp.vault.keys import load_private_key
from offramp.vault.passphrase import get_passphrase


def run_export(
    db: str, key_files: list[Path], fmt: str, out: Path, instrument_id: str | None
) -> tuple[list[Path], OpenReport]:
    passphrase = get_passphrase()
    private_keys = [load_private_key(k, passphrase) for k in key_files]
    engine = make_engine(db)
    upgrade(engine)
    repository = Repository(engine)
    instruments = {
        (iid, version): Instrument.from_json(definition)
        for iid, version, definition in repository.instrument_versions()
        if instrument_id is None or iid == instrument_id
    }
    if not instruments:
        raise InputError(f"no instrument {instrument_id or ''} in this database".replace("  ", " "),
                         file=db)
    report = OpenReport()
    data = build_dataset(instruments, open_responses(repository, private_keys, report, instrument_id))
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    ids = sorted({iid for iid, _ in instruments})
    stem = out / (ids[0] if len(ids) == 1 else "responses")
    path = stem.with_suffix(f".{fmt}")
    written.append(WRITERS[fmt](data, path))
    latest: dict[str, tuple[int, Instrument]] = {}
    for (iid, version), instrument in sorted(instruments.items()):
        latest[iid] = (version, instrument)
    written += write_codebook(
        build_codebook([i for _, i in latest.values()], [v for v, _ in latest.values()], data), stem
    )
    return written, report


@click.command()
@click.option("--db", required=True, help="Database URL, e.g. sqlite:///offramp.sqlite.")
@click.option("--key", "key_files", type=click.Path(path_type=Path), multiple=True, required=True,
              help="Researcher private key file (repeat for several key sets).")
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), default="csv",
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--instrument", "instrument_id", default=None, help="Only this instrument.")
def export(db: str, key_files: tuple[Path, ...], fmt: str, out: Path, instrument_id: str | None) -> None:
    """Decrypt responses offline and write the dataset with its codebook (passphrase from OFFRAMP_PASSPHRASE)."""
    written, report = run_export(db, list(key_files), fmt, out, instrument_id)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"opened {report.opened} responses; {report.failed} failed")
    for reason, count in report.failures.most_common():
        click.echo(f"  {count} failed: {reason}", err=True)
    if report.failed:
        raise SystemExit(1)
