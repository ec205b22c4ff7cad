"""`offramp keys ...`: researchers' key pairs, their passphrases, and the key set a server uses."""

from __future__ import annotations

from pathlib import Path

import click

from offramp.vault.keys import (
    KDF_PROFILES,
    KdfProfile,
    fingerprint,
    generate,
    kdf_profile_of,
    load_private_key,
    load_public_key,
    public_key_of,
    write_private_key,
)
from offramp.vault.passphrase import get_new_passphrase, get_passphrase
from offramp.vault.rotation import rotate_config

_PROFILE_HELP = "argon2id cost for the passphrase (see docs/threat-model.md)."


@click.group()
def keys() -> None:
    """Generate and manage researchers' key pairs (the private key never goes on the server)."""


@keys.command("generate")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for researcher.pub (give to the server) and researcher.key (keep).")
@click.option("--name", default="researcher", show_default=True, help="File name stem.")
@click.option("--kdf-profile", type=click.Choice(sorted(KDF_PROFILES)), default="moderate",
              show_default=True, help=_PROFILE_HELP)
def generate_command(out_dir: Path, name: str, kdf_profile: KdfProfile) -> None:
    """Write OUT/NAME.pub and OUT/NAME.key (passphrase: OFFRAMP_PASSPHRASE or a prompt)."""
    passphrase = get_passphrase(confirm=True)
    paths = generate(out_dir, passphrase, profile=kdf_profile, name=name)
    click.echo(f"public key:  {paths.public}   (copy this to the server)")
    click.echo(f"private key: {paths.private}  (keep offline; never on the server)")
    click.echo(f"fingerprint: {fingerprint(load_public_key(paths.public))}")


@keys.command("fingerprint")
@click.argument("key_files", nargs=-1, required=True, type=click.Path(path_type=Path))
def fingerprint_command(key_files: tuple[Path, ...]) -> None:
    """Print the fingerprint of .pub or .key files, to compare with the server's /admin/keys.

    A .key file's fingerprint is read without its passphrase.
    """
    for path in key_files:
        value = fingerprint(public_key_of(path))
        click.echo(value if len(key_files) == 1 else f"{value}  {path}")


@keys.command("change-passphrase")
@click.argument("key_file", type=click.Path(path_type=Path))
@click.option("--kdf-profile", type=click.Choice(sorted(KDF_PROFILES)), default=None,
              help=_PROFILE_HELP + " Default: keep the file's current cost.")
def change_passphrase_command(key_file: Path, kdf_profile: KdfProfile | None) -> None:
    """Protect KEY_FILE with a new passphrase; the key itself (and every record) is unchanged.

    The current passphrase comes from OFFRAMP_PASSPHRASE, the new one from
    OFFRAMP_NEW_PASSPHRASE; each is asked for at a prompt when its variable is not set.
    """
    # Open with the current passphrase first, so a typo fails before the new one is asked for.
    private = load_private_key(key_file, get_passphrase())
    new = get_new_passphrase()
    write_private_key(key_file, private, new, profile=kdf_profile or kdf_profile_of(key_file))
    click.echo(f"new passphrase set for {key_file} (fingerprint {fingerprint(private.public_key)})")


@keys.command("rotate")
@click.option("--config", "config_path", type=click.Path(path_type=Path), required=True,
              help="The server's TOML config, whose public_keys line is replaced.")
@click.argument("public_keys", nargs=-1, required=True, type=click.Path(path_type=Path))
def rotate_command(config_path: Path, public_keys: tuple[Path, ...]) -> None:
    """Make PUBLIC_KEYS (.pub files) the key set new responses are sealed to.

    Old responses stay sealed to the old keys: keep those private keys to export them. Restart
    `offramp serve` (every worker) for the new set to take effect.
    """
    rotation = rotate_config(config_path, list(public_keys))
    for label, entries in (("was", rotation.old), ("now", rotation.new)):
        for entry in entries:
            click.echo(f"{label}: {entry.fingerprint}  {entry.path}")
    if not rotation.changed:
        click.echo(f"{config_path}: key set unchanged")
        return
    click.echo(f"updated {config_path} (previous version in {rotation.backup})")
    click.echo("restart `offramp serve` so new responses are sealed to the new key set; keep the "
               "old private keys to export responses sealed before the restart")
