"""Certificate rotation: SIGHUP to a running server over real TLS on 127.0.0.1."""

from __future__ import annotations

import signal
import ssl

import trio
import trustme
from test_cli import kill, read_log_until, start_server

from trio_chat.testing import TextClient


def issue(ca: trustme.CA, directory) -> bytes:
    """Write a certificate for 127.0.0.1 from ``ca`` where the server reads it; its DER form."""
    issued = ca.issue_cert("127.0.0.1")
    issued.private_key_and_cert_chain_pem.write_to_path(str(directory / "cert.pem"))
    issued.private_key_pem.write_to_path(str(directory / "key.pem"))
    return ssl.PEM_cert_to_DER_cert(issued.cert_chain_pems[0].bytes().decode())


async def connect(port: int, trusted: ssl.SSLContext) -> tuple[TextClient, bytes]:
    """A client over TLS, and the certificate the server showed it."""
    stream = await trio.open_ssl_over_tcp_stream("127.0.0.1", port, ssl_context=trusted)
    await stream.do_handshake()
    shown = stream.getpeercert(binary_form=True)
    assert shown is not None
    return TextClient(stream), shown


async def test_a_renewed_certificate_serves_new_connections_after_sighup(tmp_path):
    old_ca, new_ca = trustme.CA(), trustme.CA()
    trusted = ssl.create_default_context()
    old_ca.configure_trust(trusted)
    new_ca.configure_trust(trusted)
    old = issue(old_ca, tmp_path)
    config = tmp_path / "server.toml"
    config.write_text(f'cert = "{tmp_path}/cert.pem"\nkey = "{tmp_path}/key.pem"\nmax_rooms = 20\n')
    # start_server listens on tcp:// first, then on what the flags add
    opened: list[trio.abc.Stream] = []
    process, _, log = await start_server("--config", str(config), "--listen", "tls://127.0.0.1:0")
    try:
        with trio.fail_after(30):
            found = await read_log_until(process, log, r"listening on tls://127\.0\.0\.1:(\d+)")
            port = int(found[1])
            alice, shown = await connect(port, trusted)
            opened.append(alice.stream)
            assert shown == old
            await alice.login("alice")

            new = issue(new_ca, tmp_path)
            config.write_text(config.read_text().replace("max_rooms = 20", "max_rooms = 5"))
            process.send_signal(signal.SIGHUP)
            await read_log_until(process, log, r"TLS certificate .*cert\.pem loaded")
            await read_log_until(process, log, r"reloaded: max_rooms 20 -> 5$")
            bob, shown = await connect(port, trusted)
            opened.append(bob.stream)
            assert shown == new
            await bob.login("bob")
            await alice.send_line("still here")  # the connection made before goes on
            await bob.expect(r"alice: still here$")

            mismatched = old_ca.issue_cert("127.0.0.1").private_key_pem
            mismatched.write_to_path(str(tmp_path / "key.pem"))
            process.send_signal(signal.SIGHUP)
            await read_log_until(
                process, log, r"ERROR reload refused, nothing changed: .*cert\.pem"
            )
            carol, shown = await connect(port, trusted)
            opened.append(carol.stream)
            assert shown == new
    finally:
        for stream in opened:
            await trio.aclose_forcefully(stream)
        await kill(process)
