"""One server's copy of the chat, fed from the shared log.

Every server applies every entry of the log, in the log's order, to its own
``Chat``: the same inputs in the same order to the same state machine give
every copy the same nicknames, rooms and sequence numbers, as the servers
of an IRC network each hold the whole network's state. A member connected
elsewhere is a ``Member`` whose mailbox is ``ELSEWHERE``: it counts for
nicknames, ``/who`` and ``/rooms``, and its own server delivers to it.

What a copy returns is what this server must do: every room event is
stored (by every server, which the store makes idempotent, so history
survives any one of them), a private message by its sender's server only,
and only this server's members receive anything from it.

Sans-IO: entries in, effects out; nothing here awaits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from trio_chat.chat import (
    Chat,
    Close,
    Deliver,
    Effect,
    FetchHistory,
    FetchPrivate,
    Member,
    SaveRoom,
)
from trio_chat.chat.rooms import ELSEWHERE
from trio_chat.cluster.entries import Account, Ask, Enter, Entry, Leave, Lost, Operate
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import fold

LOST_REASON = "lost contact with its server"

CHAT = (ev.Message, ev.Action)


class Numbering(Protocol):
    """Where each room's numbering goes on from (a RoomIndex): fed here, in
    the log's order, so that every copy answers alike."""

    def touch(self, room: str, seq: int, chat: bool) -> None: ...

    def overflow(self) -> list[tuple[str, int]]: ...


class Replica:
    def __init__(
        self,
        chat: Chat,
        instance: str,
        numbering: Numbering,
        learn: Callable[[Account], None] = lambda account: None,
    ) -> None:
        self.chat = chat
        self.instance = instance
        self.numbering = numbering
        self.learn = learn  # an account's credential, for Accounts
        self.local: dict[str, Member] = {}  # this server's members, by origin
        self.remote: dict[str, Member] = {}  # everyone else's
        self.position = b"0-0"  # the last entry applied
        self.forgotten: list[str] = []  # rooms whose history is no longer kept (folded)

    def apply(self, entry: Entry) -> list[Effect]:
        """Apply one entry of the log; returns what this server must do."""
        self.position = entry.id
        origin, time = entry.origin, entry.time
        member = self.local.get(origin) or self.remote.get(origin)
        effects: list[Effect] = []
        match entry.command:
            case Enter(nick, identified, resume, key, user, host, lobby):
                if member is None:  # another server's (or ours, whose connection is gone)
                    member = self.remote[origin] = Member(ELSEWHERE)
                member.user, member.host = user, host
                effects = self.chat.enter(
                    member, nick, time, identified=identified, resume=resume, key=key, lobby=lobby
                )
                if not member.present:
                    self.remote.pop(origin, None)
            case Ask(request) if member is not None:
                effects = self.chat.apply(member, request, time)
            case Operate(name) if member is not None:
                effects = self.chat.operate(member, name, time)
            case Leave(reason) if member is not None:
                effects = self._leave(origin, member, reason, entry)
            case Lost(instance):
                prefix = f"{instance}/"
                for gone in [o for o in (*self.local, *self.remote) if o.startswith(prefix)]:
                    member = self.local.get(gone) or self.remote[gone]
                    effects += self._leave(gone, member, LOST_REASON, entry)
            case Account(nick):
                self.learn(entry.command)
                holder = self.chat.members.get(fold(nick))
                if holder is not None and holder.account is None:
                    self.chat.identified(holder)
        return self._here(effects, origin)

    def _leave(self, origin: str, member: Member, reason: str, entry: Entry) -> list[Effect]:
        self.local.pop(origin, None)
        self.remote.pop(origin, None)
        return self.chat.leave(member, reason, entry.time)

    def _here(self, effects: list[Effect], origin: str) -> list[Effect]:
        """What of ``effects`` this server carries out."""
        ours = origin in self.local or origin.startswith(f"{self.instance}/")
        kept: list[Effect] = []
        for effect in effects:
            if isinstance(effect, Deliver):
                record = effect.record
                if isinstance(record, ev.RoomEvent):
                    # stored by every server, so kept even when no one here receives it
                    self.numbering.touch(fold(record.room), record.seq, isinstance(record, CHAT))
                elif all(m.mailbox is ELSEWHERE for m in effect.to):
                    continue
                elif record is not None and not ours:
                    effect = replace(effect, record=None)  # noqa: PLW2901
            elif isinstance(effect, SaveRoom):
                pass  # every copy holds the settings (see RedisStore)
            elif _recipient(effect).mailbox is ELSEWHERE:
                continue
            kept.append(effect)
        self.forgotten += [room for room, _ in self.numbering.overflow()]
        return kept


def _recipient(effect: FetchHistory | FetchPrivate | Close) -> Member:
    return effect.member if isinstance(effect, Close) else effect.to
