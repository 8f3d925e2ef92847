"""What broker mode relies on coredis for, on Trio, against a real redis-server."""

from __future__ import annotations

import coredis
import pytest
import trio
import trio.testing
from coredis.exceptions import ConnectionError as RedisConnectionError


def connect(url: str) -> coredis.Redis[bytes]:
    return coredis.Redis.from_url(url, decode_responses=False)


async def test_a_client_opened_on_trio_answers_a_ping(redis_server):
    with trio.fail_after(5):
        async with connect(redis_server.url) as redis:
            assert await redis.ping() == b"PONG"


async def test_a_stream_keeps_entries_under_the_ids_given(redis_server):
    with trio.fail_after(5):
        async with connect(redis_server.url) as redis:
            for seq in (1, 2, 5):
                await redis.xadd("s", {"e": f"event {seq}"}, identifier=f"{seq}-0")
            entries = await redis.xrange("s", start="(1-0", end="+")
            assert [(e.identifier, e.field_values[b"e"]) for e in entries] == [
                (b"2-0", b"event 2"),
                (b"5-0", b"event 5"),
            ]
            with pytest.raises(coredis.exceptions.ResponseError, match="equal or smaller"):
                await redis.xadd("s", {"e": "again"}, identifier="5-0")


async def test_a_blocking_read_wakes_when_another_task_adds(redis_server):
    received = []
    with trio.fail_after(5):
        async with connect(redis_server.url) as redis:
            # From an ID rather than "$": the read may reach Redis after the add.
            start = await redis.xadd("s", {"e": "old"})

            async def read() -> None:
                streams = await redis.xread({"s": start}, block=10_000)
                assert streams is not None
                received.extend(e.field_values[b"e"] for e in streams[b"s"])

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                await trio.testing.wait_all_tasks_blocked()
                await redis.xadd("s", {"e": "news"})
    assert received == [b"news"]


async def test_a_cancelled_blocking_read_returns_at_once_and_the_client_goes_on(redis_server):
    with trio.fail_after(5):  # far below the read's own minute
        async with connect(redis_server.url) as redis:

            async def read() -> None:
                await redis.xread({"s": "$"}, block=60_000)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                await trio.testing.wait_all_tasks_blocked()
                nursery.cancel_scope.cancel()
            await redis.xadd("s", {"e": "after"})
            assert len(await redis.xrange("s")) == 1


async def test_a_transaction_runs_its_commands_in_one_go(redis_server):
    with trio.fail_after(5):
        async with connect(redis_server.url) as redis:
            async with redis.pipeline(transaction=True) as pipe:
                added = pipe.xadd("s", {"e": "one"}, identifier="1-0")
                length = pipe.xlen("s")
            assert (await added, await length) == (b"1-0", 1)


async def test_a_registered_script_runs_with_keys_and_args(redis_server):
    with trio.fail_after(5):
        async with connect(redis_server.url) as redis:
            script = redis.register_script(
                "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCRBY', KEYS[2], ARGV[2])"
            )
            assert await script(keys=["name", "count"], args=["x", 3]) == 3
            assert await script(keys=["name", "count"], args=["y", 4]) == 7
            assert await redis.get("name") == b"y"


async def test_a_command_while_redis_is_down_raises_connection_error(redis_server):
    with trio.fail_after(10):
        async with connect(redis_server.url) as redis:
            script = redis.register_script("return redis.call('INCR', KEYS[1])")
            assert await script(keys=["n"]) == 1
            await redis_server.stop()
            with pytest.raises(RedisConnectionError):
                await redis.ping()
            await redis_server.start()
            # the same client reconnects by itself; the restarted server has
            # forgotten the script, which the client loads again
            assert await redis.ping() == b"PONG"
            assert await script(keys=["n"]) == 1


async def test_a_blocking_read_raises_connection_error_when_redis_goes_away(redis_server):
    with trio.fail_after(10):
        async with connect(redis_server.url) as redis:

            async def stop_while_blocked() -> None:
                await trio.testing.wait_all_tasks_blocked()
                await redis_server.kill()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(stop_while_blocked)
                with pytest.raises(RedisConnectionError):
                    await redis.xread({"s": "$"}, block=60_000)
            await redis_server.start()
            assert await redis.ping() == b"PONG"


async def test_with_appendonly_entries_survive_a_restart(persistent_redis):
    with trio.fail_after(10):
        async with connect(persistent_redis.url) as redis:
            await redis.xadd("s", {"e": "kept"}, identifier="7-0")
            await persistent_redis.stop()
            await persistent_redis.start()
            entries = await redis.xrange("s")
            assert [(e.identifier, e.field_values[b"e"]) for e in entries] == [(b"7-0", b"kept")]
