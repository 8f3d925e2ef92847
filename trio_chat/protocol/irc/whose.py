"""Whose each event of a run is: what IRC clients leave out, worked out once per run.

An IRC client does not see its own messages without echo-message, nor its own
JOIN (it comes with its names list). A run of a busy room goes to every
member, and most of them have nothing of their own in it: ``Whose``, made
once per run and shared by its members, lets each of those take the run
whole after one look-up. A client that the run changes (a rename, a quit or
a kick, a mode it set, its own part) goes through it event by event with its
connection's ``keep``, which follows those changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.irc.encoder import parted

if TYPE_CHECKING:
    from trio_chat.protocol.irc.connection import IrcServerConnection


@dataclass(slots=True)
class Whose:
    """Of a run's events, by their places in it."""

    said: dict[str, list[int]]  # by nickname, what it said: not sent back without echo-message
    joined: dict[str, list[int]]  # by nickname, its own joins: never sent to it
    changes: dict[str, int]  # by nickname, the last event that changes its connection
    everyone: int  # the last event each client decides for itself (a rename, a quit), or -1
    named: frozenset[str]  # every nickname above


def whose(events: list[ev.Event]) -> Whose:
    said: dict[str, list[int]] = {}
    joined: dict[str, list[int]] = {}
    changes: dict[str, int] = {}
    everyone = -1
    # The cases of IrcServerConnection.keep, in its order.
    for i, event in enumerate(events):
        match event:
            case ev.Message(nick=nick) | ev.Action(nick=nick):
                said.setdefault(nick, []).append(i)
            case ev.Joined(nick=nick):
                joined.setdefault(nick, []).append(i)
            case ev.Private(sender=sender, target=target):
                if sender != target:  # one to oneself is received once, echo or not
                    said.setdefault(sender, []).append(i)
            case ev.NickChanged():
                everyone = i
            case ev.Left(nick=nick, reason=reason):
                if parted(reason):
                    changes[nick] = i
                else:  # a quit seen in several rooms is one line
                    everyone = i
            case mod.Kicked(nick=nick, target=target):
                changes[nick] = changes[target] = i
            case mod.ModeChanged(nick=nick):
                changes[nick] = i
    return Whose(said, joined, changes, everyone, frozenset([*said, *joined, *changes]))


def dropped(
    conn: IrcServerConnection, events: list[ev.Event], shared: dict[object, Any], start: int
) -> Sequence[int]:
    """The places of the events of ``events[start:]`` (a run) that ``conn``'s
    client does not receive, in order; ``shared`` holds the run's Whose."""
    run: Whose | None = shared.get(Whose)
    if run is None:
        run = shared[Whose] = whose(events)
    nick = conn.nick
    if nick not in run.named and run.everyone < start:
        return ()
    if run.everyone >= start or run.changes.get(nick, -1) >= start:
        keep = conn.keep
        return [i for i in range(start, len(events)) if not keep(events[i])]
    mine = run.joined.get(nick, [])
    if "echo-message" not in conn.caps and (said := run.said.get(nick)):
        mine = sorted(mine + said) if mine else said
    return [i for i in mine if i >= start] if start else mine
