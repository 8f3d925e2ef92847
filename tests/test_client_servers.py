"""A client given several servers: it goes on to the next when one fails, and resumes there."""

from __future__ import annotations

import math
import random
import re

import pytest
import trio
import trio.testing
from test_client import Screen, _plain

from trio_chat.client.connection import FIRST_START_ROUNDS, Backoff, ChatClient, Servers, State
from trio_chat.client.ui import toolbar
from trio_chat.protocol import ServerConnection
from trio_chat.protocol import events as ev
from trio_chat.protocol.reading import read_event
from trio_chat.testing import REPLY_TIMEOUT
from trio_chat.transports import ConnectError

A, B = "tcp://a.example:58000", "tcp://b.example:58001"


class FakeServer:
    """One connection as the server sees it; the test speaks for the server."""

    def __init__(self, url: str, stream: trio.abc.Stream) -> None:
        self.url = url
        self.stream = stream
        self.conn = ServerConnection()

    async def hello(self) -> ev.Hello:
        with trio.fail_after(REPLY_TIMEOUT):
            request = await read_event(self.conn, self.stream)
        assert isinstance(request, ev.Hello)
        return request

    async def send(self, *events: ev.Event) -> None:
        for event in events:
            await self.stream.send_all(self.conn.encoder(event))

    async def welcome(self, nick: str) -> None:
        await self.send(ev.Welcome(ev.now(), nick, "#lobby", (nick,), 1))


class FakeNetwork:
    """Servers by URL: those in ``refusing`` refuse; the others are accepted by the test."""

    def __init__(self) -> None:
        self.refusing: set[str] = set()
        self.attempts: list[tuple[str, float]] = []  # (url, when)
        self._accepted_send, self._accepted = trio.open_memory_channel[FakeServer](math.inf)
        self._attempted = trio.Event()

    async def connect(self, url: str) -> trio.abc.Stream:
        self.attempts.append((url, trio.current_time()))
        self._attempted.set()
        self._attempted = trio.Event()
        if url in self.refusing:
            raise OSError(f"cannot connect to {url}: refused")
        client_end, server_end = trio.testing.memory_stream_pair()
        self._accepted_send.send_nowait(FakeServer(url, server_end))
        return client_end

    async def accept(self) -> FakeServer:
        with trio.fail_after(REPLY_TIMEOUT):
            return await self._accepted.receive()

    async def until_attempts(self, count: int, within: float) -> None:
        with trio.fail_after(within):
            while len(self.attempts) < count:
                await self._attempted.wait()


def start_client(nursery: trio.Nursery, network: FakeNetwork) -> tuple[ChatClient, Screen]:
    client, screen = make_client(network)
    nursery.start_soon(client.run)
    return client, screen


def make_client(network: FakeNetwork) -> tuple[ChatClient, Screen]:
    screen = Screen()
    client = screen.client = ChatClient(
        "alice",
        Servers([A, B], network.connect),
        show=screen.show,
        changed=screen.changed,
        backoff=Backoff(rng=random.Random(1)),
    )
    return client, screen


async def test_a_refusing_server_is_passed_over_for_the_next_at_once(nursery, autojump_clock):
    network = FakeNetwork()
    network.refusing.add(A)
    alice, screen = start_client(nursery, network)

    b = await network.accept()
    assert b.url == B
    assert (await b.hello()).nick == "alice"
    (first, tried_at), (second, then) = network.attempts
    assert (first, second) == (A, B)
    assert then == tried_at  # no wait before the next server
    await b.welcome("alice")
    await screen.until(lambda: alice.state is State.CONNECTED)
    await screen.expect(rf"^! cannot connect to {A}: refused$")  # said once
    await screen.expect(rf"^- connecting to {B} \.\.\.$")


async def test_a_lost_connection_is_resumed_on_the_next_server_without_gap_or_duplicate(
    nursery, autojump_clock
):
    network = FakeNetwork()
    alice, screen = start_client(nursery, network)
    a = await network.accept()
    first = await a.hello()
    await a.welcome("alice")
    t = ev.now()
    await a.send(
        ev.Joined(t, "#lobby", 1, "alice"),
        ev.Message(t, "#lobby", 2, "bob", "hi"),
        ev.Joined(t, "#dev", 5, "alice"),
        ev.Message(t, "#dev", 6, "bob", "seen on a"),
    )
    await screen.expect(r"#dev bob: seen on a$")
    await screen.until(lambda: alice.state is State.CONNECTED)

    lost_at = trio.current_time()
    await trio.aclose_forcefully(a.stream)  # server a dies
    b = await network.accept()
    assert b.url == B
    assert network.attempts[-1] == (B, lost_at)  # at once
    hello = await b.hello()
    assert hello.resume == (ev.RoomSeq("#lobby", 2), ev.RoomSeq("#dev", 6))
    # the same token, so b gives the nickname back even if a's ghost still holds it
    assert first.token is not None
    assert hello.token == first.token
    await screen.expect(rf"^- reconnecting to {B} \.\.\.$")

    # b numbers the rooms as a did; its replay overlaps what alice saw by one
    await b.welcome("alice")
    said = ev.Message(t, "#dev", 6, "bob", "seen on a"), ev.Message(t, "#dev", 7, "bob", "new")
    await b.send(ev.History(t, "#lobby", ()), ev.History(t, "#dev", said))
    await screen.expect(r"while you were away, in #dev:\n.*\n  \[[\d:]+\] bob: new$")
    assert screen.text().count("seen on a") == 1
    assert "missed" not in screen.text()
    assert alice.state is State.CONNECTED
    assert await read_event(b.conn, b.stream) == ev.Join("#dev")  # current again


async def test_when_every_server_fails_a_whole_round_backs_off(nursery, autojump_clock):
    network = FakeNetwork()
    alice, screen = start_client(nursery, network)
    a = await network.accept()
    await a.hello()
    await a.welcome("alice")
    await screen.until(lambda: alice.state is State.CONNECTED)
    network.refusing |= {A, B}
    network.attempts.clear()
    # once welcomed, tried for ever; the lost connection counts as a's failure
    await trio.aclose_forcefully(a.stream)
    await network.until_attempts(7, within=60)
    await screen.until(lambda: alice.state is State.RECONNECTING)
    assert re.search(rf"reconnecting to {A} in \d+ s", _plain(toolbar(alice)))

    urls = [url for url, _ in network.attempts]
    assert urls == [B, *[A, B] * 3]
    times = [when for _, when in network.attempts]
    assert times[1::2] == times[2::2]  # within a round: no wait
    rng = random.Random(1)
    expected = [rng.uniform(step / 2, step) for step in (1, 2, 4)]
    waits = [b - a for a, b in zip(times[0::2], times[1::2], strict=False)]
    assert waits == pytest.approx(expected, abs=1e-6)
    # the first round is told on the screen; the toolbar tells of the rest
    assert len(re.findall(r"^! cannot connect to", screen.text(), re.MULTILINE)) == 2

    network.refusing.clear()
    server = await network.accept()
    await server.hello()
    await server.welcome("alice")
    await screen.until(lambda: alice.state is State.CONNECTED)


async def test_at_first_start_refused_servers_are_tried_three_rounds_then_given_up(
    nursery, autojump_clock
):
    network = FakeNetwork()
    network.refusing |= {A, B}
    alice, _ = make_client(network)
    with trio.fail_after(60):
        await alice.run()  # ends by itself
    assert [url for url, _ in network.attempts] == [A, B] * FIRST_START_ROUNDS
    assert alice.failure == f"cannot connect to {B}: refused (tried 3 times)"


@pytest.mark.parametrize(
    "error",
    [
        ConnectError(f"{A}: the server's certificate is not trusted: self-signed", lasting=True),
        ConnectError(f"cannot connect to {A}: Name or service not known", lasting=True),
    ],
)
async def test_at_first_start_an_error_that_cannot_clear_ends_the_client_at_once(
    nursery, autojump_clock, error
):
    async def connect(url: str) -> trio.abc.Stream:
        raise error

    client = ChatClient("alice", Servers([A], connect), show=lambda item: None)
    with trio.fail_after(1):
        await client.run()
    assert client.failure == str(error)


async def test_at_first_start_a_server_that_sends_the_client_away_ends_it(nursery, autojump_clock):
    network = FakeNetwork()
    alice, _ = make_client(network)
    ended = trio.Event()

    async def run() -> None:
        await alice.run()
        ended.set()

    nursery.start_soon(run)
    a = await network.accept()
    await a.hello()
    await a.send(ev.Bye(ev.now(), "too many connections from your address"))
    with trio.fail_after(60):
        await ended.wait()
    assert (
        alice.failure == "the server refused the connection: too many connections from your address"
    )
    assert len(network.attempts) == 1


async def test_the_servers_greeting_is_shown_on_the_first_connection_only(nursery, autojump_clock):
    network = FakeNetwork()
    alice, screen = start_client(nursery, network)
    greeting = ev.Notice(ev.now(), "welcome to trio-chat; choose a nickname")
    a = await network.accept()
    await a.hello()  # the mode is known: the greeting goes out as JSON
    await a.send(greeting)
    await a.welcome("alice")
    await screen.until(lambda: alice.state is State.CONNECTED)
    await trio.aclose_forcefully(a.stream)
    b = await network.accept()
    await b.hello()
    await b.send(greeting)
    await b.welcome("alice")
    await screen.until(lambda: alice.state is State.CONNECTED)
    assert screen.text().count("choose a nickname") == 1
