"""Address groups, room kept for registered nicknames, and exempt addresses."""

from __future__ import annotations

import pytest

from trio_chat import Limits
from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.server.addresses import Source, group, source
from trio_chat.testing import JsonClient, TextClient

PASSWORD = "correct horse"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("192.0.2.7", "192.0.2.7/32"),
        ("2001:db8::1", "2001:db8::/64"),
        ("2001:db8::ffff:1234", "2001:db8::/64"),
        ("2001:db8:0:1::1", "2001:db8:0:1::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7/32"),  # IPv4 on a dual-stack socket
        ("fe80::1%eth0", "fe80::/64"),
        ("local", "local"),
        ("unknown", "unknown"),
    ],
)
def test_addresses_are_grouped_by_network(address: str, expected: str) -> None:
    assert group(address) == expected


def test_the_group_sizes_are_configurable() -> None:
    assert group("192.0.2.7", ipv4_prefix=24) == "192.0.2.0/24"
    assert group("2001:db8:1:2::1", ipv6_prefix=48) == "2001:db8:1::/48"
    assert group("::ffff:192.0.2.7", ipv4_prefix=24, ipv6_prefix=48) == "192.0.2.0/24"


def test_exempt_addresses_are_matched_by_network() -> None:
    exempt = ("127.0.0.1", "2001:db8::/32")
    assert source("127.0.0.1", exempt=exempt) == Source("127.0.0.1/32", exempt=True)
    assert source("::ffff:127.0.0.1", exempt=exempt).exempt
    assert source("2001:db8:5::1", exempt=exempt).exempt
    assert not source("127.0.0.2", exempt=exempt).exempt
    assert not source("local", exempt=exempt).exempt


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"ipv4_prefix": 33}, "ipv4-prefix must be at most 32"),
        ({"ipv6_prefix": 129}, "ipv6-prefix must be at most 128"),
        ({"limit_exempt": ("10.0.0.0/33",)}, "limit-exempt '10.0.0.0/33' is not"),
        ({"reserved_for_accounts": 101}, "reserved-for-accounts must be at most 100"),
        ({"hash_workers": 0}, "hash-workers must be at least 1"),
        ({"lease": 0}, "lease must be at least 0.1"),
    ],
)
def test_bad_address_settings_are_refused(limits: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Limits(**limits)  # type: ignore[arg-type]


async def refused(client: TextClient) -> str:
    return (await client.expect("^!")).string


async def test_a_second_address_in_the_same_ipv6_64_counts_against_the_first(start_chat):
    _, listener = await start_chat(max_per_address=1)
    first = await TextClient.connect(listener, "2001:db8::1")
    await first.login("first")
    same = await TextClient.connect(listener, "2001:db8::beef")
    assert await refused(same) == "! too many connections from your address"
    other = await TextClient.connect(listener, "2001:db8:0:1::1")
    await other.login("other")


async def test_exempt_addresses_are_free_of_the_per_address_limit(start_chat):
    _, listener = await start_chat(max_per_address=1, limit_exempt=("127.0.0.0/8",))
    for nick in ("one", "two", "three"):
        await (await TextClient.connect(listener, "127.0.0.1")).login(nick)
    await (await TextClient.connect(listener, "10.0.0.1")).login("four")
    second = await TextClient.connect(listener, "10.0.0.1")
    assert await refused(second) == "! too many connections from your address"


async def test_the_last_slots_are_kept_for_registered_nicknames(start_chat):
    _, listener = await start_chat(max_clients=4, reserved_for_accounts=50)
    owner = await TextClient.connect(listener, "10.0.0.1")
    await owner.login("alice")
    await owner.send_line(f"/register {PASSWORD}")
    await owner.expect("is registered")
    await owner.send_line("/quit")
    await owner.lines_until_closed()
    for n in range(2):  # guests fill the room left for them
        await (await TextClient.connect(listener, f"10.0.1.{n}")).login(f"idle{n}")

    late = await TextClient.connect(listener, "10.0.2.1")
    await late.send_line("guest")
    assert await refused(late) == (
        "! the server is full for guests; registered nicknames may still sign in"
    )
    late_json = await JsonClient.connect(listener, "10.0.2.2")
    await late_json.send(ev.Hello("robot"))
    assert (await late_json.expect(ev.Error)).code == Code.SERVER_FULL
    await late.send_line("alice")
    await late.expect("type its password")
    await late.send_line(PASSWORD)
    await late.expect(r"\* welcome, alice!")
    beyond = await TextClient.connect(listener, "10.0.2.3")
    assert await refused(beyond) == "! the server is full, try again later"
