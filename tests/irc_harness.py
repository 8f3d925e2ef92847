"""A small IRC client for tests: lines out, lines in, over any stream."""

from __future__ import annotations

import trio

from trio_chat.protocol.irc.message import Message, parse
from trio_chat.testing import REPLY_TIMEOUT, MemoryListener, TextClient
from trio_chat.transports.irc import IrcListener


class IrcClient:
    def __init__(self, stream: trio.abc.Stream) -> None:
        self.lines = TextClient(stream)

    @classmethod
    async def connect(cls, listener: MemoryListener, address: str = "127.0.0.1") -> IrcClient:
        return cls(await listener.connect(address))

    async def send(self, *lines: str) -> None:
        await self.lines.stream.send_all("".join(f"{line}\r\n" for line in lines).encode())

    async def receive(self) -> Message:
        """The next message; raises EOFError when the server has closed."""
        while True:
            got = parse((await self.lines.receive_line()).encode())
            if isinstance(got, Message):
                return got

    async def expect(self, command: str, *params: str) -> Message:
        """Read until a ``command`` whose parameters start with ``params``."""
        with trio.fail_after(REPLY_TIMEOUT):
            while True:
                m = await self.receive()
                if m.command == command and m.params[: len(params)] == params:
                    return m

    async def register(
        self, nick: str, *caps: str, password: str | None = None, lobby: bool = True
    ) -> None:
        if caps:
            await self.send(f"CAP REQ :{' '.join(caps)}")
        if password:
            await self.send(f"PASS :{password}")
        await self.send(f"NICK {nick}", "USER u 0 * :Real Name")
        if caps:
            await self.send("CAP END")
        await self.expect("001")
        # the burst is over: the lobby's names, or without the lobby the MOTD's answer
        await self.expect("366" if lobby else "422")


def irc_listener() -> tuple[IrcListener, MemoryListener]:
    """An irc:// listener over the memory transport, and what clients connect to."""
    memory = MemoryListener()
    return IrcListener(memory), memory
