"""History requests: a page of a room's past, or of private messages, read
by the pump at this point of the order."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.chat.effects import Deliver, Effect, FetchHistory, FetchPrivate
from trio_chat.chat.rooms import Member
from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code

if TYPE_CHECKING:
    from trio_chat.chat.chat import Chat


def fetch(chat: Chat, member: Member, request: ev.GetHistory, now: datetime) -> list[Effect]:
    """What a history request asks the pump to read, or why it cannot."""
    wanted = chat.history_replay if request.limit is None else request.limit
    count = min(chat.history_page, wanted)
    if request.nick is not None:
        if member.account is None:
            message = "private history is kept for registered nicknames only"
            return [Deliver(ev.Error(now, Code.ACCOUNT_REQUIRED, message), (member,))]
        return [FetchPrivate(member.account, request.nick, member, count)]
    target = chat.member_room(member, request.room, now)
    if isinstance(target, ev.Error):
        return [Deliver(target, (member,))]
    # Bounded by now: what comes after reaches the asker live.
    below = target.seq + 1
    if request.before is not None:
        below = min(below, request.before)
    return [FetchHistory(target.name, member, count, below, request.after)]
