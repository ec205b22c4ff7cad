"""The online path: ``Screener.check(query) -> Verdict``.

Two stages with one meaning. The *full* stage folds the query, builds span keys
(``spans.py``), looks them up in the index, tiles glued words, reads stated ages and applies
the rules. The *fast* stage decides, token by token from a per-token cache, whether the full
stage could find anything at all; most queries stop there, usually at one C-level test that
every token is a known *cold* token. It is sound by construction: a token's flags are computed
by the full stage itself, and a query goes to the full stage whenever a match could span
tokens (a phrase's first piece, spaced-out letters). The full stage in turn reuses what the
cache knows about each token and enumerates across tokens only from phrase starts;
``_exhaustive`` is the plain reference the property tests compare it with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from offramp.screen import spans, words
from offramp.screen.age import AGE_BANDS, AgeReader, band_below, reader
from offramp.screen.index import UNLESS, Index, plain_index
from offramp.screen.normalize import collapse_variants, fold
from offramp.screen.verdict import Verdict

#: Queries are screened on their first MAX_QUERY_CHARS characters after folding; at most
#: 4x as many raw characters are read. Search engines cap queries far below this.
MAX_QUERY_CHARS = 2048
_RAW_LIMIT = 4 * MAX_QUERY_CHARS
#: Span keys tried per token (and per cross-token scan) before the full stage stops there
#: (bounds hostile input; a 2,048-character query of junk costs about 40 ms).
MAX_SPAN_KEYS = 8_000
#: Tokens whose flags are remembered; the cache is emptied when full.
TOKEN_CACHE_SIZE = 1 << 20
#: Verdicts remembered by (entries found, age band); emptied when full.
DECISION_CACHE_SIZE = 1 << 16

# Token flags. HIT: a listed term (not only an exception) lies wholly inside the token. FIRST /
# UFIRST: the token ends with the first word of a phrase term / exception. SINGLE: one
# character (spaced-out letters). EMPTY: folds to nothing. COMPLEX: folds to several tokens.
# ANY: some entry lies inside. Ages: AGE, an age is stated inside the token; NUM / UNIT, the
# token ends with a number / starts with an age unit ("12 yo"); AGEW / NUMS, the token ends
# with an age word / starts with a number ("age 12").
HIT, FIRST, SINGLE, NUM, UNIT, EMPTY, COMPLEX, ANY, UFIRST = 1, 2, 4, 8, 16, 32, 64, 128, 256
AGEW, NUMS, AGE = 512, 1024, 2048
_RUNS = re.compile(r"(.)\1+")


def cache_key(folded: str) -> str:
    """The token-cache key of a folded token: itself when it is plain lower-case letters (it
    folds to itself, so it is also the key of that raw token), else NUL and the token (NUL
    never survives folding, so such a key cannot be a raw token of ``check``'s fast stage)."""
    if folded.isascii() and folded.isalpha() and folded.islower():
        return folded
    return "\x00" + folded


def age_possible(flags: int) -> bool:
    """True when tokens with these flags (OR-ed over a query) could state an age."""
    return bool(
        flags & AGE or (flags & NUM and flags & UNIT) or (flags & AGEW and flags & NUMS)
    )


class Screener:
    """Screens queries against one loaded list. Immutable once built; share it freely."""

    def __init__(self, index: Index, *, source: str = "<terms>") -> None:
        self.index = index
        self.source = source
        self._age: AgeReader = reader(tuple(index.languages))
        self._clear = Verdict(False, (), (), None, index.list_version)
        self._age_verdicts = {b: Verdict(False, (), (), b, index.list_version) for b in AGE_BANDS}
        self._cache: dict[str, int] = {}
        self._cold: set[str] = set()  # tokens whose flags are 0: they take part in nothing
        self._entries: dict[str, frozenset[int]] = {}  # token -> entries inside it (ANY tokens)
        self._decisions: dict[tuple[frozenset[int], str | None], Verdict] = {}
        self._second_pass = [i for i, r in enumerate(index.rules) if r.with_category]
        self._words = words.load(index.languages)

    # --- construction ------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path) -> Screener:
        """Load a plain (.txt), YAML (.yaml/.yml) or compiled term list."""
        from offramp.screen import compiled, terms

        path = Path(path)
        if compiled.is_compiled(path):
            return cls(compiled.load(path), source=str(path))
        return cls(plain_index(terms.load(path)), source=str(path))

    @classmethod
    def from_terms(cls, items: Iterable[str]) -> Screener:
        """A screener for a few terms (tests, demos): one plain-list line each."""
        from offramp.screen import terms

        return cls(plain_index(terms.parse_plain("\n".join(items))))

    @classmethod
    def from_yaml_text(cls, text: str, *, source: str = "<terms>") -> Screener:
        from offramp.screen import terms

        return cls(plain_index(terms.parse_yaml(text, source=source)), source=source)

    @property
    def list_version(self) -> str:
        """The content hash of the list; every verdict carries it."""
        return self.index.list_version

    # --- the online path ---------------------------------------------------------------------

    def check(self, query: str) -> Verdict:
        """Screen one query. Any string gets a verdict; work per query is bounded."""
        if len(query) > MAX_QUERY_CHARS:
            return self._full(query)
        folded: str | None = None
        if query.isascii() and query.isprintable():
            toks = query.lower().split()
        else:
            folded = fold(query)
            toks = folded.split(" ") if folded else []
        if self._cold.issuperset(toks):  # one call in C for the common case
            return self._clear
        cache = self._cache
        acc = 0
        prev_single = False
        pending_first = False
        for tok in toks:
            flags = cache.get(tok)
            if flags is None:
                flags = self._token_flags(tok)
            if flags & EMPTY:
                continue
            if pending_first or flags & (HIT | COMPLEX):
                return self._full(query, folded)
            if flags & SINGLE:
                if prev_single:
                    return self._full(query, folded)
                prev_single = True
            else:
                prev_single = False
            pending_first = bool(flags & FIRST)
            acc |= flags
        if age_possible(acc):
            # No token can take part in a match, so no rule can fire: only the age is left.
            age = self._age.band(fold(query) if folded is None else folded)
            return self._clear if age is None else self._age_verdicts[age]
        return self._clear

    def _token_flags(self, tok: str) -> int:
        """What one token could contribute to a match; computed by the full stage itself.

        A token that starts with NUL is already folded (the full stage's tokens, where spaced
        letters may have been joined): it is used as it is. NUL never survives folding, so the
        two kinds of cache key cannot collide.
        """
        if tok.isascii() and tok.isalpha() and tok.islower() and len(tok) > 1:
            # the common new token, plain lower-case letters: it folds to itself and is one
            # unit with one reading, so its only span keys are its collapse variants
            folded = tok
            keys: set[str] | None = set(collapse_variants(tok))
        elif tok.startswith("\x00"):
            folded = tok[1:]
            keys = None
        else:
            # flags depend only on the folded token: analyse each folded token once, however
            # many raw spellings it has (Zorblax, ZORBLAX, zörblax)
            folded = fold(tok)
            key = cache_key(folded)
            if key != tok:
                flags = self._cache.get(key)
                if flags is None:
                    flags = self._token_flags(key)
                self._remember(tok, flags)
                return flags
            keys = None
        if not folded:
            flags = EMPTY
        elif " " in folded:
            flags = COMPLEX
        else:
            flags = 0
            if len(folded) == 1:
                flags |= SINGLE
            if keys is None:
                inside = self._hits([folded])
            else:
                inside = set()
                self._key_hits(keys, True, inside)
            if inside:
                flags |= ANY
                if inside & self.index.positive:
                    flags |= HIT
                if len(self._entries) >= TOKEN_CACHE_SIZE:
                    self._entries.clear()
                self._entries[folded] = frozenset(inside)
            first = 0
            if keys is not None:
                for key in keys:
                    first |= self.index.first_kind(key)
            else:
                u = spans.units([folded])
                # suffixes from the shortest; a first piece is never longer than the longest
                # key (and a span never has more than 2 * maxlen + 2 units, as in _hits_in)
                for a in range(len(u) - 1, max(-1, len(u) - 2 * self.index.maxlen - 3), -1):
                    suffix_keys = spans.render(u, a, len(u))
                    for key in suffix_keys:
                        first |= self.index.first_kind(key)
                    if min(len(k) for k in suffix_keys) > self.index.maxlen:
                        break
            if first & 1:
                flags |= FIRST
            if first & 2:
                flags |= UFIRST
            age = self._age
            if age.any_word.search(folded) is None and not any(c.isdigit() for c in folded):
                pass  # no number, unit or age word: none of the tests below can succeed
            else:
                if age.youngest(folded) is not None:
                    flags |= AGE
                if age.number_at_end.search(folded):
                    flags |= NUM
                if age.number_at_start.search(folded):
                    flags |= NUMS
                if age.unit_at_start.search(folded):
                    flags |= UNIT
                if age.age_word_at_end.search(folded):
                    flags |= AGEW
        self._remember(tok, flags)
        return flags

    def _remember(self, tok: str, flags: int) -> None:
        if len(self._cache) >= TOKEN_CACHE_SIZE:
            self._cache.clear()
            self._cold.clear()
        self._cache[tok] = flags
        if not flags:
            self._cold.add(tok)

    def raw_token_flags(self, tok: str) -> int:
        """The flags of one token of a query split at ASCII spaces only (the batch path), as
        ``check`` sees it. Unlike a cache key, such a token may itself begin with NUL."""
        key = cache_key(fold(tok)) if tok.startswith("\x00") else tok
        flags = self._cache.get(key)
        return self._token_flags(key) if flags is None else flags

    # --- the full stage ----------------------------------------------------------------------

    def _fold_capped(self, query: str, folded: str | None) -> str:
        if folded is None or len(folded) > MAX_QUERY_CHARS:
            folded = fold(query[:_RAW_LIMIT])
            if len(folded) > MAX_QUERY_CHARS:
                folded = folded[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
        return folded

    def _full(self, query: str, folded: str | None = None) -> Verdict:
        """The full stage, token by token: entries inside each token come from the token
        cache, and only spans that start in a token ending with a phrase's first word are
        enumerated across tokens. Gives the verdict of ``_exhaustive`` (property-tested)."""
        folded = self._fold_capped(query, folded)
        toks = spans.tokens(folded)
        hits: set[int] = set()
        for i, tok in enumerate(toks):
            key = cache_key(tok)
            flags = self._cache.get(key)
            if flags is None:
                flags = self._token_flags(key)
            if flags & ANY:
                # another thread may have emptied the cache since: then compute it here
                entries = self._entries.get(tok)
                hits |= entries if entries is not None else self._hits([tok])
            if flags & (FIRST | UFIRST) and i + 1 < len(toks):
                hits |= self._across(toks, i)
        age = self._age.band(folded) if folded else None
        return self._decide(hits, age)

    def _across(self, toks: list[str], i: int) -> set[int]:
        """Entries of spans that start in token ``i`` and end in a later token."""
        window = [toks[i]]
        size = 0  # a lower bound on the key length the later tokens add
        for tok in toks[i + 1 :]:
            if size > self.index.maxlen:
                break
            window.append(tok)
            size += len(_RUNS.sub(r"\1", tok.replace("-", ""))) + 1
        u = spans.units(window)
        first_units = sum(1 for t in u.token_of if t == 0)
        return self._hits_in(u, range(first_units), min_end=first_units + 1)

    def _exhaustive(self, query: str) -> Verdict:
        """The full stage without the token cache: every span of the whole query. The
        reference the tests compare ``check`` with."""
        folded = self._fold_capped(query, None)
        hits = self._hits(spans.tokens(folded))
        age = self._age.band(folded) if folded else None
        return self._decide(hits, age)

    def _hits(self, toks: list[str]) -> set[int]:
        """Entry ids of every term found among the tokens."""
        u = spans.units(toks)
        return self._hits_in(u, range(len(u)), min_end=0)

    def _hits_in(self, u: spans.Units, starts: range, min_end: int) -> set[int]:
        """Entry ids of spans starting at a unit in ``starts`` and ending after ``min_end``-1."""
        index = self.index
        n = len(u)
        hits: set[int] = set()
        budget = MAX_SPAN_KEYS
        max_units = 2 * index.maxlen + 2
        for a in starts:
            word = True
            for c in range(a + 1, min(n, a + max_units) + 1):
                if c - 1 > a and u.hard[c - 1]:
                    word = False
                keys = spans.render(u, a, c)
                if c < min_end:
                    if min(len(k) for k in keys) > index.maxlen:
                        break
                    continue
                budget -= len(keys)
                if budget < 0:
                    return hits
                self._key_hits(keys, word, hits)
                if min(len(k) for k in keys) > index.maxlen:
                    break
        return hits

    def _key_hits(self, keys: Iterable[str], word: bool, hits: set[int]) -> None:
        """Add the entries that the keys of one span name: as a term, through a prefix, as
        glued terms and (inside one word) through a substring."""
        index = self.index
        substrings = index.substrings
        for key in keys:
            found = index.lookup(key)
            if found:
                hits.update(found)
            for length in index.prefix_lengths:
                if length > len(key):
                    break
                hits.update(index.prefix_lookup(key[:length]))
            if word and index.glue_min and len(key) >= 2 * index.glue_min and (
                key not in self._words
            ):
                hits.update(self._glue(key))
            if word and substrings is not None:
                for _, ids in substrings.iter(key):
                    hits.update(ids)

    def _glue(self, key: str) -> set[int]:
        """Entries of the parts when ``key`` is wholly made of listed terms glued together."""
        index = self.index
        size = len(key)
        if size > 4 * index.maxlen:
            return set()
        reach = [False] * (size + 1)
        reach[0] = True
        edges: list[tuple[int, int, tuple[int, ...]]] = []
        for p in range(size):
            if not reach[p]:
                continue
            for length in index.glue_lengths:
                q = p + length
                if q > size:
                    break
                if p == 0 and q == size:
                    continue
                found = index.lookup(key[p:q])
                if found:
                    reach[q] = True
                    edges.append((p, q, found))
        if not reach[size]:
            return set()
        back = [False] * (size + 1)
        back[size] = True
        out: set[int] = set()
        for p, q, found in reversed(edges):
            if back[q]:
                back[p] = True
                out.update(found)
        return out

    def _decide(self, hits: set[int], age: str | None) -> Verdict:
        """The verdict of the entries found and the age band (remembered: a log repeats a
        few combinations endlessly)."""
        if not hits and age is None:
            return self._clear
        key = (frozenset(hits), age)
        verdict = self._decisions.get(key)
        if verdict is None:
            verdict = self._decide_now(hits, age)
            if len(self._decisions) >= DECISION_CACHE_SIZE:
                self._decisions.clear()
            self._decisions[key] = verdict
        return verdict

    def _decide_now(self, hits: set[int], age: str | None) -> Verdict:
        rules = self.index.rules
        entries = self.index.entries
        state: dict[int, tuple[bool, set[int], bool]] = {}
        for e in hits:
            r, slot = entries[e]
            terms_hit, groups, unless = state.get(r, (False, set(), False))
            if slot == 0:
                terms_hit = True
            elif slot == UNLESS:
                unless = True
            else:
                groups.add(slot)
            state[r] = (terms_hit, groups, unless)
        fired: list[int] = []
        for r in sorted(state):
            spec = rules[r]
            terms_hit, groups, unless = state[r]
            if spec.with_category or unless:
                continue
            positive = terms_hit or (spec.groups > 0 and len(groups) == spec.groups)
            if positive and (spec.age_below is None or band_below(age, spec.age_below)):
                fired.append(r)
        if self._second_pass and fired:
            categories = {rules[r].category for r in fired}
            for r in self._second_pass:
                spec = rules[r]
                terms_hit, groups, unless = state.get(r, (False, set(), False))
                if unless or spec.with_category not in categories:
                    continue
                positive = not spec.has_terms or terms_hit or (
                    spec.groups > 0 and len(groups) == spec.groups
                )
                if positive and (spec.age_below is None or band_below(age, spec.age_below)):
                    fired.append(r)
            fired.sort()
        if not fired:
            return Verdict(False, (), (), age, self.index.list_version)
        return Verdict(
            True,
            tuple(sorted({rules[r].category for r in fired})),
            tuple(rules[r].id for r in fired),
            age,
            self.index.list_version,
        )
