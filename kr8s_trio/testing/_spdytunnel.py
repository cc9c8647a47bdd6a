"""Port-forward as kubectl 1.31+ does it: SPDY/3.1 tunnelled in a WebSocket.

The client asks for subprotocol ``SPDY/3.1+portforward.k8s.io`` (no ``?ports=``) and then
speaks SPDY in the WebSocket's binary messages, read as one byte stream. For every local
connection it opens two streams carrying headers ``streamType`` (``error`` or ``data``),
``port`` and ``requestID``; the server accepts each (SYN_REPLY) as it arrives, pairs them by
request id, and once a pair is complete hands the data stream to the port's handler as a
`ForwardedStream`. When the handler is done the server writes the failure, if any, on the error
stream, then half-closes the error stream and the data stream, as the kubelet does. A stream
with bad headers is reset; a pair left incomplete for 30 s gets "timed out waiting for streams".
The session outlives its connections: it ends when the client closes the WebSocket, or once the
client has sent GOAWAY and nothing is left running.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import trio

from kr8s_trio.testing._ports import ForwardedStream, serve_forwarded
from kr8s_trio.testing._spdy import CANCEL, GOAWAY_PROTOCOL_ERROR, Headers, SpdyProtocolError
from kr8s_trio.testing._spdysession import (
    DataReceived,
    Event,
    GoAwayReceived,
    SpdyServerSession,
    StreamClosedError,
    StreamEnded,
    StreamOpened,
    StreamReset,
)
from kr8s_trio.testing._websocket import WebSocketClosed

if TYPE_CHECKING:
    from kr8s_trio.testing._state import ClusterState
    from kr8s_trio.testing._websocket import WebSocket

__all__ = ["UpgradeRefused", "serve_spdy_tunnel", "tunnel_protocols", "tunnel_subprotocol"]

TUNNEL_PREFIX = "SPDY/3.1+"
#: the SPDY protocol of port-forward (the only one kubelets speak)
PORTFORWARD_PROTOCOL = "portforward.k8s.io"
#: seconds a request's second stream may take to arrive (the kubelet's default)
STREAM_CREATION_TIMEOUT = 30.0


class UpgradeRefused(Exception):
    """A refusal answered in plain text, not as a Status: what the kubelet (or Go's
    ``http.Error`` in the API server's tunnel handler) writes, passed through as it is."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def tunnel_protocols(offered: list[str]) -> list[str]:
    """The SPDY protocols tunnelled in the offered WebSocket subprotocols (the API server's
    reading: ``SPDY/3.1+`` prefix and ``.k8s.io`` suffix).

    Raises:
        UpgradeRefused: 400 when there are none.
    """
    protocols = [
        p.removeprefix(TUNNEL_PREFIX)
        for p in offered
        if p.startswith(TUNNEL_PREFIX) and p.endswith(".k8s.io")
    ]
    if not protocols:
        raise UpgradeRefused(400, "unable to upgrade: no tunneling spdy protocols provided\n")
    return protocols


def tunnel_subprotocol(protocols: list[str]) -> str:
    """The WebSocket subprotocol to answer with (the kubelet's SPDY handshake).

    Raises:
        UpgradeRefused: 403 when the client offers no protocol the kubelet speaks.
    """
    if PORTFORWARD_PROTOCOL not in protocols:
        raise UpgradeRefused(
            403,
            f"unable to upgrade: unable to negotiate protocol: client supports "
            f"[{' '.join(protocols)}], server accepts [{PORTFORWARD_PROTOCOL}]\n",
        )
    return TUNNEL_PREFIX + PORTFORWARD_PROTOCOL


async def serve_spdy_tunnel(
    state: ClusterState, ws: WebSocket, pod: Mapping[str, Any], subprotocol: str
) -> None:
    """Accept the WebSocket with ``subprotocol`` and serve SPDY port-forward on it until the
    client leaves.

    Cancellation: every forwarded connection's handler is cancelled; the WebSocket is closed.
    """
    await ws.accept(subprotocol)
    await _Tunnel(state, ws, pod).run()


@attrs.define(eq=False)
class _Pair:
    """The two streams of one forwarded connection (one ``requestID``)."""

    request_id: str
    complete: trio.Event = attrs.field(factory=trio.Event)
    error_id: int | None = None
    data_id: int | None = None
    port: int = 0
    stream: ForwardedStream | None = None
    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)


def _header(headers: Headers, name: str) -> str:
    values = headers.get(name.lower())
    return values[0] if values else ""


def _valid(headers: Headers) -> bool:
    """The kubelet's checks of a new stream: a port in 1..65535 and a known stream type."""
    port = _header(headers, "port")
    if not port.isdigit() or not 0 < int(port) < 65536:
        return False
    return _header(headers, "streamType") in ("error", "data")


class _Tunnel:
    def __init__(self, state: ClusterState, ws: WebSocket, pod: Mapping[str, Any]) -> None:
        self._state = state
        self._ws = ws
        self._pod = pod
        self._session = SpdyServerSession()
        self._lock = trio.Lock()
        self._kicked = trio.Event()
        self._pairs: dict[str, _Pair] = {}
        self._by_stream: dict[int, _Pair] = {}
        self._reader = trio.CancelScope()
        self._nursery: trio.Nursery | None = None

    # -- writing -------------------------------------------------------------------------------

    async def _flush(self) -> None:
        """Send what the session queued, in order.

        Raises:
            trio.BrokenResourceError: the client closed the WebSocket.
        """
        async with self._lock:
            data = self._session.data_to_send()
            if data:
                try:
                    await self._ws.send_bytes(data)
                except WebSocketClosed:
                    raise trio.BrokenResourceError("the client closed the WebSocket") from None

    async def _flusher(self) -> None:
        """Sends what synchronous callers queued (window updates as handlers read)."""
        while True:
            await self._kicked.wait()
            self._kicked = trio.Event()
            try:
                await self._flush()
            except trio.BrokenResourceError:
                return

    def _kick(self) -> None:
        self._kicked.set()

    async def _write(self, stream_id: int, data: bytes) -> None:
        try:
            self._session.send_data(stream_id, data)
        except StreamClosedError:
            raise trio.BrokenResourceError("the client reset the connection") from None
        await self._flush()

    async def _write_eof(self, stream_id: int) -> None:
        self._session.end_stream(stream_id)
        await self._flush()

    def _consumed(self, stream_id: int, size: int) -> None:
        self._session.acknowledge_received_data(stream_id, size)
        self._kick()

    # -- the session ---------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._flusher)
                with self._reader:
                    await self._read()
                with contextlib.suppress(trio.BrokenResourceError):
                    await self._flush()  # what finishing connections queued last
                nursery.cancel_scope.cancel()
        finally:
            for pair in self._pairs.values():
                if pair.stream is not None:
                    pair.stream.abort()
            with trio.CancelScope(shield=True):
                await self._ws.close(1000)

    async def _read(self) -> None:
        with contextlib.suppress(trio.BrokenResourceError):
            await self._read_frames()

    async def _read_frames(self) -> None:
        while True:
            try:
                message = await self._ws.receive()
            except WebSocketClosed:
                return
            if isinstance(message, str):
                return  # the tunnel is binary; a text message ends it, as in client-go
            try:
                events = self._session.receive_data(message)
            except SpdyProtocolError:
                self._session.goaway(GOAWAY_PROTOCOL_ERROR)
                await self._flush()
                return
            for event in events:
                self._on_event(event)
            await self._flush()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, StreamOpened):
            self._on_stream(event)
            return
        if isinstance(event, (DataReceived, StreamEnded, StreamReset)):
            pair = self._by_stream.get(event.stream_id)
            if pair is None or pair.stream is None or event.stream_id != pair.data_id:
                return  # nothing is read from error streams
            if isinstance(event, DataReceived):
                pair.stream.feed(event.data)
            elif isinstance(event, StreamEnded):
                pair.stream.feed_eof()
            else:
                pair.stream.abort()
                pair.scope.cancel()
        elif isinstance(event, GoAwayReceived):
            self._finish_if_idle()

    def _finish_if_idle(self) -> None:
        if self._session.goaway_received and not self._pairs:
            self._reader.cancel()

    def _on_stream(self, event: StreamOpened) -> None:
        stream_id, headers = event.stream_id, event.headers
        if not _valid(headers):
            self._session.reset_stream(stream_id, CANCEL)
            return
        self._session.reply(stream_id)
        kind = _header(headers, "streamType")
        request_id = _header(headers, "requestID")
        if not request_id:  # clients before request ids: pair consecutive stream ids
            request_id = str(stream_id if kind == "error" else stream_id - 2)
        pair = self._pairs.get(request_id)
        if pair is None:
            pair = self._pairs[request_id] = _Pair(request_id)
            assert self._nursery is not None
            self._nursery.start_soon(self._monitor, pair)
        if (pair.error_id if kind == "error" else pair.data_id) is not None:
            message = f"error processing stream for request {request_id}: {kind} stream already "
            self._print_error(pair, message + "assigned")
            return
        self._by_stream[stream_id] = pair
        if kind == "error":
            pair.error_id = stream_id
        else:
            pair.data_id = stream_id
            pair.port = int(_header(headers, "port"))
            metadata = self._pod.get("metadata") or {}
            pair.stream = ForwardedStream(
                namespace=str(metadata.get("namespace")),
                pod=str(metadata.get("name")),
                port=pair.port,
                write=functools.partial(self._write, stream_id),
                write_eof=functools.partial(self._write_eof, stream_id),
                consumed=functools.partial(self._consumed, stream_id),
            )
        if pair.error_id is not None and pair.data_id is not None:
            pair.complete.set()
            assert self._nursery is not None
            self._nursery.start_soon(self._forward, pair)

    def _print_error(self, pair: _Pair, message: str) -> None:
        if pair.error_id is not None and self._session.is_open(pair.error_id):
            self._session.send_data(pair.error_id, message.encode())

    async def _monitor(self, pair: _Pair) -> None:
        with trio.move_on_after(STREAM_CREATION_TIMEOUT):
            await pair.complete.wait()
            return
        message = f"(conn=spdy, request={pair.request_id}) timed out waiting for streams"
        self._print_error(pair, message)
        if pair.error_id is not None:
            self._session.end_stream(pair.error_id)
        self._forget(pair)
        self._kick()
        self._finish_if_idle()

    def _forget(self, pair: _Pair) -> None:
        self._pairs.pop(pair.request_id, None)
        for stream_id in (pair.error_id, pair.data_id):
            if stream_id is not None and self._by_stream.get(stream_id) is pair:
                del self._by_stream[stream_id]

    async def _forward(self, pair: _Pair) -> None:
        assert pair.stream is not None
        assert pair.error_id is not None
        assert pair.data_id is not None
        handler = self._state.ports.handler_for(self._pod, pair.port)
        error: str | None = None
        with pair.scope:
            error = await serve_forwarded(handler, self._pod, pair.stream)
        if error is not None:
            self._print_error(pair, error)
        self._session.end_stream(pair.error_id)
        self._session.end_stream(pair.data_id)  # unless the handler half-closed it already
        pair.stream.abort()  # nothing more goes either way
        self._forget(pair)
        self._kick()
        self._finish_if_idle()
