"""Plain-text logs for people who grep: one file per room per day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import trio

from trio_chat.chat import RoomSettings, Stored
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import fold
from trio_chat.protocol.text import format_event
from trio_chat.server.store import Store


def file_stem(room: str) -> str:
    """The start of ``room``'s log file names: its folded name without the
    ``#``, a leading ``.`` or ``-`` written ``%2E`` or ``%2D`` so that no file
    is hidden or reads as an option. ``%`` is not allowed in room names, so
    two rooms never share a file."""
    name = fold(room).removeprefix("#")
    if name[:1] in (".", "-"):
        return f"%{ord(name[0]):02X}{name[1:]}"
    return name


class LoggedStore:
    """A Store that also appends each room's events to ``DIR/ROOM-DAY.log``.

    Lines read as in text mode (``[14:03:07] alice: hello``), in the server's
    local time. Private messages are never written here. Files are only ever
    appended to: rotating old ones is the operator's business.
    """

    def __init__(self, inner: Store, directory: Path) -> None:
        self.inner = inner
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def last_seq(self, room: str) -> int:
        return self.inner.last_seq(room)

    async def append(self, events: Sequence[Stored]) -> None:
        await self.inner.append(events)
        files: dict[Path, list[bytes]] = {}
        for e in events:
            if isinstance(e, ev.RoomEvent):
                day = e.time.astimezone().date().isoformat()
                path = self.directory / f"{file_stem(e.room)}-{day}.log"
                files.setdefault(path, []).append(format_event(e))
        await trio.to_thread.run_sync(_write, files)

    def room_settings(self) -> dict[str, RoomSettings]:
        return self.inner.room_settings()

    async def save_rooms(self, rooms: Mapping[str, RoomSettings]) -> None:
        await self.inner.save_rooms(rooms)

    async def room_history(
        self, room: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> list[ev.RoomEvent]:
        return await self.inner.room_history(room, limit=limit, before=before, after=after)

    async def private_history(self, account: str, other: str, *, limit: int) -> list[ev.Private]:
        return await self.inner.private_history(account, other, limit=limit)


def _write(files: dict[Path, list[bytes]]) -> None:
    for path, lines in files.items():
        with path.open("ab") as f:
            f.write(b"".join(lines))
