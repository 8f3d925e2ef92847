"""docs/operating.md, read as a newcomer would: what it shows works as shown."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from trio_chat.cli import build_parser
from trio_chat.server import config_file as cf

GUIDE = (Path(__file__).parent.parent / "docs" / "operating.md").read_text()


def section(heading: str) -> str:
    start = GUIDE.index(f"\n## {heading}\n")
    end = GUIDE.find("\n## ", start + 1)
    return GUIDE[start:end]


def blocks(text: str, language: str) -> list[str]:
    """The code blocks of ``language``; the quick start's are indented under their steps."""
    found = re.findall(rf"^ *```{language}\n(.*?)^ *```$", text, re.MULTILINE | re.DOTALL)
    return [textwrap.dedent(block) for block in found]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise LookupError(parser.prog)


def test_the_quick_start_s_file_passes_check(tmp_path):
    (file,) = blocks(section("Quick start for operators"), "toml")
    (tmp_path / "server.toml").write_text(file)
    command = [sys.executable, "-m", "trio_chat", "server", "--config", "server.toml", "--check"]
    checked = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert 'metrics = "http://127.0.0.1:9100/"' in checked.stdout
    assert 'db = "chat.db"' in checked.stdout


def test_every_configuration_file_the_guide_shows_is_one_the_server_takes():
    parser = build_parser()
    files = blocks(GUIDE, "toml")
    assert len(files) >= 4
    for file in files:
        values = cf.load(file, cf.server_parser(parser))
        cf.limits_of(cf.parse_args(parser, ["server"], values))


def test_every_command_the_guide_names_exists():
    server = cf.server_parser(build_parser())
    flags = {option for action in server._actions for option in action.option_strings}
    for line in re.findall(r"trio-chat server( [^`\n]*)", GUIDE):
        for flag in re.findall(r" (--[a-z][a-z-]*)", line):
            assert flag in flags, line
    actions = subcommands(subcommands(build_parser())["admin"])
    named = set(
        re.findall(r"trio-chat admin (?:--(?:db|config) \S+ )?([a-z][a-z-]*)(?=[\s`]|$)", GUIDE)
    )
    assert named >= {"accounts", "backup", "reset-password", "ban", "bans"}
    assert named <= actions.keys()


def test_every_flag_of_the_server_is_in_the_flags_table():
    table = section("Flags")
    for action in cf.server_parser(build_parser())._actions:
        if action.option_strings and action.dest != "help":
            assert f"| `{action.option_strings[0]}" in table, action.option_strings[0]


def test_the_guide_s_links_to_its_own_sections_lead_somewhere():
    prose = re.sub(r"```.*?```", "", GUIDE, flags=re.DOTALL)
    headings = re.findall(r"^#+ (.+)$", prose, re.MULTILINE)
    anchors = {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}
    links = set(re.findall(r"\]\(#([^)]+)\)", prose))
    assert links
    assert links <= anchors, links - anchors
