"""Researchers' key pairs: the public half goes to the server, the private half never does.

The private key file is protected by a passphrase stretched with argon2id (PyNaCl's pwhash), so a
stolen laptop or backup does not open the responses without the passphrase.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
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
# Refused when reading a key file: no offramp writes values outside libsodium's own profiles, and
# an unchecked file could make argon2id allocate any amount of memory.
OPSLIMIT_BOUNDS = (1, 16)
MEMLIMIT_BOUNDS = (8 * 1024, 4 * 1024**3)
KDF_ALG = "argon2id13"
PUBLIC_KIND = "offramp-public-key"
PRIVATE_KIND = "offramp-private-key"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def key_id(public_key: PublicKey) -> bytes:
    """16 bytes naming a public key inside sealed records."""
    return hashlib.blake2b(bytes(public_key), digest_size=16).digest()


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
    """Write a passphrase-protected private key file, atomically and owner-readable only."""
    if not passphrase:
        raise KeyFileError("the passphrase is empty", hint="set OFFRAMP_PASSPHRASE or type one")
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
        "kdf": {"alg": KDF_ALG, "opslimit": opslimit, "memlimit": memlimit, "salt": _b64(salt)},
        "ciphertext": _b64(bytes(ciphertext)),
    }
    _write_atomically(path, json.dumps(document, indent=2) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    # Owner-only permissions: the file is useless without the passphrase, but there is no reason
    # to let other local users copy it for an offline guessing attack. Written beside the target
    # and renamed over it, so a crash leaves the old file or the new one, never half of either.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


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
    """Read a .pub file; a damaged file (or one whose fingerprint does not match) is refused."""
    document = _read_document(path, PUBLIC_KIND)
    try:
        public = PublicKey(_unb64(str(document["public_key"])))
    except (KeyError, ValueError, nacl.exceptions.CryptoError) as exc:
        raise KeyFileError(f"{path}: the public key in this file is damaged") from exc
    stated = document.get("fingerprint")
    if stated is not None and stated != fingerprint(public):
        raise KeyFileError(
            f"{path}: the public key does not match its stated fingerprint (damaged)"
        )
    return public


def _kdf_parameters(path: Path, document: dict[str, Any]) -> tuple[bytes, bytes, int, int]:
    """Salt, ciphertext and argon2id costs, refusing values no offramp version writes.

    The bounds matter: a damaged (or hostile) file could otherwise ask argon2id for terabytes.
    """
    try:
        kdf = document["kdf"]
        salt = _unb64(str(kdf["salt"]))
        ciphertext = _unb64(str(document["ciphertext"]))
        opslimit, memlimit = int(kdf["opslimit"]), int(kdf["memlimit"])
        alg = kdf.get("alg", KDF_ALG)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise KeyFileError(f"{path}: the private key file is damaged") from exc
    if alg != KDF_ALG:
        raise KeyFileError(f"{path}: unknown key derivation {alg!r} (expected {KDF_ALG})")
    if len(salt) != nacl.pwhash.argon2id.SALTBYTES:
        raise KeyFileError(f"{path}: the private key file is damaged (salt)")
    if not (OPSLIMIT_BOUNDS[0] <= opslimit <= OPSLIMIT_BOUNDS[1]) or not (
        MEMLIMIT_BOUNDS[0] <= memlimit <= MEMLIMIT_BOUNDS[1]
    ):
        raise KeyFileError(f"{path}: the private key file is damaged (argon2id costs out of range)")
    return salt, ciphertext, opslimit, memlimit


def load_private_key(
    path: Path, passphrase: str, *, source: str = "OFFRAMP_PASSPHRASE"
) -> PrivateKey:
    """Open a private key file; a wrong passphrase is a KeyFileError, not a traceback.

    `source` says where the passphrase came from; the error's hint names it.
    """
    document = _read_document(path, PRIVATE_KIND)
    salt, ciphertext, opslimit, memlimit = _kdf_parameters(path, document)
    wrapping = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
        opslimit=opslimit, memlimit=memlimit,
    )
    try:
        raw = nacl.secret.SecretBox(wrapping).decrypt(ciphertext)
    except nacl.exceptions.CryptoError as exc:
        raise KeyFileError(
            f"{path}: wrong passphrase (or the key file was altered)",
            hint=f"check {source}",
        ) from exc
    try:
        private = PrivateKey(raw)
    except (ValueError, nacl.exceptions.CryptoError) as exc:
        raise KeyFileError(f"{path}: the private key file is damaged") from exc
    stated = document.get("public_key")
    if stated is not None and stated != _b64(bytes(private.public_key)):
        raise KeyFileError(
            f"{path}: the public key in this file does not match its private key (damaged)"
        )
    return private


def kdf_profile_of(path: Path) -> KdfProfile:
    """The named argon2id profile a key file uses ("moderate" if its costs match none)."""
    _, _, opslimit, memlimit = _kdf_parameters(path, _read_document(path, PRIVATE_KIND))
    for name in ("interactive", "moderate", "sensitive"):
        if KDF_PROFILES[name] == (opslimit, memlimit):
            return name  # type: ignore[return-value]
    return "moderate"


def change_passphrase(
    path: Path, old: str, new: str, *, profile: KdfProfile | None = None
) -> PrivateKey:
    """Re-protect a private key under a new passphrase (and optionally new argon2id costs).

    The key itself does not change, so every record sealed to it still opens.
    """
    private = load_private_key(path, old)
    write_private_key(path, private, new, profile=profile or kdf_profile_of(path))
    return private


def public_key_of(path: Path) -> PublicKey:
    """The public key named by a .pub file or stated in a .key file (no passphrase needed)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeyFileError(f"{path}: no such key file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"{path}: not an offramp key file ({exc.__class__.__name__})") from exc
    kind = document.get("kind") if isinstance(document, dict) else None
    if kind not in (PUBLIC_KIND, PRIVATE_KIND):
        raise KeyFileError(f"{path}: not an offramp key file")
    assert isinstance(document, dict)
    try:
        return PublicKey(_unb64(str(document["public_key"])))
    except (KeyError, ValueError, nacl.exceptions.CryptoError) as exc:
        raise KeyFileError(f"{path}: the public key in this file is damaged") from exc
