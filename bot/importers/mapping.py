"""TOML mapping files: a preset for any other shop's export, written by the operator.

[mapping]
platform = "myshop"          # required: the platform code orders are stored under
encoding = "gbk"             # optional; detected when absent
time_format = "%Y年%m月%d日 %H:%M"   # optional strptime format; common forms otherwise
line_items = false           # optional: consecutive rows of one order are its items
base = "generic"             # optional: start from a built-in preset's columns/statuses

[columns]                    # canonical field = header in the file
order_id = "单号"
buyer_id = "会员"
created_at = "下单时间"
status = "状态"
amount_paid = "实付"

[status]                     # word in the file = canonical status
"已完成" = "completed"
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from bot.domain.order import STATUSES
from bot.importers.presets import BUILTIN, FIELDS, REQUIRED, Preset


class MappingError(ValueError):
    """The mapping file is wrong; the message names the file and the key."""


def load_mapping(path: Path) -> Preset:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise MappingError(f"{path.name}: no such mapping file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path.name}: not a valid TOML file: {exc}") from None
    return mapping_from_dict(data, name=path.name)


def mapping_from_dict(data: dict, *, name: str = "mapping") -> Preset:
    head = data.get("mapping", {})
    columns = data.get("columns", {})
    words = data.get("status", {})
    if not isinstance(head, dict) or not isinstance(columns, dict) or not isinstance(words, dict):
        raise MappingError(f"{name}: [mapping], [columns] and [status] must be tables")
    platform = head.get("platform")
    if not isinstance(platform, str) or not platform.strip():
        raise MappingError(f'{name}: [mapping] needs platform = "yourshop"')
    base_name = head.get("base")
    base = None
    if base_name is not None:
        base = BUILTIN.get(str(base_name))
        if base is None:
            raise MappingError(f"{name}: base = {base_name!r} is not one of {', '.join(BUILTIN)}")

    cols: dict[str, tuple[str, ...]] = dict(base.columns) if base else {}
    for key, header in columns.items():
        if key not in FIELDS:
            raise MappingError(
                f"{name}: [columns] {key!r} is not a field; use one of {', '.join(FIELDS)}"
            )
        if isinstance(header, str):
            cols[key] = (header,)
        elif isinstance(header, list) and header and all(isinstance(h, str) for h in header):
            cols[key] = tuple(header)
        else:
            raise MappingError(f"{name}: [columns] {key} must be a header name (or a list)")
    missing = [f for f in REQUIRED if f not in cols]
    if missing:
        raise MappingError(f"{name}: [columns] must map {', '.join(missing)}")

    statuses: dict[str, str] = dict(base.statuses) if base else {s: s for s in STATUSES}
    for word, status in words.items():
        if status not in STATUSES:
            raise MappingError(
                f"{name}: [status] {word!r} = {status!r}; use one of {', '.join(STATUSES)}"
            )
        statuses[word] = status
    time_format = head.get("time_format")
    encoding = head.get("encoding")
    return Preset(
        name=f"mapping:{name}",
        platform=platform.strip(),
        columns=cols,
        statuses=statuses,
        line_items=bool(head.get("line_items", base.line_items if base else False)),
        time_format=str(time_format) if time_format else None,
        encoding=str(encoding) if encoding else None,
        rule=base.rule if base else None,
        description=f"mapping file {name}",
    )
