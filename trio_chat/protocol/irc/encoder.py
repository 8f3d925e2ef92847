"""The chat's events as IRC lines, for one client.

What goes to a whole room (messages, joins, parts, renames, moderation) is
written the same for every client with the same capabilities that change its
lines (server-time, message-tags): encoders compare equal by those, so the
outbox encodes a broadcast once for all the clients that share them. What
goes to this client alone (numerics) names it and reads its connection's state.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups, notices, presence
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.errors import Code
from trio_chat.protocol.irc import numerics as rpl
from trio_chat.protocol.irc.commands import ISON
from trio_chat.protocol.irc.message import MAX_BODY, line
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.protocol.irc.connection import IrcServerConnection

QUIT_PREFIX = "quit: "
PART_PREFIX = "part: "


def parted(reason: str) -> bool:
    """Whether a Left with ``reason`` is a part (else the member quit or was lost)."""
    return reason == "part" or reason.startswith(PART_PREFIX)


_batches = itertools.count(1)
ISUPPORT_PER_LINE = 12


def stamp(time: datetime) -> str:
    """server-time's format: UTC, milliseconds, Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time.microsecond // 1000:03d}Z"


def split_text(text: str, room: int) -> list[str]:
    """``text`` in pieces of at most ``room`` bytes of UTF-8, cut between characters."""
    data = text.encode()
    if len(data) <= room:
        return [text]
    pieces = []
    while data:
        cut = min(room, len(data))
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # inside a character
            cut -= 1
        pieces.append(data[:cut].decode())
        data = data[cut:]
    return pieces


@dataclass(frozen=True, slots=True)
class Lines(ev.Event):
    """Lines a connection answers with itself, ready to send."""

    data: bytes


class IrcEncoder:
    """Calling it writes an event as the lines its connection's client reads."""

    __slots__ = ("conn",)

    def __init__(self, conn: IrcServerConnection) -> None:
        self.conn = conn

    @property
    def flavour(self) -> tuple[bool, bool]:
        caps = self.conn.caps
        return "server-time" in caps, "message-tags" in caps

    def __hash__(self) -> int:
        return hash(self.flavour)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IrcEncoder) and other.flavour == self.flavour

    # ------------------------------------------------------------ broadcasts

    def _tags(self, time: datetime, msgid: str | None = None, batch: str | None = None) -> str:
        timed, tagged = self.flavour
        parts = [f"time={stamp(time)}"] if timed else []
        if tagged and msgid:
            parts.append(f"msgid={msgid}")
        if batch:
            parts.append(f"batch={batch}")
        return ";".join(parts)

    def _said(
        self, e: ev.Message | ev.Action, *, replayed: bool = False, batch: str | None = None
    ) -> bytes:
        tags = self._tags(e.time, f"{fold(e.room)[1:]}/{e.seq}", batch)
        text = e.text
        if replayed and not self.flavour[0]:
            text = f"[{e.time:%H:%M}] {text}"
        command = "NOTICE" if isinstance(e, notices.NoticeMessage) else "PRIVMSG"
        action = isinstance(e, ev.Action)
        return _said(command, rpl.hostmask(e.nick), e.room, text, tags=tags, action=action)

    def __call__(self, e: ev.Event) -> bytes:
        kind = type(e)
        if kind is ev.Message or kind is ev.Action or kind is notices.NoticeMessage:
            return self._said(e)  # type: ignore[arg-type]
        match e:
            case ev.Joined(room=room, nick=nick):
                return line("JOIN", room, source=rpl.hostmask(nick), tags=self._tags(e.time))
            case ev.Left(room=room, nick=nick, reason=reason):
                tags = self._tags(e.time)
                if parted(reason):
                    given = reason.removeprefix(PART_PREFIX) if reason != "part" else ""
                    parting = [room, given] if given else [room]
                    return line("PART", *parting, source=rpl.hostmask(nick), tags=tags)
                said = reason.removeprefix(QUIT_PREFIX) if reason != "quit" else ""
                quit_text = (
                    (f"Quit: {said}" if said else "Quit") if reason.startswith("quit") else reason
                )
                return line("QUIT", quit_text, source=rpl.hostmask(nick), tags=tags)
            case ev.NickChanged(old=old, new=new):
                return line("NICK", new, source=rpl.hostmask(old), tags=self._tags(e.time))
            case mod.TopicChanged(room=room, nick=nick, topic=topic):
                source = rpl.hostmask(nick) if nick else self.conn.server
                return line("TOPIC", room, topic, source=source, tags=self._tags(e.time))
            case mod.Kicked(room=room, nick=nick, target=target, reason=reason):
                source = rpl.hostmask(nick) if nick else self.conn.server
                tags = self._tags(e.time)
                return line("KICK", room, target, reason or nick, source=source, tags=tags)
            case mod.ModeChanged(room=room, nick=nick, mode=mode, target=target):
                source = rpl.hostmask(nick) if nick else self.conn.server
                changed = [room, mode, target] if target else [room, mode]
                return line("MODE", *changed, source=source, tags=self._tags(e.time))
            case ev.Private(sender=sender, target=target, text=text):
                command = "NOTICE" if isinstance(e, notices.PrivateNotice) else "PRIVMSG"
                tags = self._tags(e.time)
                return _said(command, rpl.hostmask(sender), target, text, tags=tags)
        return self._personal(e)

    # -------------------------------------------------- this client's alone

    def _n(self, numeric: str, *params: str) -> bytes:
        return line(numeric, self.conn.target, *params, source=self.conn.server)

    def _personal(self, e: ev.Event) -> bytes:
        conn = self.conn
        match e:
            case Lines(data=data):
                return data
            case ev.Welcome():
                return self._welcome(e)
            case ev.Members(room=room, nicks=nicks, topic=topic, ops=ops, voiced=voiced):
                names = self._names(room, nicks, ops, voiced)
                if self._asked(room, _LISTED) == "names":
                    return names
                conn.joined.add(fold(room))
                joined = line("JOIN", room, source=rpl.hostmask(conn.nick), tags=self._tags(e.time))
                top = self._n(rpl.RPL_TOPIC, room, topic) if topic else b""
                return joined + top + names
            case ev.Error():
                return self._error(e)
            case ev.History(room=room, events=past):
                return self._replay(room, past, asked=self._asked(room, _HISTORY) is not None)
            case ev.Notice(text=text):
                return line("NOTICE", conn.target, text, source=self.conn.server)
            case ev.Bye(reason=reason):
                return line("ERROR", f"Closing link: {reason}")
            case ev.ServerPing(token=token):
                return line("PING", token or self.conn.server)
            case ev.ServerPong(token=token):
                return line("PONG", self.conn.server, token, source=self.conn.server)
            case ev.Rooms(rooms=rooms):
                out = [self._n(rpl.RPL_LISTSTART, "Channel", "Users  Name")]
                out += [self._n(rpl.RPL_LIST, r.name, str(r.members), "") for r in rooms]
                return b"".join([*out, self._n(rpl.RPL_LISTEND, "End of /LIST")])
            case lookups.WhoisReply():
                return self._whois(e)
            case lookups.Found():
                return self._found(e)
            case lookups.Online(nicks=nicks):
                if self._asked(ISON, _ONLINE) == "userhost":
                    text = " ".join(f"{n}=+{n}@{rpl.HOST}" for n in nicks)
                    return self._n(rpl.RPL_USERHOST, text)
                return self._n(rpl.RPL_ISON, " ".join(nicks))
            case lookups.UserCount(users=users, rooms=rooms):
                return self._lusers(users, rooms)
            case mod.RoomState():
                return self._room_state(e)
            case presence.AwayStatus(text=text):
                if text:
                    return self._n(rpl.RPL_NOWAWAY, "You have been marked as being away")
                return self._n(rpl.RPL_UNAWAY, "You are no longer marked as being away")
            case presence.Away(nick=nick, text=text):
                return self._n(rpl.RPL_AWAY, nick, text)
            case presence.OperatorStatus():
                return self._n(rpl.RPL_YOUREOPER, "You are now an IRC operator")
            case mod.Invited(room=room, nick=nick):
                return line("INVITE", conn.target, room, source=rpl.hostmask(nick))
            case ev.Help(commands=commands):
                return b"".join(
                    line("NOTICE", conn.target, c, source=self.conn.server) for c in commands
                )
            case ev.PrivateHistory(events=past):
                return b"".join(self(p) for p in past)
        return b""

    def _asked(self, subject: str, kinds: frozenset[str]) -> str | None:
        """The oldest question about ``subject`` still unanswered among
        ``kinds`` (those this answer may answer): it is answered now.

        Answers come in the order of the questions, so the oldest such is
        this one's; a question the chat never answers cannot hold others up.
        """
        asked = self.conn.asked.get(fold(subject))
        if not asked:
            return None
        for i, kind in enumerate(asked):
            if kind in kinds:
                del asked[i]
                if not asked:
                    del self.conn.asked[fold(subject)]
                return kind
        return None

    def _welcome(self, e: ev.Welcome) -> bytes:
        conn = self.conn
        conn.nick = e.nick
        n = self._n
        who = "" if fold(e.nick) != conn.account else f" (logged in as {e.nick})"
        tokens = (*rpl.ISUPPORT, f"CHATHISTORY={conn.history_page}", "MSGREFTYPES=msgid")
        out = [
            n(rpl.RPL_WELCOME, f"Welcome to the trio-chat IRC network, {e.nick}{who}"),
            n(rpl.RPL_YOURHOST, f"Your host is {conn.server}, running version {rpl.VERSION}"),
            n(rpl.RPL_CREATED, "This server was created when it last started"),
            n(rpl.RPL_MYINFO, conn.server, rpl.VERSION, "i", "bimnotv", "bov"),
            *(
                n(
                    rpl.RPL_ISUPPORT,
                    *tokens[i : i + ISUPPORT_PER_LINE],
                    "are supported by this server",
                )
                for i in range(0, len(tokens), ISUPPORT_PER_LINE)
            ),
            self._lusers(e.online, None),
            n(rpl.ERR_NOMOTD, "MOTD File is missing"),
        ]
        if not e.room:  # entered in no room (--no-irc-lobby)
            return b"".join(out)
        conn.joined.add(fold(e.room))
        joined = line("JOIN", e.room, source=rpl.hostmask(e.nick), tags=self._tags(e.time))
        top = n(rpl.RPL_TOPIC, e.room, e.topic) if e.topic else b""
        return b"".join([*out, joined, top, self._names(e.room, e.members, e.ops, e.voiced)])

    def _lusers(self, users: int, rooms: int | None) -> bytes:
        n = self._n
        return b"".join(
            [
                n(rpl.RPL_LUSERCLIENT, f"There are {users} users and 0 invisible on 1 servers"),
                n(rpl.RPL_LUSERCHANNELS, str(rooms), "channels formed")
                if rooms is not None
                else b"",
                n(rpl.RPL_LUSERME, f"I have {users} clients and 1 servers"),
                n(rpl.RPL_LOCALUSERS, f"Current local users: {users}"),
                n(rpl.RPL_GLOBALUSERS, f"Current global users: {users}"),
            ]
        )

    def _names(
        self, room: str, nicks: tuple[str, ...], ops: tuple[str, ...], voiced: tuple[str, ...]
    ) -> bytes:
        marked = [_prefix(nick, ops, voiced) + nick for nick in nicks]
        head = len(f":{self.conn.server} 353 {self.conn.target} = {room} :".encode())
        out: list[bytes] = []
        chunk: list[str] = []
        size = head
        for name in marked:
            if chunk and size + len(name) + 1 > MAX_BODY - 2:
                out.append(self._n(rpl.RPL_NAMREPLY, "=", room, " ".join(chunk)))
                chunk, size = [], head
            chunk.append(name)
            size += len(name) + 1
        if chunk:
            out.append(self._n(rpl.RPL_NAMREPLY, "=", room, " ".join(chunk)))
        out.append(self._n(rpl.RPL_ENDOFNAMES, room, "End of /NAMES list"))
        return b"".join(out)

    def _found(self, e: lookups.Found) -> bytes:
        rows = zip(e.nicks, e.users, e.realnames, e.rooms, strict=True)
        away, opers = set(e.away), set(e.operators)
        out = [
            self._who_line(
                room, nick, user, realname, ("G" if nick in away else "H") + "*" * (nick in opers)
            )
            for nick, user, realname, room in rows
        ]
        return b"".join([*out, self._n(rpl.RPL_ENDOFWHO, e.mask, "End of WHO list")])

    def _who_line(self, room: str, nick: str, user: str, realname: str, flags: str) -> bytes:
        return self._n(
            rpl.RPL_WHOREPLY, room, user, rpl.HOST, self.conn.server, nick, flags, f"0 {realname}"
        )

    def _whois(self, e: lookups.WhoisReply) -> bytes:
        self._asked(e.nick, _WHOIS)
        n = self._n
        out = [n(rpl.RPL_WHOISUSER, e.nick, e.user, rpl.HOST, "*", e.realname)]
        if e.away:
            out.append(n(rpl.RPL_AWAY, e.nick, e.away))
        if e.operator:
            out.append(n(rpl.RPL_WHOISOPERATOR, e.nick, "is an IRC operator"))
        if e.rooms:
            out.append(n(rpl.RPL_WHOISCHANNELS, e.nick, " ".join(e.rooms)))
        out.append(n(rpl.RPL_WHOISSERVER, e.nick, self.conn.server, "trio-chat"))
        if e.account:
            out.append(n(rpl.RPL_WHOISACCOUNT, e.nick, e.account, "is logged in as"))
        out.append(n(rpl.RPL_ENDOFWHOIS, e.nick, "End of /WHOIS list"))
        return b"".join(out)

    def _room_state(self, e: mod.RoomState) -> bytes:
        asked = self._asked(e.room, _STATE)
        n = self._n
        if asked == "topic":
            if not e.topic:
                return n(rpl.RPL_NOTOPIC, e.room, "No topic is set")
            out = n(rpl.RPL_TOPIC, e.room, e.topic)
            if e.topic_by and e.topic_time:
                setter = e.topic_by
                out += n(rpl.RPL_TOPICWHOTIME, e.room, setter, str(int(e.topic_time.timestamp())))
            return out
        if asked == "bans":
            bans = b"".join(n(rpl.RPL_BANLIST, e.room, mask) for mask in e.bans)
            return bans + n(rpl.RPL_ENDOFBANLIST, e.room, "End of channel ban list")
        return n(rpl.RPL_CHANNELMODEIS, e.room, f"+{e.modes}")

    def _error(self, e: ev.Error) -> bytes:
        conn = self.conn
        n = self._n
        subject = e.subject
        if conn.sasl_busy and e.code in (Code.BAD_PASSWORD, Code.TOO_MANY_ATTEMPTS):
            conn.sasl_failed()
            return n(rpl.ERR_SASLFAIL, f"SASL authentication failed: {e.message}")
        if subject is None:
            numeric = rpl.ERRORS.get(e.code)
            if numeric is None:
                return line("NOTICE", conn.target, e.message, source=self.conn.server)
            return n(numeric, e.message)
        asked = self._asked(subject, _FAILED.get(e.code, frozenset()))
        if e.code == Code.NO_SUCH_NICK:
            if asked is None and fold(subject) in conn.quiet:
                conn.quiet.discard(fold(subject))
                return b""
            out = n(rpl.ERR_NOSUCHNICK, subject, "No such nick/channel")
            if asked == "whois":
                out += n(rpl.RPL_ENDOFWHOIS, subject, "End of /WHOIS list")
            return out
        if asked == "names":
            return n(rpl.RPL_ENDOFNAMES, subject, "End of /NAMES list")
        if asked == "history":
            text = "Messages could not be retrieved"
            return line("FAIL", "CHATHISTORY", "INVALID_TARGET", subject, text, source=conn.server)
        if asked == "join":
            conn.joined.discard(fold(subject))
        numeric = rpl.ERRORS.get(e.code)
        if e.code == Code.NOT_IN_ROOM and asked in ("topic", "mode", "bans"):
            numeric = rpl.ERR_NOSUCHCHANNEL
        if numeric is None:
            return line("NOTICE", conn.target, e.message, source=self.conn.server)
        return n(numeric, subject, e.message)

    def _replay(self, room: str, past: tuple[ev.RoomEvent, ...], *, asked: bool) -> bytes:
        """Messages of ``room`` from before: replayed on joining, or ``asked``
        for (CHATHISTORY, whose answer is a batch even when empty)."""
        said = [p for p in past if isinstance(p, ev.Message | ev.Action)]
        if not said and not asked:
            return b""
        if "batch" not in self.conn.caps:
            return b"".join(self._said(p, replayed=True) for p in said)
        ref = f"h{next(_batches)}"
        start = line("BATCH", f"+{ref}", "chathistory", room, source=self.conn.server)
        body = b"".join(self._said(p, replayed=True, batch=ref) for p in said)
        return start + body + line("BATCH", f"-{ref}", source=self.conn.server)


# Which questions (see IrcServerConnection.asked) each answer may answer.
_LISTED = frozenset({"join", "names"})
_STATE = frozenset({"topic", "mode", "bans"})
_WHOIS = frozenset({"whois"})
_ONLINE = frozenset({"ison", "userhost"})
_HISTORY = frozenset({"history"})
_FAILED: dict[str, frozenset[str]] = {
    Code.NOT_IN_ROOM: frozenset({"names", "topic", "mode", "bans", "history"}),
    Code.ROOM_INVALID: frozenset({"join", "names", "topic", "mode", "bans"}),
    Code.TOO_MANY_ROOMS: frozenset({"join"}),
    Code.BANNED: frozenset({"join"}),
    Code.INVITE_ONLY: frozenset({"join"}),
    Code.NOT_OPERATOR: _STATE,
    Code.NO_SUCH_NICK: _WHOIS,
}


def _prefix(nick: str, ops: tuple[str, ...], voiced: tuple[str, ...]) -> str:
    return "@" if nick in ops else "+" if nick in voiced else ""


def _said(
    command: str, source: str, target: str, text: str, *, tags: str, action: bool = False
) -> bytes:
    head = len(f":{source} {command} {target} :".encode()) + (9 if action else 0)
    pieces = split_text(text, MAX_BODY - 2 - head)
    if action:
        pieces = [f"\x01ACTION {p}\x01" for p in pieces]
    return b"".join(line(command, target, p, source=source, tags=tags) for p in pieces)
