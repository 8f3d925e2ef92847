"""The chat's answers to lookups (WHO, WHOIS, ISON, LUSERS): read-only, from its state."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.chat.effects import Deliver, Effect
from trio_chat.chat.masks import glob
from trio_chat.chat.moderation import server_operator
from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.chat.chat import Chat
    from trio_chat.chat.rooms import Member, Room

MAX_ASKED = 32  # nicknames answered of one ISON or USERHOST
MAX_FOUND = 500  # members in the answer to a mask, so that it fits any outbox


def answer(
    chat: Chat,
    member: Member,
    request: lookups.Whois | lookups.Find | lookups.Ison | lookups.CountUsers | lookups.Hide,
    now: datetime,
) -> list[Effect]:
    match request:
        case lookups.Hide(hidden):
            member.hidden = hidden
            return []
        case lookups.Whois(nick):
            other = chat.members.get(fold(nick))
            if other is None or not other.present:
                error = ev.Error(now, Code.NO_SUCH_NICK, f'no one is called "{nick}"', nick)
                return [Deliver(error, (member,))]
            rooms = tuple(room.name for room in other.rooms.values())
            marks = tuple(mark(room, other) for room in other.rooms.values())
            reply: ev.Event = lookups.WhoisReply(
                now,
                other.nick,
                other.account,
                rooms,
                *_about(other),
                away=other.away,
                operator=server_operator(chat, other),
                marks=marks,
            )
        case lookups.Find(mask):
            reply = _found(chat, member, mask, now)
        case lookups.Ison(nicks):
            found = (chat.members.get(fold(n)) for n in nicks[:MAX_ASKED])
            online = tuple(dict.fromkeys(m.nick for m in found if m is not None and m.present))
            reply = lookups.Online(now, online)
        case lookups.CountUsers():
            reply = lookups.UserCount(now, len(chat.members), len(chat.rooms))
    return [Deliver(reply, (member,))]


def _about(member: Member) -> tuple[str, str]:
    return member.user or member.nick, member.realname or member.nick


def mark(room: Room, member: Member) -> str:
    """``member``'s mark in ``room``, as IRC's names show it."""
    return "@" if member in room.ops else "+" if member in room.voiced else ""


def _visible(member: Member, asker: Member) -> bool:
    """Whether ``asker`` finds ``member`` by a mask (IRC's +i: not when hidden,
    unless they share a room)."""
    return not member.hidden or member is asker or not member.rooms.keys().isdisjoint(asker.rooms)


def _found(chat: Chat, asker: Member, mask: str, now: datetime) -> lookups.Found:
    people: list[tuple[Member, Room | None]]
    if mask.startswith("#"):
        room = chat.rooms.get(fold(mask))
        people = [(m, room) for m in room.members] if room else []
    else:
        pattern = glob(fold(mask))
        masked = "*" in mask or "?" in mask
        people = [
            (m, m.current)
            for name, m in chat.members.items()
            if m.present and pattern.fullmatch(name) and (not masked or _visible(m, asker))
        ]
    people = people[:MAX_FOUND]
    abouts = [_about(m) for m, _ in people]
    return lookups.Found(
        now,
        mask,
        tuple(m.nick for m, _ in people),
        tuple(user for user, _ in abouts),
        tuple(realname for _, realname in abouts),
        tuple(room.name if room else "*" for _, room in people),
        tuple(m.nick for m, _ in people if m.away),
        tuple(m.nick for m, _ in people if server_operator(chat, m)),
        tuple(mark(room, m) if room else "" for m, room in people),
    )
