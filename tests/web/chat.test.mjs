// The page's logic, without a browser: run with `node --test tests/web/`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  Backoff,
  ChatState,
  HELP,
  MAX_PENDING,
  Recall,
  clock,
  crc32,
  dayText,
  eventLines,
  lineText,
  makeToken,
  mark,
  memberList,
  mentions,
  nickClass,
  parseLine,
  parseTime,
  retryText,
  shellWords,
  shouldReconnect,
  socketUrl,
  splitLinks,
} from "../../trio_chat/web/static/chat.js";

const T = "2026-11-23T21:52:30.900763Z";
const room = { kind: "room", target: "#dev" };
const bob = { kind: "private", target: "bob" };

const say = (r, seq, nick, text) => ({ type: "message", time: T, room: r, seq, nick, text });
const joined = (r, seq, nick) => ({ type: "joined", time: T, room: r, seq, nick });
const left = (r, seq, nick, reason) => ({ type: "left", time: T, room: r, seq, nick, reason });
const welcome = (nick, members = [nick]) => ({
  type: "welcome", time: T, nick, room: "#lobby", members, online: members.length,
});
const texts = (buffer) => buffer.lines.map(lineText);

// A page that was welcomed as alice, in #lobby (last seq 5).
function online() {
  const chat = new ChatState("alice");
  chat.hello("t".repeat(32));
  chat.receive(welcome("alice", ["alice", "bob"]));
  chat.receive(joined("#lobby", 5, "alice"));
  return chat;
}

describe("typed lines", () => {
  test("plain text goes to the buffer shown: a room or a private conversation", () => {
    assert.deepEqual(parseLine("hi all", room), { send: { type: "say", text: "hi all", room: "#dev" } });
    assert.deepEqual(parseLine("hi", bob), { send: { type: "msg", nick: "bob", text: "hi" } });
    assert.deepEqual(parseLine("//etc is a path", room).send.text, "/etc is a path");
    assert.equal(parseLine("   ", room), null);
  });

  test("/join names a room, with or without its #", () => {
    assert.deepEqual(parseLine("/join #dev", room).send, { type: "join", room: "#dev" });
    assert.deepEqual(parseLine("/JOIN dev", room).send, { type: "join", room: "#dev" });
    assert.deepEqual(parseLine("/join", room), { error: "usage: /join #room" });
  });

  test("/msg opens the conversation with that nick", () => {
    assert.deepEqual(parseLine("/msg bob lunch? now", room), {
      send: { type: "msg", nick: "bob", text: "lunch? now" },
      open: "bob",
    });
    assert.deepEqual(parseLine("/msg bob", room), { error: "usage: /msg NICK TEXT" });
  });

  test("commands act on the buffer shown", () => {
    assert.deepEqual(parseLine("/me waves", room).send, { type: "act", text: "waves", room: "#dev" });
    assert.deepEqual(parseLine("/part", room).send, { type: "part", room: "#dev" });
    assert.deepEqual(parseLine("/part", bob), { local: "close" });
    assert.deepEqual(parseLine("/who", room).send, { type: "who", room: "#dev" });
    assert.deepEqual(parseLine("/history 5", room).send, { type: "history", limit: 5, room: "#dev" });
    assert.deepEqual(parseLine("/history", bob).send, { type: "history", nick: "bob" });
    assert.deepEqual(parseLine("/history @carol 2", room).send, { type: "history", limit: 2, nick: "carol" });
    assert.match(parseLine("/history -1", room).error, /^usage: \/history/);
    assert.deepEqual(parseLine("/rooms", room).send, { type: "rooms" });
    assert.deepEqual(parseLine("/nick robot", room).send, { type: "nick", nick: "robot" });
    assert.deepEqual(parseLine("/quit lunch", room).send, { type: "quit", reason: "lunch" });
    assert.deepEqual(parseLine("/help", room), { local: "help" });
    assert.deepEqual(parseLine("/frob", room), { error: "unknown command /frob; /help lists the commands" });
  });

  test("passwords are read as the server reads them", () => {
    assert.deepEqual(parseLine("/register correct horse", room).send, {
      type: "register", password: "correct horse",
    });
    assert.deepEqual(parseLine('/password "a b" \'c"d\'', room).send, {
      type: "password", old: "a b", new: 'c"d',
    });
    assert.deepEqual(shellWords("back\\slash 'it'\"'\"'s' \"\""), ["back\\slash", "it's", ""]);
    assert.match(parseLine('/password "open', room).error, /a quote is not closed/);
  });
});

describe("wording", () => {
  test("events read as on the terminal", () => {
    const lines = (e) => eventLines(e, "alice").map(lineText);
    assert.deepEqual(lines(say("#lobby", 1, "bob", "hi")), ["bob: hi"]);
    assert.deepEqual(lines({ type: "action", time: T, room: "#dev", seq: 2, nick: "bob", text: "waves" }), ["~ bob waves"]);
    assert.deepEqual(lines(left("#dev", 3, "bob", "quit: lunch")), ["* bob left #dev (quit: lunch)"]);
    assert.deepEqual(lines({ type: "nick_changed", time: T, room: "#dev", seq: 4, old: "bob", new: "bobby" }), [
      "* bob is now known as bobby (#dev)",
    ]);
    assert.deepEqual(lines(welcome("alice", ["alice", "bob"])), [
      "* welcome, alice! you are in #lobby with bob (2 online); /help lists the commands",
    ]);
    assert.deepEqual(lines({ type: "rooms", time: T, rooms: [] }), ["* rooms: none"]);
    assert.deepEqual(lines({ type: "error", time: T, code: "x", message: "no" }), ["! no"]);
    assert.deepEqual(lines({ type: "private", time: T, sender: "bob", target: "alice", text: "psst" }), [
      "[private] bob -> alice: psst",
    ]);
    assert.deepEqual(lines({ type: "ping", time: T, token: "x" }), []);
  });

  test("a replay counts messages, or events when joins and leaves are among them", () => {
    const head = (events) => lineText(eventLines({ type: "history", time: T, room: "#dev", events }, "alice")[0]);
    assert.equal(head([say("#dev", 1, "bob", "hi")]), "* history of #dev: 1 earlier message(s)");
    assert.equal(head([say("#dev", 1, "bob", "hi"), left("#dev", 2, "bob", "quit")]), "* history of #dev: 2 earlier event(s)");
  });

  test("a nickname keeps its colour, whatever its case", () => {
    assert.equal(crc32("123456789"), 0xcbf43926); // zlib's check value
    assert.equal(nickClass("Alice"), nickClass("alice"));
    const classes = new Set(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"].map(nickClass));
    assert.ok(classes.size > 3);
    for (const c of classes) assert.match(c, /^nick-c[0-7]$/);
  });

  test("times are local HH:MM, and days are spelled out", () => {
    const day = new Date(2026, 10, 29, 9, 5);
    assert.equal(clock(day), "09:05");
    assert.equal(dayText(day), "--- Sunday 29 November 2026 ---");
    assert.equal(parseTime("2026-11-23T21:52:30").toISOString(), "2026-11-23T21:52:30.000Z");
    assert.equal(parseTime("nonsense"), null);
  });

  test("only http and https become links", () => {
    assert.deepEqual(splitLinks("see https://example.org/a?b=1, ok"), [
      { text: "see " }, { url: "https://example.org/a?b=1" }, { text: ", ok" },
    ]);
    assert.deepEqual(splitLinks("javascript:alert(1) data:text/html,x ftp://a"), [
      { text: "javascript:alert(1) data:text/html,x ftp://a" },
    ]);
    assert.deepEqual(splitLinks("(http://a.b)"), [{ text: "(" }, { url: "http://a.b" }, { text: ")" }]);
    assert.deepEqual(splitLinks("http://"), [{ text: "http://" }]);
  });

  test("a line names someone only as a whole word", () => {
    assert.ok(mentions("hi alice!", "alice"));
    assert.ok(mentions("ALICE: look", "alice"));
    assert.ok(!mentions("malice", "alice"));
    assert.ok(!mentions("alice_2 here", "alice"));
    assert.ok(mentions("a.b, hi", "a.b"));
    assert.ok(!mentions("axb", "a.b"));
  });
});

describe("buffers", () => {
  test("the welcome shows the lobby, its members and the history", () => {
    const chat = new ChatState("alice");
    chat.hello("t".repeat(32));
    const out = chat.receive(welcome("alice", ["alice", "bob"]));
    assert.equal(out.welcomed, true);
    chat.receive({ type: "history", time: T, room: "#lobby", events: [say("#lobby", 2, "bob", "earlier")] });
    chat.receive(joined("#lobby", 3, "alice"));
    const lobby = chat.currentBuffer();
    assert.equal(lobby.name, "#lobby");
    assert.deepEqual(lobby.members, ["alice", "bob"]);
    assert.deepEqual(texts(lobby).slice(1), [
      "* history of #lobby: 1 earlier message(s)", "bob: earlier", "* alice joined #lobby",
    ]);
  });

  test("a refused nickname asks again, with the password when it is registered", () => {
    const chat = new ChatState("bobby");
    chat.hello("t".repeat(32));
    const err = (code) => chat.receive({ type: "error", time: T, code, message: code }).refused;
    assert.deepEqual(err("password_required"), { code: "password_required", message: "password_required", password: true });
    assert.equal(err("nick_taken").password, false);
    chat.password = "hunter2hunter2";
    assert.equal(chat.hello("t".repeat(32)).password, "hunter2hunter2");
  });

  test("joining a room makes it current; members follow joins, leaves and nick changes", () => {
    const chat = online();
    assert.deepEqual(chat.submit("/join dev").send, [{ type: "join", room: "#dev" }]);
    chat.receive({ type: "members", time: T, room: "#dev", nicks: ["bob", "alice"] });
    chat.receive(joined("#dev", 7, "alice"));
    assert.equal(chat.current, "#dev");
    chat.receive(joined("#dev", 8, "carol"));
    chat.receive(left("#dev", 9, "bob", "quit"));
    chat.receive({ type: "nick_changed", time: T, room: "#dev", seq: 10, old: "carol", new: "caz" });
    assert.deepEqual(chat.currentBuffer().members, ["alice", "caz"]);
    assert.deepEqual(chat.list().map((b) => b.name), ["#lobby", "#dev"]);
  });

  test("unread counts and mentions are kept for the buffers not shown", () => {
    const chat = online();
    chat.submit("/join #dev");
    chat.receive({ type: "members", time: T, room: "#dev", nicks: ["alice"] });
    chat.receive(joined("#dev", 1, "alice"));
    chat.receive(say("#lobby", 6, "bob", "lunch?"));
    chat.receive(say("#lobby", 7, "bob", "alice, lunch?"));
    chat.receive({ type: "private", time: T, sender: "carol", target: "alice", text: "psst" });
    const [lobby, carol] = [chat.buffers.get("#lobby"), chat.buffers.get("@carol")];
    assert.deepEqual([lobby.unread, lobby.mention], [2, true]);
    assert.deepEqual([carol.unread, carol.mention, carol.name], [1, true, "@carol"]);
    chat.receive(say("#dev", 2, "alice", "my own"));
    assert.equal(chat.currentBuffer().unread, 0);
    chat.selectIndex(0);
    assert.deepEqual([lobby.unread, lobby.mention, chat.current], [0, false, "#lobby"]);
    chat.selectNext(-1);
    assert.equal(chat.current, "@carol");
  });

  test("/msg opens the private buffer, and lines there go to that nick", () => {
    const chat = online();
    assert.deepEqual(chat.submit("/msg Bob hi").send, [{ type: "msg", nick: "Bob", text: "hi" }]);
    assert.equal(chat.currentBuffer().name, "@Bob");
    assert.deepEqual(chat.submit("again").send, [{ type: "msg", nick: "Bob", text: "again" }]);
    chat.receive({ type: "private", time: T, sender: "alice", target: "bob", text: "again" });
    assert.deepEqual(texts(chat.currentBuffer()), ["[private] alice -> bob: again"]);
    assert.equal(chat.currentBuffer().unread, 0);
  });

  test("/part leaves the room and shows another; /clear and /help stay on the page", () => {
    const chat = online();
    chat.submit("/join #dev");
    chat.receive({ type: "members", time: T, room: "#dev", nicks: ["alice"] });
    chat.receive(joined("#dev", 1, "alice"));
    assert.deepEqual(chat.submit("/part").send, [{ type: "part", room: "#dev" }]);
    chat.receive(left("#dev", 2, "alice", "part"));
    assert.equal(chat.current, "#lobby");
    assert.equal(chat.buffers.has("#dev"), false);
    assert.deepEqual(chat.submit("/help").send, []);
    assert.ok(texts(chat.currentBuffer()).includes("- /msg NICK TEXT        a private message to NICK (opens @NICK)"));
    chat.submit("/clear");
    assert.deepEqual(chat.currentBuffer().lines, []);
  });

  test("a day-change line comes between days", () => {
    const chat = online();
    chat.receive({ ...say("#lobby", 6, "bob", "late"), time: "2026-11-28T12:00:00Z" });
    chat.receive({ ...say("#lobby", 7, "bob", "early"), time: "2026-11-29T12:00:00Z" });
    const lines = chat.currentBuffer().lines;
    assert.deepEqual(lines.at(-2), { kind: "day", time: lines.at(-1).time, text: dayText(lines.at(-1).time) });
  });

  test("a ping is answered", () => {
    assert.deepEqual(online().receive({ type: "ping", time: T, token: "05a5" }).send, [
      { type: "pong", token: "05a5" },
    ]);
  });
});

// alice in #lobby and #dev, where bob is an operator and carol voiced; #dev shown.
function inDev() {
  const chat = online();
  chat.submit("/join #dev");
  chat.receive({
    type: "members", time: T, room: "#dev", nicks: ["carol", "bob", "alice"],
    topic: "release friday", ops: ["bob"], voiced: ["carol"],
  });
  chat.receive(joined("#dev", 1, "alice"));
  return chat;
}

const ev = (type, seq, fields) => ({ type, time: T, room: "#dev", seq, ...fields });
const kicked = (seq, nick, target, reason = "") => ev("kicked", seq, { nick, target, reason });
const mode = (seq, nick, change, target = null) => ev("mode", seq, { nick, mode: change, target });

describe("moderation", () => {
  test("the moderation commands become their requests, for the room shown unless one is named", () => {
    const send = (line, buffer = room) => parseLine(line, buffer).send;
    assert.deepEqual(send("/topic"), { type: "topic", room: "#dev" });
    assert.deepEqual(send("/topic #ops  all  hands "), { type: "topic", text: "all  hands", room: "#ops" });
    assert.deepEqual(send("/notopic"), { type: "topic", text: "", room: "#dev" });
    assert.deepEqual(send("/kick bob spam,  again"), { type: "kick", nick: "bob", reason: "spam,  again", room: "#dev" });
    assert.deepEqual(send("/ban"), { type: "mode", mode: "+b", room: "#dev" });
    assert.deepEqual(send("/ban $a:mallory"), { type: "mode", mode: "+b", target: "$a:mallory", room: "#dev" });
    assert.deepEqual(send("/unban #ops *!*@cloak"), { type: "mode", mode: "-b", target: "*!*@cloak", room: "#ops" });
    assert.deepEqual(send("/OP carol"), { type: "mode", mode: "+o", target: "carol", room: "#dev" });
    assert.deepEqual(send("/deop carol").mode, "-o");
    assert.deepEqual(send("/voice carol").mode, "+v");
    assert.deepEqual(send("/devoice carol").mode, "-v");
    assert.deepEqual(send("/mode"), { type: "mode", room: "#dev" });
    assert.deepEqual(send("/mode #ops +m"), { type: "mode", mode: "+m", room: "#ops" });
    assert.deepEqual(send("/invite dave"), { type: "invite", nick: "dave", room: "#dev" });
    assert.deepEqual(send("/invite dave #ops"), { type: "invite", nick: "dave", room: "#ops" });
    assert.deepEqual(send("/disconnect mallory flooding"), { type: "disconnect", nick: "mallory", reason: "flooding" });
    assert.deepEqual(send("/kick bob", bob), { type: "kick", nick: "bob", reason: "" });
  });

  test("a moderation command lacking its arguments shows how to use it", () => {
    assert.deepEqual(parseLine("/kick", room), { error: "usage: /kick [#room] NICK [reason]" });
    assert.deepEqual(parseLine("/devoice", room), { error: "usage: /devoice [#room] NICK" });
    assert.deepEqual(parseLine("/mode +o bob now", room), { error: "usage: /mode [#room] [+i|-i|+m|-m]" });
    assert.deepEqual(parseLine("/invite dave #ops now", room), { error: "usage: /invite NICK [#room]" });
    assert.deepEqual(parseLine("/ban a b", room), { error: "usage: /ban [#room] [NICK|MASK]" });
    assert.deepEqual(parseLine("/disconnect", room), { error: "usage: /disconnect NICK [reason]" });
    const help = HELP.join("\n");
    for (const name of ["/topic", "/notopic", "/kick", "/ban", "/unban", "/deop", "/devoice", "/mode", "/invite", "/disconnect"]) {
      assert.ok(help.includes(name), name);
    }
  });

  test("each event reads as on the terminal", () => {
    const lines = (e) => eventLines(e, "alice").map(lineText);
    assert.deepEqual(lines(ev("topic", 2, { nick: "bob", topic: "release friday" })), [
      "* bob set the topic of #dev: release friday",
    ]);
    assert.deepEqual(lines(ev("topic", 2, { nick: "bob", topic: "" })), ["* bob cleared the topic of #dev"]);
    assert.deepEqual(lines(kicked(2, "bob", "carol", "spam")), ["* carol was kicked from #dev by bob (spam)"]);
    assert.deepEqual(lines(kicked(2, "bob", "carol")), ["* carol was kicked from #dev by bob"]);
    assert.deepEqual(lines(mode(2, "bob", "+o", "carol")), ["* bob gives operator status to carol in #dev"]);
    assert.deepEqual(lines(mode(2, "bob", "-o", "carol")), ["* bob takes operator status from carol in #dev"]);
    assert.deepEqual(lines(mode(2, "", "+o", "alice")), ["* the server gives operator status to alice in #dev"]);
    assert.deepEqual(lines(mode(2, "bob", "+v", "carol")), ["* bob gives voice to carol in #dev"]);
    assert.deepEqual(lines(mode(2, "bob", "-v", "carol")), ["* bob takes voice from carol in #dev"]);
    assert.deepEqual(lines(mode(2, "bob", "+b", "$a:mallory")), ["* bob bans $a:mallory in #dev"]);
    assert.deepEqual(lines(mode(2, "bob", "-b", "$a:mallory")), ["* bob lifts the ban on $a:mallory in #dev"]);
    assert.deepEqual(lines(mode(2, "bob", "+i")), ["* bob made #dev invite-only"]);
    assert.deepEqual(lines(mode(2, "bob", "-i")), ["* bob made #dev open to all"]);
    assert.deepEqual(lines(mode(2, "bob", "+m")), ["* bob made #dev moderated"]);
    assert.deepEqual(lines(mode(2, "bob", "-m")), ["* bob made #dev open to all speakers"]);
    assert.deepEqual(lines({ type: "invited", time: T, room: "#dev", nick: "bob" }), [
      "* bob invites you to #dev: /join #dev",
    ]);
    const state = {
      type: "room", time: T, room: "#dev", topic: "release friday", topic_by: "bob", topic_time: T,
      modes: "im", owner: "bob", ops: ["bob"], voiced: ["carol"], bans: ["$a:mallory", "*!*@cloak"],
    };
    const at = new Date(T);
    const when = `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, "0")}-${String(at.getDate()).padStart(2, "0")} ${clock(at)}`;
    assert.deepEqual(lines(state), [
      `* topic of #dev: release friday (set by bob at ${when})`,
      "* #dev: modes +im, owner bob, operators: bob",
      "* #dev: voiced: carol",
      "* #dev: bans: $a:mallory, *!*@cloak",
    ]);
    const bare = { ...state, topic: "", topic_by: null, modes: "", owner: null, ops: [], voiced: [], bans: [] };
    assert.deepEqual(lines(bare), ["* #dev has no topic", "* #dev: modes none, owner none, operators: none"]);
    const who = {
      type: "members", time: T, room: "#dev", nicks: ["bob", "carol", "alice"], topic: "hi", ops: ["BOB"], voiced: ["carol"],
    };
    assert.deepEqual(lines(who), ["* in #dev (3): @bob, +carol, alice", "* topic of #dev: hi"]);
    assert.deepEqual(lines({ ...welcome("alice"), topic: "hi" }).at(-1), "* topic of #lobby: hi");
    assert.deepEqual(lines({ type: "members", time: T, room: "#x", nicks: ["bob"] }), ["* in #x (1): bob"]);
  });

  test("the topic of a room follows its changes", () => {
    const chat = inDev();
    assert.equal(chat.currentBuffer().topic, "release friday");
    chat.receive(ev("topic", 2, { nick: "bob", topic: "ship it" }));
    assert.equal(chat.currentBuffer().topic, "ship it");
    assert.deepEqual(texts(chat.currentBuffer()).at(-1), "* bob set the topic of #dev: ship it");
    chat.receive(ev("topic", 3, { nick: "bob", topic: "" }));
    assert.equal(chat.currentBuffer().topic, "");
  });

  test("the member list puts operators first, then the voiced, each marked", () => {
    const chat = inDev();
    const list = () => memberList(chat.currentBuffer()).map((m) => m.mark + m.nick);
    assert.deepEqual(list(), ["@bob", "+carol", "alice"]);
    chat.receive(mode(2, "bob", "+o", "alice"));
    chat.receive(mode(3, "bob", "-v", "carol"));
    chat.receive(mode(4, "bob", "+m"));
    assert.deepEqual(list(), ["@alice", "@bob", "carol"]);
    chat.receive({ type: "nick_changed", time: T, room: "#dev", seq: 5, old: "bob", new: "robert" });
    chat.receive(mode(6, "alice", "+v", "carol"));
    assert.deepEqual(list(), ["@alice", "@robert", "+carol"]);
    chat.receive(left("#dev", 7, "robert", "quit"));
    chat.receive(joined("#dev", 8, "robert"));
    assert.deepEqual(list(), ["@alice", "+carol", "robert"]);
    assert.equal(mark("ALICE", ["alice"], ["alice"]), "@");
  });

  test("a kick removes its target; being kicked closes the room as parting does", () => {
    const chat = inDev();
    chat.receive(kicked(2, "bob", "carol", "spam"));
    assert.deepEqual(chat.currentBuffer().members, ["bob", "alice"]);
    assert.deepEqual(chat.currentBuffer().voiced, []);
    assert.equal(texts(chat.currentBuffer()).at(-1), "* carol was kicked from #dev by bob (spam)");
    chat.receive(kicked(3, "bob", "ALICE", "bye"));
    assert.equal(chat.buffers.has("#dev"), false);
    assert.equal(chat.current, "#lobby");
    assert.equal(texts(chat.currentBuffer()).at(-1), "* ALICE was kicked from #dev by bob (bye)");
    assert.equal(chat.seq.has("#dev"), false); // not resumed after a reconnect
    assert.deepEqual(chat.hello("t".repeat(32)).resume, [{ room: "#lobby", seq: 5 }]);
  });

  test("an invitation and a room's state are shown in the buffer shown", () => {
    const chat = inDev();
    chat.selectIndex(0);
    chat.receive({ type: "invited", time: T, room: "#secret", nick: "bob" });
    assert.equal(texts(chat.currentBuffer()).at(-1), "* bob invites you to #secret: /join #secret");
    chat.receive({
      type: "room", time: T, room: "#dev", topic: "", topic_by: null, topic_time: null,
      modes: "i", owner: null, ops: [], voiced: [], bans: [],
    });
    assert.deepEqual(texts(chat.currentBuffer()).slice(-2), ["* #dev has no topic", "* #dev: modes +i, owner none, operators: none"]);
    assert.deepEqual(chat.list().map((b) => b.name), ["#lobby", "#dev"]);
  });
});

describe("sequence numbers", () => {
  test("an event already seen is dropped", () => {
    const chat = online();
    chat.receive(say("#lobby", 6, "bob", "once"));
    chat.receive(say("#lobby", 6, "bob", "once"));
    chat.receive(say("#lobby", 4, "bob", "older"));
    assert.deepEqual(texts(chat.currentBuffer()).filter((t) => t.startsWith("bob")), ["bob: once"]);
  });

  test("a gap is asked for by number and put in its place", () => {
    const chat = online();
    const out = chat.receive(say("#lobby", 9, "bob", "after"));
    assert.deepEqual(out.send, [{ type: "history", room: "#lobby", after: 5, before: 9, limit: 3 }]);
    const events = [say("#lobby", 6, "bob", "a"), joined("#lobby", 7, "carol"), say("#lobby", 8, "carol", "b")];
    assert.deepEqual(chat.receive({ type: "history", time: T, room: "#lobby", events }).send, []);
    assert.deepEqual(texts(chat.currentBuffer()).slice(-5), [
      "! 3 event(s) in #lobby were missed: asking the server for them",
      "bob: a", "* carol joined #lobby", "carol: b", "bob: after",
    ]);
  });

  test("a gap longer than a page is asked for page by page", () => {
    const chat = online();
    const first = chat.receive(say("#lobby", 1006, "bob", "after")).send[0];
    assert.equal(first.limit, 500);
    const page = Array.from({ length: 500 }, (_, i) => say("#lobby", 6 + i, "bob", `m${i}`));
    const again = chat.receive({ type: "history", time: T, room: "#lobby", events: page }).send;
    assert.deepEqual(again, [{ type: "history", room: "#lobby", after: 505, before: 1006, limit: 500 }]);
  });

  test("an answer to /history shows everything, even what was seen", () => {
    const chat = online();
    chat.receive(say("#lobby", 6, "bob", "hi"));
    chat.submit("/history 1");
    chat.receive({ type: "history", time: T, room: "#lobby", events: [say("#lobby", 6, "bob", "hi")] });
    assert.deepEqual(texts(chat.currentBuffer()).slice(-2), ["* history of #lobby: 1 earlier message(s)", "bob: hi"]);
  });

  test("a reconnect resumes each room after its last seq, and shows only what is new", () => {
    const chat = online();
    chat.submit("/join #dev");
    chat.receive({ type: "members", time: T, room: "#dev", nicks: ["alice"] });
    chat.receive(joined("#dev", 7, "alice"));
    chat.receive(say("#lobby", 6, "bob", "before"));
    chat.connectionLost();
    const hello = chat.hello("t".repeat(32));
    assert.deepEqual(hello, {
      type: "hello", nick: "alice", token: "t".repeat(32),
      resume: [{ room: "#lobby", seq: 6 }, { room: "#dev", seq: 7 }],
    });
    assert.deepEqual(chat.receive(welcome("alice")).send, []);
    chat.receive({
      type: "history", time: T, room: "#lobby",
      events: [say("#lobby", 6, "bob", "before"), left("#lobby", 7, "alice", "connection closed")],
    });
    chat.receive(joined("#lobby", 8, "alice"));
    chat.receive({ type: "members", time: T, room: "#dev", nicks: ["alice"] });
    chat.receive({ type: "history", time: T, room: "#dev", events: [say("#dev", 8, "carol", "anyone?")] });
    chat.receive(joined("#dev", 9, "alice"));
    assert.equal(chat.current, "#dev");
    assert.deepEqual(texts(chat.buffers.get("#dev")).slice(-3), [
      "- while you were away, in #dev:", "carol: anyone?", "* alice joined #dev",
    ]);
    const lobby = texts(chat.buffers.get("#lobby"));
    assert.equal(lobby.filter((t) => t === "bob: before").length, 1);
    assert.ok(!lobby.some((t) => t.startsWith("* in #dev")));
  });

  test("numbers that started again are taken, with a warning", () => {
    const chat = online();
    chat.connectionLost();
    chat.hello("t".repeat(32));
    chat.receive(welcome("alice"));
    chat.receive(joined("#lobby", 1, "alice"));
    chat.receive(say("#lobby", 2, "bob", "new"));
    assert.deepEqual(texts(chat.currentBuffer()).slice(-3), [
      "! #lobby started afresh (the server restarted?): messages may have been missed",
      "* alice joined #lobby", "bob: new",
    ]);
  });

  test("rooms the resume could not cover are joined again, and a lobby left is left again", () => {
    const chat = online();
    chat.submit("/join #dev");
    chat.receive({ type: "members", time: T, room: "#dev", nicks: ["alice"] });
    chat.submit("/part #lobby");
    chat.receive(left("#lobby", 6, "alice", "part"));
    chat.connectionLost(); // before #dev's own joined: no seq to resume from
    assert.equal(chat.hello("t".repeat(32)).resume, undefined);
    assert.deepEqual(chat.receive(welcome("alice")).send, [
      { type: "part", room: "#lobby" },
      { type: "join", room: "#dev" },
    ]);
  });
});

describe("offline", () => {
  test("lines typed offline wait, shown as pending, and go out in order once welcomed", () => {
    const chat = online();
    chat.connectionLost();
    assert.deepEqual(chat.submit("one").send, []);
    chat.submit("/me two");
    assert.deepEqual(chat.currentBuffer().lines.filter((l) => l.kind === "pending").map((l) => l.text), ["one", "/me two"]);
    chat.hello("t".repeat(32));
    assert.deepEqual(chat.receive(welcome("alice")).send, [
      { type: "say", text: "one", room: "#lobby" },
      { type: "act", text: "two", room: "#lobby" },
    ]);
    assert.ok(!chat.currentBuffer().lines.some((l) => l.kind === "pending"));
  });

  test(`at most ${MAX_PENDING} lines are kept`, () => {
    const chat = online();
    chat.connectionLost();
    for (let i = 0; i <= MAX_PENDING; i++) chat.submit(`line ${i}`);
    assert.equal(chat.pending.length, MAX_PENDING);
    assert.equal(texts(chat.currentBuffer()).at(-1), `! offline with ${MAX_PENDING} lines waiting: not kept`);
  });

  test("/quit offline ends the page without a request", () => {
    const chat = online();
    chat.connectionLost();
    assert.deepEqual(chat.submit("/quit"), { send: [], quit: true });
  });

  test("the wait doubles from 1 s to 60 s, drawn from the upper half of each step", () => {
    const low = new Backoff(() => 0);
    assert.deepEqual(Array.from({ length: 8 }, () => low.next()), [0.5, 1, 2, 4, 8, 16, 30, 30]);
    const high = new Backoff(() => 0.999999);
    assert.ok(Math.abs(high.next() - 1) < 1e-5);
    low.reset();
    assert.equal(low.next(), 0.5);
    assert.equal(retryText(4), "offline — reconnecting in 4 s");
  });

  test("some goodbyes are final", () => {
    assert.equal(shouldReconnect("server shutting down"), true);
    assert.equal(shouldReconnect("ping timeout"), true);
    assert.equal(shouldReconnect("quit: lunch"), false);
    assert.equal(shouldReconnect("quit"), false);
    assert.equal(shouldReconnect("logged in from elsewhere"), false);
  });

  test("the token is long and random; the socket is where the page came from", () => {
    let n = 0;
    const token = makeToken((bytes) => bytes.map(() => n++));
    assert.equal(token.length, 32);
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.notEqual(makeToken((b) => b.fill(7)), token);
    assert.equal(socketUrl({ protocol: "https:", host: "chat.example:8443", pathname: "/chat/" }), "wss://chat.example:8443/chat/");
    assert.equal(socketUrl({ protocol: "http:", host: "127.0.0.1:8080", pathname: "/" }), "ws://127.0.0.1:8080/");
  });

  test("Up and Down walk through earlier lines and back to the draft; passwords are not kept", () => {
    const recall = new Recall();
    ["one", "two", "/register secret123"].forEach((l) => recall.add(l));
    assert.equal(recall.up("dra"), "two");
    assert.equal(recall.up("two"), "one");
    assert.equal(recall.up("one"), null);
    assert.equal(recall.down(), "two");
    assert.equal(recall.down(), "dra");
    assert.equal(recall.down(), null);
  });
});
