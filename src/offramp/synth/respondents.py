"""`offramp synth respondents`: synthetic survey data with planted effects, shaped like an export.

The dataset is built by the export's own code (offramp.data.dataset, quality flags and codebook)
from records shaped like opened responses, so it has exactly the columns, missing codes
(-97/-98/-99), `var__choice` dummies, quality flags and codebook that `offramp export` writes for
the same instrument: the report and analysis cannot tell the two apart. Beside the data:

    OUT                     the dataset (.parquet, .csv, .sav, .dta or .xlsx, from the suffix)
    STEM.codebook.json/.html  the codebook (STEM = OUT without its suffix)
    STEM.truth.json         what was planted: effects as logit coefficients, marginal shares,
                            how many careless respondents of each kind

With `--via URL` each respondent is also pushed through the survey's real HTTP pages (consent,
every page, thanks), so a demo store fills up end to end and `offramp export` can be checked
against the same answers (the server keeps its own day and seconds).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import polars as pl

from offramp.data.atomic import write_text_atomic
from offramp.data.codebook import build_codebook, write_codebook
from offramp.data.dataset import DatasetBuilder
from offramp.data.decrypt import OpenedResponse, OpenReport
from offramp.data.formats import WRITERS
from offramp.data.quality import QualitySettings
from offramp.errors import InputError
from offramp.store.repository import StoredResponse
from offramp.survey.instrument import Instrument
from offramp.survey.load import load_instrument
from offramp.synth.generator import Generator, SyntheticResponse
from offramp.synth.scenario import Scenario, check_scenario, load_scenario

VERSION = 1
"""The instrument version synthetic records claim (a fresh store publishes version 1)."""


@dataclass
class SynthResult:
    data: pl.DataFrame
    codebook: dict[str, Any]
    truth: dict[str, Any]
    written: list[Path]
    responses: list[SyntheticResponse]


def _stored(instrument: Instrument, index: int, response: SyntheticResponse) -> StoredResponse:
    return StoredResponse(
        response_id=index, instrument_id=instrument.id, instrument_version=VERSION,
        page_id=response.last_page, arm=response.arm, language=response.language,
        day=response.day, seconds=response.seconds, sealed=b"",
    )


def generate(instrument: Instrument, scenario: Scenario, n: int, seed: int
             ) -> tuple[Generator, list[SyntheticResponse]]:
    """n synthetic respondents (the generator keeps the truth and the careless counts)."""
    check_scenario(scenario, instrument)
    generator = Generator(instrument, scenario, seed)
    return generator, [generator.respondent() for _ in range(n)]


def _opened(instrument: Instrument, responses: list[SyntheticResponse]
            ) -> Iterator[OpenedResponse]:
    for index, response in enumerate(responses, start=1):
        yield OpenedResponse(_stored(instrument, index, response), response.answers,
                             response.shown, dict(response.page_seconds))


def build(instrument: Instrument, responses: list[SyntheticResponse],
          settings: QualitySettings | None = None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The dataset and codebook, made by the export's own builders."""
    report = OpenReport(opened=len(responses))
    instruments = {(instrument.id, VERSION): instrument}
    built = DatasetBuilder(instruments, report, settings=settings).add_all(
        _opened(instrument, responses)).finish()
    codebook = build_codebook(instruments, None, built.data, built.quality, report)
    return built.data, codebook


def synthesise(instrument: Instrument, scenario: Scenario, n: int, seed: int, out: Path,
               settings: QualitySettings | None = None) -> SynthResult:
    """Generate, build and write the dataset, its codebook and the truth beside `out`."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in WRITERS:
        raise InputError(f"--out {out}: name the dataset .{' .'.join(sorted(WRITERS))}",
                         hint="the suffix chooses the format, as in offramp export")
    generator, responses = generate(instrument, scenario, n, seed)
    data, codebook = build(instrument, responses, settings)
    truth = {
        "generator": "offramp synth respondents",
        "instrument": {"id": instrument.id, "version_label": instrument.version_label,
                       "source_hash": instrument.source_hash()},
        "n": n, "seed": seed,
        "scenario": scenario.to_dict(),
        "careless": {"speeders": generator.counts["speeder"],
                     "straightliners": generator.counts["straightliner"],
                     "attentive": generator.counts["attentive"]},
        **generator.truth(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    stem = out.with_suffix("")
    written = [WRITERS[fmt](data, out, codebook)]
    written += write_codebook(codebook, stem)
    truth_path = stem.with_name(stem.name + ".truth.json")
    write_text_atomic(truth_path, json.dumps(truth, indent=1, ensure_ascii=False))
    written.append(truth_path)
    return SynthResult(data, codebook, truth, written, responses)


@click.command("respondents")
@click.option("--n", "n", required=True, type=click.IntRange(min=1), help="Number of respondents.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option("--instrument", "instrument_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The instrument (XLSForm .xlsx or YAML) the answers are for.")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Marginals, planted effects, missingness and careless shares (YAML); "
              "default: plausible answers with no planted effect.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Dataset to write: .parquet, .csv, .sav, .dta or .xlsx. The codebook and "
              "STEM.truth.json are written beside it.")
@click.option("--via", "via_url", default=None, metavar="URL",
              help="Also push every respondent through the survey pages of the offramp server "
              "at URL (e.g. http://127.0.0.1:8000), which must publish the same instrument.")
def respondents_command(n: int, seed: int, instrument_path: Path, scenario_path: Path | None,
                        out: Path, via_url: str | None) -> None:
    """Synthetic respondents for any instrument, with known planted effects.

    Answers honour skip logic, choice filters and constraints; some respondents say "prefer not
    to say" or skip questions, some speed or straight-line (the export's quality flags catch them),
    and open questions get clinical template sentences.
    """
    instrument = load_instrument(instrument_path)
    scenario = load_scenario(scenario_path) if scenario_path else Scenario()
    started = time.perf_counter()
    result = synthesise(instrument, scenario, n, seed, out)
    elapsed = time.perf_counter() - started
    for path in result.written:
        click.echo(f"wrote {path}")
    careless = result.truth["careless"]
    click.echo(f"{n:,} respondents in {elapsed:.1f} s ({careless['speeders']} speeders, "
               f"{careless['straightliners']} straight-liners)")
    for effect in result.truth["effects"]:
        ratios = ", ".join(f"{k} OR {v:.2f}" for k, v in effect["odds_ratios"].items()
                           if abs(v - 1) > 1e-9)
        click.echo(f"planted: {effect['outcome']} = {effect['event']!r}: {ratios or 'no effect'}")
    if via_url:
        from offramp.synth.via import push_all

        pushed = push_all(via_url, instrument, result.responses, echo=click.echo)
        click.echo(f"pushed {pushed.completed:,} of {n:,} respondents through {via_url}")
        if pushed.failed:
            for reason, count in pushed.failures.most_common():
                click.echo(f"  {count} failed: {reason}", err=True)
            raise SystemExit(1)
