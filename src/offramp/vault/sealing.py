"""Sealing answers so that only the researchers can open them, bound to their context.

A record is encrypted once with a random data key (XChaCha20-Poly1305); the data key is sealed
(libsodium sealed box) to each researcher's public key, so any listed researcher opens it and the
server, which holds only public keys, opens nothing. The record's context (instrument, version,
page, arm, language, day) and the recipient header are the AEAD's associated data: a record moved
to another context or with its header altered fails to open with an IntegrityError.

Layout: b"OFR1" | n (1 byte) | n x (key id 16 bytes | sealed data key 80 bytes) | nonce 24 | ciphertext
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox

from offramp.errors import IntegrityError
from offramp.vault.keys import key_id

MAGIC = b"OFR1"
_KEY_ID = 16
_SEALED_KEY = 32 + 48
_NONCE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


@dataclass(frozen=True)
class SealContext:
    """What the store keeps in clear beside a sealed record; bound into the ciphertext."""

    instrument_id: str
    instrument_version: int
    page_id: str
    arm: str
    language: str
    day: str  # ISO date: a day, never a time

    def associated_data(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode("utf-8")


def seal(payload: bytes, context: SealContext, recipients: Sequence[PublicKey]) -> bytes:
    if not recipients:
        raise ValueError("seal() needs at least one recipient public key")
    if len(recipients) > 255:
        raise ValueError("at most 255 recipients")
    data_key = nacl.utils.random(sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    header = bytearray(MAGIC)
    header.append(len(recipients))
    for public in recipients:
        header += key_id(public)
        header += SealedBox(public).encrypt(data_key)
    nonce = nacl.utils.random(_NONCE)
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        payload, context.associated_data() + bytes(header), nonce, data_key
    )
    return bytes(header) + nonce + ciphertext


def recipients_of(blob: bytes) -> list[bytes]:
    """Key ids a record was sealed to (readable without any private key)."""
    header_end, entries = _parse_header(blob)
    del header_end
    return [kid for kid, _ in entries]


def _parse_header(blob: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
    if len(blob) < len(MAGIC) + 1 or not blob.startswith(MAGIC):
        raise IntegrityError("not an offramp sealed record (bad magic)")
    count = blob[len(MAGIC)]
    pos = len(MAGIC) + 1
    entries = []
    for _ in range(count):
        entry = blob[pos : pos + _KEY_ID + _SEALED_KEY]
        if len(entry) != _KEY_ID + _SEALED_KEY:
            raise IntegrityError("sealed record is truncated (recipient header)")
        entries.append((entry[:_KEY_ID], entry[_KEY_ID:]))
        pos += _KEY_ID + _SEALED_KEY
    if len(blob) < pos + _NONCE + sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES:
        raise IntegrityError("sealed record is truncated (ciphertext)")
    return pos, entries


def open_sealed(blob: bytes, context: SealContext, private_keys: Sequence[PrivateKey]) -> bytes:
    """Open a record with any of the given private keys; IntegrityError says why it failed."""
    header_end, entries = _parse_header(blob)
    by_id = {key_id(k.public_key): k for k in private_keys}
    data_key = None
    for kid, sealed_key in entries:
        private = by_id.get(kid)
        if private is None:
            continue
        try:
            data_key = SealedBox(private).decrypt(sealed_key)
        except nacl.exceptions.CryptoError as exc:
            raise IntegrityError("the data key of a record is damaged") from exc
        break
    if data_key is None:
        raise IntegrityError("record is sealed to none of the given keys")
    nonce = blob[header_end : header_end + _NONCE]
    ciphertext = blob[header_end + _NONCE :]
    try:
        return bytes(
            sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                ciphertext, context.associated_data() + blob[:header_end], nonce, data_key
            )
        )
    except nacl.exceptions.CryptoError as exc:
        raise IntegrityError(
            "record fails its integrity check: altered, or moved to another instrument, "
            "page, arm, language or day"
        ) from exc
