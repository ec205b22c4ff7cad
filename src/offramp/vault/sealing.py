"""Sealing answers so that only the researchers can open them, bound to their context.

A record is encrypted once with a random data key (XChaCha20-Poly1305); the data key is sealed
(libsodium sealed box) to each researcher's public key, so any listed researcher opens it and the
server, which holds only public keys, opens nothing. The record's context (instrument, version,
page, arm, language, day) and the recipient header are the AEAD's associated data: a record moved
to another context or with its header altered fails to open with an IntegrityError.

When the context names the submission id (the store's unique name for a respondent's form), the
record is bound to its row as well, so a copy under another submission id fails to open too. Such
records start with b"OFR2"; records without it (b"OFR1") still open as before.

Layout: b"OFR1" | n (1 byte) | n x (key id 16 bytes | sealed data key 80 bytes) | nonce 24 |
        ciphertext (payload + 16-byte tag)

The header is readable without any private key, so `offramp store verify` can check every record's
structure and list which key set it was sealed to; only a private key can check its content.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey

from offramp.errors import IntegrityError
from offramp.vault.keys import key_id

MAGIC = b"OFR1"  # context without the submission id
MAGIC_BOUND = b"OFR2"  # context including the submission id
_MAGICS = (MAGIC, MAGIC_BOUND)
KEY_ID_BYTES = 16
_SEALED_KEY = sodium.crypto_box_SEALBYTES + sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
_ENTRY = KEY_ID_BYTES + _SEALED_KEY
_NONCE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_KEY = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
_TAG = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
MAX_RECIPIENTS = 255
_quote = json.encoder.encode_basestring_ascii  # a str as a JSON string literal, ASCII-only


@dataclass(frozen=True)
class SealContext:
    """What the store keeps in clear beside a sealed record; bound into the ciphertext."""

    instrument_id: str
    instrument_version: int
    page_id: str
    arm: str
    language: str
    day: str  # ISO date: a day, never a time
    submission_id: str | None = None

    def associated_data(self, *, bound: bool = True) -> bytes:
        """Canonical JSON of the fields, keys sorted (the same bytes as json.dumps(asdict(...),
        sort_keys=True), tested). Built by hand, each string escaped by json's own encoder:
        asdict's deep copy cost more than the decryption it guards, and a dict through
        json.dumps costs about as much as the record's AEAD (once per record, both ways)."""
        version = self.instrument_version
        if type(version) is not int:  # bool or an int subclass: the general path
            return self._associated_data_slow(bound)
        try:
            text = (
                f'{{"arm":{_quote(self.arm)},"day":{_quote(self.day)},'
                f'"instrument_id":{_quote(self.instrument_id)},"instrument_version":{version},'
                f'"language":{_quote(self.language)},"page_id":{_quote(self.page_id)}'
            )
            if bound and self.submission_id is not None:
                text += f',"submission_id":{_quote(self.submission_id)}'
        except TypeError:  # a field that is not a str: json.dumps says what it makes of it
            return self._associated_data_slow(bound)
        return (text + "}").encode("ascii")

    def _associated_data_slow(self, bound: bool) -> bytes:
        fields: dict[str, object] = {
            "arm": self.arm,
            "day": self.day,
            "instrument_id": self.instrument_id,
            "instrument_version": self.instrument_version,
            "language": self.language,
            "page_id": self.page_id,
        }
        if bound and self.submission_id is not None:
            fields["submission_id"] = self.submission_id
        return json.dumps(fields, separators=(",", ":")).encode("utf-8")


class Sealer:
    """Seals records to a fixed list of recipients (the key set in force on this server)."""

    def __init__(self, recipients: Sequence[PublicKey]) -> None:
        if not recipients:
            raise ValueError("sealing needs at least one recipient public key")
        if len(recipients) > MAX_RECIPIENTS:
            raise ValueError(f"at most {MAX_RECIPIENTS} recipients")
        # Raw key bytes for libsodium's crypto_box_seal (a fresh ephemeral key pair per call, as
        # SealedBox.encrypt does, without its wrapper's checks and encoders on every record).
        if not all(isinstance(public, PublicKey) for public in recipients):
            raise TypeError("recipients must be nacl.public.PublicKey objects")
        self._recipients = [(key_id(public), bytes(public)) for public in recipients]
        self._count = bytes([len(recipients)])
        self.key_ids = [kid for kid, _ in self._recipients]

    def seal(self, payload: bytes, context: SealContext) -> bytes:
        # One random draw for the record's data key and its nonce, both fresh for every record.
        fresh = nacl.utils.random(_KEY + _NONCE)
        data_key, nonce = fresh[:_KEY], fresh[_KEY:]
        parts = [MAGIC if context.submission_id is None else MAGIC_BOUND, self._count]
        for kid, public in self._recipients:
            parts.append(kid)
            parts.append(sodium.crypto_box_seal(data_key, public))
        header = b"".join(parts)
        ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            payload, context.associated_data() + header, nonce, data_key
        )
        return b"".join((header, nonce, ciphertext))


def seal(payload: bytes, context: SealContext, recipients: Sequence[PublicKey]) -> bytes:
    """Seal one record so that any of `recipients` opens it (and only in this context)."""
    return Sealer(recipients).seal(payload, context)


@dataclass(frozen=True)
class RecordShape:
    """What anyone can read from a sealed record without a key."""

    key_ids: tuple[bytes, ...]
    header_bytes: int
    ciphertext_bytes: int


def _header_end(blob: bytes) -> int:
    """Where a record's recipient header ends; IntegrityError says what is wrong with it."""
    if len(blob) < len(MAGIC) + 1 or blob[: len(MAGIC)] not in _MAGICS:
        raise IntegrityError("not an offramp sealed record (bad magic)")
    count = blob[len(MAGIC)]
    if count == 0:
        raise IntegrityError("sealed record names no recipient")
    end = len(MAGIC) + 1 + count * _ENTRY
    if len(blob) < end:
        raise IntegrityError("sealed record is truncated (recipient header)")
    if len(blob) < end + _NONCE + _TAG:
        raise IntegrityError("sealed record is truncated (ciphertext)")
    return end


def inspect(blob: bytes) -> RecordShape:
    """Check a record's structure (no key needed); IntegrityError says what is wrong."""
    end = _header_end(blob)
    pos = len(MAGIC) + 1
    key_ids = tuple(blob[p : p + KEY_ID_BYTES] for p in range(pos, end, _ENTRY))
    return RecordShape(key_ids, end, len(blob) - end - _NONCE)


def recipients_of(blob: bytes) -> list[bytes]:
    """Key ids a record was sealed to (readable without any private key)."""
    return list(inspect(blob).key_ids)


# Opening calls libsodium through PyNaCl's compiled module directly where it is there: the public
# wrappers' argument checks, exception plumbing and extra copies cost about a fifth of the Python
# time of each record at export (measured), and every argument here is checked already.
try:
    from nacl._sodium import ffi as _ffi
    from nacl._sodium import lib as _lib
except ImportError:  # pragma: no cover - a PyNaCl without its compiled module: the wrappers
    _lib = None


def _seal_open(sealed: bytes, public: bytes, private: bytes) -> bytes | None:
    """libsodium crypto_box_seal_open; None when the sealed box does not open."""
    if _lib is None:  # pragma: no cover
        try:
            return bytes(sodium.crypto_box_seal_open(sealed, public, private))
        except nacl.exceptions.CryptoError:
            return None
    key = _ffi.new("unsigned char[]", _KEY)
    if _lib.crypto_box_seal_open(key, sealed, len(sealed), public, private) != 0:
        return None
    return bytes(_ffi.buffer(key, _KEY))


def _aead_open(ciphertext: bytes, associated: bytes, nonce: bytes, key: bytes) -> bytes | None:
    """XChaCha20-Poly1305 decryption; None when the tag does not verify."""
    if _lib is None:  # pragma: no cover
        try:
            return bytes(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                ciphertext, associated, nonce, key))
        except nacl.exceptions.CryptoError:
            return None
    plain = _ffi.new("unsigned char[]", len(ciphertext))
    length = _ffi.new("unsigned long long *")
    if _lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
        plain, length, _ffi.NULL, ciphertext, len(ciphertext), associated, len(associated),
        nonce, key,
    ) != 0:
        return None
    return bytes(_ffi.buffer(plain, length[0]))


class Opener:
    """Opens records with any of a researcher's private keys (old and new key sets alike)."""

    def __init__(self, private_keys: Sequence[PrivateKey]) -> None:
        # Raw key bytes for libsodium's crypto_box_seal_open: the SealedBox wrapper's checks
        # and encoders cost a tenth of each opening, paid once per record.
        self._boxes = {
            key_id(k.public_key): (bytes(k.public_key), bytes(k)) for k in private_keys
        }

    def open(self, blob: bytes, context: SealContext) -> bytes:
        """The record's payload; IntegrityError says why it failed."""
        end = _header_end(blob)
        data_key = None
        for start in range(len(MAGIC) + 1, end, _ENTRY):
            keys = self._boxes.get(blob[start : start + KEY_ID_BYTES])
            if keys is None:
                continue
            start += KEY_ID_BYTES
            data_key = _seal_open(blob[start : start + _SEALED_KEY], keys[0], keys[1])
            if data_key is None:
                raise IntegrityError("the data key of a record is damaged")
            break
        if data_key is None:
            raise IntegrityError("record is sealed to none of the given keys")
        bound = blob[: len(MAGIC)] == MAGIC_BOUND
        if bound and context.submission_id is None:
            raise IntegrityError("record is bound to a submission id, and none was given")
        plain = _aead_open(
            blob[end + _NONCE :], context.associated_data(bound=bound) + blob[:end],
            blob[end : end + _NONCE], data_key,
        )
        if plain is None:
            raise IntegrityError(
                "record fails its integrity check: altered, or moved to another instrument, "
                "page, arm, language, day or submission"
            )
        return plain

    def open_many(
        self, records: Iterable[tuple[bytes, SealContext]]
    ) -> Iterator[bytes | IntegrityError]:
        """Open records in order; yields each payload, or the IntegrityError of a record that
        failed, so the caller can count failures without losing its place.

        One core: threads do not help here (measured slower: the GIL is handed back and forth
        around every libsodium call); open in several processes instead (`offramp export
        --jobs`, benchmarks/bench_store.py).
        """
        for blob, context in records:
            try:
                yield self.open(blob, context)
            except IntegrityError as exc:
                yield exc


def open_sealed(blob: bytes, context: SealContext, private_keys: Sequence[PrivateKey]) -> bytes:
    """Open a record with any of the given private keys; IntegrityError says why it failed."""
    return Opener(private_keys).open(blob, context)
