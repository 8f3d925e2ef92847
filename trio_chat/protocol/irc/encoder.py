"""The chat's events as IRC lines, for one client.

What goes to a whole room (messages, joins, parts, renames, moderation) is
written the same for every client with the same capabilities that change its
lines (server-time, message-tags, account-tag): encoders compare equal by
those, so the outbox encodes a broadcast once for all the clients that share
them. Events name members by nickname only; their ``nick!user@host`` and
account are looked up in the chat (the connection's ``identities``) as the
line is written. What goes to this client alone (numerics) names it and reads
its connection's state.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups, notices, presence
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.irc import failures as asks
from trio_chat.protocol.irc import numerics as rpl
from trio_chat.protocol.irc.commands import INVITING, ISON
from trio_chat.protocol.irc.message import MAX_BODY, line, said_lines, stamp
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.protocol.irc.connection import IrcServerConnection

QUIT_PREFIX = "quit: "
INVITED = "you invited "  # the chat's word to the inviter: "you invited NICK to ROOM"
PART_PREFIX = "part: "


def parted(reason: str) -> bool:
    """Whether a Left with ``reason`` is a part (else the member quit or was lost)."""
    return reason == "part" or reason.startswith(PART_PREFIX)


_batches = itertools.count(1)
ISUPPORT_PER_LINE = 12


@dataclass(frozen=True, slots=True)
class Lines(ev.Event):
    """Lines a connection answers with itself, ready to send."""

    data: bytes


class IrcEncoder:
    """Calling it writes an event as the lines its connection's client reads."""

    __slots__ = ("_hash", "conn", "flavour")

    def __init__(self, conn: IrcServerConnection) -> None:
        self.conn = conn
        self.caps_changed()

    def caps_changed(self) -> None:
        """Take up the connection's capabilities (the key of shared encodings)."""
        caps = self.conn.caps
        self.flavour = (
            "server-time" in caps,
            "message-tags" in caps,
            "account-tag" in caps,
            "away-notify" in caps,
        )
        self._hash = hash(self.flavour)

    # Asked of every member of every run: kept cheap.
    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (type(other) is IrcEncoder and other.flavour == self.flavour)

    # ------------------------------------------------------------ broadcasts

    def _who(self, nick: str) -> tuple[str, str | None]:
        """``nick``'s source prefix, and its account, as the chat knows them now."""
        identity = self.conn.identities(nick)
        return rpl.hostmask(nick, identity), identity.account if identity else None

    def _tags(
        self,
        time: datetime,
        msgid: str | None = None,
        batch: str | None = None,
        account: str | None = None,
    ) -> str:
        timed, tagged, accounts, _ = self.flavour
        parts = [f"time={stamp(time)}"] if timed else []
        if tagged and msgid:
            parts.append(f"msgid={msgid}")
        if accounts and account:
            parts.append(f"account={account}")
        if batch:
            parts.append(f"batch={batch}")
        return ";".join(parts)

    def _by(self, command: str, nick: str, time: datetime, *params: str) -> bytes:
        """A line from member ``nick``; the server's own when ``nick`` is ""."""
        if not nick:
            return line(command, *params, source=self.conn.server, tags=self._tags(time))
        source, account = self._who(nick)
        return line(command, *params, source=source, tags=self._tags(time, account=account))

    def _said(
        self, e: ev.Message | ev.Action, *, replayed: bool = False, batch: str | None = None
    ) -> bytes:
        source, account = self._who(e.nick)
        msgid = f"{fold(e.room)[1:]}/{e.seq}" if self.flavour[1] else None
        tags = self._tags(e.time, msgid, batch, account)
        text = e.text
        if replayed and not self.flavour[0]:
            text = f"[{e.time:%H:%M}] {text}"
        command = "NOTICE" if isinstance(e, notices.NoticeMessage) else "PRIVMSG"
        action = isinstance(e, ev.Action)
        return said_lines(command, source, e.room, text, tags=tags, action=action)

    def __call__(self, e: ev.Event) -> bytes:
        kind = type(e)
        if kind is ev.Message or kind is ev.Action or kind is notices.NoticeMessage:
            return self._said(e)  # type: ignore[arg-type]
        match e:
            case ev.Joined(room=room, nick=nick):
                return self._by("JOIN", nick, e.time, room)
            case ev.Left(room=room, nick=nick, reason=reason):
                if parted(reason):
                    given = reason.removeprefix(PART_PREFIX) if reason != "part" else ""
                    return self._by("PART", nick, e.time, *([room, given] if given else [room]))
                said = reason.removeprefix(QUIT_PREFIX) if reason != "quit" else ""
                quit_text = (
                    (f"Quit: {said}" if said else "Quit") if reason.startswith("quit") else reason
                )
                return self._by("QUIT", nick, e.time, quit_text)
            case ev.NickChanged(old=old, new=new):
                # looked up by the new nickname: the chat knows the member by it now
                identity = self.conn.identities(new)
                source = rpl.hostmask(old, identity)
                account = identity.account if identity else None
                return line("NICK", new, source=source, tags=self._tags(e.time, account=account))
            case mod.TopicChanged(room=room, nick=nick, topic=topic):
                return self._by("TOPIC", nick, e.time, room, topic)
            case mod.Kicked(room=room, nick=nick, target=target, reason=reason):
                return self._by("KICK", nick, e.time, room, target, reason or nick)
            case mod.ModeChanged(room=room, nick=nick, mode=mode, target=target):
                return self._by(
                    "MODE", nick, e.time, *([room, mode, target] if target else [room, mode])
                )
            case ev.Private(sender=sender, target=target, text=text):
                command = "NOTICE" if isinstance(e, notices.PrivateNotice) else "PRIVMSG"
                source, account = self._who(sender)
                tags = self._tags(e.time, account=account)
                return said_lines(command, source, target, text, tags=tags)
        return self._personal(e)

    # -------------------------------------------------- this client's alone

    def numeric(self, number: str, *params: str) -> bytes:
        """A numeric reply to this client."""
        return line(number, self.conn.target, *params, source=self.conn.server)

    def _personal(self, e: ev.Event) -> bytes:
        conn = self.conn
        match e:
            case Lines(data=data):
                return data
            case ev.Welcome():
                return self._welcome(e)
            case ev.Members(room=room, nicks=nicks, ops=ops, voiced=voiced):
                names = self._names(room, nicks, ops, voiced)
                if self.answering(room, asks.LISTED) == "names":
                    return names
                conn.joined.add(fold(room))
                joined = self._by("JOIN", conn.nick, e.time, room)
                return joined + self._topic(room, e.topic, e.topic_by, e.topic_time) + names
            case ev.Error():
                return asks.error_lines(self, e)
            case ev.History(room=room, events=past):
                return self._replay(
                    room, past, asked=self.answering(room, asks.HISTORY) is not None
                )
            case ev.Notice(text=text):
                if invited := self._inviting(text):
                    return self.numeric(rpl.RPL_INVITING, *invited)
                return line("NOTICE", conn.target, text, source=self.conn.server)
            case ev.Bye(reason=reason):
                return line("ERROR", f"Closing link: {reason}")
            case ev.ServerPing(token=token):
                return line("PING", token or self.conn.server)
            case ev.ServerPong(token=token):
                return line("PONG", self.conn.server, token, source=self.conn.server)
            case ev.Rooms(rooms=rooms):
                out = [self.numeric(rpl.RPL_LISTSTART, "Channel", "Users  Name")]
                out += [self.numeric(rpl.RPL_LIST, r.name, str(r.members), "") for r in rooms]
                return b"".join([*out, self.numeric(rpl.RPL_LISTEND, "End of /LIST")])
            case lookups.WhoisReply():
                return self._whois(e)
            case lookups.Found():
                return self._found(e)
            case lookups.Online(nicks=nicks):
                if self.answering(ISON, asks.ONLINE) == "userhost":
                    masks = (rpl.hostmask(n, conn.identities(n)) for n in nicks)
                    text = " ".join(mask.replace("!", "=+", 1) for mask in masks)
                    return self.numeric(rpl.RPL_USERHOST, text)
                return self.numeric(rpl.RPL_ISON, " ".join(nicks))
            case lookups.UserCount(users=users, rooms=rooms):
                return self._lusers(users, rooms)
            case mod.RoomState():
                return self._room_state(e)
            case presence.AwayStatus(text=text):
                if text:
                    return self.numeric(rpl.RPL_NOWAWAY, "You have been marked as being away")
                return self.numeric(rpl.RPL_UNAWAY, "You are no longer marked as being away")
            case presence.Away(nick=nick, text=text):
                return self.numeric(rpl.RPL_AWAY, nick, text)
            case presence.AwayChanged(nick=nick, text=text):
                if not self.flavour[3]:  # away-notify
                    return b""
                return self._by("AWAY", nick, e.time, *([text] if text else []))
            case presence.OperatorStatus():
                return self.numeric(rpl.RPL_YOUREOPER, "You are now an IRC operator")
            case mod.Invited(room=room, nick=nick):
                return self._by("INVITE", nick, e.time, conn.target, room)
            case ev.Help(commands=commands):
                return b"".join(
                    line("NOTICE", conn.target, c, source=self.conn.server) for c in commands
                )
            case ev.PrivateHistory(events=past):
                return b"".join(self(p) for p in past)
        return b""

    def answering(self, subject: str, kinds: frozenset[str]) -> str | None:
        """The oldest question about ``subject`` still unanswered among
        ``kinds`` (those this answer may answer): it is answered now.

        Answers come in the order of the questions, so the oldest such is
        this one's; a question the chat never answers cannot hold others up.
        """
        return self.conn.take(subject, kinds.__contains__)

    def _inviting(self, text: str) -> tuple[str, str] | None:
        """The nickname and room of the chat's word that an INVITE this
        client sent was carried out, which IRC answers with 341."""
        nick, _, room = text.removeprefix(INVITED).partition(" to ")
        if not text.startswith(INVITED) or not self.conn.answered(nick, INVITING + room):
            return None
        self.conn.answered(room, "invite")
        return nick, room

    def _topic(self, room: str, topic: str, by: str | None, time: datetime | None) -> bytes:
        """332 and 333: ``room``'s topic, who set it and when; nothing when none."""
        if not topic:
            return b""
        out = self.numeric(rpl.RPL_TOPIC, room, topic)
        if by and time:
            out += self.numeric(rpl.RPL_TOPICWHOTIME, room, by, str(int(time.timestamp())))
        return out

    def _welcome(self, e: ev.Welcome) -> bytes:
        conn = self.conn
        conn.nick = e.nick
        n = self.numeric
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
        joined = self._by("JOIN", e.nick, e.time, e.room)
        top = self._topic(e.room, e.topic, e.topic_by, e.topic_time)
        return b"".join([*out, joined, top, self._names(e.room, e.members, e.ops, e.voiced)])

    def _lusers(self, users: int, rooms: int | None) -> bytes:
        n = self.numeric
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
                out.append(self.numeric(rpl.RPL_NAMREPLY, "=", room, " ".join(chunk)))
                chunk, size = [], head
            chunk.append(name)
            size += len(name) + 1
        if chunk:
            out.append(self.numeric(rpl.RPL_NAMREPLY, "=", room, " ".join(chunk)))
        out.append(self.numeric(rpl.RPL_ENDOFNAMES, room, "End of /NAMES list"))
        return b"".join(out)

    def _host(self, nick: str) -> str:
        identity = self.conn.identities(nick)
        return identity.host if identity else rpl.HOST

    def _found(self, e: lookups.Found) -> bytes:
        marks = e.marks or ("",) * len(e.nicks)
        away, opers = set(e.away), set(e.operators)

        def flags(nick: str) -> str:
            return ("G" if nick in away else "H") + "*" * (nick in opers)

        rows = zip(e.nicks, e.users, e.realnames, e.rooms, marks, strict=True)
        server = self.conn.server
        out = [
            self.numeric(
                rpl.RPL_WHOREPLY,
                room,
                user,
                self._host(nick),
                server,
                nick,
                flags(nick) + mark,
                f"0 {realname}",
            )
            for nick, user, realname, room, mark in rows
        ]
        return b"".join([*out, self.numeric(rpl.RPL_ENDOFWHO, e.mask, "End of WHO list")])

    def _whois(self, e: lookups.WhoisReply) -> bytes:
        self.answering(e.nick, asks.WHOIS)
        n = self.numeric
        out = [n(rpl.RPL_WHOISUSER, e.nick, e.user, self._host(e.nick), "*", e.realname)]
        if e.away:
            out.append(n(rpl.RPL_AWAY, e.nick, e.away))
        if e.operator:
            out.append(n(rpl.RPL_WHOISOPERATOR, e.nick, "is an IRC operator"))
        if e.rooms:
            marks = e.marks or ("",) * len(e.rooms)
            rooms = " ".join(m + r for m, r in zip(marks, e.rooms, strict=True))
            out.append(n(rpl.RPL_WHOISCHANNELS, e.nick, rooms))
        out.append(n(rpl.RPL_WHOISSERVER, e.nick, self.conn.server, "trio-chat"))
        if e.account:
            out.append(n(rpl.RPL_WHOISACCOUNT, e.nick, e.account, "is logged in as"))
        out.append(n(rpl.RPL_ENDOFWHOIS, e.nick, "End of /WHOIS list"))
        return b"".join(out)

    def _room_state(self, e: mod.RoomState) -> bytes:
        asked = self.answering(e.room, asks.STATE)
        n = self.numeric
        if asked == "topic":
            if not e.topic:
                return n(rpl.RPL_NOTOPIC, e.room, "No topic is set")
            return self._topic(e.room, e.topic, e.topic_by, e.topic_time)
        if asked == "bans":
            bans = b"".join(n(rpl.RPL_BANLIST, e.room, mask) for mask in e.bans)
            return bans + n(rpl.RPL_ENDOFBANLIST, e.room, "End of channel ban list")
        out = n(rpl.RPL_CHANNELMODEIS, e.room, f"+{e.modes}")
        if e.created:
            out += n(rpl.RPL_CREATIONTIME, e.room, str(int(e.created.timestamp())))
        return out

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


def _prefix(nick: str, ops: tuple[str, ...], voiced: tuple[str, ...]) -> str:
    return "@" if nick in ops else "+" if nick in voiced else ""
