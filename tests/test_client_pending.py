"""Lines kept while offline, and the delays between attempts to connect."""

from __future__ import annotations

import random

from trio_chat.client.backoff import Backoff
from trio_chat.client.pending import MAX_PENDING, Pending
from trio_chat.client.shown import Note
from trio_chat.protocol import events as ev


def drain(pending: Pending) -> list[ev.Request]:
    sent = []
    while (request := pending.next()) is not None:
        assert pending.sent() == request
        sent.append(request)
    return sent


def test_offline_lines_are_kept_up_to_the_limit_and_the_rest_refused_visibly():
    pending = Pending()
    notes = [pending.typed(ev.Say(f"line {n}"), connected=False) for n in range(MAX_PENDING + 1)]
    assert notes[0] == Note("pending: line 0 (sent when connected)", "pending")
    assert notes[-1] == Note(f"offline with {MAX_PENDING} lines waiting: not kept", "error")
    assert len(pending) == MAX_PENDING
    assert pending.on_connect() == Note(f"sending {MAX_PENDING} pending line(s)", "pending")
    assert drain(pending) == [ev.Say(f"line {n}") for n in range(MAX_PENDING)]
    assert not pending
    assert pending.on_connect() is None


def test_while_connected_a_line_goes_straight_through():
    pending = Pending(limit=1)
    assert pending.typed(ev.Say("one"), connected=True) is None
    assert pending.typed(ev.Say("two"), connected=True) is None
    assert drain(pending) == [ev.Say("one"), ev.Say("two")]


def test_the_clients_own_requests_go_first_and_the_goodbye_last():
    pending = Pending(limit=1)
    pending.typed(ev.Say("typed"), connected=False)
    pending.last(ev.Quit("bye"))  # beyond the limit: a goodbye is never refused
    pending.first(ev.Pong("t"))
    assert drain(pending) == [ev.Pong("t"), ev.Say("typed"), ev.Quit("bye")]


def test_a_request_that_could_not_be_sent_stays_first():
    pending = Pending()
    pending.typed(ev.Say("one"), connected=True)
    assert pending.next() == ev.Say("one")
    assert list(pending) == [ev.Say("one")]  # the connection broke before ``sent``


def test_backoff_doubles_to_the_cap_with_jitter_and_starts_again_after_reset():
    backoff = Backoff(rng=random.Random(3))
    delays = [backoff.next() for _ in range(9)]
    steps = [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert all(step / 2 <= d <= step for d, step in zip(delays, steps, strict=True))
    assert len(set(delays)) == len(delays)
    backoff.reset()
    assert 0.5 <= backoff.next() <= 1
