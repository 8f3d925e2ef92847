"""Passwords never leak, and guessing them is limited without locking owners out."""

from __future__ import annotations

import logging
import threading

import trio
import trio.testing

from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.server.accounts import Accounts, Credential
from trio_chat.server.addresses import Source
from trio_chat.server.guessing import (
    CHANGE_WINDOW,
    CHANGES_PER_MINUTE,
    PER_ACCOUNT,
    PER_ACCOUNT_SOURCE,
    PER_SOURCE,
    WINDOW,
    Attempt,
    Guard,
)
from trio_chat.testing import JsonClient, TextClient

PASSWORD = "correct horse"


async def registered(listener, nick: str = "alice", address: str = "10.0.0.1") -> None:
    """``nick`` registered, then gone offline."""
    owner = await TextClient.connect(listener, address)
    await owner.login(nick)
    await owner.send_line(f"/register {PASSWORD}")
    await owner.expect("is registered")
    await owner.send_line("/quit")
    await owner.lines_until_closed()


async def test_a_password_retyped_after_a_wrong_one_is_never_shown_stored_or_logged(
    start_chat, caplog
):
    caplog.set_level(logging.DEBUG)
    server, listener = await start_chat()
    await registered(listener)
    bob = await TextClient.connect(listener)
    await bob.login("bob")

    typist = await TextClient.connect(listener)
    await typist.send_line("alice")
    await typist.expect("type its password")
    secrets = ["not-my-password", "still-not-it", *(f"guess-{n}" for n in range(6))]
    for secret in secrets:  # past the limit on failures, too
        await typist.send_line(secret)
        error = (await typist.expect("^!")).string
        assert error.startswith(("! wrong password", "! too many failed attempts"))
        await typist.expect(r'nickname "alice" is registered: type its password, or /nick ANOTHER')
    assert "too many failed attempts" in error
    await typist.send_line("/nick carol")  # escapes, as it always did
    await typist.expect(r"\* welcome, carol!")
    await bob.send_line("/who")
    members = (await bob.expect(r"\* in #lobby")).string
    assert members.endswith(": bob, carol")

    seen = " ".join(await _lines_until_quiet(bob))
    stored = await server.store.room_history("#lobby", limit=100)
    logged = caplog.text
    for secret in secrets:
        assert secret not in seen
        assert all(secret not in repr(event) for event in stored)
        assert secret not in logged
    assert "wrong password for alice from 127.0.0.1" in logged


async def test_quit_still_leaves_from_the_password_prompt(start_chat):
    _, listener = await start_chat()
    await registered(listener)
    typist = await TextClient.connect(listener)
    await typist.send_line("alice")
    await typist.send_line("wrong-password")
    await typist.expect("wrong password")
    await typist.send_line("/quit")
    assert (await typist.lines_until_closed())[-1].endswith("disconnected: quit")


async def _lines_until_quiet(client: TextClient) -> list[str]:
    await client.send_line("/ping-marker")  # unknown command: its error ends what was sent
    lines = []
    while "ping-marker" not in (line := await client.receive_line()):
        lines.append(line)
    return lines


async def test_concurrent_wrong_passwords_get_no_more_checks_than_the_limit(
    start_chat, monkeypatch
):
    _, listener = await start_chat()
    await registered(listener)
    checks = 0
    matches = Credential.matches

    def counted(self: Credential, password: str) -> bool:
        nonlocal checks
        checks += 1
        return matches(self, password)

    monkeypatch.setattr(Credential, "matches", counted)
    codes: list[Code] = []

    async def guess(n: int) -> None:
        guesser = await JsonClient.connect(listener, address="10.0.0.9")
        await guesser.send(ev.Hello("alice", password=f"guess number {n}"))
        codes.append((await guesser.expect(ev.Error)).code)

    async with trio.open_nursery() as nursery:
        for n in range(20):
            nursery.start_soon(guess, n)
    assert checks == PER_ACCOUNT_SOURCE
    assert codes.count(Code.BAD_PASSWORD) == PER_ACCOUNT_SOURCE
    assert codes.count(Code.TOO_MANY_ATTEMPTS) == 20 - PER_ACCOUNT_SOURCE


async def test_a_stranger_guessing_does_not_lock_the_owner_out(start_chat):
    _, listener = await start_chat()
    await registered(listener, address="10.0.0.1")
    stranger = await JsonClient.connect(listener, address="10.0.0.9")
    for _ in range(PER_ACCOUNT_SOURCE + 1):
        await stranger.send(ev.Hello("alice", password="guessing"))
        await stranger.expect(ev.Error)
    await stranger.send(ev.Hello("alice", password=PASSWORD))
    assert (await stranger.expect(ev.Error)).code == Code.TOO_MANY_ATTEMPTS
    owner = await JsonClient.connect(listener, address="192.0.2.7")  # from anywhere else
    await owner.send(ev.Hello("alice", password=PASSWORD))
    assert (await owner.expect(ev.Welcome)).nick == "alice"


# ----------------------------------------------------------- lock-out rules

HOME, WORK = Source("192.0.2.1/32"), Source("198.51.100.1/32")
PROXY = Source("127.0.0.1/32", exempt=True)


def fail(guard: Guard, account: str, source: Source, now: float) -> Attempt | float:
    return guard.reserve(account, source, now)


def test_a_source_is_locked_out_of_one_account_then_of_every_account():
    guard = Guard()
    for _ in range(PER_ACCOUNT_SOURCE):
        assert isinstance(fail(guard, "alice", HOME, 0.0), Attempt)
    assert fail(guard, "alice", HOME, 1.0) == WINDOW - 1.0
    assert isinstance(fail(guard, "alice", WORK, 1.0), Attempt)  # others still try
    accounts = iter(f"user{n}" for n in range(100))
    while isinstance(fail(guard, next(accounts), HOME, 2.0), Attempt):
        pass
    assert isinstance(fail(guard, "bob", WORK, 3.0), Attempt)
    assert fail(guard, "bob", HOME, 3.0) > 0  # now every account is closed to HOME
    assert isinstance(fail(guard, "bob", HOME, WINDOW + 2.0), Attempt)  # until the window passes


def test_a_right_password_gives_its_attempt_back():
    guard = Guard()
    for _ in range(PER_ACCOUNT_SOURCE * 3):
        attempt = fail(guard, "alice", HOME, 0.0)
        assert isinstance(attempt, Attempt)
        guard.succeeded(attempt)


def test_past_the_account_cap_only_sources_that_signed_in_before_may_try():
    guard = Guard()
    attempt = fail(guard, "alice", HOME, 0.0)
    assert isinstance(attempt, Attempt)
    guard.succeeded(attempt)  # the owner, at home
    for n in range(PER_ACCOUNT):  # a botnet, five tries per address
        assert isinstance(fail(guard, "alice", Source(f"10.0.{n // 5}.{n % 5}/32"), 1.0), Attempt)
    assert fail(guard, "alice", Source("10.9.9.9/32"), 2.0) > 0
    assert fail(guard, "alice", WORK, 2.0) > 0  # the owner, somewhere new
    assert isinstance(fail(guard, "alice", HOME, 2.0), Attempt)
    assert isinstance(fail(guard, "bob", WORK, 2.0), Attempt)  # other accounts are open


def test_an_exempt_proxy_is_held_to_the_caps_per_account_only():
    guard = Guard()
    for n in range(PER_SOURCE * 2):  # a guesser behind the proxy, trying every account
        assert isinstance(fail(guard, f"user{n}", PROXY, 0.0), Attempt)
    for _ in range(PER_ACCOUNT_SOURCE):
        assert isinstance(fail(guard, "alice", PROXY, 0.0), Attempt)
    assert fail(guard, "alice", PROXY, 0.0) > 0
    attempt = fail(guard, "bob", PROXY, 0.0)
    assert isinstance(attempt, Attempt)
    guard.succeeded(attempt)
    assert guard._known == {}  # everyone's address proves nothing


def test_the_tables_forget_what_the_window_has_passed():
    guard = Guard()
    for n in range(1000):
        fail(guard, f"user{n % 50}", Source(f"10.0.{n // 250}.{n % 250}/32"), float(n) / 10)
    assert len(guard.failures) > 1000
    fail(guard, "alice", HOME, 10_000.0)
    assert len(guard.failures) == 3


def test_registrations_and_password_changes_are_limited_per_source():
    guard = Guard()
    for _ in range(CHANGES_PER_MINUTE):
        assert guard.change(HOME, 0.0) == 0
    assert guard.change(HOME, 10.0) == CHANGE_WINDOW - 10.0
    assert guard.change(WORK, 10.0) == 0
    assert guard.change(HOME, CHANGE_WINDOW) == 0


async def test_registering_again_and_again_is_refused_with_when_to_retry(start_chat):
    _, listener = await start_chat()
    member = await TextClient.connect(listener, "2001:db8::1")
    await member.login("first")
    for nick in ("ann", "bea", "cat"):
        await member.send_line(f"/nick {nick}")
        await member.send_line(f"/register {PASSWORD}")
        await member.expect(f'"{nick}" is registered')
    await member.send_line("/nick dan")
    await member.send_line(f"/register {PASSWORD}")
    error = (await member.expect("^!")).string
    assert "too many registrations or password changes from your address" in error
    assert "try again in" in error
    neighbour = await TextClient.connect(listener, "2001:db8::2")  # the same /64
    await neighbour.login("eve")
    await neighbour.send_line(f"/register {PASSWORD}")
    assert "too many registrations" in (await neighbour.expect("^!")).string
    elsewhere = await TextClient.connect(listener, "2001:db8:1::1")
    await elsewhere.login("fay")
    await elsewhere.send_line(f"/register {PASSWORD}")
    await elsewhere.expect('"fay" is registered')


# ----------------------------------------------------------------- hashing


async def test_password_hashing_runs_at_most_the_capacity_at_once(monkeypatch):
    lock = threading.Lock()
    entered = threading.Semaphore(0)
    gate = threading.Event()  # holds every hash that started until the test has looked
    running = most = 0

    def held_digest(self: Credential, password: str) -> bytes:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        entered.release()
        gate.wait()
        with lock:
            running -= 1
        return b"digest"

    monkeypatch.setattr(Credential, "digest", held_digest)
    accounts = Accounts(hashing=2)
    async with trio.open_nursery() as nursery:
        for n in range(12):
            nursery.start_soon(accounts.create, f"user{n}", PASSWORD)
        await trio.to_thread.run_sync(lambda: [entered.acquire() for _ in range(2)])
        await trio.testing.wait_all_tasks_blocked()  # the others wait for a slot, or would run
        gate.set()
    assert most == 2
    assert accounts.is_registered("user11")
