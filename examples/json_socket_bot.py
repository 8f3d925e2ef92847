"""An echo bot in plain Python, no trio_chat: JSON Lines over a socket.

python examples/json_socket_bot.py [HOST [PORT [NICK]]]
"""

import json
import socket
import sys


def run(host: str = "127.0.0.1", port: int = 58000, nick: str = "sockbot") -> None:
    with socket.create_connection((host, port)) as sock, sock.makefile(encoding="utf-8") as lines:

        def send(**request: str) -> None:
            sock.sendall((json.dumps(request) + "\n").encode())

        send(type="hello", nick=nick)
        for line in lines:  # ends when the server closes the connection
            try:
                event = json.loads(line)
            except ValueError:
                continue  # not JSON: a line for people
            kind = event.get("type")
            if kind == "ping":  # answer, or the server drops a silent client
                send(type="pong", token=event["token"])
            elif kind == "error" and event["code"] == "nick_taken":
                sys.exit(event["message"])
            elif kind == "message" and event["nick"] != nick and event["text"].startswith("!echo "):
                send(type="say", room=event["room"], text=event["text"][6:])


if __name__ == "__main__":
    args = sys.argv[1:]
    run(*args[:1], *map(int, args[1:2]), *args[2:3])
