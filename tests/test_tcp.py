"""What only TCP does: resets and keepalive (the chat itself is in the conformance suite)."""

from __future__ import annotations

import socket
import struct

import pytest
import trio

from trio_chat import serve
from trio_chat.server import Limits
from trio_chat.testing import TextClient
from trio_chat.transports import open_listeners, parse_url
from trio_chat.transports.urls import bound_url


class Tcp:
    """Starts servers on 127.0.0.1 and opens client connections to them."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        self.streams: list[trio.SocketStream] = []
        self.port = 0

    async def start(self, **limits: object) -> None:
        listeners = await open_listeners(parse_url("tcp://127.0.0.1:0"))
        await self.nursery.start(
            lambda task_status: serve(listeners, limits=Limits(**limits), task_status=task_status)
        )
        self.port = bound_url(parse_url("tcp://127.0.0.1:0"), listeners[0]).port

    async def stream(self, *, receive_buffer: int | None = None) -> trio.SocketStream:
        sock = trio.socket.socket()
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        await sock.connect(("127.0.0.1", self.port))
        stream = trio.SocketStream(sock)
        self.streams.append(stream)
        return stream

    async def client(self) -> TextClient:
        return TextClient(await self.stream())


@pytest.fixture
async def tcp(nursery):
    tcp = Tcp(nursery)
    yield tcp
    for stream in tcp.streams:
        await trio.aclose_forcefully(stream)


async def test_a_reset_connection_is_announced_as_lost(tcp):
    await tcp.start()
    alice = await tcp.client()
    await alice.login("alice")
    bob_stream = await tcp.stream()
    bob = TextClient(bob_stream)
    await bob.login("bob")
    await bob_stream.send_all(b"half a li")
    # linger 0: close sends a reset, as when a machine drops off the network
    bob_stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await bob_stream.aclose()
    await alice.expect(r"\* bob left #lobby \(connection lost\)$")


async def test_accepted_connections_send_keepalive_probes(tcp):
    listeners = await open_listeners(parse_url("tcp://127.0.0.1:0"), keepalive=42)
    tcp.port = listeners[0].socket.getsockname()[1]
    await tcp.stream()
    accepted = await listeners[0].accept()
    tcp.streams.append(accepted)
    assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 42
    for listener in listeners:
        await listener.aclose()
