"""The chat server: the chat and its pump behind any number of listeners.

Accepting connections: limits at the door, a session each, and shutdown.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

import trio

from trio_chat.chat import Chat
from trio_chat.protocol import events as ev
from trio_chat.protocol.connection import ServerCodec
from trio_chat.protocol.errors import Code
from trio_chat.protocol.text import format_event
from trio_chat.server import irc
from trio_chat.server.accounts import Accounts
from trio_chat.server.addresses import Source
from trio_chat.server.cloak import cloak
from trio_chat.server.config import Limits
from trio_chat.server.front import Front, LocalFront
from trio_chat.server.logformat import fields
from trio_chat.server.metrics import Metrics
from trio_chat.server.pump import Pump
from trio_chat.server.session import Session
from trio_chat.server.store import MemoryStore, Store
from trio_chat.server.watch import DatabaseWatch
from trio_chat.transports import NotChat, carrier, peer_address

log = logging.getLogger("trio_chat.server")

SHUTDOWN_REASON = "server shutting down"
# How the server reaches its chat: LocalFront, or broker mode's.
MakeFront = Callable[[Chat, Pump], Front]
# Seconds a closing connection may take to say goodbye at the transport level.
CLOSE_TIMEOUT = 1.0
# The wire format of a listener's connections, by its ``codec`` (none: the chat's own).
CODECS: dict[str, Callable[[Limits, Chat], ServerCodec] | None] = {
    "chat": None,
    "irc": irc.open_codec,
}


class ChatServer:
    """The chat behind any number of listeners.

    ``serve`` runs it; ``shutdown`` (from any task) makes ``serve`` tell every
    client, close every connection within ``limits.shutdown_grace`` seconds,
    and return.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        store: Store | None = None,
        accounts: Accounts | None = None,
        *,
        front: MakeFront = LocalFront,
        cloak_key: bytes | None = None,
        watch: DatabaseWatch | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """``cloak_key``: of members' cloaks (see cloak.py); random when None.
        ``watch``: server bans and accounts changed in the database by ``trio-chat admin``."""
        self.watch = watch
        self.limits = limits = limits or Limits()
        self.metrics = metrics or Metrics()
        self.cloak_key = cloak_key or secrets.token_bytes(32)
        self.store: Store = store or MemoryStore.for_limits(limits)
        self.accounts = accounts or Accounts(hashing=limits.hash_workers)
        self.chat = Chat(
            max_rooms=limits.max_rooms,
            history_replay=limits.history_replay,
            history_page=limits.history_page,
            last_seq=self.store.last_seq,
            registered=self.accounts.like,
            saved=self.store.room_settings(),
            operators=limits.operator,
            max_bans=limits.max_bans,
            max_owned_rooms=limits.max_owned_rooms,
        )
        # A history answer leaves room in the asker's outbox for what goes on live.
        self.pump = Pump(
            self.store,
            backlog=limits.outbox_size,
            history_bytes=limits.outbox_bytes // 4,
            metrics=self.metrics,
        )
        self.front = front(self.chat, self.pump)
        self.sessions: set[Session] = set()
        self._per_address: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._stopping = trio.Event()

    def shutdown(self) -> None:
        self.metrics.ready = False
        self._stopping.set()

    @property
    def shutting_down(self) -> bool:
        return self._stopping.is_set()

    async def serve(
        self,
        listeners: list[trio.abc.Listener[Any]],
        *,
        task_status: trio.TaskStatus[ChatServer] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(self.pump.run)
            async with trio.open_nursery() as fronting:
                await fronting.start(self.front.run)
                if self.watch is not None:
                    await fronting.start(self.watch.run)
                await self._serve_connections(listeners, task_status)
                with trio.move_on_after(self.limits.shutdown_grace):
                    await self.front.drain()
                fronting.cancel_scope.cancel()
            # Let the pump store what is still queued, then stop.
            self.pump.close()
            nursery.cancel_scope.deadline = trio.current_time() + self.limits.shutdown_grace
        log.info("shut down")

    async def _serve_connections(
        self, listeners: list[trio.abc.Listener[Any]], task_status: trio.TaskStatus[ChatServer]
    ) -> None:
        """Accept connections until shutdown, then close them all."""
        async with trio.open_nursery() as connections:
            accepting = trio.CancelScope()

            async def accept() -> None:
                by_codec: dict[str, list[trio.abc.Listener[Any]]] = {}
                for listener in listeners:
                    by_codec.setdefault(getattr(listener, "codec", "chat"), []).append(listener)
                with accepting:
                    async with trio.open_nursery() as kinds:
                        for codec, group in by_codec.items():
                            handle = functools.partial(self._handle, codec=codec)
                            serving = functools.partial(
                                trio.serve_listeners, handle, group, handler_nursery=connections
                            )
                            kinds.start_soon(serving)

            connections.start_soon(accept)
            task_status.started(self)
            self.metrics.ready = not self.shutting_down
            await self._stopping.wait()
            log.info("shutting down: %d connection(s) to close", len(self.sessions))
            accepting.cancel()
            self.front.shutdown()
            for session in list(self.sessions):
                session.stop(SHUTDOWN_REASON)
            connections.cancel_scope.deadline = trio.current_time() + self.limits.shutdown_grace

    async def _handle(self, stream: trio.abc.Stream, codec: str = "chat") -> None:
        # trio.serve_listeners would let an exception here end the whole
        # server: contain it to this connection.
        conn_id = next(self._ids)
        address = peer_address(stream)
        try:
            source = self.limits.source(address)
            if refusal := self._banned(address) or self._refusal(source):
                log.info(
                    "#%d from %s refused: %s",
                    conn_id,
                    address,
                    refusal.message,
                    extra=fields("refused", conn=conn_id, address=address, code=refusal.code),
                )
                self.metrics.refused(refusal.code)
                opened = CODECS[codec]
                refused = (
                    opened(self.limits, self.chat).encoder(ev.Bye(refusal.time, refusal.message))
                    if opened
                    else format_event(refusal)
                )
                with trio.move_on_after(1):
                    await stream.send_all(refused)
                return
            await self._run_session(conn_id, address, source.group, stream, CODECS[codec])
        except Exception:
            log.exception(
                "#%d from %s failed",
                conn_id,
                address,
                extra=fields("failed", conn=conn_id, address=address),
            )
        finally:
            # A graceful close says goodbye at the transport's own level too
            # (TLS close_notify, a WebSocket close frame), so the client sees
            # the end of the stream rather than a broken connection.
            with trio.move_on_after(CLOSE_TIMEOUT):
                await stream.aclose()

    def _banned(self, address: str) -> ev.Error | None:
        if self.watch is None or not (ban := self.watch.address_ban(address)):
            return None
        return ev.Error(ev.now(), Code.BANNED, ban.describe())

    def _refusal(self, source: Source) -> ev.Error | None:
        limits = self.limits
        if limits.max_clients and len(self.sessions) >= limits.max_clients:
            return ev.Error(ev.now(), Code.SERVER_FULL, "the server is full, try again later")
        if (
            limits.max_per_address
            and not source.exempt
            and self._per_address[source.group] >= limits.max_per_address
        ):
            return ev.Error(
                ev.now(), Code.TOO_MANY_CONNECTIONS, "too many connections from your address"
            )
        return None

    async def _run_session(
        self,
        conn_id: int,
        address: str,
        group: str,
        stream: trio.abc.Stream,
        codec: Callable[[Limits, Chat], ServerCodec] | None,
    ) -> None:
        # Past max_clients minus the reserve, only registered nicknames get in:
        # idle guests cannot keep their owners out.
        limits = self.limits
        guests_full = bool(limits.max_clients) and (
            len(self.sessions) >= limits.max_clients - limits.reserved
        )
        session = Session(
            stream,
            front=self.front,
            accounts=self.accounts,
            limits=limits,
            address=address,
            host=cloak(group, self.front.cloak_key or self.cloak_key),
            accounts_only=guests_full,
            codec=codec,
            watch=self.watch,
        )
        self.sessions.add(session)
        self._per_address[group] += 1
        try:
            if await self._handshake(conn_id, address, stream):
                await self._logged(conn_id, address, session)
        finally:
            self.sessions.discard(session)
            self._per_address[group] -= 1
            if not self._per_address[group]:
                del self._per_address[group]

    async def _handshake(self, conn_id: int, address: str, stream: trio.abc.Stream) -> bool:
        """A TLS or WebSocket stream's handshake, within the handshake timeout.

        Done before the session, so that a connection that only fetched the
        browser client's page, or never finished its handshake, is logged in
        one line and never reaches the chat.
        """
        handshake = getattr(stream, "do_handshake", None)
        if handshake is None:
            return True
        try:
            with trio.fail_after(self.limits.handshake_timeout):
                await handshake()
        except NotChat as answered:
            log.info(
                "#%d from %s: %s",
                conn_id,
                address,
                answered,
                extra=fields("not_chat", conn=conn_id, address=address, answered=str(answered)),
            )
        except (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError) as exc:
            why = str(exc) or "too slow"
            log.info(
                "#%d from %s: handshake failed: %s",
                conn_id,
                address,
                why,
                extra=fields("handshake_failed", conn=conn_id, address=address, error=why),
            )
        else:
            return True
        return False

    async def _logged(self, conn_id: int, address: str, session: Session) -> None:
        opened = trio.current_time()
        log.info(
            "#%d opened from %s",
            conn_id,
            address,
            extra=fields("opened", conn=conn_id, address=address),
        )
        self.metrics.opened(session, carrier(session.stream))
        try:
            await session.run()
        finally:
            self.metrics.closed(session)
            log.info(
                "#%d closed from %s (nick %s) after %.1f s: %s",
                conn_id,
                address,
                session.nick or "-",
                trio.current_time() - opened,
                quoted(session.reason),
                extra=fields(
                    "closed",
                    conn=conn_id,
                    address=address,
                    nick=session.nick,
                    seconds=round(trio.current_time() - opened, 1),
                    reason=session.reason,
                ),
            )


def quoted(text: str) -> str:
    """``text`` from a client, as a log line may hold it: a JSON string, so
    that it cannot end the line or pass for the server's own words."""
    return json.dumps(text)


async def serve(
    listeners: list[trio.abc.Listener[Any]],
    *,
    limits: Limits | None = None,
    store: Store | None = None,
    accounts: Accounts | None = None,
    task_status: trio.TaskStatus[ChatServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run a chat on ``listeners`` until its ``shutdown()`` has finished.

    ``await nursery.start(serve, listeners)`` returns the ChatServer.
    """
    await ChatServer(limits, store, accounts).serve(listeners, task_status=task_status)
