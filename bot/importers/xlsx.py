"""XLSX exports: the first sheet's rows as strings, streamed (openpyxl read-only mode)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path


def cell_text(value: object) -> str:
    """A cell as the CSV export would have written it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d 00:00:00")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def open_xlsx(path: Path) -> tuple[int, Iterator[list[str]]]:
    """(rows the sheet declares, rows of the first worksheet as strings, header first).

    Empty rows are yielded too, so row numbers match what Excel shows.
    """
    import openpyxl  # here: a CSV import (and its worker process) need not load it

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    total = ws.max_row or 0

    def rows() -> Iterator[list[str]]:
        try:
            for row in ws.iter_rows(values_only=True):
                yield [cell_text(v) for v in row]
        finally:
            wb.close()

    return total, rows()
