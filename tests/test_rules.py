import unicodedata

import pytest

from trio_chat.protocol import ServerConnection
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import (
    FORMAT_CHARS,
    nick_problem,
    room_problem,
    sanitize,
    sanitize_secret,
)


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


# ------------------------------------------------------- runs of blanks


def test_a_long_run_of_spaces_cannot_push_a_fake_server_line_onto_its_own_row():
    forged = "hi" + " " * 70 + "[12:00:00] * alice left #lobby (quit: bye)"
    assert sanitize(forged) == "hi [12:00:00] * alice left #lobby (quit: bye)"


@pytest.mark.parametrize(
    "blank",
    [" ", "\t", "\xa0", "\u3000", "\u2003", "\u2800", "\u3164", "\u115f", "\u1160", "\uffa0"],
)
def test_four_or_more_blanks_of_any_kind_become_one_space(blank):
    assert sanitize(f"a{blank * 4}b{blank * 40}c") == "a b c"
    assert sanitize("a \u3000\u2800\xa0b") == "a b"


def test_up_to_three_blanks_stay_as_typed():
    assert sanitize("a   b  c") == "a   b  c"
    assert sanitize("a\u3000\u3000b") == "a\u3000\u3000b"


def test_every_whitespace_character_is_a_blank():
    spaces = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    for space in spaces:
        assert sanitize(f"a{space * 4}b") == "a b", hex(ord(space))


# --------------------------------------------------- format characters


@pytest.mark.parametrize(
    "char",
    [
        "\u200e",
        "\u200f",
        "\u061c",
        "\ufeff",
        "\u200b",
        "\u200c",
        "\u200d",
        "\ufff9",
        "\ufffa",
        "\ufffb",
        "\u00ad",
        "\u2066",
        "\U000e0001",
    ],
)
def test_format_characters_are_replaced(char):
    assert sanitize(f"a{char}b") == "a\ufffdb"


def test_every_format_character_is_known():
    category_cf = {c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"}
    assert category_cf == FORMAT_CHARS
    for c in category_cf - {0x200D, *range(0xE0020, 0xE0080)}:
        assert sanitize(f"x{chr(c)}y") == "x\ufffdy", hex(c)


@pytest.mark.parametrize(
    "emoji",
    [
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # family
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # technologist, skin tone
        "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag
        "\u2764\ufe0f\u200d\U0001f525",  # heart on fire
        "\U0001f9d4\u200d\u2642\ufe0f",  # man with a beard
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland
    ],
)
def test_emoji_sequences_keep_their_joiners_and_tags(emoji):
    assert sanitize(emoji) == emoji
    assert sanitize(f"\x1b {emoji}\u200b") == f"\u241b {emoji}\ufffd"


def test_joiners_and_tags_outside_emoji_are_replaced():
    assert sanitize("a\u200db") == "a\ufffdb"
    assert sanitize("\U0001f468\u200d") == "\U0001f468\ufffd"
    assert sanitize("\u200d\U0001f468") == "\ufffd\U0001f468"
    assert sanitize("x\U000e0067\U000e007f") == "x\ufffd\ufffd"


def test_lone_surrogates_are_replaced():
    assert sanitize("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert sanitize("\ud800") == "\ufffd"


# ------------------------------------------------------------ passwords


def test_a_password_keeps_its_blanks_and_joiners():
    password = "correct     horse\u200d\u3000\u3000\u3000\u3000x"
    assert sanitize_secret(password) == password


def test_a_password_loses_what_it_always_lost():
    assert sanitize_secret("a\x1b\x9b\u202eb\ud800") == "a\u241b\ufffd\ufffdb\ufffd"


def test_only_password_fields_are_secret():
    assert {(cls.__name__, name) for cls, name in ev.SECRETS} == {
        ("Hello", "password"),
        ("Register", "password"),
        ("SetPassword", "old"),
        ("SetPassword", "new"),
    }
    for cls, name in ev.SECRETS:
        assert name in ev.FIELDS[cls]


def test_requests_are_sanitized_but_passwords_spared_the_collapse():
    conn = ServerConnection()
    conn.receive_data(
        b'{"type":"hello","nick":"a","password":"pass      word"}\n'
        b'{"type":"quit","reason":"bye      \\u200ebye"}\n'
    )
    assert conn.next_event() == ev.Hello("a", "pass      word")
    assert conn.next_event() == ev.Quit("bye \ufffdbye")
