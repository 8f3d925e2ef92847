"""Members and rooms: the chat's state, with no behaviour of their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from trio_chat.protocol import events as ev

# What the members a run goes to share, worked out once for all of them: by
# codec, the bytes of the whole run and where each event starts in them; and,
# under a key of its own, what a codec that leaves some events out for some
# clients (IRC) knows of the run's events (see Outbox.put_run).
Encoded = dict[object, Any]


class Mailbox(Protocol):
    """Where the server puts what a member receives (its Outbox)."""

    def put(self, event: ev.Event) -> bool:
        """Queue ``event``; False when it does not fit."""
        ...

    def put_run(self, events: list[ev.Event], encoded: Encoded, start: int = 0) -> bool:
        """Queue ``events[start:]``, of a run that goes to several members;
        ``encoded`` is shared by them. False when they do not fit."""
        ...

    def close(self, reason: str, *, discard: bool = False) -> None:
        """Take nothing more; ``discard``: drop what is queued too."""
        ...


class Nowhere:
    """The mailbox of a member made without one (in the chat's own tests)."""

    def put(self, event: ev.Event) -> bool:
        return True

    def put_run(self, events: list[ev.Event], encoded: Encoded, start: int = 0) -> bool:
        return True

    def close(self, reason: str, *, discard: bool = False) -> None:
        pass


class Elsewhere(Nowhere):
    """The mailbox of a member connected to another server (broker mode):
    it counts for nicknames and rooms, and its own server delivers to it."""


ELSEWHERE = Elsewhere()


class Member:
    """One connection's place in the chat.

    ``mailbox`` is the server's, for delivering to this member: the chat
    never touches it, it only names members in the effects it returns.
    """

    __slots__ = (
        "account",
        "away",
        "hidden",
        "host",
        "key",
        "mailbox",
        "nick",
        "oper",
        "present",
        "realname",
        "rooms",
        "user",
    )

    def __init__(self, mailbox: Mailbox | None = None) -> None:
        self.mailbox: Mailbox = mailbox or Nowhere()
        self.nick = ""
        self.present = False  # has a nickname, and has not left
        self.rooms: dict[str, Room] = {}  # by folded name; the last is current
        self.account: str | None = None  # the registered nickname it proved it owns
        self.key: str | None = None  # of the client's reconnect token: it may take this back
        self.away = ""  # its away text ("": present; see presence.py)
        self.oper = False  # proved the password of a server operator's account
        # For ban masks (nick!user@host) and IRC replies: the server sets them
        # before it enters. ``user`` is an IRC username, or the mode's name.
        self.user = "user"
        self.realname = ""
        self.host = "unknown"  # a cloak of the address: the chat never sees the address
        self.hidden = False  # from lookups by mask (IRC's user mode +i)

    @property
    def current(self) -> Room | None:
        return next(reversed(self.rooms.values()), None)

    def __repr__(self) -> str:
        return f"<Member {self.nick or '-'}>"


class Room:
    """A room's members and numbers, and its moderation (see ``moderation.py``)."""

    __slots__ = (
        "away",
        "bans",
        "chat_seq",
        "created",
        "invited",
        "members",
        "modes",
        "name",
        "ops",
        "owner",
        "recipients",
        "seq",
        "topic",
        "topic_by",
        "topic_time",
        "voiced",
    )

    def __init__(self, name: str, seq: int) -> None:
        self.name = name
        self.seq = seq
        # The number of the last message or action (at most seq): replays of
        # the room's recent messages below it are all the same.
        self.chat_seq = seq
        self.created: datetime | None = None  # when this server made it
        self.members: dict[Member, None] = {}  # an ordered set
        # The members this server delivers to. Rebuilt on every join and
        # part, so an effect holds the room's membership as of its event by
        # keeping a reference, not a copy.
        self.recipients: tuple[Member, ...] = ()
        self.away = 0  # members elsewhere
        self.topic = ""
        self.topic_by: str | None = None
        self.topic_time: datetime | None = None
        self.owner: str | None = None  # an account, whose settings outlive the room
        self.modes = "t"  # the letters set, of "imt"
        self.bans: list[str] = []  # masks, as given
        self.ops: set[Member] = set()
        self.voiced: set[Member] = set()
        self.invited: dict[str, None] = {}  # folded nicknames, oldest first

    def add(self, member: Member) -> None:
        self.members[member] = None
        self.away += member.mailbox is ELSEWHERE
        self._here()

    def remove(self, member: Member) -> None:
        del self.members[member]
        self.ops.discard(member)
        self.voiced.discard(member)
        self.away -= member.mailbox is ELSEWHERE
        self._here()

    def _here(self) -> None:
        members = self.members
        self.recipients = (
            tuple(m for m in members if m.mailbox is not ELSEWHERE) if self.away else tuple(members)
        )

    @property
    def nicks(self) -> tuple[str, ...]:
        return tuple(m.nick for m in self.members)
