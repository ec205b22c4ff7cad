"""`offramp export`: decrypt offline with the researchers' key, write dataset + codebook.

Exit status: 0 when every record opened; 1 when the files were written but some records failed
to open (each reason is printed with its count: nothing is dropped silently); 2 for anything the
person must fix first (wrong key or passphrase, unreachable database, unknown instrument).
"""

from __future__ import annotations

from pathlib import Path

import click

from offramp.data.export import run_export
from offramp.data.formats import WRITERS
from offramp.data.quality import QualitySettings
from offramp.vault.passphrase import passphrases_for

_DEFAULTS = QualitySettings()


@click.command()
@click.option("--db", required=True, help="Database URL, e.g. sqlite:///offramp.sqlite.")
@click.option("--key", "key_files", type=click.Path(path_type=Path), multiple=True, required=True,
              help="Researcher private key file (repeat for several key sets).")
@click.option("--passphrase-file", "passphrase_files", type=click.Path(path_type=Path),
              multiple=True, help="File holding the passphrase of a key; give one per --key, "
              "in the same order (default: OFFRAMP_PASSPHRASE for every key, else a prompt "
              "for each).")
@click.option("--format", "formats", type=click.Choice(sorted(WRITERS)), multiple=True,
              default=("csv",), show_default=True,
              help="Dataset format; repeat for several (parquet, csv, sav, dta, xlsx).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--instrument", "instrument_id", default=None, help="Only this instrument.")
@click.option("--speeder-threshold", type=click.FloatRange(0, 1), show_default=True,
              default=_DEFAULTS.speeder_threshold,
              help="qc_speeder when time on the pages seen < this x their median time.")
@click.option("--grid-min-items", type=click.IntRange(2), default=_DEFAULTS.grid_min_items,
              show_default=True, help="Smallest grid (select_one items sharing a choice list "
              "on one page) checked for straight-lining.")
@click.option("--duplicate-threshold", type=click.FloatRange(0, 1), show_default=True,
              default=_DEFAULTS.duplicate_threshold,
              help="qc_duplicate when another response pattern matches this share of columns.")
@click.option("--duplicate-min-items", type=click.IntRange(1), show_default=True,
              default=_DEFAULTS.duplicate_min_items,
              help="Respondents shown fewer columns are not checked for duplicates.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes that open records in parallel.")
@click.option("--mark/--no-mark", "mark", default=True, show_default=True,
              help="Mark the records written as exported in the store once every file is on "
              "disk, so `offramp store purge --responses` may delete them (records that failed "
              "to open are never marked). --no-mark leaves the store unchanged, e.g. for a "
              "trial export or a read-only copy.")
def export(
    db: str, key_files: tuple[Path, ...], passphrase_files: tuple[Path, ...],
    formats: tuple[str, ...], out: Path,
    instrument_id: str | None, speeder_threshold: float, grid_min_items: int,
    duplicate_threshold: float, duplicate_min_items: int, jobs: int, mark: bool,
) -> None:
    """Decrypt responses offline and write the dataset with its codebook.

    Each key's passphrase comes from its --passphrase-file, else OFFRAMP_PASSPHRASE (the same
    for every key), else a prompt naming the key file. Writes
    OUT/<instrument>.<format> and OUT/<instrument>.codebook.json/.html beside it, then marks
    the records written as exported in the store (unless --no-mark).

    Exit status: 0 every record opened; 1 written, but some records failed to open (each
    reason printed with its count); 2 nothing written (wrong key or passphrase, unknown
    database or instrument). See docs/data.md.
    """
    settings = QualitySettings(
        speeder_threshold=speeder_threshold, grid_min_items=grid_min_items,
        duplicate_threshold=duplicate_threshold, duplicate_min_items=duplicate_min_items,
    )
    passphrases = passphrases_for(key_files, passphrase_files)
    result = run_export(db, list(key_files), formats, out, instrument_id, passphrase=passphrases,
                        settings=settings, jobs=jobs, mark_exported=mark)
    for path in result.written:
        click.echo(f"wrote {path}")
    report = result.report
    click.echo(f"opened {report.opened} responses; {report.failed} failed")
    if mark:
        click.echo(f"marked {result.marked} responses exported in the store")
    for reason, count in report.failures.most_common():
        click.echo(f"  {count} failed: {reason}", err=True)
    for text, count in report.warnings.most_common():
        click.echo(f"  warning ({count}): {text}", err=True)
    if report.failed:
        raise SystemExit(1)
