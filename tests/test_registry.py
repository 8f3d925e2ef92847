"""Wire classes register themselves: defining one with a TYPE is all it takes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from hypothesis import given, settings
from wire_strategies import built

from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl

T = datetime(2026, 11, 23, 21, 30, 19, 925393, tzinfo=UTC)


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


@pytest.fixture
def tables():
    """Undo whatever a test adds to the tables."""
    saved = dict(ev.REQUEST_TYPES), dict(ev.EVENT_TYPES)
    yield
    for table, before in zip((ev.REQUEST_TYPES, ev.EVENT_TYPES), saved, strict=True):
        table.clear()
        table.update(before)


@pytest.mark.parametrize(
    ("base", "table"), [(ev.Request, ev.REQUEST_TYPES), (ev.Event, ev.EVENT_TYPES)]
)
def test_every_class_with_a_type_is_in_its_table_as_defined(base, table):
    # The table holds the slotted class the decorator made, never the one it replaced.
    assert all("__slots__" in cls.__dict__ for cls in table.values())
    assert all(kind == cls.TYPE for kind, cls in table.items())
    finals = {c for c in _subclasses(base) if "__slots__" in c.__dict__ and c.TYPE}
    assert set(table.values()) == finals
    assert base not in table.values()
    assert ev.RoomEvent not in table.values()


@pytest.mark.parametrize(
    ("cls", "decode"),
    [
        *((cls, jsonl.decode_request) for cls in ev.REQUEST_TYPES.values()),
        *((cls, jsonl.decode_event) for cls in ev.EVENT_TYPES.values()),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_every_type_round_trips_through_json(cls, decode):
    @settings(max_examples=25)
    @given(built(cls))
    def round_trips(obj):
        assert decode(jsonl.encode(obj)) == obj
        assert type(decode(jsonl.encode(obj))) is cls

    round_trips()


def test_a_new_request_registers_itself_and_goes_on_the_wire(tables):
    @dataclass(frozen=True, slots=True)
    class Wave(ev.Request):
        TYPE: ClassVar[str] = "test_wave"
        nick: str
        times: int = 1

    assert ev.REQUEST_TYPES["test_wave"] is Wave
    assert ev.FIELDS[Wave] == ("nick", "times")
    line = jsonl.encode(Wave("bob", 3))
    assert json.loads(line) == {"type": "test_wave", "nick": "bob", "times": 3}
    assert jsonl.decode_request(line) == Wave("bob", 3)
    assert jsonl.decode_request('{"type":"test_wave","nick":"bob"}') == Wave("bob")
    with pytest.raises(jsonl.DecodeError, match="missing field 'nick'"):
        jsonl.decode_request('{"type":"test_wave"}')


def test_a_new_event_registers_itself_even_without_slots(tables):
    @dataclass(frozen=True)
    class Topic(ev.RoomEvent):
        TYPE: ClassVar[str] = "test_topic"
        topic: str

    assert ev.EVENT_TYPES["test_topic"] is Topic
    event = Topic(T, "#dev", 4, "all about trio")
    assert jsonl.decode_event(jsonl.encode(event)) == event


def test_a_type_cannot_be_claimed_twice(tables):
    with pytest.raises(TypeError, match=r"'say' is taken by .*\.Say$"):

        @dataclass(frozen=True, slots=True)
        class Shout(ev.Request):
            TYPE: ClassVar[str] = "say"
            text: str


def test_a_ping_keeps_its_wire_form_in_each_direction():
    # The server's carries its time; a client's has none.
    server = jsonl.encode(ev.ServerPing(T, "05a5a62c"))
    assert server == b'{"type":"ping","time":"2026-11-23T21:30:19.925393Z","token":"05a5a62c"}\n'
    assert jsonl.encode(ev.Ping("t1")) == b'{"type":"ping","token":"t1"}\n'
    assert jsonl.encode(ev.Pong("t1")) == b'{"type":"pong","token":"t1"}\n'
    assert jsonl.decode_event(server) == ev.ServerPing(T, "05a5a62c")
    assert jsonl.decode_request(server) == ev.Ping("05a5a62c")
    assert jsonl.decode_event(jsonl.encode(ev.ServerPong(T, "t1"))) == ev.ServerPong(T, "t1")
    assert (ev.ServerPing.TYPE, ev.ServerPong.TYPE) == (ev.Ping.TYPE, ev.Pong.TYPE)
