"""Testing helpers: an in-memory transport and small clients for both modes.

Run the real server with no sockets at all::

    listener = MemoryListener()
    server = await nursery.start(serve, [listener])
    alice = await TextClient.connect(listener)
    await alice.send_line("alice")
    assert "welcome, alice" in await alice.receive_line()
"""

from __future__ import annotations

import re
from typing import TypeVar

import trio
import trio.testing

from trio_chat.protocol import CLOSED, ClientConnection
from trio_chat.protocol import events as ev
from trio_chat.protocol.framing import LineBuffer, LineTooLong
from trio_chat.protocol.reading import read_event

# Long enough for any server reply, even under a virtual clock that jumps
# straight to the next timeout; short enough that a missing reply fails
# rather than hangs.
REPLY_TIMEOUT = 60.0

E = TypeVar("E", bound=ev.Event)


class _Addressed(trio.abc.HalfCloseableStream):
    """The server's end of a memory connection, knowing its peer's address."""

    def __init__(
        self,
        inner: trio.abc.HalfCloseableStream,
        peer_address: str,
    ) -> None:
        self.inner = inner
        self.peer_address = peer_address

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.inner.send_eof()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        return await self.inner.receive_some(max_bytes)

    async def aclose(self) -> None:
        await self.inner.aclose()


class MemoryListener(trio.abc.Listener[trio.abc.HalfCloseableStream]):
    """A listener whose ``connect()`` makes an in-memory connection to it."""

    def __init__(self) -> None:
        self._send, self._receive = trio.open_memory_channel[trio.abc.HalfCloseableStream](0)

    async def connect(
        self, address: str = "127.0.0.1", *, lockstep: bool = False
    ) -> trio.abc.HalfCloseableStream:
        """A client stream connected from ``address``.

        With ``lockstep``, every write waits until the other side has read
        it, like a socket whose buffers are full: a client made so that never
        reads stalls the server's writes to it.
        """
        pair = trio.testing.lockstep_stream_pair if lockstep else trio.testing.memory_stream_pair
        client, server = pair()
        await self._send.send(_Addressed(server, address))
        return client

    async def accept(self) -> trio.abc.HalfCloseableStream:
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            raise trio.ClosedResourceError from None

    async def aclose(self) -> None:
        await self._receive.aclose()
        await trio.lowlevel.checkpoint()


class TextClient:
    """A person with ``nc``: writes lines, reads lines."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self._lines = LineBuffer(1 << 20)

    @classmethod
    async def connect(cls, listener: MemoryListener, address: str = "127.0.0.1") -> TextClient:
        return cls(await listener.connect(address))

    async def send_line(self, line: str | bytes) -> None:
        data = line.encode() if isinstance(line, str) else line
        await self.stream.send_all(data + b"\n")

    async def receive_line(self) -> str:
        """The next line; raises EOFError when the server has closed."""
        with trio.fail_after(REPLY_TIMEOUT):
            while True:
                line = self._lines.next_line()
                if isinstance(line, bytes):
                    return line.decode()
                if line is None and self._lines.at_eof:
                    raise EOFError("the server closed the connection")
                assert not isinstance(line, LineTooLong)
                self._lines.feed(bytes(await self.stream.receive_some()))

    async def expect(self, pattern: str) -> re.Match[str]:
        """Read lines until one matches ``pattern`` (re.search); return the match."""
        while True:
            line = await self.receive_line()
            if found := re.search(pattern, line):
                return found

    async def login(self, nick: str) -> str:
        """Choose ``nick`` and return the welcome line."""
        await self.send_line(nick)
        return (await self.expect(r"\* welcome, ")).string

    async def lines_until_closed(self) -> list[str]:
        lines = []
        try:
            while True:
                lines.append(await self.receive_line())
        except EOFError:
            return lines


class JsonClient:
    """A program speaking JSON mode: requests out, events in."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.conn = ClientConnection()

    @classmethod
    async def connect(cls, listener: MemoryListener, address: str = "127.0.0.1") -> JsonClient:
        return cls(await listener.connect(address))

    async def send(self, request: ev.Request) -> None:
        await self.stream.send_all(self.conn.send(request))

    async def receive(self) -> ev.Event:
        """The next event; raises EOFError when the server has closed."""
        with trio.fail_after(REPLY_TIMEOUT):
            event = await read_event(self.conn, self.stream)
        if event is CLOSED:
            raise EOFError("the server closed the connection")
        return event

    async def expect(self, kind: type[E]) -> E:
        """Read events until one of type ``kind``; return it."""
        while True:
            event = await self.receive()
            if isinstance(event, kind):
                return event

    async def login(self, nick: str) -> ev.Welcome:
        await self.send(ev.Hello(nick))
        return await self.expect(ev.Welcome)
