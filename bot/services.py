"""What every handler needs, kept in ``application.bot_data['kefu']``."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.config import Settings
from bot.domain.roles import Role, resolve_role
from bot.rendering import Renderer
from bot.storage import staff


@dataclass
class Kefu:
    settings: Settings
    db: aiosqlite.Connection
    renderer: Renderer

    async def role_of(self, user_id: int | None) -> Role:
        if user_id is None:
            return Role.NONE
        if user_id in self.settings.admins:
            return Role.ADMIN
        return resolve_role(user_id, self.settings.admins, await staff.get_role(self.db, user_id))

    def render(self, name: str, **context: object) -> str:
        return self.renderer.render(name, **context)

    def command_descriptions(self) -> dict[str, str]:
        """name -> one-line description, from templates/<locale>/commands.html."""
        result = {}
        for line in self.render("commands").splitlines():
            name, _, text = line.partition(":")
            if text.strip():
                result[name.strip()] = text.strip()
        return result
