"""What the moderation events say to a person (``wording.lines`` adds the
time and the style): one text per line, without the leading ``* ``."""

from __future__ import annotations

from datetime import datetime

from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod

# A change and its words: the one who made it, then these, then its target.
CHANGES = {
    "+o": ("gives operator status to", ""),
    "-o": ("takes operator status from", ""),
    "+v": ("gives voice to", ""),
    "-v": ("takes voice from", ""),
    "+b": ("bans", ""),
    "-b": ("lifts the ban on", ""),
    "+i": ("made", "invite-only"),
    "-i": ("made", "open to all"),
    "+m": ("made", "moderated"),
    "-m": ("made", "open to all speakers"),
    "+t": ("made the topic of", "settable by operators only"),
    "-t": ("made the topic of", "settable by every member"),
}


def moderation_lines(event: ev.Event) -> list[str]:
    match event:
        case mod.TopicChanged(room=room, nick=nick, topic=""):
            return [f"{nick} cleared the topic of {room}"]
        case mod.TopicChanged(room=room, nick=nick, topic=topic):
            return [f"{nick} set the topic of {room}: {topic}"]
        case mod.Kicked(room=room, nick=nick, target=target, reason=reason):
            return [
                f"{target} was kicked from {room} by {nick}" + (f" ({reason})" if reason else "")
            ]
        case mod.ModeChanged(room=room, nick=nick, mode=mode, target=target):
            who = nick or "the server"
            verb, what = CHANGES.get(mode, (f"set mode {mode} on", ""))
            if what:
                return [f"{who} {verb} {room} {what}"]
            return [f"{who} {verb} {target or ''} in {room}"]
        case mod.Invited(room=room, nick=nick):
            return [f"{nick} invites you to {room}: /join {room}"]
        case mod.RoomState() as state:
            return _state(state)
    return []


def _state(s: mod.RoomState) -> list[str]:
    if s.topic:
        set_by = f" (set by {s.topic_by}{_when(s.topic_time)})" if s.topic_by else ""
        lines = [f"topic of {s.room}: {s.topic}{set_by}"]
    else:
        lines = [f"{s.room} has no topic"]
    modes = f"+{s.modes}" if s.modes else "none"
    owner = s.owner or "none"
    lines.append(f"{s.room}: modes {modes}, owner {owner}, operators: {', '.join(s.ops) or 'none'}")
    if s.voiced:
        lines.append(f"{s.room}: voiced: {', '.join(s.voiced)}")
    if s.bans:
        lines.append(f"{s.room}: bans: {', '.join(s.bans)}")
    return lines


def _when(time: datetime | None) -> str:
    return f" at {time.astimezone():%Y-%m-%d %H:%M}" if time else ""
