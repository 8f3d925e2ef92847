"""One client's connection: a reader and a writer under one nursery.

Data flows one way. The reader turns bytes into requests through the
sans-IO protocol connection and hands them to the front, which has the chat
carry them out and posts the effects to the pump (at once, or once they come
back through the shared log in broker mode); the pump puts events in this
session's outbox; the
writer sends what the outbox holds, as many events per write as have queued.
Nothing calls back into the session: when the pump closes the outbox (the
member's last event was sent, or it overflowed), the writer ends, and with
it the session. However it ends, the chat is told exactly once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import trio

from trio_chat.chat import Chat, Member
from trio_chat.protocol import BLANK, CLOSED, BadInput, ServerConnection
from trio_chat.protocol import events as ev
from trio_chat.protocol.connection import ServerCodec
from trio_chat.protocol.errors import Code
from trio_chat.protocol.flood import TokenBucket
from trio_chat.protocol.irc import IrcServerConnection, SaslPlain
from trio_chat.protocol.presence import Oper
from trio_chat.protocol.reading import read_event
from trio_chat.protocol.rules import token_key, token_problem
from trio_chat.server import irc
from trio_chat.server.accounts import Accounts
from trio_chat.server.config import Limits
from trio_chat.server.front import Front
from trio_chat.server.outbox import DirectWrite, Outbox
from trio_chat.server.passwords import Passwords
from trio_chat.server.watch import DatabaseWatch

GREETING = "welcome to trio-chat; choose a nickname"


class Session:
    __slots__ = (
        "_bucket",
        "_last_heard",
        "_left",
        "_nursery",
        "_pinging",
        "_reading",
        "_reason",
        "_send_now",
        "accounts",
        "accounts_only",
        "conn",
        "front",
        "limits",
        "member",
        "outbox",
        "passwords",
        "pump",
        "stream",
        "watch",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        *,
        front: Front,
        accounts: Accounts,
        limits: Limits,
        address: str = "unknown",
        host: str = "unknown",
        accounts_only: bool = False,
        codec: Callable[[Limits, Chat], ServerCodec] | None = None,
        watch: DatabaseWatch | None = None,
    ) -> None:
        """``host``: the cloak of ``address`` that ban masks see; ``watch``:
        the server bans, and accounts kept in step with the database."""
        self.watch = watch
        self.stream = stream
        self.front = front
        self.pump = front.pump
        self.accounts = accounts
        self.limits = limits
        self.accounts_only = accounts_only  # came in a slot kept for registered nicknames
        self.conn = (
            codec(limits, front.chat)
            if codec
            else ServerConnection(max_line_bytes=limits.max_line_bytes)
        )
        self._send_now = stream.send_now if isinstance(stream, DirectWrite) else None
        self.outbox = Outbox(
            max_events=limits.outbox_size,
            max_bytes=limits.outbox_bytes,
            encode=self.conn.encoder,
            send_now=self._send_now,
            keep=self.conn.keep,
            dropped=self.conn.dropped,
        )
        self.member = Member(self.outbox)
        self.member.host = host
        self.passwords = Passwords(
            accounts, self.pump, self.member, limits.source(address), address
        )
        self._reason = "connection closed"
        self._left = False
        self._nursery: trio.Nursery | None = None
        self._reading = trio.CancelScope()
        self._pinging: trio.CancelScope | None = None  # only JSON clients are pinged
        self._last_heard = trio.current_time()
        self._bucket = TokenBucket(
            burst=limits.flood_burst,
            rate=limits.flood_rate,
            kick=limits.flood_kick,
            now=self._last_heard,
        )

    @property
    def nick(self) -> str | None:
        return self.member.nick or None

    @property
    def reason(self) -> str:
        """Why the session ended: the outbox's closing says it first."""
        return self.outbox.reason or self._reason

    async def run(self) -> None:
        """Serve the client until the session ends; never raises for I/O."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._write_loop)
                with self._reading:
                    await self._read_loop()
                if self._pinging is not None:
                    self._pinging.cancel()
                self._leave()
                # the writer sends what is left, the Bye last, then ends
                nursery.cancel_scope.deadline = trio.current_time() + self.limits.shutdown_grace
        finally:
            self._leave()

    def reconfigure(self, limits: Limits) -> None:
        """Hold the client to new limits (a reload) from its next line on;
        its line length and handshake keep those it connected with."""
        self.limits = limits
        self._bucket.burst = limits.flood_burst
        self._bucket.rate = limits.flood_rate
        self._bucket.kick = limits.flood_kick
        self.outbox.max_events = limits.outbox_size
        self.outbox.max_bytes = limits.outbox_bytes

    def stop(self, reason: str) -> None:
        """End the session gracefully: the client is told ``reason``."""
        self._reason = reason
        self._reading.cancel()

    def _leave(self) -> None:
        if not self._left:
            self._left = True
            self.front.leave(self.member, self.reason)

    # ----------------------------------------------------------------- reading

    async def _read_loop(self) -> None:
        if self.conn.greets:
            self.pump.tell(self.member, ev.Notice(ev.now(), GREETING))
        with trio.move_on_after(self.limits.handshake_timeout):
            while not self.member.present:
                if not await self._next_request():
                    return
        if not self.member.present:
            self._reason = "no nickname chosen in time"
            return
        while await self._next_request():
            await self.front.wait_for_room()

    async def _next_request(self) -> bool:
        """Read and carry out one request; False when the session should end."""
        try:
            event = await read_event(self.conn, self.stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._reason = "connection lost"
            return False
        self._last_heard = trio.current_time()
        if event is CLOSED:
            return False
        if not self.member.present:  # the first line has chosen the mode
            self.outbox.encode = self.conn.encoder
        if not await self._flood_control():
            return False
        if event is BLANK:  # counted above, and says nothing
            return True
        match event:
            case BadInput(code, message):
                self.pump.tell(self.member, ev.Error(ev.now(), code, message))
            case ev.Quit(reason):
                self._reason = f"quit: {reason}" if reason else "quit"
                return False
            case ev.Pong():
                pass
            case ev.Hello(nick, password, resume, token) if not self.member.present:
                await self._enter(nick, password, resume, token)
            case ev.Register(password) if self.member.present:
                await self.passwords.register(self.front, password.strip())
            case ev.SetPassword(old, new) if self.member.present:
                await self.passwords.change(old.strip(), new.strip())
            case Oper(name, password) if self.member.present:
                await self.passwords.operate(self.front, name, password.strip())
            case SaslPlain(account, password):
                await irc.authenticate(self, account, password)
            case ev.Event():  # the connection's own answer (IRC's CAP, PING...)
                self.pump.tell(self.member, event)
            case ev.Request():
                self.front.apply(self.member, event)
        return True

    async def _flood_control(self) -> bool:
        delay = self._bucket.delay(trio.current_time())
        if self._bucket.abused:
            self._reason = "excess flood"
            return False
        if delay:
            await trio.sleep(delay)
        return True

    async def _enter(
        self, nick: str, password: str | None, resume: tuple[ev.RoomSeq, ...], token: str | None
    ) -> None:
        if token is not None and (problem := token_problem(token)):
            self.pump.tell(self.member, ev.Error(ev.now(), Code.BAD_REQUEST, problem))
            return
        identified = False
        if self.watch is not None and self._banned(nick, identified=False):
            return
        if self.accounts.is_registered(nick):
            if password is None:
                self._ask(self.conn.expect_password(nick, ev.now()))
                return
            if not await self.passwords.check(nick, password.strip()):
                # Whoever got it wrong types it again: in text mode the next
                # line is still the password, never a nickname shown to all.
                self._ask(self.conn.expect_password(nick, ev.now(), again=True))
                return
            identified = True
        if self.watch is not None and identified:
            if self._banned(nick, identified=True):
                return
            await self.watch.signed_in(nick)
        if self.accounts_only and not identified:
            message = "the server is full for guests; registered nicknames may still sign in"
            self.pump.tell(self.member, ev.Error(ev.now(), Code.SERVER_FULL, message))
            return
        key = token_key(token) if token is not None else None
        self.member.user, self.member.realname = self.conn.identity or ("user", "")
        lobby = self.limits.irc_lobby or not isinstance(self.conn, IrcServerConnection)
        await self.front.enter(
            self.member, nick, identified=identified, resume=resume, key=key, lobby=lobby
        )
        if self.member.present:
            self.conn.accept()
            if self.limits.welcome:
                self.pump.tell(self.member, ev.Notice(ev.now(), self.limits.welcome))
            if self.conn.pings and self.limits.ping_interval > 0 and self._nursery:
                self._pinging = trio.CancelScope()  # made here: it may be cancelled first
                self._nursery.start_soon(self._ping_loop)

    def _banned(self, nick: str, *, identified: bool) -> bool:
        """Whether a server ban refuses this sign-in; if so, the session ends."""
        assert self.watch is not None
        if ban := self.watch.sign_in_ban(nick, identified=identified):
            self.pump.tell(self.member, ev.Error(ev.now(), Code.BANNED, ban.describe()))
            self.stop(ban.describe())
        return ban is not None

    def _ask(self, prompt: ev.Event | None) -> None:
        if prompt is not None:
            self.pump.tell(self.member, prompt)

    # ----------------------------------------------------------------- writing

    async def _write_loop(self) -> None:
        """Send what the outbox holds until it is closed and empty."""
        send_now = self._send_now
        with self.outbox.discarded:  # cancelled when the pump throws its content away
            while data := await self.outbox.take_all():
                try:
                    sent = send_now(data) if send_now else 0
                    if sent < len(data):
                        await self.stream.send_all(memoryview(data)[sent:])
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    self._reason = "connection lost"
                    break
        self._reading.cancel()  # nothing more can reach the client

    # ------------------------------------------------------------ keeping alive

    async def _ping_loop(self) -> None:
        """Ping a JSON client that has been silent; drop it if it stays so."""
        assert self._pinging is not None
        with self._pinging:
            while True:
                await trio.sleep_until(self._last_heard + self.limits.ping_interval)
                if trio.current_time() - self._last_heard < self.limits.ping_interval:
                    continue  # heard from meanwhile
                sent = trio.current_time()
                self.pump.tell(self.member, ev.ServerPing(ev.now(), secrets.token_hex(4)))
                await trio.sleep(self.limits.ping_timeout)
                if self._last_heard < sent:
                    self.stop("ping timeout")
                    return
