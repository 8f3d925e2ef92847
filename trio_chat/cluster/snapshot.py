"""A copy of the chat as of one place in the log, so the log can be trimmed.

A server that joins loads the latest snapshot and applies the log from the
snapshot's place on, instead of the whole log since the first server
started. It holds what the entries before it built up: who is connected to
which server (by origin), each room with its members in order and its
numbers and its moderation (topic, modes, bans, operators, voice,
invitations, when it was made), each member's away text and whether it is
a server operator or hidden from lookups by mask, the saved settings of
owned rooms, where the numbering of rooms goes on, and the registered
nicknames. Nothing else of the chat outlives an entry.

Sans-IO: a replica in, bytes out, and back.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from trio_chat.chat import Member, RoomSettings
from trio_chat.chat.effects import settings_from_json, settings_json
from trio_chat.chat.moderation import restore
from trio_chat.chat.numbering import RoomIndex
from trio_chat.chat.rooms import ELSEWHERE, Room
from trio_chat.cluster.entries import Account
from trio_chat.cluster.replica import Replica
from trio_chat.protocol.jsonl import iso_time
from trio_chat.protocol.rules import fold
from trio_chat.protocol.skeleton import skeleton

VERSION = 2
READS = (1, 2)  # version 1 had no moderation: its rooms have none


class BadSnapshot(ValueError):
    """A snapshot no server of this version wrote."""


def dump(replica: Replica, numbering: RoomIndex, accounts: list[Account]) -> bytes:
    """``replica`` as of its position, with the accounts it has learnt."""
    chat = replica.chat
    origins = {m: o for o, m in (*replica.local.items(), *replica.remote.items())}
    floor, quiet, chatty = numbering.state()
    state = {
        "version": VERSION,
        "position": replica.position.decode(),
        "members": [
            [
                origins[m],
                m.nick,
                m.account,
                m.key,
                [r.name for r in m.rooms.values()],
                m.user,
                m.host,
                m.away,
                m.oper,
                m.hidden,
            ]
            for m in chat.members.values()
        ],
        "rooms": [
            [r.name, r.seq, r.chat_seq, [origins[m] for m in r.members], _moderation(r, origins)]
            for r in chat.rooms.values()
        ],
        "saved": {room: settings_json(s) for room, s in chat.saved.items()},
        "numbering": [floor, quiet, chatty],
        "accounts": [[a.nick, a.salt.hex(), a.hash.hex(), a.n, a.r, a.p] for a in accounts],
    }
    return json.dumps(state, ensure_ascii=False).encode()


def load(data: bytes, replica: Replica, numbering: RoomIndex) -> list[Account]:
    """Make ``replica`` (of a server with no members yet) what ``data`` says;
    returns the registered accounts, for the server's Accounts."""
    try:
        state = json.loads(data)
        if state["version"] not in READS:
            raise BadSnapshot(f"snapshot version {state['version']!r}")
        return _load(state, replica, numbering)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadSnapshot(f"snapshot: {exc!r}") from None


def _load(state: dict[str, Any], replica: Replica, numbering: RoomIndex) -> list[Account]:
    chat = replica.chat
    members: dict[str, Member] = {}
    for origin, nick, account, key, _, *mask in state["members"]:
        member = members[str(origin)] = Member(ELSEWHERE)
        member.nick, member.present = str(nick), True
        member.account, member.key = account and str(account), key and str(key)
        if mask:
            member.user, member.host = str(mask[0]), str(mask[1])
        if len(mask) > 2:
            member.away, member.oper = str(mask[2]), mask[3] is True
        member.hidden = len(mask) > 4 and mask[4] is True
        chat.members[fold(member.nick)] = member
        chat.looks[skeleton(member.nick)] = member
    for name, seq, chat_seq, origins, *moderation in state["rooms"]:
        room = chat.rooms[fold(name)] = Room(str(name), int(seq))
        room.chat_seq = int(chat_seq)
        for origin in origins:
            room.add(members[origin])
        if moderation:
            _load_moderation(room, moderation[0], members)
    for origin, _, _, _, rooms, *_ in state["members"]:
        member = members[origin]
        for name in rooms:
            member.rooms[fold(name)] = chat.rooms[fold(name)]
    chat.saved = {str(r): settings_from_json(s) for r, s in state.get("saved", {}).items()}
    replica.remote.update(members)
    replica.position = str(state["position"]).encode()
    floor, quiet, chatty = state["numbering"]
    numbering.restore(int(floor), _pairs(quiet), _pairs(chatty))
    return [
        Account(str(nick), bytes.fromhex(salt), bytes.fromhex(hash), int(n), int(r), int(p))
        for nick, salt, hash, n, r, p in state["accounts"]
    ]


def _moderation(room: Room, origins: dict[Member, str]) -> dict[str, Any]:
    settings = RoomSettings(
        room.owner or "", room.topic, room.topic_by, room.topic_time, room.modes, tuple(room.bans)
    )
    return {
        "settings": settings_json(settings),
        "owned": room.owner is not None,
        "ops": [origins[m] for m in room.members if m in room.ops],
        "voiced": [origins[m] for m in room.members if m in room.voiced],
        "invited": list(room.invited),
        "created": None if room.created is None else iso_time(room.created),
    }


def _load_moderation(room: Room, state: dict[str, Any], members: dict[str, Member]) -> None:
    settings = settings_from_json(state["settings"])
    restore(room, settings)
    room.owner = settings.owner if state["owned"] is True else None
    room.ops = {members[o] for o in state["ops"]}
    room.voiced = {members[o] for o in state["voiced"]}
    room.invited = dict.fromkeys(str(nick) for nick in state["invited"])
    if created := state.get("created"):
        room.created = datetime.fromisoformat(created)


def _pairs(items: list[Any]) -> list[tuple[str, int]]:
    return [(str(room), int(seq)) for room, seq in items]
