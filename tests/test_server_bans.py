"""Server bans as data: what each kind refuses, and when it expires."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_chat.server.bans import ServerBan, ServerBans, normal_target, parse_expiry

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_an_address_ban_covers_its_network_and_ipv4_seen_through_ipv6():
    bans = ServerBans([ServerBan("address", normal_target("address", "198.51.100.7/24"))])
    assert bans.address("198.51.100.200", NOW) is not None
    assert bans.address("::ffff:198.51.100.9", NOW) is not None
    assert bans.address("198.51.101.1", NOW) is None
    assert bans.address("local", NOW) is None
    assert bans.address("2001:db8::1", NOW) is None


def _seen(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> object:
    """``ip`` as the server counts it: an IPv4-mapped IPv6 address as IPv4."""
    return getattr(ip, "ipv4_mapped", None) or ip


@given(st.ip_addresses(), st.integers(0, 128), st.integers(0), st.ip_addresses())
def test_an_address_is_banned_exactly_when_the_network_holds_it(ip, prefix, offset, other):
    network = ipaddress.ip_network((ip, min(prefix, ip.max_prefixlen)), strict=False)
    bans = ServerBans([ServerBan("address", normal_target("address", str(network)))])
    for address in (network[offset % network.num_addresses], other):
        seen = _seen(address)
        banned = seen.version == network.version and seen in network
        assert (bans.address(str(address), NOW) is not None) == banned


def test_a_nick_ban_refuses_anyone_an_account_ban_only_its_owner():
    bans = ServerBans(
        [ServerBan("nick", normal_target("nick", "Mallory")), ServerBan("account", "alice")]
    )
    assert bans.sign_in("MALLORY", NOW, identified=False) is not None
    assert bans.sign_in("mallory", NOW, identified=True) is not None
    assert bans.sign_in("alice", NOW, identified=True) is not None
    assert bans.sign_in("alice", NOW, identified=False) is None
    assert bans.sign_in("bob", NOW, identified=True) is None


def test_a_ban_ends_at_its_expiry():
    ban = ServerBan("nick", "mallory", NOW + timedelta(hours=2), "spam")
    bans = ServerBans([ban])
    assert bans.sign_in("mallory", NOW + timedelta(hours=1, minutes=59), identified=False) == ban
    assert bans.sign_in("mallory", NOW + timedelta(hours=2), identified=False) is None
    assert ban.describe() == "you are banned from this server until 2026-11-30 14:00 UTC: spam"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW + timedelta(minutes=30)),
        ("12h", NOW + timedelta(hours=12)),
        ("7d", NOW + timedelta(days=7)),
        ("2w", NOW + timedelta(weeks=2)),
        ("2026-12-31T18:00", datetime(2026, 12, 31, 18, 0, tzinfo=UTC)),
        ("2026-12-31T18:00+01:00", datetime(2026, 12, 31, 17, 0, tzinfo=UTC)),
    ],
)
def test_an_expiry_is_a_duration_or_a_time(text, expected):
    assert parse_expiry(text, NOW) == expected


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("address", "example.org", "is not an address or CIDR block"),
        ("nick", " ", "a nick ban needs a nickname"),
        ("host", "x", "a ban is of a nick, an account or an address"),
    ],
)
def test_a_target_that_is_not_one_is_refused(kind, text, message):
    with pytest.raises(ValueError, match=message):
        normal_target(kind, text)


def test_an_expiry_that_is_neither_is_refused():
    with pytest.raises(ValueError, match="neither a duration"):
        parse_expiry("tomorrow", NOW)
