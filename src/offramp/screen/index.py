"""The lookup structures a Screener matches against, built from a term list or a compiled list.

Both kinds answer the same questions (which entries does this key name, can this key begin a
phrase), so the matcher has one algorithm and a compiled list gives the same verdicts as its
source for every word rule. A plain index keeps keys as text; a hashed index keeps only keyed
BLAKE2b digests of them and cannot serve prefix or substring rules.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from offramp.screen.spans import term_keys
from offramp.screen.terms import Term, TermList

UNLESS = -1  # slot of an exception; slot 0 is `terms`, slot g + 1 is all_of group g
DIGEST_SIZE = 16


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What the matcher needs of a rule once its terms are in the index."""

    id: str
    category: str
    has_terms: bool
    groups: int
    age_below: int | None
    with_category: str | None


def hash_key(salt: bytes, key: str) -> bytes:
    """The keyed digest under which a compiled list stores a key."""
    return hashlib.blake2b(
        key.encode("utf-8", "surrogatepass"), key=salt, digest_size=DIGEST_SIZE
    ).digest()


class Index:
    """Keys -> entry ids, phrase first pieces, and the lengths the matcher may need."""

    hashed = False

    def __init__(
        self,
        rules: list[RuleSpec],
        entries: list[tuple[int, int]],
        *,
        maxlen: int,
        glue_lengths: Iterable[int],
        list_version: str,
        languages: tuple[str, ...],
    ) -> None:
        self.rules = rules
        self.entries = entries
        self.positive = frozenset(i for i, (_, slot) in enumerate(entries) if slot != UNLESS)
        self.maxlen = maxlen
        self.glue_lengths = tuple(sorted(set(glue_lengths)))
        self.glue_min = self.glue_lengths[0] if self.glue_lengths else 0
        self.list_version = list_version
        self.languages = languages
        self.prefix_lengths: tuple[int, ...] = ()
        self.substrings: ahocorasick.Automaton | None = None

    def lookup(self, key: str) -> tuple[int, ...]:
        raise NotImplementedError

    def first_kind(self, key: str) -> int:
        """Whether ``key`` is the first piece of a phrase: 1 of a term, 2 of an exception."""
        raise NotImplementedError

    def prefix_lookup(self, key: str) -> tuple[int, ...]:
        return ()


class PlainIndex(Index):
    """Keys held as text; serves word, prefix and substring rules."""

    def __init__(
        self,
        keys: dict[str, tuple[int, ...]],
        firsts: dict[str, int],
        prefixes: dict[str, tuple[int, ...]],
        substrings: dict[str, tuple[int, ...]],
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.keys = keys
        self.firsts = firsts
        self.prefixes = prefixes
        self.prefix_lengths = tuple(sorted({len(k) for k in prefixes}))
        if substrings:
            automaton = ahocorasick.Automaton()
            for key, ids in substrings.items():
                automaton.add_word(key, ids)
            automaton.make_automaton()
            self.substrings = automaton

    def lookup(self, key: str) -> tuple[int, ...]:
        return self.keys.get(key, ())

    def first_kind(self, key: str) -> int:
        return self.firsts.get(key, 0)

    def prefix_lookup(self, key: str) -> tuple[int, ...]:
        return self.prefixes.get(key, ())


class HashedIndex(Index):
    """Keys held only as keyed digests (a compiled list); serves word rules only."""

    hashed = True

    def __init__(
        self,
        salt: bytes,
        keys: dict[bytes, tuple[int, ...]],
        firsts: dict[bytes, int],
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.salt = salt
        self.keys = keys
        self.firsts = firsts

    def lookup(self, key: str) -> tuple[int, ...]:
        return self.keys.get(hash_key(self.salt, key), ())

    def first_kind(self, key: str) -> int:
        return self.firsts.get(hash_key(self.salt, key), 0)


@dataclass
class Built:
    """The plain parts of an index before they become a PlainIndex or a compiled file."""

    rules: list[RuleSpec]
    entries: list[tuple[int, int]]
    keys: dict[str, list[int]]
    firsts: dict[str, int]
    prefixes: dict[str, list[int]]
    substrings: dict[str, list[int]]
    maxlen: int
    glue_lengths: set[int]


def build(term_list: TermList) -> Built:
    """Index every term of every rule under all of its keys."""
    rules: list[RuleSpec] = []
    entries: list[tuple[int, int]] = []
    keys: dict[str, list[int]] = defaultdict(list)
    prefixes: dict[str, list[int]] = defaultdict(list)
    substrings: dict[str, list[int]] = defaultdict(list)
    firsts: dict[str, int] = {}
    maxlen = 1
    glue_lengths: set[int] = set()

    def add(term: Term, entry: int) -> None:
        nonlocal maxlen
        for key in term_keys(term.folded):
            maxlen = max(maxlen, len(key))
            if term.kind == "substring":
                substrings[key].append(entry)
                continue
            target = prefixes if term.kind == "prefix" else keys
            if entry not in target[key]:
                target[key].append(entry)
            if " " in key:
                first = key.split(" ", 1)[0]
                bit = 2 if entries[entry][1] == UNLESS else 1
                firsts[first] = firsts.get(first, 0) | bit
            elif term.kind == "word":
                glue_lengths.add(len(key))

    for r, rule in enumerate(term_list.rules):
        rules.append(
            RuleSpec(
                id=rule.id,
                category=rule.category,
                has_terms=bool(rule.terms or rule.all_of),
                groups=len(rule.all_of),
                age_below=rule.age_below,
                with_category=rule.with_category,
            )
        )
        slots: list[tuple[int, tuple[Term, ...]]] = [(0, rule.terms)]
        slots += [(g + 1, group) for g, group in enumerate(rule.all_of)]
        slots.append((UNLESS, rule.unless))
        for slot, slot_terms in slots:
            if not slot_terms:
                continue
            entry = len(entries)
            entries.append((r, slot))
            for term in slot_terms:
                add(term, entry)
    return Built(rules, entries, dict(keys), firsts, dict(prefixes), dict(substrings),
                 maxlen, glue_lengths)  # fmt: skip


def plain_index(term_list: TermList) -> PlainIndex:
    """A plain index for a term list."""
    b = build(term_list)
    return PlainIndex(
        keys={k: tuple(v) for k, v in b.keys.items()},
        firsts=b.firsts,
        prefixes={k: tuple(v) for k, v in b.prefixes.items()},
        substrings={k: tuple(v) for k, v in b.substrings.items()},
        rules=b.rules,
        entries=b.entries,
        maxlen=b.maxlen,
        glue_lengths=b.glue_lengths,
        list_version=term_list.version,
        languages=term_list.languages,
    )
