"""The IRC connection without I/O: registration, CAP, SASL, commands and lines."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from trio_chat.protocol import NEED_DATA, lookups, notices, presence
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.errors import Code
from trio_chat.protocol.irc import IrcServerConnection, SaslPlain
from trio_chat.protocol.irc.connection import CAPS, MAX_ASKED
from trio_chat.protocol.irc.encoder import Lines
from trio_chat.protocol.irc.numerics import Identity

T = datetime(2026, 11, 30, 12, 0, 0, 123000, tzinfo=UTC)


def feed(conn: IrcServerConnection, *lines: str) -> list[object]:
    """What the connection makes of ``lines``: requests, and its own answers as text."""
    conn.receive_data("".join(f"{line}\r\n" for line in lines).encode())
    out: list[object] = []
    while (event := conn.next_event()) is not NEED_DATA:
        if isinstance(event, Lines):
            out += event.data.decode().splitlines()
        elif isinstance(event, ev.Request):
            out.append(event)
    return out


def shown(conn: IrcServerConnection, event: ev.Event) -> list[str]:
    return conn.encoder(event).decode().splitlines()


def registered(nick: str = "alice", *caps: str) -> IrcServerConnection:
    conn = IrcServerConnection()
    if caps:
        feed(conn, f"CAP REQ :{' '.join(caps)}", "CAP END")
    assert feed(conn, f"NICK {nick}", "USER u 0 * :Real Name") == [ev.Hello(nick)]
    conn.accept()
    conn.encoder(ev.Welcome(T, nick, "#lobby", (nick,), 1))
    return conn


def test_nick_and_user_register_with_one_hello():
    conn = IrcServerConnection()
    assert feed(conn, "NICK alice") == []
    assert feed(conn, "USER u 0 * :Alice") == [ev.Hello("alice")]


def test_cap_negotiation_holds_registration_until_cap_end():
    conn = IrcServerConnection()
    got = feed(conn, "CAP LS 302", "NICK alice", "USER u 0 * :Alice")
    assert got == [
        ":trio-chat CAP * LS :server-time message-tags echo-message batch sasl=PLAIN"
        " draft/chathistory account-tag away-notify"
    ]
    assert feed(conn, "CAP REQ :server-time echo-message") == [
        ":trio-chat CAP * ACK :server-time echo-message"
    ]
    assert feed(conn, "CAP REQ :server-time extended-join") == [
        ":trio-chat CAP * NAK :server-time extended-join"
    ]
    assert feed(conn, "CAP LIST")[0].endswith(
        ("server-time echo-message", "echo-message server-time")
    )
    assert feed(conn, "CAP END") == [ev.Hello("alice")]


def test_commands_before_registration_are_refused():
    conn = IrcServerConnection()
    assert feed(conn, "JOIN #dev") == [":trio-chat 451 * :You have not registered"]
    assert feed(conn, "PING x") == [":trio-chat PONG trio-chat x"]


def test_pass_gives_the_password_or_the_account_and_password():
    conn = IrcServerConnection()
    assert feed(conn, "PASS secret", "NICK alice", "USER u 0 * :A") == [ev.Hello("alice", "secret")]
    conn = IrcServerConnection()
    assert feed(conn, "PASS carol:secret", "NICK alice", "USER u 0 * :A") == [
        ev.Hello("carol", "secret")
    ]


def test_sasl_plain_is_checked_then_the_account_becomes_the_nickname():
    conn = IrcServerConnection()
    feed(conn, "CAP LS 302", "CAP REQ :sasl", "NICK guest", "USER u 0 * :A")
    assert feed(conn, "AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    token = base64.b64encode(b"\0carol\0sesame").decode()
    assert feed(conn, f"AUTHENTICATE {token}") == [SaslPlain("carol", "sesame")]
    answer = conn.logged_in("carol", "sesame", T)
    assert isinstance(answer, Lines)
    assert b" 900 " in answer.data
    assert b" 903 " in answer.data
    assert feed(conn, "CAP END") == [ev.Hello("carol", "sesame")]


def test_a_refused_sasl_answer_is_904():
    conn = IrcServerConnection()
    feed(conn, "CAP REQ :sasl", "AUTHENTICATE PLAIN")
    feed(conn, "AUTHENTICATE " + base64.b64encode(b"\0carol\0wrong").decode())
    assert shown(conn, ev.Error(T, Code.BAD_PASSWORD, "wrong")) == [
        ":trio-chat 904 * :SASL authentication failed: wrong"
    ]
    assert not conn.sasl_busy


def test_a_registered_nickname_without_its_password_is_in_use():
    conn = IrcServerConnection()
    feed(conn, "NICK carol", "USER u 0 * :C")
    asked = conn.expect_password("carol", T)
    assert isinstance(asked, Lines)
    assert asked.data.startswith(b":trio-chat 433 * carol :Nickname is registered")
    assert feed(conn, "NICK carol_") == [ev.Hello("carol_")]


def test_commands_become_the_chats_requests():
    conn = registered()
    assert feed(conn, "PRIVMSG #lobby :hi all", "PRIVMSG bob :psst") == [
        ev.Say("hi all", "#lobby"),
        ev.Tell("bob", "psst"),
    ]
    assert feed(conn, "PRIVMSG #lobby :\x01ACTION waves\x01") == [ev.Act("waves", "#lobby")]
    assert feed(conn, "JOIN #a,#b") == [ev.Join("#a"), ev.Join("#b")]
    assert feed(conn, "NICK alicia", "QUIT :later") == [ev.ChangeNick("alicia"), ev.Quit("later")]
    assert feed(conn, "WHOIS bob", "LUSERS", "ISON bob carol") == [
        lookups.Whois("bob"),
        lookups.CountUsers(),
        lookups.Ison(("bob", "carol")),
    ]
    assert feed(conn, "TOPIC #a :release friday", "KICK #a bob :spam", "MODE #a +im") == [
        mod.SetTopic("release friday", "#a"),
        mod.Kick("bob", "#a", "spam"),
        mod.SetMode("+i", None, "#a"),
        mod.SetMode("+m", None, "#a"),
    ]
    assert feed(conn, "MODE #a +o bob", "INVITE bob #a", "KILL bob :bye") == [
        mod.SetMode("+o", "bob", "#a"),
        mod.Invite("bob", "#a"),
        mod.Disconnect("bob", "bye"),
    ]


def test_notices_are_notices_to_the_chat():
    conn = registered()
    assert feed(conn, "NOTICE #lobby :built", "NOTICE bob :done") == [
        notices.SayNotice("built", "#lobby"),
        notices.TellNotice("bob", "done"),
    ]
    assert shown(conn, notices.NoticeMessage(T, "#lobby", 3, "bot", "built")) == [
        ":bot!bot@trio-chat NOTICE #lobby :built"
    ]


def test_what_the_chat_cannot_take_is_answered_at_once():
    conn = registered()
    assert feed(conn, "PRIVMSG #elsewhere :hi") == [
        ":trio-chat 404 alice #elsewhere :Cannot send to channel"
    ]
    assert feed(conn, "NOTICE #elsewhere :hi") == []
    assert feed(conn, "PART #elsewhere") == [
        ":trio-chat 442 alice #elsewhere :You're not on that channel"
    ]
    assert feed(conn, "FROB") == [":trio-chat 421 alice FROB :Unknown command"]
    assert feed(conn, "KICK #a") == [":trio-chat 461 alice KICK :Not enough parameters"]
    assert feed(conn, "PRIVMSG #lobby :" + "x" * 600) == [
        ":trio-chat 417 alice :Input line was too long"
    ]
    # fits what alice sends, not what the others would receive: refused, not cut
    assert feed(conn, "PRIVMSG #lobby :" + "x" * 480) == [
        ":trio-chat 417 alice :Input line was too long"
    ]
    assert feed(conn, "PRIVMSG #lobby :" + "x" * 460) == [ev.Say("x" * 460, "#lobby")]
    assert feed(conn, "MOTD") == [":trio-chat 422 alice :MOTD File is missing"]
    assert feed(conn, "MODE alice") == [":trio-chat 221 alice +"]
    assert feed(conn, "MODE alice +x", "MODE bob") == [
        ":trio-chat 501 alice :Unknown MODE flag",
        ":trio-chat 502 alice :Cannot change mode for other users",
    ]


def test_text_that_is_not_utf8_is_refused():
    conn = registered()
    conn.receive_data(b"PRIVMSG #lobby :caf\xe9\r\n")
    event = conn.next_event()
    assert isinstance(event, Lines)
    assert event.data == b":trio-chat FAIL PRIVMSG INVALID_UTF8 :Message rejected: not UTF-8\r\n"


def test_the_server_is_named_as_configured():
    conn = IrcServerConnection(server="irc.example.org")
    assert feed(conn, "PING x") == [":irc.example.org PONG irc.example.org x"]


def test_the_welcome_burst_ends_with_the_lobby_joined():
    conn = IrcServerConnection()
    feed(conn, "NICK alice", "USER u 0 * :A")
    conn.accept()
    lines = shown(conn, ev.Welcome(T, "alice", "#lobby", ("bob", "alice"), 2, ops=("bob",)))
    numerics = [line.split()[1] for line in lines]
    assert numerics[:4] == ["001", "002", "003", "004"]
    assert {"005", "251", "422"} <= set(numerics)
    assert lines[-3:] == [
        ":alice!alice@trio-chat JOIN #lobby",
        ":trio-chat 353 alice = #lobby :@bob alice",
        ":trio-chat 366 alice #lobby :End of /NAMES list",
    ]
    isupport = " ".join(line for line in lines if " 005 " in line)
    for token in ("CASEMAPPING=ascii", "CHANTYPES=#", "NICKLEN=32", "PREFIX=(ov)@+", "UTF8ONLY"):
        assert token in isupport


def test_server_time_and_msgid_tags_go_with_the_caps():
    plain = registered("alice")
    tagged = registered("alice", "server-time", "message-tags")
    message = ev.Message(T, "#lobby", 7, "bob", "hi")
    assert shown(plain, message) == [":bob!bob@trio-chat PRIVMSG #lobby :hi"]
    assert shown(tagged, message) == [
        "@time=2026-11-30T12:00:00.123Z;msgid=lobby/7 :bob!bob@trio-chat PRIVMSG #lobby :hi"
    ]
    assert plain.encoder != tagged.encoder
    assert plain.encoder == registered("carol").encoder  # one encoding for both


def test_own_messages_are_seen_only_with_echo_message():
    plain, echoing = registered("alice"), registered("alice", "echo-message")
    mine = ev.Message(T, "#lobby", 7, "alice", "hi")
    assert not plain.keep(mine)
    assert echoing.keep(mine)
    assert plain.keep(ev.Message(T, "#lobby", 8, "bob", "hi"))


def test_a_rename_or_quit_seen_in_several_rooms_is_one_line():
    conn = registered("alice")
    renames = [ev.NickChanged(T, room, 3, "bob", "robert") for room in ("#a", "#b")]
    assert [conn.keep(e) for e in renames] == [True, False]
    quits = [ev.Left(T, room, 4, "robert", "quit: bye") for room in ("#a", "#b")]
    assert [conn.keep(e) for e in quits] == [True, False]
    assert shown(conn, quits[0]) == [":robert!robert@trio-chat QUIT :Quit: bye"]
    own = ev.NickChanged(T, "#lobby", 5, "alice", "alicia")
    assert conn.keep(own)
    assert conn.nick == "alicia"


def test_away_changes_are_away_lines_only_with_away_notify():
    plain, notified = registered("alice"), registered("alice", "away-notify")
    gone, back = presence.AwayChanged(T, "bob", "at lunch"), presence.AwayChanged(T, "bob", "")
    assert shown(plain, gone) == []
    assert shown(plain, back) == []
    assert plain.encoder != notified.encoder  # a run is encoded once for each
    assert shown(notified, gone) == [":bob!bob@trio-chat AWAY :at lunch"]
    assert shown(notified, back) == [":bob!bob@trio-chat AWAY"]


def test_long_messages_are_split_never_cut():
    conn = registered()
    text = "é" * 400
    lines = shown(conn, ev.Message(T, "#lobby", 1, "bob", text))
    assert len(lines) == 2
    assert all(len(line.encode()) <= 510 for line in lines)
    assert "".join(line.split(" :", 1)[1] for line in lines) == text


def test_names_and_who_are_answered_as_asked():
    conn = registered()
    assert feed(conn, "NAMES #lobby", "WHO #Lobby", "WHO bo*") == [
        ev.Who("#lobby"),
        lookups.Find("#Lobby"),
        lookups.Find("bo*"),
    ]
    members = ev.Members(T, "#lobby", ("alice", "bob"), voiced=("bob",))
    assert shown(conn, members) == [
        ":trio-chat 353 alice = #lobby :alice +bob",
        ":trio-chat 366 alice #lobby :End of /NAMES list",
    ]
    rows = ("alice", "bob"), ("u", "bob"), ("Real Name", "bob"), ("#lobby", "#lobby")
    assert shown(conn, lookups.Found(T, "#Lobby", *rows)) == [
        ":trio-chat 352 alice #lobby u trio-chat trio-chat alice H :0 Real Name",
        ":trio-chat 352 alice #lobby bob trio-chat trio-chat bob H :0 bob",
        ":trio-chat 315 alice #Lobby :End of WHO list",
    ]


def test_errors_become_numerics_about_their_subject():
    conn = registered()
    feed(conn, "WHOIS ghost")
    assert shown(conn, ev.Error(T, Code.NO_SUCH_NICK, "no", "ghost")) == [
        ":trio-chat 401 alice ghost :No such nick/channel",
        ":trio-chat 318 alice ghost :End of /WHOIS list",
    ]
    feed(conn, "NOTICE ghost :hi")
    assert shown(conn, ev.Error(T, Code.NO_SUCH_NICK, "no", "ghost")) == []
    taken = ev.Error(T, Code.NICK_TAKEN, "taken", "bob")
    assert shown(conn, taken) == [":trio-chat 433 alice bob :taken"]


def test_history_on_joining_is_a_batch_of_timed_messages():
    conn = registered("alice", "batch", "server-time")
    past = (ev.Message(T, "#dev", 1, "bob", "earlier"),)
    lines = shown(conn, ev.History(T, "#dev", past))
    assert lines[0].startswith(":trio-chat BATCH +")
    assert lines[0].endswith(" chathistory #dev")
    ref = lines[0].split()[2][1:]
    assert lines[1].startswith(f"@time=2026-11-30T12:00:00.123Z;batch={ref} :bob!")
    assert lines[2] == f":trio-chat BATCH -{ref}"
    bare = registered()
    assert shown(bare, ev.History(T, "#dev", past)) == [
        f":bob!bob@trio-chat PRIVMSG #dev :[{T:%H:%M}] earlier"
    ]


def test_chathistory_asks_for_a_page_by_msgid():
    conn = registered("alice", "batch", "draft/chathistory")
    assert feed(
        conn,
        "CHATHISTORY LATEST #dev * 10",
        "CHATHISTORY BEFORE #dev msgid=dev/40 5",
        "CHATHISTORY AFTER #dev msgid=dev/40 5",
    ) == [
        ev.GetHistory("#dev", 10),
        ev.GetHistory("#dev", 5, before=40),
        ev.GetHistory("#dev", 5, after=40),
    ]
    assert feed(
        conn, "CHATHISTORY BEFORE #dev msgid=lobby/40 5", "CHATHISTORY AROUND #dev * 5"
    ) == [
        ":trio-chat FAIL CHATHISTORY INVALID_PARAMS BEFORE msgid=lobby/40"
        " :Unknown message reference",
        ":trio-chat FAIL CHATHISTORY INVALID_PARAMS AROUND #dev :Unsupported subcommand",
    ]
    # each answer is a batch, even an empty one
    for _ in range(3):
        lines = shown(conn, ev.History(T, "#dev", ()))
        assert [line.split()[1] for line in lines] == ["BATCH", "BATCH"]


def test_digits_int_cannot_read_are_refused_not_raised():
    # "²" is a digit to str.isdigit, yet int("²") raises
    conn = IrcServerConnection()
    assert feed(conn, "CAP LS ²") == [":trio-chat CAP * LS :" + " ".join(CAPS)]
    conn = registered("alice", "batch", "draft/chathistory")
    assert feed(conn, "CHATHISTORY LATEST #dev * ²", "CHATHISTORY AFTER #dev msgid=dev/² 5") == [
        ":trio-chat FAIL CHATHISTORY INVALID_PARAMS LATEST ² :Bad limit",
        ":trio-chat FAIL CHATHISTORY INVALID_PARAMS AFTER msgid=dev/² :Unknown message reference",
    ]


def test_questions_never_answered_are_remembered_within_a_bound():
    conn = registered()
    nicks = ",".join(f"n{i}" for i in range(MAX_ASKED))
    for i in range(MAX_ASKED):  # each of 64 nicknames asked about in 64 long-named rooms
        feed(conn, f"KICK #{i:03}{'r' * 200} {nicks}")
    assert sum(map(len, conn.asked.values())) == MAX_ASKED


def test_an_error_about_a_room_answers_only_a_question_it_can_answer():
    conn = registered()
    # the first never answered: it holds nothing up
    feed(conn, "MODE #dev", "JOIN #dev", "NAMES #dev")
    banned = ev.Error(T, Code.BANNED, "you are banned from #dev", "#dev")
    assert shown(conn, banned) == [":trio-chat 474 alice #dev :you are banned from #dev"]
    assert shown(conn, ev.Members(T, "#dev", ("bob",)))[0].split()[1] == "353"


KNOWN = {
    "bob": Identity("text", "5e1f0a2b3c4d.cloak"),
    "carol": Identity("u", "0123456789ab.cloak", "carol"),
}


def known(*caps: str) -> IrcServerConnection:
    """alice, registered, in a chat that knows bob (a guest) and carol (identified)."""
    conn = IrcServerConnection(identities=KNOWN.get)
    if caps:
        feed(conn, f"CAP REQ :{' '.join(caps)}", "CAP END")
    feed(conn, "NICK alice", "USER u 0 * :Real Name")
    conn.accept()
    conn.encoder(ev.Welcome(T, "alice", "#lobby", ("alice",), 1))
    return conn


def test_every_source_is_the_members_mask_as_bans_see_it():
    conn = known()
    assert shown(conn, ev.Message(T, "#dev", 3, "bob", "hi")) == [
        ":bob!text@5e1f0a2b3c4d.cloak PRIVMSG #dev :hi"
    ]
    assert shown(conn, ev.Joined(T, "#dev", 4, "carol")) == [
        ":carol!u@0123456789ab.cloak JOIN #dev"
    ]
    assert shown(conn, mod.Kicked(T, "#dev", 5, "carol", "bob", "spam")) == [
        ":carol!u@0123456789ab.cloak KICK #dev bob :spam"
    ]
    assert shown(conn, mod.ModeChanged(T, "#dev", 6, "carol", "+b", "*!*@5e1f0a2b3c4d.cloak")) == [
        ":carol!u@0123456789ab.cloak MODE #dev +b *!*@5e1f0a2b3c4d.cloak"
    ]
    # a rename is looked up by the new nickname, the one the chat knows
    assert shown(conn, ev.NickChanged(T, "#dev", 7, "robert", "bob")) == [
        ":robert!text@5e1f0a2b3c4d.cloak NICK bob"
    ]
    # a nickname the chat no longer knows has a host no ban matches
    assert shown(conn, ev.Left(T, "#dev", 8, "ghost", "quit")) == [
        ":ghost!ghost@trio-chat QUIT :Quit"
    ]


def test_account_tag_names_the_account_of_an_identified_sender():
    tagged = known("account-tag")
    assert shown(tagged, ev.Message(T, "#dev", 3, "carol", "hi")) == [
        "@account=carol :carol!u@0123456789ab.cloak PRIVMSG #dev :hi"
    ]
    assert shown(tagged, ev.Message(T, "#dev", 4, "bob", "hi"))[0].startswith(":bob!")
    assert shown(known(), ev.Message(T, "#dev", 3, "carol", "hi"))[0].startswith(":carol!")
    assert tagged.encoder != known().encoder  # a broadcast is encoded once for each


def test_who_whois_and_userhost_show_marks_and_hosts():
    conn = known()
    found = lookups.Found(
        T,
        "#dev",
        ("carol", "bob"),
        ("u", "text"),
        ("Carol", "bob"),
        ("#dev", "#dev"),
        marks=("@", "+"),
    )
    assert shown(conn, found) == [
        ":trio-chat 352 alice #dev u 0123456789ab.cloak trio-chat carol H@ :0 Carol",
        ":trio-chat 352 alice #dev text 5e1f0a2b3c4d.cloak trio-chat bob H+ :0 bob",
        ":trio-chat 315 alice #dev :End of WHO list",
    ]
    feed(conn, "WHOIS carol")
    whois = lookups.WhoisReply(
        T, "carol", "carol", ("#dev", "#lobby"), "u", "Carol", marks=("@", "")
    )
    lines = shown(conn, whois)
    assert lines[0] == ":trio-chat 311 alice carol u 0123456789ab.cloak * :Carol"
    assert lines[1] == ":trio-chat 319 alice carol :@#dev #lobby"
    feed(conn, "USERHOST bob")
    assert shown(conn, lookups.Online(T, ("bob",))) == [
        ":trio-chat 302 alice :bob=+text@5e1f0a2b3c4d.cloak"
    ]


def test_a_rooms_topic_comes_with_its_setter_and_time():
    conn = known()
    feed(conn, "JOIN #dev")
    set_at = datetime(2026, 11, 29, tzinfo=UTC)
    members = ev.Members(
        T, "#dev", ("carol", "alice"), "release friday", ("carol",), (), "carol", set_at
    )
    assert shown(conn, members) == [
        ":alice!alice@trio-chat JOIN #dev",
        ":trio-chat 332 alice #dev :release friday",
        f":trio-chat 333 alice #dev carol {int(set_at.timestamp())}",
        ":trio-chat 353 alice = #dev :@carol alice",
        ":trio-chat 366 alice #dev :End of /NAMES list",
    ]
    assert feed(conn, "MODE #dev") == [mod.SetMode(None, None, "#dev")]
    state = mod.RoomState(T, "#dev", "", None, None, "m", None, (), (), (), set_at)
    assert shown(conn, state) == [
        ":trio-chat 324 alice #dev +m",
        f":trio-chat 329 alice #dev :{int(set_at.timestamp())}",
    ]
    assert feed(conn, "MODE #dev b") == [mod.SetMode("+b", None, "#dev")]
    bans = mod.RoomState(T, "#dev", "", None, None, "", None, (), (), ("*!*@5e1f0a2b3c4d.cloak",))
    assert shown(conn, bans) == [
        ":trio-chat 367 alice #dev *!*@5e1f0a2b3c4d.cloak",
        ":trio-chat 368 alice #dev :End of channel ban list",
    ]


def test_moderation_errors_become_the_numerics_irc_clients_know():
    conn = known()
    feed(conn, "JOIN #dev")
    shown(conn, ev.Members(T, "#dev", ("alice",)))
    feed(conn, "KICK #dev dave", "KICK #nowhere bob", "MODE #dev +v erin")
    not_in = ev.Error(T, Code.NOT_IN_ROOM, "dave is not in #dev", "dave")
    assert shown(conn, not_in) == [":trio-chat 441 alice dave #dev :They aren't on that channel"]
    no_room = ev.Error(T, Code.NOT_IN_ROOM, "there is no room #nowhere", "#nowhere")
    assert shown(conn, no_room) == [":trio-chat 403 alice #nowhere :there is no room #nowhere"]
    not_in = ev.Error(T, Code.NOT_IN_ROOM, "erin is not in #dev", "erin")
    assert shown(conn, not_in)[0].startswith(":trio-chat 441 alice erin #dev ")
    refused = {
        Code.NOT_OPERATOR: "482",
        Code.BANNED: "404",  # speaking; joining is 474
        Code.MODERATED: "404",
    }
    for code, numeric in refused.items():
        assert shown(conn, ev.Error(T, code, "no", "#dev")) == [
            f":trio-chat {numeric} alice #dev :no"
        ]
    feed(conn, "JOIN #closed")
    closed = ev.Error(T, Code.INVITE_ONLY, "invite only", "#closed")
    assert shown(conn, closed) == [":trio-chat 473 alice #closed :invite only"]


def test_an_invitation_is_341_to_the_inviter_and_invite_to_the_invited():
    conn = known()
    assert feed(conn, "INVITE bob #dev") == [mod.Invite("bob", "#dev")]
    assert shown(conn, ev.Notice(T, "you invited bob to #dev")) == [":trio-chat 341 alice bob #dev"]
    # the same words, unasked, stay a notice
    assert shown(conn, ev.Notice(T, "you invited bob to #dev"))[0].split()[1] == "NOTICE"
    feed(conn, "INVITE bob #dev", "INVITE ghost #dev")
    there = ev.Error(T, Code.BAD_REQUEST, "bob is in #dev already", "bob")
    assert shown(conn, there) == [":trio-chat 443 alice bob #dev :is already on channel"]
    nobody = ev.Error(T, Code.NO_SUCH_NICK, "no one", "ghost")
    assert shown(conn, nobody) == [":trio-chat 401 alice ghost :No such nick/channel"]
    assert not conn.asked.get("ghost")
    assert shown(conn, mod.Invited(T, "#ops", "carol")) == [
        ":carol!u@0123456789ab.cloak INVITE alice #ops"
    ]


def test_user_mode_i_hides_the_client_from_who_by_mask():
    conn = registered()
    assert feed(conn, "MODE alice +i", "MODE alice", "MODE alice +i") == [
        lookups.Hide(True),
        ":alice MODE alice +i",
        ":trio-chat 221 alice +i",
    ]
    assert feed(conn, "MODE alice -i+i-i") == [lookups.Hide(False), ":alice MODE alice -i"]


# Pieces of lines around the one clients send most, PRIVMSG #room :text.
words = ["PRIVMSG", "privmsg", "NOTICE", " ", "  ", "#lobby", "#elsewhere", "#lobby,#b", "bob"]
said = [":", "PRIVMSG #lobby :", "hi", "a :b", "\x01ACTION hi\x01", "\x01VERSION\x01", "é", "\r"]
line_pieces = st.sampled_from([*words, *said]) | st.integers(460, 480).map(lambda n: "x" * n)


@given(st.lists(line_pieces, max_size=6).map("".join))
def test_a_room_message_read_the_quick_way_is_what_the_general_way_makes_of_it(raw):
    conn, general = registered("alice"), registered("alice")
    with mock.patch("trio_chat.protocol.irc.connection.quick_say", return_value=None):
        expected = feed(general, raw)
    assert feed(conn, raw) == expected


def test_a_room_message_is_read_the_quick_way():
    conn = registered("alice")
    with mock.patch("trio_chat.protocol.irc.connection.parse") as general:
        assert feed(conn, "PRIVMSG #lobby :hi there") == [ev.Say("hi there", "#lobby")]
    assert not general.called


def test_a_room_message_too_long_to_reach_others_whole_is_refused():
    longest = 512 - len(":alice!alice@trio-chat PRIVMSG #lobby :\r\n")
    fits = "x" * longest
    assert feed(registered("alice"), f"PRIVMSG #lobby :{fits}") == [ev.Say(fits, "#lobby")]
    assert feed(registered("alice"), f"PRIVMSG #lobby :{fits}x") == [
        ":trio-chat 417 alice :Input line was too long"
    ]
