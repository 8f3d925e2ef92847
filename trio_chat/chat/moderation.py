"""Room moderation in the chat: topics, operators, voice, bans, invitations, modes.

Hooks of ``Chat`` (who may join a room, who may speak in it, what a newcomer
is given) and the moderation requests (``apply``). Who holds power in a
room: its operators (``+o``), its owner (an account) and the server
operators (accounts named in the configuration); the last two hold it
without ``+o``, in every mode, and pass bans and ``+i``.

A room with an owner keeps its settings (``RoomSettings``) while empty and
across restarts: each change returns a ``SaveRoom``, and ``Chat.saved``
holds what was saved, so the chat restores a room from it synchronously.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.chat.effects import Deliver, Effect, RoomSettings, SaveRoom
from trio_chat.chat.masks import ACCOUNT_MASK, is_mask, mask_problem, matches
from trio_chat.chat.rooms import Member, Room
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import LOBBY, fold

if TYPE_CHECKING:
    from trio_chat.chat.chat import Chat

INVITES_KEPT = 100  # invitations a room holds at once; the oldest go first
FLAGS = "imt"  # the modes without a target that can be changed
NEW_ROOM_MODES = "t"  # a new room's: only operators set the topic
# ``n`` (no messages from outside) holds for every room: only members speak.
ALWAYS = "n"
MODERATION = (mod.SetTopic, mod.Kick, mod.SetMode, mod.Invite, mod.Disconnect)


# ------------------------------------------------------------------- powers


def server_operator(chat: Chat, member: Member) -> bool:
    """An account named by ``--operator``, identified, or whose password was given."""
    return member.oper or (member.account is not None and member.account in chat.operators)


def privileged(chat: Chat, room: Room, member: Member) -> bool:
    """The owner and the server operators: past bans and ``+i``, always."""
    return server_operator(chat, member) or (
        member.account is not None and member.account == room.owner
    )


def is_operator(chat: Chat, room: Room, member: Member) -> bool:
    return member in room.ops or privileged(chat, room, member)


def banned(room: Room, member: Member) -> bool:
    return any(matches(mask, member) for mask in room.bans)


# -------------------------------------------------------------------- hooks


def restore(room: Room, settings: RoomSettings | None) -> None:
    """A room made again (after emptying or a restart) takes its saved settings."""
    if settings is not None:
        room.owner, room.topic, room.modes = settings.owner, settings.topic, settings.modes
        room.topic_by, room.topic_time = settings.topic_by, settings.topic_time
        room.bans = list(settings.bans)


def refusal(chat: Chat, name: str, member: Member, now: datetime) -> ev.Error | None:
    """Why ``member`` may not join the room ``name``, or None."""
    room = chat.rooms.get(fold(name))
    if room is None:
        room = Room(name, 0)
        restore(room, chat.saved.get(fold(name)))
    if privileged(chat, room, member):
        return None
    if banned(room, member):
        return ev.Error(now, Code.BANNED, f"you are banned from {room.name}", room.name)
    if "i" in room.modes and fold(member.nick) not in room.invited:
        message = f"{room.name} is invite-only: an operator must /invite you"
        return ev.Error(now, Code.INVITE_ONLY, message, room.name)
    return None


def speech_refusal(chat: Chat, room: Room, member: Member, now: datetime) -> ev.Error | None:
    """Why ``member`` may not speak in ``room``, or None."""
    if not (room.bans or "m" in room.modes) or is_operator(chat, room, member):
        return None
    if banned(room, member):
        return ev.Error(now, Code.BANNED, f"you are banned from speaking in {room.name}", room.name)
    if "m" in room.modes and member not in room.voiced:
        message = f"{room.name} is moderated: only operators and voiced members speak"
        return ev.Error(now, Code.MODERATED, message, room.name)
    return None


def joining(chat: Chat, room: Room, member: Member) -> Callable[[datetime], list[Effect]]:
    """``member`` has just been added to ``room``: the first member of a new
    room is its operator (and owner, when registered), and an owner is made
    operator again. Returns what makes the effects that follow the join."""
    room.invited.pop(fold(member.nick), None)
    account = member.account
    if room.owner is not None:
        if account != room.owner:
            return _nothing
        room.ops.add(member)
        return functools.partial(_owner_back, room, member)
    if len(room.members) > 1 or fold(room.name) == fold(LOBBY):
        return _nothing
    room.ops.add(member)
    owned = sum(s.owner == account for s in chat.saved.values())
    if account is None or owned >= chat.max_owned_rooms:
        return _nothing
    room.owner = account
    saved = _save(chat, room)
    return lambda now: saved


def _nothing(now: datetime) -> list[Effect]:
    return []


def _owner_back(room: Room, member: Member, now: datetime) -> list[Effect]:
    room.seq += 1
    event = mod.ModeChanged(now, room.name, room.seq, "", "+o", member.nick)
    return [Deliver(event, room.recipients, event)]


def emptied(room: Room) -> None:
    """The last member left ``room``: invitations end, and so do the
    settings of a room without an owner (the lobby is never removed)."""
    room.invited.clear()
    if room.owner is None:
        room.topic, room.topic_by, room.topic_time = "", None, None
        room.modes = NEW_ROOM_MODES
        room.bans.clear()


def members(room: Room, now: datetime) -> ev.Members:
    ops, voiced = _ops_and_voiced(room)
    return ev.Members(
        now, room.name, room.nicks, room.topic, ops, voiced, room.topic_by, room.topic_time
    )


def welcome(room: Room, member: Member, online: int, now: datetime) -> ev.Welcome:
    ops, voiced = _ops_and_voiced(room)
    return ev.Welcome(
        now,
        member.nick,
        room.name,
        room.nicks,
        online,
        room.topic,
        ops,
        voiced,
        room.topic_by,
        room.topic_time,
    )


def _ops_and_voiced(room: Room) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ops = tuple(m.nick for m in room.members if m in room.ops)
    return ops, tuple(m.nick for m in room.members if m in room.voiced)


# ----------------------------------------------------------------- requests


def apply(chat: Chat, member: Member, request: ev.Request, now: datetime) -> list[Effect]:
    """Carry out a moderation request (one of MODERATION)."""
    if isinstance(request, mod.Disconnect):
        return _disconnect(chat, member, request, now)
    name = getattr(request, "room", None)
    room = member.current if name is None else chat.rooms.get(fold(name))
    if room is None:
        if name is None:
            return _fail(member, now, Code.NOT_IN_ROOM, "you are in no room; /join #room first")
        return _fail(member, now, Code.NOT_IN_ROOM, f"there is no room {name}", name)
    asking = (isinstance(request, mod.SetTopic) and request.text is None) or (
        isinstance(request, mod.SetMode)
        and (request.mode is None or (request.mode == "+b" and request.target is None))
    )
    if asking:
        return [Deliver(state(chat, room, member, now), (member,))]
    if isinstance(request, mod.Invite):
        return _invite(chat, room, member, request.nick, now)
    if isinstance(request, mod.SetTopic) and "t" not in room.modes and member in room.members:
        return _Change(chat, room, member, now).topic(request.text or "")
    if not is_operator(chat, room, member):
        message = f"you are not an operator of {room.name}"
        return _fail(member, now, Code.NOT_OPERATOR, message, room.name)
    change = _Change(chat, room, member, now)
    match request:
        case mod.SetTopic(text=str(text)):
            return change.topic(text)
        case mod.Kick(nick, _, reason):
            return change.kick(nick, reason)
        case mod.SetMode(str(mode), target):
            return change.mode(mode, target)
    return []


def state(chat: Chat, room: Room, member: Member, now: datetime) -> mod.RoomState:
    """``room``'s settings as ``member`` may see them (bans for operators only)."""
    bans = tuple(room.bans) if is_operator(chat, room, member) else ()
    modes = "".join(sorted(ALWAYS + room.modes))
    return mod.RoomState(
        now,
        room.name,
        room.topic,
        room.topic_by,
        room.topic_time,
        modes,
        room.owner,
        *_ops_and_voiced(room),
        bans,
        room.created,
    )


@dataclass(slots=True)
class _Change:
    """An operator's change to a room."""

    chat: Chat
    room: Room
    member: Member
    now: datetime

    def topic(self, text: str) -> list[Effect]:
        text = text.encode()[: mod.TOPIC_MAX].decode(errors="ignore")  # whole characters
        room = self.room
        room.topic, room.topic_by, room.topic_time = text, self.member.nick, self.now
        room.seq += 1
        event = mod.TopicChanged(self.now, room.name, room.seq, self.member.nick, text)
        return [Deliver(event, room.recipients, event, self.member), *_save(self.chat, room)]

    def kick(self, nick: str, reason: str) -> list[Effect]:
        room = self.room
        target = _present(self.chat, room, nick)
        if target is None:
            return self.fail(Code.NOT_IN_ROOM, f"{nick} is not in {room.name}", nick)
        room.seq += 1
        event = mod.Kicked(self.now, room.name, room.seq, self.member.nick, target.nick, reason)
        # to the room as it was: the one kicked sees it as its last event of the room
        told = Deliver(event, room.recipients, event, self.member)
        return [told, *self.chat._part(target, room, reason, self.now, announce=False)]

    def mode(self, change: str, target: str | None) -> list[Effect]:
        room = self.room
        sign, letter = change[:1], change[1:]
        if change not in mod.MODES:
            modes = ", ".join(sorted(mod.MODES))
            return self.fail(Code.BAD_REQUEST, f"unknown mode {change}; one of {modes}")
        if letter in ALWAYS:
            if sign == "-":
                message = f"mode {letter} is always set: only members speak in a room"
                return self.fail(Code.BAD_REQUEST, message, room.name)
            return self.unchanged()
        if letter in FLAGS:
            if (letter in room.modes) == (sign == "+"):
                return self.unchanged()
            room.modes = "".join(m for m in FLAGS if (m in room.modes) != (m == letter))
            return [*self.announce(change, None), *_save(self.chat, room)]
        if target is None:
            return self.fail(Code.BAD_REQUEST, f"mode {change} needs a nickname")
        if letter == "b":
            return self.ban(target) if sign == "+" else self.unban(target)
        other = _present(self.chat, room, target)
        if other is None:
            return self.fail(Code.NOT_IN_ROOM, f"{target} is not in {room.name}", target)
        holders = room.ops if letter == "o" else room.voiced
        if (other in holders) == (sign == "+"):
            return self.unchanged()
        if sign == "+":
            holders.add(other)
        else:
            holders.discard(other)
        return self.announce(change, other.nick)

    def ban(self, target: str) -> list[Effect]:
        room = self.room
        mask = self._mask(target)
        if problem := mask_problem(mask):
            return self.fail(Code.BAD_REQUEST, f"{mask}: {problem}")
        if any(fold(b) == fold(mask) for b in room.bans):
            return self.unchanged()
        if len(room.bans) >= self.chat.max_bans:
            message = f"{room.name} has {len(room.bans)} bans, the most it may; unban one first"
            return self.fail(Code.BAD_REQUEST, message, room.name)
        room.bans.append(mask)
        return [*self.announce("+b", mask), *_save(self.chat, room)]

    def unban(self, target: str) -> list[Effect]:
        room = self.room
        mask = self._mask(target)
        present = None if is_mask(target) else self.chat.members.get(fold(target))
        # a member named: every ban that holds it
        gone = [
            b
            for b in room.bans
            if fold(b) == fold(mask) or (present is not None and matches(b, present))
        ]
        if not gone:
            return self.fail(Code.BAD_REQUEST, f"no ban of {room.name} holds {target}")
        effects: list[Effect] = []
        for ban in gone:
            room.bans.remove(ban)
            effects += self.announce("-b", ban)
        return effects + _save(self.chat, room)

    def _mask(self, target: str) -> str:
        """What banning ``target`` bans: a mask as given; a present member's
        account, or else its host; an absent nickname."""
        if is_mask(target):
            return target
        present = self.chat.members.get(fold(target))
        if present is None:
            return f"{target}!*@*"
        return f"{ACCOUNT_MASK}{present.account}" if present.account else f"*!*@{present.host}"

    def announce(self, change: str, target: str | None) -> list[Effect]:
        room = self.room
        room.seq += 1
        event = mod.ModeChanged(self.now, room.name, room.seq, self.member.nick, change, target)
        return [Deliver(event, room.recipients, event, self.member)]

    def unchanged(self) -> list[Effect]:
        notice = ev.Notice(self.now, f"nothing to change: {self.room.name} is so already")
        return [Deliver(notice, (self.member,))]

    def fail(self, code: Code, message: str, subject: str | None = None) -> list[Effect]:
        return _fail(self.member, self.now, code, message, subject)


def _invite(chat: Chat, room: Room, member: Member, nick: str, now: datetime) -> list[Effect]:
    other = chat.members.get(fold(nick))
    if other is None:
        return _fail(member, now, Code.NO_SUCH_NICK, f'no one is called "{nick}"', nick)
    if member not in room.members and not is_operator(chat, room, member):
        return _fail(member, now, Code.NOT_IN_ROOM, f"you are not in {room.name}", room.name)
    if "i" in room.modes and not is_operator(chat, room, member):
        message = f"{room.name} is invite-only: only its operators invite"
        return _fail(member, now, Code.NOT_OPERATOR, message, room.name)
    if other in room.members:
        message = f"{other.nick} is in {room.name} already"
        return _fail(member, now, Code.BAD_REQUEST, message, other.nick)
    room.invited.pop(fold(other.nick), None)
    room.invited[fold(other.nick)] = None
    if len(room.invited) > INVITES_KEPT:
        del room.invited[next(iter(room.invited))]
    return [
        Deliver(mod.Invited(now, room.name, member.nick), (other,)),
        Deliver(ev.Notice(now, f"you invited {other.nick} to {room.name}"), (member,)),
    ]


def _disconnect(chat: Chat, member: Member, request: mod.Disconnect, now: datetime) -> list[Effect]:
    if not server_operator(chat, member):
        return _fail(member, now, Code.NOT_OPERATOR, "only server operators disconnect users")
    other = chat.members.get(fold(request.nick))
    if other is None:
        message = f'no one is called "{request.nick}"'
        return _fail(member, now, Code.NO_SUCH_NICK, message, request.nick)
    reason = f"disconnected by {member.nick}"
    reason += f": {request.reason}" if request.reason else ""
    told = Deliver(ev.Notice(now, f"{other.nick} is disconnected"), (member,))
    return [*chat.leave(other, reason, now), *([told] if other is not member else [])]


# ------------------------------------------------------------------ helpers


def _present(chat: Chat, room: Room, nick: str) -> Member | None:
    other = chat.members.get(fold(nick))
    return other if other is not None and other in room.members else None


def _save(chat: Chat, room: Room) -> list[Effect]:
    if room.owner is None:
        return []
    settings = RoomSettings(
        room.owner, room.topic, room.topic_by, room.topic_time, room.modes, tuple(room.bans)
    )
    chat.saved[fold(room.name)] = settings
    return [SaveRoom(room.name, settings)]


def _fail(
    member: Member, now: datetime, code: Code, message: str, subject: str | None = None
) -> list[Effect]:
    return [Deliver(ev.Error(now, code, message, subject), (member,))]
