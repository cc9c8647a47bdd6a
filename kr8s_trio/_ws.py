"""WebSocket on the `Api`'s own HTTP machinery: the only module that knows how.

exec, attach and port-forward upgrade an ordinary ``GET`` to a WebSocket. The request is built
and sent by httpx with the client's configuration (TLS context, authentication flow with token
renewal, proxy, impersonation headers, User-Agent), then the upgraded connection that httpcore
hands over after ``101 Switching Protocols`` (``response.extensions["network_stream"]``) carries
the WebSocket, which wsproto frames (sans-IO) and trio drives.

An Upgrade cannot travel over HTTP/2, and the `Api`'s client negotiates HTTP/2 by ALPN where the
server offers it. So upgrades go through a second client of the same `Api`, built lazily by
`build_http_client` from the same config and auth flow with ``http2=False``, owned by the `Api`
and closed with it (``Api._upgrade_http``). An upgraded connection is never returned to the pool:
it is closed when the WebSocket is.

A refused upgrade (a Status body from kube-apiserver, or the kubelet's plain text) raises the
typed `APIError` of its status, as `Api.call_api` does.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import httpcore
import httpx
import trio
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError as WSLocalProtocolError, RemoteProtocolError

from kr8s_trio._connections import close_orphaned_connections
from kr8s_trio._core._exceptions import (
    ConnectionClosedError,
    Kr8sError,
    RemoteProtocolError as KRemoteProtocolError,
)
from kr8s_trio._core._requests import api_path
from kr8s_trio._transport import build_http_client, send, without_read_timeout

if TYPE_CHECKING:
    from kr8s_trio._api import Api

__all__ = ["ConnectionClosed", "WebSocket", "open_websocket"]

Params: TypeAlias = Mapping[str, Any] | Sequence[tuple[str, Any]] | None

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_READ_SIZE = 65536
#: how long a close handshake waits for the peer's answer
CLOSE_TIMEOUT = 5.0
#: the upgrade pool's size (upgraded connections hold a slot until the WebSocket closes)
UPGRADE_POOL_SIZE = 1000


#: the name this module and its users know it by
ConnectionClosed = ConnectionClosedError


def _accept_token(key: bytes) -> str:
    return base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode("ascii")


class WebSocket:
    """A client WebSocket on an upgraded connection (made by `open_websocket`).

    Send and receive may be called from two tasks at once; two concurrent receivers (or
    senders) take turns.

    Attributes:
        subprotocol: the subprotocol the server chose (None: none).
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream, subprotocol: str | None) -> None:
        self.subprotocol = subprotocol
        self._stream = stream
        self._ws = Connection(ConnectionType.CLIENT)
        self._send_lock = trio.StrictFIFOLock()
        self._receive_lock = trio.StrictFIFOLock()
        self._pending: list[bytes | str] = []
        self._partial: list[bytes | str] = []
        self._closed: ConnectionClosed | None = None
        self._broken = False

    def __repr__(self) -> str:
        state = f"closed {self._closed.code}" if self._closed else "open"
        return f"<WebSocket subprotocol={self.subprotocol!r} {state}>"

    @property
    def closed(self) -> ConnectionClosed | None:
        """How the WebSocket closed (None while it is open)."""
        return self._closed

    async def _write(self, data: bytes) -> None:
        if self._broken:
            raise ConnectionClosed(1006, "the connection is broken")
        async with self._send_lock:
            try:
                await self._stream.write(data)
            except BaseException as exc:  # a partial frame may have gone out: unusable now
                self._broken = True
                if isinstance(exc, httpcore.NetworkError | OSError | trio.BrokenResourceError):
                    self._closed = self._closed or ConnectionClosed(1006, str(exc))
                    raise ConnectionClosed(1006, str(exc)) from exc
                raise

    async def send(self, message: bytes | str) -> None:
        """Send one message: binary for bytes, text for str.

        Raises:
            ConnectionClosed: the WebSocket is closed (or closing).

        Cancellation:
            The message may have been sent in part; the WebSocket is then unusable (further
            sends raise `ConnectionClosed`).
        """
        if self._closed is not None or self._ws.state is not ConnectionState.OPEN:
            closed = self._closed or ConnectionClosed(1000, "closing")
            raise ConnectionClosed(closed.code, closed.reason)
        event = (
            TextMessage(data=message) if isinstance(message, str) else BytesMessage(data=message)
        )
        await self._write(self._ws.send(event))

    async def receive(self) -> bytes | str:
        """The next message: bytes for binary, str for text. Pings are answered meanwhile.

        Raises:
            ConnectionClosed: the peer closed the WebSocket (after every message it sent
                before was received), broke the protocol (code 1002), or the connection
                dropped (code 1006).
            RemoteProtocolError: the peer broke the protocol in a way wsproto raises for.

        Cancellation:
            Safe: nothing is lost (a message being read stays buffered for the next call).
        """
        async with self._receive_lock:
            while not self._pending:
                if self._closed is not None:
                    raise ConnectionClosed(self._closed.code, self._closed.reason)
                await self._read_some()
            return self._pending.pop(0)

    async def _read_some(self) -> None:
        try:
            data = await self._stream.read(_READ_SIZE)
        except (httpcore.NetworkError, OSError, trio.BrokenResourceError) as exc:
            self._closed = ConnectionClosed(1006, str(exc) or type(exc).__name__)
            return
        try:
            self._ws.receive_data(data or None)
            events = list(self._ws.events())
        except RemoteProtocolError as exc:
            self._closed = ConnectionClosed(1002, str(exc))
            raise KRemoteProtocolError(f"websocket protocol error: {exc}") from exc
        for event in events:
            if isinstance(event, Message):
                self._partial.append(event.data)
                if event.message_finished:
                    if isinstance(event, TextMessage):
                        self._pending.append("".join(str(p) for p in self._partial))
                    else:
                        self._pending.append(b"".join(bytes(p) for p in self._partial))  # type: ignore[arg-type]
                    self._partial.clear()
            elif isinstance(event, Ping):
                with contextlib.suppress(ConnectionClosed, WSLocalProtocolError):
                    await self._write(self._ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                state = self._ws.state
                # REMOTE_CLOSING: the peer's close, to answer; OPEN: wsproto found a protocol
                # error (1002) and leaves telling the peer to us; nothing sensible follows
                if state in (ConnectionState.REMOTE_CLOSING, ConnectionState.OPEN):
                    reply = (
                        event.response()
                        if state is ConnectionState.REMOTE_CLOSING
                        else CloseConnection(code=event.code, reason=event.reason)
                    )
                    with contextlib.suppress(ConnectionClosed, WSLocalProtocolError):
                        await self._write(self._ws.send(reply))
                    if state is ConnectionState.OPEN:
                        self._broken = True
                self._closed = self._closed or ConnectionClosed(event.code, event.reason or "")
        if not data and self._closed is None:
            self._closed = ConnectionClosed(1006, "the connection closed without a close frame")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the WebSocket: send a close frame, then wait (at most `CLOSE_TIMEOUT`) for the
        peer's; messages still arriving meanwhile are discarded. Idempotent.

        Cancellation:
            The close handshake is cut short; the connection is closed anyway when the
            `open_websocket` block exits.
        """
        if self._ws.state is ConnectionState.OPEN and not self._broken:
            with contextlib.suppress(ConnectionClosed):
                await self._write(self._ws.send(CloseConnection(code=code, reason=reason)))
        if self._closed is None:
            self._closed = ConnectionClosed(code, reason)
        with trio.move_on_after(CLOSE_TIMEOUT), contextlib.suppress(Kr8sError):
            async with self._receive_lock:
                while self._ws.state is not ConnectionState.CLOSED and not self._broken:
                    before = len(self._pending)
                    await self._read_some()
                    del self._pending[before:]
                    if self._closed.code == 1006:
                        break
        self._pending.clear()


async def _upgrade_client(api: Api) -> httpx.AsyncClient:
    """The `Api`'s HTTP/1.1 client for upgrades (built on first use, closed with the `Api`)."""
    await api._ensure_client()  # loads the config and auth flow; raises once closed
    if api._upgrade_http is None:
        assert api._config is not None
        api._upgrade_http = build_http_client(
            api._config,
            api._auth,
            timeout=api._timeout,
            max_connections=UPGRADE_POOL_SIZE,
            http2=False,
        )
    return api._upgrade_http


def _query(params: Params) -> list[tuple[str, Any]]:
    if params is None:
        return []
    items: Iterable[tuple[str, Any]] = params.items() if isinstance(params, Mapping) else params
    return [(k, v) for k, v in items]


@contextlib.asynccontextmanager
async def open_websocket(
    api: Api,
    *,
    version: str = "v1",
    base: str = "",
    namespace: str | None = None,
    url: str,
    params: Params = None,
    subprotocols: Sequence[str] = (),
) -> AsyncIterator[WebSocket]:
    """Upgrade ``GET <path>`` to a WebSocket, on ``api``'s configuration.

    Args:
        api: the client whose TLS, authentication, proxy and headers the request uses.
        version, base, namespace, url: the path, as for `Api.call_api`.
        params: the query (a mapping, or pairs: exec repeats ``command``).
        subprotocols: offered in ``Sec-WebSocket-Protocol``, preferred first.

    Yields:
        The open WebSocket. On exit it is closed: with a close handshake when the block ends
        normally, at once on an error or cancellation.

    Raises:
        APIError: (subclass per status) the server refused the upgrade.
        TransportError, APITimeoutError: no answer.
        RemoteProtocolError: the server answered without upgrading properly.
        RuntimeError: the client is closed.

    Cancellation:
        Safe at every phase (connecting, handshake, inside the block): the socket is closed.
    """
    client = await _upgrade_client(api)
    key = base64.b64encode(os.urandom(16))
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key.decode("ascii"),
    }
    if subprotocols:
        headers["Sec-WebSocket-Protocol"] = ", ".join(subprotocols)
    extensions: dict[str, Any] = dict(api._sni or {})
    query = _query(params)
    path = api_path(version, base, namespace, url)
    try:
        response = await send(
            client,
            lambda: client.build_request(
                "GET",
                path,
                params=query,
                headers=headers,
                timeout=without_read_timeout(api._timeout),
                extensions=extensions,
            ),
            retry=api._retry,
        )
    except BaseException:
        await close_orphaned_connections(client)
        raise
    try:
        if response.status_code != 101:
            if response.status_code >= 400:
                from kr8s_trio._api import _raise_for_status

                await _raise_for_status(response)
            raise KRemoteProtocolError(
                f"the server answered the WebSocket upgrade with {response.status_code}"
            )
        if response.headers.get("sec-websocket-accept") != _accept_token(key):
            raise KRemoteProtocolError("the server's Sec-WebSocket-Accept does not match")
        chosen = response.headers.get("sec-websocket-protocol") or None
        if chosen is not None and chosen not in subprotocols:
            raise KRemoteProtocolError(f"the server chose a subprotocol not offered: {chosen!r}")
        stream = response.extensions["network_stream"]
        ws = WebSocket(stream, chosen)
        try:
            yield ws
        except BaseException:
            ws._broken = True
            raise
        else:
            await ws.close()
    finally:
        with (
            trio.CancelScope(shield=True),
            trio.move_on_after(CLOSE_TIMEOUT),
            contextlib.suppress(httpx.HTTPError),
        ):
            await response.aclose()
