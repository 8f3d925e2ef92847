"""Where each room's numbering goes on from, in bounded memory."""

from __future__ import annotations

import itertools
from collections.abc import Iterator


class RoomIndex:
    """Each room's last sequence number, for at most ``cap`` rooms (0: no cap).

    Past the cap the least recently active room is forgotten: first a room
    that never had a message or action (only comings and goings), else the
    room idle longest. Its last number raises ``floor``, the number a room
    unknown here goes on from, so a room forgotten and created again never
    reuses a number, while the memory kept stays bounded.
    """

    def __init__(self, cap: int, floor: int = 0) -> None:
        self.cap = cap
        self.floor = floor
        # by folded name, least recently active first
        self._quiet: dict[str, int] = {}
        self._chatty: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._quiet) + len(self._chatty)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return itertools.chain(list(self._quiet.items()), list(self._chatty.items()))

    def last_seq(self, room: str) -> int:
        """``room`` folded."""
        for kept in (self._chatty, self._quiet):
            if (seq := kept.get(room)) is not None:
                return seq
        return self.floor

    def touch(self, room: str, seq: int, chat: bool) -> None:
        """``room`` (folded) has an event numbered ``seq``: it is now the most recent."""
        chat = chat or room in self._chatty
        last = max(self._chatty.pop(room, seq), self._quiet.pop(room, seq), seq)
        (self._chatty if chat else self._quiet)[room] = last

    def state(self) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
        """The floor, and the rooms without and with messages, least recent first."""
        return self.floor, list(self._quiet.items()), list(self._chatty.items())

    def restore(
        self, floor: int, quiet: list[tuple[str, int]], chatty: list[tuple[str, int]]
    ) -> None:
        """Take back what ``state`` gave."""
        self.floor, self._quiet, self._chatty = floor, dict(quiet), dict(chatty)

    def overflow(self) -> list[tuple[str, int]]:
        """Forget the rooms over the cap; returns them with their last numbers."""
        gone = []
        while self.cap and len(self) > self.cap:
            kept = self._quiet or self._chatty
            room = next(iter(kept))
            last = kept.pop(room)
            self.floor = max(self.floor, last)
            gone.append((room, last))
        return gone
