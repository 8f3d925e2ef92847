"""The outbox: a writer's queue, bounded in bytes, written directly while its writer is idle."""

from __future__ import annotations

import functools

import trio
from trio.testing import wait_all_tasks_blocked

from trio_chat import Limits, serve
from trio_chat.protocol import events as ev
from trio_chat.server.outbox import DirectWrite, Outbox
from trio_chat.testing import MemoryListener, TextClient, _Addressed


def notice(text: str) -> ev.Notice:
    return ev.Notice(ev.now(), text)


def plain(event: ev.Event) -> bytes:
    return event.text.encode() if isinstance(event, ev.Notice) else b""


class Socket:
    """Takes ``room`` bytes at once, like a socket with that much buffer free."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.writes: list[bytes] = []

    def send_now(self, data: bytes) -> int:
        self.writes.append(data[: self.room])
        return min(len(data), self.room)


def outbox(max_events: int = 10, max_bytes: int = 1000, socket: Socket | None = None) -> Outbox:
    return Outbox(
        max_events=max_events,
        max_bytes=max_bytes,
        encode=plain,
        send_now=socket.send_now if socket else None,
    )


async def test_an_idle_writers_batch_is_written_whole_once_the_batch_is_in(nursery):
    socket = Socket(room=100)
    box = outbox(socket=socket)
    taken: list[bytes] = []

    async def writer() -> None:
        taken.append(await box.take_all())

    nursery.start_soon(writer)
    await wait_all_tasks_blocked()
    assert box.put(notice("one "))
    assert box.put(notice("two"))
    assert socket.writes == []  # not while the batch may still grow
    await wait_all_tasks_blocked()
    assert socket.writes == [b"one two"]  # one write for the batch
    assert taken == []  # and the writer was not woken
    assert box.queued_bytes == 0


async def test_what_the_socket_did_not_take_goes_to_the_writer_in_order(nursery):
    socket = Socket(room=3)
    box = outbox(socket=socket)
    taken: list[bytes] = []

    async def writer() -> None:
        while True:
            taken.append(await box.take_all())

    nursery.start_soon(writer)
    await wait_all_tasks_blocked()
    box.put(notice("hello"))
    box.put(notice(" world"))
    await wait_all_tasks_blocked()
    # the socket took 3 bytes; the writer got the rest of the batch
    assert socket.writes == [b"hel"]
    assert taken == [b"lo world"]
    box.put(notice("!!!!"))
    await wait_all_tasks_blocked()
    assert socket.writes == [b"hel", b"!!!"]
    assert taken == [b"lo world", b"!"]
    nursery.cancel_scope.cancel()


async def test_a_full_outbox_refuses_and_hands_over_what_it_holds():
    box = outbox(max_events=2)
    assert box.put(notice("a"))
    assert box.put(notice("b"))
    assert not box.put(notice("c"))
    assert await box.take_all() == b"ab"
    box.close()
    assert await box.take_all() == b""
    assert not box.put(notice("d"))


async def test_the_byte_budget_counts_what_the_writer_is_still_sending():
    box = outbox(max_events=100, max_bytes=10)
    assert box.put(notice("123456"))
    assert not box.put(notice("78901"))  # 11 bytes would be over
    assert box.put(notice("7890"))
    assert await box.take_all() == b"1234567890"
    # Taken, but not sent yet: a writer stuck on a peer that does not read
    # still holds those bytes, so nothing more fits.
    assert box.queued_bytes == 10
    assert not box.put(notice("x"))
    box.close()
    assert await box.take_all() == b""  # coming back means it was sent
    assert box.queued_bytes == 0


class WritableNow(_Addressed):
    """A memory stream that also offers ``send_now``, recording what it is given.

    It takes nothing at once (like a full socket), so everything still
    arrives through ``send_all``.
    """

    def __init__(self, inner: trio.abc.HalfCloseableStream) -> None:
        super().__init__(inner, "127.0.0.1")
        self.offered: list[bytes] = []

    def send_now(self, data: bytes) -> int:
        self.offered.append(bytes(data))
        return 0


class WritableNowListener(MemoryListener):
    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[WritableNow] = []

    async def accept(self) -> trio.abc.HalfCloseableStream:
        stream = WritableNow(await super().accept())
        self.accepted.append(stream)
        return stream


async def test_the_server_writes_through_any_stream_that_can_be_written_at_once(nursery):
    listener = WritableNowListener()
    await nursery.start(functools.partial(serve, [listener], limits=Limits()))
    alice = TextClient(await listener.connect())
    await alice.login("alice")
    bob = TextClient(await listener.connect())
    await bob.login("bob")
    await alice.expect(r"\* bob joined #lobby$")
    await bob.send_line("hello")
    await alice.expect(r"bob: hello$")
    to_alice = listener.accepted[0]
    assert isinstance(to_alice, DirectWrite)  # recognised by its shape alone
    assert any(b"bob: hello" in data for data in to_alice.offered)


async def test_a_run_is_encoded_once_for_all_who_share_a_codec_and_counts_each_event():
    encoded: dict[object, tuple[bytes, list[int]]] = {}
    first, second = outbox(max_events=3), outbox(max_events=3)
    run = [notice("a"), notice("bc"), notice("d")]
    assert first.put_run(run[:2], {}) is True
    assert second.put_run(run, encoded)
    assert encoded == {plain: (b"abcd", [0, 1, 3, 4])}
    late = outbox()
    assert late.put_run(run, encoded, 1)  # joined at the second event: from there on
    assert await late.take_all() == b"bcd"
    assert await second.take_all() == b"abcd"
    assert not first.put_run(run, encoded)  # 2 + 3 events: over the bound of 3
    assert first.put(notice("e"))
    assert await first.take_all() == b"abce"


async def test_a_run_with_what_a_client_does_not_receive_is_cut_from_the_shared_encoding():
    """An IRC client does not receive its own messages: it takes the rest of a
    shared run as slices of the bytes encoded once for all its members."""
    said = [ev.Message(ev.now(), "#a", n, nick, "hi") for n, nick in enumerate(["bob", "alice"])]
    calls: list[ev.Event] = []

    def counted(event: ev.Event) -> bytes:
        calls.append(event)
        return f"{event.nick}: hi\n".encode()  # type: ignore[attr-defined]

    alice = Outbox(max_events=10, max_bytes=1000, encode=counted, keep=lambda e: e.nick != "alice")
    carol = Outbox(max_events=10, max_bytes=1000, encode=counted)
    encoded: dict[object, tuple[bytes, list[int]]] = {}
    assert alice.put_run(said, encoded)
    assert carol.put_run(said, encoded)
    with trio.fail_after(1):
        assert await alice.take_all() == b"bob: hi\n"
        assert await carol.take_all() == b"bob: hi\nalice: hi\n"
    assert calls == said  # once, for both
