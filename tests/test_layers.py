"""The layering the imports show: data flows one way, and each layer knows only those below it.

protocol (sans-IO) <- chat (no I/O) <- server core (session, front, pump, outbox, stores)
<- server edge (chat_server, cli), which alone picks transports and broker mode
(cluster, above the server core); transports and client know nothing of the server.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import trio_chat
from trio_chat.server import Limits
from trio_chat.transports import ServerOptions

ROOT = Path(trio_chat.__file__).parent
# Where the server meets its transports; reload.py renews the TLS listeners' certificate.
EDGE = {"chat_server.py", "__init__.py", "reload.py"}


def imported_modules(module: Path) -> set[str]:
    """Every module ``module`` imports, ``from a import b`` counted as ``a.b`` too."""
    names = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def modules(package: str) -> list[Path]:
    found = sorted((ROOT / package).glob("*.py"))
    assert found
    return found


def ours(module: Path) -> set[str]:
    return {n for n in imported_modules(module) if n.startswith("trio_chat")}


@pytest.mark.parametrize("module", modules("protocol"), ids=lambda m: m.name)
def test_the_protocol_imports_nothing_of_ours_and_no_trio(module):
    names = imported_modules(module)
    assert all(n.startswith("trio_chat.protocol") for n in ours(module))
    assert not any(n == "trio" or n.startswith("trio.") for n in names)


@pytest.mark.parametrize("module", modules("chat"), ids=lambda m: m.name)
def test_the_chat_imports_only_the_protocol_and_does_no_io(module):
    names = imported_modules(module)
    assert all(n.startswith(("trio_chat.protocol", "trio_chat.chat")) for n in ours(module))
    assert not any(n.split(".")[0] in {"trio", "socket", "sqlite3", "os"} for n in names)


@pytest.mark.parametrize("module", modules("transports"), ids=lambda m: m.name)
def test_transports_import_nothing_from_the_server_the_chat_or_the_client(module):
    assert not any(
        n.startswith(("trio_chat.server", "trio_chat.chat", "trio_chat.client"))
        for n in ours(module)
    )


@pytest.mark.parametrize("module", modules("web"), ids=lambda m: m.name)
def test_the_browser_clients_answers_need_no_io_and_nothing_else_of_ours(module):
    """Transports hold the pages in their options: the pages know nothing above them."""
    names = imported_modules(module)
    assert all(n.startswith("trio_chat.web") for n in ours(module))
    assert not any(n.split(".")[0] in {"trio", "socket", "os"} for n in names)


def test_the_transports_line_limit_agrees_with_the_servers():
    assert ServerOptions().max_line_bytes == Limits().max_line_bytes


@pytest.mark.parametrize(
    "module", [m for m in modules("server") if m.name not in EDGE], ids=lambda m: m.name
)
def test_the_server_core_imports_no_transport(module):
    """Only the server's edge (chat_server.py, reload.py, cli.py) knows of transports."""
    assert not any(n.startswith("trio_chat.transports") for n in ours(module))


def test_importing_the_server_loads_no_transport():
    """The server's edge reads peer addresses; it does not load TLS or WebSocket code."""
    code = (
        "import sys, trio_chat.server; "
        "print(' '.join(m for m in sys.modules if m.startswith(('websockets', 'trio_chat.'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "trio_chat.server" in loaded
    assert not [m for m in loaded if m.startswith("websockets")]
    assert "trio_chat.transports.registry" not in loaded


CLUSTER_SANS_IO = ["entries.py", "replica.py", "snapshot.py"]


@pytest.mark.parametrize("name", CLUSTER_SANS_IO)
def test_the_replicated_chat_does_no_io(name):
    """The log's entries, the replica and snapshots are tested synchronously, like the chat."""
    module = ROOT / "cluster" / name
    names = imported_modules(module)
    allowed = ("trio_chat.protocol", "trio_chat.chat", "trio_chat.cluster")
    assert all(n.startswith(allowed) for n in ours(module))
    assert not any(n.split(".")[0] in {"trio", "coredis", "socket", "os"} for n in names)
    assert not any(
        n.startswith(("trio_chat.cluster.broker", "trio_chat.cluster.keeper")) for n in ours(module)
    )


@pytest.mark.parametrize("module", [*modules("server"), *modules("cluster")], ids=lambda m: m.name)
def test_broker_mode_sits_above_the_server_core_which_knows_nothing_of_it(module):
    if module.parent.name == "server":
        assert not any(n.startswith("trio_chat.cluster") for n in ours(module))
    else:
        assert not any(
            n.startswith(("trio_chat.transports", "trio_chat.client", "trio_chat.cli"))
            for n in ours(module)
        )


def test_importing_the_server_loads_no_redis_client():
    """coredis is an optional extra: a server without --broker never imports it."""
    code = "import sys, trio_chat.cli; print(' '.join(m for m in sys.modules if 'coredis' in m))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.split() == []


def test_importing_the_package_for_a_bot_loads_no_terminal_and_no_transport():
    """``import trio_chat`` gives bots their API; prompt_toolkit is for the terminal client only."""
    code = (
        "import sys, trio_chat; "
        "print(' '.join(m for m in sys.modules if m.startswith(('prompt_toolkit', 'websockets', "
        "'trio_chat.transports.registry', 'trio_chat.client.ui'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.split() == []
