"""The terminal client's logic against the real server, in memory, on virtual time."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest
import trio
import trio.testing

from trio_chat.client.connection import (
    MAX_PENDING,
    Backoff,
    ChatClient,
    ClearScreen,
    Shown,
    State,
)
from trio_chat.client.render import render
from trio_chat.client.ui import toolbar
from trio_chat.protocol import ServerConnection
from trio_chat.protocol import events as ev
from trio_chat.protocol.reading import read_event
from trio_chat.testing import REPLY_TIMEOUT, JsonClient, MemoryListener, TextClient


class Connector:
    """Connects through a MemoryListener; can refuse, and can cut the line."""

    def __init__(self, listener: MemoryListener) -> None:
        self.listener = listener
        self.refuse = 0
        self.attempts: list[float] = []
        self.stream: trio.abc.Stream | None = None

    async def __call__(self) -> trio.abc.Stream:
        self.attempts.append(trio.current_time())
        if self.refuse:
            self.refuse -= 1
            raise OSError("connection refused")
        self.stream = await self.listener.connect()
        return self.stream

    async def cut(self) -> None:
        """The network goes away under the client."""
        assert self.stream is not None
        await trio.aclose_forcefully(self.stream)


class Screen:
    """What a client shows, and a way to wait until it shows something."""

    def __init__(self) -> None:
        self.items: list[Shown] = []
        self.client: ChatClient | None = None
        self._changed = trio.Event()

    def show(self, item: Shown) -> None:
        self.items.append(item)
        self.changed()

    def changed(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def text(self) -> str:
        assert self.client is not None
        me = self.client.nick
        return "".join(
            text
            for item in self.items
            if not isinstance(item, ClearScreen)
            for _, text in render(item, me)
        )

    async def until(self, predicate: Callable[[], object], within: float = REPLY_TIMEOUT) -> None:
        with trio.fail_after(within):
            while not predicate():
                await self._changed.wait()

    async def expect(self, pattern: str) -> None:
        await self.until(lambda: re.search(pattern, self.text(), re.MULTILINE))


async def start_client(
    nursery: trio.Nursery, listener: MemoryListener, nick: str, seed: int = 1, **options: object
) -> tuple[ChatClient, Screen, Connector]:
    screen = Screen()
    connector = Connector(listener)
    client = ChatClient(
        nick,
        connector,
        show=screen.show,
        changed=screen.changed,
        backoff=Backoff(rng=random.Random(seed)),
        **options,  # type: ignore[arg-type]
    )
    screen.client = client
    nursery.start_soon(client.run)
    return client, screen, connector


async def connected(nursery, listener, nick):
    client, screen, connector = await start_client(nursery, listener, nick)
    await screen.until(lambda: client.state is State.CONNECTED)
    await screen.expect(rf"\* {nick} joined #lobby$")
    return client, screen, connector


async def test_two_clients_chat_and_each_kind_of_line_looks_distinct(start_chat, nursery):
    _, listener = await start_chat()
    alice, alice_screen, _ = await connected(nursery, listener, "alice")
    bob, bob_screen, _ = await connected(nursery, listener, "bob")

    alice.submit("hello bob")
    await bob_screen.expect(r"^\[\d\d:\d\d:\d\d\] alice: hello bob$")
    await alice_screen.expect(r"alice: hello bob$")
    alice.submit("/me waves")
    await bob_screen.expect(r"~ alice waves$")
    bob.submit("/msg alice psst")
    await alice_screen.expect(r"\[private\] bob -> alice: psst$")
    alice.submit("/bogus")
    await alice_screen.expect(r"! unknown command /bogus")

    styles = {
        kind: {style for style, _ in render(item, "alice")}
        for item in alice_screen.items
        if isinstance(item, ev.Event)
        for kind in [type(item).__name__ + (":own" if getattr(item, "nick", "") == "alice" else "")]
    }
    assert "class:own" in styles["Message:own"]
    assert "class:action" in styles["Action:own"]
    assert "class:private" in styles["Private"]
    assert "class:notice" in styles["Joined"]


async def test_the_nickname_list_follows_joins_leaves_and_renames(start_chat, nursery):
    _, listener = await start_chat()
    alice, screen, _ = await connected(nursery, listener, "alice")
    carol = await JsonClient.connect(listener)
    await carol.login("carol")
    await screen.until(lambda: "carol" in alice.nicknames())
    await carol.send(ev.ChangeNick("caroline"))
    await screen.until(lambda: alice.nicknames() == ["alice", "caroline"])
    await carol.send(ev.Quit())
    await screen.until(lambda: alice.nicknames() == ["alice"])


async def test_a_taken_nickname_is_refused_and_another_chosen_on_the_same_connection(
    start_chat, nursery
):
    _, listener = await start_chat()
    first = await JsonClient.connect(listener)
    await first.login("alice")
    client, screen, connector = await start_client(nursery, listener, "alice")
    await screen.expect(r'! nickname "alice" is taken')
    await screen.until(lambda: client.state is State.OFFLINE)
    assert "offline" in _plain(toolbar(client))

    client.submit("/who")
    await screen.expect("choose a nickname first")
    client.submit("alice2")
    await screen.expect(r"welcome, alice2!")
    assert client.state is State.CONNECTED
    assert client.nick == "alice2"
    assert len(connector.attempts) == 1


async def test_reconnects_with_exponential_backoff_and_jitter(start_chat, nursery, autojump_clock):
    _, listener = await start_chat()
    client, screen, connector = await connected(nursery, listener, "alice")
    connector.refuse = 8
    await connector.cut()
    await screen.until(lambda: client.state is State.RECONNECTING)
    assert re.search(r"reconnecting in \d s", _plain(toolbar(client)))
    # 1 + 8 refused + 1 that works, after waits that add up to 3 minutes at most
    await screen.until(lambda: len(connector.attempts) == 10, within=300)
    await screen.until(lambda: client.state is State.CONNECTED)

    waits = [b - a for a, b in zip(connector.attempts[1:], connector.attempts[2:], strict=False)]
    rng = random.Random(1)
    steps = [1, 2, 4, 8, 16, 32, 60, 60, 60]
    expected = [rng.uniform(s / 2, s) for s in steps]
    # the first wait comes after the drop, before attempt 2
    assert waits == pytest.approx(expected[1:], abs=1e-6)
    assert max(waits) <= 60

    # after a good connection, backoff starts again from one second
    before = len(connector.attempts)
    cut_at = trio.current_time()
    await connector.cut()
    await screen.until(lambda: len(connector.attempts) == before + 1)
    assert 0.5 <= connector.attempts[-1] - cut_at <= 1
    await screen.until(lambda: client.state is State.CONNECTED)


async def test_after_a_drop_it_registers_again_rejoins_and_shows_what_was_missed(
    start_chat, nursery, autojump_clock
):
    _, listener = await start_chat()
    alice, screen, connector = await connected(nursery, listener, "alice")
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    alice.submit("/join #dev")
    await screen.expect(r"\* alice joined #dev$")
    alice.submit("/join #ops")
    await screen.expect(r"\* alice joined #ops$")
    alice.submit("/join #dev")  # current again
    await screen.until(lambda: alice.room == "#dev")
    await bob.send(ev.Join("#dev"))
    await screen.expect(r"\* bob joined #dev$")

    await connector.cut()
    await bob.expect(ev.Left)
    await bob.send(ev.Say("while you were out", "#dev"))
    await screen.until(lambda: alice.state is State.CONNECTED and alice.room == "#dev")
    assert list(alice.rooms.values()) == ["#lobby", "#ops", "#dev"]
    await screen.expect(r"while you were away, in #dev:")
    await screen.expect(r"^  \[\d\d:\d\d:\d\d\] bob: while you were out$")
    assert "may have been missed" not in screen.text()

    alice.submit("back again")
    while (said := await bob.expect(ev.Message)).nick != "alice":
        pass
    assert (said.room, said.nick, said.text) == ("#dev", "alice", "back again")


async def test_rooms_to_join_are_joined_once_welcomed_and_kept_on_reconnect(
    start_chat, nursery, autojump_clock
):
    _, listener = await start_chat()
    alice, screen, connector = await start_client(nursery, listener, "alice", join=("#dev", "#ops"))
    await screen.expect(r"\* alice joined #ops$")
    await screen.until(lambda: alice.room == "#ops")
    assert list(alice.rooms.values()) == ["#lobby", "#dev", "#ops"]

    await connector.cut()
    await screen.expect(r"connection lost")
    await screen.until(lambda: alice.state is State.CONNECTED and alice.room == "#ops")
    assert list(alice.rooms.values()) == ["#lobby", "#dev", "#ops"]


async def test_a_gap_the_replay_leaves_is_filled_from_the_server(
    start_chat, nursery, autojump_clock
):
    _, listener = await start_chat(history_page=3)
    alice, screen, connector = await connected(nursery, listener, "alice")
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    await screen.expect(r"bob joined #lobby$")
    await connector.cut()
    await bob.expect(ev.Left)
    for n in range(5):
        await bob.send(ev.Say(f"message {n}"))
    await screen.until(lambda: alice.state is State.CONNECTED)
    # The resume replays 3 events (alice's leaving, messages 0 and 1); then
    # the numbers show 3 more went by, and the client asks for exactly those.
    await screen.expect(r"! 3 event\(s\) in #lobby were missed: asking the server for them")
    await screen.expect(r"missed earlier in #lobby:")
    await screen.expect(r"bob: message 4$")
    said = re.findall(r"bob: (message \d)", screen.text())
    assert said == [f"message {n}" for n in range(5)]


async def test_a_server_that_started_afresh_is_pointed_out(start_chat, nursery, autojump_clock):
    _, listener = await start_chat()
    alice, screen, connector = await connected(nursery, listener, "alice")
    for n in range(3):
        alice.submit(f"before {n}")
    await screen.expect(r"alice: before 2$")
    _, connector.listener = await start_chat()  # a new server, its rooms numbered from 1
    await connector.cut()
    await screen.expect(r"! #lobby started afresh \(the server restarted\?\): messages may")
    assert alice.state is State.CONNECTED


async def test_lines_typed_offline_are_kept_and_sent_on_reconnect(
    start_chat, nursery, autojump_clock
):
    _, listener = await start_chat()
    alice, screen, connector = await connected(nursery, listener, "alice")
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    connector.refuse = 3
    await connector.cut()
    await screen.until(lambda: alice.state is State.RECONNECTING)
    alice.submit("first")
    alice.submit("/me second")
    await screen.expect(r"- pending: first \(sent when connected\)$")
    assert "2 pending" in _plain(toolbar(alice))

    said = await bob.expect(ev.Message)
    assert (said.nick, said.text) == ("alice", "first")
    assert (await bob.expect(ev.Action)).text == "second"
    assert not alice.pending


async def test_beyond_the_pending_limit_a_line_is_refused_visibly(
    start_chat, nursery, autojump_clock
):
    _, listener = await start_chat()  # with the default flood control
    alice, screen, connector = await connected(nursery, listener, "alice")
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    connector.refuse = 2
    await connector.cut()
    await screen.until(lambda: alice.state is not State.CONNECTED)
    for n in range(MAX_PENDING + 1):
        alice.submit(f"line {n}")
    await screen.expect(rf"! offline with {MAX_PENDING} lines waiting: not kept$")
    assert len(alice.pending) == MAX_PENDING

    said = [(await bob.expect(ev.Message)).text for _ in range(MAX_PENDING)]
    assert said == [f"line {n}" for n in range(MAX_PENDING)]
    alice.submit("and one more")
    assert (await bob.expect(ev.Message)).text == "and one more"
    assert len(connector.attempts) == 4  # the burst did not get alice dropped


async def test_server_pings_are_answered(start_chat, nursery, autojump_clock):
    _, listener = await start_chat(ping_interval=5, ping_timeout=5)
    _, _, connector = await connected(nursery, listener, "alice")
    bob = await TextClient.connect(listener)  # text mode: never pinged
    await bob.login("bob")
    with trio.move_on_after(60):
        await bob.expect("alice left")
        pytest.fail("the client was dropped although it answers pings")
    assert len(connector.attempts) == 1


async def test_quit_says_goodbye_and_ends(start_chat, nursery):
    _, listener = await start_chat()
    alice, screen, _ = await connected(nursery, listener, "alice")
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    alice.submit("/quit see you")
    left = await bob.expect(ev.Left)
    assert (left.nick, left.reason) == ("alice", "quit: see you")
    await screen.expect(r"\* disconnected: quit: see you$")


async def test_quit_while_offline_ends_at_once(start_chat, autojump_clock):
    _, listener = await start_chat()
    async with trio.open_nursery() as nursery:
        alice, screen, connector = await start_client(nursery, listener, "alice")
        connector.refuse = 1000
        await screen.until(lambda: alice.state is State.RECONNECTING)
        alice.quit()
    assert alice.state is not State.CONNECTED


async def test_help_and_clear_are_answered_by_the_client(start_chat, nursery):
    _, listener = await start_chat()
    alice, screen, _ = await connected(nursery, listener, "alice")
    alice.submit("/help")
    await screen.expect(r"^- /clear +clear the screen$")
    await screen.expect(r"^- Tab +complete")
    alice.submit("/clear")
    await screen.until(lambda: isinstance(screen.items[-1], ClearScreen))


def _plain(fragments) -> str:
    return "".join(text for _, text in fragments)


async def register(listener: MemoryListener, nick: str, password: str) -> None:
    """``nick`` registered with ``password``, and nobody holding it."""
    owner = await JsonClient.connect(listener)
    await owner.login(nick)
    await owner.send(ev.Register(password))
    await owner.expect(ev.Notice)
    await owner.send(ev.Quit())
    await owner.expect(ev.Bye)


async def test_a_registered_nick_asks_for_its_password_and_keeps_it_for_reconnecting(
    start_chat, nursery
):
    # Real time: checking a password runs in a worker thread, and a virtual
    # clock would jump ahead to the next timeout while it does.
    _, listener = await start_chat()
    await register(listener, "alice", "alice-password")

    alice, screen, connector = await start_client(nursery, listener, "alice")
    await screen.until(lambda: alice.state is State.PASSWORD)
    # in people's words, as text mode says it, not the words meant for programs
    await screen.expect(r'^- nickname "alice" is registered: type its password, or /nick ANOTHER$')
    assert "hello" not in screen.text()
    alice.submit("wrong-password")
    await screen.expect(r'wrong password for "alice"')
    await screen.expect(r"type the password of alice, or /nick ANOTHER")
    await screen.until(lambda: alice.state is State.PASSWORD)
    alice.submit("alice-password")
    await screen.until(lambda: alice.state is State.CONNECTED)
    assert "alice-password" not in screen.text()

    await connector.cut()  # back without being asked again
    await screen.until(lambda: alice.state is not State.CONNECTED)
    await screen.until(lambda: alice.state is State.CONNECTED)
    assert alice.nick == "alice"


async def test_at_first_start_a_wrong_password_from_a_file_ends_the_client(start_chat, nursery):
    _, listener = await start_chat()  # real time: the password is checked in a thread
    await register(listener, "alice", "alice-password")
    alice, screen, _ = await start_client(nursery, listener, "alice", password="not-it")
    await screen.expect(r'wrong password for "alice"')
    await screen.until(lambda: alice.failure is not None)
    assert alice.failure == 'the password given for "alice" was refused'
    assert alice.state is not State.PASSWORD  # nobody is asked: the file will not change


async def test_after_a_drop_the_members_of_every_rejoined_room_are_known(
    start_chat, nursery, autojump_clock
):
    _, listener = await start_chat()
    alice, screen, connector = await connected(nursery, listener, "alice")
    carol = await JsonClient.connect(listener)
    await carol.login("carol")
    await carol.send(ev.Join("#ops"))
    await carol.send(ev.Part("#lobby"))
    alice.submit("/join #ops")
    await screen.expect(r"\* alice joined #ops$")
    alice.submit("/join #dev")
    await screen.until(lambda: alice.room == "#dev")
    assert "carol" in alice.members["#ops"]

    await connector.cut()
    await screen.until(lambda: alice.state is not State.CONNECTED)
    await screen.until(lambda: alice.state is State.CONNECTED and alice.room == "#dev")
    assert sorted(alice.members["#ops"]) == ["alice", "carol"]  # not the current room
    assert "carol" in alice.nicknames()


async def test_a_connection_lost_right_after_the_welcome_is_resumed_without_the_lobby(
    nursery, autojump_clock
):
    # The test plays the server, to cut the line between the welcome and the
    # client's own joined: the client has seen nothing in #lobby to resume.
    servers_send, servers = trio.open_memory_channel[trio.abc.Stream](1)

    async def connect() -> trio.abc.Stream:
        client_end, server_end = trio.testing.memory_stream_pair()
        await servers_send.send(server_end)
        return client_end

    async def hello(stream: trio.abc.Stream, conn: ServerConnection) -> ev.Request:
        request = await read_event(conn, stream)
        assert isinstance(request, ev.Hello)
        return request

    screen = Screen()
    alice = screen.client = ChatClient("alice", connect, show=screen.show, changed=screen.changed)
    nursery.start_soon(alice.run)
    server, conn = await servers.receive(), ServerConnection()
    await hello(server, conn)
    await server.send_all(conn.encoder(ev.Welcome(ev.now(), "alice", "#lobby", ("alice",), 1)))
    await screen.until(lambda: alice.state is State.CONNECTED)
    await trio.aclose_forcefully(server)

    server, conn = await servers.receive(), ServerConnection()
    assert (await hello(server, conn)).resume == ()
    await server.send_all(conn.encoder(ev.Welcome(ev.now(), "alice", "#lobby", ("alice",), 1)))
    await screen.until(lambda: alice.state is State.CONNECTED)
    assert alice.room == "#lobby"


async def test_the_toolbar_counts_who_is_here_and_the_welcome_who_is_online(start_chat, nursery):
    _, listener = await start_chat()
    await connected(nursery, listener, "bob")
    carol, carol_screen, _ = await connected(nursery, listener, "carol")
    carol.submit("/join #dev")
    carol.submit("/part #lobby")
    await carol_screen.expect(r"\* carol left #lobby")
    alice, screen, _ = await connected(nursery, listener, "alice")
    await screen.expect(r"you are in #lobby with bob \(3 online\)")  # the server
    assert "| alice | #lobby (2 here) " in _plain(toolbar(alice))  # the room


async def test_a_pasted_block_is_sent_line_by_line_in_order_within_flood_control(
    start_chat, nursery, autojump_clock
):
    _, listener = await start_chat()  # with the default flood control
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    alice, screen, _ = await connected(nursery, listener, "alice")

    alice.paste(["line 1", "line 2", "line 3"])
    await screen.expect(r"^- sending 3 lines\.\.\.$")
    for n in (1, 2, 3):
        said = await bob.expect(ev.Message)
        assert (said.nick, said.text) == ("alice", f"line {n}")

    lines = [f"row {n}" for n in range(30)]
    alice.paste(lines)
    await screen.expect(r"^- paste 30 lines as 30 messages\? \(y/n\)$")
    alice.submit("y")
    await screen.expect(r"^- sending 30 lines\.\.\.$")
    start = trio.current_time()
    for line in lines:
        said = await bob.expect(ev.Message)
        assert said.text == line
    assert trio.current_time() - start >= (30 - 8) / 4 - 0.01  # paced: 8 at once, then 4/s
    assert alice.state is State.CONNECTED
    assert "flood" not in screen.text()

    alice.paste(lines)
    await screen.expect(r"\(y/n\)$")
    alice.submit("n")
    await screen.expect(r"^- the paste was not sent$")
