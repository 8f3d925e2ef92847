"""Broker mode without Redis: servers' copies of the chat fed one log.

Each server applies the same entries in the same order, so the copies must
agree on everything (nicknames, rooms, numbers), while each delivers only to
its own members. Synchronous: entries in, effects out.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_chat.chat import Chat, Close, Deliver, FetchHistory, Member
from trio_chat.chat.effects import Effect
from trio_chat.chat.numbering import RoomIndex
from trio_chat.chat.rooms import ELSEWHERE
from trio_chat.cluster import entries, snapshot
from trio_chat.cluster.entries import Account, Ask, Command, Enter, Entry, Leave, Lost, Operate
from trio_chat.cluster.replica import LOST_REASON, Replica
from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups, presence
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.errors import Code

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Server:
    """One server's copy of the chat, with its own members."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.registered: set[str] = set()
        self.index = RoomIndex(100)
        self.chat = Chat(
            last_seq=self.index.last_seq,
            registered=lambda nick: nick.lower() if nick.lower() in self.registered else None,
        )
        self.replica = Replica(self.chat, name, self.index, self._learn)
        self.members: dict[str, Member] = {}
        self.done: list[Effect] = []

    def _learn(self, account: Account) -> None:
        self.registered.add(account.nick.lower())

    def connect(self, connection: int) -> str:
        """A local member asks something for the first time: its origin."""
        origin = entries.origin(self.name, connection)
        self.members[origin] = self.replica.local[origin] = Member()
        return origin


class Log:
    """The shared log: every entry goes to every server, in order."""

    def __init__(self, *servers: Server) -> None:
        self.servers = servers
        self._ids = itertools.count(1)

    def append(self, origin: str, command: Command) -> dict[str, list[Effect]]:
        n = next(self._ids)
        # through the codec, as Redis would carry it
        fields = entries.encode(origin, command)
        entry = entries.decode(f"{int(T.timestamp() * 1000) + n}-0".encode(), fields)
        done = {}
        for server in self.servers:
            done[server.name] = effects = server.replica.apply(entry)
            server.done += effects
        return done


def delivered(effects: list[Effect]) -> list[tuple[ev.Event, list[str]]]:
    """Each event, with whom this server delivers it to."""
    return [
        (e.event, [m.nick for m in e.to if m.mailbox is not ELSEWHERE])
        for e in effects
        if isinstance(e, Deliver)
    ]


def events_of(effects: list[Effect], kind: type) -> list:
    return [e.event for e in effects if isinstance(e, Deliver) and isinstance(e.event, kind)]


@pytest.fixture
def two() -> tuple[Log, Server, Server]:
    a, b = Server("a"), Server("b")
    return Log(a, b), a, b


def test_members_of_two_servers_share_the_lobby_and_its_numbers(two):
    log, a, b = two
    alice, bob = a.connect(1), b.connect(1)
    log.append(alice, Enter("alice"))
    done = log.append(bob, Enter("bob"))
    # bob is welcomed by his own server, with alice in the room; alice sees bob join
    welcome = events_of(done["b"], ev.Welcome)[0]
    assert welcome.members == ("alice", "bob")
    assert welcome.online == 2
    assert events_of(done["a"], ev.Welcome) == []
    joined_a = [(e, to) for e, to in delivered(done["a"]) if isinstance(e, ev.Joined)]
    assert joined_a == [(ev.Joined(welcome.time, "#lobby", 2, "bob"), ["alice"])]
    done = log.append(bob, Ask(ev.Say("hi")))
    [(said_a, to_a)] = delivered(done["a"])
    [(said_b, to_b)] = delivered(done["b"])
    assert said_a == said_b
    assert said_a.seq == 3
    assert (to_a, to_b) == (["alice"], ["bob"])


def test_every_server_stores_every_room_event(two):
    log, a, _ = two
    alice = a.connect(1)
    done = log.append(alice, Enter("alice"))
    # b has no member in the room, but keeps the join for history all the same
    [stored] = [e for e in done["b"] if isinstance(e, Deliver)]
    assert isinstance(stored.record, ev.Joined)
    assert stored.to == ()
    # and nothing of alice's welcome, replay or history is for b to do
    assert not [e for e in done["b"] if isinstance(e, FetchHistory | Close)]


def test_a_nickname_asked_on_two_servers_at_once_goes_to_the_first_in_the_log(two):
    log, a, b = two
    first, second = a.connect(1), b.connect(1)
    log.append(first, Enter("carol"))
    done = log.append(second, Enter("Carol"))
    assert [e.code for e in events_of(done["b"], ev.Error)] == [Code.NICK_TAKEN]
    assert done["a"] == []
    assert a.members[first].present
    assert not b.members[second].present
    assert a.chat.members.keys() == b.chat.members.keys() == {"carol"}


def test_look_alike_nicknames_are_refused_across_servers(two):
    log, a, b = two
    log.append(a.connect(1), Enter("paypal"))
    done = log.append(b.connect(1), Enter("paypa1"))
    assert [e.code for e in events_of(done["b"], ev.Error)] == [Code.NICK_TAKEN]


def test_who_and_rooms_answer_for_every_server(two):
    log, a, b = two
    alice, bob = a.connect(1), b.connect(1)
    log.append(alice, Enter("alice"))
    log.append(bob, Enter("bob"))
    log.append(bob, Ask(ev.Join("#dev")))
    log.append(alice, Ask(ev.Join("#dev")))
    done = log.append(alice, Ask(ev.Who("#dev")))
    assert events_of(done["a"], ev.Members)[0].nicks == ("bob", "alice")
    assert done["b"] == []
    done = log.append(alice, Ask(ev.ListRooms()))
    rooms = events_of(done["a"], ev.Rooms)[0].rooms
    assert rooms == (ev.RoomInfo("#dev", 2), ev.RoomInfo("#lobby", 2))


def test_a_private_message_reaches_the_other_server_and_is_stored_once(two):
    log, a, b = two
    alice, bob = a.connect(1), b.connect(1)
    log.append(alice, Enter("alice"))
    log.append(bob, Enter("bob"))
    log.append(alice, Account("alice", b"s", b"h", 2, 1, 1))
    log.append(bob, Account("bob", b"s", b"h", 2, 1, 1))
    done = log.append(alice, Ask(ev.Tell("bob", "psst")))
    [to_a] = [e for e in done["a"] if isinstance(e, Deliver)]
    [to_b] = [e for e in done["b"] if isinstance(e, Deliver)]
    assert delivered([to_a]) == [(to_a.event, ["alice"])]
    assert delivered([to_b]) == [(to_a.event, ["bob"])]
    # the sender's server keeps it; the other only delivers it
    assert to_a.record is not None
    assert to_b.record is None


def test_a_registration_in_the_log_holds_on_every_server(two):
    log, a, b = two
    alice = a.connect(1)
    log.append(alice, Enter("alice"))
    log.append(alice, Account("alice", b"salt", b"hash", 2, 1, 1))
    assert "alice" in b.registered
    assert a.members[alice].account == "alice"
    # whoever holds the nickname on any server is identified by the registration
    assert b.chat.members["alice"].account == "alice"
    log.append(alice, Leave("quit"))
    done = log.append(b.connect(1), Enter("alice"))
    assert [e.code for e in events_of(done["b"], ev.Error)] == [Code.NICK_REGISTERED]
    # with the password checked by its server, it enters
    log.append(b.connect(2), Enter("alice", identified=True))
    assert b.chat.members["alice"].account == "alice"


def test_identifying_on_one_server_ends_the_ghost_on_the_other(two):
    log, a, b = two
    ghost = a.connect(1)
    log.append(ghost, Enter("alice"))
    log.append(ghost, Account("alice", b"s", b"h", 2, 1, 1))
    done = log.append(b.connect(1), Enter("alice", identified=True))
    closes = [e for e in done["a"] if isinstance(e, Close)]
    assert [c.member for c in closes] == [a.members[ghost]]
    assert not a.members[ghost].present


def test_the_members_of_a_lost_server_are_announced_as_gone(two):
    log, a, b = two
    alice, bob = a.connect(1), b.connect(1)
    log.append(alice, Enter("alice"))
    log.append(bob, Enter("bob"))
    done = log.append(entries.origin("b", 0), Lost("a"))
    [(left, to)] = delivered(done["b"])
    assert left == ev.Left(left.time, "#lobby", 3, "alice", LOST_REASON)
    assert to == ["bob"]
    assert set(a.chat.members) == set(b.chat.members) == {"bob"}
    # the lost server's own copy ends its members too
    assert [e.member for e in done["a"] if isinstance(e, Close)] == [a.members[alice]]
    # and a second announcement is nothing
    assert log.append(entries.origin("b", 0), Lost("a")) == {"a": [], "b": []}


def test_an_entry_from_a_connection_that_has_left_is_nothing(two):
    log, a, _ = two
    alice = a.connect(1)
    log.append(alice, Enter("alice"))
    log.append(alice, Leave("quit"))
    assert log.append(alice, Ask(ev.Say("still here?"))) == {"a": [], "b": []}


def test_a_room_emptied_and_made_again_goes_on_numbering_alike(two):
    log, a, b = two
    alice, bob = a.connect(1), b.connect(1)
    log.append(alice, Enter("alice"))
    log.append(bob, Enter("bob"))
    log.append(alice, Ask(ev.Join("#dev")))
    log.append(alice, Ask(ev.Say("one")))
    log.append(alice, Ask(ev.Part("#dev")))
    done = log.append(bob, Ask(ev.Join("#dev")))
    [joined] = [e.record for e in done["a"] if isinstance(e, Deliver) and e.record]
    assert joined.seq == 4
    assert b.chat.rooms["#dev"].seq == a.chat.rooms["#dev"].seq == 4


def test_entries_keep_their_time_from_the_log():
    fields = entries.encode("a/1", Ask(ev.Say("hi")))
    entry = entries.decode(b"1796023088221-7", fields)
    assert entry.time == datetime(2026, 11, 30, 7, 18, 8, 221000, tzinfo=UTC)
    assert entry.time - T < timedelta(days=1)


@pytest.mark.parametrize(
    "command",
    [
        Enter("bob", identified=True, resume=(ev.RoomSeq("#dev", 7),)),
        Enter("carol", user="json", host="0a1b2c3d4e5f.cloak"),
        Enter("dave", lobby=False),
        Ask(presence.SetAway("at lunch")),
        Operate("root"),
        Ask(ev.Join("#dev", after=3)),
        Ask(ev.Tell("ann", "a\u200db")),
        Leave("quit: bye"),
        Lost("f00d"),
        Account("bob", b"\x00salt", b"hash\xff", 16384, 8, 1),
    ],
)
def test_every_command_comes_back_from_the_log_as_it_went_in(command):
    entry = entries.decode(b"1-0", entries.encode("a/3", command))
    assert (entry.origin, entry.command) == ("a/3", command)


@given(st.dictionaries(st.binary(max_size=4), st.binary(max_size=64), max_size=3))
def test_a_log_entry_no_server_wrote_is_a_bad_entry_never_a_crash(fields):
    with contextlib.suppress(entries.BadEntry):
        entries.decode(b"5-0", fields)


@given(
    st.fixed_dictionaries(
        {
            "o": st.text(max_size=5),
            "k": st.sampled_from(["enter", "ask", "leave", "lost", "account", "oper"]),
        }
    ),
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.integers() | st.text(),
            lambda c: st.lists(c) | st.dictionaries(st.text(), c),
            max_leaves=5,
        ),
        max_size=6,
    ),
)
def test_log_entries_with_any_fields_are_entries_or_bad_entries(head, rest):
    fields = {b"c": json.dumps(rest | head).encode()}
    try:
        entry = entries.decode(b"5-0", fields)
    except entries.BadEntry:
        return
    assert isinstance(entry, Entry)


def test_a_server_that_starts_from_a_snapshot_goes_on_like_the_others(two):
    log, a, b = two
    alice, bob = a.connect(1), b.connect(1)
    log.append(alice, Enter("alice"))
    log.append(bob, Enter("bob"))
    log.append(alice, Account("alice", b"s", b"h", 2, 1, 1))
    log.append(bob, Ask(ev.Join("#dev")))
    log.append(alice, Ask(ev.Join("#dev")))
    log.append(alice, Ask(ev.Say("hi")))
    log.append(bob, Ask(ev.Join("#ops")))
    log.append(bob, Ask(ev.Part("#ops")))  # an emptied room
    data = snapshot.dump(a.replica, a.index, [Account("alice", b"s", b"h", 2, 1, 1)])
    c = Server("c")
    accounts = snapshot.load(data, c.replica, c.index)
    assert [x.nick for x in accounts] == ["alice"]
    assert c.replica.position == a.replica.position
    log.servers = (a, b, c)
    carol = c.connect(1)
    done = log.append(carol, Enter("carol", resume=(ev.RoomSeq("#dev", 1),)))
    assert events_of(done["c"], ev.Welcome)[0].online == 3
    log.append(carol, Ask(ev.Join("#ops")))
    log.append(carol, Ask(ev.Who()))
    log.append(bob, Ask(ev.ChangeNick("bobby")))
    for server in (a, b, c):
        chat = server.chat
        assert {n: (m.nick, m.account, list(m.rooms)) for n, m in chat.members.items()} == {
            "alice": ("alice", "alice", ["#lobby", "#dev"]),
            "bobby": ("bobby", None, ["#lobby", "#dev"]),
            "carol": ("carol", None, ["#lobby", "#dev", "#ops"]),
        }
        rooms = {n: (r.seq, r.chat_seq, r.nicks) for n, r in chat.rooms.items()}
        assert rooms == {
            "#lobby": (4, 0, ("alice", "bobby", "carol")),
            "#dev": (5, 3, ("bobby", "alice", "carol")),
            "#ops": (3, 2, ("carol",)),
        }
    # carol sees her own server's events only
    assert [m.nick for m in c.chat.rooms["#dev"].recipients] == ["carol"]


def test_moderation_goes_through_the_log_and_snapshots_alike(two):
    log, a, b = two
    alice, bob, carol = a.connect(1), b.connect(1), b.connect(2)
    log.append(alice, Enter("alice"))
    log.append(alice, Account("alice", b"s", b"h", 2, 1, 1))
    log.append(bob, Enter("bob", host="b0b.cloak"))
    log.append(carol, Enter("carol", host="ca401.cloak"))
    log.append(alice, Ask(ev.Join("#dev")))  # alice owns it
    log.append(bob, Ask(ev.Join("#dev")))
    log.append(carol, Ask(ev.Join("#dev")))
    log.append(alice, Ask(mod.SetTopic("release friday")))
    log.append(alice, Ask(mod.SetMode("+v", "bob")))
    log.append(alice, Ask(mod.SetMode("+m")))
    log.append(alice, Ask(mod.SetMode("+b", "carol")))  # a guest on server b: by its cloak
    done = log.append(alice, Ask(mod.Kick("carol", reason="spam")))
    assert [nicks for e, nicks in delivered(done["b"]) if isinstance(e, mod.Kicked)] == [
        ["bob", "carol"]
    ]
    log.append(alice, Ask(mod.SetMode("+i")))
    log.append(alice, Ask(mod.Invite("carol")))
    assert a.chat.rooms["#dev"].bans == b.chat.rooms["#dev"].bans == ["*!*@ca401.cloak"]

    c = Server("c")
    snapshot.load(snapshot.dump(a.replica, a.index, []), c.replica, c.index)
    log.servers = (a, b, c)
    log.append(alice, Ask(ev.Part("#dev")))
    done = log.append(carol, Ask(ev.Join("#dev")))  # invited, but banned
    assert [e.code for e in events_of(done["b"], ev.Error)] == [Code.BANNED]
    copies = [json.loads(snapshot.dump(x.replica, x.index, [])) for x in (a, b, c)]
    assert copies[0] == copies[1] == copies[2]
    for server in (a, b, c):
        room = server.chat.rooms["#dev"]
        assert (room.topic, room.modes, room.owner, room.nicks) == (
            "release friday",
            "imt",
            "alice",
            ("bob",),
        )
        assert [m.nick for m in room.voiced] == ["bob"]
        assert server.chat.saved["#dev"].bans == ("*!*@ca401.cloak",)


def test_away_oper_and_no_lobby_go_through_the_log_and_snapshots_alike():
    a, b = Server("a"), Server("b")
    for server in (a, b):
        server.chat.operators = frozenset({"root"})
    log = Log(a, b)
    alice, bob = a.connect(1), b.connect(1)
    log.append(alice, Enter("alice"))
    done = log.append(bob, Enter("bob", lobby=False))
    assert [w.room for w in events_of(done["b"], ev.Welcome)] == [""]
    done = log.append(alice, Ask(presence.SetAway("at lunch")))
    assert [e.text for e in events_of(done["a"], presence.AwayStatus)] == ["at lunch"]
    assert events_of(done["b"], presence.AwayStatus) == []  # not bob's to deliver
    done = log.append(bob, Operate("root"))
    assert [e.name for e in events_of(done["b"], presence.OperatorStatus)] == ["root"]
    done = log.append(bob, Ask(ev.Tell("alice", "lunch?")))
    assert [e.text for e in events_of(done["b"], presence.Away)] == ["at lunch"]
    c = Server("c")
    snapshot.load(snapshot.dump(a.replica, a.index, []), c.replica, c.index)
    for server in (a, b, c):
        members = server.chat.members
        assert (members["alice"].away, members["alice"].oper) == ("at lunch", False)
        assert (members["bob"].away, members["bob"].oper, members["bob"].rooms) == ("", True, {})


def test_a_server_started_from_a_snapshot_tells_when_a_room_was_made_and_who_hides():
    a, b = Server("a"), Server("b")
    log = Log(a, b)
    alice, bob = a.connect(1), b.connect(1)
    log.append(alice, Enter("alice"))
    log.append(bob, Enter("bob"))
    log.append(alice, Ask(ev.Join("#dev")))
    log.append(alice, Ask(lookups.Hide(True)))
    log.append(alice, Ask(ev.Part("#lobby")))
    c = Server("c")
    snapshot.load(snapshot.dump(a.replica, a.index, []), c.replica, c.index)
    log.servers = (a, b, c)
    carol = c.connect(1)
    log.append(carol, Enter("carol"))
    done = log.append(carol, Ask(mod.SetMode(room="#dev")))
    (state,) = events_of(done["c"], mod.RoomState)
    assert state.created == a.chat.rooms["#dev"].created is not None
    done = log.append(carol, Ask(lookups.Find("ali*")))
    assert [e.nicks for e in events_of(done["c"], lookups.Found)] == [()]


def test_a_snapshot_no_server_wrote_is_refused():
    for data in (b"", b"[]", b'{"version": 99}', b'{"version": 1, "members": [[1]]}'):
        with pytest.raises(snapshot.BadSnapshot):
            snapshot.load(data, Server("c").replica, RoomIndex(10))


def test_an_enter_whose_connection_is_gone_still_counts_alike_on_every_server(two):
    log, a, b = two
    gone = entries.origin("a", 9)  # a has no connection 9: it closed before the log had it
    log.append(gone, Enter("ghost"))
    assert set(a.chat.members) == set(b.chat.members) == {"ghost"}
    log.append(gone, Leave("closed"))
    assert set(a.chat.members) == set(b.chat.members) == set()
