"""'No buyer matches … did you mean': the best near matches first."""

from bot.domain.matching import near_matches

ROWS = [
    ("buyer123", "张伟", "13812345678"),
    ("buyer124", "张玮", "13900005678"),
    ("Buyer999", "李娜", "+86 137 0000 1111"),
    ("tom_lee", "Tom Lee", None),
    ("zz", "王五", ""),
    ("alice", "Alice Wang", "0571-88881234"),
]


def ids(query: str, rows=ROWS) -> list[str]:
    return [m.buyer_id for m in near_matches(query, rows)]


def test_same_prefix() -> None:
    assert ids("buyer12")[:2] == ["buyer123", "buyer124"]
    assert ids("buyer1234")[0] == "buyer123"  # one character too many


def test_case_and_width_differences_are_an_exact_id_match() -> None:
    best = near_matches("BUYER123", ROWS)[0]
    assert (best.buyer_id, best.reason, best.score) == ("buyer123", "id", 1.0)
    assert ids("ｂｕｙｅｒ９９９")[0] == "Buyer999"


def test_chinese_names() -> None:
    assert ids("张伟") == ["buyer123", "buyer124"]  # exact first, 张玮 as a near miss
    assert ids("娜")[:1] == []  # one character is too little to go on
    assert ids("李娜")[0] == "Buyer999"


def test_similar_typo() -> None:
    assert ids("buyre123")[0] == "buyer123"
    assert ids("tom lee")[0] == "tom_lee"


def test_phone_suffix_needs_four_digits() -> None:
    assert ids("5678")[:2] == ["buyer123", "buyer124"]
    assert ids("1111") == ["Buyer999"]
    assert "Buyer999" not in ids("111")
    assert ids("1234")[0] == "alice"  # landline ending


def test_full_phone_in_any_format() -> None:
    for q in ("13700001111", "+86 137-0000-1111", "137 0000 1111"):
        best = near_matches(q, ROWS)[0]
        assert (best.buyer_id, best.reason, best.score) == ("Buyer999", "phone", 1.0)


def test_at_most_five_best_first_and_stable() -> None:
    rows = [(f"buyer{i:03d}", "", "") for i in range(20)]
    found = near_matches("buyer0", rows)
    assert len(found) == 5
    assert [m.buyer_id for m in found] == sorted(m.buyer_id for m in found)
    scores = [m.score for m in near_matches("buyer12", ROWS)]
    assert scores == sorted(scores, reverse=True)
    assert len(near_matches("buyer0", rows, limit=2)) == 2


def test_nothing_for_empty_or_unrelated_queries() -> None:
    assert ids("") == []
    assert ids("   ") == []
    assert ids("qqqqqqqq") == []
    assert ids("x", []) == []


def test_duplicates_appear_once_and_hostile_queries_are_harmless() -> None:
    rows = [("buyer123", "张伟", ""), ("buyer123", "张伟", "13812345678")]
    assert ids("buyer123", rows) == ["buyer123"]
    assert ids("'; DROP TABLE customers; --") == []
    assert ids("<b>") == []
