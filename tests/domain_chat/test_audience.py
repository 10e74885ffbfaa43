"""The audience expression language as an agent meets it."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.audience import (
    DEFAULT_FIELDS,
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    AudienceSyntaxError,
    Compare,
    CustomerFacts,
    FieldSpec,
    Not,
    Or,
    Tag,
    default_fields,
    describe,
    evaluate,
    parse,
    parse_tag_where,
    tags_in,
)

from ._strategies import any_tag_name, expressions, flatten

lace, vneck, slit, risk = Tag("lace"), Tag("vneck"), Tag("slit"), Tag("refund_risk")


def error(text: str, **kw) -> AudienceSyntaxError:
    with pytest.raises(AudienceSyntaxError) as info:
        parse(text, **kw)
    return info.value


# --- precedence and grouping -------------------------------------------------------


def test_the_issue_example() -> None:
    assert parse("lace and (vneck or slit) and not refund_risk") == And(
        (lace, Or((vneck, slit)), Not(risk))
    )


def test_and_binds_tighter_than_or() -> None:
    assert parse("lace or vneck and slit") == Or((lace, And((vneck, slit))))
    assert parse("lace and vneck or slit") == Or((And((lace, vneck)), slit))


def test_not_binds_tighter_than_and() -> None:
    assert parse("not lace and vneck") == And((Not(lace), vneck))
    assert parse("not (lace and vneck)") == Not(And((lace, vneck)))


def test_chains_are_flat_and_redundant_parentheses_vanish() -> None:
    assert parse("lace and vneck and slit") == And((lace, vneck, slit))
    assert parse("((lace)) and (vneck and slit)") == And((lace, vneck, slit))


def test_double_negation_is_kept() -> None:
    assert parse("not not lace") == Not(Not(lace))


@pytest.mark.parametrize(
    "text",
    [
        "lace AND (vneck Or slit) and NOT refund_risk",
        "lace && (vneck || slit) && !refund_risk",
        "lace & (vneck | slit) & ! refund_risk",
        "lace 且 (vneck 或 slit) 且 非 refund_risk",
        "lace 并且 （vneck 或者 slit） 并且 ！refund_risk",  # full-width IME punctuation
    ],
)
def test_keyword_spellings(text: str) -> None:
    assert parse(text) == parse("lace and (vneck or slit) and not refund_risk")


def test_chinese_keywords_must_stand_apart_so_tags_may_contain_them() -> None:
    assert parse("而且") == Tag("而且")
    assert parse("蕾丝 且 V领") == And((Tag("蕾丝"), Tag("v领")))


# --- tags ---------------------------------------------------------------------------


def test_tags_are_normalised() -> None:
    assert parse("ＶＩＰ") == Tag("vip")
    assert parse("#VIP or Lace") == Or((Tag("vip"), lace))


@pytest.mark.parametrize(
    "quoted", ['"two words"', "“two words”", "「two words」", "『two  Words』"]
)
def test_quoted_strings_are_tags(quoted: str) -> None:
    assert parse(quoted) == Tag("two words")


def test_tag_field_is_a_spelled_out_tag_test() -> None:
    assert parse('tag = lace and tag != "two words"') == And((lace, Not(Tag("two words"))))
    assert parse("标签 = 老客户") == Tag("老客户")


def test_keywords_and_field_names_can_be_tags() -> None:
    assert parse('"and" or "NOT"') == Or((Tag("and"), Tag("not")))
    assert parse("tier") == Tag("tier")  # a field name alone is a tag test


@pytest.mark.parametrize("hostile", ["'; DROP TABLE customers; --", "<b>", "<script>"])
def test_hostile_text_in_quotes_is_just_a_tag_name(hostile: str) -> None:
    assert parse(f'"{hostile}"') == Tag(hostile.casefold())


def test_unquoted_hostile_text_is_a_syntax_error_not_sql() -> None:
    err = error("'; DROP TABLE customers; --")
    assert "expected 'and' or 'or' before 'DROP'" in str(err)


def test_angle_brackets_are_operators_so_html_needs_quotes() -> None:
    assert "needs a field name on its left" in str(error("<b>"))


# --- comparisons ----------------------------------------------------------------------


def test_issue_predicates() -> None:
    assert parse("class = 重要挽留 and tag = lace") == And(
        (Compare("class", "=", "important_retain"), lace)
    )
    assert parse("rfm = R3F2M3") == Compare("rfm", "=", "R3F2M3")
    assert parse("abc = A") == Compare("abc", "=", "A")
    assert parse("price = high") == Compare("price", "=", "high")
    assert parse("tier = gold") == Compare("tier", "=", "gold")
    assert parse("segment = 高价值") == Compare("segment", "=", "高价值")
    assert parse("orders >= 3") == Compare("orders", ">=", 3)
    assert parse("days_since_last <= 30") == Compare("days_since_last", "<=", 30)


@pytest.mark.parametrize(
    ("typed", "fen"),
    [("1000", 100000), ("99.5", 9950), ("99.05", 9905), ("¥1,000", 100000), ("1000元", 100000)],
)
def test_money_is_typed_in_yuan_and_held_in_fen(typed: str, fen: int) -> None:
    assert parse(f"spent > {typed}") == Compare("spent", ">", fen)


def test_operators_without_spaces_and_alternative_spellings() -> None:
    assert parse("orders>=3") == Compare("orders", ">=", 3)
    assert parse("orders ≥ 3") == Compare("orders", ">=", 3)
    assert parse("orders＞3") == Compare("orders", ">", 3)
    assert parse("tier <> gold") == Compare("tier", "!=", "gold")
    assert parse("tier == gold") == Compare("tier", "=", "gold")
    assert parse("tier≠gold") == Compare("tier", "!=", "gold")


def test_field_names_and_enum_values_are_case_insensitive() -> None:
    assert parse("TIER = Gold") == Compare("tier", "=", "gold")
    assert parse("rfm = r3f2m3") == Compare("rfm", "=", "R3F2M3")
    assert parse("class = 重要挽留客户") == parse("class = IMPORTANT_RETAIN")


def test_registry_is_configurable() -> None:
    fields = default_fields(tiers=("普通", "金卡"))
    assert parse("tier = 金卡", fields=fields) == Compare("tier", "=", "金卡")
    assert "unknown value 'gold'" in str(error("tier = gold", fields=fields))
    custom = {"complaints": FieldSpec("int")}
    assert parse("complaints = 0", fields=custom) == Compare("complaints", "=", 0)


# --- errors say what to do ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("lace and (vneck or slit))", "unexpected ')' at position 25 — check the parentheses", 24),
        ("(lace or vneck", "missing ')' for the '(' at position 1 — close the parentheses", 0),
        ("clas = 重要挽留", "unknown field 'clas' at position 1 — did you mean 'class'?", 0),
        ("lace vneck", "expected 'and' or 'or' before 'vneck' at position 6", 5),
        ("lace and", "the expression ends after 'and' at position 6 — add a tag", 5),
        ("", "the expression is empty — type a tag or a condition", 0),
        ("and lace", "unexpected 'and' at position 1 — put a tag or a condition before it", 0),
        ("()", "unexpected ')' at position 2", 1),
        ('"two words', 'missing closing " for the " at position 1 — close the quote', 0),
        ("= 3", "a comparison needs a field name on its left, e.g. orders >= 3", 0),
        ("orders >=", "expected a value after '>=' at position 8 — e.g. orders >= 3", 7),
        ("orders >= three", "'three' at position 11 is not a whole number", 10),
        ("spent > 10.555", "is not an amount — 'spent' needs yuan like 1000 or 99.50", 8),
        ("tier = platnum", "unknown value 'platnum' for 'tier' at position 8 — did you mean", 7),
        ("abc = D", "choose one of: A, B, C", 6),
        ("rfm = R9", "use a value like R3F2M3", 6),
        ("class > 重要挽留", "'class' can only be compared with = or !=", 6),
        ("tag > lace", "a tag can only be tested with = or !=", 4),
        ("orders >= 10000000000000000", "is not a whole number", 10),
    ],
)
def test_error_messages(text: str, message: str, position: int) -> None:
    err = error(text)
    assert message in err.message
    assert err.position == position


def test_unknown_field_without_a_close_guess_lists_the_fields() -> None:
    msg = str(error("colour = red"))
    assert "fields are: abc, class, days_since_last" in msg
    assert "to test a tag, write it alone" in msg


def test_too_long_tag_in_expression_names_its_position() -> None:
    msg = str(error("lace and " + "x" * 40))
    assert "too long" in msg and "position 10" in msg


def test_deep_nesting_and_long_input_are_refused_politely() -> None:
    assert "nested too deeply" in str(error("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)))
    assert "nested too deeply" in str(error("not " * 100 + "a"))
    assert "too long" in str(error("a or " * MAX_LENGTH + "a"))
    # right at the limit is fine
    text = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse(text) == Tag("a")


def test_pointer_puts_a_caret_under_the_mistake_counting_wide_characters() -> None:
    text = "蕾丝 且 (vneck"
    err = error(text)
    assert err.pointer(text) == f"{text}\n{' ' * 8}^"


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_any_text_parses_or_raises_a_syntax_error(text: str) -> None:
    try:
        parse(text)
    except AudienceSyntaxError as err:
        assert 0 <= err.position <= len(text)
        assert " — " in err.message


# --- /tag where <expression> <tag> -------------------------------------------------


def test_tag_where_splits_after_the_longest_expression() -> None:
    expr, tags = parse_tag_where('lace and (vneck or slit) summer "Big  Spender" summer')
    assert expr == And((lace, Or((vneck, slit))))
    assert tags == ["summer", "big spender"]
    assert parse_tag_where("orders >= 3 and tier = gold loyal") == (
        And((Compare("orders", ">=", 3), Compare("tier", "=", "gold"))),
        ["loyal"],
    )
    assert parse_tag_where("not lace 「无蕾丝」") == (Not(lace), ["无蕾丝"])


def test_tag_where_without_a_tag_says_to_add_one() -> None:
    with pytest.raises(AudienceSyntaxError, match="add the tag to set after the expression"):
        parse_tag_where("lace and vneck")


def test_tag_where_reports_bad_input_after_the_expression() -> None:
    with pytest.raises(AudienceSyntaxError, match="check the parentheses"):
        parse_tag_where("lace ) summer")
    with pytest.raises(AudienceSyntaxError, match="too long"):
        parse_tag_where("lace " + "y" * 40)


# --- evaluate -----------------------------------------------------------------------


def facts(*tags: str, **values) -> CustomerFacts:
    return CustomerFacts(frozenset(tags), values)


def test_evaluate_the_issue_example() -> None:
    expr = parse("lace and (vneck or slit) and not refund_risk")
    assert evaluate(expr, facts("lace", "slit"))
    assert not evaluate(expr, facts("lace", "slit", "refund_risk"))
    assert not evaluate(expr, facts("lace"))
    assert not evaluate(expr, facts("vneck", "slit"))


def test_evaluate_comparisons() -> None:
    c = facts(orders=3, spent=100050, tier="gold", days_since_last=12)
    assert evaluate(parse("orders >= 3 and spent > 1000 and tier = gold"), c)
    assert not evaluate(parse("spent > 1000.50"), c)
    assert evaluate(parse("days_since_last <= 30"), c)


def test_missing_values_make_comparisons_false_except_not_equal() -> None:
    nobody = facts()
    assert not evaluate(parse("tier = gold"), nobody)
    assert evaluate(parse("tier != gold"), nobody)
    assert not evaluate(parse("days_since_last <= 30"), nobody)
    assert not evaluate(parse("days_since_last > 30"), nobody)
    assert evaluate(parse("not days_since_last <= 30"), nobody)


# --- describe -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        (
            "lace AND (vneck || slit) && !refund_risk",
            "lace and (vneck or slit) and not refund_risk",
        ),
        ("((lace or vneck)) or slit", "lace or vneck or slit"),
        ("not (lace or vneck) or (slit and lace)", "not (lace or vneck) or slit and lace"),
        ("tag = 「two words」 and tag != 'x'", "\"two words\" and not 'x'"),
        ("spent>¥1,000.5", "spent > 1000.50"),
        ("spent >= 1000元", "spent >= 1000"),
        ('"and" or "a(b"', '"and" or "a(b"'),
        ("class = 重要挽留", "class = important_retain"),
    ],
)
def test_describe_prints_canonically(typed: str, canonical: str) -> None:
    assert describe(parse(typed)) == canonical


@settings(max_examples=300)
@given(expressions(any_tag_name))
def test_describe_round_trips(expr) -> None:
    text = describe(expr)
    assert parse(text) == flatten(expr)
    assert describe(parse(text)) == text


def test_tags_in_lists_mentioned_tags() -> None:
    assert tags_in(parse("lace and not (vneck or orders > 1)")) == {"lace", "vneck"}


def test_default_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        DEFAULT_FIELDS["x"] = FieldSpec("int")  # type: ignore[index]
