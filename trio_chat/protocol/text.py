"""Text mode: what a person with ``nc`` types and reads.

``parse_request`` turns a typed line into a request; ``format_event`` turns
an event into the lines a person reads, as ``wording`` words them. Both are
pure functions.
"""

from __future__ import annotations

import re
import shlex

from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol import presence, wording
from trio_chat.protocol.errors import Code, ProtocolError
from trio_chat.protocol.rules import MAX_INT

COMMANDS: tuple[str, ...] = (
    "/help                 this list",
    "/who [#room]          who is in the room",
    "/msg NICK TEXT        a private message to NICK",
    "/me ACTION            an action: /me waves",
    "/nick NEW             change your nickname",
    "/join #room           join a room and talk there",
    "/part [#room]         leave the room",
    "/rooms                the rooms and how many are in each",
    "/history [N]          the room's last N messages",
    "/history @NICK [N]    your last N private messages with NICK",
    "/register PASSWORD    protect your nickname with a password",
    '/password OLD NEW     change that password ("quote" one with spaces)',
    "/away [TEXT]          mark yourself away: private messages get TEXT; alone: back",
    "/quit [reason]        leave the chat",
    "/topic [#room] [TEXT]        show or (operators) set the room's topic",
    "/notopic [#room]             clear the topic (operators)",
    "/kick [#room] NICK [reason]  remove NICK from the room (operators)",
    "/ban [#room] [NICK|MASK]     ban NICK, nick!user@host or $a:ACCOUNT; alone: list",
    "/unban [#room] NICK|MASK     lift the bans that hold NICK, or that MASK",
    "/op [#room] NICK             make NICK an operator of the room (operators)",
    "/deop [#room] NICK           take NICK's operator status (operators)",
    "/voice [#room] NICK          let NICK speak in a moderated room (operators)",
    "/devoice [#room] NICK        take NICK's voice (operators)",
    "/mode [#room] [+i|-i|+m|-m]  invite-only or moderated; alone: the room's settings",
    "/mode [#room] +t|-t          only operators set the topic (+t, new rooms), or anyone",
    "/invite NICK [#room]         let NICK join an invite-only room",
    "/disconnect NICK [reason]    end NICK's connection (server operators)",
    "/oper NAME PASSWORD          become the server operator NAME",
    "//text                say a line that starts with /",
)


class CommandError(ProtocolError):
    """A typed line is not a valid command; the text says why."""


QUOTING = "put a password with spaces or quotes in \"double\" or 'single' quotes"


def parse_request(line: str, *, registered: bool) -> ev.Request | None:
    """The request a typed line makes, or None for a blank line.

    Before the nickname is accepted, a plain line is the nickname.
    Raises CommandError for a command that is unknown or lacks arguments,
    and nothing else.
    """
    if not line.strip():
        return None
    if line.startswith("//"):
        return ev.Say(line[1:]) if registered else ev.Hello(line.strip())
    if not line.startswith("/"):
        return ev.Say(line) if registered else ev.Hello(line.strip())
    # Any whitespace ends the command's name: "/msg\u3000bob hi" is /msg.
    name, rest = [*line[1:].split(maxsplit=1), "", ""][:2]
    name = name.lower()
    rest = rest.strip()
    if name == "quit":
        return ev.Quit(rest)
    if name == "help":
        return ev.GetHelp()
    if name == "nick" and not registered:  # another nickname, when asked for a password
        return ev.ChangeNick(_need(rest, "/nick NEW"))
    if not registered:
        raise CommandError("choose a nickname first", Code.NOT_REGISTERED)
    match name:
        case "me":
            return ev.Act(_need(rest, "/me ACTION"))
        case "msg":
            return ev.Tell(*_word_and_rest(rest, "/msg NICK TEXT"))
        case "nick":
            return ev.ChangeNick(_need(rest, "/nick NEW"))
        case "join":
            return ev.Join(_need(rest, "/join #room"))
        case "part":
            return ev.Part(rest or None)
        case "who":
            return ev.Who(rest or None)
        case "rooms":
            return ev.ListRooms()
        case "history":
            return _history(rest.split())
        case "register":
            return ev.Register(_password(rest, "/register PASSWORD"))
        case "password":
            return ev.SetPassword(*_passwords(rest))
        case "away":
            return presence.SetAway(rest)
        case "oper":
            name, password = _first_word(rest)
            if not password:
                raise CommandError("usage: /oper NAME PASSWORD")
            return presence.Oper(name, _password(password, "/oper NAME PASSWORD"))
        case _ if name in MODERATION_COMMANDS:
            return _moderation(name, rest)
    raise CommandError(f"unknown command /{name}; /help lists the commands", Code.UNKNOWN_COMMAND)


# The commands that change one mode of a room's member, and that change.
MEMBER_MODES = {"op": "+o", "deop": "-o", "voice": "+v", "devoice": "-v", "unban": "-b"}
MODERATION_COMMANDS = {"topic", "notopic", "kick", "ban", "mode", "invite", "disconnect"}
MODERATION_COMMANDS |= set(MEMBER_MODES)


def _moderation(name: str, rest: str) -> ev.Request:
    """A moderation command: most take a room first, when it starts with #."""
    room, rest = _room_first(rest) if name not in ("invite", "disconnect") else (None, rest)
    match name:
        case "topic":
            return mod.SetTopic(rest or None, room)
        case "notopic":
            return mod.SetTopic("", room)
        case "kick":
            nick, reason = _first_word(rest)
            return mod.Kick(_need(nick, "/kick [#room] NICK [reason]"), room, reason)
        case "ban":
            return mod.SetMode("+b", _one_word(rest, "/ban [#room] [NICK|MASK]") or None, room)
        case "mode":
            words = rest.split()
            if len(words) > 2:
                raise CommandError("usage: /mode [#room] [+i|-i|+m|-m|+t|-t]")
            mode, target = [*words, None, None][:2]
            return mod.SetMode(mode, target, room)
        case "invite":
            nick, where = _first_word(rest)
            usage = "/invite NICK [#room]"
            return mod.Invite(_need(nick, usage), _one_word(where, usage) or None)
        case "disconnect":
            nick, reason = _first_word(rest)
            return mod.Disconnect(_need(nick, "/disconnect NICK [reason]"), reason)
    usage = f"/{name} [#room] {'NICK|MASK' if name == 'unban' else 'NICK'}"
    return mod.SetMode(MEMBER_MODES[name], _need(_one_word(rest, usage), usage), room)


def _room_first(rest: str) -> tuple[str | None, str]:
    if not rest.startswith("#"):
        return None, rest
    return _first_word(rest)


def _first_word(rest: str) -> tuple[str, str]:
    """The first word of ``rest`` and what follows it (each "" when none)."""
    first, after = [*rest.split(maxsplit=1), "", ""][:2]
    return first, after.strip()


def _one_word(rest: str, usage: str) -> str:
    if len(rest.split()) > 1:
        raise CommandError(f"usage: {usage}")
    return rest


_DIGITS_RE = re.compile(r"[0-9]{1,16}")  # ASCII only: "²".isdigit() too


def _history(args: list[str]) -> ev.GetHistory:
    usage = CommandError("usage: /history [#room | @nick] [N]")
    target = args.pop(0) if args and args[0][:1] in ("#", "@") else None
    if len(args) > 1:
        raise usage
    limit: int | None = None
    if args and not (_DIGITS_RE.fullmatch(args[0]) and (limit := int(args[0])) <= MAX_INT):
        raise CommandError(f"usage: /history [#room | @nick] [N], N from 0 to {MAX_INT}")
    if target and target.startswith("@"):
        return ev.GetHistory(limit=limit, nick=target[1:])
    return ev.GetHistory(room=target, limit=limit)


def _word_and_rest(arg: str, usage: str) -> tuple[str, str]:
    words = arg.split(maxsplit=1)
    if len(words) < 2:
        raise CommandError(f"usage: {usage}")
    return words[0], words[1].strip()


def _need(arg: str, usage: str) -> str:
    if not arg:
        raise CommandError(f"usage: {usage}")
    return arg


def _password(rest: str, usage: str) -> str:
    """A password: the rest of the line, or one quoted word."""
    if not rest.startswith(('"', "'")):
        return _need(rest, usage)
    words = _shell_words(rest, usage)
    if len(words) != 1:
        raise CommandError(f"usage: {usage}; {QUOTING}")
    return words[0]


def _passwords(rest: str) -> tuple[str, str]:
    words = _shell_words(rest, "/password OLD NEW")
    if len(words) != 2:
        raise CommandError(f"usage: /password OLD NEW; {QUOTING}")
    return words[0], words[1]


def _shell_words(text: str, usage: str) -> list[str]:
    """``text`` split as a POSIX shell would, except that a backslash is a
    character like any other (passwords hold them, and meant them)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.escape = ""
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote
        raise CommandError(f"usage: {usage}; a quote is not closed: {QUOTING}") from None


def _quoted(word: str) -> str:
    """``word`` as ``_shell_words`` reads it back as one word."""
    if word and not any(c.isspace() or c in "\"'" for c in word):
        return word
    if '"' not in word:
        return f'"{word}"'
    return "'" + word.replace("'", "'\"'\"'") + "'"


def format_request(request: ev.Request) -> str:
    """The line a person would type for ``request`` (the inverse of parse)."""
    match request:
        case ev.Hello(nick):
            return nick
        case ev.Say(text):
            return "/" + text if text.startswith("/") else text
        case ev.Act(text):
            return f"/me {text}"
        case ev.Tell(nick, text):
            return f"/msg {nick} {text}"
        case ev.ChangeNick(nick):
            return f"/nick {nick}"
        case ev.Join(room):
            return f"/join {room}"
        case ev.Part(room):
            return f"/part {room}" if room else "/part"
        case ev.Who(room):
            return f"/who {room}" if room else "/who"
        case ev.ListRooms():
            return "/rooms"
        case ev.GetHistory(room, limit, None, None, nick):
            words = [
                "/history",
                room or "",
                f"@{nick}" if nick else "",
                "" if limit is None else str(limit),
            ]
            return " ".join(w for w in words if w)
        case ev.Register(password):
            plain = password == password.strip() and not password.startswith(('"', "'"))
            return f"/register {password if password and plain else _quoted(password)}"
        case ev.SetPassword(old, new):
            return f"/password {_quoted(old)} {_quoted(new)}"
        case presence.SetAway(text):
            return _words("/away", text)
        case presence.Oper(name, password):
            return f"/oper {name} {_quoted(password)}"
        case ev.GetHelp():
            return "/help"
        case ev.Quit(reason):
            return f"/quit {reason}" if reason else "/quit"
        case mod.SetTopic(topic, room):
            return _words("/notopic" if topic == "" else "/topic", room, topic)
        case mod.Kick(nick, room, reason):
            return _words("/kick", room, nick, reason)
        case mod.SetMode("+b", target, room):
            return _words("/ban", room, target)
        case mod.SetMode(str(mode), str(target), room) if mode in MEMBER_MODES.values():
            command = next(c for c, m in MEMBER_MODES.items() if m == mode)
            return _words(f"/{command}", room, target)
        case mod.SetMode(mode, target, room):
            return _words("/mode", room, mode, target)
        case mod.Invite(nick, room):
            return _words("/invite", nick, room)
        case mod.Disconnect(nick, reason):
            return _words("/disconnect", nick, reason)
    raise ValueError(f"text mode has no line for {request!r}")


def _words(*words: str | None) -> str:
    return " ".join(w for w in words if w)


def format_event(event: ev.Event) -> bytes:
    """The bytes a text-mode reader receives for ``event`` (empty for none)."""
    texts = []
    for line in wording.lines(event):
        for _, text in line:
            texts.append(text)
        texts.append("\n")
    return "".join(texts).encode()
