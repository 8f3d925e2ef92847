"""The servers a client may use, in order, and which one it tries next.

The client connects to the first. Each attempt that fails, and each
connection that is lost, moves it on to the next, round robin. Only a whole
round backs off: ``failed`` says to wait after every ``len(servers)``-th
failure in a row, so going on to another server is immediate, and with one
server every failure waits. A welcome starts the count again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import trio

Connector = Callable[[], Awaitable[trio.abc.Stream]]


class Servers:
    """Server URLs and ``connect(url)``, which opens a stream to one of them."""

    def __init__(
        self, urls: Sequence[str], connect: Callable[[str], Awaitable[trio.abc.Stream]]
    ) -> None:
        if not urls:
            raise ValueError("no server to connect to")
        self.urls = tuple(urls)
        self.index = 0  # the server the next attempt goes to
        self.failures = 0  # since the last welcome: attempts refused or connections lost
        self._connect = connect

    @classmethod
    def one(cls, connect: Connector, url: str = "the server") -> Servers:
        return cls([url], lambda _: connect())

    def __len__(self) -> int:
        return len(self.urls)

    @property
    def current(self) -> str:
        return self.urls[self.index]

    async def connect(self) -> trio.abc.Stream:
        """A stream to the current server; raises what its connector raises."""
        return await self._connect(self.current)

    @property
    def first_round(self) -> bool:
        """Not every server has failed yet since the last welcome."""
        return self.failures < len(self.urls)

    def failed(self) -> bool:
        """The current server refused or dropped the client: move on to the next.

        True when every server has failed in a row since the last wait: back
        off before the next attempt.
        """
        self.failures += 1
        self.index = (self.index + 1) % len(self.urls)
        return self.failures % len(self.urls) == 0

    def welcomed(self) -> None:
        self.failures = 0
