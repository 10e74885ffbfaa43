"""Settings: secrets and paths from the environment, everything else from a TOML file.

Every setting has a default, so ``kefu demo`` works on a fresh machine with no
configuration at all.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALES = ("zh", "en")
DEFAULT_SUGGESTED_TAGS = ("爱晒图", "好沟通", "价格敏感", "易投诉")


class ConfigError(ValueError):
    """A setting is wrong; the message says which one and what to write instead."""


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    api_base_url: str | None = None
    api_base_file_url: str | None = None
    db_path: Path = Path("kefu.db")
    admins: frozenset[int] = frozenset()
    tz_name: str = "Asia/Shanghai"
    locale: str = "zh"
    config_path: Path | None = None
    templates_dir: Path | None = None
    suggested_tags: tuple[str, ...] = DEFAULT_SUGGESTED_TAGS
    #: The parsed TOML file, for the sections other modules own ([segments], [care] ...).
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"[{name}] in {self.config_path} must be a table")
        return value


def _parse_admins(text: str) -> frozenset[int]:
    ids = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(
                f"KEFU_ADMINS: {part!r} is not a Telegram user id; "
                "write numeric ids separated by commas, e.g. KEFU_ADMINS=12345,67890"
            )
        ids.add(int(part))
    return frozenset(ids)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default ``os.environ``) and the TOML file it names."""
    env = os.environ if env is None else env
    config_path = Path(env["KEFU_CONFIG"]) if env.get("KEFU_CONFIG") else None
    raw: dict[str, Any] = {}
    if config_path is not None:
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"KEFU_CONFIG: no file at {config_path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"KEFU_CONFIG: {config_path} is not valid TOML: {exc}") from None

    tz_name = env.get("KEFU_TZ") or str(raw.get("timezone", "Asia/Shanghai"))
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"KEFU_TZ: unknown time zone {tz_name!r}; use an IANA name such as Asia/Shanghai"
        ) from None

    locale = (env.get("KEFU_LOCALE") or str(raw.get("locale", "zh"))).lower()
    if locale not in LOCALES:
        raise ConfigError(f"KEFU_LOCALE: {locale!r} is not supported; use zh or en")

    templates_dir = raw.get("templates_dir")
    if templates_dir is not None:
        templates_dir = Path(templates_dir)
        if config_path is not None and not templates_dir.is_absolute():
            templates_dir = config_path.parent / templates_dir

    tags = raw.get("suggested_tags", list(DEFAULT_SUGGESTED_TAGS))
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ConfigError("suggested_tags in the config file must be a list of strings")

    return Settings(
        token=env.get("TELEGRAM_BOT_TOKEN") or None,
        api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
        api_base_file_url=env.get("TELEGRAM_API_BASE_FILE_URL") or None,
        db_path=Path(env.get("KEFU_DB") or "kefu.db"),
        admins=_parse_admins(env.get("KEFU_ADMINS", "")),
        tz_name=tz_name,
        locale=locale,
        config_path=config_path,
        templates_dir=templates_dir,
        suggested_tags=tuple(tags),
        raw=raw,
    )
