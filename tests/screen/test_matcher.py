"""check(): obfuscations, near misses, rule semantics, ages, hostile input, compiled lists."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from offramp.screen import Screener
from offramp.screen import compiled as compiled_mod
from offramp.screen.terms import load

EXAMPLES = Path(__file__).parents[2] / "examples" / "terms"


@pytest.fixture(scope="module")
def plain() -> Screener:
    return Screener.from_terms(["zorblax", "quillion", "plindrath oskette", "tarvune"])


@pytest.mark.parametrize(
    "query",
    [
        "zorblax", "ZORBLAX pictures", "find z0rbl4x", "zorrrrblax", "z.o.r.b.l.a.x",
        "z o r b l a x", "z-orblax", "zor_blax", "zоrblах", "ᴢᴏʀʙʟᴀx", "ＺＯＲＢＬＡＸ",
        "z\u200borblax", "zörblâx", "zorblax!", "(zorblax)", "anti-zorblax", "qu1ll1on",
        "qui11ion", "qu|ll!on", "quilllllion", "zorblaxquillion", "quilliontarvune",
        "plindrath oskette", "PLINDRATH-OSKETTE", "plindrathoskette", "plindrath  oskette now",
    ],
)  # fmt: skip
def test_obfuscations_are_found(plain: Screener, query: str) -> None:
    assert plain.check(query).blocked, query


@pytest.mark.parametrize(
    "query",
    [
        "fizz orb lax",  # letters spread over unrelated words
        "zorblaxes",  # term inside a longer word (a word rule)
        "unzorblax",
        "zor blax",  # split into two multi-letter words
        "quilion",  # a double letter is spelling
        "plindrath",  # half a phrase
        "oskette plindrath",  # phrase out of order
        "zorblaxing quillionish",
        "weather tomorrow",
        "",
    ],
)
def test_near_misses_are_not(plain: Screener, query: str) -> None:
    assert not plain.check(query).blocked, query


def test_rule_semantics(demo: Screener) -> None:
    v = demo.check("zorblax")
    assert (v.blocked, v.categories, v.rules) == (True, ("core",), ("core-terms",))
    assert not demo.check("zorblax museum").blocked  # unless cancels the rule
    assert demo.check("vexmorathing").rules == ("core-prefixes",)  # match: prefix
    assert demo.check("tarvunelli").rules == ("tarv-stem",)  # trailing *
    assert demo.check("xdrossilx").rules == ("embedded",)  # match: substring
    assert demo.check("meddow and skarneth").rules == ("pair",)  # all_of
    assert not demo.check("skarneth bluvvin").blocked  # both from one group
    # age helper: a stated age under 18 together with a term
    assert demo.check("fennic 12 yo").rules == ("stated-age",)
    assert demo.check("glorvane twelve year old").age == "0-12"
    assert not demo.check("fennic 30 years").blocked
    assert not demo.check("fennic").blocked
    assert demo.check("fennic zwölf jahre").blocked  # German declared in the list


@pytest.mark.parametrize(
    ("query", "band"),
    [
        ("12 yo", "0-12"), ("12yo", "0-12"), ("age 14", "13-15"), ("aged 16", "16-17"),
        ("16 years old", "16-17"), ("15-year-old", "13-15"), ("twelve yo", "0-12"),
        ("thirteen years", "13-15"), ("１２ ｙ/ｏ", "0-12"), ("30 yrs", "18+"),
        ("windows 10", None), ("2012 years", None), ("age", None), ("you 12", None),
    ],
)  # fmt: skip
def test_age_bands(plain: Screener, query: str, band: str | None) -> None:
    assert plain.check(query).age == band


def test_with_category_rule() -> None:
    s = Screener.from_yaml_text(
        "categories: {core: c, combo: d}\n"
        "rules:\n"
        "  - {id: base, category: core, terms: [zorblax]}\n"
        "  - {id: young, category: combo, with_category: core, age_below: 16}\n"
    )
    assert s.check("zorblax age 12").rules == ("base", "young")
    assert s.check("zorblax age 17").rules == ("base",)
    assert not s.check("quillion age 12").blocked


@pytest.mark.parametrize(
    "query",
    [
        "zorblax " * 200_000,  # over a megabyte
        "\x00" * 10_000 + "zorblax",
        "\ud800\udfff" * 1000 + " zorblax",
        "z " * 50_000,
        "1" * 100_000,
        "a-" * 20_000,
        "\u0301" * 100_000,
        "𝐳" * 30_000,
    ],
)
def test_hostile_input_gets_a_verdict_quickly(plain: Screener, query: str) -> None:
    start = time.process_time()
    verdict = plain.check(query)
    assert isinstance(verdict.blocked, bool)
    assert time.process_time() - start < 2.0  # bounded work, not a benchmark


def test_compiled_list_gives_the_same_verdicts(tmp_path: Path, plain: Screener) -> None:
    source = tmp_path / "t.txt"
    source.write_text("zorblax\nquillion\nplindrath oskette\ntarvune\n", encoding="utf-8")
    out = tmp_path / "t.compiled"
    compiled_mod.write(load(source), out)
    text = out.read_text(encoding="utf-8")
    assert "zorblax" not in text and "oskette" not in text
    hashed, original = Screener.from_file(out), Screener.from_file(source)
    assert hashed.index.hashed
    for q in ["z0rbl4x", "plindrath-oskette", "zorblaxquillion", "z o r b l a x", "nothing",
              "quil1ion tarvune", "fizz orb lax"]:  # fmt: skip
        assert hashed.check(q) == original.check(q), q


def test_compile_refuses_prefix_rules_unless_dropped(tmp_path: Path) -> None:
    from offramp.errors import InputError

    tl = load(EXAMPLES / "demo-terms.yaml")
    with pytest.raises(InputError, match="core-prefixes"):
        compiled_mod.compile_list(tl)
    data = compiled_mod.compile_list(tl, drop_unhashable=True)
    assert data["dropped_rules"] == ["core-prefixes", "tarv-stem", "embedded"]


def test_non_latin_lists_work() -> None:
    # invented tokens written in Cyrillic, Arabic and Han script
    s = Screener.from_terms(["зорблакс", "زوربلاكس", "佐布拉"])
    assert s.check("ЗОРБЛАКС").blocked
    assert s.check("з о р б л а к с").blocked  # spaced out
    assert s.check("зорб\u200bлакс").blocked  # zero-width
    assert s.check("زوربـــلاكس").blocked  # tatweel stretching
    assert s.check("زَوربلاكس").blocked  # a vowel mark
    assert s.check("在佐布拉里").blocked  # inside running Han text
    assert not s.check("зорблаксы").blocked
    assert not s.check("佐布").blocked


def test_phrase_with_a_heavily_stretched_middle_word() -> None:
    s = Screener.from_terms(["quillion vexmora oskette"])
    q = "quillion vexmo" + "o" * 200 + "ra oskette"
    assert s.check(q).blocked
    assert s.check(q) == s._exhaustive(q)


def test_work_cap_is_per_token_so_junk_cannot_hide_a_later_term() -> None:
    s = Screener.from_terms(["quillion vexmora", "zorblax"])
    assert s.check("a " * 1000 + "quillion vexmora").blocked
    assert s.check("1 ! " * 500 + "zorblax").blocked
