"""A server's parts in broker mode: its Front, store and accounts, on one Redis."""

from __future__ import annotations

from typing import NamedTuple

from trio_chat.cluster.broker import Broker, connect
from trio_chat.cluster.redis_store import RedisStore
from trio_chat.protocol.rules import fold
from trio_chat.server.accounts import Accounts
from trio_chat.server.config import Limits


class Cluster(NamedTuple):
    broker: Broker  # ChatServer(..., front=broker.front)
    store: RedisStore
    accounts: Accounts


def assemble(
    url: str, limits: Limits, *, history_max: int = 100_000, prefix: str = "trio-chat:"
) -> Cluster:
    """The parts of one server of the chat whose Redis is at ``url``;
    ``history_max``: events kept per room (0: no cap)."""
    broker = Broker(
        connect(url),
        prefix=prefix,
        lease=limits.lease,
        rooms=limits.history_rooms,
        max_rooms=limits.max_rooms,
        moderation={
            "max_bans": limits.max_bans,
            "max_owned_rooms": limits.max_owned_rooms,
            "operator": sorted(fold(nick) for nick in limits.operator),
        },
    )
    accounts = broker.accounts = Accounts(save=broker.save, hashing=limits.hash_workers)
    store = RedisStore(
        broker.redis,
        prefix=prefix,
        keep=history_max,
        private_max=limits.private_max,
        last_seq=broker.last_seq,
        forgotten=broker.forgotten,
    )
    return Cluster(broker, store, accounts)
