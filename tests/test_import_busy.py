"""An import that finds another writer waits for it, then gives up cleanly."""

import asyncio
import sqlite3

import pytest

from bot.importers.pipeline import ImportFailed, import_file
from bot.storage import db as storage_db
from bot.storage.db import open_db
from tests.test_importers import TAOBAO_HEAD, TZ, rows, tb_row, write


@pytest.fixture
async def db(tmp_path):
    conn = await open_db(tmp_path / "k.db")
    yield conn
    await conn.close()


async def test_a_busy_archive_imports_nothing_and_says_to_try_again(db, tmp_path, monkeypatch):
    monkeypatch.setattr(storage_db, "WRITER_WAIT_S", 0.3)
    f = write(tmp_path / "day.csv", [TAOBAO_HEAD, tb_row(oid="1", buyer="amy")])
    other = sqlite3.connect(tmp_path / "k.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a segment refresh, say, is writing
    try:
        with pytest.raises(ImportFailed, match=r"day.csv: the archive is busy .* try again"):
            await import_file(db, f, tz=TZ)
        assert await rows(db, "PRAGMA foreign_keys") == [(1,)]  # the connection as it was
        assert await rows(db, "PRAGMA busy_timeout") == [(5000,)]
    finally:
        other.execute("ROLLBACK")
        other.close()
    s = await import_file(db, f, tz=TZ)  # the writer is gone: the same file goes in
    assert (s.orders_new, s.customers_new) == (1, 1)


async def test_an_import_waits_longer_than_a_query_for_a_write_to_end(tmp_path, monkeypatch):
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 200)  # a query gives up after 0.2 s
    conn = await open_db(tmp_path / "k.db")
    f = write(tmp_path / "day.csv", [TAOBAO_HEAD, tb_row(oid="1", buyer="amy")])
    other = sqlite3.connect(tmp_path / "k.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await conn.execute("INSERT INTO staff (user_id, role, added_at) VALUES (1, 'agent', 0)")
        asyncio.get_running_loop().call_later(1.0, other.execute, "COMMIT")
        s = await import_file(conn, f, tz=TZ)  # waits the second out
        assert s.orders_new == 1
    finally:
        other.close()
        await conn.close()
