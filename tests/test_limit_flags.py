"""Every server limit is a flag, made from the Limits field alone."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from trio_chat.cli import build_parser
from trio_chat.server import Limits


def _server_flags() -> dict[str, object]:
    (commands,) = [a for a in build_parser()._actions if a.dest == "command"]
    server = commands.choices["server"]  # type: ignore[index]
    return {flag: action for action in server._actions for flag in action.option_strings}


@pytest.mark.parametrize("field", dataclasses.fields(Limits), ids=lambda f: f.name)
def test_every_limit_is_a_flag_with_its_default_and_help(field):
    action = _server_flags()[f"--{field.name.replace('_', '-')}"]
    assert action.dest == field.name
    assert action.help.startswith(field.metadata["help"])
    if field.default == ():
        assert action.default is None  # repeated: each use adds an entry
    elif isinstance(field.default, bool):  # --flag and --no-flag
        assert isinstance(action, argparse.BooleanOptionalAction)
        assert action.default is field.default
        assert f"(default {'on' if field.default else 'off'})" in action.help
    else:
        assert action.default == field.default
        assert action.type is type(field.default)
        assert f"(default {field.default})" in action.help or field.default == ""


def test_limit_flags_reach_the_limits():
    args = build_parser().parse_args(
        [
            "server",
            "--max-rooms",
            "3",
            "--flood-rate",
            "0.5",
            "--limit-exempt",
            "10.0.0.0/8",
            "--limit-exempt",
            "::1",
        ]
    )
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Limits)}
    limits = Limits(**values | {"limit_exempt": tuple(args.limit_exempt)})
    assert limits.max_rooms == 3
    assert limits.flood_rate == 0.5
    assert limits.limit_exempt == ("10.0.0.0/8", "::1")
    assert limits.max_line_bytes == Limits().max_line_bytes


def test_server_help_lists_each_limit_with_its_wording(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["server", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--max-rooms N rooms one client may be in at once (default 20)" in shown
    assert "--limit-exempt CIDR an address or network free of per-address" in shown
