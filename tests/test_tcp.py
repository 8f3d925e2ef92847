"""What only plain sockets do: resets, keepalive and direct writes (the chat itself is
in the conformance suite)."""

from __future__ import annotations

import socket
import struct

import pytest
import trio
import trio.testing
from transport_harness import fill

from trio_chat import serve
from trio_chat.server import Limits
from trio_chat.testing import TextClient
from trio_chat.transports import open_listeners, parse_url
from trio_chat.transports.direct import DirectWriteStream
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


def direct_pair(send_buffer: int | None = None) -> tuple[DirectWriteStream, DirectWriteStream]:
    left, right = trio.socket.socketpair()
    if send_buffer:
        left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    return DirectWriteStream(trio.SocketStream(left)), DirectWriteStream(trio.SocketStream(right))


async def received(stream: trio.abc.ReceiveStream, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += await stream.receive_some(size - len(data))
    return data


async def test_a_direct_write_stream_is_a_well_behaved_half_closeable_stream():
    async def direct_socket_pair() -> tuple[DirectWriteStream, DirectWriteStream]:
        return direct_pair()

    async def clogged() -> tuple[DirectWriteStream, DirectWriteStream]:
        left, right = direct_pair()
        await fill(left)
        await fill(right)
        return left, right

    await trio.testing.check_half_closeable_stream(direct_socket_pair, clogged)


async def test_send_now_writes_what_the_socket_takes_and_no_more():
    sender, receiver = direct_pair(send_buffer=4096)
    async with sender, receiver:
        data = bytes(range(256)) * 4096  # 1 MiB: more than the buffers hold
        sent = sender.send_now(data)
        assert 0 < sent < len(data)
        assert sender.send_now(data[sent:]) == 0  # full: nothing waits, nothing is lost
        assert await received(receiver, sent) == data[:sent]
        more = sender.send_now(data[sent:])  # room again
        assert more > 0
        assert await received(receiver, more) == data[sent : sent + more]


async def test_send_now_on_a_broken_connection_takes_nothing_and_send_all_says_why():
    sender, receiver = direct_pair()
    async with sender:
        await receiver.aclose()
        assert sender.send_now(b"hello") == 0
        with pytest.raises(trio.BrokenResourceError):
            await sender.send_all(b"hello")


async def test_send_now_after_close_never_reaches_a_socket_that_reused_the_descriptor():
    sender, receiver = direct_pair()
    number = sender.socket.fileno()
    await sender.aclose()
    await receiver.aclose()
    left, right = socket.socketpair()
    with left, right:
        assert number in (left.fileno(), right.fileno())  # the kernel reuses the lowest free
        assert sender.send_now(b"for someone else") == 0
        with pytest.raises(BlockingIOError):
            (left if number == right.fileno() else right).recv(100, socket.MSG_DONTWAIT)


async def test_send_now_keeps_out_of_a_send_all_under_way(nursery):
    sender, receiver = direct_pair(send_buffer=4096)
    async with sender, receiver:
        data = b"a" * (1 << 20)
        nursery.start_soon(sender.send_all, data)
        await trio.testing.wait_all_tasks_blocked()  # the socket is full, send_all waits
        assert sender.send_now(b"b" * 100) == 0  # would land in the middle of the a's
        assert await received(receiver, len(data)) == data
