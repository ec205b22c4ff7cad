"""Key files: passphrase protection, damage detection, passphrase change."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from offramp.errors import KeyFileError
from offramp.vault.keys import (
    change_passphrase,
    fingerprint,
    generate,
    kdf_profile_of,
    key_id,
    load_private_key,
    load_public_key,
    public_key_of,
)
from offramp.vault.sealing import SealContext, open_sealed, seal

PASS = "a long passphrase for tests"


@pytest.fixture
def pair(tmp_path: Path):
    return generate(tmp_path / "keys", PASS, profile="interactive")


def test_generate_writes_a_matching_pair_with_private_permissions(pair) -> None:
    private = load_private_key(pair.private, PASS)
    assert load_public_key(pair.public) == private.public_key
    assert stat.S_IMODE(pair.private.stat().st_mode) == 0o600
    document = json.loads(pair.private.read_text())
    assert document["kdf"]["alg"] == "argon2id13"
    assert base64.b64decode(document["ciphertext"])  # the raw key is not in the file
    assert base64.b64encode(bytes(private)).decode() not in pair.private.read_text()
    assert fingerprint(private.public_key) == document["fingerprint"]
    assert len(fingerprint(private.public_key).split()) == 8
    assert kdf_profile_of(pair.private) == "interactive"


def test_generate_refuses_to_overwrite_or_use_an_empty_passphrase(pair, tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="exists already"):
        generate(pair.public.parent, PASS, profile="interactive")
    with pytest.raises(KeyFileError, match="passphrase is empty"):
        generate(tmp_path / "other", "", profile="interactive")


def test_wrong_passphrase_is_a_key_file_error(pair) -> None:
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_private_key(pair.private, PASS + "!")


def _damage(path: Path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("kdf"), "damaged"),
        (lambda d: d["kdf"].update(salt="not base64!"), "damaged"),
        (lambda d: d["kdf"].update(salt=base64.b64encode(b"short").decode()), "damaged \\(salt\\)"),
        (lambda d: d["kdf"].update(memlimit=2**42), "costs out of range"),
        (lambda d: d["kdf"].update(opslimit=0), "costs out of range"),
        (lambda d: d["kdf"].update(alg="scrypt"), "unknown key derivation"),
        (lambda d: d.update(ciphertext=d["ciphertext"][:-8]), "wrong passphrase \\(or the key"),
        (lambda d: d.update(kind="offramp-public-key"), "not an offramp private key"),
        (
            lambda d: d.update(
                public_key=base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
            ),
            "does not match its private key",
        ),
    ],
)
def test_damaged_private_key_files_say_so(pair, change, message: str) -> None:
    _damage(pair.private, change)
    with pytest.raises(KeyFileError, match=message):
        load_private_key(pair.private, PASS)


def test_unreadable_files(tmp_path: Path, pair) -> None:
    with pytest.raises(KeyFileError, match="no such key file"):
        load_private_key(tmp_path / "missing.key", PASS)
    (tmp_path / "junk.key").write_bytes(b"\xff\xfe not json")
    with pytest.raises(KeyFileError, match="not an offramp key file"):
        load_private_key(tmp_path / "junk.key", PASS)
    # A private key file offered as a server's public key is refused: it must not go there.
    with pytest.raises(KeyFileError, match="not an offramp public key"):
        load_public_key(pair.private)
    _damage(pair.public, lambda d: d.update(fingerprint="0000 0000"))
    with pytest.raises(KeyFileError, match="stated fingerprint"):
        load_public_key(pair.public)
    _damage(pair.public, lambda d: d.update(public_key="AAAA"))
    with pytest.raises(KeyFileError, match="damaged"):
        load_public_key(pair.public)


def test_public_key_of_reads_either_file_without_a_passphrase(pair) -> None:
    assert public_key_of(pair.private) == public_key_of(pair.public)
    opened = load_private_key(pair.private, PASS)
    assert key_id(public_key_of(pair.private)) == key_id(opened.public_key)


def test_change_passphrase_keeps_the_key_so_old_records_open(pair) -> None:
    context = SealContext("demo", 1, "p1", "none", "en", "2024-01-01")
    blob = seal(b"answers", context, [load_public_key(pair.public)])
    before = pair.private.read_text()
    change_passphrase(pair.private, PASS, "a new passphrase")
    assert pair.private.read_text() != before
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_private_key(pair.private, PASS)
    private = load_private_key(pair.private, "a new passphrase")
    assert open_sealed(blob, context, [private]) == b"answers"
    assert kdf_profile_of(pair.private) == "interactive"  # the cost stays unless asked
    assert stat.S_IMODE(pair.private.stat().st_mode) == 0o600
    assert list(pair.private.parent.glob(".*tmp")) == []


def test_change_passphrase_with_the_wrong_one_leaves_the_file_alone(pair) -> None:
    before = pair.private.read_bytes()
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        change_passphrase(pair.private, "nope", "new one")
    assert pair.private.read_bytes() == before
