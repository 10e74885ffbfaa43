"""Who may do what: roles and the command catalogue per role."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    NONE = 0
    AGENT = 1
    ADMIN = 2

    @property
    def code(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Command:
    name: str
    min_role: Role


#: Every command kefu answers, in the order /help lists them. Descriptions live in
#: the templates (templates/<locale>/commands.html), keyed by name.
COMMANDS: tuple[Command, ...] = (
    Command("start", Role.NONE),
    Command("help", Role.NONE),
    Command("whois", Role.AGENT),
    Command("find", Role.AGENT),
    Command("agents", Role.ADMIN),
    Command("agent", Role.ADMIN),
    Command("import", Role.ADMIN),
    Command("tag", Role.AGENT),
    Command("untag", Role.AGENT),
    Command("tags", Role.AGENT),
    Command("note", Role.AGENT),
    Command("audience", Role.AGENT),
    Command("audit", Role.ADMIN),
    Command("segments", Role.ADMIN),
    Command("segment", Role.ADMIN),
    Command("rfm", Role.AGENT),
    Command("report", Role.ADMIN),
)


def resolve_role(user_id: int, admins: frozenset[int], stored_role: str | None) -> Role:
    """Admins named in the configuration are admins whatever the staff table says."""
    if user_id in admins:
        return Role.ADMIN
    if stored_role == "admin":
        return Role.ADMIN
    if stored_role == "agent":
        return Role.AGENT
    return Role.NONE


def commands_for(role: Role) -> list[Command]:
    return [c for c in COMMANDS if c.min_role <= role]
