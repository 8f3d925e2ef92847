"""irctest's controller for trio-chat (``--controller=irctest_controller``).

Each test gets a fresh ``python -m trio_chat server`` with an ``irc://`` listener
on the port irctest chose and a database of its own. Accounts are registered the
way any member registers, in JSON mode on a second, ``tcp://``, listener.
"""

from __future__ import annotations

import functools
import json
import socket
import subprocess
import sys

from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController
from irctest.specifications import Capabilities

# Flood control is off, as irctest's controllers turn off other servers' fake
# lag: the tests send bursts of lines and would only be slowed down. IRC
# clients start in no room, as irctest expects of every server.
SERVER_FLAGS = ("--flood-rate", "0", "--log-level", "warning", "--no-irc-lobby")
# Set when this trio-chat has the flag: irctest expects every server to be named so.
SERVER_NAME = ("--irc-server-name", "My.Little.Server")
# irctest's operator block (its tests send OPER operuser operpassword): a
# server operator is an account named by --operator, registered at start.
OPERATOR = ("operuser", "operpassword")
REPLY_TIMEOUT = 10.0


class TrioChatController(BaseServerController, DirectoryBasedController):
    software_name = "trio-chat"
    supported_sasl_mechanisms = frozenset({"PLAIN"})
    supports_sts = False
    _port_wait_interval = 0.02
    capabilities = frozenset(
        {
            Capabilities.BATCH,
            Capabilities.ECHO_MESSAGE,
            Capabilities.MESSAGE_TAGS,
            Capabilities.SERVER_TIME,
        }
    )
    isupport = {  # noqa: RUF012 - the base class declares it a plain dict
        "CASEMAPPING": "ascii",
        "CHANTYPES": "#",
        "PREFIX": "(ov)@+",
        "NICKLEN": "32",
        "CHANNELLEN": "33",  # "#" and 32 characters
        "UTF8ONLY": None,
    }

    def get_hostname_and_port(self):
        # irctest finds a free port on every interface; the server listens on loopback only.
        return "127.0.0.1", super().get_hostname_and_port()[1]

    def run(
        self,
        hostname,
        port,
        *,
        password,
        ssl,
        run_services,
        faketime,
        websocket_hostname,
        websocket_port,
    ):
        if password is not None:
            raise NotImplementedByController("PASS as a server password")
        if websocket_hostname is not None or websocket_port is not None:
            raise NotImplementedByController("IRC over WebSocket")
        assert self.proc is None
        self.hostname, self.port = hostname, port
        self.create_config()
        assert self.directory is not None
        self.accounts_port = self.get_hostname_and_port()[1]
        tls_flags: list[str] = []
        if ssl:
            self.gen_ssl()
            tls_flags = ["--cert", str(self.pem_path), "--key", str(self.key_path)]
        listen = f"{'ircs' if ssl else 'irc'}://{hostname}:{port}"
        self.proc = self.execute(
            [
                sys.executable,
                "-m",
                "trio_chat",
                "server",
                "--listen",
                listen,
                "--listen",
                f"tcp://127.0.0.1:{self.accounts_port}",
                "--db",
                str(self.directory / "chat.db"),
                *tls_flags,
                *SERVER_FLAGS,
                "--operator",
                OPERATOR[0],
                *(SERVER_NAME if SERVER_NAME[0] in _server_help() else ()),
            ],
            proc_name="trio-chat",
        )
        self.registerUser(None, *OPERATOR)

    def registerUser(self, case, username, password=None):
        """Registers ``username`` as a member would: hello, register, quit."""
        assert password is not None
        self.wait_for_port()
        requests = [
            {"type": "hello", "nick": username},
            {"type": "register", "password": password},
            {"type": "quit"},
        ]
        address = ("127.0.0.1", self.accounts_port)
        with socket.create_connection(address, REPLY_TIMEOUT) as conn:
            conn.sendall(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
            # The greeting may come in text form, before the mode is known.
            lines = [line for line in conn.makefile(encoding="utf-8") if line.startswith("{")]
        errors = [event for event in map(json.loads, lines) if event["type"] == "error"]
        if errors:
            raise RuntimeError(f"trio-chat did not register {username!r}: {errors}")


@functools.cache
def _server_help():
    """``trio-chat server --help``: which optional flags this trio-chat has."""
    command = [sys.executable, "-m", "trio_chat", "server", "--help"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def get_irctest_controller_class():
    return TrioChatController
