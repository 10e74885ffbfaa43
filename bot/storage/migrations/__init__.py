"""Versioned schema migrations: ``NNNN_what.sql`` files in this folder, applied in order.

Add a file, never edit one that has shipped: a shop's database of an older version is
upgraded at start by applying the files after its ``user_version``.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _load() -> tuple[str, ...]:
    files = sorted(_HERE.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    for expected, path in enumerate(files, start=1):
        if int(path.name[:4]) != expected:
            raise RuntimeError(f"migration {path.name} is out of order, expected {expected:04d}")
    return tuple(p.read_text(encoding="utf-8") for p in files)


MIGRATIONS: tuple[str, ...] = _load()
