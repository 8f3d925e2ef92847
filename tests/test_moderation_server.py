"""Room moderation as people and programs see it: the real server over memory streams."""

from __future__ import annotations

import functools
import sqlite3
from datetime import UTC, datetime

import trio

from trio_chat import ChatServer, Limits
from trio_chat.chat import RoomSettings
from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.server.accounts import Accounts
from trio_chat.server.sqlite import SqliteStore
from trio_chat.testing import JsonClient, MemoryListener, TextClient

PASSWORD = "correct horse"


async def text_user(listener, nick: str, address: str = "127.0.0.1") -> TextClient:
    client = await TextClient.connect(listener, address)
    await client.login(nick)
    return client


async def json_user(listener, nick: str, address: str = "127.0.0.1") -> JsonClient:
    client = await JsonClient.connect(listener, address)
    await client.login(nick)
    return client


async def registered(listener, nick: str) -> TextClient:
    client = await text_user(listener, nick)
    await client.send_line(f"/register {PASSWORD}")
    await client.expect(rf'\* "{nick}" is registered')
    return client


async def test_kick_in_text_mode_is_seen_by_all_and_by_a_program(start_chat):
    _, listener = await start_chat(flood_rate=0)
    bob = await text_user(listener, "bob")
    await bob.send_line("/join #dev")
    await bob.expect(r"\* in #dev \(1\): @bob$")
    carol = await json_user(listener, "carol")
    await carol.send(ev.Join("#dev"))
    members = await carol.expect(ev.Members)
    assert (members.nicks, members.ops) == (("bob", "carol"), ("bob",))

    await carol.send(mod.Kick("bob", "#dev", "mine"))
    error = await carol.expect(ev.Error)
    assert (error.code, error.subject) == (Code.NOT_OPERATOR, "#dev")

    await bob.send_line("/kick carol spam")
    await bob.expect(r"\* carol was kicked from #dev by bob \(spam\)$")
    kicked = await carol.expect(mod.Kicked)
    assert (kicked.nick, kicked.target, kicked.reason) == ("bob", "carol", "spam")
    await carol.send(ev.Say("still here?", "#dev"))
    assert (await carol.expect(ev.Error)).code == Code.NOT_IN_ROOM


async def test_a_banned_guest_is_refused_when_it_comes_back(start_chat):
    _, listener = await start_chat(flood_rate=0)
    bob = await text_user(listener, "bob")
    await bob.send_line("/join #dev")
    carol = await text_user(listener, "carol", address="10.0.0.7")
    await carol.send_line("/join #dev")
    await bob.expect(r"\* carol joined #dev$")

    await bob.send_line("/ban carol")
    line = (await bob.expect(r"\* bob bans \*!\*@[0-9a-f]{12}\.cloak in #dev$")).string
    await carol.expect(r"bob bans")
    await bob.send_line("/kick carol")
    await carol.expect(r"\* carol was kicked from #dev by bob$")
    await carol.send_line("/quit")
    await carol.lines_until_closed()

    again = await text_user(listener, "carol_again", address="10.0.0.7")
    await again.send_line("/join #dev")
    assert (await again.expect("^!")).string == "! you are banned from #dev"
    other = await text_user(listener, "dave", address="10.0.0.8")  # another address
    await other.send_line("/join #dev")
    await other.expect(r"\* in #dev \(2\)")

    await bob.send_line("/ban")
    await bob.expect(r"\* #dev: bans: \*!\*@" + line.split("@")[1].split()[0] + "$")


async def test_invite_only_and_moderated_rooms(start_chat):
    _, listener = await start_chat(flood_rate=0)
    bob = await json_user(listener, "bob")
    await bob.send(ev.Join("#dev"))
    await bob.expect(ev.Members)
    await bob.send(mod.SetMode("+i"))
    assert (await bob.expect(mod.ModeChanged)).mode == "+i"

    carol = await text_user(listener, "carol")
    await carol.send_line("/join #dev")
    assert "invite-only" in (await carol.expect("^!")).string
    await bob.send(mod.Invite("carol"))
    assert (await bob.expect(ev.Notice)).text == "you invited carol to #dev"
    await carol.expect(r"\* bob invites you to #dev: /join #dev$")
    await carol.send_line("/join #dev")
    await carol.expect(r"\* in #dev \(2\): @bob, carol$")

    await bob.send(mod.SetMode("+m"))
    await carol.expect(r"\* bob made #dev moderated$")
    await carol.send_line("may I?")
    assert "moderated" in (await carol.expect("^!")).string
    await bob.send(mod.SetMode("+v", "carol"))
    await carol.expect(r"\* bob gives voice to carol in #dev$")
    await carol.send_line("thanks")
    message = await bob.expect(ev.Message)
    assert (message.nick, message.text) == ("carol", "thanks")


async def test_the_topic_is_shown_on_joining(start_chat):
    _, listener = await start_chat(flood_rate=0)
    bob = await text_user(listener, "bob")
    await bob.send_line("/join #dev")
    await bob.send_line("/topic release friday")
    await bob.expect(r"\* bob set the topic of #dev: release friday$")

    carol = await json_user(listener, "carol")
    await carol.send(ev.Join("#dev"))
    assert (await carol.expect(ev.Members)).topic == "release friday"
    dave = await text_user(listener, "dave")
    await dave.send_line("/join #dev")
    await dave.expect(r"\* topic of #dev: release friday$")
    await dave.send_line("/topic")
    await dave.expect(r"\* topic of #dev: release friday \(set by bob at ")


async def test_a_server_operator_disconnects_a_user(start_chat):
    _, listener = await start_chat(flood_rate=0, operator=("Root",))
    root = await registered(listener, "root")
    mallory = await text_user(listener, "mallory")
    carol = await json_user(listener, "carol")

    await carol.send(mod.Disconnect("mallory"))
    assert (await carol.expect(ev.Error)).code == Code.NOT_OPERATOR
    await root.send_line("/disconnect mallory flooding")
    await root.expect(r"\* mallory left #lobby \(disconnected by root: flooding\)$")
    lines = await mallory.lines_until_closed()
    assert lines[-1].endswith("* disconnected: disconnected by root: flooding")
    left = await carol.expect(ev.Left)
    assert left.reason == "disconnected by root: flooding"


async def run_chat(store: SqliteStore, nursery: trio.Nursery) -> tuple[ChatServer, MemoryListener]:
    listener = MemoryListener()
    accounts = Accounts(await store.load_credentials(), save=store.save_credential)
    server = ChatServer(Limits(flood_rate=0), store, accounts, cloak_key=store.cloak_key)
    await nursery.start(functools.partial(server.serve, [listener]))
    return server, listener


async def test_an_owned_room_and_its_owner_outlive_a_restart(tmp_path):
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path)
    async with trio.open_nursery() as nursery:
        server, listener = await run_chat(store, nursery)
        alice = await registered(listener, "alice")
        await alice.send_line("/join #dev")
        await alice.send_line("/topic kept")
        await alice.send_line("/mode +m")
        await alice.expect(r"\* alice made #dev moderated$")
        server.shutdown()
    await store.aclose()

    store = await SqliteStore.open(path)
    async with trio.open_nursery() as nursery:
        server, listener = await run_chat(store, nursery)
        bob = await json_user(listener, "bob")
        await bob.send(ev.Join("#dev"))
        members = await bob.expect(ev.Members)
        assert (members.topic, members.ops) == ("kept", ())  # bob is not its operator
        await bob.send(ev.Say("hello?"))
        assert (await bob.expect(ev.Error)).code == Code.MODERATED

        alice = await JsonClient.connect(listener)
        await alice.send(ev.Hello("alice", password=PASSWORD))
        await alice.expect(ev.Welcome)
        await alice.send(ev.Join("#dev"))
        assert (await alice.expect(ev.Members)).ops == ("alice",)
        restored = await bob.expect(mod.ModeChanged)
        assert (restored.nick, restored.mode, restored.target) == ("", "+o", "alice")
        await alice.send(mod.SetMode())
        state = await alice.expect(mod.RoomState)
        assert (state.owner, state.modes, state.topic) == ("alice", "mnt", "kept")
        server.shutdown()
    await store.aclose()


async def test_a_database_from_before_moderation_keeps_settings_and_one_cloak_key(tmp_path):
    path = str(tmp_path / "chat.db")
    db = sqlite3.connect(path)
    with db:  # a database made before rooms had settings
        db.execute("CREATE TABLE rooms (room TEXT PRIMARY KEY, last_seq INTEGER NOT NULL)")
    db.close()
    store = await SqliteStore.open(path)
    assert store.room_settings() == {}
    key = store.cloak_key
    assert len(key) == 32
    when = datetime(2026, 11, 30, 12, 0, 0, 250000, tzinfo=UTC)
    settings = RoomSettings("alice", "kept", "alice", when, "im", ("$a:mallory", "*!*@x.cloak"))
    await store.save_rooms({"#dev": settings, "#ops": RoomSettings("bob")})
    await store.save_rooms({"#ops": RoomSettings("bob", modes="m")})
    await store.aclose()

    store = await SqliteStore.open(path)
    assert store.room_settings() == {"#dev": settings, "#ops": RoomSettings("bob", modes="m")}
    assert store.cloak_key == key  # cloaks, and bans of them, hold across restarts
    await store.aclose()
