"""Runs: the deliveries of a batch that go to the same, or growing, members.

A room's recipients are one tuple until someone joins or leaves, and a join
makes the next tuple the last one plus the newcomer. So the messages of a busy
room in one batch go to one tuple, and a crowd joining a room makes tuples
that only grow. The pump delivers such deliveries as one run: each member
takes, in one append, the part of the run from the first event it receives,
from bytes encoded once per codec for all of them.

Between the joins of a crowd stand the deliveries to each newcomer alone (its
welcome, its replay). They may pass the run, which is delivered where its
last delivery stood: a newcomer receives nothing of the run before its own
join, so it still sees its welcome, its replay, then the joins, in order.
"""

from __future__ import annotations

from collections.abc import Iterator

from trio_chat.chat import Close, Deliver, Effect, FetchHistory, FetchPrivate, Member, SaveRoom
from trio_chat.chat.rooms import Encoded
from trio_chat.protocol import events as ev

SEND_QUEUE_EXCEEDED = "send queue exceeded"
# Joins to a room this large are announced in bunches: the batch that holds one
# waits HOLD_PER_MEMBER a member (at most HOLD_MAX) for more before it goes.
HOLD_MEMBERS = 200
HOLD_PER_MEMBER = 20e-6
HOLD_MAX = 0.25


def runs(batch: list[Effect]) -> Iterator[FetchHistory | FetchPrivate | Close | list[Deliver]]:
    """``batch`` in order, with each run of deliveries made one list."""
    run: list[Deliver] = []
    for effect in batch:
        if isinstance(effect, Deliver):
            if not run or effect.to is run[-1].to or _grows(run[-1].to, effect.to):
                run.append(effect)
                continue
            if _passes(effect.to, run):
                yield [effect]
                continue
            yield run
            run = [effect]
            continue
        if isinstance(effect, SaveRoom):  # the pump saved it with the batch's events
            continue
        if run and isinstance(effect, FetchHistory) and _passes((effect.to,), run):
            yield effect
            continue
        if run:
            yield run
            run = []
        yield effect
    if run:
        yield run


def hold(batch: list[Effect]) -> float:
    """Seconds ``batch`` should wait for more: joins to a large room come in crowds."""
    largest = max(
        (len(e.to) for e in batch if isinstance(e, Deliver) and type(e.event) is ev.Joined),
        default=0,
    )
    return min(HOLD_MAX, HOLD_PER_MEMBER * largest) if largest >= HOLD_MEMBERS else 0.0


def _grows(before: tuple[Member, ...], after: tuple[Member, ...]) -> bool:
    """``after`` is ``before`` and one newcomer (a join)."""
    return len(after) == len(before) + 1 and after[:-1] == before


def _passes(to: tuple[Member, ...], run: list[Deliver]) -> bool:
    """Goes to a member that receives nothing of ``run`` yet (the next newcomer)."""
    return len(to) == 1 and to[0] not in run[-1].to


def deliver(run: list[Deliver]) -> None:
    """Each member of the run gets its part in one append, encoded once per codec."""
    events = [d.event for d in run]
    encoded: Encoded = {}
    first = run[0].to
    for member in first:
        _put(member, events, encoded, 0)
    last = first
    for start, delivery in enumerate(run):
        if delivery.to is not last:  # a join: its newcomer starts here
            for member in delivery.to[len(last) :]:
                _put(member, events, encoded, start)
            last = delivery.to


def _put(member: Member, events: list[ev.Event], encoded: Encoded, start: int) -> None:
    mailbox = member.mailbox
    if not mailbox.put_run(events, encoded, start):
        mailbox.close(SEND_QUEUE_EXCEEDED, discard=True)
