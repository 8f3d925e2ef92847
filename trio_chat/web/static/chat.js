// Everything the page decides without touching the DOM or the network, so
// that it can be tested with `node --test`. app.js does the drawing and the
// talking; the rest lives in commands.js (typed lines), words.js (wording)
// and state.js (buffers, sequence numbers, pending lines).

import { holdsPassword } from "./commands.js";

export { HELP, holdsPassword, parseLine, shellWords } from "./commands.js";
export { ChatState, HISTORY_PAGE, MAX_PENDING, memberList } from "./state.js";
export {
  clock,
  crc32,
  dayKey,
  dayText,
  eventLines,
  fold,
  lineText,
  mark,
  mentions,
  nickClass,
  parseTime,
  splitLinks,
} from "./words.js";

// Delays between attempts to connect: 1 s doubling to 60 s, each drawn from
// the upper half of its step so that pages which lost the same server do
// not all come back at once (as trio_chat/client/backoff.py).
export class Backoff {
  constructor(random = Math.random, first = 1, cap = 60) {
    Object.assign(this, { random, first, cap, step: first });
  }

  next() {
    const step = this.step;
    this.step = Math.min(this.cap, step * 2);
    return step / 2 + this.random() * (step / 2);
  }

  reset() {
    this.step = this.first;
  }
}

// The secret that lets a reconnect take this page's nickname back from its
// own earlier connection: 24 random bytes in base64url, 32 characters.
export function makeToken(fillRandom) {
  const bytes = fillRandom(new Uint8Array(24));
  const base64 = btoa(String.fromCharCode(...bytes));
  return base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// The WebSocket is at the very URL the page came from.
export function socketUrl(location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${location.pathname}`;
}

export function retryText(seconds) {
  return `offline — reconnecting in ${seconds} s`;
}

// After these goodbyes, coming back would undo what the user (or another
// page of theirs) just did.
export function shouldReconnect(reason) {
  return !/^quit\b|^logged in from elsewhere$|^reconnected$/.test(reason);
}

// Lines typed before, for Up and Down; the line being typed is kept as the
// newest, so walking back down returns to it. A line that holds a password
// is not kept.
export class Recall {
  constructor(limit = 200) {
    Object.assign(this, { limit, lines: [], at: 0, draft: "" });
  }

  add(line) {
    if (line.trim() && !holdsPassword(line) && this.lines.at(-1) !== line) this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.shift();
    this.at = this.lines.length;
  }

  up(typing) {
    if (this.at === this.lines.length) this.draft = typing;
    if (this.at === 0) return null;
    this.at -= 1;
    return this.lines[this.at];
  }

  down() {
    if (this.at >= this.lines.length) return null;
    this.at += 1;
    return this.at === this.lines.length ? this.draft : this.lines[this.at];
  }
}
