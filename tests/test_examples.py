"""The example bots, run against the real server: in memory, and the stdlib one over TCP."""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import trio
import trio.testing

import trio_chat
from trio_chat.protocol import events as ev
from trio_chat.testing import JsonClient

EXAMPLES = Path(__file__).parent.parent / "examples"


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_echo_bot_echoes(start_chat, nursery):
    _, listener = await start_chat()
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    nursery.start_soon(
        functools.partial(
            example("echo_bot").run,
            "memory",
            rooms=["#dev"],
            connect=lambda url: listener.connect(),
        )
    )
    await bob.send(ev.Join("#dev"))
    while (joined := await bob.expect(ev.Joined)).nick != "echobot" or joined.room != "#dev":
        pass
    await bob.send(ev.Say("!echo hello there", "#dev"))
    await bob.send(ev.Say("no command here", "#dev"))
    await bob.send(ev.Say("!echo again", "#dev"))
    said = [await bob.expect(ev.Message) for _ in range(5)]
    from_bot = [(m.room, m.text) for m in said if m.nick == "echobot"]
    assert from_bot == [("#dev", "hello there"), ("#dev", "again")]
    nursery.cancel_scope.cancel()


async def test_the_logger_bot_appends_each_message_as_a_json_line(start_chat, nursery, tmp_path):
    _, listener = await start_chat()
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    await bob.send(ev.Say("said before it came"))
    path = tmp_path / "chat.jsonl"
    logger = example("logger_bot")
    nursery.start_soon(
        functools.partial(logger.run, "memory", path, connect=lambda url: listener.connect())
    )
    while (await bob.expect(ev.Joined)).nick != "logger":
        pass
    await bob.send(ev.Say("hello log"))
    await bob.send(ev.Act("waves"))
    await bob.expect(ev.Action)
    await trio.testing.wait_all_tasks_blocked()  # the logger has read all there is

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(d["type"], d["room"], d["nick"], d["text"]) for d in lines] == [
        ("message", "#lobby", "bob", "hello log"),
        ("action", "#lobby", "bob", "waves"),
    ]
    assert lines[0]["seq"] < lines[1]["seq"]
    nursery.cancel_scope.cancel()


async def test_the_stdlib_socket_bot_echoes_over_real_tcp(nursery):
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    server = await nursery.start(trio_chat.serve, listeners)
    sock_bot = example("json_socket_bot")
    with trio.fail_after(10):
        bob = JsonClient(await trio.open_tcp_stream("127.0.0.1", port))
        await bob.login("bob")
        async with bob.stream, trio.open_nursery() as bots:
            bots.start_soon(
                functools.partial(
                    trio.to_thread.run_sync, sock_bot.run, "127.0.0.1", port, abandon_on_cancel=True
                )
            )
            while (await bob.expect(ev.Joined)).nick != "sockbot":
                pass
            await bob.send(ev.Say("!echo over tcp"))
            while (said := await bob.expect(ev.Message)).nick != "sockbot":
                pass
            assert said.text == "over tcp"
            server.shutdown()  # the bot's loop ends with the connection


def test_the_stdlib_bot_in_the_docs_is_the_one_tested():
    docs = (EXAMPLES.parent / "docs" / "bots.md").read_text()
    code = (EXAMPLES / "json_socket_bot.py").read_text()
    assert code[code.index("import json") :] in docs
