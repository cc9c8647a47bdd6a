"""A minimal WebSocket client on trio (wsproto over TLS), for testing the streaming subresources.

Tests of exec, attach and port-forward need to see the handshake (chosen subprotocol, refusals
with their Status) and every binary message exactly, so this speaks WebSocket directly rather
than through a client library. Import it as ``from wsclient import open_ws``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from kr8s_trio.testing import FakeCluster


class WSRejected(Exception):
    """The server refused the upgrade with a plain HTTP answer."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"websocket upgrade refused with {status}: {body[:200]!r}")
        self.status = status
        self.body = body

    def json(self) -> object:
        return json.loads(self.body)


class WSClient:
    """An open client WebSocket."""

    def __init__(self, stream: trio.SSLStream[trio.SocketStream], ws: WSConnection) -> None:
        self._stream = stream
        self._ws = ws
        self.subprotocol: str | None = None
        self.close_code: int | None = None
        self._pending: list[bytes | str] = []
        self._partial = b""
        self._partial_text = ""

    async def _flush(self, data: bytes) -> None:
        if data:
            await self._stream.send_all(data)

    async def send(self, data: bytes) -> None:
        """Send one binary message."""
        await self._flush(self._ws.send(BytesMessage(data=data)))

    async def send_text(self, text: str) -> None:
        await self._flush(self._ws.send(TextMessage(data=text)))

    async def receive(self) -> bytes | str | None:
        """The next whole message, or None once the server has closed."""
        while not self._pending:
            if self.close_code is not None:
                return None
            data = await self._stream.receive_some(65536)
            if not data:
                self.close_code = self.close_code or 1006
                return None
            self._ws.receive_data(data)
            await self._handle_events()
        return self._pending.pop(0)

    async def receive_all(self) -> list[bytes | str]:
        """Every message until the server closes."""
        out: list[bytes | str] = []
        while (message := await self.receive()) is not None:
            out.append(message)
        return out

    async def _handle_events(self) -> None:
        for event in self._ws.events():
            await self._on_event(event)

    async def _on_event(self, event: object) -> None:
        if isinstance(event, BytesMessage):
            self._partial += bytes(event.data)
            if event.message_finished:
                self._pending.append(self._partial)
                self._partial = b""
        elif isinstance(event, TextMessage):
            self._partial_text += event.data
            if event.message_finished:
                self._pending.append(self._partial_text)
                self._partial_text = ""
        elif isinstance(event, Ping):
            await self._flush(self._ws.send(event.response()))
        elif isinstance(event, CloseConnection):
            self.close_code = event.code
            with suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await self._flush(self._ws.send(event.response()))

    async def close(self, code: int = 1000) -> None:
        """Start a clean close (the server answers with its own close frame)."""
        if self.close_code is None:
            await self._flush(self._ws.send(CloseConnection(code=code)))


@asynccontextmanager
async def open_ws(
    cluster: FakeCluster,
    path: str,
    *,
    subprotocols: Sequence[str] = (),
    token: str | None = None,
) -> AsyncIterator[WSClient]:
    """Open a WebSocket to ``path`` (with its query) on the fake cluster.

    Raises:
        WSRejected: the server answered the upgrade with an HTTP error.
    """
    host, _, port = cluster.url.removeprefix("https://").rpartition(":")
    context = cluster.ssl_context()
    context.set_alpn_protocols(["http/1.1"])
    stream = await trio.open_ssl_over_tcp_stream(host.strip("[]"), int(port), ssl_context=context)
    async with stream:
        ws = WSConnection(ConnectionType.CLIENT)
        headers = [(b"authorization", f"Bearer {token or cluster.token}".encode())]
        await stream.send_all(
            ws.send(
                Request(
                    host=f"{host}:{port}",
                    target=path,
                    subprotocols=list(subprotocols),
                    extra_headers=headers,
                )
            )
        )
        client = WSClient(stream, ws)
        rejected: tuple[int, bytearray] | None = None
        while True:
            data = await stream.receive_some(65536)
            if not data:
                raise WSRejected(0, b"connection closed during the handshake")
            ws.receive_data(data)
            done = False
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    client.subprotocol = event.subprotocol
                    done = True
                elif isinstance(event, RejectConnection):
                    rejected = (event.status_code, bytearray())
                    if not event.has_body:
                        raise WSRejected(event.status_code, b"")
                elif isinstance(event, RejectData) and rejected is not None:
                    rejected[1].extend(event.data)
                    if event.body_finished:
                        raise WSRejected(rejected[0], bytes(rejected[1]))
                else:
                    # messages right behind the 101 (e.g. the connection-established marker)
                    await client._on_event(event)
            if done:
                break
        yield client
