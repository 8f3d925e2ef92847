"""Registered nicknames: passwords, guessing limits, and taking one's nick back."""

from __future__ import annotations

from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.server.accounts import Accounts
from trio_chat.server.guessing import PER_ACCOUNT_SOURCE
from trio_chat.server.sqlite import SqliteStore
from trio_chat.testing import JsonClient, TextClient

PASSWORD = "correct horse"


async def registered_alice(listener) -> TextClient:
    alice = await TextClient.connect(listener)
    await alice.login("alice")
    await alice.send_line(f"/register {PASSWORD}")
    await alice.expect(r'\* "alice" is registered')
    return alice


async def test_a_registered_nick_asks_for_its_password_in_text_mode(start_chat):
    _, listener = await start_chat()
    alice = await registered_alice(listener)
    await alice.send_line("/quit")
    await alice.lines_until_closed()

    again = await TextClient.connect(listener)
    await again.send_line("alice")
    await again.expect(r'nickname "alice" is registered: type its password, or /nick ANOTHER$')
    await again.send_line("wrong password")
    assert (await again.expect("^!")).string == '! wrong password for "alice"'
    await again.expect("type its password")  # asked again: a retyped password stays one
    await again.send_line("/nick alice2")  # someone else after all
    await again.expect(r"\* welcome, alice2!")
    await again.send_line("/quit")
    await again.lines_until_closed()

    again = await TextClient.connect(listener)
    await again.send_line("alice")
    await again.expect("type its password")
    await again.send_line(PASSWORD)
    await again.expect(r"\* welcome, alice!")


async def test_a_guest_cannot_take_a_registered_nick(start_chat):
    _, listener = await start_chat()
    alice = await registered_alice(listener)
    guest = await JsonClient.connect(listener)
    await guest.send(ev.Hello("ALICE"))
    assert (await guest.expect(ev.Error)).code == Code.PASSWORD_REQUIRED
    await guest.login("guest")
    await guest.send(ev.ChangeNick("alice"))
    assert (await guest.expect(ev.Error)).code == Code.NICK_TAKEN
    await alice.send_line("/quit")
    await alice.lines_until_closed()
    await guest.send(ev.ChangeNick("alice"))  # even while alice is away
    assert (await guest.expect(ev.Error)).code == Code.NICK_REGISTERED


async def test_identifying_ends_a_ghost_still_holding_the_nick(start_chat):
    _, listener = await start_chat()
    ghost = await registered_alice(listener)
    witness = await TextClient.connect(listener)
    await witness.login("witness")
    back = await JsonClient.connect(listener)
    await back.send(ev.Hello("alice", password=PASSWORD))
    assert (await back.expect(ev.Welcome)).nick == "alice"
    await witness.expect(r"\* alice left #lobby \(logged in from elsewhere\)$")
    assert (await ghost.lines_until_closed())[-1].endswith("disconnected: logged in from elsewhere")


async def test_wrong_passwords_are_limited_per_account(start_chat):
    _, listener = await start_chat()
    await registered_alice(listener)
    guesser = await JsonClient.connect(listener, address="10.0.0.9")
    for _ in range(PER_ACCOUNT_SOURCE):
        await guesser.send(ev.Hello("alice", password="guess"))
        assert (await guesser.expect(ev.Error)).code == Code.BAD_PASSWORD
    # now even the right password waits: the guesser cannot tell it was right
    await guesser.send(ev.Hello("alice", password=PASSWORD))
    error = await guesser.expect(ev.Error)
    assert error.code == Code.TOO_MANY_ATTEMPTS
    assert "try again in" in error.message


async def test_passwords_are_changed_with_the_old_one_and_kept_in_the_database(tmp_path):
    store = await SqliteStore.open(str(tmp_path / "chat.db"))
    accounts = Accounts(await store.load_credentials(), save=store.save_credential)
    await accounts.create("Alice", "first password")
    assert not await accounts.verify("alice", "second password")
    await accounts.change("alice", "second password")
    await store.aclose()

    store = await SqliteStore.open(str(tmp_path / "chat.db"))
    reloaded = Accounts(await store.load_credentials(), save=store.save_credential)
    assert reloaded.is_registered("ALICE")
    assert await reloaded.verify("alice", "second password")
    assert not await reloaded.verify("alice", "first password")
    await store.aclose()


async def test_password_commands_in_text_mode(start_chat):
    _, listener = await start_chat()
    alice = await TextClient.connect(listener)
    await alice.login("alice")
    await alice.send_line("/register short")
    assert "at least 8 characters" in (await alice.expect("^!")).string
    await alice.send_line("/register firstpassword")
    await alice.expect("is registered")
    await alice.send_line("/register firstpassword")
    assert "registered already" in (await alice.expect("^!")).string
    await alice.send_line("/password wrongold secondpassword")
    assert "wrong password" in (await alice.expect("^!")).string
    await alice.send_line("/password firstpassword secondpassword")
    await alice.expect(r"\* password changed$")
    await alice.send_line("/quit")
    await alice.lines_until_closed()

    again = await JsonClient.connect(listener)
    await again.send(ev.Hello("alice", password="firstpassword"))
    assert (await again.expect(ev.Error)).code == Code.BAD_PASSWORD
    await again.send(ev.Hello("alice", password="secondpassword"))
    assert (await again.expect(ev.Welcome)).nick == "alice"
