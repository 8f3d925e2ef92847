"""Nicknames are unique by their confusable skeleton, not only by case."""

from __future__ import annotations

import pytest

from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import NICK_RE
from trio_chat.protocol.skeleton import skeleton
from trio_chat.testing import JsonClient, TextClient

PASSWORD = "correct horse"
NICK_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if NICK_RE.fullmatch(chr(c)))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("alice", "aIice"),  # a capital i
        ("alice", "a1ice"),
        ("mary", "rnary"),
        ("Mary", "rnary"),
        ("bob", "b0b"),
        ("BOB", "b0b"),
        ("Ian", "lan"),
    ],
)
def test_look_alikes_share_a_skeleton(one: str, other: str) -> None:
    assert skeleton(one) == skeleton(other)


@pytest.mark.parametrize(
    ("one", "other"), [("alice", "a1ic3"), ("alice", "alicia"), ("ian", "lan")]
)
def test_different_nicknames_have_different_skeletons(one: str, other: str) -> None:
    assert skeleton(one) != skeleton(other)


def test_a_skeleton_is_its_own_skeleton() -> None:
    for char in NICK_CHARS:
        assert skeleton(skeleton(char)) == skeleton(char)


@pytest.mark.parametrize("look_alike", ["aIice", "a1ice", "AIice"])
async def test_a_look_alike_of_an_online_member_is_taken(start_chat, look_alike: str):
    _, listener = await start_chat()
    alice = await TextClient.connect(listener)
    await alice.login("alice")
    impostor = await JsonClient.connect(listener)
    await impostor.send(ev.Hello(look_alike))
    error = await impostor.expect(ev.Error)
    assert error.code == Code.NICK_TAKEN
    assert error.message == (
        f'nickname "{look_alike}" is too much like "alice", who is online; choose another'
    )
    await impostor.login("guest")
    await impostor.send(ev.ChangeNick(look_alike))
    assert (await impostor.expect(ev.Error)).code == Code.NICK_TAKEN
    await alice.send_line("/nick rnary")  # the owner may change its own nickname
    await alice.expect(r"alice is now known as rnary")
    await impostor.send(ev.ChangeNick("mary"))
    assert "too much like" in (await impostor.expect(ev.Error)).message
    await impostor.send(ev.ChangeNick("alice"))  # free again
    await impostor.expect(ev.NickChanged)


async def test_a_look_alike_of_a_registered_nickname_is_refused(start_chat):
    _, listener = await start_chat()
    mary = await TextClient.connect(listener)
    await mary.login("mary")
    await mary.send_line(f"/register {PASSWORD}")
    await mary.expect("is registered")
    await mary.send_line("/quit")
    await mary.lines_until_closed()

    guest = await JsonClient.connect(listener)
    await guest.send(ev.Hello("rnary"))
    error = await guest.expect(ev.Error)
    assert error.code == Code.NICK_REGISTERED
    assert error.message == (
        'nickname "rnary" is too much like the registered nickname "mary", or choose another'
    )
    await guest.login("guest")
    await guest.send(ev.ChangeNick("rnary"))
    assert (await guest.expect(ev.Error)).code == Code.NICK_REGISTERED

    back = await JsonClient.connect(listener)  # the owner may use a look-alike of its own
    await back.send(ev.Hello("MARY", password=PASSWORD))
    await back.expect(ev.Welcome)
    await back.send(ev.ChangeNick("rnary"))
    assert (await back.expect(ev.NickChanged)).new == "rnary"


async def test_registering_a_look_alike_of_an_account_is_refused(start_chat):
    server, listener = await start_chat()
    holder = await TextClient.connect(listener)
    await holder.login("a1ice")
    await server.accounts.create("alice", PASSWORD)  # registered meanwhile, elsewhere
    await holder.send_line(f"/register {PASSWORD}")
    error = (await holder.expect("^!")).string
    assert error == '! "a1ice" is too much like the registered nickname "alice"'
