"""Bots: a program in the chat, on the same connection as the terminal client.

``connect`` runs a ``ChatClient`` (registering, rejoining, reconnecting,
resuming) in a nursery and hands the program a ``Bot``: methods that send,
and async iteration over the events the server sends. Nothing here speaks the
protocol itself; it only turns what the client would show into events to
iterate over. See docs/bots.md.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager

import trio

from trio_chat import transports
from trio_chat.client.connection import FIRST_START_ROUNDS, ChatClient, Servers, Shown, State
from trio_chat.client.gaps import GapRepair, Repair
from trio_chat.client.handshake import NICK_ERRORS
from trio_chat.client.mirror import JOIN_ERRORS
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import fold

__all__ = ["DEFAULT_BUFFER", "Bot", "BotError", "Refused", "connect"]

log = logging.getLogger(__name__)

# Events kept for a bot that has not read them yet; past this the oldest go.
DEFAULT_BUFFER = 1000

Connect = Callable[[str], Awaitable[trio.abc.Stream]]


class BotError(Exception):
    """A request the chat did not carry out, or a bot that has left the chat."""


class Refused(BotError):
    """The server refused the nickname or its password."""

    def __init__(self, error: ev.Error) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


class _CatchingUp(GapRepair):
    """The client's gap repair, with what was missed handed on as the events themselves.

    The terminal client shows a replay after a reconnect as one History under
    a note; a bot gets each missed event as if live, and never one it had.
    """

    def receive(self, event: ev.Event, me: str) -> Repair:
        repair = super().receive(event, me)
        if not repair.absorbed:
            return repair
        missed = tuple(
            e for item in repair.show if isinstance(item, ev.History) for e in item.events
        )
        return dataclasses.replace(repair, show=missed)


class Bot:
    """One nickname in the chat. Get one from ``connect``; iterate over it for events."""

    def __init__(
        self,
        nick: str,
        servers: Servers,
        *,
        password: str | None = None,
        reconnect: bool = True,
        buffer: int = DEFAULT_BUFFER,
    ) -> None:
        self.dropped = 0  # events dropped, oldest first, because the bot did not read them
        self._reconnect = reconnect
        self._events: deque[ev.Event] = deque()
        self._buffer = buffer
        self._welcomed = False
        self._ended = False
        self._failure: BotError | None = None
        self._errors = 0  # Error events seen, so that a request can tell its own answer
        self._last_error: ev.Error | None = None
        self._news = trio.Event()  # set, and replaced, whenever anything happens
        self._started = trio.Event()  # welcomed, or failed before it
        self._done = trio.Event()
        # A bot that reconnects waits for its server however long it takes to come.
        self._client = ChatClient(
            nick,
            servers,
            show=self._show,
            changed=self._changed,
            password=password,
            first_start_rounds=None if reconnect else FIRST_START_ROUNDS,
        )
        self._client.gaps = _CatchingUp()

    # ----------------------------------------------------------- what it knows

    @property
    def nick(self) -> str:
        return self._client.nick

    @property
    def rooms(self) -> list[str]:
        """The rooms the bot is in; one it parts or is kicked from is gone."""
        return list(self._client.rooms.values())

    def members(self, room: str) -> list[str]:
        """Who is in ``room``, if the bot is in it (else an empty list)."""
        return list(self._client.members.get(fold(room), []))

    @property
    def connected(self) -> bool:
        return self._client.state is State.CONNECTED

    def mine(self, event: ev.Event) -> bool:
        """Whether ``event`` is the bot's own doing (its message, action, join, ...)."""
        match event:
            case ev.Message(nick=who) | ev.Action(nick=who) | ev.Joined(nick=who):
                pass
            case ev.Left(nick=who) | ev.Private(sender=who) | ev.NickChanged(new=who):
                pass
            case _:
                return False
        return fold(who) == fold(self.nick)

    # ------------------------------------------------------------ what it does

    async def say(self, room: str, text: str) -> None:
        await self._send(ev.Say(text, room))

    async def act(self, room: str, text: str) -> None:
        await self._send(ev.Act(text, room))

    async def msg(self, nick: str, text: str) -> None:
        await self._send(ev.Tell(nick, text))

    async def join(self, room: str) -> None:
        """Join ``room``; returns once in it. Raises BotError if the server says no."""
        await self._send(ev.Join(room))
        await self._until(lambda: fold(room) in self._client.rooms, JOIN_ERRORS)

    async def part(self, room: str) -> None:
        """Leave ``room``; returns once out of it."""
        await self._send(ev.Part(room))
        await self._until(lambda: fold(room) not in self._client.rooms, ())

    async def change_nick(self, new: str) -> None:
        """Take the nickname ``new``; returns once it is the bot's. Raises BotError if refused."""
        await self._send(ev.ChangeNick(new))
        await self._until(lambda: self.nick == new, NICK_ERRORS)

    async def quit(self, reason: str = "") -> None:
        """Say goodbye and leave; iteration ends once the server has the goodbye."""
        self._client.quit(reason)
        await self._done.wait()

    def __aiter__(self) -> AsyncIterator[ev.Event]:
        return self

    async def __anext__(self) -> ev.Event:
        while not self._events:
            if self._ended:
                if self._failure is not None:
                    raise self._failure
                raise StopAsyncIteration
            await self._news.wait()
        await trio.lowlevel.checkpoint()
        return self._events.popleft()

    # ------------------------------------------------------------- machinery

    async def _send(self, request: ev.Request) -> None:
        client = self._client
        if self._ended:
            raise BotError("the bot has left the chat")
        if client.state is not State.CONNECTED and len(client.pending) >= client.pending.limit:
            raise BotError(f"offline with {client.pending.limit} requests waiting")
        client.send(request)
        await trio.lowlevel.checkpoint()

    async def _until(self, done: Callable[[], bool], refusals: Collection[str]) -> None:
        """Wait for ``done``, or for an error with one of the ``refusals`` codes."""
        errors = self._errors
        while not done():
            error = self._last_error
            if self._errors > errors and error is not None and error.code in refusals:
                raise BotError(f"{error.code}: {error.message}")
            if self._ended:
                raise BotError("the bot has left the chat")
            await self._news.wait()
        await trio.lowlevel.checkpoint()

    def _poke(self) -> None:
        self._news.set()
        self._news = trio.Event()

    def _show(self, item: Shown) -> None:
        if not isinstance(item, ev.Event):
            return  # the client's notes to a person
        if isinstance(item, ev.Error):
            self._errors += 1
            self._last_error = item
        if len(self._events) >= self._buffer:
            self._events.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % self._buffer == 0:
                log.warning("%s reads too slowly: %d events dropped", self.nick, self.dropped)
        self._events.append(item)
        self._poke()

    def _changed(self) -> None:
        state = self._client.state
        if state is State.CONNECTED and not self._welcomed:
            self._welcomed = True
            self._started.set()
        elif state in (State.OFFLINE, State.PASSWORD):
            assert self._last_error is not None  # the client shows the refusal first
            self._end(Refused(self._last_error))
        elif state is not State.CONNECTED and self._welcomed and not self._reconnect:
            self._end()
        self._poke()

    def _end(self, failure: BotError | None = None) -> None:
        if self._failure is None:
            self._failure = failure
        self._client.quit()
        self._started.set()

    def _connect_failed(self, exc: BaseException, attempts: int) -> None:
        """Without reconnecting, a bot that reaches no server at first gives up."""
        if not self._reconnect and not self._welcomed and attempts >= len(self._client.servers):
            self._end(BotError(f"cannot connect: {exc}"))

    async def _run(self) -> None:
        try:
            await self._client.run()
        finally:
            self._ended = True
            self._started.set()
            self._done.set()
            self._poke()


@asynccontextmanager
async def connect(
    url_or_urls: str | Sequence[str],
    *,
    nick: str,
    password: str | None = None,
    reconnect: bool = True,
    cafile: str | None = None,
    connect: Connect | None = None,
    buffer: int = DEFAULT_BUFFER,
) -> AsyncIterator[Bot]:
    """Join the chat at ``url_or_urls`` as ``nick``; yields the Bot once welcomed.

    Several URLs are servers of one chat, tried in turn. ``connect(url)``
    opens a stream instead of the transports (tests pass one that connects in
    memory). Raises Refused if the nickname or password is refused, and
    BotError if, without ``reconnect``, no server can be reached. On leaving
    the block the bot says goodbye.
    """
    urls = [url_or_urls] if isinstance(url_or_urls, str) else list(url_or_urls)
    if connect is None:
        parsed = {url: transports.parse_url(url) for url in urls}

        async def connect(url: str) -> trio.abc.Stream:
            return await transports.open_stream(parsed[url], cafile=cafile)

    opener = connect
    failures = 0

    async def attempt(url: str) -> trio.abc.Stream:
        nonlocal failures
        try:
            stream = await opener(url)
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            failures += 1
            bot._connect_failed(exc, failures)
            raise
        failures = 0
        return stream

    bot = Bot(nick, Servers(urls, attempt), password=password, reconnect=reconnect, buffer=buffer)
    error: Exception | None = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(bot._run)
        await bot._started.wait()
        if bot._welcomed:
            try:
                yield bot
            except Exception as exc:  # raised as itself, not in a group from the nursery
                error = exc
                nursery.cancel_scope.cancel()
            else:
                bot._client.quit()
    if error is not None:
        raise error
    if not bot._welcomed:
        if bot._failure is None and bot._last_error is not None:  # a wrong password
            raise Refused(bot._last_error)
        raise bot._failure or BotError("the connection ended before the welcome")
