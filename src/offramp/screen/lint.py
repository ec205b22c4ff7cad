"""Checks of a term list that loading alone does not make: likely mistakes and false positives.

Each finding names the file and line. Loading already rejects what cannot work (bad YAML,
unknown categories, empty terms, terms that fold to nothing); lint reports what works but is
probably not what the operator meant.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from offramp.screen import words
from offramp.screen.compiled import unhashable_rules
from offramp.screen.spans import term_keys
from offramp.screen.terms import Term, TermList, unknown_languages

#: Report at most this many example words per finding.
EXAMPLES = 3


@dataclass(frozen=True)
class Finding:
    line: int
    code: str
    message: str

    def format(self, source: str) -> str:
        return f"{source}:{self.line}: {self.code}: {self.message}"


def _all_terms(term_list: TermList) -> list[tuple[str, str, Term]]:
    out = []
    for rule in term_list.rules:
        for term in rule.terms:
            out.append((rule.id, "terms", term))
        for group in rule.all_of:
            for term in group:
                out.append((rule.id, "all_of", term))
        for term in rule.unless:
            out.append((rule.id, "unless", term))
    return out


def lint(term_list: TermList) -> list[Finding]:
    """Every finding for a list, ordered by line."""
    findings: list[Finding] = []
    dictionary = words.load(term_list.languages)
    sorted_words = sorted(dictionary)

    seen_text: dict[tuple[str, str], int] = {}
    seen_key: dict[tuple[str, str], tuple[int, str]] = {}
    for _rule_id, slot, term in _all_terms(term_list):
        text_id = (slot, term.text.strip().casefold())
        if text_id in seen_text:
            findings.append(Finding(term.line, "duplicate",
                                    f"{term.text!r} already listed on line {seen_text[text_id]}"))
            continue
        seen_text[text_id] = term.line
        for key in sorted(term_keys(term.folded)):
            key_id = (slot, key)
            if key_id in seen_key and seen_key[key_id][1] != term.text:
                line, other = seen_key[key_id]
                findings.append(Finding(term.line, "same-fold",
                    f"{term.text!r} folds to the same key as {other!r} (line {line})"))
                break
            seen_key.setdefault(key_id, (term.line, term.text))
        if slot == "unless":
            continue
        folded = term.folded.replace(" ", "")
        if term.kind == "prefix":
            examples = _words_with_prefix(sorted_words, folded)
            if examples:
                findings.append(Finding(term.line, "prefix-of-words",
                    f"prefix {term.text!r} also starts common words, e.g. {', '.join(examples)}"))
        elif term.kind == "substring":
            examples = [w for w in sorted_words if folded in w][:EXAMPLES]
            if examples:
                findings.append(Finding(term.line, "inside-words",
                    f"substring {term.text!r} occurs in common words, e.g. {', '.join(examples)}"))
        elif term.folded in dictionary:
            findings.append(Finding(term.line, "common-word",
                                    f"{term.text!r} is a common word; expect false positives"))
        if term.kind == "word" and len(folded) <= 2:
            findings.append(Finding(term.line, "short",
                                    f"{term.text!r} is very short; expect false positives"))

    categories_used = defaultdict(list)
    for rule in term_list.rules:
        categories_used[rule.category].append(rule.id)
    for rule in term_list.rules:
        unless_keys = set().union(*(term_keys(t.folded) for t in rule.unless)) if rule.unless \
            else set()  # fmt: skip
        if rule.terms and all(term_keys(t.folded) & unless_keys for t in rule.terms) and not \
                rule.all_of:  # fmt: skip
            findings.append(Finding(rule.line, "never-fires",
                f"rule {rule.id!r}: every term is also an exception in 'unless'"))
        for group in rule.all_of:
            if all(term_keys(t.folded) & unless_keys for t in group):
                findings.append(Finding(rule.line, "never-fires",
                    f"rule {rule.id!r}: an all_of group has only terms that 'unless' cancels"))
        if rule.with_category is not None:
            others = [r for r in categories_used[rule.with_category] if r != rule.id]
            if not others:
                findings.append(Finding(rule.line, "never-fires",
                    f"rule {rule.id!r}: no rule has category {rule.with_category!r}"))
            elif all(
                r.with_category is not None for r in term_list.rules if r.id in set(others)
            ):
                findings.append(Finding(rule.line, "never-fires",
                    f"rule {rule.id!r}: rules of {rule.with_category!r} need another category "
                    "themselves (only one level of with_category is evaluated)"))
    for rule_id in unhashable_rules(term_list):
        line = next(r.line for r in term_list.rules if r.id == rule_id)
        findings.append(Finding(line, "not-compilable",
            f"rule {rule_id!r} uses prefix or substring matching; a compiled list cannot hold it"))
    for lang in unknown_languages(term_list):
        findings.append(Finding(1, "language",
            f"no bundled age words or word list for language {lang!r}"))
    return sorted(findings, key=lambda f: (f.line, f.code))


def _words_with_prefix(sorted_words: list[str], prefix: str) -> list[str]:
    import bisect

    i = bisect.bisect_left(sorted_words, prefix)
    out: list[str] = []
    while i < len(sorted_words) and sorted_words[i].startswith(prefix) and len(out) < EXAMPLES:
        if sorted_words[i] != prefix:
            out.append(sorted_words[i])
        i += 1
    return out
