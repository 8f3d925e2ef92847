"""The server's configuration file: a key for each flag, checked before anything starts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_chat.cli import DEFAULT_DB, build_parser
from trio_chat.server import config_file as cf
from trio_chat.server.config_file import ConfigError

DOCS = Path(__file__).parent.parent / "docs" / "operating.md"
# The integer limits and their smallest allowed value.
WHOLE = {"max_rooms": 1, "max_clients": 0, "outbox_size": 1, "ipv4_prefix": 0, "history_page": 0}


def server() -> object:
    return cf.server_parser(build_parser())


def from_file(text: str, *flags: str):
    """What ``trio-chat server --config FILE *flags`` runs with, FILE holding ``text``."""
    parser = build_parser()
    values = cf.load(text, cf.server_parser(parser))
    return cf.parse_args(parser, ["server", *flags], values)


def documented_example() -> str:
    text = DOCS.read_text()
    start = text.index("This is every key, commented out")
    return text[text.index("```toml\n", start) + 8 : text.index("```\n", start)]


def test_the_documented_example_has_every_key_with_its_default_and_help():
    made = cf.example(server()).replace(str(DEFAULT_DB), "~/.local/share/trio-chat/chat.db")
    assert documented_example() == made
    for key in ("max_rooms", "listen", "cert", "web", "irc_server_name", "operator"):
        assert f"\n# {key} = " in made


def test_the_example_uncommented_starts_the_server_as_no_file_does():
    defaults = build_parser().parse_args(["server"])
    settings = [
        line.removeprefix("# ")
        for line in cf.example(server()).splitlines()
        if line.startswith("# ") and getattr(defaults, line.split()[1]) not in (None, [])
    ]
    args = from_file("\n".join(settings))
    assert vars(args) == vars(defaults)


def test_the_file_sets_values_as_their_flags_do():
    args = from_file(
        'listen = ["tcp://0.0.0.0:1", "irc://0.0.0.0:2"]\nmax_rooms = 3\nflood_rate = 1\n'
        'web = false\nunix_mode = "660"\noperator = ["alice"]\nlog_level = "debug"\n'
    )
    assert args.listen == ["tcp://0.0.0.0:1", "irc://0.0.0.0:2"]
    assert (args.max_rooms, args.flood_rate, args.web, args.unix_mode) == (3, 1.0, False, 0o660)
    assert cf.limits_of(args).operator == ("alice",)
    assert args.log_level == "debug"


def test_flags_override_the_file_and_a_repeated_flag_replaces_its_list():
    text = 'max_rooms = 3\nlisten = ["tcp://0.0.0.0:1"]\nweb = false\noperator = ["alice"]\n'
    args = from_file(text, "--max-rooms", "20", "--listen", "tcp://127.0.0.1:9")
    assert args.max_rooms == 20
    assert args.listen == ["tcp://127.0.0.1:9"]
    assert args.web is False
    assert args.operator == ["alice"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "max_rooms = 3\nmax-rooms = 4\n",
            "line 2: unknown key 'max-rooms' (did you mean 'max_rooms'?)",
        ),
        ("colour = true\n", "line 1: unknown key 'colour'"),
        ('\nmax_rooms = "3"\n', "line 2: max_rooms: expected a whole number, got a string"),
        ("max_rooms = true\n", "line 1: max_rooms: expected a whole number, got true or false"),
        ("flood_rate = 1.5\nweb = 1\n", "line 2: web: expected true or false, got a number"),
        ('listen = "tcp://x:1"\n', "line 1: listen: expected a list, got a string"),
        ("operator = [1]\n", "line 1: operator: expected a string, got a number"),
        ('log_level = "loud"\n', "line 1: log_level: 'loud' is not one of debug, info,"),
        ('unix_mode = "999"\n', "line 1: unix_mode: '999' is not an octal mode"),
        ("[server]\nmax_rooms = 3\n", "line 1: unknown key 'server'"),
        ("max_rooms = \n", "Invalid value (at line 1, column 13)"),
    ],
)
def test_a_wrong_key_or_value_is_named_with_its_line(text, error):
    with pytest.raises(ConfigError) as refused:
        from_file(text)
    assert error in str(refused.value)


def test_a_limit_out_of_range_in_the_file_names_the_file_key_and_line(tmp_path):
    path = tmp_path / "server.toml"
    path.write_text("max_rooms = 2\noutbox_size = 0\n")
    with pytest.raises(ConfigError, match=r"server\.toml: line 2: outbox_size must be at least 1$"):
        cf.configured(build_parser(), ["server", "--config", str(path)])
    args = cf.configured(build_parser(), ["server", "--config", str(path), "--outbox-size", "5"])
    assert cf.limits_of(args).outbox_size == 5
    path.write_text('welcome = """be kind\n\\u001b[31m"""\n')
    with pytest.raises(ConfigError, match=r"line 1: welcome must be one line, without control"):
        cf.configured(build_parser(), ["server", "--config", str(path)])
    with pytest.raises(ConfigError, match=r"absent\.toml: no such file"):
        cf.configured(build_parser(), ["server", "--config", str(tmp_path / "absent.toml")])


@given(key=st.sampled_from(sorted(WHOLE)), value=st.integers(-(2**70), 2**70))
def test_a_whole_number_in_the_file_is_taken_or_refused_as_its_flag(key, value):
    flag = "--" + key.replace("_", "-")
    by_flag = build_parser().parse_args(["server", flag, str(value)])
    by_file = from_file(f"{key} = {value}\n") if abs(value) < 2**63 else None
    if by_file is not None:
        assert getattr(by_file, key) == getattr(by_flag, key) == value
    if value < WHOLE[key] or (key == "ipv4_prefix" and value > 32):
        with pytest.raises(ConfigError, match=f"^--{flag[2:]} "):
            cf.limits_of(by_flag)
    else:
        assert getattr(cf.limits_of(by_flag), key) == value


@given(
    rooms=st.integers(1, 10**6),
    rate=st.floats(0, 1e9, allow_nan=False),
    web=st.booleans(),
    operators=st.lists(st.text(st.characters(codec="utf-8"), min_size=1), max_size=3),
    server_name=st.text(st.characters(codec="utf-8")),
)
def test_what_check_prints_is_a_file_that_gives_the_same_settings(
    rooms, rate, web, operators, server_name
):
    flags = [
        "--max-rooms",
        str(rooms),
        "--flood-rate",
        repr(rate),
        "--irc-server-name=" + server_name,
    ]
    flags += [f"--operator={nick}" for nick in operators] + ([] if web else ["--no-web"])
    args = build_parser().parse_args(["server", *flags])
    printed = cf.effective(server(), args)
    assert vars(from_file(printed)) == vars(args)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@10.0.0.1:6379/0", "redis://:***@10.0.0.1:6379/0"),
        ("rediss://chat:hunter2@[::1]:6380/1", "rediss://chat:***@[::1]:6380/1"),
        ("redis://10.0.0.1:6379/0", "redis://10.0.0.1:6379/0"),
    ],
)
def test_check_masks_the_password_of_a_url(url, shown):
    printed = cf.effective(server(), build_parser().parse_args(["server", "--broker", url]))
    assert f'\nbroker = "{shown}"\n' in printed
    assert "hunter2" not in printed


def run_check(*flags: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "trio_chat", "server", *flags, "--check"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_check_prints_the_settings_or_the_reason_and_exits(tmp_path):
    path = tmp_path / "server.toml"
    path.write_text('listen = ["tcp://127.0.0.1:0"]\nmax_rooms = 3\n')
    checked = run_check("--config", str(path), "--flood-rate", "2")
    assert checked.returncode == 0, checked.stderr
    assert re.search(r"^max_rooms = 3$", checked.stdout, re.MULTILINE)
    assert re.search(r"^flood_rate = 2\.0$", checked.stdout, re.MULTILINE)
    assert "listening" not in checked.stderr
    path.write_text('listen = ["tcp://127.0.0.1:0"]\nmax_rooms = -1\n')
    refused = run_check("--config", str(path))
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr == f"trio-chat: {path}: line 2: max_rooms cannot be negative\n"
    path.write_text(f'listen = ["tls://127.0.0.1:0"]\ncert = "{tmp_path}/none.pem"\n')
    refused = run_check("--config", str(path), "--key", str(path))
    assert refused.returncode == 2
    assert f"cannot load certificate {tmp_path}/none.pem with key {path}" in refused.stderr


def test_a_path_in_the_file_may_start_from_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    args = from_file('db = "~/chat.db"\nlog_dir = "~/logs"\nwelcome = "~ is home"\n')
    assert (args.db, args.log_dir) == (str(tmp_path / "chat.db"), str(tmp_path / "logs"))
    assert args.welcome == "~ is home"
