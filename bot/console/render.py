"""Render the bot's outgoing Telegram messages for a terminal.

HTML becomes readable text (ANSI bold/italic/underline only when asked, i.e. on a TTY),
links read ``text <url>``, inline keyboards become numbered choices ``[1] Orders  [2] Tags``
and files the bot sends are saved into a folder and shown as ``📎 saved: <path>``.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.console.transport import ENTITY_TYPES, HTMLParseError, SentFile, SentMessage, html_tokens

__all__ = [
    "DEFAULT_FILES_DIR",
    "Choice",
    "html_to_text",
    "message_choices",
    "render_choices",
    "render_message",
    "save_file",
    "use_ansi",
]

DEFAULT_FILES_DIR = Path("kefu-console-files")

#: ANSI on/off codes per Telegram entity type (transport.ENTITY_TYPES maps tags to these)
_ANSI = {
    "bold": ("\033[1m", "\033[22m"),
    "italic": ("\033[3m", "\033[23m"),
    "underline": ("\033[4m", "\033[24m"),
    "strikethrough": ("\033[9m", "\033[29m"),
    "dim": ("\033[2m", "\033[22m"),
}
_TAG_STYLE = {tag: kind for tag, kind in ENTITY_TYPES.items() if kind in _ANSI}


def use_ansi(stream: TextIO) -> bool:
    """ANSI styling only for a terminal, and never when NO_COLOR is set."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def html_to_text(source: str | None, *, parse_mode: str | None = "HTML", ansi: bool = False) -> str:
    """Telegram HTML → terminal text. Non-HTML text is returned as is."""
    if not source:
        return ""
    if not parse_mode or parse_mode.upper() != "HTML":
        return source
    out: list[str] = []
    links: list[tuple[str, int]] = []  # (href, index in out where the link text starts)
    quotes: list[int] = []
    try:
        for kind, data, attrs in html_tokens(source):
            if kind == "text":
                out.append(data)
            elif kind == "start":
                style = _TAG_STYLE.get(data)
                if style and ansi:
                    out.append(_ANSI[style][0])
                elif data == "a":
                    links.append((attrs.get("href", ""), len(out)))
                elif data == "blockquote":
                    quotes.append(len(out))
            else:
                style = _TAG_STYLE.get(data)
                if style and ansi:
                    out.append(_ANSI[style][1])
                elif data == "a" and links:
                    href, start = links.pop()
                    label = "".join(out[start:])
                    if href and _strip_ansi(label).strip() != href:
                        out.append(f" <{href}>")
                elif data == "blockquote" and quotes:
                    start = quotes.pop()
                    quoted = "".join(out[start:])
                    del out[start:]
                    out.append("\n".join("│ " + line for line in quoted.strip("\n").split("\n")))
    except HTMLParseError:
        # Not valid Telegram HTML (the transport would have refused it); show it readably.
        return html.unescape(re.sub(r"<[^>]+>", "", source))
    return "".join(out)


_ANSI_RE = re.compile(r"\033\[[0-9;]*m")


def _strip_ansi(text: str) -> str:
    return _ANSI_RE.sub("", text)


@dataclass(frozen=True)
class Choice:
    """One numbered choice: an inline button (callback or url) or a reply-keyboard text."""

    number: int
    label: str
    kind: str  # "callback", "url", "text" (reply keyboard) or "other"
    value: str | None
    row: int


def message_choices(msg: SentMessage | dict[str, Any] | None) -> list[Choice]:
    """Numbered choices of a message's keyboard (inline keyboard, else reply keyboard)."""
    markup = msg.reply_markup if isinstance(msg, SentMessage) else msg
    if not markup:
        return []
    choices: list[Choice] = []
    if markup.get("inline_keyboard"):
        for r, row in enumerate(markup["inline_keyboard"]):
            for button in row:
                if "callback_data" in button:
                    kind, value = "callback", button["callback_data"]
                elif "url" in button:
                    kind, value = "url", button["url"]
                else:
                    kind, value = "other", None
                choices.append(Choice(len(choices) + 1, button.get("text", ""), kind, value, r))
    elif markup.get("keyboard"):
        for r, row in enumerate(markup["keyboard"]):
            for button in row:
                text = button if isinstance(button, str) else button.get("text", "")
                choices.append(Choice(len(choices) + 1, text, "text", text, r))
    return choices


def render_choices(choices: list[Choice]) -> str:
    """``[1] Orders  [2] Tags`` — one line per keyboard row; url buttons show the url."""
    lines: list[str] = []
    current_row = None
    for choice in choices:
        label = f"[{choice.number}] {choice.label}"
        if choice.kind == "url":
            label += f" <{choice.value}>"
        if choice.row != current_row:
            lines.append(label)
            current_row = choice.row
        else:
            lines[-1] += "  " + label
    return "\n".join(lines)


_UNSAFE = re.compile(r"[^\w.\-() ]+", re.UNICODE)


def save_file(file: SentFile, files_dir: Path) -> Path:
    """Write the file's bytes into ``files_dir`` (created on demand) under a fresh name."""
    files_dir.mkdir(parents=True, exist_ok=True)
    name = _UNSAFE.sub("_", Path(file.filename or "file").name).strip(" .") or "file"
    target = files_dir / name
    stem, suffix = target.stem, target.suffix
    n = 1
    while True:
        try:
            with target.open("xb") as fh:
                fh.write(file.data)
            return target
        except FileExistsError:
            n += 1
            target = files_dir / f"{stem}-{n}{suffix}"


def render_message(
    msg: SentMessage,
    *,
    ansi: bool = False,
    files_dir: Path | None = DEFAULT_FILES_DIR,
    header: str | None = None,
) -> str:
    """A sent (or edited) message as terminal text.

    Documents/photos are saved into ``files_dir`` (``None``: not saved, only named).
    """
    parts: list[str] = []
    first = header or ""
    if msg.edited:
        first = (first + " " if first else "") + "(edited)"
    for attachment in (msg.document, msg.photo):
        if attachment is None:
            continue
        if files_dir is not None:
            line = f"📎 saved: {save_file(attachment, files_dir)}"
        else:
            line = f"📎 {attachment.filename} ({len(attachment.data)} bytes)"
        parts.append(line)
    body = html_to_text(msg.text, parse_mode=msg.parse_mode, ansi=ansi)
    if body:
        parts.append(body)
    choices = render_choices(message_choices(msg))
    if choices:
        parts.append(choices)
    if first:
        if ansi:
            first = _ANSI["dim"][0] + first + _ANSI["dim"][1]
        parts.insert(0, first)
    return "\n".join(parts)
