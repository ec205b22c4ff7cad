"""Sealing: any recipient opens, nobody else does, and the record is bound to its context."""

from __future__ import annotations

import dataclasses

import pytest
from nacl.public import PrivateKey

from offramp.errors import IntegrityError
from offramp.vault.keys import key_id
from offramp.vault.sealing import (
    MAGIC,
    MAGIC_BOUND,
    Opener,
    SealContext,
    Sealer,
    inspect,
    open_sealed,
    recipients_of,
    seal,
)

CONTEXT = SealContext("demo", 3, "p3", "b", "en", "2024-05-06")
BOUND = dataclasses.replace(CONTEXT, submission_id="ab" * 32)
PAYLOAD = '{"answers": {"q1": "yes"}, "comment": "ünïcode"}'.encode()


@pytest.fixture(scope="module")
def researchers() -> list[PrivateKey]:
    return [PrivateKey.generate() for _ in range(3)]


def test_any_recipient_opens_and_no_one_else(researchers: list[PrivateKey]) -> None:
    blob = seal(PAYLOAD, CONTEXT, [k.public_key for k in researchers])
    for key in researchers:
        assert open_sealed(blob, CONTEXT, [key]) == PAYLOAD
    assert open_sealed(blob, CONTEXT, [PrivateKey.generate(), researchers[2]]) == PAYLOAD
    with pytest.raises(IntegrityError, match="sealed to none of the given keys"):
        open_sealed(blob, CONTEXT, [PrivateKey.generate()])
    assert PAYLOAD not in blob
    assert recipients_of(blob) == [key_id(k.public_key) for k in researchers]


def test_each_seal_is_fresh(researchers: list[PrivateKey]) -> None:
    sealer = Sealer([researchers[0].public_key])
    first, second = sealer.seal(PAYLOAD, CONTEXT), sealer.seal(PAYLOAD, CONTEXT)
    assert first != second and len(first) == len(second)


@pytest.mark.parametrize(
    "changed",
    [
        {"instrument_id": "other"},
        {"instrument_version": 4},
        {"page_id": "p2"},
        {"arm": "a"},
        {"language": "fr"},
        {"day": "2024-05-07"},
    ],
)
def test_a_record_moved_to_another_context_fails(
    researchers: list[PrivateKey], changed: dict[str, object]
) -> None:
    blob = seal(PAYLOAD, CONTEXT, [researchers[0].public_key])
    with pytest.raises(IntegrityError, match="moved to another"):
        open_sealed(blob, dataclasses.replace(CONTEXT, **changed), researchers)  # type: ignore[arg-type]


def test_a_record_bound_to_its_submission_cannot_be_copied_to_another(
    researchers: list[PrivateKey],
) -> None:
    blob = seal(PAYLOAD, BOUND, [researchers[0].public_key])
    assert blob.startswith(MAGIC_BOUND)
    assert open_sealed(blob, BOUND, researchers) == PAYLOAD
    with pytest.raises(IntegrityError, match="moved to another"):
        open_sealed(blob, dataclasses.replace(BOUND, submission_id="cd" * 32), researchers)
    with pytest.raises(IntegrityError, match="bound to a submission id"):
        open_sealed(blob, CONTEXT, researchers)
    # Records sealed without a submission id (format 1) still open when the export knows it.
    old = seal(PAYLOAD, CONTEXT, [researchers[0].public_key])
    assert old.startswith(MAGIC)
    assert open_sealed(old, BOUND, researchers) == PAYLOAD
    # Relabelling a bound record as format 1 changes its header, which the tag covers.
    with pytest.raises(IntegrityError):
        open_sealed(MAGIC + blob[len(MAGIC) :], BOUND, researchers)


def test_altered_bytes_anywhere_fail_with_integrity_error(researchers: list[PrivateKey]) -> None:
    blob = seal(PAYLOAD, CONTEXT, [k.public_key for k in researchers[:2]])
    for position in range(len(blob)):
        altered = bytearray(blob)
        altered[position] ^= 0x01
        with pytest.raises(IntegrityError):
            open_sealed(bytes(altered), CONTEXT, researchers[:2])
    with pytest.raises(IntegrityError, match="integrity check"):
        open_sealed(blob + b"\x00", CONTEXT, researchers)


def test_removing_a_recipient_from_the_header_is_detected(researchers: list[PrivateKey]) -> None:
    blob = seal(PAYLOAD, CONTEXT, [k.public_key for k in researchers[:2]])
    entry = 16 + 80
    # Header with the first recipient cut out and the count lowered: the second key's entry is
    # intact, but the header is part of what the tag authenticates.
    stripped = MAGIC + bytes([1]) + blob[5 + entry :]
    assert recipients_of(stripped) == [key_id(researchers[1].public_key)]
    with pytest.raises(IntegrityError, match="integrity check"):
        open_sealed(stripped, CONTEXT, [researchers[1]])


def test_every_truncation_is_an_integrity_error(researchers: list[PrivateKey]) -> None:
    blob = seal(PAYLOAD, CONTEXT, [researchers[0].public_key])
    reasons = set()
    for length in range(len(blob)):
        with pytest.raises(IntegrityError) as caught:
            open_sealed(blob[:length], CONTEXT, researchers)
        reasons.add(caught.value.message)
    assert reasons == {
        "not an offramp sealed record (bad magic)",
        "sealed record is truncated (recipient header)",
        "sealed record is truncated (ciphertext)",
        "record fails its integrity check: altered, or moved to another instrument, "
        "page, arm, language, day or submission",
    }


def test_inspect_needs_no_key_and_rejects_garbage() -> None:
    public = PrivateKey.generate().public_key
    shape = inspect(seal(b"x" * 10, CONTEXT, [public]))
    assert shape.key_ids == (key_id(public),)
    assert shape.ciphertext_bytes == 10 + 16
    for garbage in (b"", b"OFR", b"OFR3\x01" + b"\x00" * 200, b"hello world"):
        with pytest.raises(IntegrityError, match="bad magic"):
            inspect(garbage)
    with pytest.raises(IntegrityError, match="names no recipient"):
        inspect(MAGIC + b"\x00" + b"\x00" * 200)


def test_open_many_keeps_order_and_reports_failures(researchers: list[PrivateKey]) -> None:
    sealer = Sealer([researchers[0].public_key])
    records = []
    for i in range(2000):
        context = dataclasses.replace(CONTEXT, page_id=f"p{i}")
        blob = sealer.seal(str(i).encode(), context)
        if i % 500 == 7:
            blob = blob[:-1]
        records.append((blob, context))
    results = list(Opener(researchers).open_many(records))
    assert len(results) == 2000
    for i, result in enumerate(results):
        if i % 500 == 7:
            assert isinstance(result, IntegrityError)
        else:
            assert result == str(i).encode()


def test_sealing_refuses_no_recipients_and_too_many() -> None:
    with pytest.raises(ValueError, match="at least one"):
        seal(PAYLOAD, CONTEXT, [])
    public = PrivateKey.generate().public_key
    with pytest.raises(ValueError, match="at most 255"):
        Sealer([public] * 256)


@pytest.mark.parametrize("context", [CONTEXT, BOUND, SealContext('é"\\', 0, "", "a b", "x", "")])
def test_associated_data_is_canonical_sorted_json(context: SealContext) -> None:
    import json

    expected = dataclasses.asdict(context)
    if expected["submission_id"] is None:
        del expected["submission_id"]
    assert context.associated_data() == json.dumps(
        expected, sort_keys=True, separators=(",", ":")
    ).encode()
