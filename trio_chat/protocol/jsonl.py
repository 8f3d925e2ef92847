"""JSON mode: one JSON object per line, ``{"type": ..., field: value, ...}``.

The mapping is derived from the event dataclasses, so a field added to an
event is on the wire without further code. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from trio_chat.protocol import events as ev
from trio_chat.protocol.memo import once_per_object

T = TypeVar("T", ev.Request, ev.Event)
JsonValue = Any  # what json.loads returns

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class DecodeError(ValueError):
    """A line is not a valid request or event; the text says why."""


def to_json(obj: ev.Request | ev.Event) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"type": obj.TYPE}
    for name in ev.FIELDS[type(obj)]:
        out[name] = _plain(getattr(obj, name))
    return out


def iso_time(time: datetime) -> str:
    """``time`` as the protocol writes it: ISO 8601 in UTC, ending in Z."""
    return time.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _plain(value: object) -> JsonValue:
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, ev.Event):
        return to_json(value)
    if isinstance(value, ev.RoomInfo | ev.RoomSeq):
        return {name: getattr(value, name) for name in ev.FIELDS[type(value)]}
    return value


@once_per_object
def encode(obj: ev.Request | ev.Event) -> bytes:
    """One JSON line for ``obj``; cached so a broadcast is encoded once."""
    return (_dumps(to_json(obj)) + "\n").encode()


def decode_request(line: bytes | str) -> ev.Request:
    return _decode(line, ev.REQUEST_TYPES)


def decode_event(line: bytes | str) -> ev.Event:
    return _decode(line, ev.EVENT_TYPES)


def _decode(line: bytes | str, table: dict[str, type[T]]) -> T:
    try:
        obj = json.loads(line)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise DecodeError(f"not valid JSON: {exc}") from None
    return from_json(obj, table)


def from_json(obj: JsonValue, table: dict[str, type[T]]) -> T:
    if not isinstance(obj, dict):
        raise DecodeError("expected a JSON object")
    kind = obj.get("type")
    cls = table.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise DecodeError(f"unknown type {kind!r}")
    values: dict[str, object] = {}
    for name, (required, convert) in _READERS[cls].items():
        if name in obj:
            values[name] = convert(obj[name], name)
        elif required:
            raise DecodeError(f"{kind}: missing field {name!r}")
    return cls(**values)  # type: ignore[arg-type]


Reader = Callable[[JsonValue, str], object]
_KIND_NAMES = {str: "a string", int: "an integer"}


def _reader_for(hint: object) -> Reader:
    if hint is str:
        return _expect(str)
    if hint is int:
        return _expect(int)
    if hint == str | None:
        return _optional(_expect(str))
    if hint == int | None:
        return _optional(_expect(int))
    if hint is datetime:
        return _read_time
    if hint == tuple[str, ...]:
        return _tuple_of(_expect(str))
    if hint == tuple[ev.RoomInfo, ...]:
        return _tuple_of(_record_reader(ev.RoomInfo))
    if hint == tuple[ev.RoomSeq, ...]:
        return _tuple_of(_record_reader(ev.RoomSeq))
    if hint == tuple[ev.RoomEvent, ...]:
        return _tuple_of(_event_reader(ev.RoomEvent))
    if hint == tuple[ev.Private, ...]:
        return _tuple_of(_event_reader(ev.Private))
    raise TypeError(f"no JSON reader for {hint!r}")


def _expect(kind: type) -> Reader:
    def read(value: JsonValue, name: str) -> object:
        # bool is an int to Python, never to a reader of the protocol
        if not isinstance(value, kind) or isinstance(value, bool):
            raise DecodeError(f"field {name!r} must be {_KIND_NAMES[kind]}")
        return value

    return read


def _optional(read: Reader) -> Reader:
    return lambda value, name: None if value is None else read(value, name)


def _tuple_of(read: Reader) -> Reader:
    def read_all(value: JsonValue, name: str) -> object:
        if not isinstance(value, list):
            raise DecodeError(f"field {name!r} must be a list")
        return tuple(read(v, name) for v in value)

    return read_all


def _read_time(value: JsonValue, name: str) -> datetime:
    try:
        time = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise DecodeError(f"field {name!r} must be an ISO 8601 time") from None
    return time if time.tzinfo else time.replace(tzinfo=UTC)


def _record_reader(cls: type[object]) -> Reader:
    """Reads a plain record such as RoomInfo: an object with no type."""

    def read(value: JsonValue, name: str) -> object:
        if not isinstance(value, dict):
            raise DecodeError(f"field {name!r} must hold objects")
        fields = _READERS[cls]
        missing = [f for f, (required, _) in fields.items() if required and f not in value]
        if missing:
            raise DecodeError(f"field {name!r}: missing {missing[0]!r}")
        return cls(**{f: reader(value[f], f) for f, (_, reader) in fields.items() if f in value})

    return read


def _event_reader(kind: type[ev.Event]) -> Reader:
    def read(value: JsonValue, name: str) -> object:
        event = from_json(value, ev.EVENT_TYPES)
        if not isinstance(event, kind):
            raise DecodeError(f"field {name!r} must hold {kind.__name__} events")
        return event

    return read


def _read_plan(cls: type[object]) -> dict[str, tuple[bool, Reader]]:
    hints = typing.get_type_hints(cls)
    return {
        f.name: (f.default is dataclasses.MISSING, _reader_for(hints[f.name]))
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
    }


_READERS = {cls: _read_plan(cls) for cls in ev.FIELDS}
