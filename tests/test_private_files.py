"""Passwords never reach the client's history file; private files are private."""

from __future__ import annotations

import argparse
import os
import stat

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from trio_chat import Limits
from trio_chat.cli import _open_store
from trio_chat.client.connection import ChatClient, State
from trio_chat.client.ui import make_session
from trio_chat.protocol import events as ev
from trio_chat.server.store import Stored


async def _no_stream():  # pragma: no cover - never connected
    raise OSError("no network in this test")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def type_lines(client: ChatClient, history, lines: list[tuple[State, str]]) -> None:
    with create_pipe_input() as inp:
        session = make_session(client, history, input=inp, output=DummyOutput())
        for state, line in lines:
            client.state = state
            inp.send_text(line + "\r")
            assert session.prompt() == line


def test_passwords_never_reach_the_history_file(tmp_path):
    history = tmp_path / "data" / "history"
    client = ChatClient("alice", _no_stream, show=lambda item: None)
    type_lines(
        client,
        history,
        [
            (State.CONNECTED, "hello there"),
            (State.CONNECTED, "/register first-secret"),
            (State.CONNECTED, "/PASSWORD first-secret second-secret"),
            (State.PASSWORD, "third-secret"),  # typed at the password prompt
            (State.CONNECTED, "/join #dev"),
        ],
    )
    kept = history.read_text()
    assert "hello there" in kept
    assert "/join #dev" in kept
    assert "secret" not in kept
    assert mode(history) == 0o600
    assert mode(history.parent) == 0o700


def test_an_old_history_file_is_made_private_and_its_passwords_not_offered(tmp_path):
    history = tmp_path / "history"
    history.write_text("\n# then\n+/register old-secret\n\n# then\n+hi\n")
    history.chmod(0o644)
    client = ChatClient("alice", _no_stream, show=lambda item: None)
    with create_pipe_input() as inp:
        session = make_session(client, history, input=inp, output=DummyOutput())
        inp.send_text("\x1b[A\x1b[A\r")  # Up twice: only "hi" is there to offer
        assert session.prompt() == "hi"
    assert mode(history) == 0o600


async def test_the_database_file_is_created_private(tmp_path):
    path = tmp_path / "new" / "chat.db"
    args = argparse.Namespace(db=str(path), history_days=0, history_max=0, broker=None)
    async with _open_store(args, Limits()) as (store, accounts, _):
        await accounts.create("alice", "correct horse")
        message = ev.Message(ev.now(), "#lobby", 1, "alice", "hi")
        kept: list[Stored] = [message]
        await store.append(kept)
        assert mode(path) == 0o600
        assert mode(f"{path}-wal") == 0o600
        assert mode(f"{path}-shm") == 0o600
    assert mode(path.parent) == 0o700
