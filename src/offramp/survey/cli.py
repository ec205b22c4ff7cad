"""`offramp survey check|publish|preview FORM`: the author's tools for an instrument.

    offramp survey check form.xlsx             every problem, each with sheet, row and column
    offramp survey publish form.xlsx --db URL  store an immutable version (new only if changed)
    offramp survey preview form.xlsx           serve it on 127.0.0.1 with a preview banner

check exits 0 when the form has no errors (warnings are printed), 1 when it has errors (or
warnings, with --strict); a file it cannot read at all is an error like any other.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from offramp.survey.problems import FormRead, Problem, errors

FORM = click.Path(path_type=Path, dir_okay=False)


def _summary(result: FormRead) -> str:
    found = result.problems
    n_errors = len(errors(found))
    n_warnings = len(found) - n_errors
    counts = (f"{n_errors} error{'s' if n_errors != 1 else ''}, "
              f"{n_warnings} warning{'s' if n_warnings != 1 else ''}")
    instrument = result.instrument
    if instrument is None:
        return counts
    answerable = [q for q in instrument.questions() if q.answers and q.type != "calculate"]
    return (f"{instrument.id}: {len(instrument.pages)} pages, {len(answerable)} questions, "
            f"languages {', '.join(instrument.languages)}; {counts}")


def _problem_json(problem: Problem) -> dict[str, object]:
    where = problem.location
    return {"severity": problem.severity, "message": problem.message, "hint": problem.hint,
            "file": where.file, "sheet": where.sheet, "row": where.row,
            "column": where.column, "letter": where.letter}


@click.group()
def survey() -> None:
    """Check, preview and publish survey instruments (XLSForm .xlsx or YAML)."""


@survey.command()
@click.argument("form", type=FORM)
@click.option("--strict", is_flag=True, help="Fail on warnings (e.g. missing translations) too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per problem on stdout.")
def check(form: Path, strict: bool, as_json: bool) -> None:
    """Report every problem in FORM with its sheet, row and column (YAML: line)."""
    from offramp.survey.load import read_form

    result = read_form(form)
    for problem in result.problems:
        if as_json:
            click.echo(json.dumps(_problem_json(problem), ensure_ascii=False))
        else:
            click.echo(str(problem))
    if not as_json:
        click.echo(_summary(result), err=bool(result.problems))
    failed = result.instrument is None or bool(errors(result.problems)) or (
        strict and bool(result.problems))
    if failed:
        raise SystemExit(1)


@survey.command()
@click.argument("form", type=FORM)
@click.option("--db", required=True, help="Database URL, e.g. sqlite:///offramp.sqlite.")
def publish(form: Path, db: str) -> None:
    """Store FORM as a new immutable version (unchanged forms keep their version)."""
    from offramp.store import Repository, make_engine, upgrade
    from offramp.survey.load import read_form

    result = read_form(form)
    if result.instrument is None or errors(result.problems):
        for problem in result.problems:
            click.echo(str(problem), err=True)
        click.echo(f"not published: {_summary(result)}", err=True)
        raise SystemExit(1)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    instrument = result.instrument
    engine = make_engine(db)
    upgrade(engine)
    repository = Repository(engine)
    before = {(iid, v) for iid, v, _ in repository.instrument_versions()}
    version = repository.publish_instrument(instrument.id, instrument.source_hash(),
                                            instrument.to_json())
    if (instrument.id, version) in before:
        click.echo(f"unchanged: {instrument.id} is already published as version {version}")
    else:
        click.echo(f"published {instrument.id} version {version}")


@survey.command()
@click.argument("form", type=FORM)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8002, show_default=True, help="Port.")
def preview(form: Path, host: str, port: int) -> None:
    """Serve FORM for its author: a preview banner on every page, nothing stored."""
    import uvicorn

    from offramp.logs import configure, log_config
    from offramp.survey.load import read_form
    from offramp.survey.preview import preview_app

    result = read_form(form)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    configure("info")
    app = preview_app(form)
    instrument_id = app.state.survey_preview.current().instrument.id
    click.echo(f"previewing {form} at http://{host}:{port}/s/{instrument_id} "
               "(nothing is stored; edits to the file are picked up on reload)")
    uvicorn.run(app, host=host, port=port, access_log=False, server_header=False,
                date_header=False, log_config=log_config("info"))
