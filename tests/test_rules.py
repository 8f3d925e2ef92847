import pytest

from trio_chat.protocol.rules import nick_problem, room_problem, sanitize


def test_escape_sequences_become_visible_text():
    assert sanitize("hi \x1b[2J\x07 there") == "hi \u241b[2J\u2407 there"


def test_c1_controls_and_bidi_overrides_are_replaced():
    assert sanitize("a\x9b31mb\u202ec") == "a\ufffd31mb\ufffdc"


def test_ordinary_text_is_untouched():
    text = "héllo wörld 👋 <b>&"
    assert sanitize(text) is text


@pytest.mark.parametrize("nick", ["alice", "Bob_2", "x", "a.b-c", "n" * 32])
def test_good_nicknames(nick):
    assert nick_problem(nick) is None


@pytest.mark.parametrize(
    ("nick", "why"),
    [
        ("", "empty"),
        ("n" * 33, "longer than 32"),
        ("bob smith", "letters"),
        ("*bob", "letters"),
        ("!bob", "letters"),
        ("[bob]", "letters"),
        ("bob:", "letters"),
    ],
)
def test_bad_nicknames_say_why(nick, why):
    problem = nick_problem(nick)
    assert problem is not None
    assert why in problem


def test_room_names():
    assert room_problem("#dev") is None
    assert room_problem("dev") is not None
    assert room_problem("#a b") is not None
