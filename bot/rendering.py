"""Every text the bot sends is rendered here, from Jinja2 templates in templates/<locale>/.

Output is Telegram HTML: autoescape is always on, so a buyer id, tag or note that
contains markup is shown literally. Templates run in Jinja2's sandbox because shop
operators may edit them (``templates_dir`` in the config file overrides ours file
by file).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from bot.domain.humanize import fen_to_yuan_str

PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

#: Telegram's limit for one message's text
MESSAGE_LIMIT = 4096


def fen_to_yuan(fen: int | None) -> str:
    """The ``yuan`` filter: 12345 -> '123.45', '-' when unknown."""
    return "-" if fen is None else fen_to_yuan_str(int(fen))


class Renderer:
    def __init__(
        self, locale: str = "zh", *, override_dir: Path | None = None, tz: ZoneInfo | None = None
    ) -> None:
        self.locale = locale
        self.tz = tz or ZoneInfo("Asia/Shanghai")
        loaders = []
        if override_dir is not None:
            loaders.append(FileSystemLoader(str(override_dir)))
        loaders.append(FileSystemLoader(str(PACKAGE_TEMPLATES)))
        self.env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            undefined=StrictUndefined,
        )
        self.env.filters["yuan"] = fen_to_yuan
        self.env.filters["localtime"] = self._localtime

    def _localtime(self, ts: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if ts is None:
            return "-"
        return datetime.fromtimestamp(int(ts), UTC).astimezone(self.tz).strftime(fmt)

    def render(self, name: str, *, locale: str | None = None, **context: Any) -> str:
        """Render templates/<locale>/<name>.html; surrounding blank lines are dropped."""
        template = self.env.get_template(f"{locale or self.locale}/{name}.html")
        return template.render(**context).strip()


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut an HTML message into parts Telegram accepts, at line breaks.

    Templates keep tags within a line, so cutting between lines keeps every part valid.
    A single line longer than the limit is cut hard (only plain long text does that).
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts
