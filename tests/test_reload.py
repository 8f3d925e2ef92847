"""Reloading the settings of a running server: limits change, nobody is disconnected."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import pytest
import trio

from trio_chat.cli import build_parser
from trio_chat.server import ChatServer
from trio_chat.server import config_file as cf
from trio_chat.server import reload as reloading
from trio_chat.server.reload import Reloader, join_server
from trio_chat.testing import MemoryListener, TextClient
from trio_chat.transports import ServerOptions


class Running:
    """A server over the memory transport, started with ``--config path``."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        settings = self.read()
        self.server = ChatServer(cf.limits_of(settings))
        self.listener = MemoryListener()
        self.reloader = Reloader(self.read, settings)
        join_server(self.reloader, self.server, ServerOptions())

    @property
    def text(self) -> str:
        return self.path.read_text()

    @text.setter
    def text(self, text: str) -> None:
        self.path.write_text(text)

    def read(self):
        return cf.configured(build_parser(), ["server", "--config", str(self.path)])

    async def login(self, nick: str) -> TextClient:
        client = await TextClient.connect(self.listener)
        await client.login(nick)
        return client


@pytest.fixture
async def running(nursery, tmp_path):
    running = Running(tmp_path / "server.toml", "max_rooms = 20\n")
    await nursery.start(running.server.serve, [running.listener])
    return running


async def test_a_lower_room_limit_holds_the_next_join_of_a_connected_client(running, caplog):
    alice = await running.login("alice")
    bob = await running.login("bob")
    await alice.send_line("/join #a")
    await alice.expect(r"\* alice joined #a$")
    running.text = "max_rooms = 2\n"
    caplog.set_level(logging.INFO, "trio_chat.server")
    assert running.reloader.reload() is not None
    assert "reloaded: max_rooms 20 -> 2" in caplog.messages
    await alice.send_line("/join #b")
    await alice.expect(r"you are in 2 rooms already; /part one first")
    await bob.send_line("/join #a")
    await alice.expect(r"\* bob joined #a$")  # both still connected, in the rooms they had
    await alice.send_line("hello")
    await bob.expect(r"alice: hello$")


async def test_flood_control_reloaded_holds_the_next_lines(running, autojump_clock):
    alice = await running.login("alice")
    bob = await running.login("bob")
    running.text = "flood_burst = 1\nflood_rate = 10.0\nflood_kick = 3\n"
    running.reloader.reload()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(bob.send_line, "\n".join(f"spam {n}" for n in range(10)))
        await alice.expect(r"\* bob left #lobby \(excess flood\)$")


async def test_a_lower_connection_limit_refuses_new_connections_only(running):
    alice = await running.login("alice")
    await running.login("bob")
    running.text = "max_clients = 2\n"
    running.reloader.reload()
    refused = await TextClient.connect(running.listener)
    assert (await refused.lines_until_closed())[-1].endswith("the server is full, try again later")
    await alice.send_line("still here")
    await alice.expect(r"alice: still here$")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("max_rooms = 0\n", "server.toml: line 1: max_rooms must be at least 1"),
        ("max_rooms = 1\nmax_clients = -1\n", "line 2: max_clients cannot be negative"),
        ('max_rooms = "1"\n', "line 1: max_rooms: expected a whole number"),
        ("max_rooms = 1\nmax_roms = 1\n", "line 2: unknown key 'max_roms'"),
        ("max_rooms = [\n", "server.toml: Invalid value (at end of document)"),
    ],
)
async def test_a_bad_file_changes_nothing_and_says_why(running, caplog, text, reason):
    alice = await running.login("alice")
    limits = running.server.limits
    running.text = text
    assert running.reloader.reload() is None
    (record,) = [r for r in caplog.records if r.message.startswith("reload refused")]
    assert record.levelno == logging.ERROR
    assert reason in record.message
    assert "nothing changed" in record.message
    assert running.server.limits is limits
    assert running.server.chat.max_rooms == 20
    for room in ("#a", "#b"):
        await alice.send_line(f"/join {room}")
        await alice.expect(rf"\* alice joined {room}$")


async def test_keys_read_at_start_wait_for_a_restart_and_are_said(running, caplog):
    caplog.set_level(logging.INFO, "trio_chat.server")
    running.text = (
        'max_rooms = 5\ndb = "other.db"\nlisten = ["tcp://0.0.0.0:1"]\nhash_workers = 8\n'
    )
    reload = running.reloader.reload()
    assert reload is not None
    assert set(reload.changed) == {"max_rooms"}
    assert set(reload.waiting) == {"db", "listen", "hash_workers"}
    assert "changed, but only a restart applies them: listen, db, hash_workers" in caplog.messages
    assert running.reloader.settings.db != "other.db"
    assert running.server.chat.max_rooms == 5
    assert running.reloader.reload() is not None  # they are said again, until the restart
    assert (
        caplog.messages[-1] == "changed, but only a restart applies them: listen, db, hash_workers"
    )


async def test_in_broker_mode_the_chat_limits_wait_for_a_restart(tmp_path):
    running = Running(tmp_path / "server.toml", 'broker = "redis://127.0.0.1:1/0"\n')
    running.text = 'broker = "redis://127.0.0.1:1/0"\nmax_rooms = 3\noperator = ["alice"]\n'
    reload = running.reloader.reload()
    assert reload is not None
    assert set(reload.waiting) == {"max_rooms", "operator"}
    assert running.server.chat.max_rooms == 20


async def test_reload_callbacks_run_in_order_after_every_check(running):
    seen = []

    def refuse(reload):
        if reload.limits.max_rooms == 3:
            raise cf.ConfigError("three is too few")

    running.reloader.on_reload(lambda reload: seen.append(reload.limits.max_rooms), check=refuse)
    running.text = "max_rooms = 3\n"
    assert running.reloader.reload() is None
    running.text = "max_rooms = 4\n"
    assert running.reloader.reload() is not None
    assert seen == [4]
    assert running.server.chat.max_rooms == 4


async def test_the_welcome_text_reloaded_greets_the_next_login(running):
    alice = await running.login("alice")
    running.text = 'welcome = "be kind; /help lists the commands"\n'
    running.reloader.reload()
    bob = await running.login("bob")
    await bob.expect(r"\* be kind; /help lists the commands$")
    await alice.send_line("hi bob")  # nobody was disconnected
    assert (await bob.expect("alice")).string.endswith("alice: hi bob")


async def test_an_operator_named_by_a_reload_may_disconnect_at_once(running):
    root = await running.login("root")
    await root.send_line("/register correct horse battery")
    await root.expect(r'\* "root" is registered')
    mallory = await running.login("mallory")
    await root.send_line("/disconnect mallory")
    await root.expect("only server operators disconnect users")
    running.text = 'operator = ["Root"]\n'
    running.reloader.reload()
    await root.send_line("/disconnect mallory flooding")
    lines = await mallory.lines_until_closed()
    assert lines[-1].endswith("* disconnected: disconnected by root: flooding")


def test_a_certificate_that_fails_after_its_check_is_logged_not_fatal(
    tmp_path, certs, monkeypatch, caplog
):
    """The files may change between the check and the load: the server goes on."""
    path = tmp_path / "server.toml"
    path.write_text(f'cert = "{certs.certfile}"\nkey = "{certs.keyfile}"\n')
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.certfile, certs.keyfile)
    running = Running(path, path.read_text())
    server, reloader = running.server, running.reloader
    join_server(reloader, server, ServerOptions(tls_contexts=[context]))
    monkeypatch.setattr(reloading, "check_certificate", lambda settings: None)  # it passed
    empty = tmp_path / "key.pem"
    empty.write_text("")
    path.write_text(f'cert = "{certs.certfile}"\nkey = "{empty}"\nmax_rooms = 3\n')
    with caplog.at_level(logging.INFO, logger="trio_chat.server"):
        assert reloader.reload() is not None
    assert "TLS certificate not renewed" in caplog.text
    assert server.chat.max_rooms == 3
