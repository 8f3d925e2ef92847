"""Noticing events the client did not see, and getting them from the server.

Every room event carries its room's sequence number. ``GapRepair`` keeps the
last one seen per room, so that on reconnecting the client can ask to resume
after it, show only what the rejoin replay holds that is new, ask
``history after=N`` for a gap the numbers reveal, and point out a room whose
numbering started afresh. It does no I/O: it is fed events and returns what
to show and what to send.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from trio_chat.client.mirror import room_left
from trio_chat.client.shown import Note, Shown
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import fold


@dataclass(frozen=True, slots=True)
class Repair:
    """What one event calls for."""

    show: tuple[Shown, ...] = ()  # before the event, or instead of it when absorbed
    send: tuple[ev.Request, ...] = ()  # ahead of anything waiting to be sent
    absorbed: bool = False  # a replay or a fill: already in ``show``, not a live event


class GapRepair:
    def __init__(self) -> None:
        self.seq: dict[str, int] = {}  # folded room -> last sequence number seen
        self._rejoining: set[str] = set()  # rooms whose replay is still to come
        self._filling: set[str] = set()  # rooms whose gap the server is asked to fill

    def resume(self, rooms: Mapping[str, str]) -> tuple[ev.RoomSeq, ...]:
        """On reconnecting to ``rooms`` (folded name -> name): what the hello resumes.

        A room whose events the client has not seen yet (the connection was
        lost between its members and the client's own joined) has nothing to
        resume after: it is left out, to be joined afresh.
        """
        resume = tuple(
            ev.RoomSeq(room, self.seq[key]) for key, room in rooms.items() if key in self.seq
        )
        self._rejoining = {fold(r.room) for r in resume}
        self._filling.clear()
        return resume

    def receive(self, event: ev.Event, me: str) -> Repair:
        """Take one event from the server; ``me`` is the client's nickname."""
        match event:
            case ev.History(room=room) if fold(room) in self._rejoining:
                return self._replay_missed(event)
            case ev.History(room=room, events=events) if fold(room) in self._filling:
                self._filling.discard(fold(room))
                if not events:
                    return Repair(absorbed=True)
                # the gap, and nothing else: asked for by number
                return Repair(show=(Note(f"missed earlier in {room}:"), event), absorbed=True)
            case ev.RoomEvent():
                repair = self._check_seq(event)
                if (left := room_left(event, me)) is not None:
                    self.seq.pop(fold(left), None)  # a room left is not resumed
                return repair
        return Repair()

    def _check_seq(self, event: ev.RoomEvent) -> Repair:
        """When the sequence numbers show that events went unseen, ask for them."""
        key = fold(event.room)
        last = self.seq.get(key)
        self.seq[key] = event.seq
        self._rejoining.discard(key)
        if last is None:
            return Repair()
        unseen = event.seq - last - 1
        if unseen > 0:
            note = f"{unseen} event(s) in {event.room} were missed: asking the server for them"
            self._filling.add(key)
            ask = ev.GetHistory(event.room, limit=unseen, after=last)
            return Repair(show=(Note(note, "gap"),), send=(ask,))
        if event.seq <= last:
            restarted = f"{event.room} started afresh (the server restarted?)"
            return Repair(show=(Note(f"{restarted}: messages may have been missed", "gap"),))
        return Repair()

    def _replay_missed(self, history: ev.History) -> Repair:
        """On rejoining, show what the room's replay holds that is new, and count it seen."""
        key = fold(history.room)
        missed = tuple(e for e in history.events if e.seq > self.seq.get(key, 0))
        if not missed:
            return Repair(absorbed=True)
        self.seq[key] = missed[-1].seq
        note = Note(f"while you were away, in {history.room}:")
        return Repair(show=(note, dataclasses.replace(history, events=missed)), absorbed=True)
