"""Drafts: only the form's token opens its draft, and the store's name for it reveals nothing."""

from __future__ import annotations

import nacl.hash
import pytest
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey

from offramp.vault.drafts import (
    BadToken,
    _token_bytes,
    decrypt_draft,
    encrypt_draft,
    new_token,
    token_hash,
)
from offramp.vault.keys import key_id


def test_derivations_are_libsodiums_blake2b() -> None:
    # hashlib computes them; the bytes must stay those of libsodium's crypto_generichash, or
    # existing drafts, submission ids and key fingerprints would change meaning.
    token = new_token()
    expected = nacl.hash.blake2b(_token_bytes(token), digest_size=32, person=b"offramp-draftid",
                                 encoder=RawEncoder).hex()
    assert token_hash(token) == expected
    public = PrivateKey.generate().public_key
    assert key_id(public) == nacl.hash.blake2b(bytes(public), digest_size=16, encoder=RawEncoder)


def test_round_trip_and_what_does_not_open() -> None:
    token, other = new_token(), new_token()
    blob = encrypt_draft(token, b'{"page": 2}', b"offramp-draft:demo")
    assert decrypt_draft(token, blob, b"offramp-draft:demo") == b'{"page": 2}'
    assert b"page" not in blob
    assert token_hash(token) != token_hash(other) and len(token_hash(token)) == 64
    with pytest.raises(BadToken):
        decrypt_draft(other, blob, b"offramp-draft:demo")
    with pytest.raises(BadToken):
        decrypt_draft(token, blob, b"offramp-draft:another")
    with pytest.raises(BadToken):
        decrypt_draft(token, blob[:-1] + bytes([blob[-1] ^ 1]), b"offramp-draft:demo")


@pytest.mark.parametrize("bad", ["", "short", "!" * 43, "A" * 65, new_token()[:-2]])
def test_malformed_tokens_are_bad_tokens(bad: str) -> None:
    with pytest.raises(BadToken):
        token_hash(bad)
