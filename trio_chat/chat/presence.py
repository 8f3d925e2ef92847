"""Presence in the chat: away texts, and server operators by password.

Both are kept on the member and go with it: a member that leaves is neither
away nor an operator any more.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.chat.effects import Deliver, Effect
from trio_chat.chat.rooms import Member
from trio_chat.protocol import presence
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.chat.chat import Chat


def set_away(member: Member, text: str, now: datetime) -> list[Effect]:
    member.away = text.strip()[: presence.AWAY_MAX]
    return [Deliver(presence.AwayStatus(now, member.away), (member,))]


def told(sender: Member, other: Member, now: datetime) -> list[Effect]:
    """What the sender of a private message to ``other`` is told of it."""
    if not other.away or other is sender:
        return []
    return [Deliver(presence.Away(now, other.nick, other.away), (sender,))]


def operate(chat: Chat, member: Member, name: str, now: datetime) -> list[Effect]:
    """``member`` proved the password of ``name`` (its server checked it)."""
    if not member.present or fold(name) not in chat.operators:
        return []
    member.oper = True
    return [Deliver(presence.OperatorStatus(now, name), (member,))]
