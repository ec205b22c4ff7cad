"""`offramp keys ...`: researchers' key pairs."""

from __future__ import annotations

from pathlib import Path

import click

from offramp.vault.keys import KDF_PROFILES, fingerprint, generate, load_public_key
from offramp.vault.passphrase import get_passphrase


@click.group()
def keys() -> None:
    """Generate and inspect researchers' key pairs (the private key never goes on the server)."""


@keys.command("generate")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for researcher.pub (give to the server) and researcher.key (keep).")
@click.option("--name", default="researcher", show_default=True, help="File name stem.")
@click.option("--kdf-profile", type=click.Choice(sorted(KDF_PROFILES)), default="moderate",
              show_default=True, help="argon2id cost for the passphrase (see docs/threat-model.md).")
def generate_command(out_dir: Path, name: str, kdf_profile: str) -> None:
    """Write OUT/researcher.pub and OUT/researcher.key (passphrase from OFFRAMP_PASSPHRASE or a prompt)."""
    passphrase = get_passphrase(confirm=True)
    paths = generate(out_dir, passphrase, profile=kdf_profile, name=name)  # type: ignore[arg-type]
    click.echo(f"public key:  {paths.public}   (copy this to the server)")
    click.echo(f"private key: {paths.private}  (keep offline; never on the server)")
    click.echo(f"fingerprint: {fingerprint(load_public_key(paths.public))}")


@keys.command("fingerprint")
@click.argument("public_key", type=click.Path(path_type=Path))
def fingerprint_command(public_key: Path) -> None:
    """Print the fingerprint of a public key file, to compare with the admin page."""
    click.echo(fingerprint(load_public_key(public_key)))
