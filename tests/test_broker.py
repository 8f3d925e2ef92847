"""Broker mode: two and three servers, one chat, through a real Redis.

Each server runs in this process over the memory transport, so a test can
talk to each and kill one (its task cancelled: no goodbye, no lease renewed,
as after a crash); Redis is a real redis-server on 127.0.0.1.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import pytest
import trio
from redis_harness import RedisServer

from trio_chat import ChatServer, Limits
from trio_chat.cluster import snapshot
from trio_chat.cluster.assemble import Cluster, assemble
from trio_chat.cluster.broker import BACK_NOTICE, OUTAGE_NOTICE
from trio_chat.cluster.replica import LOST_REASON
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol import presence
from trio_chat.protocol.errors import Code
from trio_chat.server.front import ChatLost
from trio_chat.testing import JsonClient, MemoryListener, TextClient

pytestmark = pytest.mark.usefixtures("redis_server")
TIMEOUT = 60  # seconds any one test may take, leases included (CI machines may be slow)


@dataclass
class Running:
    server: ChatServer
    cluster: Cluster
    listener: MemoryListener
    scope: trio.CancelScope
    ended: trio.Event
    failure: BaseException | None = None

    def kill(self) -> None:
        self.scope.cancel()

    async def json(self, nick: str) -> JsonClient:
        client = await JsonClient.connect(self.listener)
        await client.login(nick)
        return client

    async def text(self, nick: str) -> TextClient:
        client = await TextClient.connect(self.listener)
        await client.login(nick)
        return client


def first(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


async def start(nursery: trio.Nursery, redis: RedisServer, **limits: object) -> Running:
    settings = Limits(**limits)  # type: ignore[arg-type]
    cluster = assemble(redis.url, settings, history_max=1000)
    server = ChatServer(settings, cluster.store, cluster.accounts, front=cluster.broker.front)
    running = Running(server, cluster, MemoryListener(), trio.CancelScope(), trio.Event())

    async def run(task_status: trio.TaskStatus[None]) -> None:
        try:
            with running.scope:
                await server.serve([running.listener], task_status=task_status)
        except* ChatLost as group:
            running.failure = first(group)
        finally:
            running.ended.set()

    await nursery.start(run)
    return running


async def said(client: JsonClient, count: int) -> list[tuple[int, str, str]]:
    """The next ``count`` messages ``client`` receives: (seq, sender, text)."""
    got = []
    while len(got) < count:
        event = await client.expect(ev.Message)
        got.append((event.seq, event.nick, event.text))
    return got


async def test_members_of_three_servers_see_one_order(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        servers = [await start(nursery, redis_server, flood_rate=0) for _ in range(3)]
        clients = [
            await s.json(nick) for s, nick in zip(servers, ["ann", "bob", "cid"], strict=True)
        ]

        async def talk(client: JsonClient, name: str) -> None:
            for i in range(20):
                await client.send(ev.Say(f"{name} {i}"))

        async with trio.open_nursery() as talking:
            for client, name in zip(clients, "abc", strict=True):
                talking.start_soon(talk, client, name)
        seen = [await said(client, 60) for client in clients]
        assert seen[0] == seen[1] == seen[2]
        numbers = [seq for seq, _, _ in seen[0]]
        assert numbers == sorted(numbers)
        assert len(set(numbers)) == 60
        # and each sender's own messages in the order it sent them
        for name in "abc":
            assert [t for _, _, t in seen[0] if t[0] == name] == [f"{name} {i}" for i in range(20)]


async def test_a_nickname_asked_on_two_servers_at_once_goes_to_exactly_one(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        one, two = await start(nursery, redis_server), await start(nursery, redis_server)
        clients = [await JsonClient.connect(one.listener), await JsonClient.connect(two.listener)]
        outcomes: list[ev.Event] = []

        async def ask(client: JsonClient) -> None:
            await client.send(ev.Hello("dave"))
            while not isinstance(event := await client.receive(), ev.Welcome | ev.Error):
                pass
            outcomes.append(event)

        async with trio.open_nursery() as asking:
            for client in clients:
                asking.start_soon(ask, client)
        assert sorted(type(e).__name__ for e in outcomes) == ["Error", "Welcome"]
        [refusal] = [e for e in outcomes if isinstance(e, ev.Error)]
        assert refusal.code == Code.NICK_TAKEN


async def test_who_and_rooms_answer_for_every_server(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        one, two = await start(nursery, redis_server), await start(nursery, redis_server)
        ann, bob = await one.json("ann"), await two.json("bob")
        await bob.send(ev.Join("#dev"))
        await bob.expect(ev.Members)
        await ann.send(ev.Join("#dev"))
        await ann.expect(ev.Members)
        await ann.send(ev.Who("#dev"))
        assert (await ann.expect(ev.Members)).nicks == ("bob", "ann")
        await bob.send(ev.ListRooms())
        rooms = (await bob.expect(ev.Rooms)).rooms
        assert rooms == (ev.RoomInfo("#dev", 2), ev.RoomInfo("#lobby", 2))


async def test_a_private_message_crosses_servers_and_its_history_is_kept(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        one, two = await start(nursery, redis_server), await start(nursery, redis_server)
        ann, bob = await one.text("ann"), await two.text("bob")
        await bob.send_line("/msg ann lunch?")
        await ann.expect(r"\[private\] bob -> ann: lunch\?")
        await bob.expect(r"\[private\] bob -> ann: lunch\?")


async def test_going_away_is_told_once_to_each_member_of_every_server(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        one, two = await start(nursery, redis_server), await start(nursery, redis_server)
        ann, cid, bob = await one.json("ann"), await one.json("cid"), await two.json("bob")
        await ann.send(presence.SetAway("at lunch"))
        await ann.send(ev.Say("hi"))
        for client in (cid, bob):
            seen = []
            while not isinstance(event := await client.receive(), ev.Message):
                seen.append(event)
            changes = [(e.nick, e.text) for e in seen if isinstance(e, presence.AwayChanged)]
            assert changes == [("ann", "at lunch")]
        while not isinstance(event := await ann.receive(), ev.Message):
            assert not isinstance(event, presence.AwayChanged)


async def test_a_nickname_registered_on_one_server_takes_its_password_on_another(
    nursery, redis_server
):
    with trio.fail_after(TIMEOUT):
        one, two = await start(nursery, redis_server), await start(nursery, redis_server)
        ann, bob = await one.text("ann"), await two.text("bob")
        await ann.send_line("/register correct horse")
        await ann.expect("is registered")
        # bob's request goes into the log after the registration: once it is
        # answered, bob's server knows of it too
        await bob.send_line("/who")
        await bob.expect(r"\* in #lobby")
        guest = await TextClient.connect(two.listener)
        await guest.send_line("ann")
        await guest.expect("ann.* is registered")
        # with the password, the connection on the other server ends: a ghost
        again = await JsonClient.connect(two.listener)
        await again.send(ev.Hello("ann", "correct horse"))
        await again.expect(ev.Welcome)
        assert any("logged in from elsewhere" in line for line in await ann.lines_until_closed())


async def test_the_members_of_a_server_that_dies_are_announced_as_gone(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        one = await start(nursery, redis_server, lease=1.0)
        two = await start(nursery, redis_server, lease=1.0)
        bob = await two.json("bob")
        await one.json("ann")
        await bob.expect(ev.Joined)
        one.kill()
        left = await bob.expect(ev.Left)
        assert (left.nick, left.reason) == ("ann", LOST_REASON)
        # and the nickname is free again
        await two.json("ann")


async def test_a_client_that_switches_servers_resumes_with_no_gap_and_no_duplicate(
    nursery, redis_server
):
    with trio.fail_after(TIMEOUT):
        one, two = await start(nursery, redis_server), await start(nursery, redis_server)
        ann, bob = await one.json("ann"), await two.json("bob")
        await bob.send(ev.Say("first"))
        [(last, _, _)] = await said(ann, 1)
        await ann.send(ev.Quit())
        for text in ("second", "third"):
            await bob.send(ev.Say(text))
        await said(bob, 3)
        back = await JsonClient.connect(two.listener)
        await back.send(ev.Hello("ann", resume=(ev.RoomSeq("#lobby", last),)))
        await back.expect(ev.Welcome)
        history = await back.expect(ev.History)
        missed = [e for e in history.events if isinstance(e, ev.Message)]
        assert [(e.nick, e.text) for e in missed] == [("bob", "second"), ("bob", "third")]
        assert all(e.seq > last for e in history.events)
        await bob.send(ev.Say("fourth"))
        assert [t for _, _, t in await said(back, 1)] == ["fourth"]


async def test_history_outlives_the_server_it_was_said_on(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        one = await start(nursery, redis_server)
        ann = await one.text("ann")
        await ann.send_line("remember this")
        await ann.expect("ann: remember this")
        one.server.shutdown()
        await one.ended.wait()
        two = await start(nursery, redis_server)
        bob = await TextClient.connect(two.listener)
        await bob.send_line("bob")
        await bob.expect("ann: remember this")


async def test_redis_restarted_mid_conversation_loses_nothing_anyone_was_told_was_sent(
    nursery, persistent_redis
):
    with trio.fail_after(TIMEOUT):
        one = await start(nursery, persistent_redis)
        two = await start(nursery, persistent_redis)
        ann, bob = await one.json("ann"), await two.json("bob")
        await persistent_redis.stop()
        await bob.send(ev.Say("into the void"))
        # bob learns that his message went nowhere, and why
        while True:
            event = await bob.receive()
            if isinstance(event, ev.Error):
                assert event.code == Code.UNAVAILABLE
                break
        assert (await ann.expect(ev.Notice)).text == OUTAGE_NOTICE
        await persistent_redis.start()
        while (await bob.expect(ev.Notice)).text != BACK_NOTICE:
            pass
        await bob.send(ev.Say("again"))
        assert [t for _, _, t in await said(ann, 1)] == ["again"]
        await ann.send(ev.GetHistory(limit=10))
        history = await ann.expect(ev.History)
        assert [e.text for e in history.events if isinstance(e, ev.Message)] == ["again"]


async def test_a_server_whose_redis_lost_its_data_stops_rather_than_serve_another_chat(
    nursery, redis_server
):
    with trio.fail_after(TIMEOUT):
        one = await start(nursery, redis_server, lease=1.0)
        await one.json("ann")
        await redis_server.stop()
        await redis_server.start()  # without persistence: an empty Redis
        await one.ended.wait()
        assert isinstance(one.failure, ChatLost)


async def test_a_server_that_starts_after_the_log_was_trimmed_knows_everyone(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        one = await start(nursery, redis_server)
        ann = await one.json("ann")
        await ann.send(ev.Join("#dev"))
        await ann.expect(ev.Members)
        await one.cluster.broker.write_snapshot()
        redis = one.cluster.broker.redis
        # no other server needs what came before: only the last entry is left
        assert await redis.xlen("trio-chat:log") == 1
        two = await start(nursery, redis_server)
        bob = await two.json("bob")
        await bob.send(ev.Who("#dev"))
        assert (await bob.expect(ev.Members)).nicks == ("ann",)


async def test_a_server_whose_lease_ran_out_goes_on_under_a_new_name(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        one = await start(nursery, redis_server, lease=1.0)
        two = await start(nursery, redis_server, lease=1.0)
        ann, bob = await one.text("ann"), await two.json("bob")
        await bob.expect(ev.Joined)
        old = one.cluster.broker.instance
        # as if Redis had been unreachable for longer than the lease
        await two.cluster.broker.redis.delete([f"trio-chat:server:{old}"])
        left = await bob.expect(ev.Left)
        assert (left.nick, left.reason) == ("ann", LOST_REASON)
        lines = await ann.lines_until_closed()
        assert lines[-1].endswith(f"* disconnected: {LOST_REASON}")
        assert one.cluster.broker.instance != old
        again = await one.text("ann")
        await again.send_line("back")
        assert (await bob.expect(ev.Message)).text == "back"


async def test_past_its_cap_on_rooms_redis_keeps_the_history_of_that_many(nursery, redis_server):
    with trio.fail_after(TIMEOUT):
        one = await start(nursery, redis_server, history_rooms=2, flood_rate=0)
        ann = await one.text("ann")
        for n in range(10):
            await ann.send_line(f"/join #r{n}")
            await ann.send_line(f"hello {n}")
            await ann.expect(rf"ann: hello {n}$")
            await ann.send_line(f"/part #r{n}")
        await ann.send_line("/join #last")
        await ann.expect(r"ann joined #last")
        kept = await one.cluster.broker.redis.keys("trio-chat:room:*")
        # the cap, and the room the last append made
        assert len(kept) <= 3


async def test_a_client_of_a_dead_server_takes_its_nickname_back_on_another_at_once(
    nursery, redis_server
):
    with trio.fail_after(TIMEOUT):
        one, two = await start(nursery, redis_server), await start(nursery, redis_server)
        bob = await two.json("bob")
        ann = await JsonClient.connect(one.listener)
        token = "ann's own reconnect token"
        await ann.send(ev.Hello("ann", token=token))
        await ann.expect(ev.Welcome)
        await bob.expect(ev.Joined)
        one.kill()  # its lease has 15 s to run: ann's nickname is still held
        again = await JsonClient.connect(two.listener)
        await again.send(ev.Hello("ann", token=token, resume=(ev.RoomSeq("#lobby", 2),)))
        await again.expect(ev.Welcome)
        left = await bob.expect(ev.Left)
        assert (left.nick, left.reason) == ("ann", "reconnected")
        assert (await bob.expect(ev.Joined)).nick == "ann"


async def test_after_a_random_conversation_every_servers_copy_of_the_chat_is_the_same(
    nursery, redis_server
):
    """Joins, parts, messages, renames, private messages, quits and
    moderation from clients spread over three servers: the copies must
    agree exactly."""
    rng = random.Random(11)
    with trio.fail_after(TIMEOUT):
        servers = [await start(nursery, redis_server, flood_rate=0) for _ in range(3)]
        clients = [await servers[i % 3].json(f"u{i}") for i in range(12)]
        nicks = [f"u{i}" for i in range(12)]
        for step in range(300):
            i = rng.randrange(12)
            client = clients[i]
            room = f"#r{rng.randrange(4)}"
            match rng.randrange(10):
                case 0:
                    await client.send(ev.Join(room))
                case 1:
                    await client.send(ev.Part(room))
                case 2:
                    await client.send(ev.Say(f"step {step}"))
                case 3:
                    nicks[i] = f"n{step}"
                    await client.send(ev.ChangeNick(nicks[i]))
                case 4:
                    await client.send(ev.Tell(rng.choice(nicks), f"psst {step}"))
                case 5:
                    await client.send(ev.Quit())
                    nicks[i] = f"v{step}"
                    clients[i] = await servers[rng.randrange(3)].json(nicks[i])
                case 6:
                    await client.send(mod.SetTopic(f"topic {step}", room))
                case 7:
                    await client.send(mod.Kick(rng.choice(nicks), room))
                case 8:
                    change = rng.choice(["+i", "-i", "+m", "-m", "+o", "+v", "-o", "+b", "-b"])
                    await client.send(mod.SetMode(change, rng.choice(nicks), room))
                case 9:
                    await client.send(mod.Invite(rng.choice(nicks), room))
        watchers = [await server.json(f"w{n}") for n, server in enumerate(servers)]
        # once each server delivers this, its copy has applied all that came before
        await clients[0].send(ev.Say("the end", room="#lobby"))
        for watcher in watchers:
            while (await watcher.expect(ev.Message)).text != "the end":
                pass
        copies = [json.loads(state_of(server)) for server in servers]
        assert copies[0] == copies[1] == copies[2]
        assert len(copies[0]["members"]) == 12 + 3
        assert {room[0] for room in copies[0]["rooms"]} <= {"#lobby", "#r0", "#r1", "#r2", "#r3"}


def state_of(server: Running) -> bytes:
    """The server's copy of the chat, as a snapshot would keep it."""
    broker = server.cluster.broker
    return snapshot.dump(broker.replica, broker.numbering, [])
