"""Registering, fed the server's answers synchronously."""

from __future__ import annotations

from datetime import UTC, datetime

from trio_chat.client.handshake import (
    Ended,
    Handshake,
    Refused,
    Welcomed,
    answer_to_refusal,
    rejoin_requests,
)
from trio_chat.protocol import Code
from trio_chat.protocol import events as ev

T = datetime(2024, 1, 1, tzinfo=UTC)
RESUME = (ev.RoomSeq("#lobby", 7),)


def error(code: str) -> ev.Error:
    return ev.Error(T, code, "no")


def test_the_hello_carries_nickname_password_and_resume():
    handshake = Handshake("alice", "secret", RESUME)
    assert handshake.hello() == ev.Hello("alice", password="secret", resume=RESUME)


def test_the_welcome_ends_it_and_the_goodbye_ends_the_connection():
    handshake = Handshake("alice", None)
    welcome = ev.Welcome(T, "alice", "#lobby", ("alice",), 1)
    assert handshake.receive(welcome) == Welcomed(welcome)
    assert handshake.receive(ev.Bye(T, "shutting down")) == Ended("shutting down")


def test_other_events_meanwhile_are_only_shown():
    handshake = Handshake("alice", None)
    assert handshake.receive(ev.Notice(T, "server news")) is None
    assert handshake.receive(error(Code.BAD_REQUEST)) is None


def test_a_taken_nickname_asks_for_another_and_says_hello_again_with_it():
    handshake = Handshake("alice", "old", RESUME)
    refused = handshake.receive(error(Code.NICK_TAKEN))
    assert refused == Refused(error(Code.NICK_TAKEN), password=False)
    assert handshake.prompt(refused) == "type another nickname (or /quit)"
    answer = answer_to_refusal(ev.Say("  alice2 "), password=False)
    assert answer == ev.ChangeNick("alice2")
    # another nickname has no password, and still asks for the same rooms back
    assert handshake.answer(answer) == ev.Hello("alice2", resume=RESUME)


def test_a_registered_nickname_asks_for_its_password():
    handshake = Handshake("alice", None)
    for code in (Code.NICK_REGISTERED, Code.PASSWORD_REQUIRED, Code.BAD_PASSWORD):
        refused = handshake.receive(error(code))
        assert refused == Refused(error(code), password=True)
    assert handshake.prompt(refused) == "type the password of alice, or /nick ANOTHER"
    answer = answer_to_refusal(ev.Say("s3cret"), password=True)
    assert handshake.answer(answer) == ev.Hello("alice", password="s3cret")
    # /nick instead of the password chooses another nickname
    assert answer_to_refusal(ev.ChangeNick("bob"), password=True) == ev.ChangeNick("bob")


def test_other_commands_are_no_answer():
    assert answer_to_refusal(ev.Join("#dev"), password=False) is None
    assert answer_to_refusal(ev.Who(), password=True) is None


def test_rejoining_leaves_the_lobby_if_it_was_left_and_makes_the_current_room_current():
    def resumed(*rooms: str) -> set[str]:
        return {room.lower() for room in rooms}

    assert rejoin_requests([], resumed()) == []
    assert rejoin_requests(["#lobby"], resumed("#lobby")) == []
    assert rejoin_requests(["#dev"], resumed("#dev")) == [ev.Part("#lobby")]
    all_three = ["#lobby", "#ops", "#Dev"]
    assert rejoin_requests(all_three, resumed(*all_three)) == [ev.Join("#Dev")]
    assert rejoin_requests(["#ops", "#dev"], resumed("#ops", "#dev")) == [
        ev.Part("#lobby"),
        ev.Join("#dev"),
    ]


def test_rooms_that_could_not_be_resumed_are_joined_again():
    # nothing seen in #ops yet, or in the lobby, which the server joins anyway
    assert rejoin_requests(["#lobby"], set()) == []
    assert rejoin_requests(["#lobby", "#ops", "#dev"], {"#dev"}) == [
        ev.Join("#ops"),
        ev.Join("#dev"),
    ]
