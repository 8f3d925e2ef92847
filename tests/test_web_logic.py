"""The browser page's logic (trio_chat/web/static/*.js), tested with node's own runner,
and its words checked against the server's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl, wording
from trio_chat.protocol import moderation as mod

TESTS = Path(__file__).parent / "web"
WORDS_JS = Path(__file__).parent.parent / "trio_chat" / "web" / "static" / "words.js"
T = datetime(2026, 11, 23, 23, 58, 7, tzinfo=UTC)  # another day in zones east of UTC

# Every moderation event, and the lists of members and welcomes that carry a
# room's topic and operators, as a page receives them.
MODERATION_EVENTS = [
    mod.TopicChanged(T, "#dev", 2, "bob", "release friday ünd https://x.example/y"),
    mod.TopicChanged(T, "#dev", 3, "bob", ""),
    mod.Kicked(T, "#dev", 4, "bob", "carol", "spam"),
    mod.Kicked(T, "#dev", 5, "bob", "Alice", ""),
    *(mod.ModeChanged(T, "#dev", 6, "bob", m, "carol") for m in ("+o", "-o", "+v", "-v")),
    mod.ModeChanged(T, "#dev", 7, "bob", "+b", "$a:mallory"),
    mod.ModeChanged(T, "#dev", 8, "bob", "-b", "*!*@cloak"),
    *(mod.ModeChanged(T, "#dev", 9, "bob", m) for m in ("+i", "-i", "+m", "-m")),
    mod.ModeChanged(T, "#dev", 10, "", "+o", "alice"),  # an owner, made operator on joining
    mod.ModeChanged(T, "#dev", 11, "bob", "+k", "secret"),  # a mode of a newer server
    mod.ModeChanged(T, "#dev", 12, "bob", "+k"),
    mod.Invited(T, "#secret", "bob"),
    mod.RoomState(T, "#dev", "hi", "bob", T, "im", "bob", ("bob",), ("carol",), ("x!*@*",)),
    mod.RoomState(T, "#dev", "hi", None, None, "", None, (), (), ()),
    mod.RoomState(T, "#x", "", None, None, "i", None, (), (), ()),
    ev.Members(T, "#dev", ("bob", "carol", "alice"), "hi", ("BOB",), ("carol", "Bob")),
    ev.Members(T, "#dev", ("bob",)),
    ev.Welcome(T, "alice", "#lobby", ("alice", "bob"), 2, "be nice", ("bob",)),
]


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is needed to test the browser page (apt-get install nodejs)")
        pytest.skip("node is not installed")
    return node


def test_page_logic_passes_its_node_tests() -> None:
    result = subprocess.run(
        [node_or_skip(), "--test", str(TESTS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_page_words_moderation_as_the_server_does() -> None:
    script = f"""
        import {{ eventLines, lineText }} from {json.dumps(WORDS_JS.as_uri())};
        import {{ readFileSync }} from "node:fs";
        const events = JSON.parse(readFileSync(0, "utf8"));
        console.log(JSON.stringify(events.map((e) => eventLines(e, "alice").map(lineText))));
    """
    result = subprocess.run(
        [node_or_skip(), "--input-type=module", "-e", script],
        input=json.dumps([jsonl.to_json(event) for event in MODERATION_EVENTS]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    on_the_page = json.loads(result.stdout)
    for event, page_lines in zip(MODERATION_EVENTS, on_the_page, strict=True):
        # The page draws the time apart; the server's lines start with it.
        server_lines = ["".join(text for _, text in line[1:]) for line in wording.lines(event)]
        assert page_lines == server_lines, event
