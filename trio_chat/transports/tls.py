"""TLS over TCP: TLS 1.2 or newer, certificates in PEM files."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import trio

from trio_chat.transports import tcp
from trio_chat.transports.options import ClientOptions, ServerOptions
from trio_chat.transports.urls import ConnectError, ListenURL, URLError


def server_context(url: ListenURL, options: ServerOptions) -> ssl.SSLContext:
    if not (options.certfile and options.keyfile):
        raise URLError(f"{url} needs a certificate: give --cert and --key (PEM files)")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(options.certfile, options.keyfile)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise URLError(
            f"{url}: cannot load certificate {options.certfile}"
            f" with key {options.keyfile}: {reason}"
        ) from None
    return context


def client_context(options: ClientOptions) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=options.cafile)
    except (OSError, ssl.SSLError) as exc:
        message = f"cannot load CA certificates from {options.cafile}: {exc}"
        raise ConnectError(message, lasting=True) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def listener_wrapper(
    url: ListenURL, options: ServerOptions
) -> Callable[[trio.abc.Listener[Any]], trio.SSLListener[Any]]:
    """What puts TLS over a listener's connections; a bad certificate raises now."""
    context = server_context(url, options)
    return lambda inner: trio.SSLListener(inner, context)


async def open_listeners(url: ListenURL, options: ServerOptions) -> list[trio.SSLListener[Any]]:
    wrap = listener_wrapper(url, options)  # before any socket is opened
    return [wrap(listener) for listener in await tcp.open_socket_listeners(url, options)]


async def wrap_client(
    stream: trio.abc.Stream, url: ListenURL, options: ClientOptions
) -> trio.SSLStream[trio.abc.Stream]:
    """``stream`` with a finished TLS handshake, the server's certificate checked."""
    tls = trio.SSLStream(stream, client_context(options), server_hostname=url.host)
    try:
        await tls.do_handshake()
    except trio.BrokenResourceError as exc:
        await trio.aclose_forcefully(stream)
        cause = exc.__cause__
        if isinstance(cause, ssl.SSLCertVerificationError):
            hint = "" if options.cafile else " (use --cafile to trust a private CA)"
            raise ConnectError(
                f"{url}: the server's certificate is not trusted: {cause.verify_message}{hint}",
                lasting=True,
            ) from None
        raise ConnectError(f"{url}: TLS handshake failed: {cause or exc}") from None
    return tls


async def open_stream(url: ListenURL, options: ClientOptions) -> trio.SSLStream[trio.abc.Stream]:
    return await wrap_client(await tcp.open_stream(url, options), url, options)
