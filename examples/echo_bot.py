"""A bot that repeats what follows ``!echo`` in any room it is in.

python examples/echo_bot.py tcp://127.0.0.1:58000 [--nick echobot] [--join ROOM ...]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import trio

import trio_chat
from trio_chat import Message
from trio_chat.bot import Connect


async def run(
    url: str, nick: str = "echobot", rooms: Sequence[str] = (), connect: Connect | None = None
) -> None:
    async with trio_chat.connect(url, nick=nick, connect=connect) as chat:
        for room in rooms:
            await chat.join(room)
        async for event in chat:
            if (
                isinstance(event, Message)
                and not chat.mine(event)  # "!echo !echo x" is echoed once
                and event.text.startswith("!echo ")
            ):
                await chat.say(event.room, event.text.removeprefix("!echo "))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="tcp://127.0.0.1:58000")
    parser.add_argument("--nick", default="echobot")
    parser.add_argument("--join", action="append", default=[], metavar="ROOM")
    args = parser.parse_args(argv)
    trio.run(run, args.url, args.nick, args.join)


if __name__ == "__main__":
    main()
