"""Every transport behind one interface, for the conformance tests."""

from __future__ import annotations

import functools
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio
import trio.testing
import trustme
from irc_harness import IrcClient

from trio_chat import ChatServer, serve
from trio_chat.cluster.assemble import assemble
from trio_chat.server import Limits
from trio_chat.testing import MemoryListener, TextClient
from trio_chat.transports import (
    ClientOptions,
    ServerOptions,
    bound_url,
    open_listeners,
    open_stream,
    parse_url,
    tls,
    websocket,
)

# "-nodirect": as the server runs with --no-direct-write.
TRANSPORTS = ["memory", "tcp", "tcp-nodirect", "tls", "unix", "unix-nodirect", "ws", "wss"]
# The same over TCP with the server in broker mode, its chat in a real Redis.
BROKER = "tcp-broker"

# The listeners whose connections speak IRC (over TCP, over TLS).
IRC = ["irc", "ircs"]

# The transports that put layers of their own over a socket.
LAYERED = {"tls": tls, "ws": websocket, "wss": websocket, "ircs": tls}


@dataclass(frozen=True)
class Certificates:
    """A private CA and a certificate it issued for 127.0.0.1, as PEM files."""

    cafile: str
    certfile: str
    keyfile: str

    @classmethod
    def make(cls, directory: Path) -> Certificates:
        ca = trustme.CA()
        issued = ca.issue_cert("127.0.0.1", "localhost")
        paths = [directory / name for name in ("ca.pem", "cert.pem", "key.pem")]
        ca.cert_pem.write_to_path(str(paths[0]))
        issued.private_key_and_cert_chain_pem.write_to_path(str(paths[1]))
        issued.private_key_pem.write_to_path(str(paths[2]))
        return cls(*map(str, paths))


def listen_url(kind: str, directory: Path) -> str:
    if kind == "unix":
        return f"unix://{directory / 'chat.sock'}"
    path = "/chat" if kind in ("ws", "wss") else ""
    return f"{kind}://127.0.0.1:0{path}"


def socket_of(stream: object) -> trio.SocketStream | None:
    """The socket under any wrapping streams (TLS, WebSocket)."""
    while stream is not None and not isinstance(stream, trio.SocketStream):
        stream = getattr(stream, "transport_stream", None)
    return stream


async def fill(stream: trio.abc.SendStream) -> None:
    """Write until ``send_all`` blocks: the socket's buffers are full."""
    with trio.move_on_after(5) as timeout:
        async with trio.open_nursery() as nursery:

            async def stop_when_blocked() -> None:
                await trio.testing.wait_all_tasks_blocked()
                nursery.cancel_scope.cancel()

            nursery.start_soon(stop_when_blocked)
            while True:
                await stream.send_all(b"x" * 10000)
    assert not timeout.cancelled_caught


class Handing(trio.abc.Listener[trio.abc.Stream]):
    """Accepts the one stream it is given: a transport's layers over any stream."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream

    async def accept(self) -> trio.abc.Stream:
        return self.stream

    async def aclose(self) -> None:
        await self.stream.aclose()


class Harness:
    """Runs the real server on one transport and connects clients through it."""

    def __init__(
        self,
        kind: str,
        nursery: trio.Nursery,
        directory: Path,
        certs: Certificates,
        broker: str | None = None,
    ):
        self.kind = kind
        scheme, _, variant = kind.partition("-")
        self.scheme = scheme
        self.direct_write = variant != "nodirect"
        self.broker = broker  # the Redis URL, in broker mode
        self.options = ServerOptions()
        self.nursery = nursery
        self.directory = directory
        self.certs = certs
        self.streams: list[trio.abc.Stream] = []
        self.memory = MemoryListener()
        self.url = parse_url(listen_url(scheme, directory)) if kind != "memory" else None

    async def listeners(self, **limits: Any) -> list[trio.abc.Listener[Any]]:
        if self.url is None:
            return [self.memory]
        settings = Limits(**limits)
        self.options = options = ServerOptions(
            certfile=self.certs.certfile,
            keyfile=self.certs.keyfile,
            max_line_bytes=settings.max_line_bytes,
            flood_burst=settings.flood_burst,
            flood_rate=settings.flood_rate,
            flood_kick=settings.flood_kick,
            direct_write=self.direct_write,
        )
        listeners = await open_listeners(self.url, options)
        self.url = bound_url(self.url, listeners[0])
        return listeners

    async def start(self, **limits: Any) -> None:
        listeners = await self.listeners(**limits)
        if self.broker is None:
            await self.nursery.start(functools.partial(serve, listeners, limits=Limits(**limits)))
            return
        cluster = assemble(self.broker, Limits(**limits))
        server = ChatServer(
            Limits(**limits), cluster.store, cluster.accounts, front=cluster.broker.front
        )
        await self.nursery.start(server.serve, listeners)

    async def stream(self, *, slow: bool = False) -> trio.abc.Stream:
        """A client connection; a ``slow`` one holds little unread data."""
        if self.url is None:
            stream: trio.abc.Stream = await self.memory.connect(lockstep=slow)
        else:
            stream = await open_stream(self.url, cafile=self.certs.cafile)
            if slow and (sock := socket_of(stream)) is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.streams.append(stream)
        return stream

    async def connected_pair(
        self,
        listener: trio.abc.Listener[Any],
        connect: Callable[[], Awaitable[trio.abc.Stream]] | None = None,
    ) -> tuple[trio.abc.Stream, trio.abc.Stream]:
        """A client stream and the server's end of it, accepted from ``listener``."""
        accepted = []

        async def accept() -> None:
            server = await listener.accept()
            if hasattr(server, "do_handshake"):  # TLS and WebSocket handshake lazily
                await server.do_handshake()
            accepted.append(server)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(accept)
            client = await (connect or self.stream)()
        if connect is not None:  # self.stream keeps its own
            self.streams.append(client)
        self.streams.append(accepted[0])
        return client, accepted[0]

    async def clogged_pair(
        self, listener: trio.abc.Listener[Any]
    ) -> tuple[trio.abc.Stream, trio.abc.Stream]:
        """As ``connected_pair``, but a write on either side waits until the other reads."""
        module = LAYERED.get(self.scheme)
        if module is None:  # a socket: fill its buffers both ways
            client, server = await self.connected_pair(listener)
            await fill(client)
            await fill(server)
            return client, server
        # A cancelled send_all breaks TLS and WebSocket streams, so they cannot
        # be filled like a socket: their own layers go over a lockstep pair.
        assert self.url is not None
        url, options = self.url, ClientOptions(cafile=self.certs.cafile)
        under_client, under_server = trio.testing.lockstep_stream_pair()
        layered = module.listener_wrapper(url, self.options)(Handing(under_server))
        return await self.connected_pair(
            layered, lambda: module.wrap_client(under_client, url, options)
        )

    async def irc_client(self, nick: str | None = None) -> IrcClient:
        client = IrcClient(await self.stream())
        if nick:
            await client.register(nick)
        return client

    async def client(self, nick: str | None = None) -> TextClient:
        client = TextClient(await self.stream())
        if nick:
            await client.login(nick)
        return client

    async def abort(self, stream: trio.abc.Stream) -> None:
        """Drop a connection with no goodbye at any layer (no TLS or WebSocket close)."""
        await trio.aclose_forcefully(socket_of(stream) or stream)

    async def close_all(self, listeners: Sequence[trio.abc.Listener[Any]] = ()) -> None:
        """Close the client streams, and ``listeners`` no server was given."""
        for resource in [*self.streams, *listeners]:
            await trio.aclose_forcefully(resource)
