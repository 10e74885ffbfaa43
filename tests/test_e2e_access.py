"""Who may use kefu: admins, agents they add, and polite refusal for everyone else."""

from telegram import BotCommandScopeChat, BotCommandScopeDefault

from bot.domain.roles import Role
from handlers.commands_menu import register_all_commands
from tests.conftest import ADMIN, AGENT, STRANGER


async def test_stranger_gets_one_polite_line_and_nothing_else(kefu_bot_en):
    for text in ("/agents", "/import", "/agent add 5", "hello, who bought what?"):
        replies = await kefu_bot_en.send(STRANGER, text)
        assert len(replies) == 1
        assert "for the shop's customer-service staff only" in replies[0].plain_text
    assert str(ADMIN) not in replies[0].plain_text


async def test_stranger_in_a_group_is_ignored_unless_using_a_command(kefu_bot_en):
    assert await kefu_bot_en.send(STRANGER, "just chatting", chat_id=-100, chat_type="group") == []


async def test_help_lists_the_commands_each_role_may_use(kefu_bot_en):
    [stranger] = await kefu_bot_en.send(STRANGER, "/help")
    [admin] = await kefu_bot_en.send(ADMIN, "/help")
    assert "/help" in stranger.plain_text and "/agents" not in stranger.plain_text
    assert "/agents" in admin.plain_text and "/import" in admin.plain_text
    assert "(admin)" in admin.plain_text


async def test_admin_adds_and_removes_an_agent(kefu_bot_en):
    [before] = await kefu_bot_en.send(AGENT, "/start")
    assert "/agents" not in before.plain_text and "Hello" in before.plain_text

    [added] = await kefu_bot_en.send(ADMIN, f"/agent add {AGENT}")
    assert f"Agent {AGENT} added" in added.plain_text
    # the new agent's command menu is registered for their chat
    menu = [name for name, _ in kefu_bot_en.api.get_commands(BotCommandScopeChat(AGENT))]
    assert "help" in menu and "agents" not in menu

    [agent_help] = await kefu_bot_en.send(AGENT, "/help")
    assert "(agent)" in agent_help.plain_text
    [denied] = await kefu_bot_en.send(AGENT, f"/agent add {STRANGER}")
    assert "Only admins" in denied.plain_text

    [listing] = await kefu_bot_en.send(ADMIN, "/agents")
    assert str(AGENT) in listing.plain_text and str(ADMIN) in listing.plain_text

    [removed] = await kefu_bot_en.send(ADMIN, f"/agent remove {AGENT}")
    assert "removed" in removed.plain_text
    [after] = await kefu_bot_en.send(AGENT, "/agents")
    assert "staff only" in after.plain_text


async def test_wrong_arguments_answer_the_usage(kefu_bot_en):
    for text in ("/agent", "/agent add", "/agent fire 5", "/agent add bob"):
        [reply] = await kefu_bot_en.send(ADMIN, text)
        assert reply.plain_text == "Usage: /agent add|remove <user id>"


async def test_unknown_command_points_to_help(kefu_bot_en):
    [reply] = await kefu_bot_en.send(ADMIN, "/frobnicate now")
    assert "/frobnicate" in reply.plain_text and "/help" in reply.plain_text


async def test_chinese_is_the_default_locale(kefu_bot):
    [reply] = await kefu_bot.send(STRANGER, "/whois x")
    assert "只供本店客服使用" in reply.plain_text


async def test_command_menus_are_registered_per_role_and_failure_is_not_fatal(kefu_bot_en):
    await register_all_commands(kefu_bot_en.app)
    default = [name for name, _ in kefu_bot_en.api.get_commands(BotCommandScopeDefault())]
    admin = [name for name, _ in kefu_bot_en.api.get_commands(BotCommandScopeChat(ADMIN))]
    assert default == ["start", "help"]
    assert "import" in admin and "agents" in admin
    kefu_bot_en.api.fail_next("setMyCommands", status=500)
    await register_all_commands(kefu_bot_en.app)  # logged, not raised
    assert Role.ADMIN > Role.AGENT
