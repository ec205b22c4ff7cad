"""`offramp messages ...` and `offramp experiment ...`: the catalogue and the experiment report."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import click

from offramp.config import Settings, load_settings
from offramp.intercept.messages import CATALOGUE_DIR, check_catalogue, load_catalogue


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def messages() -> None:
    """Check the interstitial message catalogue (one YAML file per language)."""


@messages.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Catalogue folder (default: the catalogue shipped with offramp).")
@click.option("--default-language", default="en", show_default=True,
              help="The language every other falls back to; it must be complete.")
@click.option("--strict", is_flag=True, help="Also fail while any language is still a draft.")
def messages_check(directory: Path | None, default_language: str, strict: bool) -> None:
    """Name every missing translation per language and variant; exit 1 if any is missing."""
    catalogue = load_catalogue(directory or CATALOGUE_DIR, default_language)
    gaps = check_catalogue(catalogue)
    drafts = sorted(c for c, e in catalogue.languages.items() if e.draft)
    for code in catalogue.language_codes():
        entry = catalogue.languages[code]
        state = "draft, needs review" if entry.draft else "reviewed"
        click.echo(f"{code}\t{entry.name}\t{entry.direction}\t{state}\t"
                   f"variants: {', '.join(sorted(entry.variants)) or '-'}")
    for gap in gaps:
        click.echo(f"missing: {gap}")
    click.echo(f"{len(catalogue.languages)} languages, {len(catalogue.variants())} variants "
               f"({', '.join(catalogue.variants())}); {len(gaps)} gaps; drafts: "
               f"{', '.join(drafts) or 'none'}")
    if gaps or (strict and drafts):
        raise SystemExit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def experiment() -> None:
    """Message experiments: report results, make an operator token, serve the operator page."""


def _settings(config: Path | None, db: str | None) -> Settings:
    settings = load_settings(config)
    if db is not None:
        from dataclasses import replace

        settings = replace(settings, database_url=db)
    return settings


def _fmt(value: float, pattern: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        pattern % value
    )


@experiment.command("report")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="TOML settings file (for database_url).")
@click.option("--db", default=None, help="Database URL (overrides the config), e.g. "
              "sqlite:///offramp.sqlite or postgresql://...")
@click.option("--link", default="help", show_default=True, help="Which link's clicks to compare.")
@click.option("--lang", default=None, help="One language only (default: all pooled, then each).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day.")
@click.option("--lift", type=float, default=0.2, show_default=True,
              help="Relative lift for the sample-size calculator (0.2 = +20%).")
@click.option("--alpha", type=click.FloatRange(1e-6, 0.5), default=0.05, show_default=True)
@click.option("--power", type=click.FloatRange(0.5, 0.999), default=0.8, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def experiment_report(config_path: Path | None, db: str | None, link: str, lang: str | None,
                      since: dt.datetime | None, until: dt.datetime | None, lift: float,
                      alpha: float, power: float, fmt: str) -> None:
    """Click-through per arm: Wilson intervals, z-test vs control (Holm), P(beats control)."""
    from offramp.intercept.experiment import build_report
    from offramp.store import Repository, make_engine

    settings = _settings(config_path, db)
    engine = make_engine(settings.database_url)
    try:
        rows = Repository(engine).read_counts()
    finally:
        engine.dispose()
    languages: list[str | None] = [lang] if lang else [None, *sorted({r.language for r in rows})]
    reports = [
        build_report(rows, link=link, language=language,
                     since=since.date() if since else None, until=until.date() if until else None,
                     lift=lift, alpha=alpha, power=power)
        for language in languages
    ]
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
        return
    for report in reports:
        span = (f"{report.first_day} to {report.last_day}" if report.first_day else "no data")
        click.echo(f"link {report.link!r}, language {report.language}, {span}")
        click.echo(f"  {'arm':<14}{'views':>9}{'clicks':>8}{'rate':>8}  {'95% Wilson':<17}"
                   f"{'z':>7}{'p':>8}{'p Holm':>8}{'P(>ctl)':>9}")
        for a in report.arms:
            click.echo(
                f"  {a.arm:<14}{a.impressions:>9}{a.clicks:>8}{_fmt(100 * a.rate, '%.2f%%'):>8}  "
                f"{_fmt(100 * a.ci_low, '%.2f'):>6}-{_fmt(100 * a.ci_high, '%.2f%%'):<10}"
                f"{_fmt(a.z, '%.2f'):>7}{_fmt(a.p_value, '%.4f'):>8}{_fmt(a.p_holm, '%.4f'):>8}"
                f"{_fmt(a.prob_beats_control, '%.3f'):>9}" + ("  (clicks capped)" if
                                                              a.clicks_capped else "")
            )
        if report.sample_size_per_arm:
            click.echo(f"  sample size: {report.sample_size_per_arm} impressions per arm to "
                       f"detect a {report.lift:+.0%} lift (power {report.power}, alpha "
                       f"{report.alpha} split over the comparisons)")
        click.echo("")


@experiment.command("token")
def experiment_token() -> None:
    """Make an operator token: give the token to operators, put the hash line in the config."""
    from offramp.intercept.admin import new_token, token_hash

    token = new_token()
    click.echo(f"token (give to operators, store nowhere else): {token}")
    click.echo(f'config line: admin_token_hash = "{token_hash(token)}"')


@experiment.command("serve")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="TOML settings file (database_url, admin_token_hash).")
@click.option("--listen", default=None,
              help="HOST:PORT to bind (default: admin_listen, 127.0.0.1:8001).")
def experiment_serve(config_path: Path | None, listen: str | None) -> None:
    """Serve the operator page alone, on loopback unless told otherwise. No access log."""
    import uvicorn

    from offramp.errors import ConfigError
    from offramp.intercept.admin import make_admin_app
    from offramp.logs import configure, log_config
    from offramp.store import Repository, make_engine
    from offramp.web.security import SecurityHeadersMiddleware

    settings = _settings(config_path, None)
    host, _, port = (listen or settings.admin_listen).rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"admin_listen {listen or settings.admin_listen!r}: expected HOST:PORT")
    configure(settings.log_level)
    app = make_admin_app(settings, Repository(make_engine(settings.database_url)))
    uvicorn.run(SecurityHeadersMiddleware(app), host=host.strip("[]"), port=int(port),
                access_log=False, server_header=False, date_header=False,
                log_config=log_config(settings.log_level), proxy_headers=False)
