"""The chat as a state machine: every request and error, synchronously, no server at all.

Like h11's tests: feed the chat what members ask, at a given time, and
compare the effects it returns with the ones expected.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trio_chat.chat import (
    GHOSTED,
    RECONNECTED,
    Chat,
    Close,
    Deliver,
    FetchHistory,
    FetchPrivate,
    Member,
    PrivateRecord,
)
from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code
from trio_chat.protocol.text import COMMANDS

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def enter(chat: Chat, nick: str, **kwargs) -> Member:
    member = Member()
    chat.enter(member, nick, T, **kwargs)
    assert member.present
    return member


def codes(effects) -> list[str]:
    return [
        e.event.code for e in effects if isinstance(e, Deliver) and isinstance(e.event, ev.Error)
    ]


def error(member: Member, code: Code, message: str, subject: str | None = None) -> list[Deliver]:
    return [Deliver(ev.Error(T, code, message, subject), (member,))]


# ------------------------------------------------------------------ entering


def test_the_first_member_is_welcomed_alone_replayed_and_announced():
    chat = Chat()
    alice = Member()
    joined = ev.Joined(T, "#lobby", 1, "alice")
    assert chat.enter(alice, "alice", T) == [
        Deliver(ev.Welcome(T, "alice", "#lobby", ("alice",), 1), (alice,)),
        FetchHistory("#lobby", alice, 50, 1, None, quiet=True),
        Deliver(joined, (alice,), joined),
    ]


def test_a_newcomer_is_announced_to_everyone_in_the_room_itself_included():
    chat = Chat()
    alice = enter(chat, "alice")
    bob = Member()
    effects = chat.enter(bob, "bob", T)
    assert effects[0] == Deliver(ev.Welcome(T, "bob", "#lobby", ("alice", "bob"), 2), (bob,))
    joined = ev.Joined(T, "#lobby", 2, "bob")
    assert effects[-1] == Deliver(joined, (alice, bob), joined)


@pytest.mark.parametrize(
    ("nick", "code"),
    [
        ("ALICE", Code.NICK_TAKEN),
        ("aIice", Code.NICK_TAKEN),  # a capital i: looks like alice
        ("a1ice", Code.NICK_TAKEN),
        ("al ice", Code.NICK_INVALID),
        ("", Code.NICK_INVALID),
        ("x" * 33, Code.NICK_INVALID),
        ("carol", Code.NICK_REGISTERED),
        ("caroI", Code.NICK_REGISTERED),  # like a registered nickname
    ],
)
def test_a_nickname_refused_on_entering_says_why_and_changes_nothing(nick, code):
    chat = Chat(registered=lambda n: "carol" if n.lower() in ("carol", "caroi") else None)
    enter(chat, "alice")
    member = Member()
    assert codes(chat.enter(member, nick, T)) == [code]
    assert not member.present
    assert list(chat.members) == ["alice"]


def test_the_owner_of_a_registered_nickname_enters_it_and_ends_its_ghost():
    chat = Chat(registered=lambda n: "carol" if n.lower() == "carol" else None)
    ghost = enter(chat, "carol", identified=True)
    alice = enter(chat, "alice")
    carol = Member()
    effects = chat.enter(carol, "carol", T, identified=True)
    left = ev.Left(T, "#lobby", 3, "carol", GHOSTED)
    assert effects[:3] == [
        Deliver(left, (alice, ghost), left),
        Deliver(ev.Bye(T, GHOSTED), (ghost,)),
        Close(ghost, GHOSTED),
    ]
    assert carol.present
    assert carol.account == "carol"
    assert not ghost.present


def test_a_client_reconnecting_with_its_token_takes_its_guest_nickname_back():
    chat = Chat()
    ghost = enter(chat, "carol", key="k1")
    alice = enter(chat, "alice")
    assert codes(chat.enter(Member(), "carol", T, key="other")) == [Code.NICK_TAKEN]
    assert codes(chat.enter(Member(), "carol", T)) == [Code.NICK_TAKEN]
    carol = Member()
    effects = chat.enter(carol, "carol", T, key="k1")
    left = ev.Left(T, "#lobby", 3, "carol", RECONNECTED)
    assert effects[:3] == [
        Deliver(left, (alice, ghost), left),
        Deliver(ev.Bye(T, RECONNECTED), (ghost,)),
        Close(ghost, RECONNECTED),
    ]
    assert carol.present
    assert not ghost.present


def test_a_token_never_takes_a_registered_nickname_without_its_password():
    chat = Chat(registered=lambda n: "carol" if n.lower() == "carol" else None)
    owner = enter(chat, "carol", identified=True, key="k1")
    assert codes(chat.enter(Member(), "carol", T, key="k1")) == [Code.NICK_TAKEN]
    assert owner.present


def test_resuming_rejoins_each_room_from_after_its_number_within_the_room_limit():
    chat = Chat(max_rooms=3)
    resume = tuple(ev.RoomSeq(room, 7) for room in ("#lobby", "#a", "not a room", "#b", "#c", "#d"))
    alice = Member()
    effects = chat.enter(alice, "alice", T, resume=resume)
    fetches = [e for e in effects if isinstance(e, FetchHistory)]
    assert [(f.room, f.after, f.limit) for f in fetches] == [
        ("#lobby", 7, 500),
        ("#a", 7, 500),
        ("#b", 7, 500),
    ]
    assert list(alice.rooms) == ["#lobby", "#a", "#b"]


# ------------------------------------------------------------------- talking


def test_a_message_is_kept_then_delivered_to_the_room_in_one_order():
    chat = Chat()
    alice, bob = enter(chat, "alice"), enter(chat, "bob")
    message = ev.Message(T, "#lobby", 3, "alice", "hi")
    assert chat.apply(alice, ev.Say("hi"), T) == [Deliver(message, (alice, bob), message, alice)]
    action = ev.Action(T, "#lobby", 4, "bob", "waves")
    assert chat.apply(bob, ev.Act("waves"), T) == [Deliver(action, (alice, bob), action, bob)]


@pytest.mark.parametrize("request_", [ev.Say(" "), ev.Act(""), ev.Tell("bob", "  ")])
def test_an_empty_message_says_nothing(request_):
    chat = Chat()
    alice, _ = enter(chat, "alice"), enter(chat, "bob")
    assert chat.apply(alice, request_, T) == error(
        alice, Code.BAD_REQUEST, "an empty message says nothing"
    )


def test_talking_in_a_room_one_is_not_in():
    chat = Chat()
    alice = enter(chat, "alice")
    assert codes(chat.apply(alice, ev.Say("hi", "#dev"), T)) == [Code.NOT_IN_ROOM]
    chat.apply(alice, ev.Part(), T)
    assert chat.apply(alice, ev.Say("anyone?"), T) == error(
        alice, Code.NOT_IN_ROOM, "you are in no room; /join #room first"
    )


def test_a_private_message_reaches_its_target_and_its_sender_and_is_kept_for_accounts():
    chat = Chat()
    alice = enter(chat, "alice", identified=True)
    bob = enter(chat, "bob")
    private = ev.Private(T, "alice", "bob", "psst")
    record = PrivateRecord(private, "alice", None)
    assert chat.apply(alice, ev.Tell("BOB", "psst"), T) == [
        Deliver(private, (bob, alice), record, alice)
    ]
    to_self = chat.apply(bob, ev.Tell("bob", "note"), T)
    assert [e.to for e in to_self if isinstance(e, Deliver)] == [(bob,)]
    assert chat.apply(alice, ev.Tell("nobody", "hi"), T) == error(
        alice, Code.NO_SUCH_NICK, 'no one is called "nobody"', "nobody"
    )


# --------------------------------------------------------------------- rooms


def test_joining_a_new_room_creates_it_and_makes_it_current():
    chat = Chat()
    alice = enter(chat, "alice")
    joined = ev.Joined(T, "#dev", 1, "alice")
    assert chat.apply(alice, ev.Join("#dev"), T) == [
        Deliver(ev.Members(T, "#dev", ("alice",), ops=("alice",)), (alice,)),
        FetchHistory("#dev", alice, 50, 1, None, quiet=True),
        Deliver(joined, (alice,), joined),
    ]
    assert alice.current is chat.rooms["#dev"]
    # joining it again only makes it current
    chat.apply(alice, ev.Join("#lobby"), T)
    assert chat.apply(alice, ev.Join("#DEV"), T) == [
        Deliver(ev.Members(T, "#dev", ("alice",), ops=("alice",)), (alice,))
    ]
    assert alice.current is chat.rooms["#dev"]


def test_joins_that_cannot_be():
    chat = Chat(max_rooms=2)
    alice = enter(chat, "alice")
    assert codes(chat.apply(alice, ev.Join("dev"), T)) == [Code.ROOM_INVALID]
    chat.apply(alice, ev.Join("#one"), T)
    assert chat.apply(alice, ev.Join("#two"), T) == error(
        alice, Code.TOO_MANY_ROOMS, "you are in 2 rooms already; /part one first", "#two"
    )


def test_parting_is_seen_by_the_room_and_by_the_one_who_leaves_and_an_empty_room_goes():
    chat = Chat()
    alice, bob = enter(chat, "alice"), enter(chat, "bob")
    chat.apply(alice, ev.Join("#dev"), T)
    chat.apply(bob, ev.Join("#dev"), T)
    left = ev.Left(T, "#dev", 3, "alice", "part")
    assert chat.apply(alice, ev.Part("#dev"), T) == [Deliver(left, (bob, alice), left)]
    chat.apply(bob, ev.Part(), T)  # the current room: #dev
    assert "#dev" not in chat.rooms
    assert codes(chat.apply(alice, ev.Part("#dev"), T)) == [Code.NOT_IN_ROOM]
    chat.apply(alice, ev.Part("#lobby"), T)
    chat.apply(bob, ev.Part("#lobby"), T)
    assert "#lobby" in chat.rooms  # the lobby stays


def test_a_room_made_again_goes_on_numbering_where_it_left_off():
    stored = {"#dev": 40}
    chat = Chat(last_seq=lambda room: stored.get(room.lower(), 0))
    alice = enter(chat, "alice")
    chat.apply(alice, ev.Join("#dev"), T)  # #dev: 41
    chat.apply(alice, ev.Say("hi", "#dev"), T)  # 42
    chat.apply(alice, ev.Part("#dev"), T)  # 43, and the room goes (not yet stored)
    effects = chat.apply(alice, ev.Join("#dev"), T)
    joined = [e.event for e in effects if isinstance(e, Deliver) and isinstance(e.event, ev.Joined)]
    assert [e.seq for e in joined] == [44]


def test_who_and_rooms():
    chat = Chat()
    alice, bob = enter(chat, "alice"), enter(chat, "bob")
    chat.apply(bob, ev.Join("#dev"), T)
    assert chat.apply(alice, ev.Who("#dev"), T) == [
        Deliver(ev.Members(T, "#dev", ("bob",), ops=("bob",)), (alice,))
    ]
    assert codes(chat.apply(alice, ev.Who("#nowhere"), T)) == [Code.NOT_IN_ROOM]
    rooms = (ev.RoomInfo("#dev", 1), ev.RoomInfo("#lobby", 2))
    assert chat.apply(alice, ev.ListRooms(), T) == [Deliver(ev.Rooms(T, rooms), (alice,))]


# ------------------------------------------------------------------- history


def test_history_is_read_at_its_place_in_the_order_and_bounded():
    chat = Chat(history_replay=5, history_page=20)
    alice = enter(chat, "alice")
    chat.apply(alice, ev.Say("one"), T)  # lobby seq 2
    assert chat.apply(alice, ev.GetHistory(), T) == [FetchHistory("#lobby", alice, 5, 3)]
    assert chat.apply(alice, ev.GetHistory(limit=999, before=2), T) == [
        FetchHistory("#lobby", alice, 20, 2)
    ]
    assert chat.apply(alice, ev.GetHistory(after=1, before=99), T) == [
        FetchHistory("#lobby", alice, 5, 3, 1)
    ]
    assert codes(chat.apply(alice, ev.GetHistory("#dev"), T)) == [Code.NOT_IN_ROOM]


def test_private_history_is_for_accounts_only():
    chat = Chat()
    guest = enter(chat, "guest")
    assert codes(chat.apply(guest, ev.GetHistory(nick="bob"), T)) == [Code.ACCOUNT_REQUIRED]
    alice = enter(chat, "alice", identified=True)
    assert chat.apply(alice, ev.GetHistory(nick="bob", limit=3), T) == [
        FetchPrivate("alice", "bob", alice, 3)
    ]


# ----------------------------------------------------------------- nicknames


def test_a_new_nickname_is_announced_in_every_room():
    chat = Chat()
    alice, bob = enter(chat, "alice"), enter(chat, "bob")
    chat.apply(alice, ev.Join("#dev"), T)
    effects = chat.apply(alice, ev.ChangeNick("alicia"), T)
    assert [(e.event.room, e.event.seq, e.to) for e in effects] == [
        ("#lobby", 3, (alice, bob)),
        ("#dev", 2, (alice,)),
    ]
    assert set(chat.members) == {"alicia", "bob"}
    assert chat.apply(alice, ev.ChangeNick("alicia"), T) == []
    assert codes(chat.apply(bob, ev.ChangeNick("Alicia"), T)) == [Code.NICK_TAKEN]
    assert codes(chat.apply(bob, ev.ChangeNick("aIicia"), T)) == [Code.NICK_TAKEN]
    assert codes(chat.apply(bob, ev.ChangeNick("b b"), T)) == [Code.NICK_INVALID]


def test_a_member_in_no_room_is_told_its_new_nickname():
    chat = Chat()
    alice = enter(chat, "alice")
    chat.apply(alice, ev.Part(), T)
    assert chat.apply(alice, ev.ChangeNick("al"), T) == [
        Deliver(ev.Notice(T, "you are now known as al"), (alice,))
    ]


def test_only_its_owner_may_take_a_registered_nickname():
    chat = Chat(registered=lambda n: "carol" if n.lower() == "carol" else None)
    guest = enter(chat, "guest")
    assert codes(chat.apply(guest, ev.ChangeNick("Carol"), T)) == [Code.NICK_REGISTERED]
    owner = enter(chat, "other", identified=True)  # its account is "other"
    chat.identified(owner)
    assert codes(chat.apply(owner, ev.ChangeNick("carol"), T)) == [Code.NICK_REGISTERED]


# ------------------------------------------------------------ before and after


def test_before_entering_only_help_and_ping_are_answered():
    chat = Chat()
    newcomer = Member()
    assert chat.apply(newcomer, ev.GetHelp(), T) == [Deliver(ev.Help(T, COMMANDS), (newcomer,))]
    assert chat.apply(newcomer, ev.Ping("x"), T) == [Deliver(ev.ServerPong(T, "x"), (newcomer,))]
    assert chat.apply(newcomer, ev.Say("hi"), T) == error(
        newcomer, Code.NOT_REGISTERED, "choose a nickname first"
    )


def test_hello_again_is_refused():
    chat = Chat()
    alice = enter(chat, "alice")
    assert chat.apply(alice, ev.Hello("bob"), T) == error(
        alice, Code.ALREADY_REGISTERED, "you are alice already"
    )


def test_leaving_is_announced_once_then_bye_and_close_and_nothing_after():
    chat = Chat()
    alice, bob = enter(chat, "alice"), enter(chat, "bob")
    left = ev.Left(T, "#lobby", 3, "bob", "quit: bye")
    assert chat.leave(bob, "quit: bye", T) == [
        Deliver(left, (alice, bob), left),
        Deliver(ev.Bye(T, "quit: bye"), (bob,)),
        Close(bob, "quit: bye"),
    ]
    assert chat.leave(bob, "again", T) == []
    assert chat.apply(bob, ev.Say("ghost"), T) == []
    # a connection that never entered only gets its goodbye
    never = Member()
    assert chat.leave(never, "no nickname chosen in time", T) == [
        Deliver(ev.Bye(T, "no nickname chosen in time"), (never,)),
        Close(never, "no nickname chosen in time"),
    ]


def test_at_shutdown_members_leave_without_their_rooms_being_told():
    chat = Chat()
    alice, bob = enter(chat, "alice"), enter(chat, "bob")
    chat.shutdown()
    assert chat.leave(bob, "server shutting down", T) == [
        Deliver(ev.Bye(T, "server shutting down"), (bob,)),
        Close(bob, "server shutting down"),
    ]
    assert chat.rooms["#lobby"].recipients == (alice,)
