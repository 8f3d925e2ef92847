"""Room moderation in the chat state machine: synchronously, no server at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trio_chat.chat import Chat, Close, Deliver, Member, RoomSettings, SaveRoom
from trio_chat.chat.masks import matches
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.errors import Code

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def enter(chat: Chat, nick: str, *, account: bool = False, host: str = "") -> Member:
    member = Member()
    member.host = host or f"{nick}.cloak"
    chat.enter(member, nick, T, identified=account)
    assert member.present
    return member


def events(effects, kind=ev.Event) -> list[ev.Event]:
    return [e.event for e in effects if isinstance(e, Deliver) and isinstance(e.event, kind)]


def errors(effects) -> list[tuple[str, str | None]]:
    return [(e.code, e.subject) for e in events(effects, ev.Error)]


def to(effects, kind) -> list[tuple[Member, ...]]:
    return [e.to for e in effects if isinstance(e, Deliver) and isinstance(e.event, kind)]


@pytest.fixture
def dev():
    """#dev made by bob (an operator), with carol in it."""
    chat = Chat()
    bob, carol = enter(chat, "bob"), enter(chat, "carol")
    chat.apply(bob, ev.Join("#dev"), T)
    chat.apply(carol, ev.Join("#dev"), T)
    return chat, bob, carol


def test_the_first_member_of_a_new_room_is_its_operator(dev):
    chat, bob, carol = dev
    (members,) = events(chat.apply(carol, ev.Who("#dev"), T), ev.Members)
    assert members.ops == ("bob",)
    assert members.voiced == ()
    # the lobby has no operator, whoever comes first
    (lobby,) = events(chat.apply(bob, ev.Who("#lobby"), T), ev.Members)
    assert lobby.ops == ()


def test_an_operator_sets_the_topic_and_newcomers_see_it(dev):
    chat, bob, carol = dev
    effects = chat.apply(bob, mod.SetTopic("release friday"), T)
    (changed,) = events(effects, mod.TopicChanged)
    assert changed == mod.TopicChanged(T, "#dev", 3, "bob", "release friday")
    assert to(effects, mod.TopicChanged) == [(bob, carol)]
    dave = enter(chat, "dave")
    (members,) = events(chat.apply(dave, ev.Join("#dev"), T), ev.Members)
    assert members.topic == "release friday"
    (state,) = events(chat.apply(dave, mod.SetTopic(room="#dev"), T), mod.RoomState)
    assert (state.topic, state.topic_by, state.topic_time) == ("release friday", "bob", T)


def test_others_may_not_moderate(dev):
    chat, _, carol = dev
    for request in (
        mod.SetTopic("mine now"),
        mod.Kick("bob"),
        mod.SetMode("+m"),
        mod.SetMode("+o", "carol"),
        mod.SetMode("+b", "bob"),
        mod.Disconnect("bob"),
    ):
        (code,) = errors(chat.apply(carol, request, T))
        assert code[0] == Code.NOT_OPERATOR


def test_a_kicked_member_sees_the_kick_last_and_is_out(dev):
    chat, bob, carol = dev
    effects = chat.apply(bob, mod.Kick("Carol", reason="spam"), T)
    (kicked,) = events(effects, mod.Kicked)
    assert kicked == mod.Kicked(T, "#dev", 3, "bob", "carol", "spam")
    assert to(effects, mod.Kicked) == [(bob, carol)]
    assert "#dev" not in carol.rooms
    assert events(chat.apply(carol, ev.Say("hi", "#dev"), T), ev.Error)[0].code == Code.NOT_IN_ROOM
    assert errors(chat.apply(bob, mod.Kick("carol"), T)) == [(Code.NOT_IN_ROOM, "carol")]


def test_a_banned_guest_cannot_come_back_by_address_or_speak(dev):
    chat, bob, carol = dev
    (mode,) = events(chat.apply(bob, mod.SetMode("+b", "carol"), T), mod.ModeChanged)
    assert (mode.mode, mode.target) == ("+b", "*!*@carol.cloak")
    assert errors(chat.apply(carol, ev.Say("still here"), T)) == [(Code.BANNED, "#dev")]
    chat.apply(carol, ev.Part("#dev"), T)
    assert errors(chat.apply(carol, ev.Join("#dev"), T)) == [(Code.BANNED, "#dev")]
    chat.leave(carol, "quit", T)
    again = enter(chat, "carol2", host="carol.cloak")  # another nickname, the same address
    assert errors(chat.apply(again, ev.Join("#dev"), T)) == [(Code.BANNED, "#dev")]
    # unbanned by nickname: every ban that holds the member goes
    (unban,) = events(chat.apply(bob, mod.SetMode("-b", "carol2"), T), mod.ModeChanged)
    assert unban.mode == "-b"
    assert errors(chat.apply(again, ev.Join("#dev"), T)) == []


def test_a_registered_member_is_banned_by_account():
    chat = Chat()
    bob = enter(chat, "bob")
    mallory = enter(chat, "mallory", account=True)
    chat.apply(bob, ev.Join("#dev"), T)
    (mode,) = events(chat.apply(bob, mod.SetMode("+b", "mallory", "#dev"), T), mod.ModeChanged)
    assert mode.target == "$a:mallory"
    assert errors(chat.apply(mallory, ev.Join("#dev"), T)) == [(Code.BANNED, "#dev")]
    # an absent nickname is banned as a nickname
    (absent,) = events(chat.apply(bob, mod.SetMode("+b", "zed"), T), mod.ModeChanged)
    assert absent.target == "zed!*@*"


def test_masks_match_ignoring_case_with_wildcards():
    member = Member()
    member.nick, member.user, member.host = "Carol", "text", "ab12.cloak"
    assert matches("carol!*@*", member)
    assert matches("c?rol!TEXT@*.cloak", member)
    assert matches("*!*@AB12.CLOAK", member)
    assert not matches("carol!json@*", member)
    assert not matches("$a:carol", member)
    member.account = "carol"
    assert matches("$a:Carol", member)


def test_ban_list_is_bounded_and_shown_to_operators_only():
    chat = Chat(max_bans=2)
    bob, carol = enter(chat, "bob"), enter(chat, "carol")
    chat.apply(bob, ev.Join("#dev"), T)
    chat.apply(carol, ev.Join("#dev"), T)
    chat.apply(bob, mod.SetMode("+b", "a!*@*"), T)
    chat.apply(bob, mod.SetMode("+b", "b!*@*"), T)
    assert errors(chat.apply(bob, mod.SetMode("+b", "c!*@*"), T)) == [(Code.BAD_REQUEST, "#dev")]
    (state,) = events(chat.apply(bob, mod.SetMode("+b"), T), mod.RoomState)
    assert state.bans == ("a!*@*", "b!*@*")
    (state,) = events(chat.apply(carol, mod.SetMode("+b"), T), mod.RoomState)
    assert state.bans == ()


def test_invite_only_lets_in_the_invited_once(dev):
    chat, bob, carol = dev
    (mode,) = events(chat.apply(bob, mod.SetMode("+i"), T), mod.ModeChanged)
    assert mode.mode == "+i"
    dave = enter(chat, "dave")
    assert errors(chat.apply(dave, ev.Join("#dev"), T)) == [(Code.INVITE_ONLY, "#dev")]
    assert errors(chat.apply(carol, mod.Invite("dave"), T)) == [(Code.NOT_OPERATOR, "#dev")]
    effects = chat.apply(bob, mod.Invite("dave"), T)
    assert events(effects, mod.Invited) == [mod.Invited(T, "#dev", "bob")]
    assert to(effects, mod.Invited) == [(dave,)]
    assert to(effects, ev.Notice) == [(bob,)]
    assert errors(chat.apply(dave, ev.Join("#dev"), T)) == []
    chat.apply(dave, ev.Part("#dev"), T)
    assert errors(chat.apply(dave, ev.Join("#dev"), T)) == [(Code.INVITE_ONLY, "#dev")]


def test_moderated_rooms_hear_operators_and_voiced_members(dev):
    chat, bob, carol = dev
    chat.apply(bob, mod.SetMode("+m"), T)
    assert errors(chat.apply(carol, ev.Say("hi"), T)) == [(Code.MODERATED, "#dev")]
    (voice,) = events(chat.apply(bob, mod.SetMode("+v", "carol"), T), mod.ModeChanged)
    assert (voice.nick, voice.mode, voice.target) == ("bob", "+v", "carol")
    assert events(chat.apply(carol, ev.Say("hi"), T), ev.Message)
    assert events(chat.apply(bob, ev.Say("hi"), T), ev.Message)
    (state,) = events(chat.apply(carol, mod.SetMode(), T), mod.RoomState)
    assert (state.modes, state.ops, state.voiced) == ("mnt", ("bob",), ("carol",))


def test_an_operator_gives_and_takes_operator_status(dev):
    chat, bob, carol = dev
    chat.apply(bob, mod.SetMode("+o", "carol"), T)
    assert events(chat.apply(carol, mod.SetTopic("carol's now"), T), mod.TopicChanged)
    chat.apply(carol, mod.SetMode("-o", "bob"), T)
    assert errors(chat.apply(bob, mod.SetTopic("no"), T)) == [(Code.NOT_OPERATOR, "#dev")]
    assert errors(chat.apply(carol, mod.SetMode("+o", "nobody"), T)) == [
        (Code.NOT_IN_ROOM, "nobody")
    ]
    notice = events(chat.apply(carol, mod.SetMode("+o", "carol"), T), ev.Notice)
    assert "nothing to change" in notice[0].text


def test_a_registered_maker_owns_the_room_and_is_restored_after_a_restart():
    chat = Chat()
    alice = enter(chat, "alice", account=True)
    effects = chat.apply(alice, ev.Join("#dev"), T)
    saves = [e for e in effects if isinstance(e, SaveRoom)]
    assert saves == [SaveRoom("#dev", RoomSettings("alice"))]
    effects = chat.apply(alice, mod.SetTopic("ours"), T)
    effects += chat.apply(alice, mod.SetMode("+b", "x!*@*"), T)
    settings = [e for e in effects if isinstance(e, SaveRoom)][-1].settings
    assert settings == RoomSettings("alice", "ours", "alice", T, "t", ("x!*@*",))

    later = Chat(saved={"#dev": settings})  # the server started again
    bob = enter(later, "bob")
    (members,) = events(later.apply(bob, ev.Join("#dev"), T), ev.Members)
    assert (members.topic, members.ops) == ("ours", ())  # not new: bob is no operator
    alice = enter(later, "alice", account=True)
    effects = later.apply(alice, ev.Join("#dev"), T)
    (restored,) = events(effects, mod.ModeChanged)
    assert (restored.nick, restored.mode, restored.target) == ("", "+o", "alice")
    (joined,) = events(effects, ev.Joined)
    assert restored.seq == joined.seq + 1


def test_an_owned_room_keeps_its_settings_while_empty_and_others_forget():
    chat = Chat()
    alice, bob = enter(chat, "alice", account=True), enter(chat, "bob")
    for member, room in ((alice, "#owned"), (bob, "#guest")):
        chat.apply(member, ev.Join(room), T)
        chat.apply(member, mod.SetTopic("kept?"), T)
        chat.apply(member, ev.Part(room), T)
        (members,) = events(chat.apply(member, ev.Join(room), T), ev.Members)
        assert members.topic == ("kept?" if room == "#owned" else "")


def test_an_account_owns_at_most_max_owned_rooms():
    chat = Chat(max_owned_rooms=1)
    alice = enter(chat, "alice", account=True)
    chat.apply(alice, ev.Join("#one"), T)
    effects = chat.apply(alice, ev.Join("#two"), T)
    assert not [e for e in effects if isinstance(e, SaveRoom)]
    (state,) = events(chat.apply(alice, mod.SetMode(), T), mod.RoomState)
    assert (state.owner, state.ops) == (None, ("alice",))


def test_server_operators_moderate_everywhere_and_disconnect():
    chat = Chat(operators=("Root",))
    bob, carol = enter(chat, "bob"), enter(chat, "carol")
    root = enter(chat, "root", account=True)
    chat.apply(bob, ev.Join("#dev"), T)
    chat.apply(bob, mod.SetMode("+i"), T)
    chat.apply(bob, mod.SetMode("+b", "root!*@*"), T)
    assert errors(chat.apply(root, ev.Join("#dev"), T)) == []  # past the ban and +i
    assert events(chat.apply(root, mod.SetTopic("by root", "#dev"), T), mod.TopicChanged)
    assert errors(chat.apply(bob, mod.Disconnect("carol"), T)) == [(Code.NOT_OPERATOR, None)]

    effects = chat.apply(root, mod.Disconnect("carol", "spam"), T)
    assert events(effects, ev.Bye) == [ev.Bye(T, "disconnected by root: spam")]
    (left,) = events(effects, ev.Left)
    assert left.reason == "disconnected by root: spam"
    assert [e.member for e in effects if isinstance(e, Close)] == [carol]
    assert not carol.present
    assert errors(chat.apply(root, mod.Disconnect("carol"), T)) == [(Code.NO_SUCH_NICK, "carol")]


def test_rooms_that_do_not_exist_or_modes_unknown_are_errors(dev):
    chat, bob, _ = dev
    assert errors(chat.apply(bob, mod.SetTopic("x", "#nowhere"), T)) == [
        (Code.NOT_IN_ROOM, "#nowhere")
    ]
    assert errors(chat.apply(bob, mod.SetMode("+z"), T)) == [(Code.BAD_REQUEST, None)]
    assert errors(chat.apply(bob, mod.SetMode("+o"), T)) == [(Code.BAD_REQUEST, None)]
    assert errors(chat.apply(bob, mod.SetMode("-b", "nobody!*@*"), T)) == [(Code.BAD_REQUEST, None)]


def test_a_mask_of_many_stars_is_matched_at_once():
    # Matched by backtracking, each star trying every place, this ban took
    # longer than a test may run to refuse (or let speak) one member.
    chat = Chat()
    bob, many = enter(chat, "bob"), enter(chat, "a" * 32)
    chat.apply(bob, ev.Join("#dev"), T)
    chat.apply(many, ev.Join("#dev"), T)
    mask = "*a" * 40 + "!*@*b"
    assert matches("*a*a!*@*k", many)
    assert not matches(mask, many)
    assert events(chat.apply(bob, mod.SetMode("+b", mask), T), mod.ModeChanged)
    assert not errors(chat.apply(many, ev.Say("still here"), T))


def test_a_topic_is_kept_to_topic_max_bytes_of_whole_characters(dev):
    chat, bob, _ = dev
    effects = chat.apply(bob, mod.SetTopic("é" * mod.TOPIC_MAX, "#dev"), T)
    (changed,) = events(effects, mod.TopicChanged)
    assert changed.topic == "é" * (mod.TOPIC_MAX // 2)
    assert chat.rooms["#dev"].topic == changed.topic
