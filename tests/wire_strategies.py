"""Hypothesis strategies for what crosses the wire: good values and hostile ones."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime

from hypothesis import strategies as st

from trio_chat.protocol import CLOSED, NEED_DATA, ServerConnection, jsonl
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.rules import MAX_INT


def server_events(conn: ServerConnection) -> list[object]:
    """Everything ``conn`` has made of what it was fed, up to its end."""
    out = []
    while (event := conn.next_event()) is not NEED_DATA:
        out.append(event)
        if event is CLOSED:
            break
    return out


times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30), timezones=st.just(UTC)
)
wire_ints = st.integers(0, MAX_INT)


def _value(hint: object) -> st.SearchStrategy[object]:
    """A valid value for a field of type ``hint``."""
    if hint is int:
        return wire_ints
    if hint == int | None:
        return st.none() | wire_ints
    if hint is datetime:
        return times
    if hint == datetime | None:
        return st.none() | times
    if hint == tuple[ev.RoomEvent, ...]:
        return st.lists(room_events, max_size=3).map(tuple)
    if hint == tuple[ev.Private, ...]:
        return st.lists(built(ev.Private), max_size=3).map(tuple)
    if hint == tuple[ev.RoomInfo, ...]:
        return st.lists(built(ev.RoomInfo), max_size=3).map(tuple)
    if hint == tuple[ev.RoomSeq, ...]:
        return st.lists(built(ev.RoomSeq), max_size=3).map(tuple)
    return st.from_type(hint)  # type: ignore[arg-type]


def built(cls: type) -> st.SearchStrategy[typing.Any]:
    """Instances of a wire class whose every field is in range."""
    hints = typing.get_type_hints(cls)
    return st.builds(
        cls, **{name: st.deferred(lambda h=hints[name]: _value(h)) for name in ev.FIELDS[cls]}
    )


room_events = st.one_of(
    built(cls)
    for cls in (
        ev.Message,
        ev.Action,
        ev.Joined,
        ev.Left,
        ev.NickChanged,
        mod.TopicChanged,
        mod.Kicked,
        mod.ModeChanged,
    )
)
requests = st.one_of(built(cls) for cls in ev.REQUEST_TYPES.values())
events = st.one_of(built(cls) for cls in ev.EVENT_TYPES.values())

# ------------------------------------------------------------------ hostile

surrogates = st.integers(0xD800, 0xDFFF).map(chr)
# Text with lone surrogates in it, written to JSON as \ud800-style escapes.
surrogate_text = (
    st.lists(st.one_of(st.characters(), surrogates), min_size=1)
    .map("".join)
    .filter(lambda s: any(0xD800 <= ord(c) <= 0xDFFF for c in s))
)
huge_ints = st.one_of(
    st.integers(MAX_INT + 1, 2**64 + 1),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.integers(max_value=-1),
    st.integers(10**30, 10**60),
)


hostile_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        huge_ints,
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
        surrogate_text,
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


def _json(value: object) -> str:
    # allow_nan writes NaN and Infinity, which json.loads reads back
    return json.dumps(value, ensure_ascii=True)


deep = st.one_of(st.integers(1, 20), st.integers(900, 5000), st.just(100_000)).flatmap(
    lambda n: st.sampled_from([("[" * n + "]" * n), ('{"a":' * n + "1" + "}" * n)])
)


@st.composite
def hostile_objects(draw: st.DrawFn, types: dict[str, type]) -> str:
    """A valid JSON request or event with some fields replaced by any kind
    of value at all: the shape that reaches the field readers.

    Returned as text, since deep nesting is more than json.dumps can write.
    """
    cls = types[draw(st.sampled_from(sorted(types)))]
    fields = {name: _json(value) for name, value in jsonl.to_json(draw(built(cls))).items()}
    names = [*ev.FIELDS[cls], draw(st.text(max_size=5))]
    for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=3)):
        fields[name] = draw(
            st.one_of(
                surrogate_text.map(_json),
                surrogate_text.map(_json),
                huge_ints.map(_json),
                huge_ints.map(_json),
                hostile_values.map(_json),
                deep,
                st.lists(hostile_values.map(_json), max_size=200).map(
                    lambda vs: f"[{','.join(vs)}]"
                ),
                st.lists(
                    st.builds(
                        lambda room, seq: f'{{"room":{room},"seq":{seq}}}',
                        st.one_of(st.just('"#a"'), hostile_values.map(_json)),
                        st.one_of(huge_ints.map(_json), hostile_values.map(_json)),
                    ),
                    max_size=150,
                ).map(lambda vs: f"[{','.join(vs)}]"),
            )
        )
    return "{" + ",".join(f"{_json(name)}:{value}" for name, value in fields.items()) + "}"


hostile_requests = hostile_objects(ev.REQUEST_TYPES)
hostile_events = hostile_objects(ev.EVENT_TYPES)


def int_fields(obj: object) -> list[int]:
    """Every integer a request or event holds, nested ones too."""
    found: list[int] = []
    for name in ev.FIELDS.get(type(obj), ()):
        value = getattr(obj, name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, int):
                found.append(item)
            elif type(item) in ev.FIELDS:
                found += int_fields(item)
    return found
