"""The one entry point: ``offramp <command>``.

Each stage owns its commands in its own module; this file only lists where they live, so that
``offramp --help`` stays fast (nothing heavy is imported until a command runs) and no stage has to
edit another's code to add a command.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from offramp.errors import OfframpError

# command name -> "module:attribute" of a click command or group
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("offramp.demo", "Make a demo data folder and serve it on SQLite."),
    "serve": ("offramp.serve", "Run the production server (no access log)."),
    "keys": ("offramp.vault.cli", "Generate and manage researchers' key pairs."),
    "screen": (
        "offramp.screen.cli",
        "Screen queries against a term list; lint, evaluate, compile.",
    ),
    "survey": ("offramp.survey.cli", "Check, preview and publish survey instruments."),
    "messages": ("offramp.intercept.cli", "Check the interstitial message catalogue."),
    "experiment": ("offramp.intercept.cli", "Report message experiments from aggregate counts."),
    "store": ("offramp.store.cli", "Back up, verify and purge the response store."),
    "export": ("offramp.data.cli", "Decrypt responses offline and export dataset + codebook."),
    "analyse": ("offramp.analysis.cli", "Run an analysis plan over a dataset."),
    "report": ("offramp.report.cli", "Write the HTML (and PDF) report of an analysis plan."),
    "logscan": ("offramp.logscan.cli", "Measure prevalence of CSAM-seeking searches in logs."),
    "synth": ("offramp.synth.cli", "Synthetic respondents and search logs with planted effects."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[cmd_name]
        module = importlib.import_module(module_name)
        command = getattr(module, cmd_name.replace("-", "_"), None)
        if not isinstance(command, click.Command):
            return None
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OfframpError as exc:
            click.echo(f"offramp: error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="offramp")
def cli() -> None:
    """offramp: intercept CSAM-seeking searches, offer help, and run anonymous research."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="offramp")
