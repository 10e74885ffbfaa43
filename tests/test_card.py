"""The card's view-model: figures, dates, optional segments, and masking by role."""

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.card import age_on, build_card, candidate_list, items_summary, order_lines
from bot.domain.roles import Role

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 23)


def ts(y, m, d, hh=12):
    return int(datetime(y, m, d, hh, tzinfo=SH).astimezone(UTC).timestamp())


CUSTOMER = {
    "id": 7, "platform": "taobao", "buyer_id": "alice", "name": "王小明",
    "phone": "13812345678", "email": "xiaoming@example.com",
    "province": "浙江省", "city": "杭州市", "district": "西湖区",
    "address": "浙江省杭州市西湖区文三路90号3幢201", "birthday": "1990-12-01", "age": None,
    "order_count": 9, "paid_order_count": 7, "total_spent_fen": 123456,
    "avg_order_value_fen": 17637, "first_purchase_at": ts(2025, 11, 23),
    "last_purchase_at": ts(2026, 11, 11), "avg_interval_s": 60 * 86400 + 3000,
}  # fmt: skip

ORDER = {
    "order_id": "T1", "platform": "taobao", "created_at": ts(2026, 11, 11, 0),
    "items_json": json.dumps([{"title": "连衣裙", "qty": 2}, {"title": "T恤", "qty": 1}]),
    "amount_paid_fen": 19900, "refunded_fen": 0, "status": "completed",
    "receiver_phone": "13812345678",
}  # fmt: skip


def card(role, **kw):
    customer = {**CUSTOMER, **kw.pop("customer", {})}
    return build_card(customer, role=role, today=TODAY, tz=SH, **kw)


def test_agent_sees_phone_email_and_address_masked_admin_sees_them_whole():
    agent = card(Role.AGENT)
    assert agent["phone"] == "138****5678"
    assert agent["email"] == "x***@example.com"
    assert agent["address"] == "浙江省杭州市西湖区****"
    admin = card(Role.ADMIN)
    assert (admin["phone"], admin["email"]) == ("13812345678", "xiaoming@example.com")
    assert admin["address"] == CUSTOMER["address"]
    assert card(Role.NONE)["phone"] == "138****5678"  # anyone else: masked (fail closed)


def test_address_gets_the_region_in_front_when_the_export_split_them():
    split = {"province": "上海市", "city": "上海市", "district": "", "address": "中山路646号3室"}
    assert card(Role.ADMIN, customer=split)["address"] == "上海市中山路646号3室"
    assert card(Role.AGENT, customer=split)["address"] == "上海市****"
    assert card(Role.AGENT, customer={"address": ""})["address"] == ""


def test_figures_and_dates():
    c = card(Role.AGENT, locale="en")
    assert (c["orders_paid"], c["orders_all"], c["total_spent_fen"]) == (7, 9, 123456)
    assert c["avg_order_fen"] == 17637
    assert c["first_purchase"] == {"date": "2025-11-23", "ago": "1 year ago"}
    assert c["last_purchase"] == {"date": "2026-11-11", "ago": "12 days ago"}
    assert c["repurchase_days"] == 60
    assert c["region"] == "浙江省 杭州市 西湖区"
    assert (c["birthday"], c["age"]) == ("1990-12-01", 35)  # 36 only on 1 December


def test_one_purchase_has_no_repurchase_interval_and_no_purchase_shows_none():
    c = card(Role.AGENT, customer={"paid_order_count": 1, "avg_interval_s": None})
    assert c["repurchase_days"] is None
    c = card(Role.AGENT, customer={"first_purchase_at": None, "last_purchase_at": None})
    assert c["first_purchase"] is None and c["last_purchase"] is None


def test_zh_dates_read_as_people_say_them():
    assert card(Role.AGENT, locale="zh")["last_purchase"]["ago"] == "12天前"


def test_age():
    assert age_on("1990-11-23", TODAY) == 36
    assert age_on("1990-11-24", TODAY) == 35
    assert age_on("--05-20", TODAY) is None
    assert age_on("not a date", TODAY) is None
    c = card(Role.AGENT, customer={"birthday": "--05-20", "age": 41})
    assert (c["birthday"], c["age"]) == ("05-20", 41)


def test_segments_and_price_only_once_written():
    plain = card(Role.AGENT)
    assert plain["segment"] is None and plain["price"] is None
    seg = card(
        Role.AGENT,
        locale="zh",
        customer={
            "rfm_cell": "R3F2M3", "value_class": "important_value", "abc_class": "A",
            "price_level": "high", "price_orders": 9, "price_deal_orders": 7,
            "price_off_fen": 2300, "price_list_fen": 10000,
        },
    )  # fmt: skip
    assert seg["segment"] == {"rfm_cell": "R3F2M3", "value_class": "重要价值客户", "abc_class": "A"}
    assert seg["price"] == {"level": "high", "orders": 9, "deal_orders": 7, "discount_pct": 23}


def test_tags_note_and_last_orders():
    c = card(
        Role.AGENT,
        locale="zh",
        orders=[ORDER],
        tags=[{"label": "爱晒图", "added_by": 222, "added_at": 5}],
        note={"text": "call 13812345678 after 6pm", "author": 222, "created_at": 9},
    )
    assert c["tags"] == [{"label": "爱晒图", "added_by": 222, "added_at": 5}]
    # a note is what an agent wrote; it is shown as written
    assert c["note"] == {"text": "call 13812345678 after 6pm", "author": 222, "at": 9}
    [line] = c["last_orders"]
    assert line["items"] == "连衣裙×2、T恤"
    assert (line["date"], line["amount_fen"], line["status"]) == ("2026-11-11", 19900, "completed")


def test_items_summary_is_short_and_survives_bad_json():
    many = json.dumps([{"title": f"商品{i}", "qty": 1} for i in range(20)])
    assert len(items_summary(many, "zh")) == 24 and items_summary(many, "zh").endswith("…")
    assert items_summary("not json", "en") == ""
    assert items_summary(json.dumps([{"title": "Tee", "qty": 3}, "x"]), "en") == "Tee×3"


def test_candidates_and_order_lines_are_masked_too():
    rows = [{"id": 1, "platform": "jd", "buyer_id": "bob", "name": "张伟", "phone": "13900001111"}]
    [agent] = candidate_list(rows, role=Role.AGENT)
    assert (agent["phone"], agent["name"]) == ("139****1111", "张伟")
    assert candidate_list(rows, role=Role.ADMIN)[0]["phone"] == "13900001111"
    [line] = order_lines([ORDER], role=Role.AGENT, tz=SH)
    assert "13812345678" not in repr(line)


def test_input_rows_are_not_changed():
    customer = dict(CUSTOMER)
    card(Role.AGENT, customer=customer)
    assert customer == CUSTOMER
