"""IRC clients in the real server, over memory streams, beside text-mode clients."""

from __future__ import annotations

import base64
import re

import pytest
import trio
import trio.testing
from irc_harness import IrcClient

from trio_chat.testing import TextClient

PASSWORD = "correct horse"
CLOAK = r"[0-9a-f]{12}\.cloak"  # every client here comes from 127.0.0.1


def is_mask(source: str | None, nick: str, user: str) -> bool:
    """Whether ``source`` is ``nick!user@`` a cloak of the client's address."""
    return re.fullmatch(rf"{nick}!{user}@{CLOAK}", source or "") is not None


async def test_an_irc_client_and_a_text_client_talk_in_one_room(start_both):
    text, irc = await start_both()
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    bob = await TextClient.connect(text)
    await bob.login("bob")
    await alice.expect("JOIN", "#lobby")
    await bob.send_line("hello alice")
    said = await alice.expect("PRIVMSG", "#lobby", "hello alice")
    assert is_mask(said.source, "bob", "text")
    await alice.send("PRIVMSG #lobby :hello bob", "PRIVMSG #lobby :\x01ACTION waves\x01")
    await bob.expect("alice: hello bob$")
    await bob.expect("~ alice waves$")
    await alice.send("JOIN #dev")
    await alice.expect("366", "alice", "#dev")
    await bob.send_line("/join #dev")
    await alice.expect("JOIN", "#dev")
    await bob.send_line("/part #dev")
    left = await alice.expect("PART", "#dev")
    assert is_mask(left.source, "bob", "text")
    await bob.send_line("/join #dev")
    await alice.send("PART #dev :off to lunch")
    assert (await alice.expect("PART")).params == ("#dev", "off to lunch")
    await bob.expect(r"\* alice left #dev \(part: off to lunch\)$")


async def test_a_notice_is_a_notice_for_irc_and_a_message_for_text(start_both):
    text, irc = await start_both()
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    bot = await IrcClient.connect(irc)
    await bot.register("bot")
    bob = await TextClient.connect(text)
    await bob.login("bob")
    await bot.send("NOTICE #lobby :build passed", "NOTICE bob :your build passed")
    notice = await alice.expect("NOTICE", "#lobby")
    assert notice.params[1] == "build passed"
    await bob.expect(r"bot: build passed$")
    await bob.expect(r"\[private\] bot -> bob: your build passed$")


async def test_the_sender_sees_its_own_message_only_with_echo_message(start_both):
    _, irc = await start_both()
    plain = await IrcClient.connect(irc)
    await plain.register("plain")
    echo = await IrcClient.connect(irc)
    await echo.register("echo", "echo-message", "server-time")
    await plain.send("PRIVMSG #lobby :first")
    await echo.expect("PRIVMSG", "#lobby", "first")
    await echo.send("PRIVMSG #lobby :second")
    mine = await echo.expect("PRIVMSG", "#lobby", "second")
    assert "time" in mine.tags
    # plain never gets its own "first": the next PRIVMSG it reads is echo's
    assert (await plain.expect("PRIVMSG")).params == ("#lobby", "second")


async def test_private_messages_cross_modes(start_both):
    text, irc = await start_both()
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    bob = await TextClient.connect(text)
    await bob.login("bob")
    await bob.send_line("/msg alice psst")
    got = await alice.expect("PRIVMSG", "alice", "psst")
    assert is_mask(got.source, "bob", "text")
    await alice.send("PRIVMSG bob :back")
    await bob.expect(r"\[private\] alice -> bob: back$")
    await alice.send("PRIVMSG nobody :hi", "NOTICE nobody :hi", "PRIVMSG bob :after")
    await alice.expect("401", "alice", "nobody")
    await bob.expect("alice -> bob: after$")


async def test_nick_changes_are_seen_in_both_modes(start_both):
    text, irc = await start_both()
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    bob = await TextClient.connect(text)
    await bob.login("bob")
    await alice.expect("JOIN", "#lobby")
    await bob.send_line("/nick robert")
    renamed = await alice.expect("NICK", "robert")
    assert is_mask(renamed.source, "bob", "text")
    await alice.send("NICK alicia")
    own = await alice.expect("NICK", "alicia")
    assert is_mask(own.source, "alice", "u")
    await bob.expect(r"\* alice is now known as alicia")
    await alice.send("NICK robert")
    await alice.expect("433", "alicia", "robert")


async def test_quitting_is_a_quit_for_irc_and_leaving_for_text(start_both):
    text, irc = await start_both()
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    bob = await IrcClient.connect(irc)
    await bob.register("bob")
    carol = await TextClient.connect(text)
    await carol.login("carol")
    await bob.send("JOIN #dev")
    await bob.expect("366", "bob", "#dev")
    await alice.send("JOIN #dev")
    await bob.expect("JOIN", "#dev")
    await alice.send("QUIT :see you")
    quit_ = await bob.expect("QUIT")
    assert quit_.params == ("Quit: see you",)
    assert is_mask(quit_.source, "alice", "u")  # written after she left the chat
    await carol.expect(r"\* alice left #lobby \(quit: see you\)")
    assert (await alice.expect("ERROR")).params[0].startswith("Closing link")
    # one QUIT, though bob shared two rooms with alice
    await bob.send("PING :mark")
    assert (await bob.receive()).command == "PONG"


async def test_lookups_answer_about_everyone(start_both):
    text, irc = await start_both()
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    bob = await TextClient.connect(text)
    await bob.login("bob")
    await alice.send("WHOIS bob", "ISON bob nobody", "LUSERS", "USERHOST bob")
    whois = await alice.expect("311", "alice", "bob")
    host = whois.params[3]
    assert re.fullmatch(CLOAK, host)
    assert whois.params[2:] == ("text", host, "*", "bob")
    await alice.expect("318", "alice", "bob")
    assert (await alice.expect("303")).params == ("alice", "bob")
    assert (await alice.expect("251")).params[1].startswith("There are 2 users")
    assert (await alice.expect("302")).params == ("alice", f"bob=+text@{host}")
    await alice.send("WHO #lobby", "NAMES #lobby", "LIST")
    who = [await alice.expect("352"), await alice.expect("352")]
    assert {m.params[2:8] for m in who} == {
        ("u", host, "trio-chat", "alice", "H", "0 Real Name"),
        ("text", host, "trio-chat", "bob", "H", "0 bob"),
    }
    await alice.expect("315", "alice", "#lobby")
    assert (await alice.expect("353")).params[-1] == "alice bob"
    assert (await alice.expect("322")).params[1:3] == ("#lobby", "2")


async def test_sasl_plain_signs_in_a_registered_nickname(start_both):
    text, irc = await start_both()
    carol = await TextClient.connect(text)
    await carol.login("carol")
    await carol.send_line(f"/register {PASSWORD}")
    await carol.expect("registered: from now on")
    await carol.send_line("/quit")
    await carol.lines_until_closed()

    client = await IrcClient.connect(irc)
    await client.send("CAP LS 302", "NICK guest", "USER u 0 * :C", "CAP REQ :sasl")
    await client.expect("CAP", "*", "ACK")
    await client.send("AUTHENTICATE PLAIN")
    await client.expect("AUTHENTICATE", "+")
    wrong = base64.b64encode(b"\0carol\0wrong password").decode()
    await client.send(f"AUTHENTICATE {wrong}")
    await client.expect("904")
    await client.send("AUTHENTICATE PLAIN")
    await client.expect("AUTHENTICATE", "+")
    right = base64.b64encode(f"\0carol\0{PASSWORD}".encode()).decode()
    await client.send(f"AUTHENTICATE {right}")
    await client.expect("903")
    await client.send("CAP END")
    welcome = await client.expect("001")
    assert welcome.params[0] == "carol"
    assert "logged in as carol" in welcome.params[1]


async def test_a_registered_nickname_needs_authentication(start_both):
    text, irc = await start_both()
    carol = await TextClient.connect(text)
    await carol.login("carol")
    await carol.send_line(f"/register {PASSWORD}")
    await carol.expect("registered: from now on")
    intruder = await IrcClient.connect(irc)
    await intruder.send("NICK carol", "USER u 0 * :C")
    taken = await intruder.expect("433", "*", "carol")
    assert "SASL" in taken.params[-1]
    await intruder.send("NICK carol_")
    await intruder.expect("001", "carol_")
    owner = await IrcClient.connect(irc)
    await owner.register("someone", password=f"carol:{PASSWORD}")  # ghosts the text client
    await carol.expect("disconnected: logged in from elsewhere")


async def test_flood_is_cut_off_for_irc_too(start_both, autojump_clock):
    _, irc = await start_both(flood_burst=5, flood_rate=2.0, flood_kick=10)
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    watcher = await IrcClient.connect(irc)
    await watcher.register("watcher")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(alice.send, *(f"PRIVMSG #lobby :spam {n}" for n in range(40)))
        quit_ = await watcher.expect("QUIT")
    assert quit_.params == ("excess flood",)
    assert (await alice.expect("ERROR")).params == ("Closing link: excess flood",)


async def test_a_silent_irc_client_is_pinged_then_dropped(start_both, autojump_clock):
    _, irc = await start_both(ping_interval=40, ping_timeout=20)
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    start = trio.current_time()
    ping = await alice.expect("PING")
    assert trio.current_time() - start == pytest.approx(40)
    await alice.send(f"PONG :{ping.params[0]}")
    await alice.expect("PING")
    assert (await alice.expect("ERROR")).params == ("Closing link: ping timeout",)


async def test_an_irc_client_pinging_gets_its_pong(start_both):
    _, irc = await start_both()
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    await alice.send("PING :12345")
    assert (await alice.expect("PONG")).params == ("trio-chat", "12345")


async def test_history_comes_on_joining_and_by_chathistory(start_both):
    text, irc = await start_both()
    bob = await TextClient.connect(text)
    await bob.login("bob")
    await bob.send_line("/join #dev")
    for n in range(5):
        await bob.send_line(f"line {n}")
    await bob.expect("bob: line 4$")
    alice = await IrcClient.connect(irc)
    await alice.register("alice", "batch", "server-time", "message-tags", "draft/chathistory")
    await alice.send("JOIN #dev")
    await alice.expect("366", "alice", "#dev")
    start = await alice.expect("BATCH")
    assert start.params[1:] == ("chathistory", "#dev")
    replayed = [await alice.expect("PRIVMSG") for _ in range(5)]
    assert [m.params[1] for m in replayed] == [f"line {n}" for n in range(5)]
    assert all(m.tags["batch"] == start.params[0][1:] for m in replayed)
    third = replayed[2].tags["msgid"]
    await alice.send(f"CHATHISTORY BEFORE #dev msgid={third} 10")
    await alice.expect("BATCH")
    earlier = [await alice.expect("PRIVMSG") for _ in range(2)]
    assert [m.params[1] for m in earlier] == ["line 0", "line 1"]
    assert (await alice.receive()).command == "BATCH"


async def test_an_operator_bans_what_its_irc_client_saw(start_both):
    text, irc = await start_both()
    alice = await IrcClient.connect(irc)
    await alice.register("alice", "account-tag")
    await alice.send("JOIN #dev", "TOPIC #dev :release friday")
    await alice.expect("TOPIC", "#dev", "release friday")
    carol = await IrcClient.connect(irc)
    await carol.register("carol")
    await carol.send("JOIN #dev")
    assert (await carol.expect("332", "carol", "#dev")).params[2] == "release friday"
    assert (await carol.expect("333", "carol", "#dev")).params[2] == "alice"
    assert (await carol.expect("353", "carol")).params[-1] == "@alice carol"
    await alice.expect("JOIN", "#dev")
    bob = await TextClient.connect(text)
    await bob.login("bob")
    await bob.send_line("/join #dev")
    seen = await alice.expect("JOIN", "#dev")
    assert is_mask(seen.source, "bob", "text")
    await alice.send("WHO #dev")
    flags = {m.params[5]: m.params[6] for m in [await alice.expect("352") for _ in range(3)]}
    assert flags == {"alice": "H@", "carol": "H", "bob": "H"}
    # what an IRC client's /ban sends: a mask of the host it was shown
    host = seen.source.split("@")[1]
    await alice.send(f"MODE #dev +b *!*@{host}")
    banned = await carol.expect("MODE", "#dev", "+b", f"*!*@{host}")
    assert is_mask(banned.source, "alice", "u")
    await bob.send_line("hello")
    await bob.expect("banned from speaking in #dev")
    await carol.send("PRIVMSG #dev :hello")  # the same address: banned too
    await carol.expect("404", "carol", "#dev")
    await alice.send("KICK #dev carol :spam", "KICK #dev nobody")
    assert (await carol.expect("KICK", "#dev", "carol")).params[2] == "spam"
    await alice.expect("KICK", "#dev", "carol")
    await alice.expect("441", "alice", "nobody", "#dev")
    await carol.send("JOIN #dev", "MODE #dev", "KICK #nowhere alice")
    await carol.expect("474", "carol", "#dev")
    await carol.expect("324", "carol", "#dev", "+nt")
    await carol.expect("329", "carol", "#dev")
    await carol.expect("403", "carol", "#nowhere")


async def test_an_invitation_reaches_the_invited_irc_client(start_both):
    _, irc = await start_both()
    alice = await IrcClient.connect(irc)
    await alice.register("alice")
    bob = await IrcClient.connect(irc)
    await bob.register("bob")
    await alice.send("JOIN #dev", "MODE #dev +i", "INVITE bob #dev")
    await alice.expect("341", "alice", "bob", "#dev")
    invite = await bob.expect("INVITE", "bob", "#dev")
    assert is_mask(invite.source, "alice", "u")
    await bob.send("JOIN #dev")
    await bob.expect("366", "bob", "#dev")
