"""An admin imports an order export by sending it to the bot as a document."""

from datetime import date

from bot.storage.customers import archive_counts
from bot.synth.generate import generate
from tests.conftest import ADMIN, AGENT

HEADER = (
    "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,订单付款时间,"
    "收货人姓名,联系手机"
)


def _taobao(rows: list[str]) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("gbk")


async def test_admin_imports_a_generated_gbk_export_and_reimport_changes_nothing(
    kefu_bot_en, tmp_path
):
    export = tmp_path / "taobao.csv"
    generate(export, customers=40, orders=150, preset="taobao", seed=3,
             start=date(2025, 1, 1), end=date(2025, 12, 31))  # fmt: skip
    data = export.read_bytes()
    data.decode("gbk")  # the file is what Taobao writes: GBK

    [summary] = await kefu_bot_en.send_document(ADMIN, "taobao.csv", data)
    assert "Import done" in summary.plain_text and "(taobao)" in summary.plain_text
    customers, orders = await archive_counts(kefu_bot_en.db)
    assert f"orders {orders} new, 0 updated, 0 unchanged" in summary.plain_text
    assert f"customers {customers} new" in summary.plain_text
    assert 0 < customers <= 40 and 0 < orders <= 150

    [again] = await kefu_bot_en.send_document(ADMIN, "taobao.csv", data)
    assert f"orders 0 new, 0 updated, {orders} unchanged" in again.plain_text
    assert await archive_counts(kefu_bot_en.db) == (customers, orders)


async def test_a_bad_row_imports_nothing_and_names_row_column_and_value(kefu_bot_en):
    data = _taobao(
        [
            '="3500000000000001",alice,99.00,交易成功,2025-06-18 10:00:00,'
            "2025-06-18 10:01:00,张三,'13812345678",
            '="3500000000000002",bob,12.50,交易成功,2025-13-45 10:00:00,'
            "2025-06-18 10:01:00,李四,13900001111",
        ]
    )  # fmt: skip
    [reply] = await kefu_bot_en.send_document(ADMIN, "orders.csv", data)
    text = reply.plain_text
    assert text.startswith("Nothing was imported.")
    assert "orders.csv" in text and "row 3" in text and "2025-13-45" in text
    assert await archive_counts(kefu_bot_en.db) == (0, 0)

    [skipped] = await kefu_bot_en.send_document(ADMIN, "orders.csv", data, caption="--skip-bad")
    assert "1 new" in skipped.plain_text and "1 skipped" in skipped.plain_text
    assert await archive_counts(kefu_bot_en.db) == (1, 1)


async def test_agents_cannot_import_and_wrong_files_are_explained(kefu_bot_en):
    await kefu_bot_en.send(ADMIN, f"/agent add {AGENT}")
    [denied] = await kefu_bot_en.send_document(AGENT, "orders.csv", _taobao([]))
    assert "Only admins" in denied.plain_text

    [wrong] = await kefu_bot_en.send_document(ADMIN, "photo.jpg", b"\xff\xd8\xff")
    assert "not a CSV or XLSX file" in wrong.plain_text

    [unknown] = await kefu_bot_en.send_document(ADMIN, "x.csv", b"foo,bar\n1,2\n")
    assert "Nothing was imported." in unknown.plain_text and "--preset" in unknown.plain_text

    [bad_option] = await kefu_bot_en.send_document(
        ADMIN, "orders.csv", _taobao([]), caption="--preset amazon"
    )
    assert "--preset amazon" in bad_option.plain_text
    assert await archive_counts(kefu_bot_en.db) == (0, 0)


async def test_a_file_sent_while_the_archive_is_busy_is_refused_with_what_to_do(
    kefu_bot_en, settings_en, monkeypatch
):
    import sqlite3

    from bot.storage import db as storage_db

    monkeypatch.setattr(storage_db, "WRITER_WAIT_S", 0.3)
    data = _taobao(['="3500000000000001",alice,99.00,交易成功,2025-06-18 10:00:00,,张三,'])
    other = sqlite3.connect(settings_en.db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the nightly segment refresh of a big shop, say
    try:
        [busy] = await kefu_bot_en.send_document(ADMIN, "orders.csv", data)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert busy.plain_text.startswith("Nothing was imported.")
    assert "the archive is busy" in busy.plain_text and "try again" in busy.plain_text
    [done] = await kefu_bot_en.send_document(ADMIN, "orders.csv", data)
    assert "1 new" in done.plain_text
