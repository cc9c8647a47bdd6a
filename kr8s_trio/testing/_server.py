"""Serve the fake API server's ASGI app over TLS, with client-certificate identity.

hypercorn speaks HTTP/1.1, HTTP/2 and websockets for us, but its own serving loop
(``hypercorn.trio.serve``) terminates TLS inside ``trio.SSLListener`` and never exposes the peer
certificate to the app: kube-apiserver's client-certificate authentication (CN is the user, each
O a group) would be impossible. So this module owns the listener loop and does the TLS
handshake itself, reads the CA-verified peer certificate, and only then hands the established
stream to hypercorn's per-connection ``TCPServer``. Everything the app needs to know about the
connection travels in a :class:`ConnectionHandle` placed in ``scope["state"]`` (hypercorn copies
the per-connection state dict into every request scope of that connection).

The handle also offers :meth:`ConnectionHandle.abort`, a TCP reset on demand, which fault
injection uses to simulate a dropped connection mid-request or mid-watch.

No lifespan events are sent to the app: the fake cluster sets itself up before serving.
"""

from __future__ import annotations

import contextlib
import logging
import math
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import attrs
import trio
from hypercorn.config import Config
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import AppWrapper, ASGIFramework
from hypercorn.utils import wrap_app

__all__ = [
    "CONNECTION_STATE_KEY",
    "ASGIApp",
    "ConnectionHandle",
    "Message",
    "PeerCertificate",
    "Receive",
    "Scope",
    "Send",
    "connection_from_scope",
    "serve_asgi",
]

logger = logging.getLogger("kr8s_trio.testing.server")

#: Key of the :class:`ConnectionHandle` in ``scope["state"]``.
CONNECTION_STATE_KEY = "kr8s_trio.connection"

# The ASGI shapes, in the de-facto convention (Starlette's): loose mappings.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_DEFAULT_HANDSHAKE_TIMEOUT = 10.0
_ALERT_TIMEOUT = 1.0
# Watches and informers keep idle connections for minutes; real apiservers do not cut them.
_KEEP_ALIVE_TIMEOUT = 3600
# exec/attach and port-forward frames; matches kube-apiserver's generous websocket limits.
_WEBSOCKET_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
# Many watchers multiplexed on one HTTP/2 connection (kube-apiserver allows 1000 by default).
_H2_MAX_CONCURRENT_STREAMS = 1000
# struct linger {int l_onoff; int l_linger;}: on, 0 seconds => close() sends RST.
_LINGER_RESET = struct.pack("ii", 1, 0)


@attrs.frozen
class PeerCertificate:
    """The identity in a client certificate that this server's CA verified.

    Attributes:
        username: The subject's Common Name.
        groups: The subject's Organization attributes, in certificate order.
    """

    username: str
    groups: tuple[str, ...]


class ConnectionHandle:
    """One accepted TCP connection, as seen by the ASGI app through ``scope["state"]``.

    Attributes:
        peer: The verified client-certificate identity, or ``None`` when the client sent no
            certificate (token or anonymous clients).
        client_address: The client's ``(host, port)``.
    """

    __slots__ = ("_aborted", "_cancel_scope", "_socket", "client_address", "peer")

    def __init__(
        self,
        *,
        peer: PeerCertificate | None,
        client_address: tuple[str, int],
        sock: trio.socket.SocketType,
        cancel_scope: trio.CancelScope,
    ) -> None:
        self.peer = peer
        self.client_address = client_address
        self._socket = sock
        self._cancel_scope = cancel_scope
        self._aborted = False

    def __repr__(self) -> str:
        host, port = self.client_address
        return f"<ConnectionHandle {host}:{port} peer={self.peer!r} aborted={self._aborted}>"

    @property
    def aborted(self) -> bool:
        """Whether :meth:`abort` was called."""
        return self._aborted

    def abort(self) -> None:
        """Reset the TCP connection now, as a crashed server or a middlebox would.

        The socket is closed with ``SO_LINGER`` 0, so the kernel sends RST instead of FIN and
        discards unsent data; the client sees "connection reset" (or an early EOF if it was
        not reading). Every request being served on this connection, including the caller's
        own, is cancelled at its next checkpoint. Calling it again does nothing.
        """
        if self._aborted:
            return
        self._aborted = True
        _reset_socket(self._socket)
        self._cancel_scope.cancel()


def connection_from_scope(scope: Scope) -> ConnectionHandle | None:
    """Return the :class:`ConnectionHandle` of an ASGI scope served by :func:`serve_asgi`.

    Args:
        scope: An ``http`` or ``websocket`` scope.

    Returns:
        The handle, or ``None`` for scopes that did not come through :func:`serve_asgi`
        (for example an app driven in-process by ``httpx.ASGITransport``).
    """
    state = scope.get("state")
    if not isinstance(state, MutableMapping):
        return None
    handle = state.get(CONNECTION_STATE_KEY)
    return handle if isinstance(handle, ConnectionHandle) else None


async def serve_asgi(
    app: ASGIApp,
    ssl_context: ssl.SSLContext,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    handshake_timeout: float = _DEFAULT_HANDSHAKE_TIMEOUT,
    task_status: trio.TaskStatus[tuple[str, int]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` over TLS until cancelled (HTTP/1.1 and HTTP/2 by ALPN, websockets).

    Start it with ``host, port = await nursery.start(serve_asgi, app, ctx)``. Each connection
    is handshaken here (a failed or slow handshake just drops that connection), its verified
    client certificate becomes :attr:`ConnectionHandle.peer`, and hypercorn serves the
    requests with the handle in ``scope["state"][CONNECTION_STATE_KEY]``.

    Args:
        app: The ASGI application (``http`` and ``websocket`` scopes; no lifespan).
        ssl_context: A server-side context, e.g. ``ClusterPKI.server_ssl_context()``; its ALPN
            setting decides whether HTTP/2 is offered.
        host: The address to bind. Use a literal IP: with a name that resolves to several
            addresses and ``port=0`` only the first address is served.
        port: The port to bind; 0 picks a free one.
        handshake_timeout: Seconds a client gets to complete the TLS handshake.
        task_status: Receives ``(host, bound_port)`` once the server accepts connections.

    Cancellation:
        Cancelling the task stops accepting, closes the listeners, cancels every request
        handler and closes every connection's socket at once (no graceful drain: clients see
        the connection close). It returns only when all of its tasks have exited.
    """
    config = _make_config()
    wrapped_app = wrap_app(cast(ASGIFramework, app), config.wsgi_max_body_size, "asgi")
    context = WorkerContext(None)
    listeners = await trio.open_tcp_listeners(port, host=host)
    if port == 0 and len(listeners) > 1:
        # Each address got its own ephemeral port; a single (host, port) cannot name them all.
        for extra in listeners[1:]:
            await extra.aclose()
        del listeners[1:]
    bound_port = int(listeners[0].socket.getsockname()[1])
    open_sockets: set[trio.socket.SocketType] = set()

    async def handle_connection(stream: trio.SocketStream) -> None:
        open_sockets.add(stream.socket)
        try:
            await _serve_connection(
                stream, ssl_context, handshake_timeout, config, context, wrapped_app
            )
        finally:
            open_sockets.discard(stream.socket)
            stream.socket.close()

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.serve_listeners, handle_connection, listeners)
            task_status.started((host, bound_port))
            try:
                await trio.sleep_forever()
            finally:
                # hypercorn shields its socket writes; a client that stopped reading would
                # keep such a write (and so this nursery) alive forever. Closing the sockets
                # wakes those writes with ClosedResourceError.
                for sock in list(open_sockets):
                    sock.close()
    finally:
        for listener in listeners:
            listener.socket.close()


async def _serve_connection(
    stream: trio.SocketStream,
    ssl_context: ssl.SSLContext,
    handshake_timeout: float,
    config: Config,
    context: WorkerContext,
    app: AppWrapper,
) -> None:
    try:
        client_address = _address(stream.socket.getpeername())
    except OSError:
        return  # the client is gone already (ENOTCONN)
    ssl_stream = trio.SSLStream(stream, ssl_context, server_side=True, https_compatible=True)
    try:
        with trio.fail_after(handshake_timeout):
            await ssl_stream.do_handshake()
    except trio.TooSlowError:
        logger.debug("TLS handshake from %s:%s timed out", *client_address)
        return
    except trio.BrokenResourceError as exc:
        # The cause is the ssl.SSLError (unknown CA, protocol mismatch, ...): no secrets in it.
        logger.debug("TLS handshake from %s:%s failed: %r", *client_address, exc.__cause__)
        await _send_pending_alert(ssl_stream, stream)
        return
    peer = _peer_identity(ssl_stream.getpeercert())
    with trio.CancelScope() as cancel_scope:
        handle = ConnectionHandle(
            peer=peer, client_address=client_address, sock=stream.socket, cancel_scope=cancel_scope
        )
        server = TCPServer(app, config, context, {CONNECTION_STATE_KEY: handle}, ssl_stream)
        await server.run()


async def _send_pending_alert(
    ssl_stream: trio.SSLStream[trio.SocketStream], stream: trio.SocketStream
) -> None:
    # On a failed handshake trio drops the TLS alert OpenSSL queued (e.g. "unknown CA"), so the
    # client would only see the connection close. kube-apiserver sends the alert, and it is what
    # tells a user their client certificate is wrong, so send it ourselves, best effort. This
    # reads trio's outgoing memory BIO, a private attribute: without it we just close.
    outgoing = getattr(ssl_stream, "_outgoing", None)
    if not isinstance(outgoing, ssl.MemoryBIO):
        return
    alert = outgoing.read()
    if not alert:
        return
    with trio.move_on_after(_ALERT_TIMEOUT), contextlib.suppress(trio.BrokenResourceError):
        await stream.send_all(alert)


def _make_config() -> Config:
    config = Config()
    config.accesslog = None
    # A Logger instance is used as is (no handler attached), so errors reach pytest's capture
    # or the application's logging setup instead of being printed to stderr.
    config.errorlog = logger
    config.keep_alive_timeout = _KEEP_ALIVE_TIMEOUT
    config.websocket_max_message_size = _WEBSOCKET_MAX_MESSAGE_SIZE
    config.h2_max_concurrent_streams = _H2_MAX_CONCURRENT_STREAMS
    config.include_server_header = False
    config.read_timeout = None
    config.ssl_handshake_timeout = math.inf
    return config


def _peer_identity(cert: Any) -> PeerCertificate | None:
    # ssl only returns a non-empty dict for a certificate it verified against our CA.
    if not isinstance(cert, dict):
        return None
    username = ""
    groups: list[str] = []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                username = value  # like Go's pkix.Name, the last CN wins
            elif key == "organizationName":
                groups.append(value)
    if not username:
        return None  # kube-apiserver does not authenticate certificates without a CN
    return PeerCertificate(username=username, groups=tuple(groups))


def _address(sockaddr: Any) -> tuple[str, int]:
    if isinstance(sockaddr, tuple) and len(sockaddr) >= 2:
        return str(sockaddr[0]), int(sockaddr[1])
    return str(sockaddr), 0


def _reset_socket(sock: trio.socket.SocketType) -> None:
    if sock.fileno() == -1:
        return
    # If the peer already broke the connection, a plain close is all that is left to do.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    sock.close()
