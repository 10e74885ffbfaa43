"""The offline console: talk to the real Application through the in-process Bot API.

Every line typed (or piped) becomes an Update that the Application processes exactly as
in production; whatever the bot sends back is rendered for the terminal.

    /whois buyer123        any text or /command is sent as the current user's message
    2   or  #2             press button 2 of the last message that had buttons
    :file orders.csv       send a local file as a document (e.g. an order export)
    :as 42                 type as user 42 from now on
    :help / :quit          console help / leave (EOF leaves too)
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import io
import re
import shlex
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CallbackContext

from bot.console.render import (
    DEFAULT_FILES_DIR,
    message_choices,
    render_message,
    use_ansi,
)
from bot.console.transport import InProcessBotAPI, SentMessage

__all__ = ["CONSOLE_HELP", "capture_errors", "run_console", "settle"]

CONSOLE_HELP = """\
Console commands:
  /command args          send a command as the current user (other text is sent as is)
  N  or  #N              press button N of the last message that had buttons
  :file PATH [caption]   send a local file as a document (e.g. an order export)
  :as USER_ID            type as another user from now on
  :help                  this list
  :quit                  leave (Ctrl-D / end of input also leaves)"""

_PRESS = re.compile(r"#?(\d{1,3})")


async def settle(app: Application, *, timeout: float = 10.0) -> None:
    """Let the update's work finish, including handlers registered with ``block=False``.

    PTB keeps the tasks it starts for non-blocking handlers in a private set (awaited only
    at ``stop()``); we wait for them here so that a reply sent from such a handler belongs
    to the input that caused it.
    """
    for _ in range(3):
        await asyncio.sleep(0)
    tasks: set[asyncio.Task[Any]] | None = getattr(app, "_Application__create_task_tasks", None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    current = asyncio.current_task()
    while tasks:
        pending = [t for t in tasks if not t.done() and t is not current]
        remaining = deadline - loop.time()
        if not pending or remaining <= 0:
            break
        await asyncio.wait(pending, timeout=remaining)


@contextlib.contextmanager
def capture_errors(app: Application, sink: Callable[[BaseException], None]) -> Any:
    """Route every error the Application reports to ``sink`` (while the block runs).

    Our handler is put first so that an app error handler raising ApplicationHandlerStop
    cannot hide the error from us; the app's own handlers still run after it.
    """

    async def _on_error(update: object, context: CallbackContext) -> None:
        if context.error is not None and not isinstance(context.error, ApplicationHandlerStop):
            sink(context.error)

    previous = dict(app.error_handlers)
    app.error_handlers.clear()
    app.error_handlers[_on_error] = True
    app.error_handlers.update(previous)
    try:
        yield
    finally:
        app.error_handlers.pop(_on_error, None)


def _error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"⚠ error: {type(exc).__name__}" + (f": {text}" if text else "")


class _Console:
    def __init__(
        self,
        app: Application,
        api: InProcessBotAPI,
        *,
        user_id: int,
        output: TextIO,
        files_dir: Path,
        interactive: bool,
        ansi: bool,
    ) -> None:
        self.app = app
        self.api = api
        self.user_id = user_id
        self.out = output
        self.files_dir = files_dir
        self.interactive = interactive
        self.ansi = ansi
        self.errors: list[BaseException] = []
        self.last_buttons: dict[int, tuple[int, int]] = {}  # chat -> (chat_id, message_id)
        self.shown_events = api.mark()
        self.shown_answers = len(api.callback_answers)

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def handle(self, line: str) -> bool:
        """Process one input line; False means leave."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("::"):
            await self.deliver(lambda: self.api.user_message(self.user_id, line[1:]))
            return True
        if line.startswith(":"):
            cmd, _, rest = line[1:].partition(" ")
            cmd = cmd.lower()
            if cmd in ("quit", "q", "exit"):
                return False
            if cmd in ("help", "h", "?"):
                self.say(CONSOLE_HELP)
            elif cmd == "as":
                try:
                    self.user_id = int(rest.strip())
                except ValueError:
                    self.say("usage: :as USER_ID   (a number, e.g. :as 42)")
                else:
                    self.say(f"now typing as user {self.user_id}")
            elif cmd == "file":
                await self.send_file(rest)
            else:
                self.say(f"unknown console command :{cmd} — :help lists them")
            return True
        match = _PRESS.fullmatch(line)
        target = self.current_buttons()
        if match and (target is not None or line.startswith("#")):
            await self.press(int(match.group(1)), target)
            return True
        await self.deliver(lambda: self.api.user_message(self.user_id, line))
        return True

    def current_buttons(self) -> SentMessage | None:
        key = self.last_buttons.get(self.user_id)
        if key is None:
            return None
        msg = self.api.message(*key)
        if msg is None or msg.deleted or not message_choices(msg):
            return None
        return msg

    async def press(self, number: int, msg: SentMessage | None) -> None:
        if msg is None:
            self.say("no message with buttons yet")
            return
        choices = message_choices(msg)
        if not 1 <= number <= len(choices):
            self.say(f"no button {number}: choose 1–{len(choices)}")
            return
        choice = choices[number - 1]
        if choice.kind == "callback":
            await self.deliver(
                lambda: self.api.press_button(self.user_id, msg, str(choice.value), strict=False)
            )
        elif choice.kind == "text":
            await self.deliver(lambda: self.api.user_message(self.user_id, str(choice.value)))
        elif choice.kind == "url":
            self.say(f"(link) {choice.value}")
        else:
            self.say(f"button {number} ({choice.label}) does nothing in the console")

    async def send_file(self, rest: str) -> None:
        try:
            parts = shlex.split(rest)
        except ValueError:
            parts = rest.split()
        if not parts:
            self.say("usage: :file PATH [caption]")
            return
        path = Path(parts[0]).expanduser()
        caption = " ".join(parts[1:]) or None
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.say(f"cannot read {path}: {exc.strerror or exc}")
            return
        await self.deliver(lambda: self.api.user_document(self.user_id, path.name, data, caption))

    async def deliver(self, make_update: Callable[[], Update]) -> None:
        try:
            update = make_update()
            await self.app.process_update(update)
            await settle(self.app)
        except Exception as exc:  # the console must survive anything a handler does
            self.errors.append(exc)
        self.show()

    def show(self) -> None:
        """Print everything not shown yet: also what jobs sent since the last input."""
        events = self.api.events_since(self.shown_events)
        self.shown_events += len(events)
        answers = list(self.api.callback_answers.values())[self.shown_answers :]
        self.shown_answers += len(answers)
        blocks: list[str] = []
        for answer in answers:
            if answer.get("text"):
                kind = "alert" if answer.get("show_alert") else "toast"
                blocks.append(f"({kind}) {answer['text']}")
        for event in events:
            header = None if event.chat_id == self.user_id else f"→ chat {event.chat_id}"
            blocks.append(
                render_message(event, ansi=self.ansi, files_dir=self.files_dir, header=header)
            )
            if message_choices(event):
                self.last_buttons[event.chat_id] = (event.chat_id, event.message_id)
        for exc in self.errors:
            blocks.append(_error_line(exc))
        self.errors.clear()
        if blocks:
            self.say("\n\n".join(blocks) + ("\n" if self.interactive else ""))


def _readline_history() -> Callable[[], None]:
    """Enable readline editing and a persistent history; returns a save callback."""
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows
        return lambda: None
    history = Path.home() / ".kefu_console_history"
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(history)

    return save


def _line_reader(
    input: TextIO, output: TextIO, interactive: bool
) -> Callable[[], Awaitable[str | None]]:
    """An async ``read one line`` that never blocks the event loop on a real stream."""
    prompt = "kefu> "
    use_builtin_input = interactive and input is sys.stdin and output is sys.stdout

    async def read() -> str | None:
        if use_builtin_input:
            try:
                return await asyncio.to_thread(builtins.input, prompt)
            except EOFError:
                return None
        if interactive:
            output.write(prompt)
            output.flush()
        if isinstance(input, io.StringIO):
            line = input.readline()
        else:
            line = await asyncio.to_thread(input.readline)
        return line if line else None

    return read


async def run_console(
    app: Application,
    api: InProcessBotAPI,
    *,
    user_id: int,
    input: TextIO | None = None,
    output: TextIO | None = None,
    files_dir: Path = DEFAULT_FILES_DIR,
    interactive: bool | None = None,
) -> int:
    """Run the Application offline, reading user input line by line; returns an exit code.

    ``app`` must have been built with ``api`` as its request object. Piped input (not a
    TTY) prints only the bot's replies: no prompt, no banner, no ANSI. Returns 0 at
    ``:quit`` or end of input, 1 if the application cannot start.
    """
    input = sys.stdin if input is None else input
    output = sys.stdout if output is None else output
    if interactive is None:
        interactive = bool(getattr(input, "isatty", lambda: False)())
    if app.bot.request is not api:
        raise ValueError(
            "the Application was not built with this InProcessBotAPI: use "
            "ApplicationBuilder().token(api.token).request(api).get_updates_request(api)"
        )
    api.bind(app.bot)
    console = _Console(
        app,
        api,
        user_id=user_id,
        output=output,
        files_dir=Path(files_dir),
        interactive=interactive,
        ansi=interactive and use_ansi(output),
    )
    read = _line_reader(input, output, interactive)
    save_history = _readline_history() if interactive and input is sys.stdin else None

    with capture_errors(app, console.errors.append):
        try:
            await app.initialize()
            await app.start()
        except Exception as exc:
            console.say(_error_line(exc))
            with contextlib.suppress(Exception):
                await app.shutdown()
            return 1
        try:
            if interactive:
                console.say(
                    f"kefu console (offline) — you are user {user_id}. "
                    ":help for console commands, /help for the bot's."
                )
            while True:
                line = await read()
                if line is None:
                    if interactive:
                        console.say("")
                    break
                if not await console.handle(line):
                    break
                console.show()  # what scheduled jobs sent meanwhile
        finally:
            if save_history is not None:
                save_history()
            if app.running:
                await app.stop()
            await app.shutdown()
    return 0
