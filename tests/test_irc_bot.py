"""The plain IRC bot of examples/ run as a program against a real server's IRC listener."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import trio
from irc_server_process import start_irc_server
from test_cli import kill

from trio_chat.testing import TextClient

BOT = Path(__file__).parent.parent / "examples" / "irc_bot.py"


async def test_the_irc_bot_answers_ping_in_the_lobby_and_privately():
    server, ports = await start_irc_server()
    carol = TextClient(await trio.open_tcp_stream("127.0.0.1", ports["tcp"]))
    bot = await trio.lowlevel.open_process(
        [sys.executable, str(BOT), "127.0.0.1", str(ports["irc"]), "pingbot"],
        stderr=subprocess.DEVNULL,
    )
    try:
        await carol.login("carol")
        await carol.expect(r"\* pingbot joined #lobby$")
        await carol.send_line("!ping")
        await carol.expect(r"\] pingbot: pong$")
        await carol.send_line("/msg pingbot !ping")
        await carol.expect(r"\[private\] pingbot -> carol: pong$")
        await carol.send_line("no ping here")
        await carol.send_line("!ping")
        said = await carol.expect(r"\] (\w+): (.*)$")
        assert said.groups() == ("carol", "no ping here")  # the bot said nothing to it
        assert (await carol.expect(r"\] (\w+): (.*)$")).groups() == ("carol", "!ping")
        await carol.expect(r"\] pingbot: pong$")

        bot.terminate()
        await carol.expect(r"\* pingbot left #lobby")
    finally:
        await carol.stream.aclose()
        if bot.returncode is None:
            bot.kill()
        with trio.fail_after(10):
            await bot.wait()
        await kill(server)
