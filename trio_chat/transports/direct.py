"""Plain socket streams that can also be written without waiting (``send_now``).

``trio.SocketStream.send_all`` yields to the scheduler around every write,
so a server that wakes a writer task for each delivery pays a task switch
per message. A stream from here also offers ``send_now``: one ``os.write``
of what the kernel takes at once, from synchronous code, which the server's
outbox uses while the client's writer is idle. Only plain sockets (tcp://,
unix://) offer it: TLS and WebSocket must keep their records and frames
whole, which a partial write would cut. ``--no-direct-write`` turns it off.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import trio


class DirectWriteStream(trio.abc.HalfCloseableStream):
    """A ``trio.SocketStream`` with ``send_now``; everything else is delegated."""

    __slots__ = ("_sending", "socket", "transport_stream")

    def __init__(self, stream: trio.SocketStream) -> None:
        self.transport_stream = stream
        self.socket = stream.socket  # where peer_address and bound_url look
        self._sending = False

    def send_now(self, data: bytes) -> int:
        """Write what the kernel takes at once, without waiting; the count written.

        Never raises for I/O: 0 when the socket is full, broken or closed, or
        while a ``send_all`` is under way (the bytes would interleave). The
        ``send_all`` that follows says which.
        """
        if self._sending:
            return 0
        try:
            # The descriptor is asked for each time, never kept: once the
            # socket is closed it is -1, where a kept number could by then
            # name someone else's connection.
            return os.write(self.socket.fileno(), data)
        except OSError:
            return 0

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._sending:  # leave the flag to the send_all that set it
            raise trio.BusyResourceError("another task is sending on this stream")
        self._sending = True
        try:
            await self.transport_stream.send_all(data)
        finally:
            self._sending = False

    async def wait_send_all_might_not_block(self) -> None:
        await self.transport_stream.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.transport_stream.send_eof()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return await self.transport_stream.receive_some(max_bytes)

    async def aclose(self) -> None:
        await self.transport_stream.aclose()

    def setsockopt(self, level: int, option: int, value: int | bytes) -> None:
        self.transport_stream.setsockopt(level, option, value)

    def getsockopt(self, level: int, option: int, buffersize: int = 0) -> int | bytes:
        return self.transport_stream.getsockopt(level, option, buffersize)


class DirectWriteListener(trio.abc.Listener[DirectWriteStream]):
    """Hands out each connection of ``transport_listener`` as a DirectWriteStream."""

    def __init__(self, transport_listener: trio.abc.Listener[trio.SocketStream]) -> None:
        self.transport_listener = transport_listener

    @property
    def socket(self) -> trio.socket.SocketType:
        return self.transport_listener.socket  # type: ignore[attr-defined, no-any-return]

    async def accept(self) -> DirectWriteStream:
        return DirectWriteStream(await self.transport_listener.accept())

    async def aclose(self) -> None:
        await self.transport_listener.aclose()


def listeners(
    found: Sequence[trio.abc.Listener[trio.SocketStream]], direct_write: bool
) -> list[trio.abc.Listener[Any]]:
    """``found``, each wrapped in a DirectWriteListener when ``direct_write``."""
    if not direct_write:
        return list(found)
    return [DirectWriteListener(listener) for listener in found]
