"""What a server keeps in Redis besides the log: its lease, and snapshots.

Keys, all under one prefix: ``log`` (the Stream of entries), ``epoch`` (made
once by the first server: if it changes, Redis lost its data), ``settings``
(the limits every copy of the chat must share, set by the first server),
``cloak`` (the key of members' cloaks, made by the first server, so that
every server cloaks an address alike), ``snapshot``
(a hash: position and state), ``servers`` (the set of server ids) and
``server:ID`` (each server's lease: its position in the log, expiring after
the lease unless renewed).

A server's id is an incarnation: a server whose lease ran out (Redis was
unreachable for longer than the lease) takes a new id, so that the others'
announcing the old one as lost can never touch members that came after.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import coredis

# Keep the newer snapshot, then trim the log below what every live server
# (by its lease, which holds its position) and the snapshot still need.
# KEYS: snapshot hash, log, servers set; ARGV: position, state, key prefix,
# the writer (whose lease may be older than the position it writes).
SNAPSHOT_SCRIPT = """
local function before(a, b)
  local a1, a2 = string.match(a, '(%d+)-(%d+)')
  local b1, b2 = string.match(b, '(%d+)-(%d+)')
  a1, a2, b1, b2 = tonumber(a1), tonumber(a2), tonumber(b1), tonumber(b2)
  return a1 < b1 or (a1 == b1 and a2 < b2)
end
local kept = redis.call('HGET', KEYS[1], 'position')
if kept and not before(kept, ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'position', ARGV[1], 'state', ARGV[2])
local oldest = ARGV[1]
for _, server in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local at = redis.call('GET', ARGV[3] .. 'server:' .. server)
  if server == ARGV[4] then
    at = ARGV[1]
  end
  if not at then
    redis.call('SREM', KEYS[3], server)
  elseif before(at, oldest) then
    oldest = at
  end
end
redis.call('XTRIM', KEYS[2], 'MINID', oldest)
return 1
"""


class EpochChanged(Exception):
    """Redis no longer holds the chat this server was following."""


class SettingsDiffer(Exception):
    """This server's limits are not the chat's: its copy would go its own way."""


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    @property
    def log(self) -> str:
        return f"{self.prefix}log"

    @property
    def epoch(self) -> str:
        return f"{self.prefix}epoch"

    @property
    def settings(self) -> str:
        return f"{self.prefix}settings"

    @property
    def cloak(self) -> str:
        return f"{self.prefix}cloak"

    @property
    def snapshot(self) -> str:
        return f"{self.prefix}snapshot"

    @property
    def servers(self) -> str:
        return f"{self.prefix}servers"

    def lease(self, instance: str) -> str:
        return f"{self.prefix}server:{instance}"


class Keeper:
    def __init__(self, redis: coredis.Redis[Any], keys: Keys, lease: float) -> None:
        self.redis = redis
        self.keys = keys
        self.lease_ms = int(lease * 1000)
        self.instance = secrets.token_hex(4)
        self._epoch: bytes | None = None
        self.cloak_key: bytes | None = None  # once joined
        self._snapshot = redis.register_script(SNAPSHOT_SCRIPT)

    async def join(self, settings: dict[str, object]) -> bytes | None:
        """Take a lease; returns the latest snapshot's state, if any.

        ``settings`` must be the chat's (the first server's). The lease holds
        the log's very start until ``renew`` says where we are, so that no
        one trims what we are about to read.
        """
        redis, keys = self.redis, self.keys
        await redis.set(keys.epoch, secrets.token_hex(8), condition=coredis.PureToken.NX)
        self._epoch = await redis.get(keys.epoch)
        await redis.set(keys.cloak, secrets.token_hex(32), condition=coredis.PureToken.NX)
        self.cloak_key = await redis.get(keys.cloak)
        ours = json.dumps(settings, sort_keys=True)
        await redis.set(keys.settings, ours, condition=coredis.PureToken.NX)
        theirs = await redis.get(keys.settings)
        if theirs is not None and json.loads(theirs) != json.loads(ours):
            raise SettingsDiffer(json.loads(theirs))
        await redis.set(keys.lease(self.instance), b"0-0", px=self.lease_ms)
        await redis.sadd(keys.servers, [self.instance])
        state = await redis.hget(keys.snapshot, "state")
        return state if isinstance(state, bytes) or state is None else state.encode()

    async def renew(self, position: bytes) -> bool:
        """Renew our lease at ``position``; False if it had run out (we are
        a new incarnation now). Raises EpochChanged if Redis lost the chat."""
        redis, keys = self.redis, self.keys
        if await redis.get(keys.epoch) != self._epoch:
            raise EpochChanged
        lease = keys.lease(self.instance)
        if await redis.set(lease, position, px=self.lease_ms, condition=coredis.PureToken.XX):
            return True
        self.instance = secrets.token_hex(4)
        await redis.set(keys.lease(self.instance), position, px=self.lease_ms)
        await redis.sadd(keys.servers, [self.instance])
        return False

    async def gone(self, instances: list[str]) -> list[str]:
        """Those of ``instances`` whose lease has run out."""
        return [i for i in instances if not await self.redis.exists([self.keys.lease(i)])]

    async def write_snapshot(self, position: bytes, state: bytes) -> None:
        """Keep ``state`` (as of ``position``) unless a newer one is kept; trim the log."""
        keys = self.keys
        await self._snapshot(
            keys=[keys.snapshot, keys.log, keys.servers],
            args=[position, state, keys.prefix, self.instance],
        )
