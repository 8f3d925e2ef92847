"""Room moderation on the wire: the requests of room operators, and what they cause.

A room has a topic, operators, voiced members, bans and these modes: ``i``
(invite-only: only the invited, and operators, may join), ``m``
(moderated: only operators and voiced members may speak), ``t`` (only
operators set the topic; set on new rooms) and ``n`` (only members speak:
always set). These classes
register themselves with the codecs as ``events`` does (see ``registering``);
importing the ``trio_chat.protocol`` package is enough to have them known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from trio_chat.protocol.events import Event, Request, RoomEvent

# A change a SetMode makes, and the one a ModeChanged announces: a sign and a
# letter, "+o" and "-b" needing a target (a nickname, or a ban mask for b).
MODES_WITH_TARGET = frozenset({"+o", "-o", "+v", "-v", "+b", "-b"})
MODES = MODES_WITH_TARGET | {"+i", "-i", "+m", "-m", "+t", "-t", "+n", "-n"}

# The bytes of UTF-8 a topic keeps (IRC's TOPICLEN): a longer one is cut, as
# IRC servers do, so that it fits the line that tells it to an IRC client.
TOPIC_MAX = 390

# ----------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class SetTopic(Request):
    """Set the topic of ``room`` (the current one when None) to ``text``
    ("" clears it); with ``text`` None, ask what it is (a RoomState answers)."""

    TYPE: ClassVar[str] = "topic"
    text: str | None = None
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Kick(Request):
    """An operator removes ``nick`` from ``room``; ``reason`` is shown to all."""

    TYPE: ClassVar[str] = "kick"
    nick: str
    room: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetMode(Request):
    """Change one mode of ``room`` (one of MODES); with ``mode`` None, ask for
    the room's state (a RoomState answers, bans included for operators).

    ``target`` is a nickname for ``o`` and ``v``; for ``b`` a nickname (the
    server bans that member's account, or a guest's address) or a mask:
    ``nick!user@host`` with ``*`` and ``?``, or ``$a:ACCOUNT``.
    """

    TYPE: ClassVar[str] = "mode"
    mode: str | None = None
    target: str | None = None
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Invite(Request):
    """Let ``nick`` join ``room`` (the current one when None) while it is invite-only."""

    TYPE: ClassVar[str] = "invite"
    nick: str
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Disconnect(Request):
    """A server operator ends ``nick``'s connection (IRC's KILL)."""

    TYPE: ClassVar[str] = "disconnect"
    nick: str
    reason: str = ""


# ------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class TopicChanged(RoomEvent):
    """``nick`` set the topic ("" when cleared)."""

    TYPE: ClassVar[str] = "topic"
    nick: str
    topic: str


@dataclass(frozen=True, slots=True)
class Kicked(RoomEvent):
    """``nick`` removed ``target`` from the room; the last event ``target`` gets of it."""

    TYPE: ClassVar[str] = "kicked"
    nick: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class ModeChanged(RoomEvent):
    """``nick`` made one change of MODES; ``nick`` is "" when the server did
    (an owner given operator status on joining)."""

    TYPE: ClassVar[str] = "mode"
    nick: str
    mode: str
    target: str | None = None


@dataclass(frozen=True, slots=True)
class Invited(Event):
    """To the one invited: ``nick`` invites you to ``room``."""

    TYPE: ClassVar[str] = "invited"
    room: str
    nick: str


@dataclass(frozen=True, slots=True)
class RoomState(Event):
    """A room's settings, in answer to SetTopic or SetMode asking for them.

    ``modes`` holds the letters set, sorted ("imnt"; ``n`` always); ``bans`` is shown to
    the room's operators only (empty for others); ``created``: when this
    server made the room (again, for an owned room after a restart).
    """

    TYPE: ClassVar[str] = "room"
    room: str
    topic: str
    topic_by: str | None
    topic_time: datetime | None
    modes: str
    owner: str | None
    ops: tuple[str, ...]
    voiced: tuple[str, ...]
    bans: tuple[str, ...]
    created: datetime | None = None
