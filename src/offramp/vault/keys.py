"""Researchers' key pairs: the public half goes to the server, the private half never does.

The private key file is protected by a passphrase stretched with argon2id (PyNaCl's pwhash), so a
stolen laptop or backup does not open the responses without the passphrase.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import nacl.exceptions
import nacl.hash
import nacl.pwhash
import nacl.secret
import nacl.utils
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey, PublicKey

from offramp.errors import KeyFileError

KdfProfile = Literal["interactive", "moderate", "sensitive"]
KDF_PROFILES: dict[str, tuple[int, int]] = {
    "interactive": (
        nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ),
    "moderate": (nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE),
    "sensitive": (
        nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE,
        nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE,
    ),
}
PUBLIC_KIND = "offramp-public-key"
PRIVATE_KIND = "offramp-private-key"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def key_id(public_key: PublicKey) -> bytes:
    """16 bytes naming a public key inside sealed records."""
    return nacl.hash.blake2b(bytes(public_key), digest_size=16, encoder=RawEncoder)


def fingerprint(public_key: PublicKey) -> str:
    """What people compare by eye: the key id as groups of four hex digits."""
    hexed = key_id(public_key).hex()
    return " ".join(hexed[i : i + 4] for i in range(0, len(hexed), 4))


@dataclass(frozen=True)
class KeyPairPaths:
    public: Path
    private: Path


def generate(
    out_dir: Path, passphrase: str, *, profile: KdfProfile = "moderate", name: str = "researcher"
) -> KeyPairPaths:
    """Write DIR/<name>.pub and DIR/<name>.key; refuses to overwrite an existing key."""
    if not passphrase:
        raise KeyFileError("the passphrase is empty", hint="set OFFRAMP_PASSPHRASE or type one")
    out_dir.mkdir(parents=True, exist_ok=True)
    pub_path, key_path = out_dir / f"{name}.pub", out_dir / f"{name}.key"
    for path in (pub_path, key_path):
        if path.exists():
            raise KeyFileError(f"{path} exists already", hint="choose another --out folder")
    private = PrivateKey.generate()
    write_public_key(pub_path, private.public_key)
    write_private_key(key_path, private, passphrase, profile=profile)
    return KeyPairPaths(pub_path, key_path)


def write_public_key(path: Path, public_key: PublicKey) -> None:
    document = {
        "kind": PUBLIC_KIND,
        "version": 1,
        "public_key": _b64(bytes(public_key)),
        "fingerprint": fingerprint(public_key),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def write_private_key(
    path: Path, private: PrivateKey, passphrase: str, *, profile: KdfProfile = "moderate"
) -> None:
    opslimit, memlimit = KDF_PROFILES[profile]
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    wrapping = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
        opslimit=opslimit, memlimit=memlimit,
    )
    ciphertext = nacl.secret.SecretBox(wrapping).encrypt(bytes(private))
    document = {
        "kind": PRIVATE_KIND,
        "version": 1,
        "public_key": _b64(bytes(private.public_key)),
        "fingerprint": fingerprint(private.public_key),
        "kdf": {"alg": "argon2id13", "opslimit": opslimit, "memlimit": memlimit, "salt": _b64(salt)},
        "ciphertext": _b64(bytes(ciphertext)),
    }
    # Written with owner-only permissions: the file is useless without the passphrase, but
    # there is no reason to let other local users copy it for an offline guessing attack.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(document, indent=2) + "\n")


def _read_document(path: Path, kind: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeyFileError(f"{path}: no such key file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"{path}: not an offramp key file ({exc.__class__.__name__})") from exc
    if not isinstance(document, dict) or document.get("kind") != kind:
        wanted = "public key (.pub)" if kind == PUBLIC_KIND else "private key (.key)"
        raise KeyFileError(f"{path}: not an offramp {wanted} file")
    return document


def load_public_key(path: Path) -> PublicKey:
    document = _read_document(path, PUBLIC_KIND)
    try:
        return PublicKey(_unb64(str(document["public_key"])))
    except (KeyError, ValueError, nacl.exceptions.CryptoError) as exc:
        raise KeyFileError(f"{path}: the public key in this file is damaged") from exc


def load_private_key(path: Path, passphrase: str) -> PrivateKey:
    """Open a private key file; a wrong passphrase is a KeyFileError, not a traceback."""
    document = _read_document(path, PRIVATE_KIND)
    try:
        kdf = document["kdf"]
        salt = _unb64(str(kdf["salt"]))
        ciphertext = _unb64(str(document["ciphertext"]))
        opslimit, memlimit = int(kdf["opslimit"]), int(kdf["memlimit"])
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyFileError(f"{path}: the private key file is damaged") from exc
    wrapping = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
        opslimit=opslimit, memlimit=memlimit,
    )
    try:
        raw = nacl.secret.SecretBox(wrapping).decrypt(ciphertext)
    except nacl.exceptions.CryptoError as exc:
        raise KeyFileError(
            f"{path}: wrong passphrase (or the key file was altered)",
            hint="check OFFRAMP_PASSPHRASE",
        ) from exc
    return PrivateKey(raw)
