"""JSON mode: the same chat, for programs."""

from __future__ import annotations

import pytest
import trio

from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.testing import JsonClient, TextClient


async def test_json_and_text_users_share_a_room(start_chat):
    _, listener = await start_chat()
    bot = await JsonClient.connect(listener)
    welcome = await bot.login("bot")
    assert (welcome.nick, welcome.room, welcome.members, welcome.online) == (
        "bot",
        "#lobby",
        ("bot",),
        1,
    )
    joined = await bot.expect(ev.Joined)
    assert (joined.room, joined.nick) == ("#lobby", "bot")

    person = await TextClient.connect(listener)
    await person.login("person")
    assert (await bot.expect(ev.Joined)).nick == "person"
    await person.send_line("hello bot")
    said = await bot.expect(ev.Message)
    assert (said.room, said.nick, said.text) == ("#lobby", "person", "hello bot")
    assert said.time.tzinfo is not None

    await bot.send(ev.Say("hello person"))
    await person.expect(r"bot: hello person$")
    await bot.send(ev.Act("beeps"))
    await person.expect(r"~ bot beeps$")


async def test_room_events_carry_a_sequence_number_that_grows_by_one(start_chat):
    _, listener = await start_chat()
    bot = await JsonClient.connect(listener)
    await bot.login("bot")
    other = await JsonClient.connect(listener)
    await other.login("other")
    await other.send(ev.Say("one"))
    await other.send(ev.ChangeNick("other2"))
    await other.send(ev.Act("two"))
    await other.send(ev.Quit("done"))
    seen = []
    while len(seen) < 6:
        event = await bot.receive()
        if isinstance(event, ev.RoomEvent):
            seen.append(event)
    assert [type(e) for e in seen] == [
        ev.Joined,
        ev.Joined,
        ev.Message,
        ev.NickChanged,
        ev.Action,
        ev.Left,
    ]
    assert [e.seq for e in seen] == list(range(seen[0].seq, seen[0].seq + 6))
    assert seen[-1].reason == "quit: done"


async def test_everything_text_mode_can_do(start_chat):
    _, listener = await start_chat()
    bot = await JsonClient.connect(listener)
    await bot.login("bot")
    friend = await JsonClient.connect(listener)
    await friend.login("friend")

    await bot.send(ev.Tell("friend", "psst"))
    private = await friend.expect(ev.Private)
    assert (private.sender, private.target, private.text) == ("bot", "friend", "psst")

    await bot.send(ev.Join("#dev"))
    assert (await bot.expect(ev.Members)).nicks == ("bot",)
    assert (await bot.expect(ev.Joined)).room == "#dev"
    await bot.send(ev.Say("in lobby", room="#lobby"))
    assert (await friend.expect(ev.Message)).text == "in lobby"
    await bot.send(ev.Who("#lobby"))
    assert (await bot.expect(ev.Members)).nicks == ("bot", "friend")
    await bot.send(ev.ListRooms())
    rooms = (await bot.expect(ev.Rooms)).rooms
    assert rooms == (ev.RoomInfo("#dev", 1), ev.RoomInfo("#lobby", 2))
    await bot.send(ev.GetHistory("#lobby", limit=5))
    history = await bot.expect(ev.History)
    assert [e.text for e in history.events if isinstance(e, ev.Message)] == ["in lobby"]
    await bot.send(ev.Part("#dev"))
    left = await bot.expect(ev.Left)
    assert (left.room, left.reason) == ("#dev", "part")
    await bot.send(ev.Ping("abc"))
    assert (await bot.expect(ev.ServerPong)).token == "abc"
    await bot.send(ev.GetHelp())
    assert any("/msg" in c for c in (await bot.expect(ev.Help)).commands)
    await bot.send(ev.Quit())
    assert (await bot.expect(ev.Bye)).reason == "quit"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{broken", Code.BAD_JSON),
        (b'{"type":"say"}', Code.BAD_REQUEST),
        (b'{"type":"dance"}', Code.BAD_REQUEST),
        (b'{"type":"say","text":"hi","room":"#nowhere"}', Code.NOT_IN_ROOM),
        (b'{"type":"hello","nick":"again"}', Code.ALREADY_REGISTERED),
    ],
)
async def test_errors_are_events_with_a_code(start_chat, line, code):
    _, listener = await start_chat()
    bot = await JsonClient.connect(listener)
    await bot.login("bot")
    await bot.stream.send_all(line + b"\n")
    error = await bot.expect(ev.Error)
    assert error.code == code
    assert error.message
    await bot.send(ev.Say("still fine"))
    assert (await bot.expect(ev.Message)).text == "still fine"


async def test_a_taken_nickname_then_another(start_chat):
    _, listener = await start_chat()
    await (await JsonClient.connect(listener)).login("bot")
    second = await JsonClient.connect(listener)
    await second.send(ev.Say("too early"))
    assert (await second.expect(ev.Error)).code == Code.NOT_REGISTERED
    await second.send(ev.Hello("BOT"))
    assert (await second.expect(ev.Error)).code == Code.NICK_TAKEN
    assert (await second.login("bot2")).nick == "bot2"


async def test_a_client_whose_connection_died_unseen_takes_its_nickname_back_with_its_token(
    start_chat,
):
    _, listener = await start_chat()
    token = "a secret of this client"
    first = await JsonClient.connect(listener)
    await first.send(ev.Hello("bot", token=token))
    await first.expect(ev.Welcome)
    # the old connection still stands (the server has not seen it end)
    thief = await JsonClient.connect(listener)
    await thief.send(ev.Hello("bot", token="another secret of someone"))
    assert (await thief.expect(ev.Error)).code == Code.NICK_TAKEN
    again = await JsonClient.connect(listener)
    await again.send(ev.Hello("bot", token=token))
    assert (await again.expect(ev.Welcome)).nick == "bot"
    assert (await first.expect(ev.Bye)).reason == "reconnected"
    short = await JsonClient.connect(listener)
    await short.send(ev.Hello("bot2", token="short"))
    error = await short.expect(ev.Error)
    assert (error.code, error.message) == (Code.BAD_REQUEST, "a token needs at least 16 characters")


async def test_a_silent_json_client_is_pinged_then_dropped(start_chat, autojump_clock):
    _, listener = await start_chat(ping_interval=30, ping_timeout=10)
    watcher = await TextClient.connect(listener)
    await watcher.login("watcher")
    bot = await JsonClient.connect(listener)
    await bot.login("bot")
    start = trio.current_time()
    ping = await bot.expect(ev.ServerPing)
    assert trio.current_time() - start == pytest.approx(30)
    await bot.send(ev.Pong(ping.token))  # answered: still here
    await bot.expect(ev.ServerPing)
    await watcher.expect(r"\* bot left #lobby \(ping timeout\)$")
    assert trio.current_time() - start == pytest.approx(70)


async def test_a_room_that_empties_and_fills_again_never_reuses_a_number(start_chat):
    _, listener = await start_chat(flood_rate=0)
    bot = await JsonClient.connect(listener)
    await bot.login("bot")
    for _ in range(5):
        await bot.send(ev.Join("#r"))
        await bot.send(ev.Part("#r"))
    seqs = []
    while len(seqs) < 10:
        event = await bot.receive()
        if isinstance(event, ev.RoomEvent) and event.room == "#r":
            seqs.append(event.seq)
    assert seqs == list(range(seqs[0], seqs[0] + 10))


@pytest.mark.parametrize(
    "request_",
    [ev.Say(" "), ev.Act(""), ev.Tell("bot", ""), ev.GetHistory(limit=-3)],
)
async def test_empty_messages_and_negative_limits_are_refused(start_chat, request_):
    _, listener = await start_chat()
    bot = await JsonClient.connect(listener)
    await bot.login("bot")
    await bot.send(request_)
    assert (await bot.expect(ev.Error)).code == Code.BAD_REQUEST
