"""From folded text to match keys: tokens, units, boundaries and the keys of every span.

A folded query is a list of *tokens* (split at spaces: hard boundaries). Runs of one-character
tokens are spaced-out letters (``z o r b``) and join into one token with soft boundaries. A
token splits into *units* at soft boundaries (``z-orblax``) and where a symbol run meets the
edge of a word (``zorblax!``). A *span* is a run of whole units; its key is the units' readings
(substitutions applied) concatenated, repeats collapsed, with one space at every hard
boundary. A term's keys are made the same way, so a term matches a span when a key is shared.
Terms of several words also get *glued* keys (``quilionvexmora``), so a phrase written as one
word is found too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from offramp.screen.normalize import collapse_variants, has_letter, split_units, unit_variants

#: Readings of one span beyond this number are not tried (bounds hostile input).
MAX_VARIANTS_PER_SPAN = 16
#: Joints of a phrase beyond this number are not tried glued.
MAX_GLUED_JOINTS = 4


def tokens(folded: str) -> list[str]:
    """Tokens of folded text, runs of one-character tokens joined with soft boundaries."""
    out: list[str] = []
    singles: list[str] = []
    for tok in folded.split(" ") if folded else ():
        if len(tok) == 1:
            singles.append(tok)
            continue
        if singles:
            out.append("-".join(singles))
            singles = []
        out.append(tok)
    if singles:
        out.append("-".join(singles))
    return out


@dataclass(slots=True)
class Units:
    """The units of a token list: readings of each unit and the boundary before it."""

    variants: list[tuple[str, ...]]
    hard: list[bool]  # hard[i]: a hard boundary before unit i (i > 0)
    token_of: list[int]  # which token unit i came from

    def __len__(self) -> int:
        return len(self.variants)


def units(toks: list[str]) -> Units:
    """Split tokens into units and read each unit's substitutions."""
    variants: list[tuple[str, ...]] = []
    hard: list[bool] = []
    token_of: list[int] = []
    for t, tok in enumerate(toks):
        letters = has_letter(tok)
        for i, unit in enumerate(split_units(tok)):
            variants.append(unit_variants(unit, letters))
            hard.append(i == 0 and t > 0)
            token_of.append(t)
    return Units(variants, hard, token_of)


def render(u: Units, a: int, c: int, glued: frozenset[int] = frozenset()) -> set[str]:
    """Every key of the span of units ``a`` to ``c - 1``.

    ``glued`` lists hard boundaries to treat as soft (for a phrase's glued keys).
    """
    choices = u.variants[a:c]
    combos: itertools.product[tuple[str, ...]] | list[tuple[str, ...]]
    if all(len(ch) == 1 for ch in choices):
        combos = [tuple(ch[0] for ch in choices)]
    else:
        combos = itertools.product(*choices)
    keys: set[str] = set()
    for combo in itertools.islice(combos, MAX_VARIANTS_PER_SPAN):
        pieces: list[list[str]] = []
        current: list[str] = []
        for offset, reading in enumerate(combo):
            i = a + offset
            if offset and u.hard[i] and i not in glued:
                pieces.append(collapse_variants("".join(current)))
                current = []
            current.append(reading)
        pieces.append(collapse_variants("".join(current)))
        if len(pieces) == 1:
            keys.update(pieces[0])
        else:
            keys.update(" ".join(p) for p in itertools.product(*pieces))
    return keys


def term_keys(folded: str) -> set[str]:
    """All keys under which a folded term is indexed: its readings, and glued if a phrase."""
    u = units(tokens(folded))
    joints = [i for i in range(1, len(u)) if u.hard[i]]
    keys = render(u, 0, len(u))
    if joints and len(joints) <= MAX_GLUED_JOINTS:
        for r in range(1, len(joints) + 1):
            for subset in itertools.combinations(joints, r):
                keys |= render(u, 0, len(u), frozenset(subset))
    return {k for k in keys if k}
