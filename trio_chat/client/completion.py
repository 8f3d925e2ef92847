"""Tab completion: /commands, rooms and nicknames, each where it fits."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from trio_chat.client.commands import COMMAND_NAMES

# Commands whose first word is a room (the # may be left out).
ROOM_COMMANDS = ("/join", "/part", "/who", "/history")
# What follows a nickname that starts a line: it is said to that person.
ADDRESS = ": "


def candidates(
    before: str, nicknames: Callable[[], Iterable[str]], rooms: Callable[[], Iterable[str]]
) -> tuple[str, list[str]]:
    """The word being completed in ``before`` (the text left of the cursor), and what may
    replace it: the choices that start with the word (or with ``#`` and the word) fit."""
    words = before.split(" ")
    word = words[-1]
    command = words[0].lower() if len(words) == 2 else ""
    if word.startswith("/") and len(words) == 1:
        return word, list(COMMAND_NAMES)
    if word.startswith("@") and command == "/history":
        return word, ["@" + nick for nick in nicknames()]
    if word.startswith("#") or command in ROOM_COMMANDS:
        return word, list(rooms())
    if len(words) == 1:  # the start of a line: address someone
        return word, [nick + ADDRESS for nick in nicknames()]
    return word, list(nicknames())


def fits(candidate: str, word: str) -> bool:
    """Whether ``candidate`` completes ``word``; a room's ``#`` may be left out."""
    if candidate == word:
        return False
    lower = candidate.lower()
    return lower.startswith(word.lower()) or lower.startswith("#" + word.lower())


class ChatCompleter(Completer):
    """Completes from ``nicknames()`` and ``rooms()``, asked afresh on every Tab."""

    def __init__(
        self,
        nicknames: Callable[[], Iterable[str]],
        rooms: Callable[[], Iterable[str]] = list,
    ) -> None:
        self.nicknames = nicknames
        self.rooms = rooms

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        word, found = candidates(document.text_before_cursor, self.nicknames, self.rooms)
        for candidate in found:
            if fits(candidate, word):
                yield Completion(candidate, start_position=-len(word))
