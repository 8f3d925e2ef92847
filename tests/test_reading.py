"""read_event: the one loop that feeds a connection from a stream until it has an event."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import trio
import trio.testing

import trio_chat.protocol
from trio_chat.protocol import BLANK, CLOSED, BadInput, ClientConnection, ServerConnection
from trio_chat.protocol import events as ev
from trio_chat.protocol.jsonl import encode
from trio_chat.protocol.reading import RECEIVE_SIZE, read_event


class Chunks:
    """A stream that hands out given chunks, then the end of the stream."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.asked: list[int | None] = []

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await trio.lowlevel.checkpoint()
        self.asked.append(max_bytes)
        return self.chunks.pop(0) if self.chunks else b""


async def test_an_event_split_across_reads_arrives_whole_and_then_the_end():
    line = encode(ev.Notice(ev.now(), "hello"))
    stream = Chunks(line[:3], line[3:-1], line[-1:])
    conn = ClientConnection()
    event = await read_event(conn, stream)
    assert isinstance(event, ev.Notice)
    assert event.text == "hello"
    assert await read_event(conn, stream) is CLOSED
    assert stream.asked == [RECEIVE_SIZE] * 4


async def test_requests_already_received_are_returned_without_reading_again():
    stream = Chunks(b"alice\n\nhello\n/bogus\n")
    conn = ServerConnection()
    assert await read_event(conn, stream) == ev.Hello("alice")
    conn.accept()
    assert await read_event(conn, stream) is BLANK
    assert await read_event(conn, stream) == ev.Say("hello")
    assert isinstance(await read_event(conn, stream), BadInput)
    assert len(stream.asked) == 1
    assert await read_event(conn, stream) is CLOSED


async def test_what_the_stream_raises_passes_through_unchanged():
    client, server = trio.testing.memory_stream_pair()
    await server.aclose()
    await client.aclose()
    with pytest.raises(trio.ClosedResourceError):
        await read_event(ClientConnection(), client)


async def test_it_reads_a_real_trio_stream():
    client, server = trio.testing.memory_stream_pair()
    await server.send_all(b'{"type":"ping","token":"t1"}\n')
    await server.send_eof()
    conn = ServerConnection()
    assert await read_event(conn, client) == ev.Ping("t1")
    assert await read_event(conn, client) is CLOSED


def test_the_protocol_package_still_imports_no_trio():
    package = Path(trio_chat.protocol.__file__).parent
    imported = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert "reading.py" in {m.name for m in package.glob("*.py")}
    assert "trio" not in imported
