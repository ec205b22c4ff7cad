"""The expression language case by case: grammar, every function, ODK's edge cases, error places.

Expected values come from XPath 1.0 and from what ODK Collect (JavaRosa) does with the same
expression, noted where the two differ.
"""

from __future__ import annotations

import math
import sys
import threading
import types
from collections.abc import Mapping

import pytest

from offramp.errors import InputError, OfframpError
from offramp.survey import expressions
from offramp.survey._expr_ast import Chain, Negate, Number, String, quote, unparse
from offramp.survey.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    evaluate,
    parse,
    to_number,
    to_string,
    truthy,
)

NAN = math.nan
INF = math.inf


def ev(source: str, answers: Mapping[str, object] | None = None, current: object = None) -> object:
    return evaluate(source, answers or {}, current)


def same(actual: object, expected: object) -> bool:
    """Equality that also holds for NaN and keeps bool apart from numbers."""
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return type(actual) is type(expected) and actual == expected


# --- the public surface --------------------------------------------------------------------------


def test_public_names_are_exactly_these() -> None:
    assert set(expressions.__all__) == {
        "FUNCTIONS",
        "MAX_DEPTH",
        "MAX_LENGTH",
        "Expression",
        "ExpressionError",
        "evaluate",
        "parse",
        "to_number",
        "to_string",
        "truthy",
    }
    assert all(hasattr(expressions, name) for name in expressions.__all__)


def test_expression_error_is_an_input_error() -> None:
    assert issubclass(ExpressionError, InputError)
    assert issubclass(ExpressionError, OfframpError)


def test_parse_is_cached_per_source_and_mode() -> None:
    source = "${cache_probe} = 'x'"
    assert parse(source) is parse(source)
    assert parse(source) is not parse(source, choice_filter=True)
    assert parse(source).source == source


def test_parse_rejects_non_strings_with_type_error() -> None:
    with pytest.raises(TypeError):
        parse(None)  # type: ignore[arg-type]


def test_variables_and_current() -> None:
    expression = parse("${a} + ${b} > ${a} and string-length(.) > 0")
    assert expression.variables() == frozenset({"a", "b"})
    assert expression.uses_current()
    assert parse("1 + 2").variables() == frozenset()
    assert not parse("string-length(${a})").uses_current()
    assert parse("string-length()").uses_current()
    assert parse("${q.1-x_y} = 1").variables() == {"q.1-x_y"}


def test_repr_names_the_source() -> None:
    assert repr(parse("${a} = 1")) == "Expression('${a} = 1')"


# --- grammar: precedence and associativity -------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("10 - 4 - 3", 3.0),  # left-associative; right would give 9
        ("100 div 10 div 5", 2.0),  # right would give 50
        ("7 mod 4 mod 2", 1.0),  # right would be 7 mod 0 = NaN
        ("2 * 3 mod 4", 2.0),  # one level, left to right; right would give 6
        ("8 div 2 * 4", 16.0),
        ("-2 * 3", -6.0),
        ("- 3 - 2", -5.0),
        ("--3", 3.0),
        ("-(1 + 2)", -3.0),
        ("1 - -2", 3.0),
        ("1--2", 3.0),
        ("2 + 3 > 4", True),
        ("5 = 5 > 4", True),  # = looser than >: 5 = (5 > 4) = 5 = true(); else (5 = 5) > 4 false
        ("true() or false() and false()", True),  # and binds tighter than or
        ("(true() or false()) and false()", False),
        ("1 < 2 < 3", True),  # (1 < 2) < 3 -> 1 < 3
        ("3 > 2 > 1", False),  # (3 > 2) > 1 -> 1 > 1: XPath's left-associative quirk
        ("1 + 1 = 2 and 3 > 2", True),
        ("not(1 = 2) and 2 >= 2 and 2 <= 2 and 1 != 2", True),
        (".5 + 5.", 5.5),
        ("  1\t+\n2  ", 3.0),
        ("1\u00a0+\u00a02", 3.0),  # a no-break space pasted from a word processor
    ],
)
def test_precedence_and_associativity(source: str, expected: object) -> None:
    assert same(ev(source), expected)


def test_same_level_operators_form_one_chain() -> None:
    tree = parse("1 - 2 + 3").tree
    assert tree == Chain(("-", "+"), (Number(1.0), Number(2.0), Number(3.0)))
    grouped = parse("(1 - 2) + 3").tree
    assert grouped == Chain(("+",), (Chain(("-",), (Number(1.0), Number(2.0))), Number(3.0)))
    assert parse("-3").tree == Negate(Number(3.0))


def test_glued_word_operator_reads_as_operator_and_minus() -> None:
    # XPath would lex `div-1` as one name; here only `div -1` makes sense.
    assert ev("6 div-2") == -3.0
    assert ev("${a} mod-4", {"a": 7}) == 3.0
    assert ev("true() and-1") is True


@pytest.mark.parametrize(
    ("source", "printed"),
    [
        ("(1 + 2) * 3", "(1 + 2) * 3"),
        ("1 - (2 - 3)", "1 - (2 - 3)"),
        ("(1 - 2) - 3", "(1 - 2) - 3"),
        ("1-2-3", "1 - 2 - 3"),
        ("-(${a}+1)", "-(${a} + 1)"),
        ("selected( ${m} ,'b' )", "selected(${m}, 'b')"),
        ('"it\'s"', '"it\'s"'),
        ("0.1000", "0.1"),
        ("(${a} or ${b}) and ${c}", "(${a} or ${b}) and ${c}"),
    ],
)
def test_printer_uses_minimal_parentheses(source: str, printed: str) -> None:
    assert unparse(parse(source).tree) == printed


def test_printer_quotes_text_with_both_quote_kinds_by_concat() -> None:
    text = """He said "it's" twice"""
    source = quote(text)
    assert "concat(" in source
    assert ev(source) == text
    assert unparse(String("plain")) == "'plain'"


# --- ODK semantics of answers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (None, False),
        ("", False),
        (18, True),
        (17, False),
        ("18", True),
        (" 18 ", True),
        ("eighteen", False),
        (17.5, True),
        ([], False),
    ],
)
def test_greater_than_with_empty_or_string_answers(answer: object, expected: bool) -> None:
    assert ev("${age} > 17", {"age": answer}) is expected


def test_unanswered_is_neither_smaller_nor_larger() -> None:
    assert ev("${age} < 18", {"age": None}) is False
    assert ev("${age} >= 0", {}) is False  # an unknown name reads as unanswered


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(None, True), ("", True), ([], True), ("a", False), (0, False), (["a"], False)],
)
def test_equals_empty_string_means_unanswered(answer: object, expected: bool) -> None:
    assert ev("${x} = ''", {"x": answer}) is expected
    assert ev("${x} != ''", {"x": answer}) is (not expected)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("5", True),
        ("5.0", True),
        ("05", True),
        (" 5 ", True),
        ("five", False),
        (5, True),
        (5.0, True),
        (None, False),
        (True, True),
    ],
)
def test_equals_number_compares_as_numbers(answer: object, expected: bool) -> None:
    assert ev("${n} = 5", {"n": answer}) is expected
    assert ev("${n} != 5", {"n": answer}) is (not expected)


def test_strings_compare_as_strings_unless_a_number_is_involved() -> None:
    assert ev("${s} = 'abc'", {"s": "abc"}) is True
    assert ev("${s} = '5.0'", {"s": "5"}) is False  # two strings: as text
    assert ev("${s} = '5.0'", {"s": 5}) is True  # a number answer: as numbers (JavaRosa)
    assert ev("'abc' < 'abd'") is False  # relational operators compare numbers; NaN < NaN
    assert ev("'10' > '9'") is True


def test_booleans_compare_as_booleans() -> None:
    assert ev("true() = 'false'") is True  # a non-empty string is true: XPath
    assert ev("true() = 1") is True
    assert ev("false() = 0") is True
    assert ev("false() = ''") is True
    assert ev("${b} = true()", {"b": True}) is True
    assert ev("${b} = 1", {"b": False}) is False


def test_number_equality_has_odk_tolerance() -> None:
    assert ev("0.1 + 0.2 = 0.3") is True
    assert ev("0.1 + 0.2 != 0.3") is False
    assert ev("1 div 0 = 1 div 0") is True
    assert ev("0 div 0 = 0 div 0") is False
    assert ev("0 div 0 != 0 div 0") is True


def test_arithmetic_on_unanswered_is_nan_and_comparisons_false() -> None:
    assert same(ev("${a} + 1", {"a": None}), NAN)
    assert ev("${a} + 1 > 0", {"a": None}) is False


def test_answers_read_as_xpath_values() -> None:
    assert ev("${x}", {"x": None}) == ""
    assert same(ev("${x}", {"x": 17}), 17.0)
    assert ev("${x}", {"x": ["a", "b"]}) == ("a", "b")
    assert ev("${x}", {"x": {"b", "a"}}) == ("a", "b")
    assert ev("${x}", {"x": "text"}) == "text"
    assert ev("${x}", {"x": 10**400}) == INF
    assert ev("${x} > 5", {"x": 10**400}) is True
    assert ev("${x}", {"x": -(10**400)}) == -INF


def test_numeric_answers_of_other_types_read_as_numbers() -> None:
    np = pytest.importorskip("numpy")
    from decimal import Decimal
    from fractions import Fraction

    for answer in (np.float64(2.5), np.int64(2), Decimal("2.5"), Fraction(5, 2)):
        value = ev("${x}", {"x": answer})
        assert type(value) is float
        assert ev("string(${x})", {"x": answer}) in ("2.5", "2")


def test_any_mapping_of_answers_works() -> None:
    answers = types.MappingProxyType({"a": 2})
    assert ev("${a} * 2", answers) == 4.0


def test_current_is_the_dot() -> None:
    assert ev(". > 5", current=6) is True
    assert ev(". > 5", current=None) is False
    assert ev(". = ''") is True
    assert ev("string-length(.) <= 3", current="abc") is True


# --- multi-select --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer", ["a b", ["a", "b"], ("a", "b"), {"a", "b"}, frozenset({"b", "a"}), "  b  a "]
)
def test_selected_accepts_every_multi_select_form(answer: object) -> None:
    assert ev("selected(${m}, 'b')", {"m": answer}) is True
    assert ev("selected(${m}, 'c')", {"m": answer}) is False
    assert ev("count-selected(${m})", {"m": answer}) == 2.0


@pytest.mark.parametrize(
    ("answer", "count"), [(None, 0), ("", 0), ("a", 1), ("a b  c", 3), ([], 0)]
)
def test_count_selected(answer: object, count: int) -> None:
    assert ev("count-selected(${m})", {"m": answer}) == float(count)


def test_selected_edge_cases() -> None:
    assert ev("selected(${m}, 'b')", {"m": "ab"}) is False
    assert ev("selected(${m}, 'b')", {"m": None}) is False
    assert ev("selected(${m}, 'b')", {"m": "b"}) is True  # a select_one answer works too
    assert ev("selected(${m}, ' b ')", {"m": ["b"]}) is True  # the choice is trimmed (JavaRosa)
    assert ev("selected(${m}, '2')", {"m": [1, 2]}) is True  # numeric choice values
    assert ev("${m} = 'a b'", {"m": ["a", "b"]}) is True  # its string value
    assert ev("selected(${m}, ${c})", {"m": ["1"], "c": 1}) is True  # computed choice: as text


def test_selected_at() -> None:
    answers = {"m": ["a", "b"]}
    assert ev("selected-at(${m}, 0)", answers) == "a"
    assert ev("selected-at(${m}, 1)", answers) == "b"
    assert ev("selected-at(${m}, 2)", answers) == ""
    assert ev("selected-at(${m}, -1)", answers) == ""
    assert ev("selected-at(${m}, 'x')", answers) == "a"  # NaN truncates to 0, as in Java


# --- every function ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # logic
        ("not(${x})", True),
        ("not('')", True),
        ("not(0)", True),
        ("not('0')", False),  # a non-empty string
        ("not(0 div 0)", True),
        ("true()", True),
        ("false()", False),
        ("boolean('a')", True),
        ("boolean(0)", False),
        ("boolean(-0.5)", True),
        ("if(${y} > 1, 'big', 'small')", "big"),
        ("if(${x}, 'answered', 'empty')", "empty"),
        ("coalesce(${x}, 'fallback')", "fallback"),
        ("coalesce(${y}, 'fallback')", 2.0),
        ("coalesce(${zero}, 'fallback')", 0.0),  # 0 is an answer
        ("coalesce(number('x'), 'fallback')", "fallback"),  # NaN is not
        ("coalesce(${empty_multi}, ${x}, 'third')", "third"),
        ("coalesce(${x}, ${x})", ""),
        # conversions
        ("number('12')", 12.0),
        ("number(' 12 ')", 12.0),
        ("number('.5')", 0.5),
        ("number('5.')", 5.0),
        ("number('-0.5')", -0.5),
        ("number('1e3')", NAN),  # no exponent in XPath 1.0
        ("number('+1')", NAN),
        ("number('1,5')", NAN),  # JavaRosa reads ',' as '.'; XPath and offramp do not
        ("number('')", NAN),
        ("number(true())", 1.0),
        ("number(false())", 0.0),
        ("string(3)", "3"),
        ("string(3.5)", "3.5"),
        ("string(-0.5)", "-0.5"),
        ("string(1 div 3)", "0.3333333333333333"),
        ("string(true())", "true"),
        ("string(false())", "false"),
        ("string(1 div 0)", "Infinity"),
        ("string(-1 div 0)", "-Infinity"),
        ("string(0 div 0)", "NaN"),
        ("string(0.0000001)", "0.0000001"),
        ("string(100000000000000000000)", "100000000000000000000"),
        ("string(-0)", "0"),
        ("string(${multi})", "a b"),
        ("int(3.7)", 3.0),
        ("int(-3.7)", -3.0),
        ("int('4.5')", 4.0),
        ("int('x')", NAN),
        ("int(1 div 0)", INF),
        ("boolean-from-string('true')", True),
        ("boolean-from-string('TRUE')", True),
        ("boolean-from-string('1')", True),
        ("boolean-from-string('yes')", False),
        ("boolean-from-string(${x})", False),
        # numbers
        ("round(2.5)", 3.0),
        ("round(-2.5)", -2.0),  # half rounds towards positive infinity
        ("round(2.675, 2)", 2.68),  # on the decimal digits, as a researcher reads them
        ("round(1234.5, -2)", 1200.0),
        ("round(1 div 0)", INF),
        ("round(0 div 0)", NAN),
        ("round(1.5, 31)", NAN),
        ("round(1.25, 1)", 1.3),
        ("floor(-1.5)", -2.0),
        ("ceiling(-1.5)", -1.0),
        ("floor(1 div 0)", INF),
        ("ceiling(0 div 0)", NAN),
        ("abs(-3)", 3.0),
        ("abs(${x})", NAN),
        ("max(1, 3, 2)", 3.0),
        ("max(${x}, 2)", 2.0),  # unanswered (NaN) arguments are skipped, as in ODK
        ("max(${x})", NAN),
        ("min(-1, 'x', 4)", -1.0),
        ("min(-5, -7)", -7.0),
        # arithmetic at the edges
        ("1 div 0", INF),
        ("-1 div 0", -INF),
        ("1 div -0", -INF),
        ("0 div 0", NAN),
        ("5 mod 0", NAN),
        ("-7 mod 3", -1.0),  # the sign of the dividend, like Java's %
        ("7 mod -3", 1.0),
        ("5.5 mod 2", 1.5),
        ("(1 div 0) mod 2", NAN),
        ("5 mod (1 div 0)", 5.0),
        ("(1 div 0) - (1 div 0)", NAN),
        # strings
        ("string-length('h\u00e9llo')", 5.0),
        ("string-length(${x})", 0.0),
        ("string-length(12)", 2.0),
        ("normalize-space('  a \t  b  ')", "a b"),
        ("concat()", ""),
        ("concat('a', 1, true(), ${multi}, 2.50)", "a1truea b2.5"),
        ("contains('haystack', 'st')", True),
        ("contains('haystack', '')", True),
        ("contains(${x}, 'a')", False),
        ("starts-with('haystack', 'hay')", True),
        ("starts-with('haystack', 'st')", False),
        ("ends-with('haystack', 'stack')", True),
        ("substr('hello', 1, 3)", "el"),
        ("substr('hello', 2)", "llo"),
        ("substr('hello', -3)", "llo"),
        ("substr('hello', 3, 1)", ""),
        ("substr('hello', 10)", ""),
        ("substr('hello', 0, -1)", "hell"),
        ("substring-before('a-b-c', '-')", "a"),
        ("substring-after('a-b-c', '-')", "b-c"),
        ("substring-before('abc', 'x')", ""),
        ("substring-after('abc', 'x')", ""),
        # regex(): the whole string must match, as in ODK Collect
        ("regex('123', '[0-9]{3}')", True),
        ("regex('12345', '[0-9]{3}')", False),
        ("regex('abc', '^[a-z]+$')", True),
        ("regex('\u00e9', '.')", True),  # one character, not one byte
        ("regex(${x}, 'a*')", True),
        ("regex(12, '[0-9]+')", True),
        ("regex('line1\nline2', '.*')", False),  # '.' does not match a newline
    ],
)
def test_function(source: str, expected: object) -> None:
    answers = {"x": None, "y": 2, "zero": 0, "multi": ["a", "b"], "empty_multi": []}
    assert same(ev(source, answers), expected), ev(source, answers)


def test_functions_without_argument_read_the_current_value() -> None:
    assert ev("string-length()", current="abcd") == 4.0
    assert ev("normalize-space()", current=" a  b ") == "a b"
    assert ev("number()", current="7") == 7.0
    assert ev("string()", current=7) == "7"


def test_functions_table_lists_the_brief() -> None:
    required = {
        "selected",
        "count-selected",
        "not",
        "true",
        "false",
        "if",
        "string-length",
        "regex",
        "coalesce",
        "int",
        "number",
        "string",
        "concat",
        "contains",
        "starts-with",
    }
    assert required <= expressions.FUNCTIONS


# --- laziness ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("if(true(), 'a', regex('x', ${bad}))", "a"),
        ("if(false(), regex('x', ${bad}), 'b')", "b"),
        ("false() and regex('x', ${bad})", False),
        ("true() or regex('x', ${bad})", True),
        ("coalesce('here', regex('x', ${bad}))", "here"),
    ],
)
def test_branches_not_taken_are_not_evaluated(source: str, expected: object) -> None:
    answers = {"bad": "(a)\\1"}  # RE2 refuses back-references: evaluating it would raise
    assert ev(source, answers) == expected
    with pytest.raises(ExpressionError):
        ev("regex('x', ${bad})", answers)


# --- regex() safety ------------------------------------------------------------------------------


def test_catastrophic_backtracking_pattern_returns_promptly() -> None:
    # In a backtracking engine this pattern takes time exponential in the text (2**40 steps for
    # these 40 letters and far more for the long text); RE2 is linear. The thread makes a hang
    # fail the test instead of stalling the suite; the bound is two orders above what RE2 needs.
    expression = parse("regex(., '(a+)+$') or regex(., '(x+x+)+y')")
    texts = ["a" * 40 + "!", "a" * 200_000 + "!", "x" * 100_000]
    results: list[object] = []
    worker = threading.Thread(
        target=lambda: results.extend(expression.evaluate({}, text) for text in texts),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "regex() evaluation stalled"
    assert results == [False, False, False]


def test_computed_pattern_is_checked_when_evaluated() -> None:
    expression = parse("regex(., ${pattern})")
    assert expression.evaluate({"pattern": "[0-9]+"}, "12") is True
    assert expression.evaluate({"pattern": "[0-9]+"}, "12a") is False
    with pytest.raises(ExpressionError) as caught:
        expression.evaluate({"pattern": "(?=a)"}, "a")
    assert caught.value.position == len("regex(., ")
    with pytest.raises(ExpressionError, match="longer than"):
        expression.evaluate({"pattern": "a" * (MAX_LENGTH + 1)}, "a")


def test_lone_surrogates_in_answers_do_not_break_regex() -> None:
    assert ev("regex(., '.*abc')", current="\ud800abc") is True
    assert ev("string-length(.)", current="\ud800abc") == 4.0


# --- choice filters ------------------------------------------------------------------------------


def test_choice_filter_reads_bare_names_from_the_choice_row() -> None:
    expression = parse("state = ${region} and name != 'skip'", choice_filter=True)
    assert expression.columns() == {"state", "name"}
    assert expression.variables() == {"region"}
    row = {"name": "b", "state": "north"}
    assert expression.evaluate({"region": "north"}, row) is True
    assert expression.evaluate({"region": "south"}, row) is False
    assert expression.evaluate({"region": "north"}, {"name": "skip", "state": "north"}) is False
    assert (
        parse("selected(${prev}, name)", choice_filter=True).evaluate(
            {"prev": ["a", "b"]}, {"name": "b"}
        )
        is True
    )
    # a missing column, or no row at all, reads as empty
    assert parse("state = ''", choice_filter=True).evaluate({}, {"name": "b"}) is True
    assert parse("state = ''", choice_filter=True).evaluate({}, None) is True


def test_bare_names_are_errors_outside_choice_filters() -> None:
    with pytest.raises(ExpressionError, match=r"\$\{state\}"):
        parse("state = 'north'")
    assert parse("state = 'north'", choice_filter=True).columns() == {"state"}
    assert parse("${a} = 1").columns() == frozenset()


# --- truthy, to_number, to_string ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1.0, True),
        (0.0, False),
        (-0.0, False),
        (NAN, False),
        (INF, True),
        ("", False),
        ("0", True),
        ("false", True),
        (None, False),
        ([], False),
        (["a"], True),
        (("a",), True),
        (2, True),
        (0, False),
    ],
)
def test_truthy_follows_xpath_boolean(value: object, expected: bool) -> None:
    assert truthy(value) is expected


def test_public_conversions_accept_raw_answers() -> None:
    assert to_number("3") == 3.0
    assert math.isnan(to_number(None))
    assert to_number(4) == 4.0
    assert to_string(4) == "4"
    assert to_string(["a", "b"]) == "a b"
    assert to_string(None) == ""
    assert to_string(ev("${a} + ${b}", {"a": 1, "b": 2})) == "3"


# --- errors point at the column ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("${a} +", 6, "ends early"),
        ("(1 + 2", 6, "expected ')'"),
        ("1 + 2)", 5, "no matching '('"),
        ("1 2", 2, "operator is missing"),
        ("${a} ${b}", 5, "operator is missing"),
        ("${a} AND ${b}", 5, "lower-case"),
        ("()", 1, "expected a value after '('"),
        (",", 0, "expected a value"),
        ("1 +* 2", 3, "after '+', found '*'"),
        ("+1", 0, "unary plus"),
        ("foo(1)", 0, "unknown function"),
        ("selectd(${a}, 'b')", 0, "did you mean selected()"),
        ("today()", 0, "not supported"),
        ("count(${a})", 0, "not supported"),
        ("jr:choice-name(${a}, '${a}')", 0, "not supported"),
        ("1 + ns:thing(1)", 4, "unknown function"),
        ("count-selected()", 0, "takes 1 argument, but 0 were given"),
        ("if(1, 2)", 0, "takes 3 arguments, but 2 were given"),
        ("not(1, 2)", 0, "but 2 were given"),
        ("round(1, 2, 3)", 0, "1 to 2 arguments"),
        ("coalesce(1)", 0, "at least 2 arguments"),
        ("concat('a',)", 11, "expected a value"),
        ("concat('a' 'b')", 11, "expected ',' or ')'"),
        ("selected(${a}, 1)", 15, "quotes"),
        ("selected(${a}, -1)", 15, "quotes"),
        ("regex(., '(a)\\1')", 9, "RE2"),
        ("regex(., '(?=a)')", 9, "look-around"),
        ("regex(., 'a{1001}')", 9, "not valid"),
        ("${a} == 2", 5, "'='"),
        ("${a} <> 2", 5, "'!='"),
        ("${a} && ${b}", 5, "'and'"),
        ("${a} || ${b}", 5, "'or'"),
        ("!${a}", 0, "not("),
        ("${a} % 2", 5, "mod"),
        ("${a} / 2", 5, "div"),
        ("/data/a = 1", 0, "by path"),
        ("../a", 0, "'..'"),
        ("${a}[1]", 4, "predicates"),
        ("@id", 0, "attributes"),
        ("'abc", 0, "closing quote"),
        ('1 = "abc', 4, "closing quote"),
        ("${a", 0, "closing '}'"),
        ("$a", 0, "${name}"),
        ("${}", 2, "empty question reference"),
        ("${1a}", 2, "not a question name"),
        ("${a b}", 2, "not a question name"),
        ("age > 3", 0, "${age}"),
        ("true", 0, "true()"),
        ("${a} and", 8, "ends early"),
        ("and ${a}", 0, "expected a value before 'and'"),
        ("selected", 0, "is a function"),
        ("\u201cyes\u201d", 0, "typographic"),
        ("\u0661 = 1", 0, "0-9"),
        ("1 = \x1b[31m", 4, "U+001B"),
        ("{a}", 0, "${name}"),
        ("x" * (MAX_LENGTH + 1), MAX_LENGTH, "limit"),
    ],
)
def test_error_points_at_the_column(source: str, position: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    error = caught.value
    assert error.position == position, str(error)
    assert fragment in error.reason, error.reason
    assert error.source == source


def test_message_repeats_the_expression_with_a_caret() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("${a} +")
    lines = str(caught.value).splitlines()
    assert lines[0].endswith("(column 7 of the expression)")
    assert lines[1] == "    ${a} +"
    assert lines[2] == "    " + " " * 6 + "^"


def test_caret_is_on_the_right_line_of_a_multiline_cell() -> None:
    source = "${a} = 1 and\n\t${b} +"
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    lines = str(caught.value).splitlines()
    assert lines[1] == "     ${b} +"  # the tab shows as a space, so the caret lines up
    assert lines[2].index("^") == len("     ${b} +")


def test_caret_window_on_a_long_expression() -> None:
    source = " or ".join(["${a} = 1"] * 60) + " or ("
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    _, excerpt, caret = str(caught.value).splitlines()
    assert excerpt.startswith("    ...")
    assert len(excerpt) < 100
    assert excerpt[caret.index("^") - 1] == "("


def test_control_characters_do_not_reach_the_message() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("'\x1b[2J' +")
    assert "\x1b" not in str(caught.value)


def test_located_adds_the_place_in_the_form() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("${a} +")
    placed = caught.value.located(file="form.xlsx", line=12, column="relevant")
    assert str(placed).startswith("form.xlsx:12 (column relevant): the expression ends early")
    assert placed.position == 6
    assert (placed.file, placed.line, placed.column) == ("form.xlsx", 12, "relevant")


# --- limits --------------------------------------------------------------------------------------


def test_nesting_limit_is_exact() -> None:
    assert ev("-" * (MAX_DEPTH - 1) + "1") == -1.0
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("-" * MAX_DEPTH + "1")
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("(" * 500 + "1" + ")" * 500)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("not(" * 300 + "1" + ")" * 300)


def test_deepest_allowed_expression_evaluates_on_a_busy_stack() -> None:
    expression = parse("-" * (MAX_DEPTH - 1) + "1")

    def deep(frames: int) -> object:
        return deep(frames - 1) if frames else expression.evaluate({})

    # a web request arrives with a few hundred frames already on the stack
    assert deep(min(400, sys.getrecursionlimit() - 300)) == -1.0


def test_long_flat_chains_are_not_nesting() -> None:
    # real forms chain many alternatives and sum many items; chains cost one level
    choices = " or ".join(f"selected(${{m}}, 'c{i}')" for i in range(140))
    assert len(choices) <= MAX_LENGTH
    assert ev(choices, {"m": ["c139"]}) is True
    total = "+".join(["1"] * 1500)
    assert ev(total) == 1500.0
    items = " + ".join(f"${{q{i}}}" for i in range(400))
    assert ev(items, {f"q{i}": 1 for i in range(400)}) == 400.0


def test_source_at_the_length_limit_parses() -> None:
    source = "1" + " + 1" * ((MAX_LENGTH - 1) // 4)
    assert len(source) <= MAX_LENGTH
    assert ev(source) == float((MAX_LENGTH - 1) // 4 + 1)
