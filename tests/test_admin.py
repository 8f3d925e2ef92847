"""``trio-chat admin`` against the database of a running server."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import trio

from trio_chat import ChatServer, Limits
from trio_chat.cli import main
from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.server.accounts import Accounts
from trio_chat.server.schema import SchemaError, open_existing
from trio_chat.server.sqlite import SqliteStore
from trio_chat.server.watch import DatabaseWatch
from trio_chat.testing import JsonClient, MemoryListener, TextClient

PASSWORD = "correct horse"
NEW_PASSWORD = "battery staple"
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=ev.now().tzinfo)


@dataclass
class Running:
    path: str
    listener: MemoryListener
    watch: DatabaseWatch
    wall: list[datetime]  # the server's clock for ban expiry: wall[0]

    async def admin(self, *args: str) -> int:
        """``trio-chat admin --db PATH ARGS``, in a thread as it would run beside the
        server, then the server's next look at the database."""
        status = await trio.to_thread.run_sync(main, ["admin", "--db", self.path, *args])
        await self.watch.refresh()
        return status

    async def register(self, nick: str) -> JsonClient:
        client = await JsonClient.connect(self.listener)
        await client.login(nick)
        await client.send(ev.Register(PASSWORD))
        await client.expect(ev.Notice)
        return client

    async def sign_in(self, nick: str, password: str, address: str = "127.0.0.1") -> ev.Event:
        """The server's answer to signing in as ``nick``: a Welcome or an Error."""
        client = await JsonClient.connect(self.listener, address)
        await client.send(ev.Hello(nick, password=password))
        while not isinstance(answer := await client.receive(), ev.Welcome | ev.Error):
            pass
        return answer


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """A server on a database file that looks for the admin's changes when told to."""
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path)
    accounts = Accounts(await store.load_credentials(), save=store.save_credential)
    wall = [T0]
    watch = DatabaseWatch(path, accounts, recheck=math.inf, clock=lambda: wall[0])
    server = ChatServer(Limits(), store, accounts, watch=watch)
    listener = MemoryListener()
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve, [listener])
        yield Running(path, listener, watch, wall)
        server.shutdown()
    await store.aclose()


def password_file(tmp_path: Path, password: str = NEW_PASSWORD) -> str:
    file = tmp_path / "password"
    file.write_text(password + "\n")
    return str(file)


async def test_a_password_reset_while_the_server_runs_takes_effect_at_once(
    running, tmp_path, capsys
):
    await running.register("alice")
    file = password_file(tmp_path)
    assert await running.admin("reset-password", "alice", "--password-file", file) == 0
    assert 'the password of "alice" is reset' in capsys.readouterr().out
    assert isinstance(await running.sign_in("alice", NEW_PASSWORD), ev.Welcome)
    refused = await running.sign_in("Alice", PASSWORD)
    assert isinstance(refused, ev.Error)
    assert refused.code == Code.BAD_PASSWORD


async def test_a_reset_refuses_an_unregistered_nick_and_a_short_password(running, tmp_path, capsys):
    await running.register("alice")
    assert (
        await running.admin("reset-password", "bob", "--password-file", password_file(tmp_path))
        == 1
    )
    assert '"bob" is not a registered nickname' in capsys.readouterr().err
    short = password_file(tmp_path, "short")
    assert await running.admin("reset-password", "alice", "--password-file", short) == 1
    assert "at least 8 characters; nothing changed" in capsys.readouterr().err
    assert isinstance(await running.sign_in("alice", PASSWORD), ev.Welcome)


async def test_accounts_lists_each_registered_nick_with_its_last_sign_in(running, capsys):
    await running.register("alice")
    await running.register("bob")
    running.wall[0] = T0 + timedelta(hours=1)
    assert isinstance(await running.sign_in("bob", PASSWORD), ev.Welcome)
    assert await running.admin("accounts") == 0
    assert capsys.readouterr().out.splitlines() == [
        "alice\tno sign-in recorded",
        "bob\t2026-11-30T13:00:00Z",
    ]


async def test_a_deleted_account_is_anyone_s_nickname_at_once(running, capsys):
    alice = await running.register("alice")
    bob = await JsonClient.connect(running.listener)
    await bob.login("bob")
    await bob.send(ev.Tell("alice", "a secret"))
    await alice.expect(ev.Private)  # stored before it was delivered
    await alice.send(ev.Quit())
    with pytest.raises(EOFError):
        await alice.expect(ev.Welcome)
    assert await running.admin("delete-account", "ALICE") == 0
    with closing(sqlite3.connect(running.path)) as db:  # nobody registering "alice" again reads it
        readers = db.execute("SELECT target_account FROM private_messages").fetchall()
    assert readers == [(None,)]
    guest = await JsonClient.connect(running.listener)
    assert (await guest.login("alice")).nick == "alice"
    assert await running.admin("delete-account", "alice") == 1
    assert '"alice" is not a registered nickname' in capsys.readouterr().err


async def test_a_backup_taken_while_clients_chat_holds_their_accounts(running, tmp_path):
    alice = await running.register("alice")
    bob = await running.register("bob")
    await alice.send(ev.Join("#dev"))
    await bob.send(ev.Join("#dev"))
    backup = tmp_path / "backup.db"

    async def chat(client: JsonClient, count: int) -> None:
        for n in range(count):
            await client.send(ev.Say("#dev", f"line {n}"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(chat, alice, 200)
        nursery.start_soon(chat, bob, 200)
        assert await running.admin("backup", str(backup)) == 0
    assert backup.stat().st_mode & 0o777 == 0o600
    copy = await SqliteStore.open(str(backup))
    try:
        assert set(await copy.load_credentials()) == {"alice", "bob"}
        copied = Accounts(await copy.load_credentials())
        assert await copied.verify("alice", PASSWORD)
    finally:
        await copy.aclose()


async def test_a_backup_never_overwrites_a_file(running, tmp_path, capsys):
    taken = tmp_path / "taken.db"
    taken.write_text("precious")
    assert await running.admin("backup", str(taken)) == 1
    assert "exists already" in capsys.readouterr().err
    assert taken.read_text() == "precious"


@pytest.mark.parametrize(
    "command",
    [
        ["accounts"],
        ["reset-password", "alice"],
        ["delete-account", "alice"],
        ["ban", "nick", "alice"],
        ["unban", "nick", "alice"],
        ["bans"],
        ["backup", "copy.db"],
    ],
)
def test_each_command_refuses_a_missing_database(tmp_path, capsys, command):
    path = tmp_path / "gone.db"
    assert main(["admin", "--db", str(path), *command]) == 1
    assert capsys.readouterr().err == f"trio-chat admin: no database at {path}\n"
    assert not path.exists()


def test_an_unknown_schema_version_is_refused_by_admin_and_server(tmp_path, capsys):
    path = tmp_path / "future.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE accounts (nick TEXT PRIMARY KEY)")
    db.execute("PRAGMA user_version = 99")
    db.close()
    assert main(["admin", "--db", str(path), "accounts"]) == 1
    err = capsys.readouterr().err
    assert "has schema version 99, and this trio-chat knows versions up to 1" in err
    assert main(["server", "--db", str(path), "--listen", "tcp://127.0.0.1:0"]) == 1
    assert "has schema version 99" in capsys.readouterr().err
    with pytest.raises(SchemaError):
        open_existing(str(path))


def test_a_file_that_is_no_chat_database_is_refused(tmp_path, capsys):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    text = tmp_path / "notes.txt"
    text.write_text("not sqlite at all " * 100)
    assert main(["admin", "--db", str(other), "accounts"]) == 1
    assert "is not a trio-chat database" in capsys.readouterr().err
    assert main(["admin", "--db", str(text), "accounts"]) == 1
    assert "file is not a database" in capsys.readouterr().err


async def test_a_database_from_before_versions_is_upgraded_and_used(tmp_path, capsys):
    path = tmp_path / "old.db"
    store = await SqliteStore.open(str(path))
    await store.aclose()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE logins")
    db.execute("DROP TABLE server_bans")
    db.execute("PRAGMA user_version = 0")
    db.close()
    assert main(["admin", "--db", str(path), "bans"]) == 0
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)


def test_admin_finds_the_database_in_the_server_s_config_file(tmp_path, capsys):
    path = tmp_path / "chat.db"
    config = tmp_path / "server.toml"
    config.write_text(f'db = "{path}"\nlog_level = "info"\n')
    assert main(["admin", "--config", str(config), "accounts"]) == 1
    assert f"no database at {path}" in capsys.readouterr().err
    config.write_text('db = "none"\n')
    assert main(["admin", "--config", str(config), "accounts"]) == 1
    assert "db = 'none' is not a database file" in capsys.readouterr().err


def test_admin_refuses_a_config_file_the_server_would_refuse(tmp_path, capsys):
    config = tmp_path / "server.toml"
    config.write_text(f'db = "{tmp_path / "chat.db"}"\nmax_room = 5\n')
    assert main(["admin", "--config", str(config), "accounts"]) == 1
    err = capsys.readouterr().err
    assert f"{config}: line 2: unknown key 'max_room' (did you mean 'max_rooms'?)" in err
    assert main(["admin", "--config", str(tmp_path / "missing.toml"), "accounts"]) == 1
    assert "missing.toml: no such file" in capsys.readouterr().err


async def test_an_address_ban_refuses_the_next_connection_from_it(running, capsys):
    assert await running.admin("ban", "address", "10.0.0.0/8", "--reason", "spam") == 0
    banned = await TextClient.connect(running.listener, "10.1.2.3")
    assert await banned.lines_until_closed() == ["! you are banned from this server: spam"]
    other = await JsonClient.connect(running.listener, "192.0.2.1")
    assert (await other.login("carol")).nick == "carol"
    assert await running.admin("unban", "address", "10.0.0.0/8") == 0
    again = await JsonClient.connect(running.listener, "10.1.2.3")
    assert (await again.login("dave")).nick == "dave"
    assert await running.admin("unban", "address", "10.0.0.0/8") == 1
    assert "no address ban of 10.0.0.0/8" in capsys.readouterr().err


async def test_a_nick_ban_and_an_account_ban_refuse_their_sign_in(running):
    await running.register("alice")
    await running.register("bob")
    assert await running.admin("ban", "nick", "Mallory") == 0
    assert await running.admin("ban", "nick", "bob") == 0  # refused before its password
    assert await running.admin("ban", "account", "alice") == 0
    for nick, password in (("mallory", None), ("bob", None), ("alice", PASSWORD)):
        client = await JsonClient.connect(running.listener)
        await client.send(ev.Hello(nick, password=password))
        assert (await client.expect(ev.Error)).code == Code.BANNED
        with pytest.raises(EOFError):
            await client.expect(ev.Welcome)


async def test_a_ban_expires_by_the_server_s_clock(running, capsys):
    assert await running.admin("ban", "address", "10.0.0.1", "--expires", "2100-01-01T00:00") == 0
    refused = await TextClient.connect(running.listener, "10.0.0.1")
    (refusal,) = await refused.lines_until_closed()
    assert refusal == "! you are banned from this server until 2100-01-01 00:00 UTC"
    running.wall[0] = datetime(2100, 1, 1, tzinfo=T0.tzinfo)
    admitted = await JsonClient.connect(running.listener, "10.0.0.1")
    assert (await admitted.login("back")).nick == "back"
    assert await running.admin("ban", "nick", "Old", "--expires", "2020-01-01T00:00") == 0
    capsys.readouterr()
    assert await running.admin("bans") == 0
    (address, nick) = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert address[:2] + address[3:] == ["address", "10.0.0.1/32", "until 2100-01-01T00:00:00Z", ""]
    assert nick[:2] + nick[3:] == ["nick", "old", "until 2020-01-01T00:00:00Z (expired)", ""]


async def test_a_reset_asks_twice_and_refuses_two_that_differ(running, monkeypatch, capsys):
    await running.register("alice")
    typed = iter([NEW_PASSWORD, "battery stapler", NEW_PASSWORD, NEW_PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    assert await running.admin("reset-password", "alice") == 1
    assert "the two passwords differ; nothing changed" in capsys.readouterr().err
    assert await running.admin("reset-password", "alice") == 0
    assert isinstance(await running.sign_in("alice", NEW_PASSWORD), ev.Welcome)
