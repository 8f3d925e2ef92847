"""How a wire class makes itself known to the codecs: by its ``TYPE``, as it
is defined, and its field names, looked up once."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T")


def register(table: dict[str, type[T]], cls: type[T]) -> None:
    """Enter ``cls`` in ``table`` if it names a TYPE of its own.

    ``@dataclass(slots=True)`` makes a second class from the one defined,
    and this runs for both; the second, which is the one that remains,
    takes the first one's place. Another class claiming a taken TYPE is an
    error.
    """
    kind = cls.__dict__.get("TYPE")
    if not kind:  # a base such as RoomEvent
        return
    known = table.get(kind)
    if known is not None and not _remade(known, cls):
        raise TypeError(f"{_name(cls)}: type {kind!r} is taken by {_name(known)}")
    table[kind] = cls


def _remade(old: type, new: type) -> bool:
    """Whether ``new`` is the class ``@dataclass(slots=True)`` made of ``old``
    (it copies the fields the decorator gave ``old``)."""
    fields = old.__dict__.get("__dataclass_fields__")
    return fields is not None and fields is new.__dict__.get("__dataclass_fields__")


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class FieldNames(dict[type, tuple[str, ...]]):
    """Each wire class's field names, in order.

    Looked up once per class rather than on every message, since
    dataclasses.fields() is slow enough to show; and on first use, since a
    class is only complete once its dataclass decorator has run.
    """

    def __missing__(self, cls: type) -> tuple[str, ...]:
        names = self[cls] = tuple(f.name for f in dataclasses.fields(cls))
        return names
