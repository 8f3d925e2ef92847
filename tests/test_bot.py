"""The bot API against the real server, in memory."""

from __future__ import annotations

import pytest
import trio

import trio_chat
from trio_chat import BotError, Message, Private, Refused
from trio_chat.bot import Bot
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.testing import REPLY_TIMEOUT, JsonClient, MemoryListener, TextClient


class Connector:
    """Connects through a MemoryListener, and can cut the line under the bot."""

    def __init__(self, listener: MemoryListener) -> None:
        self.listener = listener
        self.refuse = False
        self.stream: trio.abc.Stream | None = None

    async def __call__(self, url: str) -> trio.abc.Stream:
        if self.refuse:
            raise OSError("connection refused")
        self.stream = await self.listener.connect()
        return self.stream

    async def cut(self) -> None:
        assert self.stream is not None
        await trio.aclose_forcefully(self.stream)


async def next_of(bot: Bot, kind: type[ev.Event], **fields: object) -> ev.Event:
    """The next event of ``kind`` whose fields are ``fields``."""
    with trio.fail_after(REPLY_TIMEOUT):
        async for event in bot:
            if isinstance(event, kind) and all(getattr(event, k) == v for k, v in fields.items()):
                return event
    raise AssertionError(f"iteration ended before a {kind.__name__}")


async def test_join_say_and_msg_reach_another_client_and_come_back(start_chat):
    _, listener = await start_chat()
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    await bob.send(ev.Join("#dev"))
    async with trio_chat.connect("memory", nick="echobot", connect=Connector(listener)) as chat:
        assert chat.nick == "echobot"
        await chat.join("#dev")
        assert chat.rooms == ["#lobby", "#dev"]
        assert chat.members("#DEV") == ["bob", "echobot"]

        await chat.say("#dev", "hello")
        heard = await bob.expect(ev.Message)
        assert (heard.room, heard.nick, heard.text) == ("#dev", "echobot", "hello")
        own = await next_of(chat, Message, text="hello")
        assert chat.mine(own)

        await bob.send(ev.Say("hi bot", "#dev"))
        said = await next_of(chat, Message, nick="bob")
        assert (said.room, said.text, chat.mine(said)) == ("#dev", "hi bot", False)

        await chat.msg("bob", "psst")
        told = await bob.expect(ev.Private)
        assert (told.sender, told.text) == ("echobot", "psst")
        await bob.send(ev.Tell("echobot", "yes?"))
        private = await next_of(chat, Private, sender="bob")
        assert private.text == "yes?"

        await chat.act("#dev", "waves")
        assert (await bob.expect(ev.Action)).text == "waves"
        await chat.part("#dev")
        assert chat.rooms == ["#lobby"]
        assert (await bob.expect(ev.Left)).nick == "echobot"
        await chat.change_nick("newbot")
        assert chat.nick == "newbot"
    # Leaving the block says goodbye.
    gone = await bob.expect(ev.Left)
    assert (gone.nick, gone.room) == ("newbot", "#lobby")


async def test_a_kicked_bot_is_out_of_the_room_even_after_a_drop(start_chat, autojump_clock):
    _, listener = await start_chat()
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    await bob.send(ev.Join("#dev"))  # the first in the room: its operator
    connector = Connector(listener)
    async with trio_chat.connect("memory", nick="bot", connect=connector) as chat:
        await chat.join("#dev")
        await bob.send(mod.Kick("bot", "#dev", "spam"))
        kick = await next_of(chat, mod.Kicked, target="bot")
        assert (kick.room, kick.reason) == ("#dev", "spam")
        assert chat.rooms == ["#lobby"]
        assert chat.members("#dev") == []
        await bob.expect(mod.Kicked)

        await connector.cut()
        await chat.say("#lobby", "back")  # sent once reconnected, after any rejoining
        seen = []
        while not isinstance(event := await bob.receive(), ev.Message):
            seen.append(event)
        assert event.text == "back"
        assert [(e.room, e.nick) for e in seen if isinstance(e, ev.Joined)] == [("#lobby", "bot")]
        assert chat.rooms == ["#lobby"]

        await bob.send(mod.SetMode("+b", "bot", "#dev"))
        await bob.expect(mod.ModeChanged)
        with pytest.raises(BotError, match="banned"):
            await chat.join("#dev")


async def test_a_refused_join_or_nickname_raises_and_the_bot_carries_on(start_chat):
    _, listener = await start_chat()
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    async with trio_chat.connect("memory", nick="bot", connect=Connector(listener)) as chat:
        with pytest.raises(BotError, match="nick_taken"):
            await chat.change_nick("bob")
        with pytest.raises(BotError, match="room"):
            await chat.join("no spaces allowed")
        await chat.say("#lobby", "still here")
        assert (await bob.expect(ev.Message)).text == "still here"


async def test_a_taken_nickname_raises_at_connect(start_chat):
    _, listener = await start_chat()
    bob = await TextClient.connect(listener)
    await bob.login("bob")
    with pytest.raises(Refused) as refused:
        async with trio_chat.connect("memory", nick="bob", connect=Connector(listener)):
            raise AssertionError("welcomed with a taken nickname")
    assert refused.value.error.code == "nick_taken"


async def test_after_a_drop_the_bot_resumes_and_yields_each_event_once(start_chat, autojump_clock):
    _, listener = await start_chat()
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    connector = Connector(listener)
    async with trio_chat.connect("memory", nick="bot", connect=connector) as chat:
        await bob.send(ev.Say("before"))
        await next_of(chat, Message, text="before")
        await connector.cut()
        await bob.expect(ev.Left)
        await bob.send(ev.Say("while away"))
        await bob.expect(ev.Message)
        assert (await bob.expect(ev.Joined)).nick == "bot"  # back, resumed
        await bob.send(ev.Say("after"))

        seen = []
        async for event in chat:
            if isinstance(event, Message):
                seen.append(event.text)
                if event.text == "after":
                    break
        assert seen == ["while away", "after"]
        assert chat.connected


async def test_without_reconnect_iteration_ends_with_the_connection(start_chat):
    _, listener = await start_chat()
    connector = Connector(listener)
    async with trio_chat.connect("memory", nick="bot", connect=connector, reconnect=False) as chat:
        await next_of(chat, ev.Joined, nick="bot")
        await connector.cut()
        with trio.fail_after(REPLY_TIMEOUT):
            rest = [event async for event in chat]
        assert not any(isinstance(e, Message) for e in rest)
        with pytest.raises(BotError, match="left the chat"):
            await chat.say("#lobby", "anyone?")


async def test_without_reconnect_an_unreachable_server_raises_at_connect(start_chat):
    _, listener = await start_chat()
    connector = Connector(listener)
    connector.refuse = True
    with pytest.raises(BotError, match="cannot connect: connection refused"):
        async with trio_chat.connect("memory", nick="bot", connect=connector, reconnect=False):
            raise AssertionError("connected to nothing")


async def test_with_reconnect_the_bot_waits_for_the_server_with_backoff(start_chat, autojump_clock):
    _, listener = await start_chat()
    connector = Connector(listener)
    connector.refuse = True
    async with trio.open_nursery() as nursery:

        async def let_in() -> None:
            await trio.sleep(30)  # virtual: several failed attempts, backing off
            connector.refuse = False

        nursery.start_soon(let_in)
        start = trio.current_time()
        async with trio_chat.connect("memory", nick="bot", connect=connector) as chat:
            assert trio.current_time() - start >= 30
            assert chat.connected


async def test_a_bot_that_does_not_read_loses_the_oldest_events_and_counts_them(start_chat):
    _, listener = await start_chat()
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    connector = Connector(listener)
    async with trio_chat.connect("memory", nick="bot", connect=connector, buffer=3) as chat:
        for n in range(6):
            await bob.send(ev.Say(f"line {n}"))
        await chat.say("#lobby", "last")  # answered after bob's lines
        await bob.expect(ev.Message)
        while (await bob.expect(ev.Message)).text != "last":
            pass
        await trio.testing.wait_all_tasks_blocked()
        texts = []
        async for event in chat:
            assert isinstance(event, Message)
            texts.append(event.text)
            if event.text == "last":
                break
        assert texts == ["line 4", "line 5", "last"]
        assert chat.dropped > 0


async def test_an_exception_in_the_block_comes_out_as_itself(start_chat):
    _, listener = await start_chat()
    with pytest.raises(KeyError):
        async with trio_chat.connect("memory", nick="bot", connect=Connector(listener)):
            raise KeyError("mine")


async def test_quit_says_goodbye_and_ends_iteration(start_chat):
    _, listener = await start_chat()
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    async with trio_chat.connect("memory", nick="bot", connect=Connector(listener)) as chat:
        await chat.quit("done for today")
        assert [e async for e in chat if isinstance(e, Message)] == []
    left = await bob.expect(ev.Left)
    assert (left.nick, left.reason) == ("bot", "quit: done for today")
