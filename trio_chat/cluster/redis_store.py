"""Room events and private messages kept in Redis, shared by the servers of broker mode.

Keys, each after ``prefix`` ("trio-chat:" by default):

- ``room:{folded room}``: a stream per room. An event numbered ``seq`` is the
  entry ``{seq}-0`` with one field, ``e``, its JSON line, so XRANGE pages by
  sequence number. Trimmed to about ``keep`` entries.
- ``private:{account}``: a stream per registered nickname, entries with IDs
  Redis chooses, fields ``e`` (the private message's JSON line), ``s`` and
  ``t`` (the sender's and the target's accounts, empty for a guest). Trimmed
  to about ``private_max`` entries.

Every server of a chat appends the same room events, each room in order of
``seq``: an entry is added only when its ID is above the stream's last one,
so the first copy stays and the others are dropped without error. The last
ID outlives trimming, so a trimmed room never takes an old number back.

Past ``--history-rooms`` rooms, the chat's numbering forgets the least
active one (see ``RoomIndex``), and ``forgotten`` says so: its stream is
deleted after the next append, which holds its last events if any were
still on their way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import coredis
from coredis.response.types import StreamEntry

from trio_chat.chat.effects import PrivateRecord, RoomSettings, Stored
from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl
from trio_chat.protocol.rules import fold
from trio_chat.server.store import CHAT

log = logging.getLogger("trio_chat.cluster")
E = TypeVar("E", bound=ev.Event)
T = TypeVar("T")

PAGE = 200  # entries per read while looking back for messages
SCAN_MAX = 10_000  # how far back a read looks in a stream with no cap

# KEYS: the room streams, then the private streams, one per event.
# ARGV: keep, private_max, the number of room events, then for each room
# event its ID and line, and for each private message its line, s and t.
_APPEND = """
local keep, private_max, rooms = ARGV[1], ARGV[2], tonumber(ARGV[3])
local at = 4
local function xadd(key, cap, id, fields)
    local command = {'XADD', key}
    if cap ~= '0' then
        for _, word in ipairs({'MAXLEN', '~', cap}) do table.insert(command, word) end
    end
    table.insert(command, id)
    for _, word in ipairs(fields) do table.insert(command, word) end
    return redis.pcall(unpack(command))
end
local function failed(reply)
    return type(reply) == 'table' and reply.err
end
for i, key in ipairs(KEYS) do
    local added
    if i <= rooms then
        added = xadd(key, keep, ARGV[at], {'e', ARGV[at + 1]})
        at = at + 2
        if failed(added) and string.find(added.err, 'equal or smaller') then
            added = nil  -- another server stored it first
        end
    else
        added = xadd(key, private_max, '*', {'e', ARGV[at], 's', ARGV[at + 1], 't', ARGV[at + 2]})
        at = at + 3
    end
    if failed(added) then return added end
end
return 0
"""


def _line(event: ev.Event) -> bytes:
    return jsonl.encode(event).rstrip(b"\n")


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


class _Decoder:
    """Decodes the entries of one stream for one read, and logs once what it skipped."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.skipped = 0

    def event(self, entry: StreamEntry, kind: type[E]) -> E | None:
        line = entry.field_values.get(b"e")
        try:
            event = None if line is None else jsonl.decode_event(line)
        except jsonl.DecodeError:
            event = None
        if not isinstance(event, kind):
            self.skipped += 1
            return None
        return event

    def __enter__(self) -> _Decoder:
        return self

    def __exit__(self, *_: object) -> None:
        if self.skipped:
            log.warning("%s: skipped %d entries that are not events", self.key, self.skipped)


class RedisStore:
    """The ``Store`` of broker mode: history in Redis streams (see the module).

    ``last_seq`` answers from the function given: in broker mode the numbering
    belongs to the replicated chat, not to the store. Looking back for the last
    messages reads at most ``keep`` (``private_max``) entries, or ``SCAN_MAX``
    with no cap, so a room full of comings and goings answers with fewer
    messages, never slowly. Needs Redis 6.2 or later (exclusive ranges).
    """

    def __init__(
        self,
        redis: coredis.Redis[bytes],
        *,
        last_seq: Callable[[str], int],
        prefix: str = "trio-chat:",
        keep: int = 1000,
        private_max: int = 10_000,
        forgotten: Callable[[], list[str]] = list,
    ) -> None:
        self._redis = redis
        self._last_seq = last_seq
        self._forgotten = forgotten
        self.prefix = prefix
        self.keep = keep
        self.private_max = private_max
        self._append = redis.register_script(_APPEND)

    def room_key(self, room: str) -> str:
        return f"{self.prefix}room:{fold(room)}"

    def private_key(self, account: str) -> str:
        return f"{self.prefix}private:{account}"

    def last_seq(self, room: str) -> int:
        return self._last_seq(room)

    # Room settings need no keys of their own: the moderation requests that
    # make them are in the log, and snapshots hold them (see snapshot.py).

    def room_settings(self) -> dict[str, RoomSettings]:
        return {}

    async def save_rooms(self, rooms: Mapping[str, RoomSettings]) -> None:
        pass

    async def append(self, events: Sequence[Stored]) -> None:
        """In one round trip (two when rooms are forgotten); a room event
        already there is dropped (see the module)."""
        room_keys: list[str] = []
        room_args: list[str | bytes] = []
        private_keys: list[str] = []
        private_args: list[str | bytes] = []
        for event in events:
            if isinstance(event, PrivateRecord):
                for account in event.accounts:
                    private_keys.append(self.private_key(account))
                    s, t = event.sender_account or "", event.target_account or ""
                    private_args += [_line(event.event), s, t]
            else:
                room_keys.append(self.room_key(event.room))
                room_args += [f"{event.seq}-0", _line(event)]
        if room_keys or private_keys:
            head = [str(self.keep), str(self.private_max), str(len(room_keys))]
            await self._append(
                keys=room_keys + private_keys, args=[*head, *room_args, *private_args]
            )
        if gone := self._forgotten():
            await self._redis.delete([self.room_key(room) for room in gone])

    async def room_history(
        self, room: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> list[ev.RoomEvent]:
        key = self.room_key(room)
        if limit <= 0 or (before is not None and before <= 1):
            return []
        end = "+" if before is None else str(before - 1)  # "n" as an end takes in n-0
        with _Decoder(key) as decoder:
            if after is not None:
                start = str(max(after, 0) + 1)
                entries = await self._redis.xrange(key, start=start, end=end, count=limit)
                return [e for e in (decoder.event(n, ev.RoomEvent) for n in entries) if e]

            def chat(entry: StreamEntry) -> ev.RoomEvent | None:
                event = decoder.event(entry, ev.RoomEvent)
                return event if isinstance(event, CHAT) else None

            return await self._look_back(key, end, self.keep, limit, chat)

    async def private_history(self, account: str, other: str, *, limit: int) -> list[ev.Private]:
        key = self.private_key(account)
        with _Decoder(key) as decoder:

            def between(entry: StreamEntry) -> ev.Private | None:
                event = decoder.event(entry, ev.Private)
                if event is None:
                    return None
                s, t = (_text(entry.field_values.get(f) or "") or None for f in (b"s", b"t"))
                return event if PrivateRecord(event, s, t).seen_by(account, other) else None

            return await self._look_back(key, "+", self.private_max, limit, between)

    async def _look_back(
        self, key: str, end: str, cap: int, limit: int, pick: Callable[[StreamEntry], T | None]
    ) -> list[T]:
        """Oldest first, the last ``limit`` values ``pick`` finds in the entries
        up to ``end``, among at most ``cap`` (0: ``SCAN_MAX``) newest."""
        found: list[T] = []
        budget = cap or SCAN_MAX
        while budget > 0 and len(found) < limit:
            count = min(PAGE, budget)
            page = await self._redis.xrevrange(key, end=end, start="-", count=count)
            for entry in page:
                if (value := pick(entry)) is not None:
                    found.append(value)
                    if len(found) == limit:
                        break
            if len(page) < count:
                break
            budget -= count
            end = f"({_text(page[-1].identifier)}"
        return found[::-1]
