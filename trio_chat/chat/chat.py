"""The chat itself: rooms, nicknames, membership and sequence numbers, without I/O.

``Chat`` is a synchronous state machine, in the manner of h11: it takes what
a member asks (``enter``, ``apply``, ``leave``) with the time it happened,
changes its state, and returns the effects that must follow, in order. It
never awaits, never reads a clock and never touches a connection, so the
order of the calls is the one order every member sees, and its tests need
no server at all::

    effects = chat.apply(alice, ev.Say("hi"), now)
    assert effects == [Deliver(ev.Message(now, "#lobby", 2, "alice", "hi"), (alice, bob), ...)]

What it needs to know of the rest of the server comes in as two functions:
``last_seq`` (where a room's numbering goes on from) and ``registered``
(which registered nickname a nickname is, or looks like).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from trio_chat.chat import history, lookups, moderation, nicknames, presence
from trio_chat.chat.effects import (
    Close,
    Deliver,
    Effect,
    FetchHistory,
    PrivateRecord,
    RoomSettings,
)
from trio_chat.chat.rooms import Member, Room
from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups as asked
from trio_chat.protocol import notices
from trio_chat.protocol import presence as presence_wire
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import LOBBY, fold, room_problem
from trio_chat.protocol.skeleton import skeleton
from trio_chat.protocol.text import COMMANDS

GHOSTED = "logged in from elsewhere"
GONE_KEPT = 256  # members who left or were renamed lately, kept by their former nickname
PARTED = "part"  # the reason of a Left for a part, before the reason given
RECONNECTED = "reconnected"
ROOMS_LISTED = 1000  # the most populous rooms, in a ``rooms`` answer
EMPTY_MESSAGE = "an empty message says nothing"


class Chat:
    def __init__(
        self,
        *,
        max_rooms: int = 20,
        history_replay: int = 50,
        history_page: int = 500,
        last_seq: Callable[[str], int] = lambda room: 0,
        registered: Callable[[str], str | None] = lambda nick: None,
        saved: Mapping[str, RoomSettings] | None = None,
        operators: Collection[str] = (),
        max_bans: int = 50,
        max_owned_rooms: int = 10,
    ) -> None:
        self.max_rooms = max_rooms
        self.history_replay = history_replay
        self.history_page = history_page
        self._last_seq = last_seq
        self.registered_as = registered
        self.members: dict[str, Member] = {}  # by folded nickname
        self.looks: dict[str, Member] = {}  # by skeleton: no two members look alike
        # Who left or was renamed lately, by folded former nickname: the events
        # that name them reach some encoders after that (IRC's nick!user@host).
        # Their user, host and account only: a Member holds its outbox.
        self.gone: dict[str, tuple[str, str, str | None]] = {}
        self.rooms: dict[str, Room] = {}  # by folded name
        self._emptied: dict[str, int] = {}  # last numbers of rooms gone empty
        self._emptied_sweep = 64  # its size at which to drop what the store has caught up with
        self.closing = False  # leaving is no longer announced (shutdown)
        # Moderation (see moderation.py): the settings of owned rooms, by
        # folded name, and the accounts (folded) of the server operators.
        self.saved: dict[str, RoomSettings] = dict(saved or {})
        self.operators = frozenset(fold(nick) for nick in operators)
        self.max_bans = max_bans
        self.max_owned_rooms = max_owned_rooms

    # -------------------------------------------------------------- entering

    def enter(
        self,
        member: Member,
        nick: str,
        now: datetime,
        *,
        identified: bool = False,
        resume: Sequence[ev.RoomSeq] = (),
        key: str | None = None,
        lobby: bool = True,
    ) -> list[Effect]:
        """``member`` asks for ``nick``: on success it is in the lobby, and in
        each room of ``resume`` replayed from after the number given.

        ``identified``: the password of the registered ``nick`` was given, so
        a connection still holding the nick or a look-alike (a ghost) is ended.
        ``key``: of the client's reconnect token; a guest holding ``nick``
        with the same key is this client's earlier connection, and is ended.
        ``lobby``: False puts it in no room (its Welcome names none) unless
        ``resume`` names the lobby.
        """
        effects: list[Effect] = []
        account = fold(nick) if identified else None
        ghost = self.members.get(fold(nick)) or self.looks.get(skeleton(nick))
        if account and ghost is not None and account in (fold(ghost.nick), ghost.account):
            effects += self.leave(ghost, GHOSTED, now)
        elif key and ghost is not None and ghost.key == key and ghost.account is None:
            effects += self.leave(ghost, RECONNECTED, now)
        if error := nicknames.problem(self, nick, now, account=account):
            return [*effects, Deliver(error, (member,))]
        member.nick = nick
        member.account = account
        member.key = key
        member.present = True
        self.members[fold(nick)] = member
        self.looks[skeleton(nick)] = member
        after = {fold(r.room): r for r in resume if not room_problem(r.room)}
        resumed = after.pop(fold(LOBBY), None)
        if lobby or resumed:
            after_seq = resumed.seq if resumed else None
            effects += self._join(
                member, self._room(LOBBY, now), now, welcome=True, after=after_seq
            )
        else:
            welcome = ev.Welcome(now, member.nick, "", (), len(self.members))
            effects.append(Deliver(welcome, (member,)))
        for r in list(after.values())[: self.max_rooms - 1]:
            if error := moderation.refusal(self, r.room, member, now):
                effects.append(Deliver(error, (member,)))
                continue
            effects += self._join(member, self._room(r.room, now), now, after=r.seq)
        return effects

    def identified(self, member: Member) -> None:
        """``member`` has just registered its nickname."""
        member.account = fold(member.nick)

    def operate(self, member: Member, name: str, now: datetime) -> list[Effect]:
        """``member`` gave the password of the server operator ``name``."""
        return presence.operate(self, member, name, now)

    def leave(self, member: Member, reason: str, now: datetime) -> list[Effect]:
        """``member`` leaves every room and the chat; it gets a Bye last.

        Leaving twice is nothing. A member that never entered only gets its Bye.
        """
        bye: list[Effect] = [Deliver(ev.Bye(now, reason), (member,)), Close(member, reason)]
        if not member.present:  # never entered (it has no nickname), or gone already
            return [] if member.nick else bye
        member.present = False
        effects: list[Effect] = []
        for room in list(member.rooms.values()):
            effects += self._part(member, room, reason, now, announce=not self.closing)
        del self.members[fold(member.nick)]
        self._gone(member.nick, member)
        if self.looks.get(skeleton(member.nick)) is member:
            del self.looks[skeleton(member.nick)]
        return effects + bye

    def shutdown(self) -> None:
        """From now on members leave without their rooms being told."""
        self.closing = True

    # -------------------------------------------------------------- requests

    def apply(self, member: Member, request: ev.Request, now: datetime) -> list[Effect]:
        """Carry out one request of ``member``.

        Before it has entered, only help and ping are answered; after it has
        left, nothing is.
        """
        match request:
            case ev.GetHelp():
                return _reply(member, ev.Help(now, COMMANDS))
            case ev.Ping(token):
                return _reply(member, ev.ServerPong(now, token))
        if not member.present:
            if member.nick:  # gone
                return []
            return _fail(member, Code.NOT_REGISTERED, "choose a nickname first", now)
        match request:
            case ev.Say(text, room) | ev.Act(text, room):
                if not text.strip():
                    return _fail(member, Code.BAD_REQUEST, EMPTY_MESSAGE, now)
                target = self.member_room(member, room, now)
                if isinstance(target, ev.Error):
                    return [Deliver(target, (member,))]
                if error := moderation.speech_refusal(self, target, member, now):
                    return [Deliver(error, (member,))]
                target.seq += 1
                target.chat_seq = target.seq
                kind = _SAID[type(request)]
                event = kind(now, target.name, target.seq, member.nick, text)
                return [Deliver(event, target.recipients, event, member)]
            case ev.Tell(nick, text):
                if not text.strip():
                    return _fail(member, Code.BAD_REQUEST, EMPTY_MESSAGE, now)
                other = self.members.get(fold(nick))
                if other is None:
                    return _fail(member, Code.NO_SUCH_NICK, f'no one is called "{nick}"', now, nick)
                private = _PRIVATE[type(request)](now, member.nick, other.nick, text)
                to = (other,) if other is member else (other, member)
                record = PrivateRecord(private, member.account, other.account)
                effects: list[Effect] = [Deliver(private, to, record, member)]
                if type(request) is ev.Tell:  # a notice is never answered
                    effects += presence.told(member, other, now)
                return effects
            case ev.Join(name, after):
                return self._join_request(member, name, after, now)
            case ev.Part(name, reason):
                target = self.member_room(member, name, now)
                if isinstance(target, ev.Error):
                    return [Deliver(target, (member,))]
                said = f"{PARTED}: {reason}" if reason.strip() else PARTED
                return self._part(member, target, said, now, announce=True)
            case ev.Who(name):
                found = self.rooms.get(fold(name)) if name else member.current
                if found is None:
                    message = f"there is no room {name}" if name else "you are in no room"
                    return _fail(member, Code.NOT_IN_ROOM, message, now, name)
                return _reply(member, moderation.members(found, now))
            case ev.ListRooms():
                # Guests can make many rooms; the answer must fit any outbox.
                rooms = heapq.nlargest(ROOMS_LISTED, self.rooms.values(), key=_population)
                rooms.sort(key=lambda r: fold(r.name))
                infos = tuple(ev.RoomInfo(r.name, len(r.members)) for r in rooms)
                return _reply(member, ev.Rooms(now, infos))
            case ev.GetHistory():
                return history.fetch(self, member, request, now)
            case ev.ChangeNick(nick):
                return self._rename(member, nick, now)
            case _ if isinstance(request, moderation.MODERATION):
                return moderation.apply(self, member, request, now)
            case presence_wire.SetAway(text):
                return presence.set_away(member, text, now)
            case asked.Whois() | asked.Find() | asked.Ison() | asked.CountUsers() | asked.Hide():
                return lookups.answer(self, member, request, now)
            case ev.Hello():
                return _fail(member, Code.ALREADY_REGISTERED, f"you are {member.nick} already", now)
        return _fail(member, Code.BAD_REQUEST, f"{request.TYPE} is not a request here", now)

    # ------------------------------------------------------------- the rules

    def _gone(self, nick: str, member: Member) -> None:
        self.gone.pop(fold(nick), None)
        self.gone[fold(nick)] = (member.user, member.host, member.account)
        if len(self.gone) > GONE_KEPT:
            del self.gone[next(iter(self.gone))]

    def member_room(self, member: Member, name: str | None, now: datetime) -> Room | ev.Error:
        if name is None:
            return member.current or ev.Error(
                now, Code.NOT_IN_ROOM, "you are in no room; /join #room first"
            )
        room = member.rooms.get(fold(name))
        return room or ev.Error(now, Code.NOT_IN_ROOM, f"you are not in {name}", name)

    def _room(self, name: str, now: datetime) -> Room:
        room = self.rooms.get(fold(name))
        if room is None:
            # A room that emptied may have events still on their way to the
            # store: its number here is the one to go on from.
            seq = max(self._last_seq(name), self._emptied.pop(fold(name), 0))
            room = self.rooms[fold(name)] = Room(name, seq)
            room.created = now
            moderation.restore(room, self.saved.get(fold(name)))
        return room

    # ----------------------------------------------------------- the changes

    def _join_request(
        self, member: Member, name: str, after: int | None, now: datetime
    ) -> list[Effect]:
        if problem := room_problem(name):
            return _fail(member, Code.ROOM_INVALID, f'"{name}" is not a room: {problem}', now, name)
        joined = member.rooms.pop(fold(name), None)
        if joined is not None:  # already in it: it becomes current
            member.rooms[fold(name)] = joined
            return _reply(member, moderation.members(joined, now))
        if len(member.rooms) >= self.max_rooms:
            message = f"you are in {len(member.rooms)} rooms already; /part one first"
            return _fail(member, Code.TOO_MANY_ROOMS, message, now, name)
        if error := moderation.refusal(self, name, member, now):
            return [Deliver(error, (member,))]
        return self._join(member, self._room(name, now), now, after=after)

    def _join(
        self,
        member: Member,
        room: Room,
        now: datetime,
        *,
        welcome: bool = False,
        after: int | None = None,
    ) -> list[Effect]:
        room.add(member)
        member.rooms[fold(room.name)] = room
        powers = moderation.joining(self, room, member)
        intro: ev.Event = (
            moderation.welcome(room, member, len(self.members), now)
            if welcome
            else moderation.members(room, now)
        )
        # What the newcomer missed, or else the room's recent messages: read
        # at this point of the order, so it ends right before the join and
        # the live events take over with no gap and no overlap.
        if after is None:
            # Bounded by the last message rather than the last event: the same
            # replay, and the same for every newcomer until someone speaks.
            limit = min(self.history_page, self.history_replay)
            replay = FetchHistory(room.name, member, limit, room.chat_seq + 1, quiet=True)
        else:
            replay = FetchHistory(room.name, member, self.history_page, room.seq + 1, after, True)
        room.seq += 1
        joined = ev.Joined(now, room.name, room.seq, member.nick)
        announced = Deliver(joined, room.recipients, joined)
        away = presence.joined_away(member, room, now)
        return [Deliver(intro, (member,)), replay, announced, *powers(now), *away]

    def _part(
        self, member: Member, room: Room, reason: str, now: datetime, *, announce: bool
    ) -> list[Effect]:
        room.remove(member)
        del member.rooms[fold(room.name)]
        effects: list[Effect] = []
        if announce:
            room.seq += 1
            left = ev.Left(now, room.name, room.seq, member.nick, reason)
            # the one who leaves sees it too, as the last event of that room
            effects.append(Deliver(left, (*room.recipients, member), left))
        if not room.members:
            moderation.emptied(room)
        if not room.members and fold(room.name) != fold(LOBBY):
            del self.rooms[fold(room.name)]
            self._emptied[fold(room.name)] = room.seq
            if len(self._emptied) > self._emptied_sweep:
                # Once stored, a room's number is the store's to remember;
                # sweeping at twice the size left keeps the cost amortized.
                last = self._last_seq
                self._emptied = {r: s for r, s in self._emptied.items() if s > last(r)}
                self._emptied_sweep = 2 * len(self._emptied) + 64
        return effects

    def _rename(self, member: Member, nick: str, now: datetime) -> list[Effect]:
        old = member.nick
        if error := nicknames.problem(self, nick, now, owner=member, account=member.account):
            return [Deliver(error, (member,))]
        if nick == old:
            return []
        del self.members[fold(old)]
        self._gone(old, member)
        self.members[fold(nick)] = member
        if self.looks.get(skeleton(old)) is member:
            del self.looks[skeleton(old)]
        self.looks[skeleton(nick)] = member
        member.nick = nick
        if not member.rooms:
            return _reply(member, ev.Notice(now, f"you are now known as {nick}"))
        effects: list[Effect] = []
        for room in member.rooms.values():
            room.seq += 1
            event = ev.NickChanged(now, room.name, room.seq, old, nick)
            effects.append(Deliver(event, room.recipients, event))
        return effects


# What each way of saying something makes (a notice is a message no program answers).
_SAID: dict[type[ev.Request], type[ev.Message] | type[ev.Action]] = {
    ev.Say: ev.Message,
    ev.Act: ev.Action,
    notices.SayNotice: notices.NoticeMessage,
}
_PRIVATE: dict[type[ev.Request], type[ev.Private]] = {
    ev.Tell: ev.Private,
    notices.TellNotice: notices.PrivateNotice,
}


def _reply(member: Member, event: ev.Event) -> list[Effect]:
    return [Deliver(event, (member,))]


def _fail(
    member: Member, code: Code, message: str, now: datetime, subject: str | None = None
) -> list[Effect]:
    return [Deliver(ev.Error(now, code, message, subject), (member,))]


def _population(room: Room) -> int:
    return len(room.members)
