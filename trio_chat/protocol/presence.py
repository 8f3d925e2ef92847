"""Presence on the wire: being away, and becoming a server operator.

A member may mark itself away with a text; whoever sends it a private message
is told that text (``Away``), and IRC's WHO and WHOIS show it; whoever
shares a room with it is told when it goes away or comes back
(``AwayChanged``, IRC's away-notify). A member may
also prove the password of an account named a server operator (``--operator``)
and hold that power for the rest of its connection. These classes register
themselves with the codecs as ``events`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trio_chat.protocol.events import Event, Request

AWAY_MAX = 300  # characters of an away text kept (IRC's AWAYLEN)


@dataclass(frozen=True, slots=True)
class SetAway(Request):
    """Mark oneself away with ``text``; "" marks one back."""

    TYPE: ClassVar[str] = "away"
    text: str = ""


@dataclass(frozen=True, slots=True)
class Oper(Request):
    """Become a server operator: ``name`` is an account named by the
    server's ``--operator``, ``password`` its password."""

    TYPE: ClassVar[str] = "oper"
    name: str
    password: str


@dataclass(frozen=True, slots=True)
class AwayStatus(Event):
    """The answer to SetAway: the asker's away text now ("": back)."""

    TYPE: ClassVar[str] = "away_status"
    text: str


@dataclass(frozen=True, slots=True)
class Away(Event):
    """``nick``, to whom the asker sent a private message, is away."""

    TYPE: ClassVar[str] = "away"
    nick: str
    text: str


@dataclass(frozen=True, slots=True)
class AwayChanged(Event):
    """``nick``, who shares a room with the receiver, went away with ``text``
    ("": came back), or joined a room while away. Neither stored nor numbered."""

    TYPE: ClassVar[str] = "away_changed"
    nick: str
    text: str


@dataclass(frozen=True, slots=True)
class OperatorStatus(Event):
    """The asker is a server operator now, as ``name``."""

    TYPE: ClassVar[str] = "operator"
    name: str


SECRETS: frozenset[tuple[type[object], str]] = frozenset({(Oper, "password")})
