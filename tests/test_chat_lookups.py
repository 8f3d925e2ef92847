"""The chat's answers to lookups (WHO, WHOIS), synchronously: what IRC clients are shown."""

from __future__ import annotations

from datetime import UTC, datetime

from trio_chat.chat import Chat, Deliver, Member
from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups
from trio_chat.protocol import moderation as mod

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def enter(chat: Chat, nick: str) -> Member:
    member = Member()
    member.user, member.host = "u", f"{nick}.cloak"
    chat.enter(member, nick, T)
    return member


def answer(chat: Chat, member: Member, request: ev.Request) -> ev.Event:
    (effect,) = chat.apply(member, request, T)
    assert isinstance(effect, Deliver)
    return effect.event


def test_who_and_whois_mark_operators_and_voiced_members():
    chat = Chat()
    bob, carol = enter(chat, "bob"), enter(chat, "carol")
    chat.apply(bob, ev.Join("#dev"), T)  # its first member: an operator
    chat.apply(carol, ev.Join("#dev"), T)
    chat.apply(bob, mod.SetMode("+v", "carol", "#dev"), T)
    found = answer(chat, carol, lookups.Find("#dev"))
    assert isinstance(found, lookups.Found)
    assert dict(zip(found.nicks, found.marks, strict=True)) == {"bob": "@", "carol": "+"}
    whois = answer(chat, carol, lookups.Whois("bob"))
    assert isinstance(whois, lookups.WhoisReply)
    assert dict(zip(whois.rooms, whois.marks, strict=True)) == {"#lobby": "", "#dev": "@"}


def test_a_hidden_member_is_found_by_mask_only_by_those_it_shares_a_room_with():
    chat = Chat()
    evan, shivaram = enter(chat, "evan"), enter(chat, "shivaram")
    assert chat.apply(evan, lookups.Hide(True), T) == []
    chat.apply(evan, ev.Part("#lobby"), T)
    nicks = lambda mask: answer(chat, shivaram, lookups.Find(mask)).nicks  # noqa: E731
    assert nicks("eva*") == ()
    assert nicks("evan") == ("evan",)  # by its nickname, always
    chat.apply(evan, ev.Join("#test"), T)
    chat.apply(shivaram, ev.Join("#test"), T)
    assert nicks("eva*") == ("evan",)
    chat.apply(evan, lookups.Hide(False), T)
    chat.apply(shivaram, ev.Part("#test"), T)
    assert nicks("eva*") == ("evan",)


def test_members_who_left_or_were_renamed_are_remembered_for_a_while():
    chat = Chat()
    bob, carol = enter(chat, "bob"), enter(chat, "carol")
    chat.apply(bob, ev.ChangeNick("robert"), T)
    chat.leave(carol, "quit", T)
    assert chat.gone == {"bob": (bob.user, bob.host, None), "carol": (carol.user, carol.host, None)}
    assert chat.members["robert"] is bob


def test_a_mask_has_no_wildcards_but_star_and_question_mark():
    chat = Chat()
    bob = enter(chat, "bob")
    enter(chat, "bobby")
    nicks = lambda mask: answer(chat, bob, lookups.Find(mask)).nicks  # noqa: E731
    assert nicks("b?b*") == ("bob", "bobby")
    assert nicks("[b]ob") == ()
