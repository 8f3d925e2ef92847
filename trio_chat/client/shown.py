"""What the client hands to the screen: the server's events and its own notes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trio_chat.protocol import events as ev


@dataclass(frozen=True, slots=True)
class Note:
    """A line from the client itself rather than from the server."""

    text: str
    kind: Literal["info", "error", "pending", "gap", "help"] = "info"


@dataclass(frozen=True, slots=True)
class ClearScreen:
    pass


Shown = ev.Event | Note | ClearScreen
