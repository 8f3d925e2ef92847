"""The client's connection: it registers, rejoins and reconnects by itself.

``ChatClient.run`` keeps one connection to the server at a time. When it is
lost, the client waits (exponential backoff with jitter), connects again,
registers the same nickname and rejoins the rooms the user was in. What the
user types meanwhile is kept in ``pending`` and sent once connected again.
Everything the user should see goes to the ``show`` callback; ``changed`` is
called whenever what the toolbar shows may have changed.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import trio

from trio_chat.client import commands
from trio_chat.protocol import CLOSED, ClientConnection, Code
from trio_chat.protocol import events as ev
from trio_chat.protocol.reading import read_event
from trio_chat.protocol.rules import LOBBY, fold
from trio_chat.protocol.text import format_request

Connector = Callable[[], Awaitable[trio.abc.Stream]]

# Lines typed while offline that are kept for sending; more are refused. Few
# enough that sending them all at once stays within the server's flood burst
# plus a few slowed lines, so flood control never drops the client for it.
MAX_PENDING = 20
# How long /quit waits for the server's goodbye before closing anyway.
QUIT_GRACE = 2.0
NICK_ERRORS = (Code.NICK_TAKEN, Code.NICK_INVALID, Code.TOO_MANY_ATTEMPTS)
PASSWORD_ERRORS = (Code.PASSWORD_REQUIRED, Code.BAD_PASSWORD, Code.NICK_REGISTERED)
JOIN_ERRORS = (Code.ROOM_INVALID, Code.TOO_MANY_ROOMS)


class State(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"  # the server refused the nickname: waiting for another
    PASSWORD = "password"  # the nickname is registered: waiting for its password


@dataclass(frozen=True, slots=True)
class Note:
    """A line from the client itself rather than from the server."""

    text: str
    kind: Literal["info", "error", "pending", "gap", "help"] = "info"


@dataclass(frozen=True, slots=True)
class ClearScreen:
    pass


Shown = ev.Event | Note | ClearScreen


class Backoff:
    """Delays between attempts: 1 s doubling to a 60 s cap, with jitter.

    Each delay is drawn from the upper half of its step (0.5-1 s, 1-2 s, ...,
    30-60 s), so clients that lost the same server spread out their returns.
    """

    def __init__(
        self, first: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
    ) -> None:
        self.first = first
        self.cap = cap
        self.rng = rng or random.Random()
        self._step = first

    def next(self) -> float:
        step = self._step
        self._step = min(self.cap, step * 2)
        return self.rng.uniform(step / 2, step)

    def reset(self) -> None:
        self._step = self.first


class ConnectionLost(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Events:
    """Events from one connection; raises ConnectionLost at its end."""

    def __init__(self, stream: trio.abc.Stream, conn: ClientConnection) -> None:
        self.stream = stream
        self.conn = conn

    async def next(self) -> ev.Event:
        try:  # skips events this client does not know
            event = await read_event(self.conn, self.stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise ConnectionLost("connection lost") from None
        if event is CLOSED:
            raise ConnectionLost("the server closed the connection")
        return event


class ChatClient:
    """One user's chat: typed lines in through ``submit``, the screen out through ``show``.

    ``connect`` opens a fresh stream to the server for each attempt; tests
    pass one that connects in memory or fails on purpose.
    """

    def __init__(
        self,
        nick: str,
        connect: Connector,
        *,
        show: Callable[[Shown], None],
        changed: Callable[[], None] = lambda: None,
        backoff: Backoff | None = None,
        password: str | None = None,
    ) -> None:
        self.nick = nick
        self.password = password  # for a registered nickname; kept for reconnecting
        self.state = State.CONNECTING
        self.retry_in = 0  # whole seconds to the next attempt, while reconnecting
        self.rooms: dict[str, str] = {}  # folded name -> name; the last is current
        self.members: dict[str, list[str]] = {}  # folded room -> nicknames
        self.pending: deque[ev.Request] = deque()
        self._connect = connect
        self._show = show
        self._changed = changed
        self._backoff = backoff or Backoff()
        self._seq: dict[str, int] = {}  # folded room -> last sequence number seen
        self._rejoining: set[str] = set()  # rooms whose replay is still to come
        self._filling: set[str] = set()  # rooms whose gap the server is asked to fill
        self._joins: deque[str] = deque()  # rooms asked to join, not yet answered
        # What the user types while the server waits for a nickname or password.
        self._nick_send, self._nick_receive = trio.open_memory_channel[ev.Request](math.inf)
        self._wake = trio.Event()
        self._quit = trio.Event()
        self._session_over = trio.Event()

    # ------------------------------------------------------------ for the UI

    @property
    def room(self) -> str | None:
        """The current room: where a plain line goes."""
        return next(reversed(self.rooms.values()), None)

    def nicknames(self) -> list[str]:
        """Everyone in the rooms the user is in, for completion."""
        return sorted({n for nicks in self.members.values() for n in nicks}, key=fold)

    def submit(self, line: str) -> None:
        """Carry out one typed line."""
        command = commands.parse(line)
        if self.state in (State.OFFLINE, State.PASSWORD) and isinstance(command, commands.Send):
            match command.request:
                case ev.Say(text) if self.state is State.PASSWORD:
                    self._nick_send.send_nowait(ev.Register(text.strip()))
                    return
                case ev.Say(text) | ev.ChangeNick(text):
                    self._nick_send.send_nowait(ev.ChangeNick(text.strip()))
                    return
                case ev.Quit():
                    pass
                case _:
                    self._show(Note("choose a nickname first", "error"))
                    return
        match command:
            case commands.ShowHelp():
                for text in commands.HELP:
                    self._show(Note(text, "help"))
            case commands.Clear():
                self._show(ClearScreen())
            case commands.Invalid(message):
                self._show(Note(message, "error"))
            case commands.Send(ev.Quit(reason)):
                self.quit(reason)
            case commands.Send(request):
                self.send(request)

    def send(self, request: ev.Request) -> None:
        """Send ``request`` now, or once connected again."""
        match request:  # reconnecting identifies with the newest password
            case ev.Register(password) | ev.SetPassword(_, password):
                self.password = password
        if self.state is not State.CONNECTED:
            if len(self.pending) >= MAX_PENDING:
                self._show(Note(f"offline with {MAX_PENDING} lines waiting: not kept", "error"))
                return
            line = format_request(request)
            self._show(Note(f"pending: {line} (sent when connected)", "pending"))
        self.pending.append(request)
        self._wake.set()

    def quit(self, reason: str = "") -> None:
        """Say goodbye to the server, if connected, and end ``run``."""
        if self._quit.is_set():
            return
        self._quit.set()
        if self.state is State.CONNECTED:
            self.pending.append(ev.Quit(reason))
            self._wake.set()

    async def run(self) -> None:
        """Stay connected until ``quit``."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._keep_connected)
            await self._quit.wait()
            if self.state is State.CONNECTED:
                with trio.move_on_after(QUIT_GRACE):
                    await self._session_over.wait()
            nursery.cancel_scope.cancel()

    # ------------------------------------------------------- the connection

    def _set_state(self, state: State) -> None:
        self.state = state
        self._changed()

    async def _keep_connected(self) -> None:
        failures = 0
        while True:
            self._set_state(State.CONNECTING)
            try:
                stream = await self._connect()
            except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                failures += 1
                if failures == 1:  # the toolbar tells of the attempts that follow
                    self._show(Note(f"cannot connect: {exc or 'refused'}", "error"))
            else:
                failures = 0
                self._session_over = trio.Event()
                try:
                    reason = await self._session(stream)
                finally:
                    await trio.aclose_forcefully(stream)
                    self._session_over.set()
                if not self._quit.is_set():
                    self._show(Note(f"connection lost: {reason}", "error"))
            await self._wait_to_retry()

    async def _wait_to_retry(self) -> None:
        deadline = trio.current_time() + self._backoff.next()
        self._set_state(State.RECONNECTING)
        while (left := deadline - trio.current_time()) > 0:
            self.retry_in = math.ceil(left)
            self._changed()
            await trio.sleep(left - (self.retry_in - 1))  # until the count changes

    async def _session(self, stream: trio.abc.Stream) -> str:
        """Register, rejoin and chat on one connection; return why it ended."""
        conn = ClientConnection()
        events = _Events(stream, conn)
        reason = "connection lost"
        try:
            await self._register(stream, conn, events)
        except ConnectionLost as exc:
            return exc.reason
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return reason

        async with trio.open_nursery() as nursery:

            async def until_done(part: Callable[[], Awaitable[str]]) -> None:
                nonlocal reason
                reason = await part()
                nursery.cancel_scope.cancel()

            nursery.start_soon(until_done, lambda: self._write_loop(stream, conn))
            nursery.start_soon(until_done, lambda: self._read_loop(events))
        return reason

    async def _register(
        self, stream: trio.abc.Stream, conn: ClientConnection, events: _Events
    ) -> None:
        rejoin = list(self.rooms.values())
        # The server puts us back into each room and replays what we missed.
        resume = tuple(ev.RoomSeq(room, self._seq[key]) for key, room in self.rooms.items())
        self._rejoining = set(self.rooms)
        self._filling.clear()
        self._joins.clear()
        while True:
            hello = ev.Hello(self.nick, password=self.password, resume=resume)
            await stream.send_all(conn.send(hello))
            event = await events.next()
            while not isinstance(event, ev.Welcome | ev.Bye):
                self._show(event)
                if isinstance(event, ev.Error) and event.code in NICK_ERRORS + PASSWORD_ERRORS:
                    break
                event = await events.next()
            else:
                if isinstance(event, ev.Bye):
                    raise ConnectionLost(event.reason)
                break
            if event.code in PASSWORD_ERRORS:
                self._set_state(State.PASSWORD)
                self._show(Note(f"type the password of {self.nick}, or /nick ANOTHER"))
            else:
                self._set_state(State.OFFLINE)
                self._show(Note("type another nickname (or /quit)"))
            match await self._nick_receive.receive():
                case ev.Register(password):  # the password asked for
                    self.password = password
                case ev.ChangeNick(nick):
                    self.nick, self.password = nick, None
            self._set_state(State.CONNECTING)

        self.rooms, self.members = {}, {}
        self._receive(event)
        self._backoff.reset()
        requests: list[ev.Request] = []
        if rejoin and LOBBY not in rejoin:
            requests.append(ev.Part(LOBBY))  # the server puts everyone in the lobby
        if len(rejoin) > 1:
            requests.append(ev.Join(rejoin[-1]))  # current again
        for request in requests:
            await stream.send_all(conn.send(request))
            self._sent(request)
        if self.pending:
            self._show(Note(f"sending {len(self.pending)} pending line(s)", "pending"))
        self._set_state(State.CONNECTED)

    def _sent(self, request: ev.Request) -> None:
        if isinstance(request, ev.Join):
            self._joins.append(fold(request.room))

    async def _write_loop(self, stream: trio.abc.Stream, conn: ClientConnection) -> str:
        try:
            while True:
                while self.pending:
                    request = self.pending[0]
                    await stream.send_all(conn.send(request))
                    self.pending.popleft()
                    self._sent(request)
                self._wake = trio.Event()
                await self._wake.wait()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return "connection lost"

    async def _read_loop(self, events: _Events) -> str:
        try:
            while True:
                event = await events.next()
                if isinstance(event, ev.Bye):
                    self._show(event)
                    return event.reason
                self._receive(event)
        except ConnectionLost as exc:
            return exc.reason

    # ------------------------------------------------------------ the state

    def _receive(self, event: ev.Event) -> None:
        match event:
            case ev.ServerPing(token=token):
                self.pending.appendleft(ev.Pong(token))
                self._wake.set()
                return
            case ev.History(room=room) if fold(room) in self._rejoining:
                self._replay_missed(event)
                return
            case ev.History(room=room, events=events) if fold(room) in self._filling:
                self._filling.discard(fold(room))
                if events:  # the gap, and nothing else: asked for by number
                    self._show(Note(f"missed earlier in {room}:"))
                    self._show(event)
                return
            case ev.RoomEvent():
                self._check_seq(event)
        self._track(event)
        self._show(event)
        self._changed()

    def _check_seq(self, event: ev.RoomEvent) -> None:
        """When the sequence numbers show that events went unseen, ask for them."""
        key = fold(event.room)
        last = self._seq.get(key)
        self._seq[key] = event.seq
        self._rejoining.discard(key)
        if last is None:
            return
        unseen = event.seq - last - 1
        if unseen > 0:
            note = f"{unseen} event(s) in {event.room} were missed: asking the server for them"
            self._show(Note(note, "gap"))
            self._filling.add(key)
            self.pending.appendleft(ev.GetHistory(event.room, limit=unseen, after=last))
            self._wake.set()
        elif event.seq <= last:
            restarted = f"{event.room} started afresh (the server restarted?)"
            self._show(Note(f"{restarted}: messages may have been missed", "gap"))

    def _replay_missed(self, history: ev.History) -> None:
        """On rejoining, show what the room's replay holds that is new, and
        count it seen."""
        key = fold(history.room)
        missed = tuple(e for e in history.events if e.seq > self._seq.get(key, 0))
        if missed:
            self._show(Note(f"while you were away, in {history.room}:"))
            self._show(dataclasses.replace(history, events=missed))
            self._seq[key] = missed[-1].seq

    def _track(self, event: ev.Event) -> None:
        """Keep rooms, members and the nickname in step with the server."""
        me = fold(self.nick)
        match event:
            case ev.Welcome(nick=nick, room=room, members=members):
                self.nick = nick
                self.rooms = {fold(room): room}
                self.members = {fold(room): list(members)}
            case ev.Members(room=room, nicks=nicks):
                key = fold(room)
                if key in self._joins:
                    self._joins.remove(key)
                    self.rooms.pop(key, None)
                    self.rooms[key] = room
                if key in self.rooms:
                    self.members[key] = list(nicks)
            case ev.Joined(room=room, nick=nick):
                key = fold(room)
                if fold(nick) == me and key not in self.rooms:
                    self.rooms[key] = room
                here = self.members.setdefault(key, [])
                if fold(nick) not in map(fold, here):
                    here.append(nick)
            case ev.Left(room=room, nick=nick):
                key = fold(room)
                if fold(nick) == me:
                    self.rooms.pop(key, None)
                    self.members.pop(key, None)
                    self._seq.pop(key, None)
                elif key in self.members:
                    self.members[key] = [n for n in self.members[key] if fold(n) != fold(nick)]
            case ev.NickChanged(old=old, new=new):
                if fold(old) == me:
                    self.nick = new
                for here in self.members.values():
                    here[:] = [new if fold(n) == fold(old) else n for n in here]
            case ev.Error(code=code) if code in JOIN_ERRORS:
                self._joins.clear()
