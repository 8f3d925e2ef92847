"""The IRC line codec: any bytes give a message, nothing, or a clear error."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trio_chat.protocol.irc.message import (
    MAX_BODY,
    MAX_CLIENT_TAGS,
    InputError,
    Message,
    line,
    parse,
)

# How a client escapes a tag's value; the server's own tags (time, msgid,
# account) hold nothing to escape.
_ESCAPE = str.maketrans({";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"})


def escape_tag(value: str) -> str:
    return value.translate(_ESCAPE)


def test_a_full_line_is_taken_apart():
    got = parse(rb"@time=now;+draft/x=a\sb\:c;flag :nick!u@h PRIVMSG #dev :hello  there")
    assert got == Message(
        "PRIVMSG",
        ("#dev", "hello  there"),
        {"time": "now", "+draft/x": "a b;c", "flag": ""},
        "nick!u@h",
    )


def test_commands_are_upper_cased_and_spaces_between_params_collapse():
    assert parse(b"privmsg   #a   b") == Message("PRIVMSG", ("#a", "b"))
    assert parse(b"PING :") == Message("PING", ("",))
    assert parse(b"CAP LS 302\r") == Message("CAP", ("LS", "302"))


def test_blank_lines_and_lone_sources_are_nothing():
    assert parse(b"") is None
    assert parse(b"   ") is None
    assert parse(b":nick") is None


def test_a_body_over_512_bytes_is_too_long_and_names_its_command():
    assert parse(b"PRIVMSG #a :" + b"x" * (MAX_BODY - 14)) == Message(
        "PRIVMSG", ("#a", "x" * (MAX_BODY - 14))
    )
    assert parse(b"PRIVMSG #a :" + b"x" * MAX_BODY) == InputError("too_long", "PRIVMSG")


def test_tags_beyond_the_clients_share_are_too_long():
    tags = b"@a=" + b"x" * MAX_CLIENT_TAGS
    assert parse(tags + b" PING x") == InputError("too_long", "PING")


def test_invalid_utf8_is_refused_with_its_command():
    assert parse(b"PRIVMSG #a :caf\xe9") == InputError("utf8", "PRIVMSG")


def test_lines_written_put_the_last_parameter_in_trailing_form_when_needed():
    assert line("PING", "token") == b"PING token\r\n"
    assert line("PRIVMSG", "#a", "hi") == b"PRIVMSG #a :hi\r\n"
    assert line("353", "me", "=", "#a", "x y", source="srv") == b":srv 353 me = #a :x y\r\n"
    assert line("JOIN", "#a", tags="time=t", source="n!u@h") == b"@time=t :n!u@h JOIN #a\r\n"
    assert line("TOPIC", "#a", "") == b"TOPIC #a :\r\n"


@given(st.binary(max_size=700))
def test_any_bytes_give_a_message_nothing_or_an_error(data):
    got = parse(data.replace(b"\n", b""))
    assert got is None or isinstance(got, Message | InputError)
    if isinstance(got, Message):
        assert got.command
        assert got.command == got.command.upper()


words = st.text(
    st.characters(blacklist_characters=" \r\n\0:", blacklist_categories=("Cs",)), min_size=1
)


@given(
    st.sampled_from(["PRIVMSG", "NOTICE", "JOIN", "001"]),
    st.lists(words, max_size=5),
    st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",))),
    st.dictionaries(st.from_regex(r"\+?[a-z][a-z0-9/-]{0,8}", fullmatch=True), st.text()),
)
def test_what_is_written_reads_back(command, middle, last, tags):
    written = ";".join(f"{k}={escape_tag(v)}" for k, v in tags.items())
    data = line(command, *middle, last, source="srv", tags=written)
    if len(data) > MAX_BODY + len(written) + 2:
        return
    got = parse(data.removesuffix(b"\r\n"))
    assert isinstance(got, Message)
    assert got.params == (*middle, last)
    assert got.source == "srv"
    assert dict(got.tags) == dict(tags)
