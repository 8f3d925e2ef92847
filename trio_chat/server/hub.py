"""The hub: rooms, nicknames, sequence numbers, and the broadcast.

Sessions call the hub's methods synchronously; trio runs one task at a time,
so each call sees and changes the chat's state atomically, and the order of
the calls is the one order every member sees. A call never awaits: it puts
what it has to say on the broadcast channel as deliveries. One task,
``broadcast``, takes them off in batches, stores the room events of a batch
at once, then appends each event to its recipients' outboxes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import trio

from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import LOBBY, fold, nick_problem, room_problem
from trio_chat.protocol.text import COMMANDS
from trio_chat.server.config import Limits
from trio_chat.server.outbox import Outbox
from trio_chat.server.store import MemoryStore, Store

log = logging.getLogger(__name__)

SEND_QUEUE_EXCEEDED = "send queue exceeded"


class Member:
    """A client with an accepted nickname."""

    __slots__ = ("gone", "kick", "nick", "outbox", "rooms")

    def __init__(self, nick: str, outbox: Outbox, kick: Callable[[str], None]) -> None:
        self.nick = nick
        self.outbox = outbox
        self.kick = kick  # ends the member's session, giving the reason
        self.rooms: dict[str, Room] = {}  # by folded name; the last is current
        self.gone = False

    @property
    def current(self) -> Room | None:
        return next(reversed(self.rooms.values()), None)


class Room:
    __slots__ = ("members", "name", "recipients", "seq")

    def __init__(self, name: str, seq: int) -> None:
        self.name = name
        self.seq = seq
        self.members: dict[Member, None] = {}  # an ordered set
        # Rebuilt on every join and part, so a delivery holds the room's
        # membership as of its event by keeping a reference, not a copy.
        self.recipients: tuple[Member, ...] = ()

    def add(self, member: Member) -> None:
        self.members[member] = None
        self.recipients = tuple(self.members)

    def remove(self, member: Member) -> None:
        del self.members[member]
        self.recipients = tuple(self.members)


@dataclass(slots=True)
class Delivery:
    event: ev.Event
    to: tuple[Member, ...]
    stored: bool = False  # a room event for the history
    close: bool = False  # the recipient's last event


class Hub:
    def __init__(self, limits: Limits | None = None, store: Store | None = None) -> None:
        self.limits = limits or Limits()
        self.store: Store = store or MemoryStore(self.limits.history_keep)
        self.members: dict[str, Member] = {}  # by folded nickname
        self.rooms: dict[str, Room] = {}  # by folded name
        self.closing = False
        # Unbounded so that no hub call ever waits; sessions hold back their
        # reading while it is long (see wait_for_room).
        self._send, self._receive = trio.open_memory_channel[list[Delivery]](math.inf)
        self._drained = trio.Event()
        self._drained.set()

    # ------------------------------------------------------------ registering

    def register(self, nick: str, outbox: Outbox, kick: Callable[[str], None]) -> Member | ev.Error:
        """Accept ``nick`` for a new member and bring it into the lobby."""
        if error := self._nick_error(nick):
            return error
        member = Member(nick, outbox, kick)
        self.members[fold(nick)] = member
        lobby = self._room(LOBBY)
        self._join(member, lobby, welcome=True)
        return member

    def _nick_error(self, nick: str, owner: Member | None = None) -> ev.Error | None:
        if problem := nick_problem(nick):
            return _error(
                Code.NICK_INVALID, f'nickname "{nick}" is invalid: {problem}; choose another'
            )
        if self.members.get(fold(nick), owner) is not owner:
            return _error(Code.NICK_TAKEN, f'nickname "{nick}" is taken, choose another')
        return None

    def depart(self, member: Member, reason: str) -> None:
        """``member`` leaves every room and the chat; it gets a Bye last."""
        if member.gone:
            return
        member.gone = True
        for room in list(member.rooms.values()):
            self._part(member, room, reason, announce=not self.closing)
        del self.members[fold(member.nick)]
        self._post([Delivery(ev.Bye(ev.now(), reason), (member,), close=True)])

    def shutdown(self) -> None:
        """From now on members leave without their rooms being told."""
        self.closing = True

    # ---------------------------------------------------------------- requests

    def handle(self, member: Member, request: ev.Request) -> None:
        """Carry out one request from ``member``."""
        if member.gone:
            return
        match request:
            case ev.Say(text, room) | ev.Act(text, room):
                target = self._member_room(member, room)
                if isinstance(target, ev.Error):
                    return self.reply(member, target)
                target.seq += 1
                kind = ev.Message if isinstance(request, ev.Say) else ev.Action
                event = kind(ev.now(), target.name, target.seq, member.nick, text)
                return self._post([Delivery(event, target.recipients, stored=True)])
            case ev.Tell(nick, text):
                other = self.members.get(fold(nick))
                if other is None:
                    return self.reply(
                        member, _error(Code.NO_SUCH_NICK, f'no one is called "{nick}"')
                    )
                to = (other,) if other is member else (other, member)
                return self._post(
                    [Delivery(ev.Private(ev.now(), member.nick, other.nick, text), to)]
                )
            case ev.Join(name):
                if problem := room_problem(name):
                    return self.reply(
                        member, _error(Code.ROOM_INVALID, f'"{name}" is not a room: {problem}')
                    )
                joined = member.rooms.pop(fold(name), None)
                if joined is not None:  # already in it: it becomes current
                    member.rooms[fold(name)] = joined
                    return self.reply(member, ev.Members(ev.now(), joined.name, _nicks(joined)))
                if len(member.rooms) >= self.limits.max_rooms:
                    return self.reply(
                        member,
                        _error(
                            Code.TOO_MANY_ROOMS,
                            f"you are in {len(member.rooms)} rooms already; /part one first",
                        ),
                    )
                return self._join(member, self._room(name), welcome=False)
            case ev.Part(name):
                target = self._member_room(member, name)
                if isinstance(target, ev.Error):
                    return self.reply(member, target)
                return self._part(member, target, "part", announce=True)
            case ev.Who(name):
                found = self.rooms.get(fold(name)) if name else member.current
                if found is None:
                    return self.reply(
                        member, _error(Code.NOT_IN_ROOM, f"there is no room {name or ''}".strip())
                    )
                return self.reply(member, ev.Members(ev.now(), found.name, _nicks(found)))
            case ev.ListRooms():
                rooms = sorted(self.rooms.values(), key=lambda r: fold(r.name))
                infos = tuple(ev.RoomInfo(r.name, len(r.members)) for r in rooms)
                return self.reply(member, ev.Rooms(ev.now(), infos))
            case ev.GetHistory(name, limit):
                target = self._member_room(member, name)
                if isinstance(target, ev.Error):
                    return self.reply(member, target)
                count = min(
                    self.limits.history_keep, self.limits.history_replay if limit is None else limit
                )
                past = tuple(self.store.recent(target.name, count))
                return self.reply(member, ev.History(ev.now(), target.name, past))
            case ev.ChangeNick(nick):
                return self._rename(member, nick)
            case ev.GetHelp():
                return self.reply(member, ev.Help(ev.now(), COMMANDS))
            case ev.Ping(token):
                return self.reply(member, ev.ServerPong(ev.now(), token))
            case ev.Hello():
                return self.reply(
                    member, _error(Code.ALREADY_REGISTERED, f"you are {member.nick} already")
                )
        raise ValueError(f"the hub does not handle {request!r}")

    def reply(self, member: Member, event: ev.Event) -> None:
        """Send ``event`` to ``member`` alone, in order with its room events."""
        self._post([Delivery(event, (member,))])

    def _member_room(self, member: Member, name: str | None) -> Room | ev.Error:
        if name is None:
            return member.current or _error(
                Code.NOT_IN_ROOM, "you are in no room; /join #room first"
            )
        room = member.rooms.get(fold(name))
        return room or _error(Code.NOT_IN_ROOM, f"you are not in {name}")

    def _room(self, name: str) -> Room:
        room = self.rooms.get(fold(name))
        if room is None:
            room = self.rooms[fold(name)] = Room(name, self.store.last_seq(name))
        return room

    def _join(self, member: Member, room: Room, *, welcome: bool) -> None:
        room.add(member)
        member.rooms[fold(room.name)] = room
        now = ev.now()
        intro: ev.Event = (
            ev.Welcome(now, member.nick, room.name, _nicks(room), len(self.members))
            if welcome
            else ev.Members(now, room.name, _nicks(room))
        )
        deliveries = [Delivery(intro, (member,))]
        if past := self.store.recent(room.name, self.limits.history_replay):
            deliveries.append(Delivery(ev.History(now, room.name, tuple(past)), (member,)))
        room.seq += 1
        joined = ev.Joined(now, room.name, room.seq, member.nick)
        deliveries.append(Delivery(joined, room.recipients, stored=True))
        self._post(deliveries)

    def _part(self, member: Member, room: Room, reason: str, *, announce: bool) -> None:
        room.remove(member)
        del member.rooms[fold(room.name)]
        if announce:
            room.seq += 1
            left = ev.Left(ev.now(), room.name, room.seq, member.nick, reason)
            # the one who leaves sees it too, as the last event of that room
            self._post([Delivery(left, (*room.recipients, member), stored=True)])
        if not room.members and fold(room.name) != fold(LOBBY):
            del self.rooms[fold(room.name)]

    def _rename(self, member: Member, nick: str) -> None:
        old = member.nick
        if error := self._nick_error(nick, owner=member):
            return self.reply(member, error)
        if nick == old:
            return None
        del self.members[fold(old)]
        self.members[fold(nick)] = member
        member.nick = nick
        if not member.rooms:
            return self.reply(member, ev.Notice(ev.now(), f"you are now known as {nick}"))
        deliveries = []
        for room in member.rooms.values():
            room.seq += 1
            event = ev.NickChanged(ev.now(), room.name, room.seq, old, nick)
            deliveries.append(Delivery(event, room.recipients, stored=True))
        return self._post(deliveries)

    # --------------------------------------------------------------- broadcast

    def _post(self, deliveries: list[Delivery]) -> None:
        self._send.send_nowait(deliveries)
        if self._drained.is_set() and self.backlog > self.limits.outbox_size:
            self._drained = trio.Event()

    @property
    def backlog(self) -> int:
        """Batches posted and not yet delivered."""
        return self._send.statistics().current_buffer_used

    async def wait_for_room(self) -> None:
        """Wait while the broadcast is far behind, so readers slow to its pace."""
        # Not a checkpoint otherwise: a reader then carries out every request
        # of a chunk it received at once (receiving is the checkpoint), so a
        # broadcast batch, and each writer's send, holds more messages.
        if not self._drained.is_set():
            await self._drained.wait()

    async def broadcast(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Store and deliver what the hub posts, in order; runs until cancelled."""
        task_status.started()
        async for first in self._receive:
            batch = first
            while True:
                try:
                    batch += self._receive.receive_nowait()
                except trio.WouldBlock:
                    break
            stored = [d.event for d in batch if d.stored and isinstance(d.event, ev.RoomEvent)]
            if stored:
                await self.store.append(stored)
            for delivery in batch:
                self._deliver(delivery)
            self._drained.set()

    def _deliver(self, delivery: Delivery) -> None:
        event = delivery.event
        for member in delivery.to:
            if not member.outbox.put(event) and not member.gone:
                # The IRC way: a client whose send queue overflows is dropped,
                # so that it never holds up anyone else.
                member.kick(SEND_QUEUE_EXCEEDED)
            if delivery.close:
                member.outbox.close()


def _nicks(room: Room) -> tuple[str, ...]:
    return tuple(m.nick for m in room.members)


def _error(code: Code, message: str) -> ev.Error:
    return ev.Error(ev.now(), code, message)
