"""The pump: carries out the chat's effects, in order, store first.

Sessions ``post`` the effects the chat returned; ``post`` never waits. One
task, ``run``, takes them off in batches in two stages joined by a channel
that holds one batch:

1. the storing stage gathers everything posted so far into a batch and
   stores what it keeps in one ``append`` (one transaction), before anyone
   receives it: nothing anyone saw is ever lost; then the settings of the
   owned rooms it changed (``SaveRoom``);
2. the delivering stage goes through each stored batch in order: it puts
   events in their recipients' mailboxes, reads history where a fetch stands
   (so a replay ends exactly where the live events begin), and closes
   mailboxes.

A batch is delivered while the next is stored. One failing effect costs that
effect: it is logged, its sender (if any) gets ``server_error``, and the pump
goes on. A mailbox that overflows is closed at once with
``send queue exceeded``, the IRC way: a client that does not read is dropped
rather than allowed to hold anyone up.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

import trio

from trio_chat.chat import (
    Close,
    Deliver,
    Effect,
    FetchHistory,
    FetchPrivate,
    Member,
    SaveRoom,
    Stored,
)
from trio_chat.chat.rooms import Encoded
from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import fold
from trio_chat.server import runs
from trio_chat.server.metrics import Metrics
from trio_chat.server.runs import SEND_QUEUE_EXCEEDED
from trio_chat.server.store import Store

log = logging.getLogger(__name__)

SHARED_REPLAYS = 16
# A replay on joining, shared, with its encodings (None: nothing to replay).
Replay = tuple[ev.History | None, Encoded]
E = TypeVar("E", bound=ev.Event)


class Pump:
    def __init__(
        self,
        store: Store,
        *,
        backlog: int = 1000,
        history_bytes: int = 1 << 18,
        metrics: Metrics | None = None,
    ) -> None:
        """``backlog``: posts waiting before readers are held back (see
        ``wait_for_room``); ``history_bytes``: the most one history answer holds;
        ``metrics``: counted once a batch."""
        self.store = store
        self.metrics = metrics or Metrics()
        self.backlog = backlog
        self.history_bytes = history_bytes
        # Unbounded so that posting never waits; readers hold back while it is long.
        self._send, self._receive = trio.open_memory_channel[Sequence[Effect]](math.inf)
        self._waiting = 0  # posts the storing stage has not taken yet
        self._drained = trio.Event()
        self._drained.set()
        # The last replays on joining, by (room, before, limit), each with its
        # encodings: at most SHARED_REPLAYS, each at most history_bytes.
        self._replays: dict[tuple[str, int, int], Replay] = {}

    def post(self, effects: Sequence[Effect]) -> None:
        """Have ``effects`` carried out, after everything posted before."""
        if not effects:
            return
        self._send.send_nowait(effects)
        self._waiting += 1
        if self._waiting > self.backlog and self._drained.is_set():
            self._drained = trio.Event()

    def tell(self, member: Member, event: ev.Event) -> None:
        """Send ``event`` to ``member`` alone, in order with everything else."""
        self.post([Deliver(event, (member,))])

    async def wait_for_room(self) -> None:
        """Wait while the pump is far behind, so readers slow to its pace."""
        # Not a checkpoint otherwise: a reader then carries out every request
        # of a chunk it received at once (receiving is the checkpoint), so a
        # batch, and each writer's send, holds more messages.
        if not self._drained.is_set():
            await self._drained.wait()

    def close(self) -> None:
        """Nothing more will be posted: ``run`` returns once it has done the rest."""
        self._send.close()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Carry out what is posted, in order, until ``close``."""
        stored_send, stored_receive = trio.open_memory_channel[list[Effect]](1)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._store_batches, stored_send)
            task_status.started()
            # No name keeps a batch alive while the next is awaited: a batch
            # holds events (welcomes with their member lists) and recipients.
            while True:
                try:
                    await self._deliver(await stored_receive.receive())
                except trio.EndOfChannel:
                    return

    async def _deliver(self, batch: list[Effect]) -> None:
        for item in runs.runs(batch):
            try:
                if isinstance(item, list):
                    runs.deliver(item)
                else:
                    await self._carry_out(item)
            except Exception:
                # One bad effect (or history read) costs that effect, never
                # the pump and with it the whole chat.
                log.exception("an effect could not be carried out")
                for effect in item if isinstance(item, list) else [item]:
                    if (sender := _sender(effect)) is not None:
                        _put(sender, _failure(ev.now()))
        self.metrics.delivered(batch)
        self._drained.set()

    async def _replay(self, room: str, to: Member, limit: int, before: int) -> None:
        """A room's recent messages for a newcomer: read and encoded once for
        all who join before anyone speaks (a crowd joining a busy room)."""
        key = (room, before, limit)
        shared = self._replays.pop(key, None)
        if shared is None:
            with self.metrics.store_read.time():
                past = await self.store.room_history(room, limit=limit, before=before)
            past = _fit(past, self.history_bytes, newest=True)
            shared = (ev.History(ev.now(), room, tuple(past)) if past else None, {})
        self._replays[key] = shared  # the most recent last
        if len(self._replays) > SHARED_REPLAYS:
            del self._replays[next(iter(self._replays))]
        history, encoded = shared
        if history is not None and not to.mailbox.put_run([history], encoded):
            to.mailbox.close(SEND_QUEUE_EXCEEDED, discard=True)

    # ----------------------------------------------------------------- storing

    async def _store_batches(self, stored: trio.MemorySendChannel[list[Effect]]) -> None:
        async with stored:
            while True:
                try:
                    first = await self._receive.receive()
                except trio.EndOfChannel:
                    return
                await stored.send(await self._stored(first))
                del first  # see run

    async def _stored(self, first: Sequence[Effect]) -> list[Effect]:
        """A batch (``first``, and whatever else was posted), its records stored."""
        batch = self._gather(list(first))
        if hold := runs.hold(batch):
            # A crowd is joining a large room: let the batch take in more of
            # it, so that each member gets the joins in one write, not one each.
            await trio.sleep(hold)
            batch = self._gather(batch)
        kept = [e.record for e in batch if isinstance(e, Deliver) and e.record is not None]
        # Stored before anyone sees them: nothing seen is ever lost.
        if kept and (lost := await self._store(kept)):
            batch = _replace_lost(batch, lost)
        # the last settings of each room in the batch
        if saved := {fold(e.room): e.settings for e in batch if isinstance(e, SaveRoom)}:
            try:
                await self.store.save_rooms(saved)
            except Exception:
                log.exception("the settings of %d room(s) could not be saved", len(saved))
        return batch

    def _gather(self, batch: list[Effect]) -> list[Effect]:
        while True:
            try:
                batch += self._receive.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                break
        self._waiting = 0  # everything posted is in this batch
        return batch

    async def _store(self, kept: list[Stored]) -> set[int]:
        """Store ``kept``; returns the ids of those that could not be stored.

        When the batch fails, each is tried alone, so that one event the
        store refuses costs that event and not the others of its batch.
        """
        try:
            with self.metrics.store_append.time():
                await self.store.append(kept)
        except Exception:
            log.exception("storing %d event(s) failed; trying each alone", len(kept))
        else:
            return set()
        lost = set()
        for record in kept:
            try:
                await self.store.append([record])
            except Exception as exc:
                log.error("an event could not be stored, so it is not delivered: %r", exc)
                lost.add(id(record))
        return lost

    # -------------------------------------------------------------- delivering

    async def _carry_out(self, effect: FetchHistory | FetchPrivate | Close) -> None:
        """Any effect but a Deliver (those go in runs)."""
        match effect:
            case FetchHistory(room, to, limit, before, None, True):
                await self._replay(room, to, limit, before)
            case FetchHistory(room, to, limit, before, after, quiet):
                with self.metrics.store_read.time():
                    past = await self.store.room_history(
                        room, limit=limit, before=before, after=after
                    )
                past = _fit(past, self.history_bytes, newest=after is None)
                if past or not quiet:
                    _put(to, ev.History(ev.now(), room, tuple(past)))
            case FetchPrivate(account, other, to, limit):
                with self.metrics.store_read.time():
                    private = await self.store.private_history(account, other, limit=limit)
                private = _fit(private, self.history_bytes, newest=True)
                _put(to, ev.PrivateHistory(ev.now(), other, tuple(private)))
            case Close(member, reason):
                member.mailbox.close(reason)


def _put(member: Member, event: ev.Event) -> None:
    mailbox = member.mailbox
    if not mailbox.put(event):
        mailbox.close(SEND_QUEUE_EXCEEDED, discard=True)


def _sender(effect: Effect) -> Member | None:
    """Who is told when ``effect`` fails: the author of a message, or the asker."""
    match effect:
        case Deliver(sender=sender):
            return sender
        case FetchHistory(to=to) | FetchPrivate(to=to):
            return to
    return None


def _failure(now: datetime) -> ev.Error:
    """What the sender of an event that could be neither stored nor sent is told."""
    return ev.Error(now, Code.SERVER_ERROR, "the server failed to carry out your last request")


def _replace_lost(batch: list[Effect], lost: set[int]) -> list[Effect]:
    """``batch`` without the events that were not stored; their senders are told."""
    kept: list[Effect] = []
    for effect in batch:
        if not isinstance(effect, Deliver) or id(effect.record) not in lost:
            kept.append(effect)
        elif effect.sender is not None:
            kept.append(Deliver(_failure(ev.now()), (effect.sender,)))
    return kept


def _fit(events: list[E], budget: int, *, newest: bool) -> list[E]:
    """As many of ``events`` (oldest first) as fit in ``budget`` bytes, from
    the newest or from the oldest end; their JSON is the larger encoding."""
    count = size = 0
    for event in reversed(events) if newest else events:
        size += len(jsonl.encode(event))
        if size > budget:
            break
        count += 1
    return events[len(events) - count :] if newest else events[:count]
