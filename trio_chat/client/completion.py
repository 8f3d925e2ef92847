"""Tab completion: /commands at the start of a line, nicknames anywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from trio_chat.client.commands import COMMAND_NAMES


class ChatCompleter(Completer):
    """Completes from ``nicknames()``, asked afresh on every Tab."""

    def __init__(self, nicknames: Callable[[], Iterable[str]]) -> None:
        self.nicknames = nicknames

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        before = document.text_before_cursor
        word = before.split(" ")[-1]
        if word.startswith("/") and word == before:
            candidates: Iterable[str] = COMMAND_NAMES
        else:
            candidates = self.nicknames()
        for candidate in candidates:
            if candidate.lower().startswith(word.lower()) and candidate != word:
                yield Completion(candidate, start_position=-len(word))
