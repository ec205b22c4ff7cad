"""`offramp demo`: a complete, local offramp in one command, asking nothing.

It makes a data folder (keys, term list, instrument, config, SQLite store), prints where
everything is and what to try next, and serves it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import click

from offramp.config import load_settings
from offramp.serve import run_server
from offramp.vault.keys import generate

ASSETS = Path(__file__).resolve().parent / "demo_assets"


def prepare(data: Path, port: int, host: str) -> tuple[Path, str]:
    """Create (or reuse) the demo folder; returns the config path and where the passphrase is."""
    data.mkdir(parents=True, exist_ok=True)
    keys = data / "keys"
    passphrase_note = "OFFRAMP_PASSPHRASE (from your environment)"  # noqa: S105 - a label
    passphrase = os.environ.get("OFFRAMP_PASSPHRASE")
    passphrase_file = data / "passphrase.txt"
    if not (keys / "researcher.key").exists():
        if not passphrase:
            passphrase = secrets.token_urlsafe(18)
            fd = os.open(passphrase_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(passphrase + "\n")
        # The demo uses the interactive argon2id profile so it starts fast; production keys
        # default to the moderate profile (docs/threat-model.md).
        generate(keys, passphrase, profile="interactive")
    if not os.environ.get("OFFRAMP_PASSPHRASE") and passphrase_file.exists():
        passphrase_note = str(passphrase_file)
    for name in ("terms.txt", "survey.yaml", "plan.yaml"):
        if (ASSETS / name).exists() and not (data / name).exists():
            shutil.copyfile(ASSETS / name, data / name)
    config = data / "offramp.toml"
    config.write_text(
        "# Written by `offramp demo`.\n"
        'database_url = "sqlite:///offramp.sqlite"\n'
        'terms = "terms.txt"\n'
        'instruments = ["survey.yaml"]\n'
        'public_keys = ["keys/researcher.pub"]\n'
        "demo = true\n"
        f'host = "{host}"\n'
        f"port = {port}\n",
        encoding="utf-8",
    )
    return config, passphrase_note


@click.command()
@click.option(
    "--data",
    "data",
    type=click.Path(path_type=Path),
    default=Path("offramp-demo"),
    show_default=True,
    help="Folder for the demo's keys, lists, survey and database.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the folder and print the commands only.")
def demo(data: Path, port: int, host: str, no_serve: bool) -> None:
    """Make a demo data folder (keys, term list, survey) and serve it on SQLite."""
    config, passphrase_note = prepare(data, port, host)
    settings = load_settings(config)
    base = f"http://{host}:{port}"
    d = data
    set_passphrase = (
        f'export OFFRAMP_PASSPHRASE="$(cat {d}/passphrase.txt)"'
        if (d / "passphrase.txt").exists() and not os.environ.get("OFFRAMP_PASSPHRASE")
        else "# OFFRAMP_PASSPHRASE is already set in your environment"
    )
    click.echo(
        f"""offramp demo: data in {d}/
  search page   {base}/demo/search   (search for the invented term "zorblax" to be intercepted)
  interstitial  {base}/intercept
  survey        {base}/s/demo
  key pair      {d}/keys/researcher.pub (server) and {d}/keys/researcher.key (researchers)
  passphrase    {passphrase_note}

Next, in another terminal (after answering the survey once):
  {set_passphrase}
  .venv/bin/offramp export --db sqlite:///{d}/offramp.sqlite \\
      --key {d}/keys/researcher.key --format csv --out {d}/export
  .venv/bin/offramp report --plan {d}/plan.yaml --data {d}/export/demo.csv \\
      --out {d}/report.html --pdf {d}/report.pdf
Stop the server with Ctrl-C.""",
        err=False,
    )
    if not no_serve:
        click.echo(f"serving on {base}/", err=False)
        run_server(settings, config)
