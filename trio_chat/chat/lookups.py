"""The chat's answers to lookups (WHOIS, ISON, LUSERS): read-only, from its state."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.chat.effects import Deliver, Effect
from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.chat.chat import Chat
    from trio_chat.chat.rooms import Member

MAX_ASKED = 32  # nicknames answered of one ISON or USERHOST


def answer(
    chat: Chat,
    member: Member,
    request: lookups.Whois | lookups.Ison | lookups.CountUsers,
    now: datetime,
) -> list[Effect]:
    match request:
        case lookups.Whois(nick):
            other = chat.members.get(fold(nick))
            if other is None or not other.present:
                error = ev.Error(now, Code.NO_SUCH_NICK, f'no one is called "{nick}"', nick)
                return [Deliver(error, (member,))]
            rooms = tuple(room.name for room in other.rooms.values())
            reply: ev.Event = lookups.WhoisReply(now, other.nick, other.account, rooms)
        case lookups.Ison(nicks):
            found = (chat.members.get(fold(n)) for n in nicks[:MAX_ASKED])
            online = tuple(dict.fromkeys(m.nick for m in found if m is not None and m.present))
            reply = lookups.Online(now, online)
        case lookups.CountUsers():
            reply = lookups.UserCount(now, len(chat.members), len(chat.rooms))
    return [Deliver(reply, (member,))]
