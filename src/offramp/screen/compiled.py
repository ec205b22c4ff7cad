"""Compiled lists: a term list a server can screen with, holding no term in plain text.

Every key of every term of a ``word`` rule is stored as a keyed BLAKE2b digest (16 bytes,
per-list random salt). The matcher computes the same keys from a query and hashes them, so a
compiled list gives exactly the verdicts of its source list for word rules.

What a compiled list cannot do, and the guard: prefix and substring rules need the text of
the term to compare with part of a word, which a digest cannot give. ``compile_list`` refuses a
list that has such rules unless told to drop them; the dropped rule ids are recorded in the
file and logged whenever it is loaded, and ``offramp screen lint`` reports them.

What it does not promise: the salt is in the file, so anyone holding the file can test a guess
("is this word on the list?"). It keeps a list from being read or copied at a glance, from
backups, logs and screenshots; it is not encryption.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from pathlib import Path
from typing import Any

from offramp.errors import InputError
from offramp.screen.index import HashedIndex, RuleSpec, build, hash_key
from offramp.screen.terms import TermList

FORMAT = "offramp-compiled-term-list"
FORMAT_VERSION = 1
log = logging.getLogger("offramp.screen")


def unhashable_rules(term_list: TermList) -> list[str]:
    """Ids of rules that use prefix or substring matching (a compiled list cannot keep them)."""
    out = []
    for rule in term_list.rules:
        kinds = {t.kind for t in rule.terms} | {t.kind for g in rule.all_of for t in g}
        if kinds - {"word"}:
            out.append(rule.id)
    return out


def compile_list(term_list: TermList, *, drop_unhashable: bool = False) -> dict[str, Any]:
    """The compiled form of a list, as a JSON-ready dict."""
    dropped = unhashable_rules(term_list)
    if dropped and not drop_unhashable:
        raise InputError(
            f"rules {', '.join(dropped)} use prefix or substring matching, which a compiled "
            "list cannot hold",
            file=term_list.source,
            hint="rewrite them as word rules, or pass --drop-unhashable to leave them out",
        )
    kept = tuple(r for r in term_list.rules if r.id not in set(dropped))
    if not kept:
        raise InputError("no word rules left to compile", file=term_list.source)
    built = build(
        TermList(
            rules=kept,
            version=term_list.version,
            categories=term_list.categories,
            languages=term_list.languages,
            label=term_list.label,
            source=term_list.source,
        )
    )
    salt = secrets.token_bytes(16)

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    keys = sorted((b64(hash_key(salt, k)), ids) for k, ids in built.keys.items())
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "list_version": term_list.version,
        "label": term_list.label,
        "languages": list(term_list.languages),
        "categories": term_list.categories,
        "dropped_rules": dropped,
        "salt": b64(salt),
        "maxlen": built.maxlen,
        "glue_lengths": sorted(built.glue_lengths),
        "rules": [
            {
                "id": r.id,
                "category": r.category,
                "has_terms": r.has_terms,
                "groups": r.groups,
                "age_below": r.age_below,
                "with_category": r.with_category,
            }
            for r in built.rules
        ],
        "entries": [list(e) for e in built.entries],
        "keys": keys,
        "firsts": sorted([b64(hash_key(salt, k)), bits] for k, bits in built.firsts.items()),
    }


def write(term_list: TermList, out: Path, *, drop_unhashable: bool = False) -> dict[str, Any]:
    data = compile_list(term_list, drop_unhashable=drop_unhashable)
    out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    return data


def is_compiled(path: Path) -> bool:
    """True when the file starts like a compiled list (checked by content, not by name)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and FORMAT.encode() in head


def load(path: Path) -> HashedIndex:
    """Read a compiled list; malformed files raise InputError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
            raise InputError("not a compiled term list of a version this offramp reads",
                             file=str(path))  # fmt: skip
        salt = base64.b64decode(data["salt"])
        keys = {base64.b64decode(k): tuple(int(i) for i in ids) for k, ids in data["keys"]}
        firsts = {base64.b64decode(k): int(bits) for k, bits in data["firsts"]}
        rules = [
            RuleSpec(
                id=str(r["id"]),
                category=str(r["category"]),
                has_terms=bool(r["has_terms"]),
                groups=int(r["groups"]),
                age_below=r["age_below"],
                with_category=r["with_category"],
            )
            for r in data["rules"]
        ]
        entries = [(int(r), int(s)) for r, s in data["entries"]]
        index = HashedIndex(
            salt,
            keys,
            firsts,
            rules=rules,
            entries=entries,
            maxlen=int(data["maxlen"]),
            glue_lengths=[int(x) for x in data["glue_lengths"]],
            list_version=str(data["list_version"]),
            languages=tuple(data["languages"]),
        )
    except InputError:
        raise
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"damaged compiled term list ({exc})", file=str(path)) from None
    if data["dropped_rules"]:
        log.warning(
            "compiled list %s was built without rules %s (prefix/substring rules cannot be hashed)",
            path,
            ", ".join(data["dropped_rules"]),
        )
    return index
