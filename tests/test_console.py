"""The offline console: piped sessions, buttons by number, files in and out, rendering."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.console.render import html_to_text, message_choices, render_choices, render_message
from bot.console.session import run_console
from bot.console.transport import InProcessBotAPI, SentFile, SentMessage
from tests.e2e_harness import build_demo_app

USER = 7


async def console(script: str, files_dir: Path, *, interactive: bool = False) -> tuple[int, str]:
    api = InProcessBotAPI()
    app = build_demo_app(api)
    out = io.StringIO()
    code = await run_console(
        app,
        api,
        user_id=USER,
        input=io.StringIO(script),
        output=out,
        files_dir=files_dir,
        interactive=interactive,
    )
    return code, out.getvalue()


async def test_piped_session_prints_replies_and_exits_zero(tmp_path: Path) -> None:
    code, out = await console("/start\nhello\n", tmp_path)
    assert code == 0
    assert out == (
        "Welcome, User7 <3 docs <https://kefu.example.com>\n"
        "[1] Orders  [2] Tags\n"
        "[3] Shop <https://shop.example.com>\n"
        "you said: hello\n"
    )
    assert "kefu>" not in out and "\033" not in out


async def test_numbered_button_press_edits_the_message(tmp_path: Path) -> None:
    code, out = await console("/start\n2\n#1\n", tmp_path)
    assert code == 0
    assert out.endswith(
        "[3] Shop <https://shop.example.com>\n"
        "(toast) tags!\n\n(edited)\ntags selected\n"
        "no message with buttons yet\n"
    )
    # after the edit the message has no buttons left: "#1" says so instead of sending text


async def test_bare_number_without_buttons_is_sent_as_text(tmp_path: Path) -> None:
    _, out = await console("42\n", tmp_path)
    assert out == "you said: 42\n"


async def test_out_of_range_and_url_buttons(tmp_path: Path) -> None:
    _, out = await console("/start\n9\n3\n", tmp_path)
    assert "no button 9: choose 1–3" in out
    assert "(link) https://shop.example.com" in out


async def test_file_command_sends_a_document(tmp_path: Path) -> None:
    export = tmp_path / "orders export.csv"
    export.write_bytes(b"order_id,amount\n1,100\n2,250\n")
    _, out = await console(
        f':file "{export}" /import now\n:file {tmp_path}/missing.csv\n', tmp_path
    )
    assert "got orders export.csv: 28 bytes (/import now)" in out
    assert "cannot read" in out and "missing.csv" in out


async def test_document_from_the_bot_is_saved(tmp_path: Path) -> None:
    files = tmp_path / "kefu-console-files"
    _, out = await console("/export\n/export\n/photo\n", files)
    saved = [line.removeprefix("📎 saved: ") for line in out.splitlines() if "📎" in line]
    assert len(saved) == 3
    assert Path(saved[0]) == files / "export.csv"
    assert Path(saved[1]) == files / "export-2.csv"  # unique names
    assert Path(saved[0]).read_bytes() == b"order_id,amount\n1,100\n"
    assert "3 orders" in out and "chart" in out


async def test_console_commands(tmp_path: Path) -> None:
    _, out = await console(":help\n:as 99\n/start\n:as x\n:nope\n::colon\n", tmp_path)
    assert ":file PATH [caption]" in out
    assert "now typing as user 99" in out
    assert "Welcome, User99" in out
    assert "usage: :as USER_ID" in out
    assert "unknown console command :nope" in out
    assert "you said: :colon" in out


async def test_handler_error_is_one_line_and_the_session_goes_on(tmp_path: Path) -> None:
    code, out = await console("/boom\nstill here\n", tmp_path)
    assert code == 0
    assert out == "⚠ error: RuntimeError: kaboom second line\nyou said: still here\n"


async def test_quit_stops_reading(tmp_path: Path) -> None:
    code, out = await console("hello\n:quit\nnot sent\n", tmp_path)
    assert code == 0
    assert out == "you said: hello\n"


async def test_interactive_session_prompts(tmp_path: Path) -> None:
    code, out = await console("hello\n", tmp_path, interactive=True)
    assert code == 0
    assert out.startswith("kefu console (offline) — you are user 7.")
    assert "kefu> you said: hello" in out


async def test_console_refuses_an_app_built_on_another_transport(tmp_path: Path) -> None:
    app = build_demo_app(InProcessBotAPI())
    with pytest.raises(ValueError, match="not built with this InProcessBotAPI"):
        await run_console(
            app,
            InProcessBotAPI(),
            user_id=1,
            input=io.StringIO(""),
            output=io.StringIO(),
            files_dir=tmp_path,
            interactive=False,
        )


def test_html_to_text() -> None:
    html = '<b>Li</b> &lt;VIP&gt; <a href="https://x.cn">shop</a> <code>a&amp;b</code>'
    assert html_to_text(html) == "Li <VIP> shop <https://x.cn> a&b"
    assert html_to_text(html, ansi=True).startswith("\033[1mLi\033[22m <VIP>")
    assert html_to_text('<a href="https://x.cn">https://x.cn</a>') == "https://x.cn"
    assert html_to_text("<blockquote>a\nb</blockquote>") == "│ a\n│ b"
    assert html_to_text("<b>x</b>", parse_mode=None) == "<b>x</b>"


def test_render_message_with_buttons_and_files(tmp_path: Path) -> None:
    markup = {
        "inline_keyboard": [
            [{"text": "Orders", "callback_data": "o"}, {"text": "Tags", "callback_data": "t"}],
            [{"text": "Note", "callback_data": "n"}],
        ]
    }
    msg = SentMessage(
        chat_id=1,
        message_id=5,
        text="<b>Card</b>",
        parse_mode="HTML",
        reply_markup=markup,
        edited=True,
    )
    assert render_message(msg, files_dir=None) == "(edited)\nCard\n[1] Orders  [2] Tags\n[3] Note"
    assert [c.value for c in message_choices(msg)] == ["o", "t", "n"]
    doc = SentMessage(chat_id=1, message_id=6, document=SentFile("../../evil.csv", b"x"))
    rendered = render_message(doc, files_dir=tmp_path)
    assert rendered == f"📎 saved: {tmp_path / 'evil.csv'}"
    assert (tmp_path / "evil.csv").read_bytes() == b"x"
    keyboard = {"keyboard": [[{"text": "Yes"}, {"text": "No"}]]}
    assert render_choices(message_choices(keyboard)) == "[1] Yes  [2] No"
