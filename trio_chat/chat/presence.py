"""Presence in the chat: away texts, and server operators by password.

Both are kept on the member and go with it: a member that leaves is neither
away nor an operator any more.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.chat.effects import Deliver, Effect
from trio_chat.chat.rooms import Member, Room
from trio_chat.protocol import presence
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.chat.chat import Chat


def set_away(member: Member, text: str, now: datetime) -> list[Effect]:
    before, member.away = member.away, text.strip()[: presence.AWAY_MAX]
    effects: list[Effect] = [Deliver(presence.AwayStatus(now, member.away), (member,))]
    if member.away != before:
        # Each once, however many rooms it shares with the member. Recipients
        # are this server's own: in broker mode every server applies the
        # request and tells its own members.
        others = {m: None for room in member.rooms.values() for m in room.recipients}
        others.pop(member, None)
        if others:
            effects.append(Deliver(presence.AwayChanged(now, member.nick, member.away), (*others,)))
    return effects


def joined_away(member: Member, room: Room, now: datetime) -> list[Effect]:
    """Those already in ``room`` learn that ``member``, joining it, is away."""
    others = tuple(m for m in room.recipients if m is not member)
    if not member.away or not others:
        return []
    return [Deliver(presence.AwayChanged(now, member.nick, member.away), others)]


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
