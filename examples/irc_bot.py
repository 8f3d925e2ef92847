"""A plain IRC bot, no trio_chat: answers "!ping" with "pong", in a channel or privately.

python examples/irc_bot.py [HOST [PORT [NICK [CHANNEL]]]]

It speaks IRC as RFC 2812 describes it, so it runs against any IRC server,
trio-chat's ``--listen irc://`` among them.
"""

import socket
import sys


def parse(line: str) -> tuple[str, str, list[str]]:
    """The sender's nickname, the command and its parameters of one IRC line."""
    if line.startswith("@"):  # message tags: this bot has no use for them
        line = line.partition(" ")[2]
    source = ""
    if line.startswith(":"):
        source, _, line = line[1:].partition(" ")
    line, colon, trailing = line.partition(" :")
    params = line.split()
    if colon:
        params.append(trailing)
    return source.partition("!")[0], params[0].upper() if params else "", params[1:]


def run(
    host: str = "127.0.0.1", port: int = 6667, nick: str = "pingbot", channel: str = "#lobby"
) -> None:
    with socket.create_connection((host, port)) as sock, sock.makefile(encoding="utf-8") as lines:

        def send(line: str) -> None:
            sock.sendall(line.encode() + b"\r\n")

        send(f"NICK {nick}")
        send(f"USER {nick} 0 * :answers !ping")
        for line in lines:  # ends when the server closes the connection
            sender, command, params = parse(line.rstrip("\r\n"))
            if command == "PING":  # answer, or the server drops a silent client
                send("PONG :" + (params[-1] if params else ""))
            elif command == "001":  # registered
                send(f"JOIN {channel}")
            elif command in ("432", "433"):  # the nickname is refused or taken
                sys.exit(params[-1])
            elif command == "PRIVMSG" and len(params) == 2 and params[1].strip() == "!ping":
                target = params[0]
                send(f"PRIVMSG {target if target.startswith('#') else sender} :pong")


if __name__ == "__main__":
    args = sys.argv[1:]
    run(*args[:1], *map(int, args[1:2]), *args[2:4])
