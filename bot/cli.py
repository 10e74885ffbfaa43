"""The ``kefu`` command: demo, console, run, import, generate."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import date
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings

DEMO_ADMIN = 1
DEMO_AGENT = 2
DEMO_DB = Path("kefu-demo.db")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kefu", description="Telegram assistant for an online shop's customer service."
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="create (or reuse) a demo shop and open the console")
    demo.add_argument("--db", type=Path, default=DEMO_DB, help=f"default {DEMO_DB}")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--customers", type=int, default=2000)
    demo.add_argument("--orders", type=int, default=8000)
    demo.add_argument("--fresh", action="store_true", help="rebuild the demo database")
    demo.add_argument(
        "--as", dest="as_user", type=int, default=DEMO_ADMIN,
        help=f"who is typing: {DEMO_ADMIN} admin (default), {DEMO_AGENT} agent, other: stranger",
    )  # fmt: skip

    console = sub.add_parser("console", help="talk to kefu offline on the configured database")
    console.add_argument("--as", dest="as_user", type=int, help="Telegram user id typing")

    sub.add_parser("run", help="run the bot in Telegram (long polling)")

    imp = sub.add_parser("import", help="import order exports (CSV, XLSX)")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--preset", help="taobao, jd, shopify or generic (default: detect)")
    imp.add_argument("--mapping", type=Path, help="TOML mapping file for any other export")
    imp.add_argument("--skip-bad", action="store_true", help="skip bad rows instead of failing")

    gen = sub.add_parser("generate", help="write a synthetic order export")
    gen.add_argument("--customers", type=int, required=True)
    gen.add_argument("--orders", type=int, required=True)
    gen.add_argument("--preset", default="taobao")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--start", type=date.fromisoformat, default=None, help="first order date")
    gen.add_argument("--end", type=date.fromisoformat, default=None, help="last order date")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 2
    command = args.command
    try:
        if command == "generate":
            return _generate(args)
        if command == "import":
            return asyncio.run(_import(settings, args))
        if command == "run":
            if not settings.token:
                print(
                    "kefu: set TELEGRAM_BOT_TOKEN to the token @BotFather gave you "
                    "(or try `kefu demo` offline)",
                    file=sys.stderr,
                )
                return 2
            return asyncio.run(_run(settings))
        if command == "console":
            user = args.as_user or (min(settings.admins) if settings.admins else DEMO_ADMIN)
            return asyncio.run(_console(settings, user))
        if command == "demo":
            return asyncio.run(_demo(settings, args))
    except KeyboardInterrupt:
        return 130
    raise AssertionError(command)


def _default_span() -> tuple[date, date]:
    today = date.today()
    return date(today.year - 2, 1, 1), today


def _generate(args: argparse.Namespace) -> int:
    from bot.synth.generate import generate

    start, end = _default_span()
    generate(
        args.out,
        customers=args.customers,
        orders=args.orders,
        preset=args.preset,
        seed=args.seed,
        start=args.start or start,
        end=args.end or end,
    )
    print(f"wrote {args.orders} {args.preset} orders of {args.customers} customers to {args.out}")
    return 0


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.importers.pipeline import ImportFailed, import_file, progress_bar
    from bot.storage.db import checkpoints_done, open_db

    db = await open_db(settings.db_path)
    try:
        for path in args.files:
            try:
                summary = await import_file(
                    db,
                    path,
                    preset=args.preset,
                    mapping=args.mapping,
                    skip_bad=args.skip_bad,
                    tz=settings.tz,
                    progress=progress_bar(sys.stderr),
                )
            except ImportFailed as exc:
                print(f"kefu: nothing imported from {path}: {exc}", file=sys.stderr)
                return 1
            print(summary)  # one line, then the skipped rows' reasons
    finally:
        await checkpoints_done()
        await db.close()
    return 0


async def _run(settings: Settings) -> int:
    from bot.app import build_application
    from bot.storage.db import open_db
    from handlers.commands_menu import register_all_commands
    from scheduler import segments as segment_jobs

    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    db = await open_db(settings.db_path)
    app = build_application(settings, db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with app:
            await register_all_commands(app)
            await app.updater.start_polling(drop_pending_updates=False)
            await app.start()
            segment_jobs.catch_up(app)  # today's cells even if the bot missed the night's job
            logging.info("kefu is running; press Ctrl+C to stop")
            await stop.wait()
            await app.updater.stop()
            await app.stop()
    finally:
        await db.close()
    return 0


async def _console(settings: Settings, user_id: int) -> int:
    from bot.app import build_application
    from bot.console.session import run_console
    from bot.console.transport import InProcessBotAPI
    from bot.storage.db import open_db
    from handlers.commands_menu import register_all_commands

    db = await open_db(settings.db_path)
    api = InProcessBotAPI()
    app = build_application(settings, db, request=api)
    try:
        await app.initialize()
        await register_all_commands(app)
        await app.shutdown()
        return await run_console(
            app,
            api,
            user_id=user_id,
            input=sys.stdin,
            output=sys.stdout,
            files_dir=Path("kefu-console-files"),
            interactive=sys.stdin.isatty(),
        )
    finally:
        await db.close()


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses
    import tempfile

    from bot.importers.pipeline import import_file
    from bot.storage import staff
    from bot.storage.customers import archive_counts
    from bot.storage.db import open_db
    from bot.synth.generate import generate

    path: Path = args.db
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = await open_db(path)
    try:
        customers, orders = await archive_counts(db)
        if orders == 0:
            print(
                f"kefu demo: making a demo shop in {path} (seed {args.seed}) ...", file=sys.stderr
            )
            start, end = _default_span()
            with tempfile.TemporaryDirectory(prefix="kefu-demo-") as tmp:
                export = Path(tmp) / "taobao-orders.csv"
                generate(
                    export,
                    customers=args.customers,
                    orders=args.orders,
                    preset="taobao",
                    seed=args.seed,
                    start=start,
                    end=end,
                )
                summary = await import_file(db, export, preset="taobao", tz=settings.tz)
            await staff.add_agent(db, DEMO_AGENT, added_by=DEMO_ADMIN)
            print(summary, file=sys.stderr)
    finally:
        await db.close()
    demo_settings = dataclasses.replace(
        settings, db_path=path, admins=settings.admins | {DEMO_ADMIN}
    )
    return await _console(demo_settings, args.as_user)


if __name__ == "__main__":
    sys.exit(main())
