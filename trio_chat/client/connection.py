"""The client's connection: it registers, rejoins and reconnects by itself.

``ChatClient.run`` keeps one connection to a server at a time. When it is
lost, the client goes on to the next server (``Servers``), waiting
(``Backoff``) once all of them have failed in a row, registers the same
nickname (``Handshake``) and rejoins the rooms the user was in. What the user
types meanwhile is kept in ``pending`` and sent once connected again.
Everything the user should see goes to the ``show`` callback; ``changed`` is
called whenever what the toolbar shows may have changed.

The decisions are made by classes that do no I/O: ``RoomMirror`` keeps the
rooms and members, ``GapRepair`` the sequence numbers. ``ChatClient`` feeds
them events and does the sending, the showing and the waiting.
"""

from __future__ import annotations

import enum
import math
import secrets
from collections.abc import Awaitable, Callable, Iterable

import trio

from trio_chat.client import commands
from trio_chat.client.backoff import Backoff
from trio_chat.client.gaps import GapRepair
from trio_chat.client.handshake import (
    Ended,
    Handshake,
    Refused,
    Welcomed,
    answer_to_refusal,
    rejoin_requests,
)
from trio_chat.client.link import ConnectionLost, Events, cannot_connect
from trio_chat.client.mirror import RoomMirror
from trio_chat.client.paste import Paste
from trio_chat.client.pending import MAX_PENDING, Pending
from trio_chat.client.servers import Connector, Servers
from trio_chat.client.shown import ClearScreen, Note, Shown
from trio_chat.protocol import ClientConnection, Code
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import fold

__all__ = [
    "FIRST_START_ROUNDS",
    "MAX_PENDING",
    "QUIT_GRACE",
    "Backoff",
    "ChatClient",
    "ClearScreen",
    "ConnectionLost",
    "Connector",
    "Note",
    "Servers",
    "Shown",
    "State",
]

# How long /quit waits for the server's goodbye before closing anyway.
QUIT_GRACE = 2.0
# Rounds of refused attempts (every server once) before a client never
# welcomed gives up: a server that is not there is more likely than a restart.
FIRST_START_ROUNDS = 3


class State(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"  # the server refused the nickname: waiting for another
    PASSWORD = "password"  # the nickname is registered: waiting for its password


class ChatClient:
    """One user's chat: typed lines in through ``submit``, the screen out through ``show``.

    ``servers`` opens a fresh stream for each attempt, to one server after
    another; a bare ``Connector`` is a single server. Tests pass ones that
    connect in memory or fail on purpose.
    """

    def __init__(
        self,
        nick: str,
        servers: Servers | Connector,
        *,
        show: Callable[[Shown], None],
        changed: Callable[[], None] = lambda: None,
        backoff: Backoff | None = None,
        password: str | None = None,
        first_start_rounds: int | None = FIRST_START_ROUNDS,
        join: Iterable[str] = (),
        aim: Callable[[ev.Request], ev.Request | Note] = lambda request: request,
    ) -> None:
        self.password = password  # for a registered nickname; kept for reconnecting
        self.given_password = password  # from a file: if wrong at first start, the client ends
        # Rounds of refused connections before the first welcome gives up (None: never).
        self.first_start_rounds = first_start_rounds
        # Rooms to join once welcomed the first time; later the rejoin keeps them.
        self._autojoin = [ev.Join(room) for room in join]
        self._listed: tuple[str, ...] = ()  # the rooms of the last /rooms answer
        # Shown to no one: with it, a reconnection takes the nickname back from
        # this client's earlier connection, which the server may not have seen end.
        self.token = secrets.token_urlsafe(24)
        self.state = State.CONNECTING
        self.retry_in = 0  # whole seconds to the next attempt, while reconnecting
        self.mirror = RoomMirror(nick)
        self.gaps = GapRepair()
        self.pending = Pending()
        self.servers = servers if isinstance(servers, Servers) else Servers.one(servers)
        self._was_welcomed = False
        self.failure: str | None = None  # why ``run`` gave up, if it did
        self._show = show
        self._changed = changed
        self._backoff = backoff or Backoff()
        # Where a typed request goes: the terminal aims it at the window in view.
        self._aim = aim
        # What the user types while the server waits for a nickname or password.
        answers = trio.open_memory_channel[ev.Register | ev.ChangeNick](math.inf)
        self._answers_send, self._answers = answers
        self._paste = Paste(show, lambda line: self._send_typed(ev.Say(line)))
        self._wake = trio.Event()
        self._quit = trio.Event()
        self._session_over = trio.Event()

    # ------------------------------------------------------------ for the UI

    @property
    def nick(self) -> str:
        return self.mirror.nick

    @nick.setter
    def nick(self, nick: str) -> None:
        self.mirror.nick = nick

    @property
    def rooms(self) -> dict[str, str]:
        """The rooms the user is in: folded name -> name; the last is current."""
        return self.mirror.rooms

    @property
    def members(self) -> dict[str, list[str]]:
        """Folded room -> the nicknames in it."""
        return self.mirror.members

    @members.setter
    def members(self, members: dict[str, list[str]]) -> None:
        self.mirror.members = members

    @property
    def topics(self) -> dict[str, str]:
        """Folded room -> its topic ("" for none)."""
        return self.mirror.topics

    @property
    def room(self) -> str | None:
        """The current room: where a plain line goes."""
        return self.mirror.room

    @property
    def server(self) -> str | None:
        """The server being connected to, when there is a choice; None if only one."""
        return self.servers.current if len(self.servers) > 1 else None

    def nicknames(self) -> list[str]:
        """Everyone in the rooms the user is in, for completion."""
        return self.mirror.nicknames()

    def room_names(self) -> list[str]:
        """The rooms the user is in, then those of the last /rooms answer, for completion."""
        names = dict(self.rooms)
        for room in self._listed:
            names.setdefault(fold(room), room)
        return list(names.values())

    def submit(self, line: str) -> None:
        """Carry out one typed line."""
        if self._paste.answer(line):
            return
        command = commands.parse(line)
        if self.state in (State.OFFLINE, State.PASSWORD) and self._answer_refusal(command):
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
                self._send_typed(request)

    def paste(self, lines: list[str]) -> None:
        """Send each of ``lines`` as a message of its own, paced; ask first if they are many."""
        self._paste.take(lines)

    def _send_typed(self, request: ev.Request) -> None:
        aimed = self._aim(request)
        if isinstance(aimed, Note):
            self._show(aimed)
        else:
            self.send(aimed)

    def _answer_refusal(self, command: commands.Command | None) -> bool:
        """While the nickname is refused, what the user sends (but /quit) answers it."""
        if not isinstance(command, commands.Send) or isinstance(command.request, ev.Quit):
            return False
        answer = answer_to_refusal(command.request, password=self.state is State.PASSWORD)
        if answer is None:
            self._show(Note("choose a nickname first", "error"))
        else:
            self._answers_send.send_nowait(answer)
        return True

    def send(self, request: ev.Request) -> None:
        """Send ``request`` now, or once connected again."""
        match request:  # reconnecting identifies with the newest password
            case ev.Register(password) | ev.SetPassword(_, password):
                self.password = password
        note = self.pending.typed(request, connected=self.state is State.CONNECTED)
        if note is not None:
            self._show(note)
        self._wake.set()

    def quit(self, reason: str = "") -> None:
        """Say goodbye to the server, if connected, and end ``run``."""
        if self._quit.is_set():
            return
        self._quit.set()
        if self.state is State.CONNECTED:
            self.pending.last(ev.Quit(reason))
            self._wake.set()

    async def run(self) -> None:
        """Stay connected until ``quit``."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._keep_connected)
            nursery.start_soon(self._paste.run)
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
        servers = self.servers
        refused = 0  # attempts in a row that could not connect
        why = ""  # the last reason they could not
        while True:
            self._set_state(State.CONNECTING)
            try:
                stream = await servers.connect()
            except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                refused += 1
                why = cannot_connect(exc, servers.current)
                if not self._was_welcomed and getattr(exc, "lasting", False):
                    self._give_up(why)  # trying again cannot help
                    return
                if refused <= len(servers):  # the toolbar tells of the attempts that follow
                    self._show(Note(why, "error"))
            else:
                refused = 0
                self._session_over = trio.Event()
                try:
                    reason = await self._session(stream)
                finally:
                    await trio.aclose_forcefully(stream)
                    self._session_over.set()
                if self._quit.is_set():
                    return  # ``run`` ends with the session
                self._show(Note(f"connection lost: {reason}", "error"))
            if servers.failed():
                rounds = self.first_start_rounds
                if not self._was_welcomed and rounds and refused >= rounds * len(servers):
                    self._give_up(f"{why} (tried {rounds} times)")
                    return
                await self._wait_to_retry()
            elif servers.first_round:  # the switch to another server
                again = "reconnecting" if self._was_welcomed else "connecting"
                self._show(Note(f"{again} to {servers.current} ..."))

    def _give_up(self, why: str) -> None:
        """End ``run`` for an error that trying again will not clear."""
        self.failure = why
        self._quit.set()

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
        events = Events(stream, conn)
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
        self, stream: trio.abc.Stream, conn: ClientConnection, events: Events
    ) -> None:
        """The handshake, then back into the rooms the user was in."""
        rejoin = list(self.rooms.values())
        # The server puts us back into each room and replays what we missed.
        resume = self.gaps.resume(self.rooms)
        handshake = Handshake(self.nick, self.password, resume, self.token)
        self.mirror.reconnecting()
        await stream.send_all(conn.send(handshake.hello()))
        while True:
            event = await events.next()
            match handshake.receive(event):
                case Welcomed():
                    break
                case Ended(reason):
                    if not self._was_welcomed:  # sent away before ever being let in
                        self._give_up(f"the server refused the connection: {reason}")
                    raise ConnectionLost(reason)
                case Refused() as refused:
                    if refused.for_people:
                        self._show(event)
                    if self._given_password_refused(refused, handshake):
                        self._give_up(f'the password given for "{self.nick}" was refused')
                        raise ConnectionLost("wrong password")
                    self._set_state(State.PASSWORD if refused.password else State.OFFLINE)
                    self._show(Note(handshake.prompt(refused)))
                    hello = handshake.answer(await self._answers.receive())
                    self.nick, self.password = handshake.nick, handshake.password
                    self._set_state(State.CONNECTING)
                    await stream.send_all(conn.send(hello))
                case None if not (self._was_welcomed and isinstance(event, ev.Notice)):
                    self._show(event)  # but the server's greeting, after the first time

        self._receive(event)
        self._backoff.reset()
        self.servers.welcomed()
        self._was_welcomed = True
        requests = rejoin_requests(rejoin, {fold(r.room) for r in resume})
        requests += self._autojoin
        self._autojoin = []
        for request in requests:
            await stream.send_all(conn.send(request))
            self.mirror.sent(request)
        if (note := self.pending.on_connect()) is not None:
            self._show(note)
        self._set_state(State.CONNECTED)

    def _given_password_refused(self, refused: Refused, handshake: Handshake) -> bool:
        """At first start, the password given with the client (a file) is wrong:
        waiting, or asking, will not make the file right."""
        wrong = refused.error.code == Code.BAD_PASSWORD
        return wrong and not self._was_welcomed and handshake.password == self.given_password

    async def _write_loop(self, stream: trio.abc.Stream, conn: ClientConnection) -> str:
        try:
            while True:
                while (request := self.pending.next()) is not None:
                    await stream.send_all(conn.send(request))
                    self.pending.sent()
                    self.mirror.sent(request)
                self._wake = trio.Event()
                await self._wake.wait()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return "connection lost"

    async def _read_loop(self, events: Events) -> str:
        try:
            while True:
                event = await events.next()
                if isinstance(event, ev.Bye):
                    self._show(event)
                    return event.reason
                self._receive(event)
        except ConnectionLost as exc:
            return exc.reason

    def _receive(self, event: ev.Event) -> None:
        """Hand one event to the mirror and the gap repair; show what they say to."""
        if isinstance(event, ev.ServerPing):
            self.pending.first(ev.Pong(event.token))
            self._wake.set()
            return
        repair = self.gaps.receive(event, self.nick)
        for item in repair.show:
            self._show(item)
        for request in reversed(repair.send):
            self.pending.first(request)
        if repair.send:
            self._wake.set()
        if repair.absorbed:
            return
        if isinstance(event, ev.Rooms):
            self._listed = tuple(room.name for room in event.rooms)
        self.mirror.track(event)
        self._show(event)
        self._changed()
