"""What the chat asks to have done: effects, carried out in order by the server.

The chat decides; it never does. Each request it applies returns a list of
these, and the server's pump carries them out in the order given: what is to
be kept is stored before anyone receives it, history is read at its place in
the order, and a member is closed after its last event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.chat.rooms import Member


@dataclass(frozen=True, slots=True)
class PrivateRecord:
    """A private message and the registered nicknames (accounts) of its
    parties, None for a guest: only an account can read its private history,
    so a later holder of a guest's nickname never sees that guest's."""

    event: ev.Private
    sender_account: str | None
    target_account: str | None

    @property
    def accounts(self) -> tuple[str, ...]:
        """The accounts that may read it back: none when both are guests, in
        which case it is not stored at all."""
        return tuple(dict.fromkeys(a for a in (self.sender_account, self.target_account) if a))

    def seen_by(self, account: str, other: str) -> bool:
        e = self.event
        return (self.sender_account == account and fold(e.target) == fold(other)) or (
            self.target_account == account and fold(e.sender) == fold(other)
        )


Stored = ev.RoomEvent | PrivateRecord


@dataclass(slots=True)
class Deliver:
    """Send ``event`` to ``to``; with ``record``, store that first.

    If the record cannot be stored, nobody receives the event, and
    ``sender`` (when there is one) is told instead.
    """

    event: ev.Event
    to: tuple[Member, ...]
    record: Stored | None = None
    sender: Member | None = None


@dataclass(slots=True)
class FetchHistory:
    """Read a page of ``room``'s history, at this point in the order, for ``to``.

    The events below ``before``: with ``after``, the first ``limit`` after
    it; otherwise the last ``limit`` messages. ``quiet``: nothing is sent
    when there is none (the replay on joining a room). A quiet fetch with no
    ``after`` reads what the room said before ``before``, which is the same
    for every newcomer until someone speaks: the pump may share it.
    """

    room: str
    to: Member
    limit: int
    before: int
    after: int | None = None
    quiet: bool = False


@dataclass(slots=True)
class FetchPrivate:
    """Read the last ``limit`` private messages between ``account`` and ``other``."""

    account: str
    other: str
    to: Member
    limit: int


@dataclass(frozen=True, slots=True)
class RoomSettings:
    """What a room with an owner keeps while empty and across restarts."""

    owner: str  # an account
    topic: str = ""
    topic_by: str | None = None
    topic_time: datetime | None = None
    modes: str = "t"  # the letters set, of "imt"
    bans: tuple[str, ...] = ()


def settings_json(settings: RoomSettings) -> str:
    """A room's settings as a durable store keeps them (snapshots too)."""
    s = settings
    time = None if s.topic_time is None else jsonl.iso_time(s.topic_time)
    return json.dumps([s.owner, s.topic, s.topic_by, time, s.modes, list(s.bans)])


def settings_from_json(text: str) -> RoomSettings:
    owner, topic, by, time, modes, bans = json.loads(text)
    when = None if time is None else datetime.fromisoformat(time)
    return RoomSettings(str(owner), str(topic), by and str(by), when, str(modes), tuple(bans))


@dataclass(slots=True)
class SaveRoom:
    """Keep ``settings`` as ``room``'s, in place of what was kept; stored in
    order with the events of the batch."""

    room: str
    settings: RoomSettings


@dataclass(slots=True)
class Close:
    """``member``'s connection ends, once what was delivered to it is sent."""

    member: Member
    reason: str


Effect = Deliver | FetchHistory | FetchPrivate | Close | SaveRoom
