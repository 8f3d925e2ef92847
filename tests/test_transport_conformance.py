"""The same chat, run over every transport: nothing the users see may differ."""

from __future__ import annotations

import contextlib
import re
import socket

import pytest
import trio
import trio.testing
from irc_harness import IrcClient
from redis_harness import open_redis_server
from transport_harness import BROKER, IRC, TRANSPORTS, Harness, socket_of

from trio_chat.client.connection import ChatClient
from trio_chat.protocol import events as ev
from trio_chat.server.outbox import DirectWrite
from trio_chat.testing import JsonClient, TextClient

CHAT_LINE = r"^\[\d\d:\d\d:\d\d\] "


@pytest.fixture(params=[*TRANSPORTS, BROKER])
async def chat(request, nursery, tmp_path, certs):
    async with contextlib.AsyncExitStack() as stack:
        broker = None
        if request.param == BROKER:
            executable = request.getfixturevalue("redis_executable")
            redis = await stack.enter_async_context(
                open_redis_server(executable, tmp_path / "redis", nursery)
            )
            broker = redis.url
        harness = Harness(request.param, nursery, tmp_path, certs, broker=broker)
        yield harness
        await harness.close_all()


async def test_users_join_and_chat(chat):
    await chat.start()
    alice = await chat.client("alice")
    bob = await chat.client("bob")
    await alice.expect(CHAT_LINE + r"\* bob joined #lobby$")
    await bob.send_line("hello from " + chat.kind)
    for reader in (alice, bob):
        await reader.expect(CHAT_LINE + rf"bob: hello from {chat.kind}$")


async def test_a_program_in_json_mode_chats_with_a_person(chat):
    await chat.start()
    alice = await chat.client("alice")
    bot = JsonClient(await chat.stream())
    assert (await bot.login("bot")).nick == "bot"
    await bot.send(ev.Say("beep"))
    await alice.expect(CHAT_LINE + r"bot: beep$")
    await alice.send_line("hello bot")
    while (said := await bot.expect(ev.Message)).nick != "alice":
        assert said.text == "beep"  # its own message, echoed first
    assert said.text == "hello bot"


async def test_a_private_message_reaches_only_its_target(chat):
    await chat.start()
    alice, bob, carol = [await chat.client(nick) for nick in ("alice", "bob", "carol")]
    await alice.send_line("/msg bob just between us")
    await alice.send_line("and now for everyone")
    for reader in (alice, bob):
        await reader.expect(r"\[private\] alice -> bob: just between us$")
    line = await carol.expect(CHAT_LINE + r"(alice|\[private\])")
    assert line.string.endswith("alice: and now for everyone")


async def test_leaving_is_announced_and_the_connection_closed(chat):
    await chat.start()
    alice = await chat.client("alice")
    bob = await chat.client("bob")
    await bob.send_line("/quit bye all")
    await alice.expect(r"\* bob left #lobby \(quit: bye all\)$")
    assert (await bob.lines_until_closed())[-1].endswith("* disconnected: quit: bye all")


async def test_a_lost_connection_is_announced(chat):
    await chat.start()
    alice = await chat.client("alice")
    stream = await chat.stream()
    await TextClient(stream).login("bob")
    await stream.send_all(b"half a li")
    await chat.abort(stream)
    await alice.expect(r"\* bob left #lobby \(connection (lost|closed)\)$")


async def test_an_oversized_line_is_refused_and_the_connection_goes_on(chat):
    await chat.start(max_line_bytes=1000)
    alice = await chat.client("alice")
    bob = await chat.client("bob")
    await alice.send_line("x" * 1500)
    assert "line longer than 1000 bytes, discarded" in (await alice.expect("^!")).string
    await alice.send_line("still here")
    await bob.expect(CHAT_LINE + r"alice: still here$")


async def test_connections_from_one_address_are_limited(chat):
    await chat.start(max_per_address=1)
    await chat.client("alice")
    second = await chat.client()
    assert "too many connections from your address" in (await second.expect("^!")).string
    await second.lines_until_closed()


async def test_a_client_that_stops_reading_is_dropped(chat):
    await chat.start(outbox_size=50, flood_rate=0)
    alice = await chat.client("alice")
    sleepy = await chat.stream(slow=True)
    await sleepy.send_all(b"sleepy\n")
    await alice.expect(r"\* sleepy joined")
    payload = "x" * 4000
    for n in range(2000):  # at most 8 MB: more than any socket buffers hold
        await alice.send_line(f"{n} {payload}")
        line = await alice.receive_line()
        if line.endswith("* sleepy left #lobby (send queue exceeded)"):
            break
        assert line.endswith(f"alice: {n} {payload}")
    else:
        pytest.fail("the client that never reads was never dropped")


@pytest.mark.parametrize("kind", ["tcp", "tls", "ws", "wss", *IRC])
async def test_connections_over_tcp_send_keepalive_probes(kind, tmp_path, certs, nursery):
    harness = Harness(kind, nursery, tmp_path, certs)
    listeners = await harness.listeners()
    _, accepted = await harness.connected_pair(listeners[0])
    sock = socket_of(accepted)
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    await trio.aclose_forcefully(accepted)
    for listener in listeners:
        await listener.aclose()
    await harness.close_all()


@pytest.mark.parametrize("kind", [*(k for k in TRANSPORTS if k != "memory"), *IRC])
async def test_only_plain_sockets_are_written_directly(kind, tmp_path, certs, nursery):
    harness = Harness(kind, nursery, tmp_path, certs)
    listeners = await harness.listeners()
    _, accepted = await harness.connected_pair(listeners[0])
    # TLS records and WebSocket frames must go out whole, never cut by a partial write.
    assert isinstance(accepted, DirectWrite) == (kind in ("tcp", "unix", "irc"))
    await harness.close_all(listeners)


@pytest.mark.parametrize("kind", [*(k for k in TRANSPORTS if k != "memory"), *IRC])
async def test_streams_pass_trio_stream_checks(kind, tmp_path, certs, nursery):
    harness = Harness(kind, nursery, tmp_path, certs)
    listeners = await harness.listeners()

    await trio.testing.check_two_way_stream(
        lambda: harness.connected_pair(listeners[0]),
        lambda: harness.clogged_pair(listeners[0]),
    )
    for listener in listeners:
        await listener.aclose()
    await harness.close_all()


async def test_the_terminal_clients_connection_chats_over_it(chat, nursery):
    await chat.start()
    shown: list[ev.Event] = []
    arrived = trio.Event()

    def show(item: object) -> None:
        if isinstance(item, ev.Message):
            shown.append(item)
            arrived.set()

    client = ChatClient("alice", chat.stream, show=show)
    nursery.start_soon(client.run)
    bob = await chat.client("bob")
    await bob.expect(r"\* alice joined #lobby$")
    client.submit("hello over " + chat.kind)
    await bob.expect(rf"alice: hello over {chat.kind}$")
    await bob.send_line("hi alice")
    while not any(m.text == "hi alice" for m in shown):
        await arrived.wait()
        arrived = trio.Event()
    client.quit()


# ------------------------------------------------- the same chat over irc://


@pytest.fixture(params=IRC)
async def irc_chat(request, nursery, tmp_path, certs):
    harness = Harness(request.param, nursery, tmp_path, certs)
    yield harness
    await harness.close_all()


async def test_irc_users_join_and_chat(irc_chat):
    await irc_chat.start()
    alice = await irc_chat.irc_client("alice")
    bob = await irc_chat.irc_client("bob")
    await alice.expect("JOIN", "#lobby")
    await bob.send(f"PRIVMSG #lobby :hello from {irc_chat.kind}")
    said = await alice.expect("PRIVMSG", "#lobby")
    assert said.params[1] == f"hello from {irc_chat.kind}"
    # the username USER gave, and a cloak of the address
    assert re.fullmatch(r"bob!u@[0-9a-f]{12}\.cloak", said.source or "")


async def test_irc_leaving_is_announced_and_the_connection_closed(irc_chat):
    await irc_chat.start()
    alice = await irc_chat.irc_client("alice")
    bob = await irc_chat.irc_client("bob")
    await alice.expect("JOIN", "#lobby")
    await bob.send("QUIT :bye all")
    assert (await alice.expect("QUIT")).params == ("Quit: bye all",)
    assert (await bob.expect("ERROR")).params == ("Closing link: quit: bye all",)


async def test_irc_a_lost_connection_is_announced(irc_chat):
    await irc_chat.start()
    alice = await irc_chat.irc_client("alice")
    stream = await irc_chat.stream()
    await IrcClient(stream).register("bob")
    await stream.send_all(b"PRIVMSG #lobby :half a li")
    await irc_chat.abort(stream)
    gone = await alice.expect("QUIT")
    assert gone.params[0] in ("connection lost", "connection closed")


async def test_irc_an_oversized_line_is_refused_and_the_connection_goes_on(irc_chat):
    await irc_chat.start()
    alice = await irc_chat.irc_client("alice")
    bob = await irc_chat.irc_client("bob")
    await alice.send("PRIVMSG #lobby :" + "x" * 1500)
    await alice.expect("417")
    await alice.send("PRIVMSG #lobby :still here")
    await bob.expect("PRIVMSG", "#lobby", "still here")


async def test_irc_connections_from_one_address_are_limited(irc_chat):
    await irc_chat.start(max_per_address=1)
    await irc_chat.irc_client("alice")
    second = await irc_chat.irc_client()
    refused = await second.expect("ERROR")
    assert "too many connections from your address" in refused.params[0]
