"""What a file is: XLSX or CSV, and in which encoding — detected, never asked."""

from __future__ import annotations

import codecs
from pathlib import Path

SAMPLE = 1 << 18


def is_xlsx(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def detect_encoding(sample: bytes) -> str:
    """'utf-8-sig', 'utf-8', 'gbk' or 'gb18030' for the first bytes of a CSV file.

    UTF-8 is strict enough that Chinese GBK text practically never passes as it. GBK
    files are decoded with the GB18030 codec, its superset, so a rare character past the
    sample cannot break the import; 'gbk' is only the name reported.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gbk")().decode(sample, final=False)
        return "gbk"
    except UnicodeDecodeError:
        return "gb18030"


def codec_for(encoding: str) -> str:
    """The codec that reads a file of the detected ``encoding``."""
    gbk = encoding.lower().replace("-", "") in ("gbk", "gb2312", "cp936")
    return "gb18030" if gbk else encoding


def sniff_csv(path: Path) -> str:
    with open(path, "rb") as f:
        return detect_encoding(f.read(SAMPLE))
