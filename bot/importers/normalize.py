"""Cell values as the platforms write them → canonical values.

Every function here is on the hot path of a million-row import: no regex where a
slice will do, no float anywhere near money.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo


class BadValue(ValueError):
    """A cell that cannot be read; ``expected`` says what would have been right."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


_CURRENCY = "¥￥$€£ "
_CENT = Decimal("0.01")


def money_fen(text: str) -> int:
    """'1,234.50', '¥12.5', '12', '-3' → integer fen (exact; half-up beyond two decimals)."""
    s = text.strip()
    if not s:
        return 0
    if s[0] in _CURRENCY or s[-1] in "元 ":
        s = s.strip(_CURRENCY).removesuffix("元").strip()
    if "," in s:
        s = s.replace(",", "")
    negative = s[:1] == "-"
    if negative:
        s = s[1:]
    whole, dot, frac = s.partition(".")
    if whole.isdigit() if whole else dot:
        if not frac:
            fen = int(whole or 0) * 100
        elif len(frac) <= 2 and frac.isdigit():
            fen = int(whole or 0) * 100 + int(frac.ljust(2, "0"))
        elif frac.isdigit():
            fen = int((Decimal(s) / _CENT).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        else:
            raise BadValue("an amount such as 1,234.50")
        return -fen if negative else fen
    try:  # 1.2E+3 and other things Excel writes
        fen = int((Decimal(s) / _CENT).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError):
        raise BadValue("an amount such as 1,234.50") from None
    return -fen if negative else fen


def quantity(text: str) -> int:
    s = text.strip()
    if not s:
        return 1
    if s.isdigit():
        return int(s)
    if s.endswith(".0") and s[:-2].isdigit():  # from XLSX
        return int(s[:-2])
    raise BadValue("a whole number of items")


def order_id(text: str) -> str:
    """Strip Excel's ="…" guard and a leading apostrophe; refuse Excel's 1.23E+17."""
    s = text.strip()
    if s[:2] == '="' and s[-1:] == '"':
        s = s[2:-1].strip()
    elif s[:1] in "'\t":
        s = s[1:].strip()
    if not s:
        raise BadValue("an order number")
    if "E+" in s.upper() and s.upper().replace(".", "").replace("E+", "").isdigit():
        raise BadValue("the full order number (Excel shortened it; export again, do not re-save)")
    return s


def phone(text: str) -> str:
    """ "'+86 138 1234 5678" → "13812345678"."""
    s = text.strip()
    if not s:
        return ""
    if s[0] == "'" or s[:2] == '="':
        s = s.lstrip("'=\"").rstrip('"')
    if " " in s or "-" in s:
        s = s.replace(" ", "").replace("-", "")
    if s[:3] == "+86":
        s = s[3:]
    elif s[:4] == "0086":
        s = s[4:]
    elif s[:2] == "86" and len(s) == 13:
        s = s[2:]
    return s


def text(value: str) -> str:
    s = value.strip()
    if s[:2] == '="' and s[-1:] == '"':
        s = s[2:-1]
    return s


# --- addresses -------------------------------------------------------------------

_ADDRESS = re.compile(
    r"^(北京市?|天津市?|上海市?|重庆市?|[^省市]{2,7}?(?:省|自治区|特别行政区))?"
    r"([^市]{1,8}?(?:市|自治州|地区|盟))?"
    r"([^区县市旗]{1,8}?(?:区|县|市|旗))?(.*)$"
)


def split_address(address: str) -> tuple[str, str, str, str]:
    """'浙江省 杭州市 西湖区 文三路 123号' → (province, city, district, rest).

    Taobao separates the parts with spaces; JD writes them run together, which a
    pattern on 省/市/区 splits. An address neither way reads stays whole in ``rest``.
    """
    s = address.strip()
    if not s:
        return "", "", "", ""
    parts = s.split(" ", 3)
    if len(parts) == 4:
        return parts[0], parts[1], parts[2], parts[3]
    m = _ADDRESS.match(s.replace(" ", ""))
    if m is None or not (m.group(1) or m.group(2)):
        return "", "", "", s
    province, city, district, rest = (g or "" for g in m.groups())
    if province in ("北京", "天津", "上海", "重庆"):
        province += "市"
    if province.endswith("市") and not city:
        city = province
    return province, city, district, rest.strip()


# --- times -----------------------------------------------------------------------

TimeParser = Callable[[str], int]
_EPOCH = date(1970, 1, 1)
_MMSS = {f":{m:02}:{sec:02}": m * 60 + sec for m in range(60) for sec in range(60)}


def time_parser(tz: ZoneInfo, fmt: str | None = None) -> TimeParser:
    """A parser of shop-local times → UTC unix seconds.

    Reads '2024-06-18 10:22:33', '2024-06-18 10:22', '2024/6/18 10:22:33' (what Excel
    writes back), ISO 'T' forms and an explicit offset ('2024-06-18 10:22:33 +0800').
    The UTC offset is cached per day, so a row costs a few slices and a dict lookup.
    With ``fmt`` (a strptime format) only that format is read.
    """
    day_base: dict[str, int | None] = {}

    def base_of(day: str) -> int | None:
        """UTC seconds of local midnight, or None on a day whose offset changes."""
        try:
            d = date(int(day[0:4]), int(day[5:7]), int(day[8:10]))
        except ValueError:
            raise BadValue("a date such as 2024-06-18 10:22:33") from None
        start = datetime(d.year, d.month, d.day, tzinfo=tz)
        off = start.utcoffset()
        late = (start + timedelta(hours=23, minutes=59)).utcoffset()
        base = None if off != late else (d - _EPOCH).days * 86400 - int(off.total_seconds())
        day_base[day] = base
        return base

    def slow(s: str) -> int:
        if fmt is not None:
            try:
                dt = datetime.strptime(s, fmt)
            except ValueError:
                raise BadValue(f"a time in the format {fmt}") from None
        else:
            t = s.replace("/", "-").replace("T", " ")
            try:
                dt = datetime.fromisoformat(_pad_date(t))
            except ValueError:
                raise BadValue("a date such as 2024-06-18 10:22:33") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        return int(dt.astimezone(UTC).timestamp())

    # 'YYYY-MM-DD HH' -> UTC seconds of that hour (valid hours of days without an offset
    # change), ':MM:SS' -> seconds into the hour: a usual time is two slices, two lookups
    hour_base: dict[str, int] = {}
    get_hour, get_mmss = hour_base.get, _MMSS.get

    def parse(value: str) -> int:
        if len(value) == 19 and fmt is None:
            hour = get_hour(value[:13])
            if hour is not None:
                mmss = get_mmss(value[13:])
                if mmss is not None:
                    return hour + mmss
        s = value.strip()
        n = len(s)
        if (n == 19 or n == 16) and s[4] == "-" and s[10] == " " and fmt is None:
            day = s[:10]
            base = day_base[day] if day in day_base else base_of(day)
            hh, mm, ss = s[11:13], s[14:16], s[17:19] if n == 19 else "00"
            if not (hh.isdigit() and mm.isdigit() and ss.isdigit()) or s[13] != ":" or (
                n == 19 and s[16] != ":"
            ):
                raise BadValue("a date such as 2024-06-18 10:22:33")
            h, m, sec = int(hh), int(mm), int(ss)
            if h > 23 or m > 59 or sec > 59:
                raise BadValue("a date such as 2024-06-18 10:22:33")
            if base is not None:
                if len(hour_base) < 200_000:
                    hour_base[s[:13]] = base + h * 3600
                return base + h * 3600 + m * 60 + sec
        return slow(s)

    return parse


def _pad_date(s: str) -> str:
    """'2024-6-8 9:05' → '2024-06-08 09:05'; offsets like +0800 → +08:00."""
    date_part, _, rest = s.partition(" ")
    ymd = date_part.split("-")
    if len(ymd) == 3:
        date_part = f"{ymd[0]}-{ymd[1].zfill(2)}-{ymd[2].zfill(2)}"
    if not rest:
        return date_part
    clock, _, offset = rest.strip().partition(" ")
    if "+" in clock[1:] or clock.endswith("Z"):
        return f"{date_part} {clock}"
    hms = clock.split(":")
    clock = ":".join(p.zfill(2) for p in hms)
    if offset:
        if len(offset) == 5 and offset[0] in "+-":
            offset = offset[:3] + ":" + offset[3:]
        clock += offset
    return f"{date_part} {clock}"
