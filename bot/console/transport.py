"""An in-process Telegram Bot API for the offline console and end-to-end tests.

``InProcessBotAPI`` is a :class:`telegram.request.BaseRequest`: python-telegram-bot hands it
every HTTP request it would send to ``api.telegram.org`` and it answers from memory.  The
Application, its handlers, ``Message.reply_text``, ``File.download_to_drive`` and the
polling ``Updater`` all run unchanged on top of it.

Wiring::

    api = InProcessBotAPI()
    app = ApplicationBuilder().token(api.token).request(api).get_updates_request(api).build()
    api.bind(app.bot)            # so updates built by the helpers carry the app's bot

It enforces the Telegram behaviour that is cheap to copy and that code really trips over:
message length (4096 after entity parsing, 1024 for captions), HTML that Telegram cannot
parse, callback_data over 64 bytes, invalid bot command names, "message is not modified",
answering a callback query twice, blocked users (403) and injected failures such as 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import mimetypes
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import unquote

from telegram import Bot, Message, Update
from telegram.request import BaseRequest, RequestData

__all__ = [
    "APICall",
    "HTMLParseError",
    "InProcessBotAPI",
    "SentFile",
    "SentMessage",
    "TextEntity",
    "html_tokens",
    "parse_html",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
DEFAULT_TOKEN = "1000:in-process-kefu-token"

# Methods that act on a chat and therefore fail with 403 when the user blocked the bot.
_CHAT_METHOD_PREFIXES = ("send", "edit", "copy", "forward", "pin", "unpin", "delete")
_CHAT_METHOD_EXCEPTIONS = {"deleteMyCommands", "deleteWebhook"}
# Setters we accept and record without modelling them.
_ACCEPTED_SETTERS = {
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setChatMenuButton",
    "setMyDefaultAdministratorRights",
}


# --------------------------------------------------------------------------------------------
# Telegram's HTML subset
# --------------------------------------------------------------------------------------------


_COMMAND = re.compile(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?")


def _command_entity(text: str, key: str) -> dict[str, Any]:
    """``{key: [bot_command entity]}`` when ``text`` starts with a /command, else ``{}``."""
    m = _COMMAND.match(text)
    return {key: [{"type": "bot_command", "offset": 0, "length": m.end()}]} if m else {}


class HTMLParseError(ValueError):
    """Text that Telegram would reject with "can't parse entities"."""


_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip
ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_CHAR_REF = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_ATTR = re.compile(r"""([A-Za-z_][\w-]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _unescape(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref in _NAMED_REFS:
            return _NAMED_REFS[ref]
        code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
        try:
            return chr(code)
        except (ValueError, OverflowError):
            return m.group(0)

    return _CHAR_REF.sub(repl, text)


def html_tokens(text: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Tokenise Telegram-flavoured HTML the way the Bot API does.

    Yields ``("text", data, {})``, ``("start", tag, attrs)`` and ``("end", tag, {})``; text is
    already unescaped.  Raises :class:`HTMLParseError` with Telegram's wording for unknown or
    unclosed tags, mismatched end tags and a bare ``<``.
    """
    stack: list[tuple[str, int]] = []
    pos = 0
    n = len(text)

    def offset(i: int) -> int:
        return len(text[:i].encode("utf-8"))

    while pos < n:
        lt = text.find("<", pos)
        if lt == -1:
            yield ("text", _unescape(text[pos:]), {})
            break
        if lt > pos:
            yield ("text", _unescape(text[pos:lt]), {})
        gt = text.find(">", lt)
        if text.startswith("</", lt):
            if gt == -1:
                raise HTMLParseError(f"Unclosed end tag at byte offset {offset(lt)}")
            name = text[lt + 2 : gt].strip().lower()
            if not stack:
                raise HTMLParseError(f"Unexpected end tag at byte offset {offset(lt)}")
            open_name, _ = stack[-1]
            if name != open_name:
                raise HTMLParseError(
                    f'Unmatched end tag at byte offset {offset(lt)}, expected "</{open_name}>",'
                    f' found "</{name}>"'
                )
            stack.pop()
            yield ("end", name, {})
            pos = gt + 1
            continue
        name_match = _TAG_NAME.match(text, lt + 1)
        assert name_match is not None
        name = name_match.group(0).lower()
        if not name or name not in _ALLOWED_TAGS:
            raise HTMLParseError(f'Unsupported start tag "{name}" at byte offset {offset(lt)}')
        if gt == -1:
            raise HTMLParseError(f"Unclosed start tag at byte offset {offset(lt)}")
        attrs: dict[str, str] = {}
        for m in _ATTR.finditer(text[name_match.end() : gt].rstrip("/")):
            value = next((g for g in m.group(2, 3, 4) if g is not None), "")
            attrs[m.group(1).lower()] = _unescape(value)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HTMLParseError('Tag "span" must have class "tg-spoiler"')
        stack.append((name, lt))
        yield ("start", name, attrs)
        pos = gt + 1
    if stack:
        raise HTMLParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')


@dataclass
class TextEntity:
    """A formatting entity found by :func:`parse_html` (offsets in Python characters)."""

    type: str
    start: int  # offsets in Python characters
    end: int
    extra: dict[str, Any] = field(default_factory=dict)


def parse_html(text: str) -> tuple[str, list[TextEntity]]:
    """Return (plain text, entities) for Telegram HTML; raise :class:`HTMLParseError`."""
    out: list[str] = []
    length = 0
    open_: list[tuple[str, int, dict[str, str]]] = []
    entities: list[TextEntity] = []
    for kind, data, attrs in html_tokens(text):
        if kind == "text":
            out.append(data)
            length += len(data)
        elif kind == "start":
            open_.append((data, length, attrs))
        else:
            tag, start, tag_attrs = open_.pop()
            if length == start:
                continue
            etype = ENTITY_TYPES[tag]
            extra: dict[str, Any] = {}
            if tag == "a":
                if "href" not in tag_attrs:
                    continue
                extra["url"] = tag_attrs["href"]
            elif tag == "blockquote" and "expandable" in tag_attrs:
                etype = "expandable_blockquote"
            elif tag == "tg-emoji":
                extra["custom_emoji_id"] = tag_attrs.get("emoji-id", "")
            elif tag == "code" and open_ and open_[-1][0] == "pre":
                # Telegram folds <pre><code class="language-x"> into one pre entity.
                lang = tag_attrs.get("class", "")
                if lang.startswith("language-"):
                    open_[-1][2]["language"] = lang[len("language-") :]
                continue
            elif tag == "pre" and tag_attrs.get("language"):
                extra["language"] = tag_attrs["language"]
            entities.append(TextEntity(etype, start, length, extra))
    entities.sort(key=lambda e: (e.start, -e.end))
    return "".join(out), entities


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entities_json(plain: str, entities: list[TextEntity]) -> list[dict[str, Any]]:
    result = []
    for e in entities:
        offset = _utf16_len(plain[: e.start])
        result.append(
            {
                "type": e.type,
                "offset": offset,
                "length": _utf16_len(plain[e.start : e.end]),
                **e.extra,
            }
        )
    return result


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass
class SentFile:
    """A file the bot uploaded (or a user sent), kept in memory."""

    filename: str
    data: bytes
    mime_type: str | None = None
    file_id: str = ""


@dataclass
class InlineButton:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class SentMessage:
    """One message the bot sent; ``api.sent`` keeps it current as it is edited.

    ``text`` is the source as sent (HTML if ``parse_mode`` is HTML) or the caption of a
    document/photo; ``plain_text`` is what the user sees.
    """

    chat_id: int
    message_id: int
    text: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: SentFile | None = None
    photo: SentFile | None = None
    reply_to_message_id: int | None = None
    plain_text: str = ""
    method: str = "sendMessage"
    edited: bool = False
    deleted: bool = False
    date: int = 0

    @property
    def buttons(self) -> list[InlineButton]:
        """Inline keyboard buttons, row by row, left to right."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            InlineButton(b.get("text", ""), b.get("callback_data"), b.get("url"))
            for row in rows
            for b in row
        ]

    @property
    def keyboard(self) -> list[str]:
        """Reply-keyboard button texts (``ReplyKeyboardMarkup``), row by row."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [b if isinstance(b, str) else b.get("text", "") for row in rows for b in row]

    def button_data(self, text: str) -> str:
        """callback_data of the inline button whose text equals/contains ``text``."""
        for exact in (True, False):
            for b in self.buttons:
                if b.callback_data is not None and (
                    b.text == text if exact else text.lower() in b.text.lower()
                ):
                    return b.callback_data
        raise KeyError(f"no button {text!r} in message {self.message_id}: {self.buttons}")


class APICall(NamedTuple):
    """One Bot API call: method name and its parameters (uploads appear as SentFile)."""

    method: str
    params: dict[str, Any]


class _APIError(Exception):
    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class _Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None
    times: int


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    filename: str
    data: bytes
    mime_type: str | None
    file_path: str


def _bad(description: str) -> _APIError:
    return _APIError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------------
# The fake API
# --------------------------------------------------------------------------------------------


class InProcessBotAPI(BaseRequest):
    """A Telegram Bot API server in memory; pass it as PTB's request object."""

    def __init__(
        self,
        *,
        bot_id: int = 1000,
        username: str = "kefu_bot",
        first_name: str = "kefu",
    ) -> None:
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.token = f"{bot_id}:in-process-kefu-token"
        self.bot: Bot | None = None

        self.calls: list[APICall] = []
        self.sent: list[SentMessage] = []
        #: chronological snapshots: one per sent message and one per edit (``edited=True``)
        self.events: list[SentMessage] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.blocked: set[int] = set()

        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._msg_counters: dict[int, itertools.count[int]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._query_counter = itertools.count(1)
        self._open_queries: set[str] = set()
        self._failures: dict[str, list[_Failure]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_counter = itertools.count(1)
        self._update_event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.RLock()
        self._custom: dict[str, Callable[[dict[str, Any]], Any]] = {}

    # -- BaseRequest -------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def shutdown(self) -> None:
        # Wake a pending long poll so that shutdown is immediate.
        if self._update_event is not None:
            self._update_event.set()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if method == "GET" or "/file/bot" in url:
            return self._serve_file(url)
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        uploads: dict[str, SentFile] = {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                if hasattr(content, "read"):
                    content = content.read()
                uploads[name] = SentFile(filename or name, bytes(content), mimetype)
        with self._lock:
            self.calls.append(APICall(api_method, {**params, **uploads}))
        try:
            self._check_failure(api_method)
            self._check_blocked(api_method, params)
            handler = self._custom.get(api_method)
            if handler is not None:
                result = handler(params)
                if isinstance(result, Awaitable):
                    result = await result
            else:
                impl = getattr(self, f"_m_{api_method}", None)
                if api_method in _ACCEPTED_SETTERS:
                    result = True
                elif impl is None:
                    raise _APIError(
                        400,
                        f"Bad Request: method {api_method} is not implemented by "
                        "InProcessBotAPI (add it with api.on_method)",
                    )
                elif api_method == "getUpdates":
                    result = await impl(params)
                else:
                    result = impl(params, uploads)
        except _APIError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.status,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            return exc.status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # -- configuration / fault injection -----------------------------------------------------

    def bind(self, bot: Bot) -> None:
        """Use ``bot`` (normally ``app.bot``) for the Update objects the helpers build."""
        self.bot = bot

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: calls on this chat now fail with 403."""
        self.blocked.add(int(chat_id))

    def unblock_chat(self, chat_id: int) -> None:
        self.blocked.discard(int(chat_id))

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = None,
        *,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"``: any method) fail.

        429 answers carry ``parameters.retry_after`` (default 3 s), so PTB raises
        :class:`telegram.error.RetryAfter`; 400 → BadRequest, 403 → Forbidden, 5xx →
        NetworkError.
        """
        parameters = None
        if status == 429:
            retry_after = 3 if retry_after is None else retry_after
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        elif retry_after is not None:
            parameters = {"retry_after": retry_after}
        if description is None:
            description = {
                400: "Bad Request: injected failure",
                403: "Forbidden: injected failure",
            }.get(status, "Internal Server Error")
        self._failures.setdefault(method, []).append(
            _Failure(status, description, parameters, times)
        )

    def on_method(self, method: str, handler: Callable[[dict[str, Any]], Any]) -> None:
        """Answer ``method`` with ``handler(params)`` (sync or async; return the result)."""
        self._custom[method] = handler

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str = "private",
        first_name: str | None = None,
        title: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Register a chat (private chats also register the user)."""
        chat: dict[str, Any] = {"id": int(chat_id), "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name or f"User{chat_id}"
            self._users.setdefault(
                int(chat_id),
                {"id": int(chat_id), "is_bot": False, "first_name": chat["first_name"]},
            )
        else:
            chat["title"] = title or f"Chat {chat_id}"
        if username:
            chat["username"] = username
        self._chats[int(chat_id)] = chat
        return chat

    # -- inspection --------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call of ``method``, in order."""
        return [c.params for c in self.calls if c.method == method]

    def mark(self) -> int:
        """A position in :attr:`events`; pass it to :meth:`events_since`."""
        return len(self.events)

    def events_since(self, mark: int) -> list[SentMessage]:
        return self.events[mark:]

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == int(chat_id)]

    def last_sent(self, chat_id: int | None = None) -> SentMessage:
        msgs = self.sent if chat_id is None else self.sent_to(chat_id)
        if not msgs:
            raise LookupError("the bot has sent nothing" + (f" to {chat_id}" if chat_id else ""))
        return msgs[-1]

    def get_commands(
        self, scope: dict[str, Any] | Any | None = None, language_code: str = ""
    ) -> list[tuple[str, str]]:
        """Commands set with setMyCommands for a scope (dict or BotCommandScope)."""
        cmds = self.commands.get((self._scope_key(scope), language_code or ""), [])
        return [(c["command"], c["description"]) for c in cmds]

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """The current state of a message the bot sent (None if unknown)."""
        return self._sent_index.get((int(chat_id), int(message_id)))

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    # -- building incoming updates ------------------------------------------------------------

    def _require_bot(self, bot: Bot | None) -> Bot:
        bot = bot or self.bot
        if bot is None:
            raise RuntimeError(
                "InProcessBotAPI has no bot: call api.bind(app.bot) (BotHarness and "
                "run_console do it) or pass bot=..."
            )
        return bot

    def _user(self, user_id: int, first_name: str | None = None) -> dict[str, Any]:
        user = self._users.get(int(user_id))
        if user is None or (first_name and user.get("first_name") != first_name):
            user = {
                "id": int(user_id),
                "is_bot": False,
                "first_name": first_name or (user or {}).get("first_name") or f"User{user_id}",
                "language_code": "zh-hans",
            }
            self._users[int(user_id)] = user
        return user

    def _incoming_chat(
        self, user_id: int, chat_id: int | None, chat_type: str, first_name: str | None
    ) -> dict[str, Any]:
        cid = int(user_id if chat_id is None else chat_id)
        chat = self._chats.get(cid)
        if chat is None or chat.get("type") != chat_type:
            if chat_type == "private":
                chat = self.add_chat(
                    cid, first_name=first_name or self._user(user_id)["first_name"]
                )
            else:
                chat = self.add_chat(cid, chat_type=chat_type)
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._msg_counters.setdefault(int(chat_id), itertools.count(1))
        return next(counter)

    def _new_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(self._update_counter), **payload}

    def _incoming_message(
        self,
        user_id: int,
        *,
        chat_id: int | None,
        chat_type: str,
        first_name: str | None,
        reply_to_message_id: int | None,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        user = self._user(user_id, first_name)
        chat = self._incoming_chat(user_id, chat_id, chat_type, first_name)
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            **extra,
        }
        if reply_to_message_id is not None:
            replied = self._messages.get((chat["id"], int(reply_to_message_id)))
            if replied is None:
                raise LookupError(f"no message {reply_to_message_id} in chat {chat['id']}")
            msg["reply_to_message"] = replied
        self._messages[(chat["id"], msg["message_id"])] = msg
        return msg

    def user_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
        first_name: str | None = None,
        bot: Bot | None = None,
    ) -> Update:
        """An Update with a text message from ``user_id`` (a leading /command gets its entity)."""
        bot = self._require_bot(bot)
        extra: dict[str, Any] = {"text": text, **_command_entity(text, "entities")}
        msg = self._incoming_message(
            user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            reply_to_message_id=reply_to_message_id,
            extra=extra,
        )
        return Update.de_json(self._new_update({"message": msg}), bot)

    def user_document(
        self,
        user_id: int,
        filename: str,
        data: bytes,
        caption: str | None = None,
        *,
        mime_type: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        bot: Bot | None = None,
    ) -> Update:
        """An Update with a document from ``user_id``; getFile/download of it work."""
        bot = self._require_bot(bot)
        stored = self._store_file(filename, bytes(data), mime_type, kind="documents")
        extra: dict[str, Any] = {"document": self._document_json(stored)}
        if caption is not None:
            extra["caption"] = caption
            extra.update(_command_entity(caption, "caption_entities"))
        msg = self._incoming_message(
            user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            reply_to_message_id=None,
            extra=extra,
        )
        return Update.de_json(self._new_update({"message": msg}), bot)

    def press_button(
        self,
        user_id: int,
        message: SentMessage | Message | int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        strict: bool = True,
        bot: Bot | None = None,
    ) -> Update:
        """An Update with a callback_query: ``user_id`` pressed a button of a bot message.

        With ``strict`` the message must exist and carry a button with that callback_data.
        """
        bot = self._require_bot(bot)
        if isinstance(message, SentMessage | Message):
            key = (message.chat_id, message.message_id)
        else:
            key = (int(user_id if chat_id is None else chat_id), int(message))
        msg = self._messages.get(key)
        if msg is None:
            raise LookupError(f"no message {key[1]} in chat {key[0]}")
        if strict:
            sent = self._sent_index.get(key)
            datas = [b.callback_data for b in sent.buttons] if sent else []
            if callback_data not in datas:
                raise ValueError(
                    f"message {key[1]} has no button with callback_data {callback_data!r}"
                    f" (has {datas})"
                )
        query_id = str(next(self._query_counter))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._user(user_id),
            "message": msg,
            "chat_instance": f"ci{key[0]}",
            "data": callback_data,
        }
        return Update.de_json(self._new_update({"callback_query": query}), bot)

    def push_update(self, update: Update | dict[str, Any]) -> None:
        """Queue an update for getUpdates (the polling path)."""
        data = update.to_dict() if isinstance(update, Update) else dict(update)
        data.setdefault("update_id", next(self._update_counter))
        with self._lock:
            self._updates.append(data)
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._update_event is None:
            return
        if loop is not None and running is not loop:
            loop.call_soon_threadsafe(self._update_event.set)
        else:
            self._update_event.set()

    # -- helpers for the method implementations ----------------------------------------------

    def _check_failure(self, method: str) -> None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
                raise _APIError(failure.status, failure.description, failure.parameters)

    def _check_blocked(self, method: str, params: dict[str, Any]) -> None:
        if method in _CHAT_METHOD_EXCEPTIONS or not method.startswith(_CHAT_METHOD_PREFIXES):
            return
        chat_id = params.get("chat_id")
        if chat_id is None:
            return
        cid = self._chat_id(chat_id)
        if cid in self.blocked:
            chat = self._chats.get(cid, {"type": "private"})
            if chat.get("type") == "private":
                raise _APIError(403, "Forbidden: bot was blocked by the user")
            raise _APIError(403, "Forbidden: bot was kicked from the group chat")

    def _chat_id(self, value: Any) -> int:
        if isinstance(value, int):
            return value
        text = str(value)
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        for chat in self._chats.values():
            if chat.get("username") and "@" + chat["username"] == text:
                return int(chat["id"])
        raise _bad("chat not found")

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        cid = self._chat_id(chat_id)
        chat = self._chats.get(cid)
        if chat is None:
            chat = self.add_chat(cid, chat_type="private" if cid > 0 else "supergroup")
        return chat

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if scope is None:
            scope = {"type": "default"}
        elif not isinstance(scope, dict):
            scope = scope.to_dict()
        return json.dumps(scope, sort_keys=True)

    def _store_file(
        self, filename: str, data: bytes, mime_type: str | None, *, kind: str
    ) -> _StoredFile:
        n = next(self._file_counter)
        if mime_type is None:
            mime_type = mimetypes.guess_type(filename)[0]
        suffix = ""
        if "." in filename:
            suffix = "." + filename.rsplit(".", 1)[-1]
        stored = _StoredFile(
            file_id=f"FILE{n:06d}-{self.bot_id}",
            file_unique_id=f"U{n:06d}",
            filename=filename,
            data=data,
            mime_type=mime_type,
            file_path=f"{kind}/file_{n}{suffix}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _document_json(stored: _StoredFile) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": stored.filename,
            "file_size": len(stored.data),
        }
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        return doc

    def _serve_file(self, url: str) -> tuple[int, bytes]:
        _, _, rest = url.partition("/file/bot")
        _, _, path = rest.partition("/")
        stored = self._files_by_path.get(unquote(path))
        if stored is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return 404, json.dumps(body).encode()
        return 200, stored.data

    def _parse_text(
        self, text: Any, parse_mode: str | None, *, caption: bool = False
    ) -> tuple[str, list[dict[str, Any]]]:
        text = "" if text is None else str(text)
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                plain, ents = parse_html(text)
            except HTMLParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
            entities = _entities_json(plain, ents)
        else:
            plain, entities = text, []
        limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
        if len(plain) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        if not caption and not plain.strip():
            raise _bad("message text is empty")
        return plain, entities

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not (
                    1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad("BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise _bad("BUTTON_TEXT_INVALID" if "text" in button else "text is empty")
        return markup

    def _reply_to(self, chat_id: int, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            reply = json.loads(reply)
        reply_id = (reply or {}).get("message_id", params.get("reply_to_message_id"))
        if reply_id is None:
            return None
        if (chat_id, int(reply_id)) not in self._messages:
            allow = (reply or {}).get("allow_sending_without_reply") or params.get(
                "allow_sending_without_reply"
            )
            if allow:
                return None
            raise _bad("message to be replied not found")
        return int(reply_id)

    def _record_new(
        self,
        method: str,
        params: dict[str, Any],
        *,
        text_key: str,
        media: tuple[str, SentFile, _StoredFile] | None = None,
    ) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        cid = int(chat["id"])
        parse_mode = params.get("parse_mode")
        is_caption = text_key == "caption"
        source = params.get(text_key)
        if is_caption and source is None:
            plain, entities = "", []
        else:
            plain, entities = self._parse_text(source, parse_mode, caption=is_caption)
        markup = self._check_markup(params.get("reply_markup"))
        reply_id = self._reply_to(cid, params)
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(cid),
            "date": int(time.time()),
            "chat": chat,
            "from": self._bot_user(),
        }
        if is_caption:
            if plain:
                msg["caption"] = plain
                if entities:
                    msg["caption_entities"] = entities
        else:
            msg["text"] = plain
            if entities:
                msg["entities"] = entities
        if markup and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        if reply_id is not None:
            msg["reply_to_message"] = self._messages[(cid, reply_id)]
        sent = SentMessage(
            chat_id=cid,
            message_id=msg["message_id"],
            text=None if source is None else str(source),
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to_message_id=reply_id,
            plain_text=plain,
            method=method,
            date=msg["date"],
        )
        if media is not None:
            kind, sent_file, stored = media
            if kind == "document":
                msg["document"] = self._document_json(stored)
                sent.document = sent_file
            else:
                msg["photo"] = [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "width": 0,
                        "height": 0,
                        "file_size": len(stored.data),
                    }
                ]
                sent.photo = sent_file
        with self._lock:
            self._messages[(cid, sent.message_id)] = msg
            self._sent_index[(cid, sent.message_id)] = sent
            self.sent.append(sent)
            self.events.append(copy.copy(sent))
        return msg

    def _media(
        self, name: str, params: dict[str, Any], uploads: dict[str, SentFile]
    ) -> tuple[str, SentFile, _StoredFile]:
        upload = uploads.get(name)
        value = params.get(name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
        if upload is not None:
            stored = self._store_file(
                upload.filename, upload.data, upload.mime_type, kind=f"{name}s"
            )
            upload.file_id = stored.file_id
            return name, upload, stored
        if isinstance(value, str) and value in self._files:
            stored = self._files[value]
            return name, SentFile(stored.filename, stored.data, stored.mime_type, value), stored
        raise _bad("wrong file identifier/HTTP URL specified")

    def _sent_for_edit(self, params: dict[str, Any]) -> tuple[SentMessage, dict[str, Any]]:
        if "inline_message_id" in params:
            raise _bad("inline messages are not supported by InProcessBotAPI")
        cid = self._chat_id(params.get("chat_id"))
        key = (cid, int(params.get("message_id", 0)))
        msg = self._messages.get(key)
        if msg is None or self._sent_index.get(key) is None:
            if msg is not None:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        sent = self._sent_index[key]
        if sent.deleted:
            raise _bad("message to edit not found")
        return sent, msg

    def _record_edit(self, sent: SentMessage, msg: dict[str, Any]) -> dict[str, Any]:
        msg["edit_date"] = int(time.time())
        sent.edited = True
        with self._lock:
            self.events.append(copy.copy(sent))
        return msg

    # -- Bot API methods ---------------------------------------------------------------------

    def _m_getMe(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._update_event is None:
            self._update_event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        offset = params.get("offset")
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        with self._lock:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= int(offset)]
            pending = bool(self._updates)
        if not pending and timeout > 0:
            self._update_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_event.wait(), timeout)
        with self._lock:
            return [copy.deepcopy(u) for u in self._updates[:limit]]

    def _m_deleteWebhook(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> bool:
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> dict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    def _m_close(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> bool:
        return True

    def _m_logOut(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> bool:
        return True

    def _m_sendMessage(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> dict:
        return self._record_new("sendMessage", params, text_key="text")

    def _m_sendDocument(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> dict:
        media = self._media("document", params, uploads)
        return self._record_new("sendDocument", params, text_key="caption", media=media)

    def _m_sendPhoto(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> dict:
        media = self._media("photo", params, uploads)
        return self._record_new("sendPhoto", params, text_key="caption", media=media)

    def _m_sendChatAction(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> bool:
        self._chat(params.get("chat_id"))
        return True

    def _m_editMessageText(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> dict:
        sent, msg = self._sent_for_edit(params)
        if "text" not in msg:
            raise _bad("there is no text in the message to edit")
        plain, entities = self._parse_text(params.get("text"), params.get("parse_mode"))
        markup = self._check_markup(params.get("reply_markup"))
        if (
            plain == msg.get("text")
            and entities == msg.get("entities", [])
            and markup == msg.get("reply_markup")
        ):
            raise _bad(
                "message is not modified: specified new message content and reply markup are"
                " exactly the same as a current content and reply markup of the message"
            )
        msg["text"] = plain
        msg.pop("entities", None)
        if entities:
            msg["entities"] = entities
        msg.pop("reply_markup", None)
        if markup:
            msg["reply_markup"] = markup
        sent.text = str(params.get("text"))
        sent.parse_mode = params.get("parse_mode")
        sent.plain_text = plain
        sent.reply_markup = markup
        return self._record_edit(sent, msg)

    def _m_editMessageCaption(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> dict:
        sent, msg = self._sent_for_edit(params)
        if "text" in msg:
            raise _bad("there is no caption in the message to edit")
        plain, entities = self._parse_text(
            params.get("caption"), params.get("parse_mode"), caption=True
        )
        markup = self._check_markup(params.get("reply_markup"))
        msg.pop("caption", None)
        msg.pop("caption_entities", None)
        if plain:
            msg["caption"] = plain
        if entities:
            msg["caption_entities"] = entities
        msg.pop("reply_markup", None)
        if markup:
            msg["reply_markup"] = markup
        sent.text = params.get("caption")
        sent.parse_mode = params.get("parse_mode")
        sent.plain_text = plain
        sent.reply_markup = markup
        return self._record_edit(sent, msg)

    def _m_editMessageReplyMarkup(
        self, params: dict[str, Any], uploads: dict[str, SentFile]
    ) -> dict:
        sent, msg = self._sent_for_edit(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == msg.get("reply_markup"):
            raise _bad(
                "message is not modified: specified new message content and reply markup are"
                " exactly the same as a current content and reply markup of the message"
            )
        msg.pop("reply_markup", None)
        if markup:
            msg["reply_markup"] = markup
        sent.reply_markup = markup
        return self._record_edit(sent, msg)

    def _m_deleteMessage(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> bool:
        key = (self._chat_id(params.get("chat_id")), int(params.get("message_id", 0)))
        if key not in self._messages:
            raise _bad("message to delete not found")
        del self._messages[key]
        sent = self._sent_index.get(key)
        if sent is not None:
            sent.deleted = True
        return True

    def _m_answerCallbackQuery(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self._open_queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = dict(params)
        return True

    def _m_getFile(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> dict:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _m_getChat(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> dict:
        cid = self._chat_id(params.get("chat_id"))
        chat = self._chats.get(cid)
        if chat is None:
            raise _bad("chat not found")
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {
            "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
            "premium_subscription": False}}  # fmt: skip

    def _m_setMyCommands(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> bool:
        commands = params.get("commands") or []
        if isinstance(commands, str):
            commands = json.loads(commands)
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        clean = []
        for cmd in commands:
            name = str(cmd.get("command", ""))
            desc = str(cmd.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(desc) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
        self.commands[key] = clean
        return True

    def _m_deleteMyCommands(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> bool:
        key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
        self.commands.pop(key, None)
        return True

    def _m_getMyCommands(self, params: dict[str, Any], uploads: dict[str, SentFile]) -> list:
        key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
        return list(self.commands.get(key, []))
