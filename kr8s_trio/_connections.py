"""Five repairs to httpcore's connection handling, applied to every client `build_http_client`
makes (`close_sockets_on_cancel`: sockets closed when a TLS handshake is cancelled, and writes
finished when they are cancelled), to every response `Api.call_api` abandons
(`stop_http2_stream`), to HTTP/2 requests abandoned before their response
(`reset_orphaned_http2_streams`), and to the upgrade pool after a cancelled WebSocket handshake
(`close_orphaned_connections`).

All reach into httpx/httpcore private attributes, guarded (anything unexpected: do nothing),
and are covered by the cancellation tests (tests/client/test_transport.py,
tests/streams/test_ws.py).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
import trio

__all__ = [
    "close_orphaned_connections",
    "close_sockets_on_cancel",
    "reset_orphaned_http2_streams",
    "stop_http2_stream",
]


#: Seconds a cancelled write may go on to finish before it is abandoned (breaking the
#: connection).
WRITE_GRACE = 10.0


class _TLSClosingStream(httpcore.AsyncNetworkStream):
    """A network stream whose ``start_tls`` closes it when the handshake is cancelled, and
    whose writes finish even when cancelled.

    httpcore's trio backend closes the socket when the TLS handshake fails with an
    ``Exception``, but not on ``trio.Cancelled``: a request cancelled while connecting would
    leave its socket to the garbage collector.

    A write cancelled half way breaks the connection for every request sharing it: trio's
    SSLStream has already encrypted the bytes, so it marks itself broken, and an HTTP/2
    connection carries other requests' streams (a watch cancelled while httpcore sends a
    WINDOW_UPDATE made the next request on the connection fail with WriteError). So a write
    is shielded (at most `WRITE_GRACE` seconds) and the cancellation is delivered once it is
    done. Reads are passed through (cancelling them is safe).
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    # (the timeout parameters are httpcore's interface)
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        with trio.CancelScope(shield=True), trio.move_on_after(WRITE_GRACE) as grace:
            await self._inner.write(buffer, timeout)
        if grace.cancelled_caught:
            raise httpcore.WriteError("a cancelled write did not finish in time")
        await trio.lowlevel.checkpoint_if_cancelled()

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        try:
            return _TLSClosingStream(
                await self._inner.start_tls(ssl_context, server_hostname, timeout)
            )
        except BaseException:
            with trio.CancelScope(shield=True):
                await self._inner.aclose()
            raise

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _TLSClosingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, with `_TLSClosingStream` TCP streams."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _TLSClosingStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(path, timeout, socket_options)
        return _TLSClosingStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def close_sockets_on_cancel(client: httpx.AsyncClient) -> None:
    """Give every connection pool of ``client`` the `_TLSClosingBackend` (httpx offers no public
    way to choose httpcore's backend while keeping its proxy handling)."""
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.AsyncNetworkBackend) and not isinstance(
            backend, _TLSClosingBackend
        ):
            pool._network_backend = _TLSClosingBackend(backend)  # type: ignore[union-attr]


async def stop_http2_stream(response: httpx.Response) -> None:
    """Tell an HTTP/2 server to stop sending a response we are abandoning (``RST_STREAM``).

    httpcore closes an unfinished HTTP/2 response (left early, or cancelled while reading)
    without resetting its stream: the server would go on sending it (an abandoned watch stays
    open, its events use up the connection's flow-control window, and every request sharing
    the connection stalls once that is spent). Call this before closing a response whose body
    was not read to the end; it does nothing for HTTP/1.1 or a finished response.

    Cancellation:
        Shielded, at most a second.
    """
    if response.is_closed or response.http_version != "HTTP/2":
        return
    # httpx's stream -> httpx's AsyncResponseStream -> httpcore's PoolByteStream ->
    # HTTP2ConnectionByteStream (private, hence the getattr; anything unexpected: do nothing)
    stream = getattr(getattr(response.stream, "_stream", None), "_httpcore_stream", None)
    h2_stream = getattr(stream, "_stream", None)
    connection = getattr(h2_stream, "_connection", None)
    stream_id = getattr(h2_stream, "_stream_id", None)
    if not isinstance(connection, httpcore.AsyncHTTP2Connection) or not isinstance(stream_id, int):
        return
    import h2.errors
    import h2.exceptions

    with trio.CancelScope(shield=True), trio.move_on_after(1):
        try:
            connection._h2_state.reset_stream(stream_id, error_code=h2.errors.ErrorCodes.CANCEL)
            await connection._write_outgoing_data(h2_stream._request)  # type: ignore[union-attr]
        except (h2.exceptions.ProtocolError, httpcore.NetworkError, httpcore.TimeoutException):
            pass  # the stream ended (or the connection is gone): nothing left to stop


def _pools(client: httpx.AsyncClient) -> list[Any]:
    return [getattr(t, "_pool", None) for t in (client._transport, *client._mounts.values())]


async def reset_orphaned_http2_streams(client: httpx.AsyncClient) -> None:
    """Reset (``RST_STREAM``) the HTTP/2 streams httpcore forgot without telling the server.

    A request cancelled after its headers went out and before the response's came back is
    dropped by httpcore (its stream leaves the connection's bookkeeping) but its stream stays
    open on the server: a watch cancelled that early stayed open until its timeout. Called
    when `kr8s_trio._transport.send` is interrupted; the streams httpcore still tracks (other
    requests') are left alone. (Private attributes, guarded: anything unexpected, do nothing.)

    Cancellation:
        Shielded, at most a second per connection.
    """
    import h2.errors
    import h2.exceptions

    ignored = (h2.exceptions.ProtocolError, httpcore.NetworkError, httpcore.TimeoutException)
    for pool in _pools(client):
        connections = getattr(pool, "_connections", None)
        if not isinstance(connections, list):
            continue
        for outer in list(connections):
            connection = getattr(outer, "_connection", None)
            if not isinstance(connection, httpcore.AsyncHTTP2Connection):
                continue
            state = getattr(connection, "_h2_state", None)
            tracked, streams = getattr(connection, "_events", None), getattr(state, "streams", None)
            if state is None or not isinstance(tracked, dict) or not isinstance(streams, dict):
                continue
            orphans = [i for i, s in streams.items() if i not in tracked and not s.closed]
            if not orphans:
                continue
            with trio.CancelScope(shield=True), trio.move_on_after(1):
                try:
                    for stream_id in orphans:
                        state.reset_stream(stream_id, error_code=h2.errors.ErrorCodes.CANCEL)
                    await connection._write_outgoing_data(httpcore.Request("GET", "https://-/"))
                except ignored:
                    pass  # the stream ended meanwhile (or the connection is gone)


async def close_orphaned_connections(client: httpx.AsyncClient) -> None:
    """Close the connections httpcore orphans when a request is cancelled after connecting and
    before sending: they stay in the pool, NEW, never reused and open until the pool closes.
    (Private attributes, guarded: anything unexpected, do nothing.) Called after a cancelled or
    failed WebSocket upgrade (`kr8s_trio._ws`).

    Cancellation:
        Shielded; each close is bounded to 1 s.
    """
    for pool in _pools(client):
        connections, requests = (
            getattr(pool, "_connections", None),
            getattr(pool, "_requests", None),
        )
        if not isinstance(connections, list) or not isinstance(requests, list):
            continue
        busy = {id(getattr(r, "connection", None)) for r in requests}
        for c in list(connections):
            orphan = (
                isinstance(c, httpcore.AsyncConnectionInterface)
                and id(c) not in busy
                and not (c.is_closed() or c.is_idle() or c.is_available())
            )
            if orphan:
                with trio.CancelScope(shield=True), trio.move_on_after(1):
                    await c.aclose()
