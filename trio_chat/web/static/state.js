// The page's copy of the chat: its buffers (rooms and private conversations),
// who is in each room, the last sequence number seen per room, and the lines
// typed while offline. It does no I/O: it is told what the user typed and
// what the server said, and answers with the requests to send, in the manner
// of trio_chat/client/mirror.py, gaps.py and pending.py.

import { HELP, parseLine } from "./commands.js";
import { dayKey, dayText, eventLines, fold, line, mark, mentions, replayed } from "./words.js";

export const MAX_PENDING = 20; // as the terminal: fits within the server's flood burst
export const HISTORY_PAGE = 500; // the most events the server returns at once
const MAX_RESUME = 100;
const MAX_LINES = 2000; // per buffer, so a long day does not slow the page down
const PASSWORD_ERRORS = new Set(["password_required", "bad_password"]);
const ROOM_EVENTS = new Set(["message", "action", "joined", "left", "nick_changed", "topic", "kicked", "mode"]);
const COUNTED = new Set(["message", "action", "private"]);
const MARKS = { "+o": "ops", "-o": "ops", "+v": "voiced", "-v": "voiced" };
const RANKS = { "@": 0, "+": 1, "": 2 };

// The members of a room buffer for the list beside it: operators first, then
// voiced members, then the others, each group by name; each with its mark.
export function memberList(buffer) {
  const members = buffer.members.map((nick) => ({ nick, mark: mark(nick, buffer.ops, buffer.voiced) }));
  const byName = (a, b) => a.nick.localeCompare(b.nick, undefined, { sensitivity: "base" });
  return members.sort((a, b) => RANKS[a.mark] - RANKS[b.mark] || byName(a, b));
}

const without = (nicks, nick) => nicks.filter((n) => fold(n) !== fold(nick));

export class ChatState {
  constructor(nick = "") {
    this.nick = nick;
    this.password = null; // memory only: identifies a registered nickname again
    this.welcomed = false; // ever: the chat is on screen
    this.connected = false; // welcomed on the current connection
    this.buffers = new Map(); // key ("#room" or "@nick", folded) -> buffer
    this.current = null;
    this.seq = new Map(); // folded room -> last seq seen
    this.pending = []; // requests typed offline, oldest first
    this.joining = new Map(); // folded room -> whether its answer makes it current
    this.rejoining = new Set(); // rooms resumed, whose replay is still to come
    this.expected = new Map(); // folded room -> history answers awaited, in order
  }

  // ---------------------------------------------------------------- buffers

  list() {
    const all = [...this.buffers.values()];
    return [...all.filter((b) => b.kind === "room"), ...all.filter((b) => b.kind === "private")];
  }

  currentBuffer() {
    return this.buffers.get(this.current) ?? null;
  }

  select(key) {
    const buffer = this.buffers.get(key);
    if (!buffer) return;
    this.current = key;
    buffer.unread = 0;
    buffer.mention = false;
  }

  selectIndex(index) {
    const buffer = this.list()[index];
    if (buffer) this.select(buffer.key);
  }

  selectNext(step) {
    const all = this.list();
    if (!all.length) return;
    const at = all.findIndex((b) => b.key === this.current);
    this.select(all[(at + step + all.length) % all.length].key);
  }

  buffer(kind, target) {
    const key = (kind === "room" ? "" : "@") + fold(target);
    let buffer = this.buffers.get(key);
    if (!buffer) {
      const name = kind === "room" ? target : `@${target}`;
      buffer = { key, kind, target, name, lines: [], unread: 0, mention: false, rev: 0 };
      Object.assign(buffer, { members: [], joined: false, lastDay: null });
      Object.assign(buffer, { topic: "", ops: [], voiced: [] });
      this.buffers.set(key, buffer);
    }
    return buffer;
  }

  close(key) {
    this.buffers.delete(key);
    if (this.current === key) {
      const rooms = this.list().filter((b) => b.kind === "room");
      this.current = null;
      const next = rooms.at(-1) ?? this.list().at(-1);
      if (next) this.select(next.key);
    }
  }

  add(buffer, lines) {
    for (const l of lines) {
      // The day changes with the server's events; replays and the page's own
      // notes (timed now) do not move it.
      const dated = !l.replayed && !l.local;
      if (dated && buffer.lastDay !== null && dayKey(l.time) !== buffer.lastDay) {
        buffer.lines.push(line("day", l.time, dayText(l.time)));
      }
      if (dated) buffer.lastDay = dayKey(l.time);
      buffer.lines.push(l);
      if (buffer.key !== this.current && COUNTED.has(l.kind) && !l.own && !l.replayed) {
        buffer.unread += 1;
        buffer.mention ||= l.kind === "private" || mentions(l.text, this.nick);
      }
    }
    if (buffer.lines.length > MAX_LINES) {
      buffer.lines.splice(0, buffer.lines.length - MAX_LINES);
      buffer.rev += 1;
    }
  }

  note(text, kind = "notice", buffer = this.currentBuffer()) {
    if (buffer) this.add(buffer, [line(kind, new Date(), text, { local: true })]);
  }

  // ------------------------------------------------------- what the user does

  // Returns { send: [requests], quit?: true }.
  submit(text) {
    const buffer = this.currentBuffer();
    const command = parseLine(text, buffer);
    if (command === null) return { send: [] };
    if (command.error) this.note(`! ${command.error}`, "error");
    if (command.local === "help") HELP.forEach((h) => this.note(`- ${h}`));
    if (command.local === "clear" && buffer) {
      buffer.lines = [];
      buffer.rev += 1;
    }
    if (command.local === "close" && buffer) this.close(buffer.key);
    if (command.open) this.select(this.buffer("private", command.open).key);
    return command.send ? this.send(command.send, text) : { send: [] };
  }

  send(request, text = "") {
    if (request.type === "register" || request.type === "password") {
      this.password = request.type === "register" ? request.password : request.new;
    }
    if (request.type === "quit") return { send: this.connected ? [request] : [], quit: true };
    if (this.connected) return { send: [this.track(request)] };
    if (this.pending.length >= MAX_PENDING) {
      this.note(`! offline with ${MAX_PENDING} lines waiting: not kept`, "error");
    } else {
      this.pending.push(request);
      this.note(text, "pending");
    }
    return { send: [] };
  }

  // Remember what an answer will mean; returns the request.
  track(request, current = true) {
    if (request.type === "join") this.joining.set(fold(request.room), current);
    if (request.type === "history" && request.room && request.nick === undefined) {
      const kind = request.after === undefined ? { asked: true } : { ...request };
      this.awaiting(request.room).push(kind);
    }
    return request;
  }

  awaiting(room) {
    const key = fold(room);
    if (!this.expected.has(key)) this.expected.set(key, []);
    return this.expected.get(key);
  }

  // --------------------------------------------------------- the connection

  // The hello for a new connection: the same nickname, and the rooms it was
  // in with the last seq seen in each, so the server replays what was missed.
  hello(token) {
    const resume = this.list()
      .filter((b) => b.kind === "room" && b.joined && this.seq.has(b.key))
      .slice(0, MAX_RESUME)
      .map((b) => ({ room: b.target, seq: this.seq.get(b.key) }));
    this.rejoining = new Set(resume.map((r) => fold(r.room)));
    const hello = { type: "hello", nick: this.nick, token };
    if (this.password) hello.password = this.password;
    if (resume.length) hello.resume = resume;
    return hello;
  }

  connectionLost() {
    this.connected = false;
    this.joining.clear();
    this.rejoining.clear();
    this.expected.clear(); // a new connection answers nothing asked on the old one
  }

  // Returns { send: [requests], welcomed?, refused?: {code, message, password}, bye? }.
  receive(event) {
    const out = { send: [] };
    if (ROOM_EVENTS.has(event.type)) {
      this.roomEvent(event, out);
      return out;
    }
    switch (event.type) {
      case "ping":
        out.send.push({ type: "pong", token: event.token ?? "" });
        break;
      case "welcome":
        this.welcome(event, out);
        break;
      case "error":
        if (!this.connected) {
          const password = PASSWORD_ERRORS.has(event.code);
          out.refused = { code: event.code, message: event.message, password };
          break;
        }
        if (event.code === "room_invalid" || event.code === "too_many_rooms") this.joining.clear();
        this.show(event);
        break;
      case "private": {
        const other = fold(event.sender) === fold(this.nick) ? event.target : event.sender;
        this.add(this.buffer("private", other), eventLines(event, this.nick));
        break;
      }
      case "members":
        this.members(event);
        break;
      case "history":
        this.history(event, out);
        break;
      case "private_history":
        this.add(this.buffer("private", event.nick), eventLines(event, this.nick));
        break;
      case "bye":
        out.bye = event.reason ?? "";
        this.show(event);
        break;
      default:
        this.show(event);
    }
    return out;
  }

  show(event) {
    const buffer = this.currentBuffer();
    if (buffer) this.add(buffer, eventLines(event, this.nick));
  }

  welcome(event, out) {
    const again = this.welcomed;
    const wanted = this.list().filter((b) => b.kind === "room" && b.joined);
    const resumed = new Set(this.rejoining);
    Object.assign(this, { nick: event.nick, connected: true, welcomed: true });
    const lobby = this.buffer("room", event.room);
    Object.assign(lobby, { members: [...event.members], joined: true, ...moderation(event) });
    this.add(lobby, eventLines(event, this.nick));
    if (!this.buffers.has(this.current)) this.select(lobby.key);
    if (again) {
      // The server put us back into the lobby and the resumed rooms: leave
      // the lobby if the user had left it, join the rooms it could not resume.
      if (wanted.length && !wanted.includes(lobby)) out.send.push({ type: "part", room: lobby.target });
      for (const b of wanted) {
        if (b !== lobby && !resumed.has(b.key)) out.send.push(this.track({ type: "join", room: b.target }, false));
      }
    }
    // Lines typed offline, in order; the server echoes each as it is said.
    out.send.push(...this.pending.map((r) => this.track(r)));
    this.pending = [];
    for (const b of this.buffers.values()) {
      const kept = b.lines.filter((l) => l.kind !== "pending");
      if (kept.length !== b.lines.length) Object.assign(b, { lines: kept, rev: b.rev + 1 });
    }
    out.welcomed = true;
  }

  members(event) {
    const key = fold(event.room);
    if (this.joining.has(key)) {
      const current = this.joining.get(key);
      this.joining.delete(key);
      const buffer = this.buffer("room", event.room);
      Object.assign(buffer, { members: [...event.nicks], joined: true, ...moderation(event) });
      if (current) {
        this.add(buffer, eventLines(event, this.nick));
        this.select(key);
      }
      return;
    }
    const buffer = this.buffers.get(key);
    if (buffer?.joined) Object.assign(buffer, { members: [...event.nicks], ...moderation(event) });
    if (!this.rejoining.has(key)) this.show(event); // else: a resumed room, not a /who
  }

  roomEvent(event, out) {
    const key = fold(event.room);
    const last = this.seq.get(key);
    const me = fold(this.nick);
    const own = fold(event.nick ?? event.old) === me;
    const buffer = this.buffer("room", event.room);
    if (last !== undefined && event.seq <= last) {
      if (!(event.type === "joined" && own)) return; // seen already
      // Our own join on a new connection is always new: the numbers started again.
      const afresh = `${event.room} started afresh (the server restarted?)`;
      this.note(`! ${afresh}: messages may have been missed`, "notice", buffer);
    } else if (last !== undefined && event.seq > last + 1) {
      const missed = event.seq - last - 1;
      const ask = { type: "history", room: event.room, after: last, before: event.seq };
      out.send.push(this.track({ ...ask, limit: Math.min(missed, HISTORY_PAGE) }));
      const note = `! ${missed} event(s) in ${event.room} were missed: asking the server for them`;
      this.note(note, "notice", buffer);
    }
    this.seq.set(key, event.seq);
    this.rejoining.delete(key);
    const lines = eventLines(event, this.nick);
    switch (event.type) {
      case "joined":
        if (own) buffer.joined = true;
        if (!buffer.members.some((n) => fold(n) === fold(event.nick))) buffer.members.push(event.nick);
        break;
      case "left":
      case "kicked": {
        const gone = event.type === "kicked" ? event.target : event.nick;
        for (const field of ["members", "ops", "voiced"]) buffer[field] = without(buffer[field], gone);
        if (fold(gone) === me && (event.type === "kicked" || event.reason === "part")) {
          this.seq.delete(key); // a room left is not resumed
          this.close(key);
          const now = this.currentBuffer();
          if (now) this.add(now, lines);
          return;
        }
        break;
      }
      case "nick_changed":
        for (const field of ["members", "ops", "voiced"]) {
          buffer[field] = buffer[field].map((n) => (fold(n) === fold(event.old) ? event.new : n));
        }
        if (own) this.nick = event.new;
        break;
      case "topic":
        buffer.topic = event.topic;
        break;
      case "mode": {
        const field = MARKS[event.mode];
        if (field) buffer[field] = without(buffer[field], event.target);
        if (field && event.mode[0] === "+") buffer[field].push(event.target);
        break;
      }
    }
    this.add(buffer, lines);
  }

  history(event, out) {
    const key = fold(event.room);
    const buffer = this.buffer("room", event.room);
    const last = this.seq.get(key);
    if (this.rejoining.has(key)) {
      // The resume's replay: what happened while the connection was down.
      this.rejoining.delete(key);
      const missed = event.events.filter((e) => e.seq > (last ?? 0));
      if (!missed.length) return;
      this.note(`- while you were away, in ${event.room}:`, "notice", buffer);
      this.add(buffer, replayed(missed, this.nick).map((l) => ({ ...l, replayed: false })));
      this.seq.set(key, missed.at(-1).seq);
      return;
    }
    const asked = this.expected.get(key)?.shift();
    if (asked?.after !== undefined) return this.fill(buffer, asked, event.events, out);
    // A join's replay repeats nothing already seen; an answer to /history shows all.
    const events = asked || last === undefined ? event.events : event.events.filter((e) => e.seq > last);
    if (events.length) this.add(buffer, eventLines({ ...event, events }, this.nick));
  }

  // The events a gap hid, put in their place; asked for again while the
  // server's page was too short to hold them all.
  fill(buffer, asked, events, out) {
    const missed = events.filter((e) => e.seq > asked.after && e.seq < asked.before);
    const lines = missed.flatMap((e) => eventLines(e, this.nick));
    let at = buffer.lines.findIndex((l) => l.seq !== undefined && l.seq >= asked.before);
    if (at < 0) at = buffer.lines.length;
    buffer.lines.splice(at, 0, ...lines);
    buffer.rev += 1;
    const reached = missed.at(-1)?.seq ?? asked.before - 1;
    if (events.length >= asked.limit && reached < asked.before - 1) {
      const limit = Math.min(asked.before - reached - 1, HISTORY_PAGE);
      out.send.push(this.track({ ...asked, after: reached, limit }));
    }
  }
}

// What a welcome or a list of members says of moderation (an older server says nothing).
function moderation(event) {
  return { topic: event.topic ?? "", ops: [...(event.ops ?? [])], voiced: [...(event.voiced ?? [])] };
}
