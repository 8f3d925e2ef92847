"""Gap repair fed events synchronously: what it shows and what it asks the server."""

from __future__ import annotations

from datetime import UTC, datetime

from trio_chat.client.gaps import GapRepair, Repair
from trio_chat.client.shown import Note
from trio_chat.protocol import events as ev

T = datetime(2024, 1, 1, tzinfo=UTC)
ME = "alice"


def said(seq: int, room: str = "#lobby", text: str = "hi") -> ev.Message:
    return ev.Message(T, room, seq, "bob", text)


def seen(*events: ev.Event) -> GapRepair:
    gaps = GapRepair()
    for event in events:
        gaps.receive(event, ME)
    return gaps


def notes(repair: Repair) -> list[str]:
    return [item.text for item in repair.show if isinstance(item, Note)]


def test_events_in_order_need_nothing():
    gaps = seen(said(1))
    assert gaps.receive(said(2), ME) == Repair()
    assert gaps.seq == {"#lobby": 2}


def test_a_gap_of_three_asks_for_exactly_those_three():
    gaps = seen(said(4, "#Dev"))
    repair = gaps.receive(said(8, "#Dev"), ME)
    assert repair.send == (ev.GetHistory("#Dev", limit=3, after=4),)
    assert notes(repair) == ["3 event(s) in #Dev were missed: asking the server for them"]
    assert not repair.absorbed  # the event itself is shown as usual

    filled = gaps.receive(ev.History(T, "#dev", (said(5), said(6), said(7))), ME)
    assert filled.absorbed
    assert notes(filled) == ["missed earlier in #dev:"]
    assert filled.show[1] == ev.History(T, "#dev", (said(5), said(6), said(7)))
    # the next history is an ordinary one again
    assert gaps.receive(ev.History(T, "#dev", (said(1),)), ME) == Repair()


def test_a_fill_that_comes_back_empty_shows_nothing():
    gaps = seen(said(1))
    gaps.receive(said(5), ME)
    assert gaps.receive(ev.History(T, "#lobby", ()), ME) == Repair(absorbed=True)


def test_a_room_whose_numbering_restarted_is_reported():
    gaps = seen(said(1), said(2), said(3))
    repair = gaps.receive(said(1), ME)
    assert notes(repair) == [
        "#lobby started afresh (the server restarted?): messages may have been missed"
    ]
    assert repair.send == ()
    assert gaps.receive(said(2), ME) == Repair()  # counting from the new numbers


def test_resuming_names_each_room_with_the_last_number_seen():
    gaps = seen(said(7), said(3, "#Dev"))
    resume = gaps.resume({"#lobby": "#lobby", "#dev": "#Dev"})
    assert resume == (ev.RoomSeq("#lobby", 7), ev.RoomSeq("#Dev", 3))


def test_a_rejoin_replay_shows_only_what_is_newer_than_the_last_seen():
    gaps = seen(said(1), said(2), said(3))
    gaps.resume({"#lobby": "#lobby"})
    replay = ev.History(T, "#lobby", (said(2), said(3), said(4), said(5)))
    repair = gaps.receive(replay, ME)
    assert repair.absorbed
    assert notes(repair) == ["while you were away, in #lobby:"]
    assert repair.show[1] == ev.History(T, "#lobby", (said(4), said(5)))
    # the replay counts as seen: the own joined that follows it is no gap
    assert gaps.receive(ev.Joined(T, "#lobby", 6, ME), ME) == Repair()


def test_a_rejoin_replay_with_nothing_new_shows_nothing():
    gaps = seen(said(1), said(2))
    gaps.resume({"#lobby": "#lobby"})
    assert gaps.receive(ev.History(T, "#lobby", (said(1), said(2))), ME) == Repair(absorbed=True)


def test_a_short_replay_leaves_a_gap_that_is_asked_for():
    gaps = seen(said(1))
    gaps.resume({"#lobby": "#lobby"})
    gaps.receive(ev.History(T, "#lobby", (said(2), said(3))), ME)  # --history-page 2
    repair = gaps.receive(ev.Joined(T, "#lobby", 6, ME), ME)
    assert repair.send == (ev.GetHistory("#lobby", limit=2, after=3),)


def test_after_the_rejoin_a_history_is_an_ordinary_one():
    gaps = seen(said(1))
    gaps.resume({"#lobby": "#lobby"})
    gaps.receive(ev.Joined(T, "#lobby", 2, ME), ME)
    assert gaps.receive(ev.History(T, "#lobby", (said(1), said(2))), ME) == Repair()


def test_a_room_left_is_not_resumed_and_starts_afresh_when_joined_again():
    gaps = seen(said(1), said(4, "#dev"))
    gaps.receive(ev.Left(T, "#dev", 5, "Alice", "part"), ME)
    assert gaps.resume({"#lobby": "#lobby"}) == (ev.RoomSeq("#lobby", 1),)
    assert gaps.receive(said(9, "#dev"), ME) == Repair()  # no gap: it was not followed


def test_others_leaving_is_an_ordinary_event():
    gaps = seen(said(1))
    gaps.receive(ev.Left(T, "#lobby", 2, "bob", "quit"), ME)
    assert gaps.seq == {"#lobby": 2}


def test_a_room_with_nothing_seen_yet_is_not_resumed():
    # the connection was lost between the room's members and the own joined
    gaps = seen(said(3, "#dev"))
    assert gaps.resume({"#lobby": "#lobby", "#dev": "#dev"}) == (ev.RoomSeq("#dev", 3),)
    # so the lobby's history, when it comes, is an ordinary one
    assert gaps.receive(ev.History(T, "#lobby", (said(1),)), ME) == Repair()
