"""fold() case by case, and the match-key helpers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offramp.screen.normalize import collapse, collapse_variants, fold, split_units, unit_variants


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ZorBLAX", "zorblax"),  # case
        ("ＺＯＲＢＬＡＸ", "zorblax"),  # full-width (NFKC/NFKD compatibility)
        ("𝐳𝐨𝐫𝐛𝐥𝐚𝐱", "zorblax"),  # mathematical bold
        ("𝗓𝗈𝗋𝖻𝗅𝖺𝗑", "zorblax"),  # mathematical sans-serif
        ("ⓩⓞⓡⓑⓛⓐⓧ", "zorblax"),  # circled letters
        ("zörblàx", "zorblax"),  # diacritics (precomposed)
        ("zo\u0301rblax", "zorblax"),  # combining accent
        ("zor\u200bbl\u200dax", "zorblax"),  # zero-width space and joiner dropped
        ("zor\u202eblax\u2066", "zorblax"),  # bidi controls dropped
        ("zor\u00adblax", "zorblax"),  # soft hyphen dropped
        ("zоrblах", "zorblax"),  # Cyrillic о, а, х
        ("ΖΟRΒLΑΧ", "zorblax"),  # Greek capitals
        ("ᴢᴏʀʙʟᴀx", "zorblax"),  # small capitals
        ("🇿🇴🇷", "zor"),  # regional indicators
        ("zorbłax", "zorblax"),  # stroke letter
        ("z.o.r.b.l.a.x", "z-o-r-b-l-a-x"),  # separators inside a word: soft
        ("z_orblax", "z-orblax"),
        ("(zorblax)?!", "zorblax-!"),  # edge punctuation goes; before a symbol it is soft
        ("zorblax  quillion\t\nvexmora", "zorblax quillion vexmora"),  # whitespace: one space
        ("z0rbl4x", "z0rbl4x"),  # digits kept: read at match time
        ("z@x $ |", "z@x $ |"),  # substitution symbols kept
        ("１２ＹＯ", "12yo"),
        ("٣", "3"),  # Arabic-Indic digit
        ("Straße", "strasse"),
        ("a\x00b", "a b"),  # NUL is a separator
        ("\ud800zor", "zor"),  # lone surrogate is a separator
        ("ستار", "ستار"),  # Arabic stays Arabic
        ("كتاب", "كتاب"),
        ("你好", "你 好"),  # unspaced scripts: one token per letter
        ("", ""),
    ],
)
def test_fold_cases(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_cyrillic_words_fold_consistently() -> None:
    # A Cyrillic term list works: the same word folds the same way in any case.
    assert fold("ЖАРКО") == fold("жарко") == fold("жАрКо")


@given(st.text(max_size=60))
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_fold_of_ascii_is_token_local(text: str) -> None:
    # the fast path of check() relies on this
    if text.isprintable():
        assert fold(text) == " ".join(f for t in text.split() if (f := fold(t)))


def test_units_and_variants() -> None:
    assert split_units("z-orblax") == ["z", "orblax"]
    assert split_units("zorblax!") == ["zorblax", "!"]
    assert split_units("$orblax") == ["$", "orblax"]
    assert unit_variants("z0rbl4x", True) == ("zorblax",)
    assert set(unit_variants("qu1ll1on", True)) == {"quillion", "qulllion", "quilllon", "qullllon"}
    assert unit_variants("2024", False) == ("2024",)


def test_long_runs_collapse_doubles_stay() -> None:
    assert collapse("zorrrrblax") == "zorrblax"
    assert collapse("booze") == "booze"
    assert set(collapse_variants("zorrrblax")) == {"zorrblax", "zorblax"}
