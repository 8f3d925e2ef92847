"""The client's configuration file and how the command line overrides it, without files."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from prompt_toolkit.output import ColorDepth

from trio_chat.client import config
from trio_chat.client.config import ConfigError, Settings
from trio_chat.client.servers import Servers
from trio_chat.client.ui import Terminal

EVERY_KEY = """
servers = ["tls://chat.example.org:58001", "chat2.example.org:58000"]
nick = "alice"
cafile = "~/ca.pem"
password_file = "/etc/chat/alice.password"
join = ["#dev", "ops"]
bell = false
colour = false
history_file = "/tmp/chat-history"
"""


def args(**given: object) -> argparse.Namespace:
    """The client's command line with nothing given but ``given``."""
    names = ("url", "nick", "cafile", "password_file", "join", "bell", "colour", "history_file")
    return argparse.Namespace(**dict.fromkeys(names) | given)


def test_every_key_is_read_and_checked():
    assert config.merge(config.load(EVERY_KEY), args()) == Settings(
        servers=("tls://chat.example.org:58001", "tcp://chat2.example.org:58000"),
        nick="alice",
        cafile=str(Path.home() / "ca.pem"),
        password_file=Path("/etc/chat/alice.password"),
        join=("#dev", "#ops"),
        bell=False,
        colour=False,
        history_file=Path("/tmp/chat-history"),
    )


def test_a_relative_path_in_the_file_is_taken_from_the_files_folder():
    text = 'cafile = "ca.pem"\npassword_file = "secret"\nhistory_file = "/abs/history"\n'
    loaded = config.load(text, Path("/home/ann/.config/trio-chat"))
    assert loaded["cafile"] == "/home/ann/.config/trio-chat/ca.pem"
    assert loaded["password_file"] == Path("/home/ann/.config/trio-chat/secret")
    assert loaded["history_file"] == Path("/abs/history")


def test_an_empty_file_leaves_the_defaults(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "bob")
    settings = config.merge(config.load(""), args())
    assert settings == Settings(servers=("tcp://127.0.0.1:58000",), nick="bob")
    assert (settings.bell, settings.colour) == (True, True)
    assert settings.history_file == config.DEFAULT_HISTORY


def test_flags_that_were_given_replace_the_files_values():
    file_settings = config.load(EVERY_KEY)
    settings = config.merge(
        file_settings, args(url=["127.0.0.1:1"], nick="bob", join=["qa"], bell=False)
    )
    assert settings.servers == ("tcp://127.0.0.1:1",)
    assert settings.nick == "bob"
    assert settings.join == ("#qa",)
    assert settings.cafile == file_settings["cafile"]


def test_a_join_flag_that_is_no_room_is_refused():
    with pytest.raises(ConfigError, match="--join: "):
        config.merge({}, args(nick="a", join=["#ok", "not ok"]))


def test_no_color_in_the_environment_turns_colours_off():
    assert config.merge({}, args(nick="a"), {"NO_COLOR": "1"}).colour is False
    assert config.merge({}, args(nick="a"), {"NO_COLOR": ""}).colour is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('nick = "al"\ncolor = true', "line 2: unknown key 'color' (known: servers, server,"),
        ("bell = 1", "line 1: bell: expected true or false, got a number"),
        ('servers = "tcp://a:1"', "line 1: servers: expected a list of strings, got a string"),
        ("servers = []", "servers: expected at least one URL"),
        ('server = "ftp://a:1"', "line 1: server: "),
        ('server = "a:1"\nservers = ["b:1"]', "give 'server' or 'servers', not both"),
        ('nick = "no spaces"', "line 1: nick: "),
        ('join = ["#ok", "#not ok"]', "line 1: join: "),
        ("join = [1]", "join: expected a string, got a number"),
        ("  history_file = 2026-11-30", "line 1: history_file: expected a string, got a date"),
        ('nick = "a"\nbell = tru', "(at line 2, column 8)"),
    ],
)
def test_a_wrong_key_type_or_value_is_named(text, message):
    with pytest.raises(ConfigError) as raised:
        config.load(text)
    assert message in str(raised.value)


def test_without_colour_the_terminal_prints_in_monochrome():
    servers = Servers(["tcp://127.0.0.1:1"], lambda url: None)  # type: ignore[arg-type, return-value]
    terminal = Terminal("alice", servers, None, colour=False)
    assert terminal.color_depth is ColorDepth.MONOCHROME
    assert terminal.session.app.color_depth is ColorDepth.MONOCHROME
