"""Questions about who is online, as IRC clients ask them (WHO, WHOIS, ISON,
USERHOST, LUSERS), and their answers. Any mode may ask them; these classes
register themselves with the codecs as ``events`` does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trio_chat.protocol.events import Event, Request


@dataclass(frozen=True, slots=True)
class Whois(Request):
    """About one member."""

    TYPE: ClassVar[str] = "whois"
    nick: str


@dataclass(frozen=True, slots=True)
class Find(Request):
    """Who matches ``mask``: the members of a room ("#room"), or those whose
    nickname matches (``*`` and ``?`` are wildcards)."""

    TYPE: ClassVar[str] = "find"
    mask: str


@dataclass(frozen=True, slots=True)
class Ison(Request):
    """Which of ``nicks`` are online."""

    TYPE: ClassVar[str] = "ison"
    nicks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hide(Request):
    """Be found by a mask only by those who share a room with the asker
    (``hidden``), or by anyone (IRC's user mode +i and -i). A Find of the
    exact nickname finds it either way. Not answered."""

    TYPE: ClassVar[str] = "hide"
    hidden: bool = True


@dataclass(frozen=True, slots=True)
class CountUsers(Request):
    TYPE: ClassVar[str] = "lusers"


@dataclass(frozen=True, slots=True)
class WhoisReply(Event):
    """``nick`` as the chat spells it, its account when identified, its
    rooms, its away text ("": present), whether it is a server operator,
    and its mark in each room ("@" operator, "+" voiced, "" neither)."""

    TYPE: ClassVar[str] = "whois"
    nick: str
    account: str | None
    rooms: tuple[str, ...]
    user: str = ""
    realname: str = ""
    away: str = ""
    operator: bool = False
    marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Found(Event):
    """The answer to Find: ``mask`` as asked, and who matches it: for each,
    its nickname, its username and real name (IRC's USER; others' are their
    nickname), the room it was found in or one of its rooms ("*": none);
    then which of them are away, which are server operators, and the mark
    of each in its room ("@" operator, "+" voiced, "" neither)."""

    TYPE: ClassVar[str] = "found"
    mask: str
    nicks: tuple[str, ...]
    users: tuple[str, ...]
    realnames: tuple[str, ...]
    rooms: tuple[str, ...]
    away: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Online(Event):
    """Those of the nicknames asked about who are online, as the chat spells them."""

    TYPE: ClassVar[str] = "online"
    nicks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UserCount(Event):
    TYPE: ClassVar[str] = "lusers"
    users: int
    rooms: int
