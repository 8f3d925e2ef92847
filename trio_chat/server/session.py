"""One client's connection: a reader and a writer under one nursery.

The reader turns bytes into requests (through the sans-IO protocol) and hands
them to the hub; the writer drains the client's outbox into the stream, as
many events per write as have queued. Whatever ends the session (quit, end of
stream, a broken connection, a kick, shutdown), the hub is told exactly once
and the client gets a Bye when it can still read one.
"""

from __future__ import annotations

import logging
import math
import secrets

import trio

from trio_chat.protocol import BLANK, CLOSED, NEED_DATA, BadInput, ServerConnection
from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code
from trio_chat.protocol.flood import TokenBucket
from trio_chat.protocol.rules import fold
from trio_chat.protocol.text import COMMANDS
from trio_chat.server.accounts import MIN_PASSWORD
from trio_chat.server.config import Limits
from trio_chat.server.hub import SEND_QUEUE_EXCEEDED, Hub, Member
from trio_chat.server.outbox import DirectWrite, Outbox

log = logging.getLogger(__name__)

GREETING = "welcome to trio-chat; choose a nickname"
RECEIVE_SIZE = 65536


class Session:
    __slots__ = (
        "_bucket",
        "_last_heard",
        "_nursery",
        "_password_for",
        "_pinging",
        "_reading",
        "_send_now",
        "_session",
        "accounts_only",
        "address",
        "conn",
        "hub",
        "limits",
        "member",
        "outbox",
        "reason",
        "stream",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        hub: Hub,
        limits: Limits,
        address: str = "unknown",
        *,
        accounts_only: bool = False,
    ) -> None:
        self.stream = stream
        self.hub = hub
        self.limits = limits
        self.address = address
        self.accounts_only = accounts_only  # came in a slot kept for registered nicknames
        self.conn = ServerConnection(max_line_bytes=limits.max_line_bytes)
        self._send_now = stream.send_now if isinstance(stream, DirectWrite) else None
        self.outbox = Outbox(
            max_events=limits.outbox_size,
            max_bytes=limits.outbox_bytes,
            encode=self.conn.encoder,
            send_now=self._send_now,
        )
        self.member: Member | None = None
        self.reason = "connection closed"
        self._reading = trio.CancelScope()
        self._session = trio.CancelScope()
        self._nursery: trio.Nursery | None = None
        self._pinging = trio.CancelScope()  # the pinger, once there is one
        # Text mode asks for a registered nickname's password on a line of its
        # own: the nickname waiting for it.
        self._password_for: str | None = None
        self._last_heard = trio.current_time()
        self._bucket = TokenBucket(
            burst=limits.flood_burst,
            rate=limits.flood_rate,
            kick=limits.flood_kick,
            now=self._last_heard,
        )

    @property
    def nick(self) -> str | None:
        return self.member.nick if self.member else None

    async def run(self) -> None:
        """Serve the client until the session ends; never raises for I/O."""
        with self._session:
            try:
                async with trio.open_nursery() as self._nursery:
                    self._nursery.start_soon(self._write_loop)
                    with self._reading:
                        await self._read_loop()
                    self._pinging.cancel()
                    self._finish()
                    grace = trio.current_time() + self.limits.shutdown_grace
                    self._nursery.cancel_scope.deadline = grace
            finally:
                self._finish()

    def stop(self, reason: str) -> None:
        """End the session gracefully: the client is told ``reason``."""
        self.reason = reason
        self._reading.cancel()

    def kick(self, reason: str) -> None:
        """End the session at once, without flushing its outbox."""
        self.reason = reason
        self.outbox.close(discard=True)
        self._session.cancel()

    def _finish(self) -> None:
        if self.member is not None:
            self.hub.depart(self.member, self.reason)  # idempotent
        elif not self.outbox.closed:
            self.outbox.put(ev.Bye(ev.now(), self.reason))
            self.outbox.close()

    # ----------------------------------------------------------------- reading

    async def _read_loop(self) -> None:
        self.outbox.put(ev.Notice(ev.now(), GREETING))
        with trio.move_on_after(self.limits.handshake_timeout):
            while self.member is None:
                if not await self._next_request():
                    return
        if self.member is None:
            self.reason = "no nickname chosen in time"
            return
        while await self._next_request():
            await self.hub.wait_for_room()

    async def _next_request(self) -> bool:
        """Read and carry out one request; False when the session should end."""
        while True:
            event = self.conn.next_event()
            if event is NEED_DATA:
                try:
                    data = await self.stream.receive_some(RECEIVE_SIZE)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    self.reason = "connection lost"
                    return False
                self._last_heard = trio.current_time()
                self.conn.receive_data(bytes(data))
                continue
            if event is CLOSED:
                return False
            break
        if self.member is None:  # the first line has chosen the mode
            self.outbox.encode = self.conn.encoder
        if not await self._flood_control():
            return False
        if event is BLANK:  # counted above, and says nothing
            return True
        match event:
            case BadInput(code, message):
                self._say(ev.Error(ev.now(), code, message))
            case ev.Quit(reason):
                self.reason = f"quit: {reason}" if reason else "quit"
                return False
            case ev.Pong():
                pass
            case ev.Hello(nick, password, resume) if self.member is None:
                await self._hello(nick, password, resume)
            case ev.ChangeNick(nick) if self.member is None:  # not the password asked for
                self._password_for = None
                await self._hello(nick, None, ())
            case ev.GetHelp() if self.member is None:
                self._say(ev.Help(ev.now(), COMMANDS))
            case ev.Ping(token) if self.member is None:
                self._say(ev.ServerPong(ev.now(), token))
            case _ if self.member is None:
                self._say(ev.Error(ev.now(), Code.NOT_REGISTERED, "choose a nickname first"))
            case ev.Register(password):
                await self._register_nick(self.member, password.strip())
            case ev.SetPassword(old, new):
                await self._set_password(self.member, old.strip(), new.strip())
            case _:
                self.hub.handle(self.member, event)
        return True

    async def _flood_control(self) -> bool:
        delay = self._bucket.delay(trio.current_time())
        if self._bucket.abused:
            self.reason = "excess flood"
            return False
        if delay:
            await trio.sleep(delay)
        return True

    async def _hello(self, nick: str, password: str | None, resume: tuple[ev.RoomSeq, ...]) -> None:
        if self._password_for is not None:  # this line is the password asked for
            nick, password = self._password_for, nick
        # A text line loses the spaces around it, so in both modes a password
        # does: the same password works from either.
        password = password.strip() if password is not None else None
        identified = False
        if self.hub.accounts.is_registered(nick):
            if password is None:
                self._ask_password(nick)
                return
            if not await self._check_password(nick, password):
                if self._password_for is not None:
                    # Whoever got it wrong types it again: the next line is
                    # still the password, never a nickname shown to all.
                    self._ask_password(nick)
                return
            identified = True
        self._password_for = None
        if self.accounts_only and not identified:
            message = "the server is full for guests; registered nicknames may still sign in"
            self._say(ev.Error(ev.now(), Code.SERVER_FULL, message))
            return
        result = self.hub.register(nick, self.outbox, self, identified=identified, resume=resume)
        if isinstance(result, ev.Error):
            self._say(result)
            return
        self.member = result
        self.conn.registered = True
        if self.conn.mode == "json" and self.limits.ping_interval > 0 and self._nursery:
            self._nursery.start_soon(self._ping_loop)

    def _ask_password(self, nick: str) -> None:
        if self.conn.mode == "text":
            self._password_for = nick
            text = f'nickname "{nick}" is registered: type its password, or /nick ANOTHER'
            self._say(ev.Notice(ev.now(), text))
        else:
            message = f'nickname "{nick}" is registered: hello needs its password'
            self._say(ev.Error(ev.now(), Code.PASSWORD_REQUIRED, message))

    async def _check_password(self, nick: str, password: str) -> bool:
        checked = await self.hub.accounts.check(nick, password, self.limits.source(self.address))
        if checked.right:
            return True
        if checked.wait:
            log.warning("password for %s from %s refused: too many failures", nick, self.address)
            message = f"too many failed attempts; try again in {math.ceil(checked.wait)} s"
            self._say(ev.Error(ev.now(), Code.TOO_MANY_ATTEMPTS, message))
        else:
            log.warning("wrong password for %s from %s", nick, self.address)
            self._say(ev.Error(ev.now(), Code.BAD_PASSWORD, f'wrong password for "{nick}"'))
        return False

    def _changes_allowed(self) -> bool:
        """Registrations and password changes, limited per address."""
        wait = self.hub.accounts.change_wait(self.limits.source(self.address))
        if wait:
            message = (
                "too many registrations or password changes from your address; "
                f"try again in {math.ceil(wait)} s"
            )
            self._say(ev.Error(ev.now(), Code.TOO_MANY_ATTEMPTS, message))
        return not wait

    async def _register_nick(self, member: Member, password: str) -> None:
        nick = member.nick
        like = self.hub.accounts.like(nick)
        if like == fold(nick):
            message = f'"{nick}" is registered already; /password OLD NEW changes its password'
            self._say(ev.Error(ev.now(), Code.NICK_REGISTERED, message))
        elif like is not None:
            message = f'"{nick}" is too much like the registered nickname "{like}"'
            self._say(ev.Error(ev.now(), Code.NICK_REGISTERED, message))
        elif self._strong_enough(password) and self._changes_allowed():
            await self.hub.accounts.create(nick, password)
            self.hub.identified(member)
            log.info("%s registered from %s", nick, self.address)
            text = f'"{nick}" is registered: from now on it takes your password'
            self._say(ev.Notice(ev.now(), text))

    def _strong_enough(self, password: str) -> bool:
        if len(password) >= MIN_PASSWORD:
            return True
        message = f"a password needs at least {MIN_PASSWORD} characters"
        self._say(ev.Error(ev.now(), Code.WEAK_PASSWORD, message))
        return False

    async def _set_password(self, member: Member, old: str, new: str) -> None:
        nick = member.nick
        if not self.hub.accounts.is_registered(nick):
            message = f'"{nick}" is not registered; /register PASSWORD protects it'
            self._say(ev.Error(ev.now(), Code.BAD_REQUEST, message))
        elif (
            self._strong_enough(new)
            and self._changes_allowed()
            and await self._check_password(nick, old)
        ):
            await self.hub.accounts.change(nick, new)
            log.info("%s changed its password from %s", nick, self.address)
            self._say(ev.Notice(ev.now(), "password changed"))

    def _say(self, event: ev.Event) -> None:
        """Answer this client alone, behind whatever the hub has queued for it."""
        if self.member is None:
            if not self.outbox.put(event):
                self.kick(SEND_QUEUE_EXCEEDED)
        else:
            self.hub.reply(self.member, event)

    # ----------------------------------------------------------------- writing

    async def _write_loop(self) -> None:
        send_now = self._send_now
        while True:
            data = await self.outbox.take_all()
            if not data:
                return
            try:
                sent = send_now(data) if send_now else 0
                if sent < len(data):
                    await self.stream.send_all(memoryview(data)[sent:])
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                self.stop("connection lost")
                return

    # ------------------------------------------------------------ keeping alive

    async def _ping_loop(self) -> None:
        """Ping a JSON client that has been silent; drop it if it stays so."""
        with self._pinging:
            while True:
                await trio.sleep_until(self._last_heard + self.limits.ping_interval)
                if trio.current_time() - self._last_heard < self.limits.ping_interval:
                    continue  # heard from meanwhile
                sent = trio.current_time()
                self._say(ev.ServerPing(ev.now(), secrets.token_hex(4)))
                await trio.sleep(self.limits.ping_timeout)
                if self._last_heard < sent:
                    self.stop("ping timeout")
                    return
