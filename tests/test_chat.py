"""The chat as people with nc see it: the real server over memory streams."""

from __future__ import annotations

import re

import pytest
import trio
import trio.testing

from trio_chat.testing import TextClient

CHAT_LINE = r"^\[\d\d:\d\d:\d\d\] "


async def login(listener, nick: str) -> TextClient:
    client = await TextClient.connect(listener)
    await client.login(nick)
    return client


async def test_two_users_chat_with_timestamps_and_join_notices(start_chat):
    _, listener = await start_chat()
    alice = await TextClient.connect(listener)
    assert "choose a nickname" in await alice.receive_line()
    welcome = await alice.login("alice")
    assert re.search(
        CHAT_LINE + r"\* welcome, alice! you are in #lobby alone \(1 online\)", welcome
    )

    bob = await TextClient.connect(listener)
    welcome = await bob.login("bob")
    assert "you are in #lobby with alice (2 online)" in welcome
    await alice.expect(CHAT_LINE + r"\* bob joined #lobby$")

    await bob.send_line("hello everyone")
    for reader in (alice, bob):  # the sender sees its own line, in the same order
        await reader.expect(CHAT_LINE + r"bob: hello everyone$")


async def test_everyone_sees_one_order(start_chat):
    _, listener = await start_chat()
    clients = [await login(listener, f"user{i}") for i in range(4)]

    async def chatter(i: int, client: TextClient) -> None:
        for n in range(5):
            await client.send_line(f"m{i}-{n}")
            await trio.lowlevel.checkpoint()  # let the others interleave

    async with trio.open_nursery() as nursery:
        for i, client in enumerate(clients):
            nursery.start_soon(chatter, i, client)
    seen = []
    for client in clients:
        said = []
        while len(said) < 20:
            line = await client.receive_line()
            if found := re.search(r"user\d: (m\d-\d)$", line):
                said.append(found[1])
        seen.append(said)
    assert all(s == seen[0] for s in seen)
    assert sorted(seen[0]) == sorted(f"m{i}-{n}" for i in range(4) for n in range(5))


async def test_leaving_is_announced_with_its_reason(start_chat):
    _, listener = await start_chat()
    alice = await login(listener, "alice")
    bob = await login(listener, "bob")
    carol = await login(listener, "carol")

    await bob.send_line("/quit off to lunch")
    await alice.expect(r"\* bob left #lobby \(quit: off to lunch\)$")
    assert (await bob.lines_until_closed())[-1].endswith("* disconnected: quit: off to lunch")

    await carol.stream.aclose()  # the socket closes without a goodbye
    await alice.expect(r"\* carol left #lobby \(connection closed\)$")


async def test_a_peer_that_vanishes_mid_line_is_announced_as_lost(start_chat):
    _, listener = await start_chat()
    alice = await login(listener, "alice")
    stream = await listener.connect()
    bob = TextClient(stream)
    await bob.login("bob")
    await stream.send_all(b"half a li")
    # A broken connection: the reader's next receive fails.
    await trio.aclose_forcefully(stream)
    await alice.expect(r"\* bob left #lobby \(connection (lost|closed)\)$")


async def test_taken_and_invalid_nicknames_then_a_good_one_on_the_same_connection(start_chat):
    _, listener = await start_chat()
    await login(listener, "alice")
    bob = await TextClient.connect(listener)
    await bob.send_line("ALICE")
    assert "taken" in (await bob.expect("^!")).string
    await bob.send_line("bad nick!")
    invalid = (await bob.expect("^!")).string
    assert 'nickname "bad nick!" is invalid' in invalid
    await bob.send_line("n" * 40)
    assert "longer than 32" in (await bob.expect("^!")).string
    assert "welcome, bob!" in await bob.login("bob")


async def test_a_taken_nickname_says_so(start_chat):
    _, listener = await start_chat()
    await login(listener, "alice")
    bob = await TextClient.connect(listener)
    await bob.send_line("Alice")
    assert (await bob.expect("^!")).string == '! nickname "Alice" is taken, choose another'


async def test_private_messages_reach_only_their_target(start_chat):
    _, listener = await start_chat()
    alice = await login(listener, "alice")
    bob = await login(listener, "bob")
    carol = await login(listener, "carol")
    await alice.send_line("/msg Bob just between us")
    await alice.send_line("and now for everyone")
    for reader in (alice, bob):
        await reader.expect(r"\[private\] alice -> bob: just between us$")
    # carol's next chat line is the public one: the private one never came
    line = await carol.expect(CHAT_LINE + r"(alice|\[private\])")
    assert line.string.endswith("alice: and now for everyone")

    await alice.send_line("/msg nobody hello?")
    assert 'no one is called "nobody"' in (await alice.expect("^!")).string


async def test_actions_and_nick_changes_are_seen_by_the_room(start_chat):
    _, listener = await start_chat()
    alice = await login(listener, "alice")
    bob = await login(listener, "bob")
    await bob.send_line("/me waves")
    await alice.expect(CHAT_LINE + r"~ bob waves$")
    await bob.send_line("/nick robert")
    await alice.expect(r"\* bob is now known as robert \(#lobby\)$")
    await bob.send_line("hi")
    await alice.expect(CHAT_LINE + r"robert: hi$")
    await alice.send_line("/nick Robert")
    assert "taken" in (await alice.expect("^!")).string


async def test_rooms_join_part_who_and_rooms(start_chat):
    _, listener = await start_chat()
    alice = await login(listener, "alice")
    bob = await login(listener, "bob")
    await alice.send_line("/join #dev")
    await alice.expect(r"\* in #dev \(1\): @alice$")  # the first is its operator
    await alice.expect(r"\* alice joined #dev$")
    await bob.send_line("/join #dev")
    await alice.expect(r"\* bob joined #dev$")

    await bob.send_line("in dev")  # the current room is the one joined last
    await alice.expect(CHAT_LINE + r"#dev bob: in dev$")  # lines outside the lobby name their room
    await bob.send_line("/rooms")
    await bob.expect(r"\* rooms: #dev \(2\), #lobby \(2\)$")
    await bob.send_line("/who #lobby")
    await bob.expect(r"\* in #lobby \(2\): alice, bob$")

    await bob.send_line("/part")
    await alice.expect(r"\* bob left #dev \(part\)$")
    await bob.send_line("back in the lobby")
    await alice.expect(CHAT_LINE + r"bob: back in the lobby$")

    await bob.send_line("/join nohash")
    assert "is not a room" in (await bob.expect("^!")).string


async def test_recent_history_is_replayed_on_joining(start_chat):
    _, listener = await start_chat(history_replay=2)
    alice = await login(listener, "alice")
    for n in range(3):
        await alice.send_line(f"message {n}")
    await alice.expect("message 2$")
    bob = await TextClient.connect(listener)
    await bob.send_line("bob")
    await bob.expect(r"\* welcome, bob!")
    assert "history of #lobby: 2 earlier message(s)" in await bob.receive_line()
    assert (await bob.receive_line()).endswith("alice: message 1")
    assert (await bob.receive_line()).endswith("alice: message 2")
    assert (await bob.receive_line()).endswith("* bob joined #lobby")
    await bob.send_line("/history 1")
    await bob.expect(r"history of #lobby: 1 earlier")
    assert (await bob.receive_line()).endswith("alice: message 2")


async def test_unknown_command_gets_an_error_and_slash_slash_is_a_message(start_chat):
    _, listener = await start_chat()
    alice = await login(listener, "alice")
    await alice.send_line("/dance")
    assert (await alice.expect("^!")).string == "! unknown command /dance; /help lists the commands"
    await alice.send_line("//dance is a command elsewhere")
    await alice.expect(CHAT_LINE + r"alice: /dance is a command elsewhere$")
    await alice.send_line("/help")
    await alice.expect(r"/msg NICK TEXT")


async def test_oversized_line_and_invalid_utf8_lose_nothing_else(start_chat):
    _, listener = await start_chat(max_line_bytes=100)
    alice = await login(listener, "alice")
    bob = await login(listener, "bob")
    await bob.send_line("before")
    await bob.send_line(b"x" * 5000)
    await bob.send_line(b"caf\xe9")
    await bob.send_line("after")
    assert "line longer than 100 bytes" in (await bob.expect("^!")).string
    assert "not valid UTF-8" in (await bob.expect("^!")).string
    said = [(await alice.expect(r"bob: ")).string for _ in range(2)]
    assert [s.split(": ", 1)[1] for s in said] == ["before", "after"]


async def test_a_sender_that_writes_one_byte_at_a_time(start_chat):
    _, listener = await start_chat()
    alice = await login(listener, "alice")
    stream = await listener.connect()
    for byte in b"bob\nhello in pieces\r\n":
        await stream.send_all(bytes([byte]))
    await alice.expect(CHAT_LINE + r"bob: hello in pieces$")


async def test_escape_sequences_never_reach_other_terminals(start_chat):
    _, listener = await start_chat()
    alice = await login(listener, "alice")
    bob = await login(listener, "bob")
    await bob.send_line("look \x1b[2J\x1b]0;pwned\x07 \x9b31m")
    line = (await alice.expect(r"bob: look")).string
    assert not re.search("[\x00-\x1f\x7f-\x9f]", line)
    assert line.endswith("look \u241b[2J\u241b]0;pwned\u2407 \ufffd31m")
    await bob.send_line("/me \x1b[5mblinks")
    assert "\x1b" not in (await alice.expect("~ bob")).string


async def test_a_client_that_never_reads_is_dropped_and_others_keep_receiving(start_chat):
    _, listener = await start_chat(outbox_size=20, flood_rate=0)
    alice = await login(listener, "alice")
    # Nobody reads this stream: the server's writes to it stall forever.
    stalled = await listener.connect(lockstep=True)
    await stalled.send_all(b"sleepy\n")
    await alice.expect(r"\* sleepy joined")

    seen = []
    for n in range(200):
        await alice.send_line(f"line {n}")
        while not (line := await alice.receive_line()).endswith(f"alice: line {n}"):
            seen.append(line)  # alice is never held up: each line comes back
    assert len(seen) == 1
    assert seen[0].endswith("* sleepy left #lobby (send queue exceeded)")


async def test_flood_is_slowed_then_cut_off(start_chat, autojump_clock):
    _, listener = await start_chat(flood_burst=5, flood_rate=2.0, flood_kick=10)
    alice = await login(listener, "alice")
    bob = await login(listener, "bob")
    start = trio.current_time()
    for n in range(8):
        await bob.send_line(f"spam {n}")
    await alice.expect("bob: spam 7$")
    # The nickname took one of the 5 at once; then 2 a second: the last four
    # lines waited 2 s in all.
    assert trio.current_time() - start == pytest.approx(2.0, abs=0.01)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(bob.send_line, "\n".join(f"more {n}" for n in range(40)))
        await alice.expect(r"\* bob left #lobby \(excess flood\)$")
    assert (await bob.lines_until_closed())[-1].endswith("disconnected: excess flood")


async def test_handshake_timeout_closes_a_silent_connection(start_chat, autojump_clock):
    _, listener = await start_chat(handshake_timeout=30)
    silent = await TextClient.connect(listener)
    start = trio.current_time()
    lines = await silent.lines_until_closed()
    assert trio.current_time() - start == pytest.approx(30)
    assert lines[-1].endswith("disconnected: no nickname chosen in time")


async def test_shutdown_tells_everyone_and_closes(start_chat):
    server, listener = await start_chat()
    alice = await login(listener, "alice")
    bob = await login(listener, "bob")
    unnamed = await TextClient.connect(listener)
    await trio.testing.wait_all_tasks_blocked()
    server.shutdown()
    for client in (alice, bob, unnamed):
        lines = await client.lines_until_closed()
        assert lines[-1].endswith("* disconnected: server shutting down")
        assert not any("left #lobby" in line for line in lines)


async def test_connections_per_address_and_in_all_are_limited(start_chat):
    _, listener = await start_chat(max_per_address=2, max_clients=3)
    first = await TextClient.connect(listener, "10.0.0.1")
    await TextClient.connect(listener, "10.0.0.1")
    refused = await TextClient.connect(listener, "10.0.0.1")
    assert await refused.lines_until_closed() == ["! too many connections from your address"]
    await TextClient.connect(listener, "10.0.0.2")
    full = await TextClient.connect(listener, "10.0.0.3")
    assert await full.lines_until_closed() == ["! the server is full, try again later"]

    await first.stream.aclose()
    await trio.testing.wait_all_tasks_blocked()
    again = await TextClient.connect(listener, "10.0.0.1")
    assert "welcome" in await again.login("again")


async def test_an_error_in_one_connection_ends_only_that_one(start_chat, monkeypatch, caplog):
    _, listener = await start_chat()
    alice = await login(listener, "alice")
    bob = await login(listener, "bob")

    from trio_chat.chat import Chat

    real = Chat.apply

    def broken(self, member, request, now):
        if member.nick == "bob":
            raise RuntimeError("a bug in the server")
        return real(self, member, request, now)

    monkeypatch.setattr(Chat, "apply", broken)
    await bob.send_line("/who")
    await alice.expect(r"\* bob left #lobby \(")
    await alice.send_line("still alive")
    await alice.expect("alice: still alive$")
    assert "a bug in the server" in caplog.text
