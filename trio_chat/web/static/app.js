// The page: draws what ChatState holds and talks to the server over one
// WebSocket in JSON mode. Everything from the server becomes text nodes
// (textContent, createTextNode), never markup, so no message can act on the page.

import {
  Backoff,
  ChatState,
  Recall,
  clock,
  makeToken,
  memberList,
  nickClass,
  retryText,
  shouldReconnect,
  socketUrl,
  splitLinks,
} from "./chat.js";

const $ = (id) => document.getElementById(id);
const QUIT_GRACE = 2000; // ms to wait for the server's goodbye after /quit

const chat = new ChatState();
const backoff = new Backoff();
const recall = new Recall();
let socket = null;
let stopped = false; // after /quit or a goodbye that must not be undone
let retryTimer = null;
let shown = { key: null, rev: -1, count: 0 }; // what #messages holds now

// ------------------------------------------------------------ the connection

// Kept for the tab's life (a reload keeps it): with it, a reconnect takes the
// nickname back from this page's own earlier connection.
const token = (() => {
  const fresh = () => makeToken((bytes) => crypto.getRandomValues(bytes));
  try {
    let value = sessionStorage.getItem("trio-chat-token");
    if (!value || value.length < 16) sessionStorage.setItem("trio-chat-token", (value = fresh()));
    return value;
  } catch {
    return fresh(); // storage switched off: the token lasts as long as the page
  }
})();

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  setStatus("connecting…");
  const ws = new WebSocket(socketUrl(location));
  socket = ws;
  ws.addEventListener("open", () => send(chat.hello(token)));
  ws.addEventListener("message", (m) => ws === socket && received(m.data));
  ws.addEventListener("close", () => ws === socket && lost());
}

function send(request) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(request));
}

function received(data) {
  for (const text of String(data).split("\n")) {
    const trimmed = text.trim();
    if (trimmed.startsWith("! ")) loginError(trimmed.slice(2)); // refused at connect
    if (!trimmed.startsWith("{")) continue; // the greeting, before JSON mode
    let out;
    try {
      out = chat.receive(JSON.parse(trimmed));
    } catch {
      continue; // not an event this page understands: skipped, as the terminal does
    }
    out.send.forEach(send);
    if (out.welcomed) welcomed();
    if (out.refused) refused(out.refused);
    if (out.bye !== undefined && !shouldReconnect(out.bye)) stopped = true;
  }
  render();
}

function lost() {
  socket = null;
  chat.connectionLost();
  if (stopped) return setStatus("offline");
  const deadline = Date.now() + backoff.next() * 1000;
  const tick = () => {
    const left = deadline - Date.now();
    if (left <= 0) return connect();
    const seconds = Math.ceil(left / 1000);
    setStatus(retryText(seconds));
    retryTimer = setTimeout(tick, left - (seconds - 1) * 1000); // until the count changes
  };
  tick();
  render();
}

function welcomed() {
  backoff.reset();
  setStatus("online");
  $("login").hidden = true;
  $("chat").hidden = false;
  $("line").focus();
}

function refused({ message, password }) {
  $("chat").hidden = true;
  $("login").hidden = false;
  $("nick").value = chat.nick;
  if (password) $("password-row").hidden = false;
  loginError(message);
  (password ? $("password") : $("nick")).focus();
}

function loginError(message) {
  $("login-error").textContent = message;
}

function setStatus(text) {
  $("status").textContent = text;
}

// ------------------------------------------------------------------ drawing

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function lineElement(l) {
  const li = el("li", `line ${l.kind}`);
  if (l.own) li.classList.add("own");
  if (l.replayed) li.classList.add("replayed");
  if (l.seq !== undefined) li.dataset.seq = String(l.seq);
  if (l.kind === "day") {
    li.textContent = l.text;
    return li;
  }
  const time = el("time", null, clock(l.time));
  time.dateTime = l.time.toISOString();
  li.append(time, " ");
  if (!l.nick) {
    li.append(el("span", "text", l.text));
    return li;
  }
  if (l.kind === "action") li.append("~ ");
  li.append(el("span", `nick ${nickClass(l.nick)}`, l.nick), l.kind === "action" ? " " : ": ");
  li.append(linked(el("span", "text"), l.text));
  return li;
}

// The node given, holding the text given, its http and https addresses as links.
function linked(node, text) {
  for (const part of splitLinks(text)) {
    if (part.text !== undefined) {
      node.append(document.createTextNode(part.text));
      continue;
    }
    const a = el("a", null, part.url);
    a.href = part.url;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    node.append(a);
  }
  return node;
}

// "@" for an operator, "+" for a voiced member, read out by a screen reader as words.
const MARK_NAMES = { "@": "operator", "+": "voiced" };

function memberElement({ nick, mark }) {
  const li = el("li", nickClass(nick));
  if (mark) {
    const sign = el("span", "mark", mark);
    sign.title = MARK_NAMES[mark];
    li.append(sign);
    li.setAttribute("aria-label", `${nick}, ${MARK_NAMES[mark]}`);
  }
  li.append(nick);
  return li;
}

function renderRooms() {
  const ul = $("rooms").querySelector("ul");
  const buffers = chat.list();
  const keys = buffers.map((b) => b.key).join("\n");
  if (ul.dataset.keys !== keys) {
    // Rebuilt only when the list itself changes, so a focused button keeps its focus.
    ul.dataset.keys = keys;
    ul.replaceChildren(...buffers.map(() => el("li")));
  }
  buffers.forEach((b, i) => {
    const li = ul.children[i];
    let button = li.firstElementChild;
    if (!button) li.append((button = el("button", "room")));
    button.type = "button";
    button.dataset.key = b.key;
    if (b.kind === "room") button.dataset.room = b.target;
    else button.dataset.private = b.target;
    const parts = [document.createTextNode(b.name)];
    if (b.unread > 0) parts.push(el("span", "unread", String(b.unread)));
    if (b.mention) {
      const mark = el("span", "mention", "@");
      mark.title = "mentioned";
      parts.push(mark);
    }
    button.replaceChildren(...parts);
    const extra = [b.unread > 0 && `${b.unread} unread`, b.mention && "mentioned"].filter(Boolean);
    button.setAttribute("aria-label", [b.name, ...extra].join(", "));
    if (b.key === chat.current) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  });
}

function renderMessages(buffer) {
  const list = $("messages");
  const lines = buffer?.lines ?? [];
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const same = shown.key === buffer?.key && shown.rev === buffer?.rev;
  if (same && lines.length >= shown.count) {
    list.append(...lines.slice(shown.count).map(lineElement));
  } else {
    list.setAttribute("aria-busy", "true"); // one change for a screen reader, not hundreds
    list.replaceChildren(...lines.map(lineElement));
    list.removeAttribute("aria-busy");
  }
  shown = { key: buffer?.key ?? null, rev: buffer?.rev ?? -1, count: lines.length };
  if (atBottom || !same) list.scrollTop = list.scrollHeight;
}

function render() {
  const buffer = chat.currentBuffer();
  renderRooms();
  renderMessages(buffer);
  $("room-title").textContent = buffer?.name ?? "";
  const topic = buffer?.kind === "room" ? buffer.topic : "";
  const topicLine = $("topic");
  if (topicLine.textContent !== topic) {
    topicLine.replaceChildren();
    linked(topicLine, topic);
  }
  topicLine.hidden = !topic;
  const members = buffer?.kind === "room" ? memberList(buffer) : [];
  $("members").querySelector("ul").replaceChildren(...members.map(memberElement));
  const unread = chat.list().reduce((sum, b) => sum + b.unread, 0);
  document.title = `${unread ? `(${unread}) ` : ""}${buffer ? `${buffer.name} — ` : ""}trio-chat`;
}

// ------------------------------------------------------------ what the user does

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const nick = $("nick").value.trim();
  if (!nick) return;
  chat.nick = nick;
  chat.password = ($("password-row").hidden ? "" : $("password").value) || null;
  loginError("");
  stopped = false;
  if (socket?.readyState === WebSocket.OPEN) send(chat.hello(token));
  else if (!socket) connect(); // a socket still opening sends the hello once open
});

$("nick").addEventListener("input", () => {
  $("password-row").hidden = true; // another nickname: its own password, if any, is asked for
  $("password").value = "";
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("line");
  const text = input.value;
  if (!text.trim()) return;
  recall.add(text);
  input.value = "";
  const out = chat.submit(text);
  out.send.forEach(send);
  if (out.quit) quit();
  render();
});

function quit() {
  stopped = true;
  clearTimeout(retryTimer);
  if (!socket) return setStatus("offline");
  const leaving = socket;
  setTimeout(() => leaving.close(), QUIT_GRACE); // the server closes first, normally
}

$("line").addEventListener("keydown", (event) => {
  if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
  const line = event.key === "ArrowUp" ? recall.up(event.target.value) : recall.down();
  if (line === null) return;
  event.preventDefault();
  event.target.value = line;
});

document.addEventListener("keydown", (event) => {
  if ($("chat").hidden) return;
  const digit = /^Digit([1-9])$/.exec(event.code);
  if (event.altKey && !event.ctrlKey && digit) chat.selectIndex(Number(digit[1]) - 1);
  else if (event.ctrlKey && !event.altKey && event.key === "n") chat.selectNext(1);
  else if (event.ctrlKey && !event.altKey && event.key === "p") chat.selectNext(-1);
  else return;
  event.preventDefault();
  render();
  $("line").focus();
});

$("rooms").addEventListener("click", (event) => {
  const button = event.target.closest("button.room");
  if (!button) return;
  chat.select(button.dataset.key);
  render();
  $("line").focus();
});

$("members-toggle").addEventListener("click", (event) => {
  const open = event.currentTarget.getAttribute("aria-expanded") !== "true";
  event.currentTarget.setAttribute("aria-expanded", String(open));
  $("chat").classList.toggle("members-open", open);
});

// Back on the network: try now rather than at the end of the wait.
window.addEventListener("online", () => retryTimer !== null && connect());

$("nick").focus();
