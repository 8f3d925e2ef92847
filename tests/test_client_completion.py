"""Tab completion, without a terminal: what each Tab offers, given the text before it."""

from __future__ import annotations

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from trio_chat.client.completion import ChatCompleter
from trio_chat.client.connection import ChatClient
from trio_chat.protocol import events as ev

NICKS = ["alice", "Bob", "bobby"]
ROOMS = ["#lobby", "#dev", "#Design"]


def complete(text: str, nicks=NICKS, rooms=ROOMS) -> list[str]:
    completer = ChatCompleter(lambda: nicks, lambda: rooms)
    document = Document(text, len(text))
    return [c.text for c in completer.get_completions(document, CompleteEvent())]


def test_commands_complete_at_the_start_of_a_line():
    assert complete("/jo") == ["/join"]
    assert "/clear" in complete("/")


@pytest.mark.parametrize("command", ["/join", "/part", "/who", "/history"])
def test_rooms_complete_after_the_commands_that_take_one_with_or_without_the_hash(command):
    assert complete(f"{command} #d") == ["#dev", "#Design"]
    assert complete(f"{command} de") == ["#dev", "#Design"]
    assert complete(f"{command} ") == ROOMS


def test_a_hash_anywhere_completes_a_room():
    assert complete("see #lo") == ["#lobby"]
    assert complete("#DE") == ["#dev", "#Design"]


def test_nicknames_complete_after_msg_and_history_at():
    assert complete("/msg b") == ["Bob", "bobby"]
    assert complete("/history @al") == ["@alice"]


def test_a_nickname_starting_a_line_is_addressed_with_a_colon():
    assert complete("bo") == ["Bob: ", "bobby: "]
    assert complete("hi bo") == ["Bob", "bobby"]
    completion = next(
        ChatCompleter(lambda: NICKS).get_completions(Document("al", 2), CompleteEvent())
    )
    assert completion.start_position == -2  # "al" becomes "alice: "


def test_a_complete_word_is_not_offered_again():
    assert complete("/join #dev") == []
    assert complete("/msg bobby") == []


def test_the_client_offers_its_rooms_and_those_of_the_last_rooms_answer():
    client = ChatClient("alice", lambda: None, show=lambda item: None)  # type: ignore[arg-type, return-value]
    client.mirror.track(ev.Welcome(ev.now(), "alice", "#lobby", ("alice",), 1))
    assert client.room_names() == ["#lobby"]
    client._receive(ev.Rooms(ev.now(), (ev.RoomInfo("#LOBBY", 3), ev.RoomInfo("#dev", 1))))
    assert client.room_names() == ["#lobby", "#dev"]
