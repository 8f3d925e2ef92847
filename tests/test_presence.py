"""Away texts, server operators by password, entering in no room, and the
topic lock, in the chat state machine: synchronously, no server at all."""

from __future__ import annotations

import pytest
from test_moderation import T, enter, errors, events, to

from trio_chat.chat import Chat, Member
from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups, notices, presence, text
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.errors import Code


@pytest.fixture
def dev():
    """#dev made by bob (its operator), with carol in it."""
    chat = Chat()
    bob, carol = enter(chat, "bob"), enter(chat, "carol")
    chat.apply(bob, ev.Join("#dev"), T)
    chat.apply(carol, ev.Join("#dev"), T)
    return chat, bob, carol


def test_a_private_message_to_an_away_member_tells_the_sender_its_away_text():
    chat = Chat()
    alice, bob = enter(chat, "alice"), enter(chat, "bob")
    effects = chat.apply(bob, presence.SetAway("  at lunch "), T)
    assert events(effects, presence.AwayStatus) == [presence.AwayStatus(T, "at lunch")]
    effects = chat.apply(alice, ev.Tell("bob", "ping"), T)
    assert events(effects, presence.Away) == [presence.Away(T, "bob", "at lunch")]
    assert to(effects, presence.Away) == [(alice,)]
    assert events(effects, ev.Private)  # delivered all the same
    # a notice is never answered, and the away member may write to itself
    assert not events(chat.apply(alice, notices.TellNotice("bob", "fyi"), T), presence.Away)
    assert not events(chat.apply(bob, ev.Tell("bob", "note"), T), presence.Away)
    back = chat.apply(bob, presence.SetAway(), T)
    assert events(back, presence.AwayStatus) == [presence.AwayStatus(T, "")]
    assert not events(chat.apply(alice, ev.Tell("bob", "back?"), T), presence.Away)


def test_going_away_and_back_is_told_once_to_each_member_sharing_a_room(dev):
    chat, bob, _ = dev
    dave, erin = enter(chat, "dave"), Member()
    chat.enter(erin, "erin", T, lobby=False)  # in no room
    chat.apply(dave, ev.Join("#dev"), T)  # shares #lobby and #dev with bob
    effects = chat.apply(bob, presence.SetAway("at lunch"), T)
    assert events(effects, presence.AwayChanged) == [presence.AwayChanged(T, "bob", "at lunch")]
    (told,) = to(effects, presence.AwayChanged)
    assert sorted(m.nick for m in told) == ["carol", "dave"]  # not bob, not erin
    assert not any(e.record for e in effects)  # not stored, not numbered
    assert not events(chat.apply(bob, presence.SetAway(" at lunch"), T), presence.AwayChanged)
    changed = events(chat.apply(bob, presence.SetAway("in a meeting"), T), presence.AwayChanged)
    assert changed == [presence.AwayChanged(T, "bob", "in a meeting")]
    back = chat.apply(bob, presence.SetAway(), T)
    assert events(back, presence.AwayChanged) == [presence.AwayChanged(T, "bob", "")]
    assert len(to(back, presence.AwayChanged)[0]) == 2
    # alone in its rooms: nobody to tell
    assert not events(chat.apply(erin, presence.SetAway("zzz"), T), presence.AwayChanged)


def test_joining_while_away_is_told_to_those_already_in_the_room(dev):
    chat, bob, carol = dev
    dave = enter(chat, "dave")
    chat.apply(dave, presence.SetAway("at lunch"), T)
    effects = chat.apply(dave, ev.Join("#dev"), T)
    assert events(effects, presence.AwayChanged) == [presence.AwayChanged(T, "dave", "at lunch")]
    assert to(effects, presence.AwayChanged) == [(bob, carol)]
    assert not events(chat.apply(carol, ev.Join("#new"), T), presence.AwayChanged)


def test_text_mode_has_away_and_oper():
    assert text.parse_request("/away at lunch", registered=True) == presence.SetAway("at lunch")
    assert text.parse_request("/away", registered=True) == presence.SetAway("")
    oper = text.parse_request('/oper root "correct horse"', registered=True)
    assert oper == presence.Oper("root", "correct horse")
    with pytest.raises(text.CommandError, match="usage: /oper NAME PASSWORD"):
        text.parse_request("/oper root", registered=True)


def test_an_away_text_is_bounded():
    chat = Chat()
    bob = enter(chat, "bob")
    (status,) = events(chat.apply(bob, presence.SetAway("x" * 1000), T))
    assert status == presence.AwayStatus(T, "x" * presence.AWAY_MAX)


def test_lookups_say_who_is_away_and_who_is_a_server_operator():
    chat = Chat(operators=["root"])
    alice, bob = enter(chat, "alice"), enter(chat, "root", account=True)
    chat.apply(alice, presence.SetAway("gone"), T)
    (whois,) = events(chat.apply(bob, lookups.Whois("alice"), T), lookups.WhoisReply)
    assert (whois.away, whois.operator) == ("gone", False)
    (whois,) = events(chat.apply(alice, lookups.Whois("root"), T), lookups.WhoisReply)
    assert (whois.away, whois.operator) == ("", True)
    (found,) = events(chat.apply(alice, lookups.Find("#lobby"), T), lookups.Found)
    assert (found.nicks, found.away, found.operators) == (("alice", "root"), ("alice",), ("root",))


def test_the_password_of_a_server_operator_makes_a_member_one():
    chat = Chat(operators=["root"])
    guest = enter(chat, "guest")
    enter(chat, "carol")
    assert errors(chat.apply(guest, mod.Disconnect("carol"), T)) == [(Code.NOT_OPERATOR, None)]
    # only a name of --operator (the server checked the password)
    assert chat.operate(guest, "carol", T) == []
    effects = chat.operate(guest, "Root", T)
    assert events(effects) == [presence.OperatorStatus(T, "Root")]
    effects = chat.apply(guest, mod.Disconnect("carol"), T)
    assert events(effects, ev.Bye) == [ev.Bye(T, "disconnected by guest")]
    # operator power in every room, without +o
    chat.apply(enter(chat, "dave"), ev.Join("#dev"), T)
    assert events(chat.apply(guest, mod.SetTopic("ops were here", "#dev"), T), mod.TopicChanged)


def test_a_member_may_enter_in_no_room():
    chat = Chat()
    alice = enter(chat, "alice")
    bob = Member()
    effects = chat.enter(bob, "bob", T, lobby=False)
    assert events(effects) == [ev.Welcome(T, "bob", "", (), 2)]
    assert bob.present
    assert not bob.rooms
    assert chat.rooms["#lobby"].nicks == ("alice",)
    assert errors(chat.apply(bob, ev.Say("hi"), T)) == [(Code.NOT_IN_ROOM, None)]
    effects = chat.apply(bob, ev.Join("#lobby"), T)
    assert to(effects, ev.Joined) == [(alice, bob)]
    # resuming the lobby puts it there all the same
    carol = Member()
    chat.enter(carol, "carol", T, lobby=False, resume=(ev.RoomSeq("#lobby", 0),))
    assert list(carol.rooms) == ["#lobby"]


def test_new_rooms_lock_their_topic_and_an_operator_may_open_it(dev):
    chat, bob, carol = dev
    (state,) = events(chat.apply(carol, mod.SetMode(), T), mod.RoomState)
    assert state.modes == "nt"
    assert errors(chat.apply(carol, mod.SetTopic("mine"), T)) == [(Code.NOT_OPERATOR, "#dev")]
    assert errors(chat.apply(carol, mod.SetMode("-t"), T)) == [(Code.NOT_OPERATOR, "#dev")]
    (opened,) = events(chat.apply(bob, mod.SetMode("-t"), T), mod.ModeChanged)
    assert (opened.nick, opened.mode) == ("bob", "-t")
    (changed,) = events(chat.apply(carol, mod.SetTopic("mine"), T), mod.TopicChanged)
    assert (changed.nick, changed.topic) == ("carol", "mine")
    # a member of the room only
    dave = enter(chat, "dave")
    assert errors(chat.apply(dave, mod.SetTopic("x", "#dev"), T)) == [(Code.NOT_OPERATOR, "#dev")]
    (state,) = events(chat.apply(carol, mod.SetMode(), T), mod.RoomState)
    assert state.modes == "n"


def test_mode_n_is_always_set(dev):
    chat, bob, _ = dev
    assert events(chat.apply(bob, mod.SetMode("+n"), T), ev.Notice)  # nothing to change
    assert errors(chat.apply(bob, mod.SetMode("-n"), T)) == [(Code.BAD_REQUEST, "#dev")]


def test_a_room_made_again_locks_its_topic_again(dev):
    chat, bob, carol = dev
    chat.apply(bob, mod.SetMode("-t"), T)
    chat.apply(bob, ev.Part("#dev"), T)
    chat.apply(carol, ev.Part("#dev"), T)
    chat.apply(carol, ev.Join("#dev"), T)
    assert chat.rooms["#dev"].modes == "t"
