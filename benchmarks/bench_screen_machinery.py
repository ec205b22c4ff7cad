"""How the screen stage's matching machinery was chosen: the candidates, measured side by side.

    .venv/bin/python benchmarks/bench_screen_machinery.py [--terms 20000] [--queries 100000]

Each approach is a *prefilter* that must never miss a query the exact matcher would block; what
matters is its speed and how many ordinary queries it lets through to slower exact work
("candidates"). Approaches:

1. pyahocorasick over the query squashed to a skeleton (lower case, substitutions mapped,
   separators deleted, long runs collapsed): catches every obfuscation, but the squashed stream
   of ordinary words contains random invented terms almost everywhere.
2. Python ``re`` with one trie-shaped pattern of all terms (character classes for
   substitutions, ``+`` for stretched letters), anchored at word starts.
3. google-re2 with the same pattern (its DFA runs out of memory; it falls back to the NFA).
4. The chosen design: per-token flags from a cache, exact span lookup for flagged queries
   (``Screener.check``), which has no false candidates from ordinary words.

hyperscan was tried too (40,000 patterns with classes and separators): its compilation had not
finished after ten minutes, so it is not part of this script or of the dependencies.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import time

import ahocorasick

from offramp.screen import Screener, words
from offramp.synth.obfuscate import invented_terms

CLASSES = {"i": "[il1|!]", "l": "[il1|!]", "o": "[o0]", "e": "[e3]", "a": "[a4@]", "s": "[s5$]",
           "t": "[t7+]", "b": "[b8]", "g": "[g9]", "z": "[z2]"}  # fmt: skip
SQUASH = str.maketrans({**{c: None for c in " .-_*'/,;:()"}, "1": "i", "l": "i", "|": "i",
                        "!": "i", "0": "o", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s",
                        "7": "t", "+": "t", "8": "b", "9": "g", "2": "z"})  # fmt: skip
RUNS = re.compile(r"(.)\1+")


def squash(text: str) -> str:
    return RUNS.sub(r"\1", text.lower().translate(SQUASH))


def trie_pattern(keys: list[str]) -> str:
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for key in keys:
        node = root
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:  # type: ignore[type-arg]
        alts, end = [], False
        for ch, sub in sorted(node.items()):
            if ch == "":
                end = True
                continue
            alts.append(CLASSES.get(ch, re.escape(ch)) + "+" + emit(sub))
        if not alts:
            return ""
        body = "(?:" + "|".join(alts) + ")"
        return body + "?" if end else body

    return emit(root)


def rate(fn, queries: list[str]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    start = time.process_time()
    hits = sum(1 for q in queries if fn(q))
    return len(queries) / (time.process_time() - start), hits / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(1)
    vocabulary = sorted(words.load(["en"]))
    terms = invented_terms(args.terms, rng, set(vocabulary))
    queries = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 6)))
               for _ in range(args.queries)]  # fmt: skip
    print(f"{len(terms):,} invented terms, {len(queries):,} ordinary queries; rates are "
          "queries per CPU second, candidates the share of queries let through")  # fmt: skip

    automaton = ahocorasick.Automaton()
    for t in terms:
        automaton.add_word(squash(t), t)
    automaton.make_automaton()
    qps, cand = rate(lambda q: next(automaton.iter(squash(q)), None) is not None, queries)
    print(f"1. pyahocorasick on squashed skeleton: {qps:>10,.0f} q/s, candidates {cand:.1%}")

    keys = sorted({RUNS.sub(r"\1", t) for t in terms})
    pattern = r"(?<![a-z0-9])" + trie_pattern(keys)
    compiled = re.compile(pattern)
    qps, cand = rate(lambda q: compiled.search(q.lower()) is not None, queries)
    print(f"2. re, one trie pattern at word starts:  {qps:>10,.0f} q/s, candidates {cand:.1%}")

    try:
        import re2

        options = re2.Options()
        options.max_mem = 256 << 20
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)  # re2 logs every DFA budget overflow to stderr
        try:
            r2 = re2.compile(pattern.replace("(?<![a-z0-9])", "(?:^|[^a-z0-9])"), options)
            qps, cand = rate(lambda q: r2.search(q.lower()) is not None, queries[:20_000])
        finally:
            os.dup2(saved, 2)
            os.close(devnull)
        print(f"3. google-re2, same pattern:             {qps:>10,.0f} q/s, candidates {cand:.1%}")
    except ImportError:
        print("3. google-re2: not installed")

    screener = Screener.from_terms(terms)
    for q in queries:
        screener.check(q)  # fill the token cache once
    from offramp.screen.matcher import ANY, FIRST, HIT

    def candidate(q: str) -> bool:
        return any(screener._cache.get(t, 0) & (HIT | FIRST | ANY) for t in q.split())

    qps, _ = rate(lambda q: screener.check(q).blocked, queries)
    _, cand = rate(candidate, queries)
    print(f"4. token flags + exact lookup (check):  {qps:>10,.0f} q/s, candidates {cand:.1%}")


if __name__ == "__main__":
    main()
