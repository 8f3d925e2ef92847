"""JSON mode: one JSON object per line, ``{"type": ..., field: value, ...}``.

The mapping is derived from the event dataclasses, so a field added to an
event, or a new event, is on the wire without further code. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code, ProtocolError
from trio_chat.protocol.rules import MAX_DEPTH, MAX_INT, MAX_RESUME

T = TypeVar("T", ev.Request, ev.Event)
JsonValue = Any  # what json.loads returns


class DecodeError(ProtocolError, ValueError):
    """A JSON line is not a valid request or event; the text says why."""


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Event times a reader can turn into local time anywhere without overflowing.
_EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
_LATEST = datetime(9998, 12, 31, tzinfo=UTC)


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


def encode(obj: ev.Request | ev.Event) -> bytes:
    """One JSON line for ``obj``."""
    return (_dumps(to_json(obj)) + "\n").encode()


def decode_request(line: bytes | str) -> ev.Request:
    return _decode(line, ev.REQUEST_TYPES)


def decode_event(line: bytes | str) -> ev.Event:
    return _decode(line, ev.EVENT_TYPES)


def _decode(line: bytes | str, table: dict[str, type[T]]) -> T:
    """Parse one line; raises DecodeError and nothing else."""
    try:
        text = line.decode() if isinstance(line, bytes) else line
    except UnicodeDecodeError:
        raise DecodeError("not valid JSON: the line is not valid UTF-8", Code.BAD_JSON) from None
    nesting = text.count("[") + text.count("{")  # an upper bound, and cheap
    try:
        obj = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:  # also the limit on an integer's digits
        raise DecodeError(f"not valid JSON: {exc}", Code.BAD_JSON) from None
    if nesting > MAX_DEPTH and _deeper_than(obj, MAX_DEPTH):
        raise _too_deep()
    return from_json(obj, table)


def _too_deep() -> DecodeError:
    return DecodeError(f"not valid JSON: nested deeper than {MAX_DEPTH} levels", Code.BAD_JSON)


def _deeper_than(obj: JsonValue, limit: int) -> bool:
    """Whether lists and objects in ``obj`` nest deeper than ``limit``."""
    level = [obj] if isinstance(obj, dict | list) else []
    for _ in range(limit):
        level = [
            child
            for parent in level
            for child in (parent.values() if isinstance(parent, dict) else parent)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def from_json(obj: JsonValue, table: dict[str, type[T]]) -> T:
    if not isinstance(obj, dict):
        raise DecodeError("expected a JSON object", Code.BAD_JSON)
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


def _reader_for(hint: object, max_items: int | None = None) -> Reader:
    if hint is str:
        return _read_str
    if hint is int:
        return _read_int
    if hint is bool:
        return _read_bool
    if hint == str | None:
        return _optional(_read_str)
    if hint == int | None:
        return _optional(_read_int)
    if hint is datetime:
        return _read_time
    if hint == datetime | None:
        return _optional(_read_time)
    if hint == tuple[str, ...]:
        return _tuple_of(_read_str, max_items)
    if hint == tuple[ev.RoomInfo, ...]:
        return _tuple_of(_record_reader(ev.RoomInfo), max_items)
    if hint == tuple[ev.RoomSeq, ...]:
        return _tuple_of(_record_reader(ev.RoomSeq), max_items)
    if hint == tuple[ev.RoomEvent, ...]:
        return _tuple_of(_event_reader(ev.RoomEvent), max_items)
    if hint == tuple[ev.Private, ...]:
        return _tuple_of(_event_reader(ev.Private), max_items)
    raise TypeError(f"no JSON reader for {hint!r}")


def _read_bool(value: JsonValue, name: str) -> bool:
    if type(value) is not bool:
        raise DecodeError(f"field {name!r} must be true or false")
    return value


def _read_str(value: JsonValue, name: str) -> str:
    if type(value) is not str:
        raise DecodeError(f"field {name!r} must be a string")
    # json.loads lets "\ud800" through; no UTF-8 encoder, SQLite or peer would.
    if not value.isascii() and _SURROGATE_RE.search(value):
        raise DecodeError(
            f"field {name!r} holds a lone surrogate (\\ud800 to \\udfff): not valid Unicode"
        )
    return value


def _read_int(value: JsonValue, name: str) -> int:
    # bool is an int to Python, never to a reader of the protocol
    if type(value) is not int or not 0 <= value <= MAX_INT:
        raise DecodeError(f"field {name!r} must be an integer from 0 to {MAX_INT}")
    return value


def _optional(read: Reader) -> Reader:
    return lambda value, name: None if value is None else read(value, name)


def _tuple_of(read: Reader, max_items: int | None) -> Reader:
    def read_all(value: JsonValue, name: str) -> object:
        if not isinstance(value, list):
            raise DecodeError(f"field {name!r} must be a list")
        if max_items is not None and len(value) > max_items:
            raise DecodeError(f"field {name!r} holds at most {max_items} entries")
        return tuple(read(v, name) for v in value)

    return read_all


def _read_time(value: JsonValue, name: str) -> datetime:
    try:
        time = datetime.fromisoformat(value)
        time = time.astimezone(UTC) if time.tzinfo else time.replace(tzinfo=UTC)
        if _EARLIEST <= time <= _LATEST:
            return time
    except (TypeError, ValueError, OverflowError):
        pass
    raise DecodeError(f"field {name!r} must be an ISO 8601 time from 1970 to 9998")


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


# Lists a request may hold, with how many entries each may have. Lists in
# events are bounded by the reader's line limit alone.
_MAX_ITEMS: dict[tuple[type[object], str], int] = {(ev.Hello, "resume"): MAX_RESUME}


def _read_plan(cls: type[object]) -> dict[str, tuple[bool, Reader]]:
    hints = typing.get_type_hints(cls)
    return {
        f.name: (
            f.default is dataclasses.MISSING,
            _reader_for(hints[f.name], _MAX_ITEMS.get((cls, f.name))),
        )
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
    }


class _Plans(dict[type[object], dict[str, tuple[bool, Reader]]]):
    """Each wire class's read plan: made ahead for the classes known now,
    and on first use for any defined later."""

    def __missing__(self, cls: type[object]) -> dict[str, tuple[bool, Reader]]:
        plan = self[cls] = _read_plan(cls)
        return plan


_READERS = _Plans({cls: _read_plan(cls) for cls in ev.FIELDS})
