"""A bot that appends every message and action it sees to a file, one JSON object a line.

    python examples/logger_bot.py tcp://127.0.0.1:58000 [--file chat.jsonl] [--join ROOM ...]

Each line: {"time": ..., "room": ..., "seq": ..., "type": "message", "nick": ..., "text": ...}.
Only live events are logged (what was said while the bot was away comes
through after a reconnect, once); the history replayed on joining a room is not.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import trio

import trio_chat
from trio_chat import Action, Message
from trio_chat.bot import Connect


async def run(
    url: str,
    path: Path,
    nick: str = "logger",
    rooms: Sequence[str] = (),
    connect: Connect | None = None,
) -> None:
    async with trio_chat.connect(url, nick=nick, connect=connect) as chat:
        for room in rooms:
            await chat.join(room)
        with path.open("a", encoding="utf-8") as log:
            async for event in chat:
                if isinstance(event, Message | Action):
                    line = {
                        "time": event.time.isoformat(),
                        "room": event.room,
                        "seq": event.seq,
                        "type": event.TYPE,
                        "nick": event.nick,
                        "text": event.text,
                    }
                    log.write(json.dumps(line, ensure_ascii=False) + "\n")
                    log.flush()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="tcp://127.0.0.1:58000")
    parser.add_argument("--file", type=Path, default=Path("chat.jsonl"))
    parser.add_argument("--nick", default="logger")
    parser.add_argument("--join", action="append", default=[], metavar="ROOM")
    args = parser.parse_args(argv)
    trio.run(run, args.url, args.file, args.nick, args.join)


if __name__ == "__main__":
    main()
