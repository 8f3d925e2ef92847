"""The client's copy of its rooms and their members, fed events synchronously."""

from __future__ import annotations

from datetime import UTC, datetime

from trio_chat.client.mirror import MAX_JOINS_WAITING, RoomMirror
from trio_chat.protocol import Code
from trio_chat.protocol import events as ev

T = datetime(2024, 1, 1, tzinfo=UTC)


def welcomed(nick: str = "alice", *others: str) -> RoomMirror:
    mirror = RoomMirror(nick)
    mirror.track(ev.Welcome(T, nick, "#lobby", (nick, *others), 1 + len(others)))
    return mirror


def joined(mirror: RoomMirror, room: str, *members: str) -> None:
    """The user joins ``room``, as the server answers it."""
    mirror.sent(ev.Join(room))
    mirror.track(ev.Joined(T, room, 1, mirror.nick))
    mirror.track(ev.Members(T, room, (*members, mirror.nick)))


def test_the_welcome_sets_the_nickname_room_and_members():
    mirror = RoomMirror("alice")
    mirror.track(ev.Welcome(T, "Alice", "#lobby", ("Alice", "bob"), 2))
    assert mirror.nick == "Alice"  # as the server spells it
    assert mirror.room == "#lobby"
    assert mirror.members == {"#lobby": ["Alice", "bob"]}
    assert mirror.nicknames() == ["Alice", "bob"]


def test_members_follow_joins_parts_and_nick_changes():
    mirror = welcomed("alice", "bob")
    mirror.track(ev.Joined(T, "#lobby", 2, "Carol"))
    mirror.track(ev.Joined(T, "#lobby", 3, "carol"))  # the same nickname, once
    assert mirror.members["#lobby"] == ["alice", "bob", "Carol"]
    mirror.track(ev.NickChanged(T, "#lobby", 4, "BOB", "robert"))
    assert mirror.members["#lobby"] == ["alice", "robert", "Carol"]
    mirror.track(ev.Left(T, "#lobby", 5, "carol", "quit"))
    assert mirror.members["#lobby"] == ["alice", "robert"]
    assert mirror.nicknames() == ["alice", "robert"]


def test_a_nick_change_is_seen_in_every_room_and_renames_the_user():
    mirror = welcomed("alice", "bob")
    joined(mirror, "#dev", "bob")
    mirror.track(ev.NickChanged(T, "#dev", 3, "bob", "bobby"))
    assert mirror.members == {"#lobby": ["alice", "bobby"], "#dev": ["bobby", "alice"]}
    mirror.track(ev.NickChanged(T, "#dev", 4, "ALICE", "alicia"))
    assert mirror.nick == "alicia"
    assert mirror.nicknames() == ["alicia", "bobby"]


def test_the_room_joined_last_is_current_and_joining_again_switches_back():
    mirror = welcomed()
    joined(mirror, "#dev")
    joined(mirror, "#ops")
    assert list(mirror.rooms.values()) == ["#lobby", "#dev", "#ops"]
    assert mirror.room == "#ops"
    mirror.sent(ev.Join("#DEV"))  # already there: the server answers with its members
    mirror.track(ev.Members(T, "#dev", ("alice", "bob")))
    assert mirror.room == "#dev"
    assert mirror.members["#dev"] == ["alice", "bob"]


def test_leaving_a_room_forgets_it_and_its_members():
    mirror = welcomed("alice", "bob")
    joined(mirror, "#dev", "carol")
    mirror.track(ev.Left(T, "#dev", 2, "Alice", "part"))
    assert mirror.rooms == {"#lobby": "#lobby"}
    assert "#dev" not in mirror.members
    assert mirror.nicknames() == ["alice", "bob"]


def test_members_of_a_room_the_user_is_not_in_are_not_kept():
    mirror = welcomed()
    mirror.track(ev.Members(T, "#elsewhere", ("mallory",)))  # the answer to /who #elsewhere
    assert mirror.room == "#lobby"
    assert "mallory" not in mirror.nicknames()


def test_a_refused_join_leaves_the_current_room_alone():
    mirror = welcomed()
    mirror.sent(ev.Join("#full"))
    mirror.track(ev.Error(T, Code.TOO_MANY_ROOMS, "too many rooms"))
    mirror.track(ev.Members(T, "#full", ("mallory",)))  # a later /who #full
    assert mirror.rooms == {"#lobby": "#lobby"}


def test_joins_sent_on_a_lost_connection_are_not_awaited_on_the_next():
    mirror = welcomed()
    mirror.sent(ev.Join("#dev"))
    mirror.reconnecting()
    mirror.track(ev.Members(T, "#dev", ("bob",)))
    assert mirror.room == "#lobby"


def test_unanswered_joins_are_bounded():
    mirror = welcomed()
    for n in range(MAX_JOINS_WAITING + 1):
        mirror.sent(ev.Join(f"#r{n}"))
    mirror.track(ev.Members(T, "#r0", ("bob",)))  # the oldest was forgotten
    assert mirror.room == "#lobby"
    mirror.track(ev.Members(T, f"#r{MAX_JOINS_WAITING}", ("bob",)))
    assert mirror.room == f"#r{MAX_JOINS_WAITING}"


def test_on_rejoining_each_rooms_members_come_before_the_user_is_back_in_it():
    mirror = welcomed("alice", "bob")
    joined(mirror, "#ops", "carol")
    joined(mirror, "#dev")
    mirror.reconnecting()
    mirror.track(ev.Welcome(T, "alice", "#lobby", ("alice", "bob"), 3))
    mirror.track(ev.Members(T, "#ops", ("carol", "alice")))
    mirror.track(ev.Joined(T, "#ops", 9, "alice"))
    assert mirror.members["#ops"] == ["carol", "alice"]
    assert mirror.nicknames() == ["alice", "bob", "carol"]
    # once back, members of another room are again only an answer to /who
    mirror.track(ev.Members(T, "#ops", ("carol", "alice", "dave")))
    assert mirror.members["#ops"] == ["carol", "alice", "dave"]
    mirror.track(ev.Left(T, "#ops", 10, "alice", "part"))
    mirror.track(ev.Members(T, "#ops", ("carol",)))
    assert "#ops" not in mirror.members
