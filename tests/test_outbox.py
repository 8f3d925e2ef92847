"""The outbox: a writer's queue, written directly while its writer is idle."""

from __future__ import annotations

from trio.testing import wait_all_tasks_blocked

from trio_chat.protocol import events as ev
from trio_chat.server.outbox import Outbox


def notice(text: str) -> ev.Notice:
    return ev.Notice(ev.now(), text)


class Socket:
    """Takes ``room`` bytes at once, like a socket with that much buffer free."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.writes: list[bytes] = []

    def write_now(self, events: list[ev.Event]) -> bytes:
        data = "".join(e.text for e in events if isinstance(e, ev.Notice)).encode()
        self.writes.append(data[: self.room])
        return data[self.room :]


async def test_an_idle_writers_batch_is_written_whole_once_the_batch_is_in(nursery):
    socket = Socket(room=100)
    outbox = Outbox(10, socket.write_now)
    taken: list[tuple[bytes, list[ev.Event]]] = []

    async def writer() -> None:
        taken.append(await outbox.take_all())

    nursery.start_soon(writer)
    await wait_all_tasks_blocked()
    assert outbox.put(notice("one "))
    assert outbox.put(notice("two"))
    assert socket.writes == []  # not while the batch may still grow
    await wait_all_tasks_blocked()
    assert socket.writes == [b"one two"]  # one write for the batch
    assert taken == []  # and the writer was not woken


async def test_what_the_socket_did_not_take_goes_to_the_writer_in_order(nursery):
    socket = Socket(room=3)
    outbox = Outbox(10, socket.write_now)
    taken: list[tuple[bytes, list[ev.Event]]] = []

    async def writer() -> None:
        while True:
            taken.append(await outbox.take_all())

    nursery.start_soon(writer)
    await wait_all_tasks_blocked()
    outbox.put(notice("hello"))
    outbox.put(notice(" world"))
    await wait_all_tasks_blocked()
    # the socket took 3 bytes; the writer got the rest of the batch
    assert socket.writes == [b"hel"]
    assert taken == [(b"lo world", [])]
    outbox.put(notice("!!!!"))
    await wait_all_tasks_blocked()
    assert socket.writes == [b"hel", b"!!!"]
    assert taken == [(b"lo world", []), (b"!", [])]
    nursery.cancel_scope.cancel()


async def test_a_full_outbox_refuses_and_hands_over_what_it_holds():
    outbox = Outbox(2)
    a, b = notice("a"), notice("b")
    assert outbox.put(a)
    assert outbox.put(b)
    assert not outbox.put(notice("c"))
    assert await outbox.take_all() == (b"", [a, b])
    outbox.close()
    assert await outbox.take_all() == (b"", [])
    assert not outbox.put(notice("d"))
