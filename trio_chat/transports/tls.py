"""TLS over TCP: TLS 1.2 or newer, certificates in PEM files."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import trio

from trio_chat.transports import tcp
from trio_chat.transports.options import ClientOptions, ServerOptions
from trio_chat.transports.urls import ConnectError, ListenURL, URLError

# The schemes whose listeners put TLS under what they carry.
SCHEMES = frozenset({"tls", "wss", "ircs"})


def server_context(url: ListenURL, options: ServerOptions) -> ssl.SSLContext:
    """The context of a TLS listener; kept in ``options.tls_contexts`` for renewals."""
    if not (options.certfile and options.keyfile):
        raise URLError(f"{url} needs a certificate: give --cert and --key (PEM files)")
    try:
        context = certificate_context(options.certfile, options.keyfile)
    except URLError as exc:
        raise URLError(f"{url}: {exc}") from None
    options.tls_contexts.append(context)
    return context


def certificate_context(certfile: str | None, keyfile: str | None) -> ssl.SSLContext:
    """A server's context with the certificate chain and key of these PEM files."""
    if not (certfile and keyfile):
        raise URLError("TLS listeners need a certificate: give --cert and --key (PEM files)")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise URLError(f"cannot load certificate {certfile} with key {keyfile}: {reason}") from None
    return context


def renew(contexts: list[ssl.SSLContext], certfile: str, keyfile: str) -> None:
    """Load a renewed certificate into the contexts of running listeners:
    connections made from now on get it, those made before keep theirs.

    Check the files with ``certificate_context`` first: a load that fails
    here could leave a context with a certificate and the wrong key.
    """
    for context in contexts:
        context.load_cert_chain(certfile, keyfile)


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
