from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_defaults_need_no_configuration():
    s = load_settings({})
    assert s.db_path == Path("kefu.db")
    assert s.tz_name == "Asia/Shanghai"
    assert s.locale == "zh"
    assert s.admins == frozenset()
    assert s.token is None


def test_environment_overrides(tmp_path):
    cfg = tmp_path / "kefu.toml"
    cfg.write_text('suggested_tags = ["lace", "vip"]\ntemplates_dir = "tpl"\n', encoding="utf-8")
    s = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": "1:abc",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "KEFU_DB": str(tmp_path / "x.db"),
            "KEFU_ADMINS": "12345, 678",
            "KEFU_TZ": "Europe/Berlin",
            "KEFU_LOCALE": "EN",
            "KEFU_CONFIG": str(cfg),
        }
    )
    assert s.token == "1:abc"
    assert s.api_base_url == "http://127.0.0.1:8081/bot"
    assert s.admins == {12345, 678}
    assert s.locale == "en"
    assert s.suggested_tags == ("lace", "vip")
    assert s.templates_dir == tmp_path / "tpl"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"KEFU_ADMINS": "alice"}, "numeric ids"),
        ({"KEFU_TZ": "Mars/Base"}, "IANA"),
        ({"KEFU_LOCALE": "fr"}, "zh or en"),
        ({"KEFU_CONFIG": "/nonexistent/kefu.toml"}, "no file"),
    ],
)
def test_bad_settings_say_what_to_write(env, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_settings(env)


def test_bad_toml_is_reported(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"KEFU_CONFIG": str(cfg)})
