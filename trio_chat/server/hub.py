"""The hub: rooms, nicknames, sequence numbers, and the broadcast.

Sessions call the hub's methods synchronously; trio runs one task at a time,
so each call sees and changes the chat's state atomically, and the order of
the calls is the one order every member sees. A call never awaits: it puts
what it has to say on the broadcast channel as deliveries. One task,
``broadcast``, takes them off in batches, stores the batch's messages in one
go, then appends each event to its recipients' outboxes.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import trio

from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import LOBBY, fold, nick_problem, room_problem
from trio_chat.protocol.skeleton import skeleton
from trio_chat.protocol.text import COMMANDS
from trio_chat.server.accounts import Accounts
from trio_chat.server.config import Limits
from trio_chat.server.outbox import Outbox
from trio_chat.server.store import MemoryStore, PrivateRecord, Store, Stored

log = logging.getLogger(__name__)

SEND_QUEUE_EXCEEDED = "send queue exceeded"
GHOSTED = "logged in from elsewhere"
ROOMS_LISTED = 1000  # the most populous rooms, in a ``rooms`` answer
E = TypeVar("E", bound=ev.Event)


class Connection(Protocol):
    """How the hub ends a member's session (a Session, in the server)."""

    def stop(self, reason: str) -> None:
        """End it once what is queued for it has been sent."""

    def kick(self, reason: str) -> None:
        """End it now, dropping what is queued."""


class Member:
    """A client with an accepted nickname."""

    __slots__ = ("account", "connection", "gone", "nick", "outbox", "rooms")

    def __init__(self, nick: str, outbox: Outbox, connection: Connection) -> None:
        self.nick = nick
        self.outbox = outbox
        self.connection = connection
        self.rooms: dict[str, Room] = {}  # by folded name; the last is current
        self.account: str | None = None  # the registered nickname it proved it owns
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


# Reads the history when its turn in the broadcast comes; None: nothing to send.
Fetch = Callable[[], Awaitable[ev.Event | None]]


@dataclass(slots=True)
class Delivery:
    event: ev.Event | Fetch
    to: tuple[Member, ...]
    keep: Stored | None = None  # stored before anyone sees the event
    close: bool = False  # the recipient's last event
    sender: Member | None = None  # told if its event can be neither stored nor sent


def _kept(event: ev.RoomEvent, to: tuple[Member, ...], sender: Member | None = None) -> Delivery:
    return Delivery(event, to, keep=event, sender=sender)


class Hub:
    def __init__(
        self,
        limits: Limits | None = None,
        store: Store | None = None,
        accounts: Accounts | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.store: Store = store or MemoryStore.for_limits(self.limits)
        self.accounts = accounts or Accounts(hashing=self.limits.hash_workers)
        self.members: dict[str, Member] = {}  # by folded nickname
        self.looks: dict[str, Member] = {}  # by skeleton: no two members look alike
        self.rooms: dict[str, Room] = {}  # by folded name
        self._emptied: dict[str, int] = {}  # last numbers of rooms gone empty
        self._emptied_sweep = 64  # its size at which to drop what the store has caught up with
        self.closing = False
        # Unbounded so that no hub call ever waits; sessions hold back their
        # reading while it is long (see wait_for_room).
        self._send, self._receive = trio.open_memory_channel[list[Delivery]](math.inf)
        self._backlog = 0  # posts the storing stage has not taken yet
        self._drained = trio.Event()
        self._drained.set()
        # A history answer leaves room in the asker's outbox for what goes on live.
        self._history_bytes = self.limits.outbox_bytes // 4

    # ------------------------------------------------------------ registering

    def register(
        self,
        nick: str,
        outbox: Outbox,
        connection: Connection,
        *,
        identified: bool = False,
        resume: tuple[ev.RoomSeq, ...] = (),
    ) -> Member | ev.Error:
        """Accept ``nick`` for a new member and bring it into the lobby.

        ``identified``: the password of the registered ``nick`` was given, so
        a connection still holding the nick (a ghost) is ended. ``resume``:
        rooms to rejoin, each replayed from after the sequence number given.
        """
        account = fold(nick) if identified else None
        ghost = self.members.get(fold(nick)) or self.looks.get(skeleton(nick))
        if account and ghost is not None and account in (fold(ghost.nick), ghost.account):
            self.depart(ghost, GHOSTED)
            ghost.connection.stop(GHOSTED)
        if error := self._nick_error(nick, account=account):
            return error
        member = Member(nick, outbox, connection)
        member.account = account
        self.members[fold(nick)] = member
        self.looks[skeleton(nick)] = member
        after = {fold(r.room): r for r in resume if not room_problem(r.room)}
        lobby = after.pop(fold(LOBBY), None)
        self._join(member, self._room(LOBBY), welcome=True, after=lobby.seq if lobby else None)
        for r in list(after.values())[: self.limits.max_rooms - 1]:
            self._join(member, self._room(r.room), welcome=False, after=r.seq)
        return member

    def _nick_error(
        self, nick: str, owner: Member | None = None, account: str | None = None
    ) -> ev.Error | None:
        if problem := nick_problem(nick):
            return _error(Code.NICK_INVALID, f'nickname "{nick}" is invalid: {problem}')
        if self.members.get(fold(nick), owner) is not owner:
            return _error(Code.NICK_TAKEN, f'nickname "{nick}" is taken, choose another')
        other = self.looks.get(skeleton(nick))
        if other is not None and other is not owner:
            message = f'nickname "{nick}" is too much like "{other.nick}", who is online'
            return _error(Code.NICK_TAKEN, f"{message}; choose another")
        like = self.accounts.like(nick)
        if like is not None and like != account:
            if like == fold(nick):
                message = f'nickname "{nick}" is registered: identify with its password'
            else:
                message = f'nickname "{nick}" is too much like the registered nickname "{like}"'
            return _error(Code.NICK_REGISTERED, f"{message}, or choose another")
        return None

    def identified(self, member: Member) -> None:
        """``member`` has just registered its nickname."""
        member.account = fold(member.nick)

    def depart(self, member: Member, reason: str) -> None:
        """``member`` leaves every room and the chat; it gets a Bye last."""
        if member.gone:
            return
        member.gone = True
        for room in list(member.rooms.values()):
            self._part(member, room, reason, announce=not self.closing)
        del self.members[fold(member.nick)]
        if self.looks.get(skeleton(member.nick)) is member:
            del self.looks[skeleton(member.nick)]
        self._post([Delivery(ev.Bye(ev.now(), reason), (member,), close=True)])

    def shutdown(self) -> None:
        """From now on members leave without their rooms being told."""
        self.closing = True

    def close(self) -> None:
        """No more deliveries: ``broadcast`` returns once it has done the rest."""
        self._send.close()

    # ---------------------------------------------------------------- requests

    def handle(self, member: Member, request: ev.Request) -> None:
        """Carry out one request from ``member``."""
        if member.gone:
            return
        match request:
            case ev.Say(text, room) | ev.Act(text, room) if not text.strip():
                return self._fail(member, Code.BAD_REQUEST, "an empty message says nothing")
            case ev.Tell(_, text) if not text.strip():
                return self._fail(member, Code.BAD_REQUEST, "an empty message says nothing")
            case ev.Say(text, room) | ev.Act(text, room):
                target = self._member_room(member, room)
                if isinstance(target, ev.Error):
                    return self.reply(member, target)
                target.seq += 1
                kind = ev.Message if isinstance(request, ev.Say) else ev.Action
                event = kind(ev.now(), target.name, target.seq, member.nick, text)
                return self._post([_kept(event, target.recipients, member)])
            case ev.Tell(nick, text):
                other = self.members.get(fold(nick))
                if other is None:
                    return self._fail(member, Code.NO_SUCH_NICK, f'no one is called "{nick}"')
                private = ev.Private(ev.now(), member.nick, other.nick, text)
                to = (other,) if other is member else (other, member)
                record = PrivateRecord(private, member.account, other.account)
                return self._post([Delivery(private, to, keep=record, sender=member)])
            case ev.Join(name, after):
                if problem := room_problem(name):
                    return self._fail(
                        member, Code.ROOM_INVALID, f'"{name}" is not a room: {problem}'
                    )
                joined = member.rooms.pop(fold(name), None)
                if joined is not None:  # already in it: it becomes current
                    member.rooms[fold(name)] = joined
                    return self.reply(member, ev.Members(ev.now(), joined.name, _nicks(joined)))
                if len(member.rooms) >= self.limits.max_rooms:
                    count = len(member.rooms)
                    message = f"you are in {count} rooms already; /part one first"
                    return self._fail(member, Code.TOO_MANY_ROOMS, message)
                return self._join(member, self._room(name), welcome=False, after=after)
            case ev.Part(name):
                target = self._member_room(member, name)
                if isinstance(target, ev.Error):
                    return self.reply(member, target)
                return self._part(member, target, "part", announce=True)
            case ev.Who(name):
                found = self.rooms.get(fold(name)) if name else member.current
                if found is None:
                    message = f"there is no room {name}" if name else "you are in no room"
                    return self._fail(member, Code.NOT_IN_ROOM, message)
                return self.reply(member, ev.Members(ev.now(), found.name, _nicks(found)))
            case ev.ListRooms():
                # Guests can make many rooms; the answer must fit any outbox.
                rooms = heapq.nlargest(ROOMS_LISTED, self.rooms.values(), key=_population)
                rooms.sort(key=lambda r: fold(r.name))
                infos = tuple(ev.RoomInfo(r.name, len(r.members)) for r in rooms)
                return self.reply(member, ev.Rooms(ev.now(), infos))
            case ev.GetHistory():
                return self._get_history(member, request)
            case ev.ChangeNick(nick):
                return self._rename(member, nick)
            case ev.GetHelp():
                return self.reply(member, ev.Help(ev.now(), COMMANDS))
            case ev.Ping(token):
                return self.reply(member, ev.ServerPong(ev.now(), token))
            case ev.Hello():
                return self._fail(member, Code.ALREADY_REGISTERED, f"you are {member.nick} already")
        raise ValueError(f"the hub does not handle {request!r}")

    def _get_history(self, member: Member, request: ev.GetHistory) -> None:
        wanted = self.limits.history_replay if request.limit is None else request.limit
        count = min(self.limits.history_page, wanted)
        if request.nick is not None:
            if member.account is None:
                message = "private history is kept for registered nicknames only"
                return self._fail(member, Code.ACCOUNT_REQUIRED, message)
            fetch = self._private_history(member.account, request.nick, count)
            return self._post([Delivery(fetch, (member,), sender=member)])
        target = self._member_room(member, request.room)
        if isinstance(target, ev.Error):
            return self.reply(member, target)
        # Bounded by now: what comes after reaches the asker live.
        below = target.seq + 1
        if request.before is not None:
            below = min(below, request.before)
        fetch = self._history(target.name, limit=count, before=below, after=request.after)
        return self._post([Delivery(fetch, (member,), sender=member)])

    def reply(self, member: Member, event: ev.Event) -> None:
        """Send ``event`` to ``member`` alone, in order with its room events."""
        self._post([Delivery(event, (member,))])

    def _fail(self, member: Member, code: Code, message: str) -> None:
        self.reply(member, _error(code, message))

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
            # A room that emptied may have events still on their way to the
            # store: its number here is the one to go on from.
            seq = max(self.store.last_seq(name), self._emptied.pop(fold(name), 0))
            room = self.rooms[fold(name)] = Room(name, seq)
        return room

    def _join(self, member: Member, room: Room, *, welcome: bool, after: int | None = None) -> None:
        room.add(member)
        member.rooms[fold(room.name)] = room
        now = ev.now()
        intro: ev.Event = (
            ev.Welcome(now, member.nick, room.name, _nicks(room), len(self.members))
            if welcome
            else ev.Members(now, room.name, _nicks(room))
        )
        # What the newcomer missed, or else the room's recent messages: read
        # when the broadcast reaches this point, so it ends right before the
        # join and the live events take over with no gap and no overlap.
        limit = self.limits.history_page
        if after is None:
            limit = min(limit, self.limits.history_replay)
        replay = self._history(room.name, limit=limit, before=room.seq + 1, after=after, quiet=True)
        room.seq += 1
        joined = ev.Joined(now, room.name, room.seq, member.nick)
        self._post(
            [
                Delivery(intro, (member,)),
                Delivery(replay, (member,), sender=member),
                _kept(joined, room.recipients),
            ]
        )

    def _history(
        self, room: str, *, limit: int, before: int, after: int | None, quiet: bool = False
    ) -> Fetch:
        """``quiet``: an empty history is not worth a line (a replay on joining)."""

        async def fetch() -> ev.Event | None:
            past = await self.store.room_history(room, limit=limit, before=before, after=after)
            past = _fit(past, self._history_bytes, newest=after is None)
            return ev.History(ev.now(), room, tuple(past)) if past or not quiet else None

        return fetch

    def _private_history(self, account: str, other: str, limit: int) -> Fetch:
        async def fetch() -> ev.Event | None:
            past = await self.store.private_history(account, other, limit=limit)
            past = _fit(past, self._history_bytes, newest=True)
            return ev.PrivateHistory(ev.now(), other, tuple(past))

        return fetch

    def _part(self, member: Member, room: Room, reason: str, *, announce: bool) -> None:
        room.remove(member)
        del member.rooms[fold(room.name)]
        if announce:
            room.seq += 1
            left = ev.Left(ev.now(), room.name, room.seq, member.nick, reason)
            # the one who leaves sees it too, as the last event of that room
            self._post([_kept(left, (*room.recipients, member))])
        if not room.members and fold(room.name) != fold(LOBBY):
            del self.rooms[fold(room.name)]
            self._emptied[fold(room.name)] = room.seq
            if len(self._emptied) > self._emptied_sweep:
                # Once stored, a room's number is the store's to remember;
                # sweeping at twice the size left keeps the cost amortized.
                last = self.store.last_seq
                self._emptied = {r: s for r, s in self._emptied.items() if s > last(r)}
                self._emptied_sweep = 2 * len(self._emptied) + 64

    def _rename(self, member: Member, nick: str) -> None:
        old = member.nick
        if error := self._nick_error(nick, owner=member, account=member.account):
            return self.reply(member, error)
        if nick == old:
            return None
        del self.members[fold(old)]
        self.members[fold(nick)] = member
        if self.looks.get(skeleton(old)) is member:
            del self.looks[skeleton(old)]
        self.looks[skeleton(nick)] = member
        member.nick = nick
        if not member.rooms:
            return self.reply(member, ev.Notice(ev.now(), f"you are now known as {nick}"))
        deliveries = []
        for room in member.rooms.values():
            room.seq += 1
            event = ev.NickChanged(ev.now(), room.name, room.seq, old, nick)
            deliveries.append(_kept(event, room.recipients))
        return self._post(deliveries)

    # --------------------------------------------------------------- broadcast

    def _post(self, deliveries: list[Delivery]) -> None:
        self._send.send_nowait(deliveries)
        self._backlog += 1
        if self._backlog > self.limits.outbox_size and self._drained.is_set():
            self._drained = trio.Event()

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
        """Store and deliver what the hub posts, in order, until the hub is closed.

        Two stages: one task stores each batch, another delivers the batches
        stored, so a batch is delivered while the next one is committed.
        """
        stored_send, stored_receive = trio.open_memory_channel[list[Delivery]](1)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._store_batches, stored_send)
            task_status.started()
            async for batch in stored_receive:
                for delivery in batch:
                    try:
                        event = delivery.event
                        if isinstance(event, ev.Event):
                            self._deliver(event, delivery)
                        elif (fetched := await event()) is not None:
                            self._deliver(fetched, delivery)
                    except Exception:
                        # One bad event (or history read) costs that event,
                        # never the broadcast and with it the whole chat.
                        log.exception("an event could not be delivered")
                        if delivery.sender is not None:
                            failure = _failure()
                            self._deliver(failure, Delivery(failure, (delivery.sender,)))
                self._drained.set()

    async def _store_batches(self, stored: trio.MemorySendChannel[list[Delivery]]) -> None:
        async with stored:
            async for first in self._receive:
                batch = first
                while True:
                    try:
                        batch += self._receive.receive_nowait()
                    except trio.WouldBlock:
                        break
                self._backlog = 0  # everything posted is in this batch
                kept = [d.keep for d in batch if d.keep is not None]
                # Stored before anyone sees them: nothing seen is ever lost.
                if kept and (lost := await self._store(kept)):
                    batch = _replace_lost(batch, lost)
                await stored.send(batch)

    async def _store(self, kept: list[Stored]) -> set[int]:
        """Store ``kept``; returns the ids of those that could not be stored.

        When the batch fails, each event is tried alone, so that one event the
        store refuses costs that event and not the others of its batch.
        """
        try:
            await self.store.append(kept)
        except Exception:
            log.exception("storing %d event(s) failed; trying each alone", len(kept))
        else:
            return set()
        lost = set()
        for record in kept:
            try:
                await self.store.append([record])
            except Exception as exc:
                log.error("an event could not be stored, so it is not delivered: %r", exc)
                lost.add(id(record))
        return lost

    def _deliver(self, event: ev.Event, delivery: Delivery) -> None:
        for member in delivery.to:
            if not member.outbox.put(event) and not member.gone:
                # The IRC way: a client whose send queue overflows is dropped,
                # so that it never holds up anyone else.
                member.connection.kick(SEND_QUEUE_EXCEEDED)
            if delivery.close:
                member.outbox.close()


def _failure() -> ev.Error:
    """What the sender of an event that could be neither stored nor sent is told."""
    return _error(Code.SERVER_ERROR, "the server failed to carry out your last request")


def _replace_lost(batch: list[Delivery], lost: set[int]) -> list[Delivery]:
    """``batch`` without the events that were not stored; their senders are told."""
    kept = []
    for delivery in batch:
        if delivery.keep is None or id(delivery.keep) not in lost:
            kept.append(delivery)
        elif delivery.sender is not None:
            failure = _failure()
            kept.append(Delivery(failure, (delivery.sender,)))
    return kept


def _fit(events: list[E], budget: int, *, newest: bool) -> list[E]:
    """As many of ``events`` (oldest first) as fit in ``budget`` bytes, from
    the newest or from the oldest end; their JSON is the larger encoding."""
    count = size = 0
    for event in reversed(events) if newest else events:
        size += len(jsonl.encode(event))
        if size > budget:
            break
        count += 1
    return events[len(events) - count :] if newest else events[:count]


def _population(room: Room) -> int:
    return len(room.members)


def _nicks(room: Room) -> tuple[str, ...]:
    return tuple(m.nick for m in room.members)


def _error(code: Code, message: str) -> ev.Error:
    return ev.Error(ev.now(), code, message)
