"""A minimal chat server in the seed's style, for comparison only.

One thread per client; a line from a client is written to every member in
turn with a blocking ``sendall`` under one lock. It speaks just enough of
trio-chat's text mode for ``trio-chat bench``: the first line is the
nickname, then every line is a message to the one room.

    python benchmarks/reference_server.py [PORT]
"""

from __future__ import annotations

import socket
import sys
import threading
import time

clients: dict[socket.socket, str] = {}
lock = threading.Lock()


def broadcast(data: bytes) -> None:
    with lock:
        for sock in list(clients):
            try:
                sock.sendall(data)
            except OSError:
                clients.pop(sock, None)


def serve_client(sock: socket.socket) -> None:
    reader = sock.makefile("rb")
    try:
        sock.sendall(b"* welcome to the reference server; choose a nickname\n")
        nick = reader.readline().strip().decode(errors="replace")
        if not nick:
            return
        with lock:
            clients[sock] = nick
        sock.sendall(f"{stamp()} * welcome, {nick}! you are in #lobby\n".encode())
        broadcast(f"{stamp()} * {nick} joined #lobby\n".encode())
        for line in reader:
            text = line.rstrip(b"\r\n")
            if text:
                broadcast(stamp().encode() + b" " + nick.encode() + b": " + text + b"\n")
    except OSError:
        pass
    finally:
        with lock:
            gone = clients.pop(sock, None)
        if gone:
            broadcast(f"{stamp()} * {gone} left #lobby (connection lost)\n".encode())
        sock.close()


def stamp() -> str:
    return time.strftime("[%H:%M:%S]")


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 58001
    listener = socket.create_server(("127.0.0.1", port), backlog=4096)
    print(f"listening on tcp://127.0.0.1:{port}", file=sys.stderr, flush=True)
    while True:
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve_client, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    main()
