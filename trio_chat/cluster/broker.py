"""Broker mode's Front: requests go through a log in Redis, then to the chat.

Each server appends what its members ask to one Redis Stream, the log
(XADD gives the order), and follows the log with a blocking XREAD, applying
every entry, its own and the others', to its copy of the chat (``Replica``).
So a member's own message comes back to it through the log, like everyone
else's, and a nickname asked for on two servers at once goes to whichever
``enter`` the log has first. The chat never awaits Redis: what it needs
from Redis is the order, and that is an input, the entry's place in the log.

Three tasks run beside the server's: the proposer (appends what sessions
ask, in batches, one round trip each), the follower, and the keeper (renews
this server's lease, announces the servers whose lease ran out, writes a
snapshot now and then; see ``keeper.py``).

When Redis cannot be reached, members are told, and what they send is
refused with ``unavailable`` rather than lost; leaving is kept and appended
once Redis is back, when the follower catches up from where it stopped. A
server that finds Redis without the chat it followed (Redis started again
without its data) cannot know what it missed: it stops, and its clients
reconnect to another server, or to it once restarted.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import coredis
import trio
from coredis.exceptions import ConnectionError as RedisConnectionError
from coredis.retry import NoRetryPolicy

from trio_chat.chat import Chat, Close, Deliver, Member
from trio_chat.chat.numbering import RoomIndex
from trio_chat.cluster import entries, snapshot
from trio_chat.cluster.entries import Account, Ask, Command, Enter, Leave, Lost, Operate
from trio_chat.cluster.keeper import EpochChanged, Keeper, Keys, SettingsDiffer
from trio_chat.cluster.replica import Replica
from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import fold
from trio_chat.server.accounts import Accounts, Credential
from trio_chat.server.config_file import masked
from trio_chat.server.front import ChatLost, Unavailable
from trio_chat.server.pump import Pump

log = logging.getLogger("trio_chat.cluster")

DOWN = Unavailable("the chat's Redis cannot be reached just now; try again shortly")
OUTAGE_NOTICE = (
    "this server lost contact with the chat's Redis: messages are refused until it is back"
)
BACK_NOTICE = "this server is back in contact: you may send again"
REFUSED = "not let in: Redis was unreachable"
LOCAL = (ev.Ping, ev.GetHelp)  # answered here, at once, even when Redis is down
BATCH = 1000  # entries per XADD round trip and per XREAD
HELD_BACK = 4 * BATCH  # entries waiting to be appended before readers are held back
SNAPSHOT_SECONDS = 60.0  # how often a server that has applied new entries writes a snapshot
REDIS_DOWN = (RedisConnectionError, TimeoutError, OSError)
BACKOFF_MAX = 2.0  # seconds between tries to reach Redis again, at most
SCHEMES = ("redis", "rediss", "unix")


class BrokerLost(ChatLost):
    """This server can no longer follow the chat and must start again."""


class Broker:
    """Built before the server (its accounts save through it); ``front``
    then joins it to the server's chat and pump, and it is that server's Front."""

    def __init__(
        self,
        redis: coredis.Redis[Any],
        *,
        prefix: str = "trio-chat:",
        lease: float = 15.0,
        rooms: int = 10_000,
        max_rooms: int = 20,
        moderation: dict[str, object] | None = None,
    ) -> None:
        """``moderation``: the limits of moderation (``max_bans``,
        ``max_owned_rooms``, ``operator``), which every copy must share too."""
        self.redis = redis
        # What every copy of the chat must agree on, or they would number alike no more.
        self.settings: dict[str, object] = {"history_rooms": rooms, "max_rooms": max_rooms}
        self.settings |= moderation or {}
        self.lease = lease
        self.keeper = Keeper(redis, Keys(prefix), lease)
        self.numbering = RoomIndex(rooms)
        self.accounts: Accounts | None = None  # learns the log's registrations
        self.up = True
        self._snapshot_at = b"0-0"  # the position of the last snapshot written
        self._connections = itertools.count(1)
        self._origins: dict[Member, str] = {}  # this server's members, once they ask to enter
        self._waiting: dict[str, trio.Event] = {}  # origins waiting for their entry to be applied
        self._retry: list[tuple[str, Command]] = []  # leaves to append once Redis is back
        self._back = trio.Event()
        self._send, self._receive = trio.open_memory_channel[tuple[str, Command]](math.inf)
        self._unsent = 0  # entries proposed and not yet in the log
        self._sent = trio.Event()  # set (and replaced) whenever a batch is in the log or refused

    @property
    def instance(self) -> str:
        return self.keeper.instance

    @property
    def cloak_key(self) -> bytes | None:
        """Of members' cloaks: the chat's, shared by its servers (once joined)."""
        return self.keeper.cloak_key

    def last_seq(self, room: str) -> int:
        """Where ``room``'s numbering goes on from, as the log has it so far."""
        return self.numbering.last_seq(fold(room))

    def forgotten(self) -> list[str]:
        """The rooms (folded) whose history is no longer kept, since last asked."""
        gone, self.replica.forgotten = self.replica.forgotten, []
        return gone

    # ------------------------------------------------------------- the Front

    def front(self, chat: Chat, pump: Pump) -> Broker:
        self.chat = chat
        self.pump = pump
        self.replica = Replica(chat, self.instance, self.numbering, self._learn)
        return self

    async def enter(
        self,
        member: Member,
        nick: str,
        *,
        identified: bool,
        resume: Sequence[ev.RoomSeq],
        key: str | None = None,
        lobby: bool = True,
    ) -> None:
        if not self.up:
            self._refuse(member)
            return
        origin = self._origin()
        self._origins[member] = origin
        self.replica.local[origin] = member
        command = Enter(nick, identified, tuple(resume), key, member.user, member.host, lobby)
        await self._propose_and_wait(origin, command)
        if not member.present:  # refused: a later try is a new connection to the log
            del self._origins[member]
            self.replica.local.pop(origin, None)

    def apply(self, member: Member, request: ev.Request) -> None:
        origin = self._origins.get(member)
        if origin is None or isinstance(request, LOCAL):
            self.pump.post(self.chat.apply(member, request, ev.now()))
        elif not self.up:
            self._refuse(member)
        else:
            self._propose(origin, Ask(request))

    def leave(self, member: Member, reason: str) -> None:
        origin = self._origins.pop(member, None)
        if origin is None:  # never in the chat
            self.pump.post(self.chat.leave(member, reason, ev.now()))
            return
        if not self.up:  # the others hear of it later; the client need not wait
            self.pump.post([Deliver(ev.Bye(ev.now(), reason), (member,)), Close(member, reason)])
        self._propose(origin, Leave(reason))

    def registered(self, member: Member) -> None:
        pass  # the replica identifies it, where the log has the registration

    def operator(self, member: Member, name: str) -> None:
        origin = self._origins.get(member)
        if origin is None or not self.up:
            self._refuse(member)
        else:
            self._propose(origin, Operate(name))

    def shutdown(self) -> None:
        pass  # the other servers' members see this one's members leave

    async def wait_for_room(self) -> None:
        while self._unsent > HELD_BACK:
            await self._sent.wait()
        await self.pump.wait_for_room()

    async def drain(self) -> None:
        while self._unsent:
            await self._sent.wait()

    async def save(self, nick: str, credential: Credential) -> None:
        """Accounts' save: the registration goes through the log to every server."""
        c = credential
        if not self.up or not await self._propose_and_wait(
            self._origin(), Account(nick, c.salt, c.hash, c.n, c.r, c.p)
        ):
            raise DOWN

    # ----------------------------------------------------------------- tasks

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with self.redis:
            try:
                await self._join()
            except REDIS_DOWN as exc:
                raise BrokerLost(f"cannot reach Redis: {exc}") from None
            except SettingsDiffer as exc:
                [theirs] = exc.args
                differ = ", ".join(
                    f"--{k.replace('_', '-')} {theirs.get(k)} (this server: {v})"
                    for k, v in self.settings.items()
                    if theirs.get(k) != v
                )
                raise BrokerLost(f"every server of the chat must have {differ}") from None
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._follow)
                nursery.start_soon(self._propose_loop)
                nursery.start_soon(self._keep)
                task_status.started()

    async def _join(self) -> None:
        """Take a lease, and catch up with the log before taking any client."""
        state = await self.keeper.join(self.settings)
        if state is not None:
            for account in snapshot.load(state, self.replica, self.numbering):
                self._learn(account)
            self._snapshot_at = self.replica.position
        while await self._read(block=None):
            pass
        await self.keeper.renew(self.replica.position)
        log.info("joined the chat as server %s at %s", self.instance, self.replica.position)

    async def _follow(self) -> None:
        backoff = 0.1
        while True:
            try:
                if not self.up:
                    await self._read(block=None)  # answers at once, once Redis is back
                    self._recovered()
                    backoff = 0.1
                await self._read(block=5000)
            except REDIS_DOWN as exc:
                self._outage(exc)
                await trio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)

    async def _read(self, block: int | None) -> int:
        """Apply what the log holds after our position; returns how many."""
        key = self.keeper.keys.log
        answer = await self.redis.xread({key: self.replica.position}, count=BATCH, block=block)
        got = answer.get(key.encode(), ()) if answer else ()
        for item in got:
            entry_id = _bytes(item.identifier)
            try:
                fields = {_bytes(k): _bytes(v) for k, v in item.field_values.items()}
                entry = entries.decode(entry_id, fields)
            except entries.BadEntry as exc:
                log.error("skipped: %s", exc)
                self.replica.position = entry_id
                continue
            self.pump.post(self.replica.apply(entry))
            if (waiting := self._waiting.pop(entry.origin, None)) is not None:
                waiting.set()
        return len(got)

    async def _propose_loop(self) -> None:
        key = self.keeper.keys.log
        while True:
            batch = [*self._retry, await self._receive.receive()]
            self._retry = []
            while len(batch) < BATCH:
                try:
                    batch.append(self._receive.receive_nowait())
                except trio.WouldBlock:
                    break
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for origin, command in batch:
                        pipe.xadd(key, entries.encode(origin, command))
            except REDIS_DOWN as exc:
                self._outage(exc)
                self._failed(batch)
            self._unsent -= len(batch) - len(self._retry)
            # wakes everyone waiting now; later waiters wait for the next batch
            self._sent.set()
            self._sent = trio.Event()
            if self._retry:
                await self._back.wait()

    def _failed(self, batch: list[tuple[str, Command]]) -> None:
        """Redis did not take ``batch``, or not all of it (the connection
        broke on the way): each one who asked is told, and leaving is kept to
        append later, also for an ``Enter``, so that one that did reach the
        log leaves no member behind in any copy of the chat."""
        for origin, command in batch:
            if isinstance(command, Leave | Lost):
                self._retry.append((origin, command))
                continue
            if isinstance(command, Enter):
                self._retry.append((origin, Leave(REFUSED)))
            if (waiting := self._waiting.pop(origin, None)) is not None:
                waiting.set()
            member = self.replica.local.get(origin)
            if isinstance(command, Ask | Enter) and member is not None:
                self._refuse(member)

    async def _keep(self) -> None:
        """Renew our lease; announce the servers whose lease ran out; now
        and then, write a snapshot."""
        next_snapshot = trio.current_time() + SNAPSHOT_SECONDS
        while True:
            await trio.sleep(self.lease / 3)
            try:
                await self._renew()
                if trio.current_time() >= next_snapshot:
                    next_snapshot = trio.current_time() + SNAPSHOT_SECONDS
                    if self.replica.position != self._snapshot_at:
                        await self.write_snapshot()
            except REDIS_DOWN:
                continue  # the follower tells the members
            except EpochChanged:
                raise BrokerLost(
                    "Redis no longer holds the chat this server was following (was it "
                    "started again without its data?); start this server again"
                ) from None

    async def _renew(self) -> None:
        if not await self.keeper.renew(self.replica.position):
            log.warning(
                "this server's lease ran out while Redis was unreachable: its members will be "
                "announced as gone, and it goes on as server %s",
                self.instance,
            )
            self.replica.instance = self.instance
        origins = (*self.replica.local, *self.replica.remote)
        others = sorted({o.partition("/")[0] for o in origins} - {self.instance})
        for instance in await self.keeper.gone(others):
            log.warning("server %s stopped renewing its lease: its members are gone", instance)
            self._propose(entries.origin(self.instance, 0), Lost(instance))

    async def write_snapshot(self) -> None:
        """Keep this server's copy of the chat in Redis, and trim the log below it."""
        credentials = self.accounts.credentials if self.accounts else {}
        accounts = [Account(n, c.salt, c.hash, c.n, c.r, c.p) for n, c in credentials.items()]
        position = self.replica.position
        await self.keeper.write_snapshot(
            position, snapshot.dump(self.replica, self.numbering, accounts)
        )
        self._snapshot_at = position

    # ---------------------------------------------------------------- helpers

    def _origin(self) -> str:
        return entries.origin(self.instance, next(self._connections))

    def _propose(self, origin: str, command: Command) -> None:
        self._unsent += 1
        self._send.send_nowait((origin, command))

    async def _propose_and_wait(self, origin: str, command: Command) -> bool:
        """Append ``command`` and wait until the follower has applied it;
        False when Redis did not take it."""
        waiting = self._waiting[origin] = trio.Event()
        self._propose(origin, command)
        await waiting.wait()
        return self.up

    def _learn(self, account: Account) -> None:
        if self.accounts is not None:
            a = account
            self.accounts.learn(a.nick, Credential(a.salt, a.hash, a.n, a.r, a.p))

    def _refuse(self, member: Member) -> None:
        self.pump.tell(member, ev.Error(ev.now(), Code.UNAVAILABLE, str(DOWN)))

    def _outage(self, exc: BaseException) -> None:
        if self.up:
            log.error("lost contact with Redis: %r", exc)
            self.up = False
            self._back = trio.Event()
            self._tell_all(OUTAGE_NOTICE)

    def _recovered(self) -> None:
        log.info("back in contact with Redis")
        self.up = True
        self._back.set()
        self._tell_all(BACK_NOTICE)

    def _tell_all(self, text: str) -> None:
        for member in list(self.replica.local.values()):
            if member.present:
                self.pump.tell(member, ev.Notice(ev.now(), text))


def connect(url: str) -> coredis.Redis[Any]:
    """A client for the one Redis at ``url`` (redis://, rediss:// or unix://).

    It never sends a command again by itself: an XADD that Redis took
    before the connection broke would append the same request twice.
    """
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise BrokerLost(
            f"--broker {masked(url)!r}: give one Redis as redis://HOST:PORT/DB, "
            "rediss://... (TLS) or unix://PATH (Sentinel and Cluster URLs are not supported)"
        )
    return coredis.Redis.from_url(url, decode_responses=False, retry_policy=NoRetryPolicy())


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
