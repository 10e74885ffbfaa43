"""Cutting a CSV export in two at a record boundary, so that two processes parse it at once.

A line break starts a new record unless it is inside a quoted cell, which is the case
exactly when an odd number of quote characters precede it: a quoted cell opens and
closes with one quote each and doubles the quotes inside it. The quote byte (0x22) and
the line feed (0x0A) never occur inside a multi-byte character of UTF-8, GBK or GB18030,
so counting bytes is enough. A file whose quotes do not pair up (a stray quote in an
unquoted cell) is not cut: parity would say nothing there.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

_CHUNK = 1 << 22


def split_point(path: Path, size: int, fraction: float = 0.5) -> int | None:
    """A byte offset near ``fraction`` of the file where a record starts, or None."""
    target = int(size * fraction)
    quotes = 0
    cut: int | None = None
    with open(path, "rb") as f:
        pos = 0
        while pos < target:
            chunk = f.read(min(_CHUNK, target - pos))
            if not chunk:
                return None
            quotes += chunk.count(b'"')
            pos += len(chunk)
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            start = 0
            while cut is None:
                nl = chunk.find(b"\n", start)
                if nl < 0:
                    break
                quotes += chunk.count(b'"', start, nl)
                start = nl + 1
                if quotes % 2 == 0:
                    cut = pos + start
            quotes += chunk.count(b'"', start)
            pos += len(chunk)
    if cut is None or cut >= size or quotes % 2:
        return None
    return cut


class ByteRange(io.RawIOBase):
    """The bytes of an open binary file from its current position up to ``end``."""

    def __init__(self, f: IO[bytes], end: int) -> None:
        self._f = f
        self._left = end - f.tell()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        view = memoryview(buffer)
        n = self._f.readinto(view[: min(len(view), self._left)]) or 0
        self._left -= n
        return n
