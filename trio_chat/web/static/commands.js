// What a typed line asks for, as the terminal reads it
// (trio_chat/protocol/text.py and trio_chat/client/commands.py), with one
// difference: the page always names the buffer a line goes to, so a line
// goes where the user sees it, whatever room the server thinks is current.

export const HELP = [
  "commands:",
  "/who [#room]          who is in the room",
  "/msg NICK TEXT        a private message to NICK (opens @NICK)",
  "/me ACTION            an action: /me waves",
  "/nick NEW             change your nickname",
  "/join #room           join a room and talk there",
  "/part [#room]         leave the room (in @NICK: close it)",
  "/rooms                the rooms and how many are in each",
  "/history [N]          the last N messages here",
  "/history @NICK [N]    your last N private messages with NICK",
  "/register PASSWORD    protect your nickname with a password",
  '/password OLD NEW     change that password ("quote" one with spaces)',
  "/quit [reason]        leave the chat",
  "//text                say a line that starts with /",
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
  "/invite NICK [#room]         let NICK join an invite-only room",
  "/disconnect NICK [reason]    end NICK's connection (server operators)",
  "/help                 this list, and the keys",
  "/clear                clear this buffer",
  "keys:",
  "Enter                 send the line",
  "Up, Down              walk through earlier lines",
  "Alt+1 .. Alt+9        go to the room or conversation of that number",
  "Ctrl+N, Ctrl+P        go to the next or previous one",
];

const MAX_INT = 2 ** 53 - 1;
const QUOTING = "put a password with spaces or quotes in \"double\" or 'single' quotes";

const usage = (text) => ({ error: `usage: ${text}` });

// A plain line goes to the buffer shown ({ kind: "room" | "private", target }).
function sayTo(buffer, text) {
  if (buffer?.kind === "private") return { send: { type: "msg", nick: buffer.target, text } };
  return { send: withRoom({ type: "say", text }, buffer) };
}

function withRoom(request, buffer) {
  return buffer?.kind === "room" ? { ...request, room: buffer.target } : request;
}

// Returns null for a blank line, else one of:
// { send: request, open?: nick }, { local: "help" | "clear" | "close" }, { error: text }.
export function parseLine(line, buffer) {
  if (!line.trim()) return null;
  if (line.startsWith("//")) return sayTo(buffer, line.slice(1));
  if (!line.startsWith("/")) return sayTo(buffer, line);
  // Any whitespace ends the command's name, as on the server.
  const match = /^\/(\S*)\s*([\s\S]*)$/.exec(line);
  const name = match[1].toLowerCase();
  const rest = match[2].trim();
  switch (name) {
    case "help":
      return { local: "help" };
    case "clear":
      return { local: "clear" };
    case "quit":
      return { send: { type: "quit", reason: rest } };
    case "me":
      if (!rest) return usage("/me ACTION");
      if (buffer?.kind === "private") return { error: "/me works in a room" };
      return { send: withRoom({ type: "act", text: rest }, buffer) };
    case "msg": {
      const words = /^(\S+)\s+([\s\S]+)$/.exec(rest);
      if (!words) return usage("/msg NICK TEXT");
      const nick = words[1].replace(/^@/, "");
      return { send: { type: "msg", nick, text: words[2].trim() }, open: nick };
    }
    case "nick":
      return rest ? { send: { type: "nick", nick: rest } } : usage("/nick NEW");
    case "join":
      if (!rest) return usage("/join #room");
      return { send: { type: "join", room: rest.startsWith("#") ? rest : `#${rest}` } };
    case "part":
      if (rest) return { send: { type: "part", room: rest } };
      if (buffer?.kind === "private") return { local: "close" };
      return { send: withRoom({ type: "part" }, buffer) };
    case "who":
      return { send: rest ? { type: "who", room: rest } : withRoom({ type: "who" }, buffer) };
    case "rooms":
      return { send: { type: "rooms" } };
    case "history":
      return history(rest.split(/\s+/).filter(Boolean), buffer);
    case "register":
      return register(rest);
    case "password": {
      const words = shellWords(rest);
      if (words.error) return usage(`/password OLD NEW; ${words.error}`);
      if (words.length !== 2) return usage(`/password OLD NEW; ${QUOTING}`);
      return { send: { type: "password", old: words[0], new: words[1] } };
    }
    default: {
      const request = moderation(name, rest);
      if (request === null) return { error: `unknown command /${name}; /help lists the commands` };
      if (request.error) return request;
      // A room's command without a room is for the room shown.
      return { send: request.room || request.type === "disconnect" ? request : withRoom(request, buffer) };
    }
  }
}

const GIVE = { op: "+o", deop: "-o", voice: "+v", devoice: "-v", unban: "-b" };

// The moderation commands, as the server's text mode reads them; the server
// checks the rest (a mode it does not know, a room that is none). Returns a
// request (its room, when one is named), { error }, or null for no such command.
function moderation(name, rest) {
  const usageOf = () => usage(HELP.find((h) => h.startsWith(`/${name} `)).split("  ")[0]);
  let room;
  if (rest.startsWith("#") && name !== "invite" && name !== "disconnect") {
    [room, rest] = /^(\S+)\s*([\s\S]*)$/.exec(rest).slice(1);
  }
  const words = rest.split(/\s+/).filter(Boolean);
  const after = rest.replace(/^\S+\s*/, "").trim(); // what follows the first word
  const request = (fields) => (room ? { ...fields, room } : fields);
  switch (name) {
    case "topic":
      return request(rest ? { type: "topic", text: rest } : { type: "topic" });
    case "notopic":
      return request({ type: "topic", text: "" });
    case "kick":
      return words.length ? request({ type: "kick", nick: words[0], reason: after }) : usageOf();
    case "disconnect":
      return words.length ? { type: "disconnect", nick: words[0], reason: after } : usageOf();
    case "ban":
      if (words.length > 1) return usageOf();
      return request(words.length ? { type: "mode", mode: "+b", target: words[0] } : { type: "mode", mode: "+b" });
    case "mode":
      if (words.length > 2) return usageOf();
      return request({ type: "mode", ...(words[0] && { mode: words[0] }), ...(words[1] && { target: words[1] }) });
    case "invite":
      if (words.length < 1 || words.length > 2) return usageOf();
      return words[1] ? { type: "invite", nick: words[0], room: words[1] } : { type: "invite", nick: words[0] };
    case "unban":
    case "op":
    case "deop":
    case "voice":
    case "devoice":
      return words.length === 1 ? request({ type: "mode", mode: GIVE[name], target: words[0] }) : usageOf();
    default:
      return null;
  }
}

function history(args, buffer) {
  const target = args.length && /^[#@]/.test(args[0]) ? args.shift() : null;
  if (args.length > 1) return usage("/history [#room | @nick] [N]");
  const request = { type: "history" };
  if (args.length) {
    const limit = /^[0-9]{1,16}$/.test(args[0]) ? Number(args[0]) : NaN;
    if (!(limit <= MAX_INT)) return usage(`/history [#room | @nick] [N], N from 0 to ${MAX_INT}`);
    request.limit = limit;
  }
  if (target?.startsWith("@")) return { send: { ...request, nick: target.slice(1) } };
  if (target) return { send: { ...request, room: target } };
  if (buffer?.kind === "private") return { send: { ...request, nick: buffer.target } };
  return { send: withRoom(request, buffer) };
}

function register(rest) {
  if (!rest) return usage("/register PASSWORD");
  if (!/^["']/.test(rest)) return { send: { type: "register", password: rest } };
  const words = shellWords(rest);
  if (words.error) return usage(`/register PASSWORD; ${words.error}`);
  if (words.length !== 1) return usage(`/register PASSWORD; ${QUOTING}`);
  return { send: { type: "register", password: words[0] } };
}

// Words as a POSIX shell splits them, except that a backslash is an ordinary
// character (the server reads /password the same way). An unclosed quote
// gives { error }.
export function shellWords(text) {
  const words = [];
  let word = null;
  let quote = null;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= "";
    } else if (c === " " || c === "\t") {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) return Object.assign([], { error: `a quote is not closed: ${QUOTING}` });
  if (word !== null) words.push(word);
  return words;
}

// Lines that hold a password are not kept for the Up arrow.
export function holdsPassword(line) {
  return /^\/(register|password)(\s|$)/i.test(line.trimStart());
}
