"""Resume codes: a few plain words that let a respondent finish the survey later.

The code is the only thing that links a respondent to their unfinished answers, so it must be easy
to write down and impossible to guess. Six words from a list of 512 give 54 random bits; the form
token is derived from them with argon2id (about 70 ms, 32 MiB), so trying codes against a stolen
database costs far more than anyone could spend, and trying them online is slowed further by the
per-instrument token bucket. Words, not digits, because people copy words correctly.

The derived token is an ordinary draft token (vault.drafts): the draft is stored under its hash and
encrypted under a key derived from it, exactly like a draft carried by a form.
"""

from __future__ import annotations

import base64
import functools
import re
import secrets
from pathlib import Path

import nacl.hash
import nacl.pwhash.argon2id as argon2id
from nacl.encoding import RawEncoder

CODE_WORDS = 6
_OPSLIMIT = 3
_MEMLIMIT = 32 * 1024 * 1024
_WORDS_FILE = Path(__file__).resolve().parent / "resume_words.txt"


@functools.cache
def wordlist() -> tuple[str, ...]:
    lines = _WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def new_code() -> str:
    words = wordlist()
    return " ".join(secrets.choice(words) for _ in range(CODE_WORDS))


def normalise(text: str) -> str | None:
    """The code in canonical form (lower case, single spaces), or None if it cannot be one."""
    words = re.findall(r"[a-z]+", text.lower()[:400])
    known = set(wordlist())
    if len(words) != CODE_WORDS or any(w not in known for w in words):
        return None
    return " ".join(words)


def token_for_code(code: str, instrument_id: str) -> str:
    """The draft token a (normalised) code stands for, for this instrument."""
    salt = nacl.hash.blake2b(
        instrument_id.encode("utf-8"), digest_size=argon2id.SALTBYTES, person=b"offramp-resume",
        encoder=RawEncoder,
    )
    key = argon2id.kdf(32, code.encode("utf-8"), salt, opslimit=_OPSLIMIT, memlimit=_MEMLIMIT)
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")
