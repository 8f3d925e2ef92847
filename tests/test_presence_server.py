"""Away, oper, the IRC lobby flag and the topic lock in the real server, over
memory streams, with IRC and text-mode clients side by side."""

from __future__ import annotations

from irc_harness import IrcClient

from trio_chat.protocol import events as ev
from trio_chat.protocol import presence
from trio_chat.testing import JsonClient, MemoryListener, TextClient

PASSWORD = "correct horse"


async def irc_user(listener: MemoryListener, nick: str, *caps: str, **kw: bool) -> IrcClient:
    client = await IrcClient.connect(listener)
    await client.register(nick, *caps, **kw)
    return client


async def text_user(listener: MemoryListener, nick: str) -> TextClient:
    client = await TextClient.connect(listener)
    await client.login(nick)
    return client


async def test_away_members_answer_private_messages_in_every_mode(start_both):
    text, irc = await start_both(flood_rate=0)
    alice, carol = await irc_user(irc, "alice"), await irc_user(irc, "carol")
    bob = await text_user(text, "bob")
    await alice.send("AWAY :at lunch")
    await alice.expect("306", "alice")
    await bob.send_line("/msg alice are you there?")
    await bob.expect(r"\* alice is away: at lunch$")
    await alice.expect("PRIVMSG", "alice", "are you there?")  # delivered all the same
    await carol.send("PRIVMSG alice :ping")
    assert (await carol.expect("301", "carol")).params[1:] == ("alice", "at lunch")
    await carol.send("WHO #lobby")
    who = {m.params[5]: m.params[6] for m in [await carol.expect("352") for _ in range(3)]}
    assert who == {"alice": "G", "carol": "H", "bob": "H"}
    await carol.send("WHOIS alice")
    assert (await carol.expect("301", "carol")).params[1:] == ("alice", "at lunch")
    await carol.expect("318")
    await alice.send("AWAY")
    await alice.expect("305", "alice")
    await bob.send_line("/away back in 5")
    await bob.expect(r"\* you are marked as away: back in 5$")
    await alice.send("PRIVMSG bob :lunch?")
    assert (await alice.expect("301", "alice")).params[1:] == ("bob", "back in 5")
    await bob.send_line("/away")
    await bob.expect(r"\* you are back$")


async def commands_until_said(client: IrcClient, text: str) -> list[str]:
    """The commands ``client`` reads up to the PRIVMSG of ``text``."""
    seen = []
    while (m := await client.receive()).params[-1:] != (text,):
        seen.append(m.command)
    return seen


async def lines_until_said(client: TextClient, text: str) -> list[str]:
    seen = []
    while not (line := await client.receive_line()).endswith(f": {text}"):
        seen.append(line)
    return seen


async def test_away_changes_reach_away_notify_and_json_clients_only(start_both):
    text, irc = await start_both(flood_rate=0)
    notified, plain = await irc_user(irc, "amy", "away-notify"), await irc_user(irc, "ben")
    bob, cat = await text_user(text, "bob"), await text_user(text, "cat")
    dan = JsonClient(await text.connect("127.0.0.1"))
    await dan.login("dan")
    await bob.send_line("/away at lunch")
    await bob.expect(r"\* you are marked as away: at lunch$")
    await bob.send_line("/away")
    await bob.send_line("hi")
    for text_now in ("at lunch", ""):
        away = await notified.expect("AWAY")
        assert away.source.startswith("bob!text@")
        assert away.params == ((text_now,) if text_now else ())
    assert "AWAY" not in await commands_until_said(notified, "hi")  # each once
    assert "AWAY" not in await commands_until_said(plain, "hi")
    assert not [line for line in await lines_until_said(cat, "hi") if "away" in line]
    seen = []
    while not isinstance(event := await dan.receive(), ev.Message):
        seen.append(event)
    changes = [(e.nick, e.text) for e in seen if isinstance(e, presence.AwayChanged)]
    assert changes == [("bob", "at lunch"), ("bob", "")]
    # joining a room while away is told to those with away-notify already in it
    await notified.send("JOIN #dev")
    await notified.expect("366")
    await bob.send_line("/away brb")
    await notified.expect("AWAY")
    await bob.send_line("/join #dev")
    await notified.expect("JOIN", "#dev")
    after_join = await notified.receive()
    assert (after_join.command, after_join.params) == ("AWAY", ("brb",))


async def test_oper_makes_a_server_operator_with_the_accounts_password(start_both):
    text, irc = await start_both(flood_rate=0, operator=("root",))
    root = await text_user(text, "root")
    await root.send_line(f"/register {PASSWORD}")
    await root.expect(r'\* "root" is registered')
    bob = await text_user(text, "bob")
    guest = await irc_user(irc, "guest")
    await guest.send("OPER bob whatever")
    await guest.expect("491", "guest")
    await guest.send("OPER root wrong")
    await guest.expect("464", "guest")
    await guest.send("KILL bob :spam")
    await guest.expect("482", "guest")
    await guest.send(f"OPER root :{PASSWORD}")
    await guest.expect("381", "guest")
    await guest.send("WHO guest")
    assert (await guest.expect("352", "guest")).params[6] == "H*"
    await guest.send("WHOIS guest")
    await guest.expect("313", "guest", "guest")
    await guest.send("KILL bob :spam")
    await bob.expect(r"\* disconnected: disconnected by guest: spam$")
    # text mode: the same request, the same checks
    carol = await text_user(text, "carol")
    await carol.send_line("/oper root wrong")
    await carol.expect('! wrong password for "root"')
    await carol.send_line(f'/oper root "{PASSWORD}"')
    await carol.expect(r"\* you are now a server operator, as root$")


async def test_without_the_irc_lobby_irc_clients_start_in_no_room(start_both):
    text, irc = await start_both(irc_lobby=False)
    bob = await text_user(text, "bob")
    alice = await IrcClient.connect(irc)
    await alice.send("NICK alice", "USER u 0 * :Real Name")
    await alice.expect("001")
    burst = []
    while (m := await alice.receive()).command != "422":
        burst.append(m.command)
    assert "JOIN" not in burst
    await alice.send("JOIN #lobby")
    await alice.expect("366", "alice", "#lobby")
    await bob.expect(r"\* alice joined #lobby$")


async def test_only_operators_set_the_topic_until_the_room_is_opened(start_both):
    text, irc = await start_both(flood_rate=0)
    alice, bob = await irc_user(irc, "alice"), await text_user(text, "bob")
    await alice.send("JOIN #dev")
    await alice.expect("366", "alice", "#dev")
    await bob.send_line("/join #dev")
    await alice.expect("JOIN", "#dev")
    await alice.send("MODE #dev")
    assert (await alice.expect("324", "alice", "#dev")).params[2] == "+nt"
    await bob.send_line("/topic mine")
    await bob.expect("! you are not an operator of #dev$")
    await alice.send("MODE #dev -t")
    await bob.expect(r"\* alice made the topic of #dev settable by every member$")
    await bob.send_line("/topic mine")
    topic = await alice.expect("TOPIC", "#dev", "mine")
    assert topic.source.startswith("bob!text@")
    assert topic.source.endswith(".cloak")
    await alice.send("MODE #dev +t")
    await bob.expect(r"\* alice made the topic of #dev settable by operators only$")
    await alice.send("MODE #dev -n")
    await alice.expect("NOTICE", "alice")  # refused: n is always set
