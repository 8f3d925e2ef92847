"""Both codecs, synchronously: what a line means, and round trips."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wire_strategies import events, requests, server_events

from trio_chat.protocol import (
    NEED_DATA,
    BadInput,
    ClientConnection,
    Code,
    ServerConnection,
    jsonl,
    text,
)
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod


@given(requests)
def test_json_round_trips_every_request(request):
    assert jsonl.decode_request(jsonl.encode(request)) == request


@given(events)
def test_json_round_trips_every_event(event):
    assert jsonl.decode_event(jsonl.encode(event)) == event


def test_json_event_carries_type_room_time_and_seq():
    time = datetime(2026, 11, 23, 14, 3, 7, tzinfo=UTC)
    line = jsonl.encode(ev.Message(time, "#lobby", 7, "alice", "hi"))
    assert line.endswith(b"\n")
    assert jsonl.to_json(jsonl.decode_event(line)) == {
        "type": "message",
        "time": "2026-11-23T14:03:07Z",
        "room": "#lobby",
        "seq": 7,
        "nick": "alice",
        "text": "hi",
    }


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"type": "shout"}', "unknown type"),
        (b'{"type": "say"}', "missing field 'text'"),
        (b'{"type": "say", "text": 5}', "'text' must be a string"),
        (b'{"type": "history", "limit": true}', "'limit' must be an integer"),
        (b'{"type": "hide", "hidden": "yes"}', "'hidden' must be true or false"),
    ],
)
def test_json_rejects_bad_requests_saying_why(line, complaint):
    with pytest.raises(jsonl.DecodeError, match=complaint):
        jsonl.decode_request(line)


line_text = st.text(st.characters(exclude_characters="\r\n"), min_size=1).filter(str.strip)
word = st.text(
    st.characters(exclude_characters="\r\n\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0 "), min_size=1
).filter(lambda w: w == w.strip() and not w.startswith("/") and w.split() == [w])
stripped = line_text.map(str.strip).filter(lambda t: t.split() != [])
text_requests = st.one_of(
    st.builds(ev.Say, line_text),
    st.builds(ev.Act, stripped),
    st.builds(ev.Tell, word, stripped),
    st.builds(ev.ChangeNick, word),
    st.builds(ev.Join, word),
    st.builds(ev.Part, st.none() | word),
    st.builds(ev.Who, st.none() | word),
    st.just(ev.ListRooms()),
    st.builds(ev.GetHistory, st.none(), st.none() | st.integers(0, 10**6)),
    st.just(ev.GetHelp()),
    st.builds(ev.Quit, st.just("") | stripped),
)
rooms = word.map(lambda w: "#" + w)
nicks = word.filter(lambda w: not w.startswith("#"))
moderation_requests = st.one_of(
    st.builds(mod.SetTopic, st.none() | st.just("") | stripped, st.none() | rooms).filter(
        lambda r: r.room or not (r.text or "").startswith("#")
    ),
    st.builds(mod.Kick, nicks, st.none() | rooms, st.just("") | stripped),
    st.builds(mod.SetMode, st.sampled_from(sorted(mod.MODES)), nicks, st.none() | rooms),
    st.builds(mod.SetMode, st.none() | st.sampled_from(["+i", "-m"]), st.none(), rooms),
    st.builds(mod.Invite, nicks, st.none() | rooms),
    st.builds(mod.Disconnect, nicks, st.just("") | stripped),
)


@given(moderation_requests)
def test_text_round_trips_moderation_commands(request):
    assert text.parse_request(text.format_request(request), registered=True) == request


@pytest.mark.parametrize(
    ("line", "wanted"),
    [
        ("/topic", mod.SetTopic()),
        ("/topic #dev release friday", mod.SetTopic("release friday", "#dev")),
        ("/notopic", mod.SetTopic("")),
        ("/kick carol spam, again", mod.Kick("carol", reason="spam, again")),
        ("/ban", mod.SetMode("+b")),
        ("/ban #dev *!*@x.cloak", mod.SetMode("+b", "*!*@x.cloak", "#dev")),
        ("/unban $a:mallory", mod.SetMode("-b", "$a:mallory")),
        ("/voice carol", mod.SetMode("+v", "carol")),
        ("/mode #dev +i", mod.SetMode("+i", room="#dev")),
        ("/invite carol #dev", mod.Invite("carol", "#dev")),
        ("/disconnect mallory flooding", mod.Disconnect("mallory", "flooding")),
    ],
)
def test_moderation_commands_as_typed(line, wanted):
    assert text.parse_request(line, registered=True) == wanted


@given(text_requests)
def test_text_round_trips_what_a_person_types(request):
    assert text.parse_request(text.format_request(request), registered=True) == request


@given(word)
def test_before_registering_a_plain_line_is_the_nickname(nick):
    assert text.parse_request(nick, registered=False) == ev.Hello(nick)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("/dance", Code.UNKNOWN_COMMAND),
        ("/msg bob", Code.BAD_REQUEST),
        ("/join", Code.BAD_REQUEST),
        ("/kick", Code.BAD_REQUEST),
        ("/disconnect ", Code.BAD_REQUEST),
        ("/op carol dave", Code.BAD_REQUEST),
        ("/mode #dev +o carol dave", Code.BAD_REQUEST),
    ],
)
def test_text_commands_that_cannot_be_carried_out(line, code):
    with pytest.raises(text.CommandError) as caught:
        text.parse_request(line, registered=True)
    assert caught.value.code == code


def test_slash_slash_says_a_line_starting_with_slash():
    assert text.parse_request("//etc/passwd is here", registered=True) == ev.Say(
        "/etc/passwd is here"
    )


def test_text_lines_a_person_reads():
    t = datetime(2026, 11, 23, 14, 3, 7, tzinfo=UTC)
    clock = t.astimezone().strftime("[%H:%M:%S]")
    assert text.format_event(ev.Message(t, "#lobby", 1, "alice", "hello everyone")) == (
        f"{clock} alice: hello everyone\n".encode()
    )
    assert text.format_event(ev.Left(t, "#lobby", 2, "bob", "connection lost")) == (
        f"{clock} * bob left #lobby (connection lost)\n".encode()
    )
    assert text.format_event(
        ev.Error(t, Code.NICK_TAKEN, 'nickname "bob" is taken, choose another')
    ) == (b'! nickname "bob" is taken, choose another\n')


def test_first_line_chooses_the_mode():
    text_conn = ServerConnection()
    text_conn.receive_data(b"alice\n")
    assert server_events(text_conn) == [ev.Hello("alice")]
    assert text_conn.mode == "text"

    json_conn = ServerConnection()
    json_conn.receive_data(b'{"type":"hello","nick":"alice"}\n')
    assert server_events(json_conn) == [ev.Hello("alice")]
    assert json_conn.mode == "json"


def test_bad_input_is_reported_and_the_next_line_still_counts():
    conn = ServerConnection(max_line_bytes=10)
    conn.accept()
    conn.receive_data(b"hi\n\xff\xfe\n" + b"x" * 50 + b"\nstill here\n")
    assert server_events(conn) == [
        ev.Say("hi"),
        BadInput(Code.BAD_UTF8, "line is not valid UTF-8, discarded"),
        BadInput(Code.LINE_TOO_LONG, "line longer than 10 bytes, discarded"),
        ev.Say("still here"),
    ]


def test_requests_arrive_sanitized_in_both_modes():
    conn = ServerConnection()
    conn.accept()
    conn.receive_data(b"clear \x1b[2J\n")
    assert server_events(conn) == [ev.Say("clear \u241b[2J")]

    conn = ServerConnection()
    conn.receive_data(b'{"type":"say","text":"clear \\u001b[2J"}\n')
    assert server_events(conn) == [ev.Say("clear \u241b[2J")]


@given(st.lists(events, max_size=5), st.data())
def test_client_reads_back_every_event_however_the_bytes_are_split(sent, data):
    wire = b"welcome to trio-chat; choose a nickname\n" + b"".join(jsonl.encode(e) for e in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    conn = ClientConnection()
    got = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        if end > start:
            conn.receive_data(wire[start:end])
        while (event := conn.next_event()) is not NEED_DATA:
            got.append(event)
    assert got == sent


passwords = st.text(st.characters(exclude_characters="\r\n"))


@given(passwords, passwords)
def test_password_words_with_spaces_and_quotes_round_trip(old, new):
    request = ev.SetPassword(old, new)
    assert text.parse_request(text.format_request(request), registered=True) == request


@given(passwords)
def test_a_registered_password_round_trips(password):
    request = ev.Register(password)
    assert text.parse_request(text.format_request(request), registered=True) == request


@pytest.mark.parametrize(
    ("line", "old", "new"),
    [
        ('/password "correct horse" "battery staple"', "correct horse", "battery staple"),
        ("/password 'it is' new-one", "it is", "new-one"),
        ("/password it'\"'s \"say 'hi'\"", 'it"s', "say 'hi'"),
        ('/password a\\b "c\\"', "a\\b", "c\\"),  # a backslash is a character
        ('/password "" x', "", "x"),
        ("/password  plain   words ", "plain", "words"),
    ],
)
def test_password_takes_two_words_quoted_as_in_a_shell(line, old, new):
    assert text.parse_request(line, registered=True) == ev.SetPassword(old, new)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("/password only-one", "usage: /password OLD NEW; put a password with spaces"),
        ("/password a b c", "usage: /password OLD NEW; put a password with spaces"),
        ('/password "not closed x', "a quote is not closed"),
        ("/register 'not closed", "a quote is not closed"),
        ('/register "two" "words"', "usage: /register PASSWORD; put a password"),
    ],
)
def test_password_commands_explain_the_quoting(line, why):
    with pytest.raises(text.CommandError) as caught:
        text.parse_request(line, registered=True)
    assert caught.value.code == Code.BAD_REQUEST
    assert why in caught.value.message


@pytest.mark.parametrize(
    ("line", "password"),
    [
        ("/register correct horse battery", "correct horse battery"),
        ("/register   spaced out  ", "spaced out"),
        ('/register say "hi"', 'say "hi"'),
        ('/register "  padded  "', "  padded  "),
        ("/register 'quoted \"inside\"'", 'quoted "inside"'),
    ],
)
def test_register_takes_the_rest_of_the_line_unless_it_is_quoted(line, password):
    assert text.parse_request(line, registered=True) == ev.Register(password)
