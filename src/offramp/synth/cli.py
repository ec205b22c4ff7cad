"""`offramp synth ...`: synthetic data with planted effects, to check estimates against truth.

Each subcommand lives beside the generator it drives (synth/logs.py, synth/respondents.py) and is
imported only when used.
"""

from __future__ import annotations

import importlib

import click

SUBCOMMANDS = {
    "logs": ("offramp.synth.logs", "logs_command", "Synthetic search logs with known prevalence."),
    "respondents": (
        "offramp.synth.respondents",
        "respondents_command",
        "Synthetic survey respondents with planted effects.",
    ),
}


class _LazySynth(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return None
        module, attribute, _ = SUBCOMMANDS[cmd_name]
        try:
            command = getattr(importlib.import_module(module), attribute, None)
        except ModuleNotFoundError:
            return None
        return command if isinstance(command, click.Command) else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUBCOMMANDS[name][2]) for name in sorted(SUBCOMMANDS)])


@click.group(cls=_LazySynth)
def synth() -> None:
    """Synthetic respondents and search logs with planted effects."""
