"""Hostile input is normal input: no line ends a connection with an exception.

Every line gets a request, a clear error or nothing (BLANK); every request the
server accepts can be encoded, stored and shown, with every number in range.
"""

from __future__ import annotations

import json

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_strategies import hostile_events, hostile_requests, int_fields, server_events

from trio_chat.client import commands
from trio_chat.client.commands import Invalid, Send
from trio_chat.protocol import (
    BLANK,
    CLOSED,
    NEED_DATA,
    BadInput,
    ClientConnection,
    Code,
    ProtocolError,
    ServerConnection,
    jsonl,
    text,
)
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import MAX_DEPTH, MAX_INT, MAX_RESUME
from trio_chat.testing import TextClient

# ------------------------------------------------------------------ helpers


def one(line: bytes, *, registered: bool = True, max_line_bytes: int = 4096) -> object:
    """What the server makes of a single line."""
    conn = ServerConnection(max_line_bytes=max_line_bytes)
    if registered:
        conn.accept()
    conn.receive_data(line + b"\n")
    [event] = server_events(conn)
    return event


def assert_wire_safe(obj: ev.Request | ev.Event) -> None:
    """``obj`` can be sent, stored and shown: the checks a real server makes."""
    jsonl.encode(obj).decode("utf-8")
    if isinstance(obj, ev.Event):
        text.format_event(obj).decode("utf-8")
    else:
        try:
            line = text.format_request(obj)
        except ValueError:  # text mode has no line for this one (a ping, a gap fill)
            line = ""
        line.encode("utf-8")
    assert all(0 <= n <= MAX_INT for n in int_fields(obj))


def assert_server_side_safe(conn: ServerConnection, data: list[bytes]) -> None:
    for chunk in [*(c for c in data if c), b""]:
        conn.receive_data(chunk)
        for event in server_events(conn):
            if isinstance(event, ev.Request):
                assert_wire_safe(event)
            else:
                assert isinstance(event, BadInput) or event in (BLANK, CLOSED)


def chunked(wire: bytes, cuts: list[int]) -> list[bytes]:
    cuts = sorted(cuts)
    return [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]


# ---------------------------------------------------------------- properties


@given(st.lists(st.binary(max_size=64), max_size=20), st.booleans(), st.sampled_from([32, 4096]))
def test_any_bytes_in_any_chunks_give_requests_errors_or_sentinels(chunks, registered, limit):
    conn = ServerConnection(max_line_bytes=limit)
    if registered:
        conn.accept()
    assert_server_side_safe(conn, chunks)


@settings(
    max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    st.lists(hostile_requests, min_size=1, max_size=4),
    st.data(),
    st.sampled_from([4096, 1 << 20]),
)
def test_hostile_json_requests_never_escape_the_codec(lines, data, limit):
    wire = "".join(line + "\n" for line in lines).encode()
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=6))
    assert_server_side_safe(ServerConnection(max_line_bytes=limit), chunked(wire, cuts))


text_lines = st.tuples(
    st.sampled_from(["", "/", "//", *(c.split()[0] + " " for c in text.COMMANDS), "/history @x "]),
    st.text(
        st.one_of(
            st.characters(),
            st.sampled_from(" \t\u3000\xa0\u2800\"'\\#@²\u06610123456789"),
        ),
        max_size=40,
    ),
).map("".join)


@given(st.lists(text_lines, max_size=8), st.booleans())
def test_hostile_text_lines_never_escape_the_codec(lines, registered):
    conn = ServerConnection()
    if registered:
        conn.accept()
    wire = "".join(line.replace("\n", " ").replace("\r", " ") + "\n" for line in lines)
    assert_server_side_safe(conn, [b"x\n" if registered else b"", wire.encode("utf-8", "replace")])


@settings(
    max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    st.lists(st.one_of(hostile_events, st.binary(max_size=50).map(repr)), max_size=4),
    st.lists(st.binary(max_size=40), max_size=4),
    st.data(),
)
def test_hostile_lines_from_a_server_never_escape_the_client(lines, junk, data):
    wire = b"".join(j + b"\n" for j in junk) + "".join(line + "\n" for line in lines).encode()
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=6))
    conn = ClientConnection()
    for chunk in [*(c for c in chunked(wire, cuts) if c), b""]:
        conn.receive_data(chunk)
        while (event := conn.next_event()) is not NEED_DATA and event is not CLOSED:
            assert isinstance(event, ev.Event)
            assert_wire_safe(event)


# ------------------------------------------------------------ 1. surrogates

SAMPLES: list[ev.Request] = [
    ev.Hello("alice", "hunter2hunter2", (ev.RoomSeq("#dev", 3),)),
    ev.Say("hi", "#dev"),
    ev.Act("waves", "#dev"),
    ev.Tell("bob", "psst"),
    ev.ChangeNick("bob"),
    ev.Join("#dev", 4),
    ev.Part("#dev"),
    ev.Who("#dev"),
    ev.GetHistory("#dev", 5, 6, 7, "bob"),
    ev.Register("hunter2hunter2"),
    ev.SetPassword("hunter2hunter2", "correct horse"),
    ev.Quit("bye"),
    ev.Ping("t1"),
    ev.Pong("t1"),
]


def with_field(request: ev.Request, name: str, raw: str) -> bytes:
    """``request`` as a JSON line with field ``name`` written as ``raw`` JSON."""
    obj = jsonl.to_json(request)
    obj[name] = "@@"
    return json.dumps(obj).replace('"@@"', raw).encode()


STRING_FIELDS = [
    (request, name)
    for request in SAMPLES
    for name in ev.FIELDS[type(request)]
    if isinstance(getattr(request, name), str)
]


@pytest.mark.parametrize(
    ("request_", "name"), STRING_FIELDS, ids=[f"{r.TYPE}.{n}" for r, n in STRING_FIELDS]
)
@pytest.mark.parametrize("raw", [r'"\ud800"', r'"ok \udfff"', r'"\udc00\ud800 reversed"'])
def test_a_lone_surrogate_in_any_string_field_is_refused_naming_it(request_, name, raw):
    assert one(with_field(request_, name, raw), registered=False) == BadInput(
        Code.BAD_REQUEST,
        f"field '{name}' holds a lone surrogate (\\ud800 to \\udfff): not valid Unicode",
    )


def test_a_surrogate_in_a_resume_room_is_refused():
    line = b'{"type":"hello","nick":"a","resume":[{"room":"#\\ud800","seq":1}]}'
    event = one(line, registered=False)
    assert isinstance(event, BadInput)
    assert event.code == Code.BAD_REQUEST
    assert "'room' holds a lone surrogate" in event.message


def test_a_surrogate_pair_is_one_good_character():
    assert one(b'{"type":"say","text":"\\ud83d\\udc4b"}') == ev.Say("\U0001f44b")


def test_a_surrogate_encoded_in_utf8_bytes_is_not_utf8():
    # json.loads on bytes would let these through ("surrogatepass")
    event = one(b'{"type":"say","text":"\xed\xa0\x80"}')
    assert event == BadInput(Code.BAD_JSON, "not valid JSON: the line is not valid UTF-8")


def test_an_event_with_a_surrogate_is_skipped_by_the_client():
    conn = ClientConnection()
    conn.receive_data(
        b'{"type":"notice","time":"2026-01-01T00:00:00Z","text":"\\ud800"}\n'
        b'{"type":"notice","time":"2026-01-01T00:00:00Z","text":"ok"}\n'
    )
    event = conn.next_event()
    assert isinstance(event, ev.Notice)
    assert event.text == "ok"
    assert conn.next_event() is NEED_DATA


# ------------------------------------------------------------- 2. integers

INT_FIELDS = [("history", "limit"), ("history", "before"), ("history", "after"), ("join", "after")]
OUT_OF_RANGE = [
    "-1",
    "-9223372036854775808",
    str(MAX_INT + 1),
    str(2**63),
    str(2**64),
    "1" + "0" * 30,
]
NOT_INTEGERS = ["1.0", "1e3", "true", "false", '"5"', "[5]", "NaN", "Infinity"]


@pytest.mark.parametrize(("kind", "name"), INT_FIELDS)
@pytest.mark.parametrize("raw", OUT_OF_RANGE + NOT_INTEGERS)
def test_integers_outside_the_range_or_not_integers_are_refused(kind, name, raw):
    line = f'{{"type":"{kind}","room":"#dev","{name}":{raw}}}'.encode()
    assert one(line) == BadInput(
        Code.BAD_REQUEST, f"field '{name}' must be an integer from 0 to {MAX_INT}"
    )


@pytest.mark.parametrize("raw", OUT_OF_RANGE + NOT_INTEGERS)
def test_a_resume_seq_out_of_range_is_refused(raw):
    line = f'{{"type":"hello","nick":"a","resume":[{{"room":"#a","seq":{raw}}}]}}'.encode()
    assert one(line, registered=False) == BadInput(
        Code.BAD_REQUEST, f"field 'seq' must be an integer from 0 to {MAX_INT}"
    )


def test_the_ends_of_the_range_are_accepted():
    line = f'{{"type":"history","limit":0,"before":{MAX_INT},"after":{MAX_INT}}}'.encode()
    assert one(line) == ev.GetHistory(limit=0, before=MAX_INT, after=MAX_INT)


@pytest.mark.parametrize("seq", [str(2**63), "-1", "1.5"])
def test_an_event_seq_out_of_range_is_refused(seq):
    line = f'{{"type":"joined","time":"2026-01-01T00:00:00Z","room":"#a","seq":{seq},"nick":"b"}}'
    with pytest.raises(jsonl.DecodeError, match="'seq' must be an integer from 0 to"):
        jsonl.decode_event(line)


@pytest.mark.parametrize("time", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-23:59", "x"])
def test_event_times_a_reader_cannot_show_are_refused(time):
    with pytest.raises(jsonl.DecodeError, match="'time' must be an ISO 8601 time"):
        jsonl.decode_event(f'{{"type":"notice","time":"{time}","text":"hi"}}')


def test_a_number_with_too_many_digits_is_bad_json_not_a_crash():
    line = b'{"type":"history","limit":' + b"9" * 5000 + b"}"
    event = one(line, max_line_bytes=1 << 16)
    assert isinstance(event, BadInput)
    assert event.code == Code.BAD_JSON


# -------------------------------------------------------------- 3. nesting


def nested(depth: int) -> bytes:
    """A say request whose extra field nests lists so that the line is ``depth`` deep."""
    inner = depth - 1
    return b'{"type":"say","text":"hi","x":' + b"[" * inner + b"]" * inner + b"}"


def test_nesting_up_to_the_limit_is_accepted_and_deeper_is_refused():
    assert one(nested(MAX_DEPTH)) == ev.Say("hi")
    assert one(nested(MAX_DEPTH + 1)) == BadInput(
        Code.BAD_JSON, f"not valid JSON: nested deeper than {MAX_DEPTH} levels"
    )


@pytest.mark.parametrize("depth", [500, 2000, 100_000])
def test_nesting_deeper_than_python_recurses_is_a_clear_error(depth):
    event = one(nested(depth), max_line_bytes=1 << 20)
    assert event == BadInput(
        Code.BAD_JSON, f"not valid JSON: nested deeper than {MAX_DEPTH} levels"
    )


def test_brackets_inside_strings_are_text_not_nesting():
    brackets = "[{" * 100
    assert one(json.dumps({"type": "say", "text": brackets}).encode()) == ev.Say(brackets)


def test_a_full_history_event_is_within_the_depth():
    event = ev.History(ev.now(), "#a", (ev.Message(ev.now(), "#a", 1, "b", "[[[[[[[[[[[["),) * 20)
    assert jsonl.decode_event(jsonl.encode(event)) == event


# ----------------------------------------------------------- 4. list sizes


def resume_line(entries: int) -> bytes:
    rooms = [{"room": f"#r{n}", "seq": n} for n in range(entries)]
    return json.dumps({"type": "hello", "nick": "a", "resume": rooms}).encode()


def test_resume_holds_at_most_its_limit():
    event = one(resume_line(MAX_RESUME), registered=False, max_line_bytes=1 << 16)
    assert isinstance(event, ev.Hello)
    assert len(event.resume) == MAX_RESUME
    assert one(resume_line(MAX_RESUME + 1), registered=False, max_line_bytes=1 << 16) == BadInput(
        Code.BAD_REQUEST, f"field 'resume' holds at most {MAX_RESUME} entries"
    )


# ------------------------------------------------------------ 5. text mode


@pytest.mark.parametrize(
    "line",
    [
        "/history ²",
        "/history \u0661\u0662",  # Arabic-Indic digits
        "/history 99999999999999999999999",
        f"/history {MAX_INT + 1}",
        "/history #dev ²",
        "/history @bob 1" + "0" * 5000,
        "/history -1",
        "/history 1 2",
    ],
)
def test_history_takes_only_ascii_digits_within_the_range(line):
    event = one(line.encode(), max_line_bytes=1 << 16)
    assert isinstance(event, BadInput)
    assert event.code == Code.BAD_REQUEST
    assert event.message.startswith("usage: /history")


def test_history_takes_the_largest_number_in_the_range():
    assert one(f"/history #dev {MAX_INT}".encode()) == ev.GetHistory("#dev", MAX_INT)


@pytest.mark.parametrize("space", ["\u3000", "\xa0", "\t", "  "])
def test_any_whitespace_separates_the_words_of_a_command(space):
    assert one(f"/msg{space}bob{space}hi there".encode()) == ev.Tell("bob", "hi there")


@pytest.mark.parametrize(
    "line", ["/msg", "/msg \u3000", "/msg bob\u3000", "/me \xa0", "/join \u3000"]
)
def test_commands_with_only_blank_arguments_say_how_to_use_them(line):
    event = one(line.encode())
    assert isinstance(event, BadInput)
    assert event.message.startswith("usage: ")


# ---------------------------------------------- 8. blank lines are counted


@pytest.mark.parametrize(
    ("first", "blank"),
    [(b"alice\n", b"\n"), (b"alice\n", b"  \t\r\n"), (b'{"type":"ping"}\n', b"   \n")],
)
def test_a_blank_line_is_handed_out_as_blank(first, blank):
    conn = ServerConnection()
    conn.receive_data(first + blank + blank)
    events = server_events(conn)
    assert events[1:] == [BLANK, BLANK]


def test_a_blank_first_line_is_counted_and_chooses_text_mode():
    conn = ServerConnection()
    conn.receive_data(b"\n")
    assert server_events(conn) == [BLANK]
    assert conn.mode == "text"


async def test_a_flood_of_blank_lines_is_slowed_then_cut_off(start_chat, autojump_clock):
    _, listener = await start_chat(flood_burst=5, flood_rate=2.0, flood_kick=10)
    alice = await TextClient.connect(listener)
    await alice.login("alice")
    blanks = await TextClient.connect(listener)
    await blanks.login("blanks")
    await alice.expect(r"\* blanks joined")
    start = trio.current_time()
    await blanks.send_line(b"\n" * 7 + b"after the blanks")
    await alice.expect("blanks: after the blanks$")
    # The nickname took one of the 5 at once; then 2 a second: the eight lines
    # after it (seven blank) waited 2 s in all, as eight said lines would.
    assert trio.current_time() - start == pytest.approx(2.0, abs=0.01)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(blanks.send_line, b"\n" * 40)
        await alice.expect(r"\* blanks left #lobby \(excess flood\)$")
    assert (await blanks.lines_until_closed())[-1].endswith("disconnected: excess flood")


async def test_blank_lines_before_the_nickname_are_counted(start_chat, autojump_clock):
    _, listener = await start_chat(flood_burst=5, flood_rate=2.0, flood_kick=10)
    blanks = await TextClient.connect(listener)
    await blanks.send_line(b"\n" * 60)
    lines = await blanks.lines_until_closed()
    assert lines[-1].endswith("disconnected: excess flood")


# -------------------------------------------------------------- 9. errors


def test_every_protocol_error_carries_its_code():
    with pytest.raises(ProtocolError) as caught:
        jsonl.decode_request(b"{nope")
    assert isinstance(caught.value, jsonl.DecodeError)
    assert caught.value.code == Code.BAD_JSON
    with pytest.raises(ProtocolError) as caught:
        jsonl.decode_request(b'{"type":"say"}')
    assert caught.value.code == Code.BAD_REQUEST
    with pytest.raises(ProtocolError) as caught:
        text.parse_request("/dance", registered=True)
    assert isinstance(caught.value, text.CommandError)
    assert caught.value.code == Code.UNKNOWN_COMMAND


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{nope", Code.BAD_JSON),
        (b"[1]", Code.BAD_JSON),
        (b'{"type":"JSON"}', Code.BAD_REQUEST),  # the word JSON no longer decides
        (b'{"type":"say","text":5,"JSON":1}', Code.BAD_REQUEST),
    ],
)
def test_the_code_comes_from_the_error_not_its_wording(line, code):
    conn = ServerConnection()
    conn.receive_data(b'{"type":"ping"}\n' + line + b"\n")
    event = server_events(conn)[1]
    assert isinstance(event, BadInput)
    assert event.code == code


# ----------------------------------------------- the terminal client's lines


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('/password "old one" new-one', Send(ev.SetPassword("old one", "new-one"))),
        ("/history \u00b2", Invalid(f"usage: /history [#room | @nick] [N], N from 0 to {MAX_INT}")),
        (
            "/password 'open",
            Invalid(f"usage: /password OLD NEW; a quote is not closed: {text.QUOTING}"),
        ),
        ("/msg\u3000bob\u3000hi", Send(ev.Tell("bob", "hi"))),
    ],
)
def test_the_terminal_client_reads_typed_lines_the_same_way(line, expected):
    assert commands.parse(line) == expected
