// What each event says to a person, in the words the terminal uses
// (trio_chat/protocol/wording.py), plus the small pieces a line is drawn
// with: its time, the day it belongs to, a nickname's colour, its links.
// No DOM here: app.js turns these plain objects into elements.

export const NICK_COLOURS = 8;

// Nicknames and rooms are unique ignoring case (ASCII only, so this is enough).
export function fold(name) {
  return name.toLowerCase();
}

// CRC-32 as zlib computes it: the terminal picks its colours the same way, so
// a nickname's colour depends on nothing but the nickname.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(text) {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) {
    crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function nickClass(nick) {
  return `nick-c${crc32(fold(nick)) % NICK_COLOURS}`;
}

// The server writes UTC with a Z; a time without a zone is UTC too (protocol.md).
export function parseTime(text) {
  if (typeof text !== "string") return null;
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text}Z`;
  const time = new Date(zoned);
  return Number.isNaN(time.getTime()) ? null : time;
}

const two = (n) => String(n).padStart(2, "0");

export function clock(time) {
  return `${two(time.getHours())}:${two(time.getMinutes())}`;
}

export function dayKey(time) {
  return `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())}`;
}

// Spelled out rather than left to Intl, so the line reads the same everywhere.
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];

export function dayText(time) {
  const day = `${DAYS[time.getDay()]} ${time.getDate()} ${MONTHS[time.getMonth()]}`;
  return `--- ${day} ${time.getFullYear()} ---`;
}

// Only http and https become links; the closing punctuation of a sentence
// is left out of the link, as a reader would expect.
const URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING_RE = /[.,;:!?'")\]}]+$/;

export function splitLinks(text) {
  const parts = [];
  let at = 0;
  for (const match of text.matchAll(URL_RE)) {
    const url = match[0].replace(TRAILING_RE, "");
    if (!/^https?:\/\/[^/?#]/i.test(url)) continue; // no host: not a link
    if (match.index > at) parts.push({ text: text.slice(at, match.index) });
    parts.push({ url });
    at = match.index + url.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

// A nickname is letters, digits, _ - and . ; it is named when no such
// character touches it on either side.
export function mentions(text, nick) {
  if (!nick) return false;
  const escaped = nick.replace(/[.\-]/g, "\\$&");
  return new RegExp(`(^|[^A-Za-z0-9_.\\-])${escaped}($|[^A-Za-z0-9_\\-])`, "i").test(text);
}

// A line of a buffer: { kind, time, text, nick?, target?, seq?, own?, replayed? }.
// kind is message, action, private, notice, error, pending or day.
export function line(kind, time, text, extra = {}) {
  return { kind, time, text, ...extra };
}

export function eventLines(event, me) {
  const t = parseTime(event.time) ?? new Date();
  const notice = (text) => [line("notice", t, text)];
  const roomNotice = (text) => [line("notice", t, text, { seq: event.seq })];
  const topicLine = ({ room, topic }) => (topic ? notice(`* topic of ${room}: ${topic}`) : []);
  switch (event.type) {
    case "message":
    case "action":
      return [
        line(event.type, t, event.text, {
          nick: event.nick,
          seq: event.seq,
          own: fold(event.nick) === fold(me),
        }),
      ];
    case "private":
      return [
        line("private", t, event.text, {
          nick: event.sender,
          target: event.target,
          own: fold(event.sender) === fold(me),
        }),
      ];
    case "joined":
      return [line("notice", t, `* ${event.nick} joined ${event.room}`, { seq: event.seq })];
    case "left":
      return [
        line("notice", t, `* ${event.nick} left ${event.room} (${event.reason})`, {
          seq: event.seq,
        }),
      ];
    case "nick_changed":
      return [
        line("notice", t, `* ${event.old} is now known as ${event.new} (${event.room})`, {
          seq: event.seq,
        }),
      ];
    case "welcome": {
      const others = event.members.filter((m) => m !== event.nick);
      const company = others.length ? `with ${others.join(", ")}` : "alone";
      const welcome = `* welcome, ${event.nick}! you are in ${event.room} ${company}`;
      return [...notice(`${welcome} (${event.online} online); /help lists the commands`), ...topicLine(event)];
    }
    case "members": {
      const nicks = event.nicks.map((n) => mark(n, event.ops, event.voiced) + n);
      return [...notice(`* in ${event.room} (${nicks.length}): ${nicks.join(", ")}`), ...topicLine(event)];
    }
    case "topic":
      return roomNotice(event.topic
        ? `* ${event.nick} set the topic of ${event.room}: ${event.topic}`
        : `* ${event.nick} cleared the topic of ${event.room}`);
    case "kicked": {
      const why = event.reason ? ` (${event.reason})` : "";
      return roomNotice(`* ${event.target} was kicked from ${event.room} by ${event.nick}${why}`);
    }
    case "mode":
      return roomNotice(`* ${modeText(event)}`);
    case "invited":
      return notice(`* ${event.nick} invites you to ${event.room}: /join ${event.room}`);
    case "room":
      return roomState(event).map((text) => line("notice", t, `* ${text}`));
    case "rooms": {
      const listing = event.rooms.map((r) => `${r.name} (${r.members})`).join(", ");
      return notice(`* rooms: ${listing || "none"}`);
    }
    case "history":
      return [
        ...notice(`* history of ${event.room}: ${event.events.length} earlier ${saidOnly(event.events) ? "message" : "event"}(s)`),
        ...replayed(event.events, me),
      ];
    case "private_history":
      return [
        ...notice(`* private messages with ${event.nick}: ${event.events.length} earlier message(s)`),
        ...replayed(event.events, me),
      ];
    case "help":
      return [...notice("* commands:"), ...event.commands.flatMap((c) => notice(`*   ${c}`))];
    case "notice":
      return notice(`* ${event.text}`);
    case "error":
      return [line("error", t, `! ${event.message}`)];
    case "bye":
      return notice(`* disconnected: ${event.reason}`);
    default:
      return []; // ping and pong are for programs
  }
}

// "@" before an operator, "+" before a voiced member, "" for the others;
// ops and voiced as the server spells them (absent from an older server).
export function mark(nick, ops = [], voiced = []) {
  const has = (nicks) => nicks.some((n) => fold(n) === fold(nick));
  return has(ops) ? "@" : has(voiced) ? "+" : "";
}

const CHANGES = {
  "+o": "gives operator status to",
  "-o": "takes operator status from",
  "+v": "gives voice to",
  "-v": "takes voice from",
  "+b": "bans",
  "-b": "lifts the ban on",
};
const ROOM_CHANGES = {
  "+i": "invite-only",
  "-i": "open to all",
  "+m": "moderated",
  "-m": "open to all speakers",
};

// The words of one mode change; "the server" when no one made it (an owner
// given operator status on joining).
function modeText({ nick, mode, target, room }) {
  const who = nick || "the server";
  if (ROOM_CHANGES[mode]) return `${who} made ${room} ${ROOM_CHANGES[mode]}`;
  return `${who} ${CHANGES[mode] ?? `set mode ${mode} on`} ${target ?? ""} in ${room}`;
}

// A room's state, in answer to /topic or /mode without a change: one line each.
function roomState(state) {
  const { room } = state;
  const time = parseTime(state.topic_time);
  const when = time ? ` at ${dayKey(time)} ${clock(time)}` : "";
  const by = state.topic_by ? ` (set by ${state.topic_by}${when})` : "";
  const said = [state.topic ? `topic of ${room}: ${state.topic}${by}` : `${room} has no topic`];
  const modes = state.modes ? `+${state.modes}` : "none";
  const ops = state.ops?.length ? state.ops.join(", ") : "none";
  said.push(`${room}: modes ${modes}, owner ${state.owner ?? "none"}, operators: ${ops}`);
  if (state.voiced?.length) said.push(`${room}: voiced: ${state.voiced.join(", ")}`);
  if (state.bans?.length) said.push(`${room}: bans: ${state.bans.join(", ")}`);
  return said;
}

// Joins and leaves are no messages: a replay holding any is counted in events.
function saidOnly(events) {
  return events.every((e) => e.type === "message" || e.type === "action");
}

export function replayed(events, me) {
  return events.flatMap((e) => eventLines(e, me)).map((l) => ({ ...l, replayed: true }));
}

// The line as the terminal would print it after its time, for a copy or a test.
export function lineText(l) {
  switch (l.kind) {
    case "message":
      return `${l.nick}: ${l.text}`;
    case "action":
      return `~ ${l.nick} ${l.text}`;
    case "private":
      return `[private] ${l.nick} -> ${l.target}: ${l.text}`;
    default:
      return l.text;
  }
}
