"""Importing order exports: presets, encodings, atomicity, idempotency, updates, mappings."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.domain.order import Buyer, Item, Order
from bot.importers.convert import converter
from bot.importers.normalize import (
    BadValue,
    money_fen,
    order_id,
    phone,
    split_address,
    time_parser,
)
from bot.importers.pipeline import PRESETS, ImportFailed, import_file, progress_bar
from bot.importers.presets import TAOBAO, detect
from bot.storage.db import open_db
from bot.storage.order_import import order_row

TZ = ZoneInfo("Asia/Shanghai")

TAOBAO_HEAD = (
    "订单编号,买家会员名,买家应付货款,买家实际支付金额,订单状态,收货人姓名,收货地址 , 联系手机,"
    "订单创建时间,订单付款时间 ,宝贝标题 ,宝贝总数量,订单关闭原因,天猫卡券抵扣,退款金额,店铺优惠"
)


def tb_row(
    oid: str = "3500000000000000001",
    buyer: str = "tb小王",
    status: str = "交易成功",
    paid: str = "2024-06-18 10:23:00",
    amount: str = "1,234.50",
    refund: str = "0.00",
    reason: str = "",
) -> str:
    return (
        f'"=""{oid}""",{buyer},1299.00,"{amount}",{status}, 王小明 ,'
        f"浙江省 杭州市 西湖区 文三路 123号,'13812345678,2024-06-18 10:22:33,{paid},"
        f"碎花连衣裙 女,2,{reason},10.00,{refund},54.50"
    )


def write(path: Path, lines: list[str], encoding: str = "gbk") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
async def db(tmp_path):
    conn = await open_db(tmp_path / "k.db")
    yield conn
    await conn.close()


async def rows(db, sql: str, *args) -> list[tuple]:
    async with db.execute(sql, args) as cur:
        return [tuple(r) for r in await cur.fetchall()]


# --- values ----------------------------------------------------------------------------


def test_money_is_exact_fen():
    assert money_fen("1,234.50") == 123450
    assert money_fen("¥12.5") == 1250
    assert money_fen("￥ 12") == 1200
    assert money_fen("12") == 1200
    assert money_fen("") == 0
    assert money_fen("-3.2") == -320
    assert money_fen("0.125") == 13  # half up, no float
    assert money_fen("12.300000000000001") == 1230  # an XLSX float
    with pytest.raises(BadValue):
        money_fen("12元5角")


def test_phone_order_id_and_address():
    assert phone("'13812345678") == "13812345678"
    assert phone("+86 138 1234 5678") == "13812345678"
    assert order_id('="3500000000000000001"') == "3500000000000000001"
    assert order_id("#1001") == "#1001"
    with pytest.raises(BadValue, match="Excel"):
        order_id("3.5E+18")
    assert split_address("浙江省 杭州市 西湖区 文三路 123号") == (
        "浙江省", "杭州市", "西湖区", "文三路 123号",
    )  # fmt: skip
    assert split_address("北京市朝阳区三里屯路1号")[:3] == ("北京市", "北京市", "朝阳区")
    assert split_address("广东省深圳市南山区科技园路1号")[:3] == ("广东省", "深圳市", "南山区")


def test_times_are_shop_local_converted_to_utc():
    parse = time_parser(TZ)
    want = int(datetime(2024, 6, 18, 2, 22, 33, tzinfo=UTC).timestamp())
    assert parse("2024-06-18 10:22:33") == want
    assert parse("2024/6/18 10:22:33") == want
    assert parse("2024-06-18T10:22:33") == want
    assert parse("2024-06-18 10:22:33 +0800") == want
    assert parse("2024-06-18 11:22:33 +0900") == want
    ny = time_parser(ZoneInfo("America/New_York"))  # a DST day takes the careful path
    assert ny("2024-03-10 12:00:00") == int(datetime(2024, 3, 10, 16, tzinfo=UTC).timestamp())
    for bad in ("2024-13-45 10:00:00", "2024-06-18 25:00:00", "yesterday"):
        with pytest.raises(BadValue):
            parse(bad)
    # a minute already seen is remembered; its seconds are still checked
    assert parse("2024-06-18 10:22:59") == want + 26
    for bad in ("2024-06-18 10:22:60", "2024-06-18 10:22:x1", "2024-06-18 10:22:-1"):
        with pytest.raises(BadValue):
            parse(bad)


def test_staged_row_is_what_order_row_makes():
    convert, _ = converter(TAOBAO, TAOBAO_HEAD.split(","), TZ)
    import csv

    staged = convert(next(csv.reader(io.StringIO(tb_row()))))
    order = Order(
        platform="taobao", order_id="3500000000000000001", buyer_id="tb小王",
        created_at=int(datetime(2024, 6, 18, 2, 22, 33, tzinfo=UTC).timestamp()),
        paid_at=int(datetime(2024, 6, 18, 2, 23, tzinfo=UTC).timestamp()),
        status="completed", amount_paid_fen=123450, discount_fen=5450, coupon_fen=1000,
        items=(Item("碎花连衣裙 女", 2, 64950),),
        buyer=Buyer(name="王小明", phone="13812345678", province="浙江省", city="杭州市",
                    district="西湖区", address="文三路 123号"),
    )  # fmt: skip
    assert staged == order_row(order)


# --- formats and encodings ---------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
async def test_csv_encodings_are_detected(db, tmp_path, encoding):
    buyer = "𠮷野家" if encoding == "gb18030" else "tb小王"  # 𠮷 exists only in GB18030
    f = write(tmp_path / "orders.csv", [TAOBAO_HEAD, tb_row(buyer=buyer)], encoding)
    s = await import_file(db, f, tz=TZ)
    assert (s.preset, s.orders_new, s.customers_new) == ("taobao", 1, 1)
    assert s.encoding == ("gb18030" if encoding == "gb18030" else encoding)
    (got,) = await rows(db, "SELECT buyer_id, receiver_name, o.city, amount_paid_fen FROM orders o "
                        "JOIN customers c ON c.id = customer_id")  # fmt: skip
    assert got == (buyer, "王小明", "杭州市", 123450)


async def test_xlsx(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["order_id", "buyer_id", "created_at", "status", "amount_paid", "item_title",
               "quantity", "unit_price", "phone"])  # fmt: skip
    ws.append([1001, "amy", datetime(2024, 6, 18, 10, 22, 33), "completed", 12.5, "Socks", 2,
               6.25, 13812345678])  # fmt: skip
    ws.append([None] * 9)
    ws.append(["1002", "bob", "2024-06-19 08:00:00", "unpaid", "0", "Cup", 1, 9, "'139"])
    wb.save(tmp_path / "orders.xlsx")
    s = await import_file(db, tmp_path / "orders.xlsx", tz=TZ)
    assert (s.preset, s.encoding, s.orders_new, s.rows_read) == ("generic", "xlsx", 2, 2)
    got = await rows(db, "SELECT order_id, amount_paid_fen, item_count, receiver_phone, "
                     "created_at FROM orders ORDER BY order_id")  # fmt: skip
    assert got[0] == ("1001", 1250, 2, "13812345678", 1718677353)


async def test_unknown_format_says_what_to_pass(db, tmp_path):
    f = write(tmp_path / "x.csv", ["单号,金额", "1,2"], "utf-8")
    with pytest.raises(ImportFailed) as e:
        await import_file(db, f, tz=TZ)
    msg = str(e.value)
    assert msg.startswith("x.csv: cannot tell which shop exported this file (header: 单号, 金额)")
    assert "--preset taobao|jd|shopify|generic or --mapping FILE" in msg
    assert PRESETS == ("taobao", "jd", "shopify", "generic")


def test_detection_from_header():
    assert detect([" 订单编号 ", "买家会员名", "订单状态"]).name == "taobao"
    assert detect(["订单号", "订单状态", "下单时间"]).name == "jd"
    assert detect(["Name", "Financial Status", "Lineitem name"]).name == "shopify"
    assert detect(["order_id", "buyer_id", "created_at"]).name == "generic"
    assert detect(["a", "b"]) is None


# --- atomicity, errors, skip ---------------------------------------------------------------


async def test_a_bad_row_imports_nothing_and_names_file_row_column_value(db, tmp_path):
    lines = [TAOBAO_HEAD] + [tb_row(oid=str(10**18 + i)) for i in range(20)]
    lines[16] = tb_row(oid="1", paid="2024-13-45")  # Excel row 17
    f = write(tmp_path / "orders.csv", lines)
    with pytest.raises(ImportFailed) as e:
        await import_file(db, f, tz=TZ)
    assert str(e.value) == (
        "orders.csv row 17, column 订单付款时间: '2024-13-45' is not a date such as "
        "2024-06-18 10:22:33; fix the row or use --skip-bad"
    )
    assert await rows(db, "SELECT count(*) FROM orders") == [(0,)]
    assert await rows(db, "SELECT count(*) FROM customers") == [(0,)]
    assert await rows(db, "SELECT count(*) FROM imports") == [(0,)]


async def test_unknown_status_word_is_a_bad_row(db, tmp_path):
    f = write(tmp_path / "o.csv", [TAOBAO_HEAD, tb_row(status="外星人订单")])
    with pytest.raises(ImportFailed, match="row 2, column 订单状态: '外星人订单' is not a known"):
        await import_file(db, f, tz=TZ)


async def test_skip_bad_imports_the_rest_and_reports(db, tmp_path):
    lines = [TAOBAO_HEAD, tb_row(oid="1"), tb_row(oid="2", amount="abc"), tb_row(oid="3"), ""]
    f = write(tmp_path / "orders.csv", lines)
    s = await import_file(db, f, tz=TZ, skip_bad=True, by_user=7)
    assert (s.rows_read, s.orders_new, s.rows_skipped) == (3, 2, 1)
    assert s.skipped_examples == [
        "row 3, column 买家实际支付金额: 'abc' is not an amount such as 1,234.50"
    ]
    assert await rows(db, "SELECT rows_read, rows_skipped, by_user FROM imports") == [(3, 1, 7)]


# --- idempotency and updates ------------------------------------------------------------------


async def test_reimport_changes_nothing_and_newer_export_updates(db, tmp_path):
    first = [TAOBAO_HEAD, tb_row(oid="1", buyer="amy"), tb_row(oid="2", buyer="amy", amount="100")]
    f = write(tmp_path / "a.csv", first)
    s1 = await import_file(db, f, tz=TZ)
    assert (s1.orders_new, s1.customers_new) == (2, 1)
    (before,) = await rows(db, "SELECT total_spent_fen, paid_order_count FROM customers")
    assert before == (123450 + 10000, 2)

    s2 = await import_file(db, f, tz=TZ)
    assert (s2.orders_new, s2.orders_updated, s2.orders_unchanged) == (0, 0, 2)
    assert (s2.customers_new, s2.customers_updated) == (0, 0)

    # a newer export: order 2 was refunded after the buyer refused it
    newer = [
        TAOBAO_HEAD,
        tb_row(oid="1", buyer="amy"),
        tb_row(
            oid="2", buyer="amy", amount="100", status="交易关闭", refund="100", reason="买家拒收"
        ),
    ]
    s3 = await import_file(db, write(tmp_path / "b.csv", newer), tz=TZ)
    assert (s3.orders_new, s3.orders_updated, s3.orders_unchanged) == (0, 1, 1)
    assert (s3.customers_new, s3.customers_updated) == (0, 1)
    assert await rows(db, "SELECT status, refunded_fen FROM orders WHERE order_id = '2'") == [
        ("refused", 10000)
    ]
    assert await rows(db, "SELECT total_spent_fen, paid_order_count FROM customers") == [
        (123450, 1)
    ]


async def test_closed_with_refund_is_refunded_and_closed_before_payment_cancelled(db, tmp_path):
    lines = [
        TAOBAO_HEAD,
        tb_row(oid="1", status="交易关闭", refund="1234.50"),
        tb_row(oid="2", status="交易关闭", paid="", amount="0"),
        tb_row(oid="3", status="等待买家付款", paid="", amount="0"),
        tb_row(oid="4", status="卖家已发货，等待买家确认"),
    ]
    await import_file(db, write(tmp_path / "o.csv", lines), tz=TZ)
    got = await rows(db, "SELECT order_id, status, paid_at IS NULL FROM orders ORDER BY order_id")
    assert got == [("1", "refunded", 0), ("2", "cancelled", 1), ("3", "unpaid", 1),
                   ("4", "shipped", 0)]  # fmt: skip


# --- Shopify, JD, mappings ------------------------------------------------------------------

SHOPIFY = """Name,Email,Financial Status,Paid at,Fulfillment Status,Subtotal,Shipping,Total,\
Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,\
Lineitem sku,Billing Name,Billing Phone,Shipping Address1,Shipping City,Shipping Province,\
Refunded Amount,Cancelled at,Tags,Id
#1001,amy@example.com,paid,2024-06-18 10:22:33 +0800,fulfilled,30.00,0.00,25.00,VIP5,5.00,\
2024-06-18 10:20:00 +0800,1,Socks,10.00,SOCK,Amy Li,+86 138 1234 5678,1 Main St,Hangzhou,\
Zhejiang,0.00,,,1
#1001,,,,,,,,,,,2,Cup,10.00,CUP,,,,,,,,,
#1002,bob@example.com,refunded,2024-06-19 09:00:00 +0800,fulfilled,8.00,0.00,8.00,,0.00,\
2024-06-19 08:59:00 +0800,1,Tea,8.00,TEA,Bob,,,,,8.00,2024-06-25 09:00:00 +0800,\
refused-delivery,2
#1003,amy@example.com,pending,,unfulfilled,9.00,0.00,9.00,,0.00,\
2024-06-20 08:00:00 +0800,1,Pen,9.00,PEN,Amy Li,,,,,0.00,,,3
"""


async def test_shopify_line_items_make_one_order(db, tmp_path):
    f = tmp_path / "orders_export.csv"
    f.write_text(SHOPIFY, encoding="utf-8")
    s = await import_file(db, f, tz=TZ)
    assert (s.preset, s.rows_read, s.orders_new, s.customers_new) == ("shopify", 4, 3, 2)
    got = await rows(db, "SELECT order_id, status, amount_paid_fen, discount_fen, item_count, "
                     "items_json, receiver_phone, city FROM orders ORDER BY order_id")  # fmt: skip
    assert got[0] == (
        "#1001", "completed", 2500, 500, 3,
        '[{"title":"Socks","sku":"SOCK","qty":1,"price_fen":1000},'
        '{"title":"Cup","sku":"CUP","qty":2,"price_fen":1000}]',
        "13812345678", "Hangzhou",
    )  # fmt: skip
    assert [g[1] for g in got[1:]] == ["refused", "unpaid"]


async def test_jd_rows_of_one_order_are_merged(db, tmp_path):
    head = (
        "订单号,商品ID,商品名称,订购数量,下单时间,京东价,订单金额,应付金额,订单状态,下单帐号,"
        "客户姓名,客户地址,联系电话,付款确认时间"
    )
    rest = ",2024-11-11 00:01:02,99.00,297.00,297.00,完成,jd_amy,李四,上海市浦东新区世纪大道1号,13900001111,2024-11-11 00:02:00"  # noqa: E501
    lines = [head, f"900001,11,毛巾,1{rest}", f"900001,12,牙刷,2{rest}"]
    s = await import_file(db, write(tmp_path / "jd.csv", lines), tz=TZ)
    assert (s.preset, s.orders_new, s.rows_read) == ("jd", 1, 2)
    got = await rows(db, "SELECT item_count, amount_paid_fen, province, city, district FROM orders")
    assert got == [(3, 29700, "上海市", "上海市", "浦东新区")]


async def test_mapping_file(db, tmp_path):
    m = tmp_path / "myshop.toml"
    m.write_text(
        '[mapping]\nplatform = "myshop"\ntime_format = "%Y年%m月%d日 %H:%M"\n'
        '[columns]\norder_id = "单号"\nbuyer_id = "会员"\ncreated_at = "下单时间"\n'
        'status = "状态"\namount_paid = "实付"\nitem_title = "商品"\n'
        '[status]\n"已完成" = "completed"\n"已退款" = "refunded"\n',
        encoding="utf-8",
    )
    f = write(tmp_path / "export.csv", ["单号,会员,下单时间,状态,实付,商品",
                                        "A1,老王,2024年06月18日 10:22,已完成,￥99.9,茶叶",
                                        "A2,老王,2024年06月19日 10:22,已退款,10,茶杯"])  # fmt: skip
    s = await import_file(db, f, tz=TZ, mapping=m)
    assert (s.orders_new, s.customers_new) == (2, 1)
    got = await rows(db, "SELECT platform, order_id, status, amount_paid_fen, created_at "
                     "FROM orders ORDER BY order_id")  # fmt: skip
    assert got[0] == ("myshop", "A1", "completed", 9990, 1718677320)
    bad = tmp_path / "bad.toml"
    bad.write_text('[mapping]\nplatform = "x"\n[columns]\norder_id = "单号"\n', encoding="utf-8")
    with pytest.raises(ImportFailed, match="bad.toml: \\[columns\\] must map created_at"):
        await import_file(db, f, tz=TZ, mapping=bad)


async def test_missing_column_of_a_given_preset(db, tmp_path):
    f = write(tmp_path / "o.csv", ["订单编号,买家会员名,订单状态", "1,a,交易成功"])
    with pytest.raises(ImportFailed, match="no column 订单创建时间, 买家实际支付金额"):
        await import_file(db, f, tz=TZ, preset="taobao")


async def test_worker_process_path_gives_the_same_result(db, tmp_path):
    lines = [TAOBAO_HEAD] + [tb_row(oid=str(i), buyer=f"b{i % 7}") for i in range(300)]
    f = write(tmp_path / "orders.csv", lines)
    s = await import_file(db, f, tz=TZ, worker=True)
    assert (s.orders_new, s.customers_new, s.rows_read) == (300, 7, 300)
    lines[5] = tb_row(oid="x", amount="??")
    with pytest.raises(ImportFailed, match="row 6, column 买家实际支付金额"):
        await import_file(db, write(tmp_path / "bad.csv", lines), tz=TZ, worker=True)


def test_progress_bar_draws_only_on_a_tty():
    plain = io.StringIO()
    progress_bar(plain)(5, 10)
    assert plain.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    bar = progress_bar(tty)
    bar(5, 10)
    bar(10, 10)
    assert "50.0%" in tty.getvalue() and tty.getvalue().endswith("100.0%   \n")
