"""Reloading the settings while the server runs (SIGHUP).

A reload reads the settings again (the file under the same flags), checks
them whole, and only then applies what can change while clients are
connected; any other changed key is logged as waiting for a restart. A
reload that fails a check changes nothing.

What to apply is a registry: each part of the server that can take new
settings joins it with ``on_reload``, and may first check them.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trio_chat.protocol.rules import fold
from trio_chat.server.config import Limits
from trio_chat.server.config_file import ConfigError, limits_of, masked, toml_value
from trio_chat.transports import ListenURL, URLError, tls

if TYPE_CHECKING:
    from trio_chat.server.chat_server import ChatServer
    from trio_chat.transports import ServerOptions

log = logging.getLogger("trio_chat.server")

# The limits that need a restart: what they size is made once, at start.
STARTUP_LIMITS = frozenset(
    {"hash_workers", "history_keep", "history_rooms", "private_max", "lease"}
)
# Keys, besides the other limits, that a running server takes.
LIVE = frozenset(
    {field.name for field in dataclasses.fields(Limits)} - STARTUP_LIMITS
    | {"cert", "key", "log_level"}
)
# In broker mode every server applies the chat's shared log, and those of the
# chat's limits that decide its state must be the same on all (a server
# refuses to start otherwise): so the chat's limits wait for a restart there,
# the history sizes with them, which are the chat's too.
CHAT_LIMITS = frozenset(
    {"max_rooms", "history_replay", "history_page", "operator", "max_bans", "max_owned_rooms"}
)


@dataclass(frozen=True)
class Reload:
    """One reload: the settings now in force, and what it changed."""

    settings: argparse.Namespace
    """As before for a key that waits for a restart, as read for any other."""
    limits: Limits
    changed: dict[str, tuple[object, object]]
    """Keys applied now: their values before and after."""
    waiting: dict[str, tuple[object, object]]
    """Keys changed in the file that wait for a restart."""


# Raises ConfigError to refuse a reload; called before anything is applied.
Check = Callable[[Reload], None]
Apply = Callable[[Reload], None]


class Reloader:
    """Reads the settings with ``read`` on each ``reload()`` and has every
    part joined with ``on_reload`` take them."""

    def __init__(
        self, read: Callable[[], argparse.Namespace], settings: argparse.Namespace
    ) -> None:
        """``settings``: those the server started with."""
        self._read = read
        self.settings = settings
        self._checks: list[Check] = []
        self._applies: list[Apply] = []

    def on_reload(self, apply: Apply, *, check: Check | None = None) -> None:
        """Call ``apply`` on each reload, once every ``check`` has passed."""
        if check is not None:
            self._checks.append(check)
        self._applies.append(apply)

    def reload(self) -> Reload | None:
        """Read and apply the settings; None when they are refused (and logged)."""
        try:
            reload = self._compare(self._read())
            for check in self._checks:
                check(reload)
        except ConfigError as exc:
            log.error("reload refused, nothing changed: %s", exc)
            return None
        for apply in self._applies:
            apply(reload)
        self.settings = reload.settings
        changes = ", ".join(_change(key, *values) for key, values in reload.changed.items())
        log.info("reloaded: %s", changes or "no setting changed")
        if reload.waiting:
            keys = ", ".join(reload.waiting)
            log.warning("changed, but only a restart applies them: %s", keys)
        return reload

    def _compare(self, read: argparse.Namespace) -> Reload:
        before = self.settings
        live = LIVE - CHAT_LIMITS if before.broker else LIVE
        settings = copy.copy(read)
        changed, waiting = {}, {}
        for key, value in vars(read).items():
            old = getattr(before, key, None)
            if value == old or key == "argv":
                continue
            if key in live:
                changed[key] = (old, value)
            else:
                waiting[key] = (old, value)
                setattr(settings, key, old)
        return Reload(settings, limits_of(settings), changed, waiting)


def _change(key: str, before: object, after: object) -> str:
    return f"{key} {_shown(before)} -> {_shown(after)}"


def _shown(value: object) -> str:
    return "(not set)" if value is None else toml_value(masked(value))


def join_server(reloader: Reloader, server: ChatServer, options: ServerOptions) -> None:
    """Have ``server`` and its TLS listeners (opened with ``options``) take
    each reload: the limits at once, a certificate for new connections."""
    reloader.on_reload(lambda reload: apply_limits(server, reload.limits))
    reloader.on_reload(_log_level)
    if options.tls_contexts:

        def apply(reload: Reload) -> None:
            try:
                tls.renew(options.tls_contexts, reload.settings.cert, reload.settings.key)
            except OSError as exc:  # ssl.SSLError too: the files changed since the check
                log.error(
                    "TLS certificate not renewed (%s): new TLS connections may fail until a"
                    " reload with good files",
                    exc,
                )
                return
            log.info("TLS certificate %s loaded for new connections", reload.settings.cert)

        reloader.on_reload(apply, check=lambda reload: check_certificate(reload.settings))


def check_certificate(
    settings: argparse.Namespace, urls: Sequence[ListenURL] | None = None
) -> None:
    """Raise ConfigError unless the certificate and key load, when given or
    needed by one of ``urls`` (None: the TLS listeners are open)."""
    needed = urls is None or any(url.scheme in tls.SCHEMES for url in urls)
    if needed or settings.cert or settings.key:
        try:
            tls.certificate_context(settings.cert, settings.key)
        except URLError as exc:
            raise ConfigError(str(exc)) from None


def apply_limits(server: ChatServer, limits: Limits) -> None:
    """Give the running ``server`` new limits: new connections, and each
    connected client from its next line, are held to them."""
    server.limits = limits
    chat = server.chat
    chat.max_rooms = limits.max_rooms
    chat.history_replay = limits.history_replay
    chat.history_page = limits.history_page
    chat.operators = frozenset(fold(nick) for nick in limits.operator)
    chat.max_bans = limits.max_bans
    chat.max_owned_rooms = limits.max_owned_rooms
    server.pump.backlog = limits.outbox_size
    server.pump.history_bytes = limits.outbox_bytes // 4
    for session in server.sessions:
        session.reconfigure(limits)


def _log_level(reload: Reload) -> None:
    logging.getLogger().setLevel(reload.settings.log_level.upper())
