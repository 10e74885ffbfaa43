"""Hypothesis strategies shared by the audience tests."""

from __future__ import annotations

from hypothesis import strategies as st

from bot.domain.audience import DEFAULT_FIELDS, And, Compare, CustomerFacts, Expr, Not, Or, Tag
from bot.domain.tags import TagError, validate_tag

TAG_POOL = [
    "lace",
    "vneck",
    "slit",
    "refund_risk",
    "two words",
    "老客户",
    "'; drop table customers; --",
    "<b>",
    "and",
    "x)y",
]
SEGMENTS = ["new", "高价值", "o'brien", "two words", "or"]
TIERS = list(DEFAULT_FIELDS["tier"].values)
CLASSES = list(DEFAULT_FIELDS["class"].values)
ORDERING = ["=", "!=", "<", "<=", ">", ">="]
EQUALITY = ["=", "!="]


def _valid(s: str) -> bool:
    try:
        validate_tag(s)
    except TagError:
        return False
    return True


any_tag_name = st.text(min_size=1, max_size=12).filter(_valid).map(validate_tag)
pool_tag = st.sampled_from(TAG_POOL)


def compares() -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Compare, st.just("orders"), st.sampled_from(ORDERING), st.integers(0, 6)),
        st.builds(
            Compare,
            st.just("spent"),
            st.sampled_from(ORDERING),
            st.sampled_from([0, 1, 99, 100, 100050, 500000]),
        ),
        st.builds(
            Compare, st.just("days_since_last"), st.sampled_from(ORDERING), st.integers(0, 60)
        ),
        st.builds(Compare, st.just("tier"), st.sampled_from(EQUALITY), st.sampled_from(TIERS)),
        st.builds(Compare, st.just("class"), st.sampled_from(EQUALITY), st.sampled_from(CLASSES)),
        st.builds(
            Compare, st.just("segment"), st.sampled_from(EQUALITY), st.sampled_from(SEGMENTS)
        ),
    )


def depth(e: Expr) -> int:
    if isinstance(e, Not):
        return 1 + depth(e.operand)
    if isinstance(e, And | Or):
        return 1 + max(depth(p) for p in e.parts)
    return 0


def expressions(tag_names: st.SearchStrategy[str] = pool_tag) -> st.SearchStrategy[Expr]:
    leaves = st.one_of(tag_names.map(Tag), compares())

    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        parts = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(children.map(Not), parts.map(And), parts.map(Or))

    return st.recursive(leaves, extend, max_leaves=10).filter(lambda e: depth(e) <= 12)


def flatten(e: Expr) -> Expr:
    """What the parser produces for ``e``: nested and-in-and / or-in-or flattened."""
    if isinstance(e, Not):
        return Not(flatten(e.operand))
    if isinstance(e, And | Or):
        cls = type(e)
        flat: list[Expr] = []
        for p in (flatten(p) for p in e.parts):
            flat.extend(p.parts if isinstance(p, cls) else (p,))
        return cls(tuple(flat))
    return e


def customers() -> st.SearchStrategy[tuple[CustomerFacts, frozenset[str]]]:
    """(facts, removed tags): removed tags are in the table but must not count."""
    values = st.fixed_dictionaries(
        {
            "orders": st.one_of(st.none(), st.integers(0, 6)),
            "spent": st.one_of(st.none(), st.sampled_from([0, 1, 99, 100, 100050, 500000])),
            "days_since_last": st.one_of(st.none(), st.integers(0, 60)),
            "tier": st.one_of(st.none(), st.sampled_from(TIERS)),
            "class": st.one_of(st.none(), st.sampled_from(CLASSES)),
            "segment": st.one_of(st.none(), st.sampled_from(SEGMENTS)),
        }
    )
    tags = st.frozensets(pool_tag, max_size=4)
    return st.tuples(st.builds(CustomerFacts, tags, values), st.frozensets(pool_tag, max_size=3))
