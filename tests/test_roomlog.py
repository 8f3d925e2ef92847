"""Plain-text room logs: file names that are never hidden, never an option,
and never shared by two rooms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import ROOM_RE, fold
from trio_chat.server import MemoryStore
from trio_chat.server.roomlog import LoggedStore, file_stem


@pytest.mark.parametrize(
    ("room", "stem"),
    [("#a", "a"), ("#Dev", "dev"), ("#..", "%2E."), ("#.hidden", "%2Ehidden"), ("#-rf", "%2Drf")],
)
def test_log_file_names_are_never_hidden_nor_options(room, stem):
    assert file_stem(room) == stem


room_names = st.from_regex(ROOM_RE, fullmatch=True)


@given(room_names, room_names)
def test_two_rooms_never_share_a_log_file(one, other):
    assert not file_stem(one).startswith((".", "-"))
    assert (file_stem(one) == file_stem(other)) == (fold(one) == fold(other))


async def test_dot_and_dash_rooms_write_visible_files(tmp_path):
    store = LoggedStore(MemoryStore(), tmp_path)
    for seq, room in enumerate(["#..", "#.hidden", "#-rf", "#a", "#A"], 1):
        await store.append([ev.Message(ev.now(), room, seq, "alice", "hi")])
    names = sorted(p.name.rsplit("-", 3)[0] for p in tmp_path.iterdir())
    assert names == ["%2D" + "rf", "%2E.", "%2Ehidden", "a"]
