"""One forwarded connection: the local TCP stream bridged to a port-forward WebSocket (the
kubelet's channel protocol: data on channel 0, errors on channel 1, each channel's first
message starting with the port)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import attrs
import trio

from kr8s_trio._core._channels import ChannelProtocol, Frame, decode_message, encode_frame
from kr8s_trio._core._exceptions import RemoteProtocolError
from kr8s_trio._ws import ConnectionClosed

if TYPE_CHECKING:
    from kr8s_trio._ws import WebSocket

__all__ = ["CHUNK", "Tunnel", "bridge"]

#: the most read from a local connection into one WebSocket message
CHUNK = 256 * 1024


@attrs.define
class Tunnel:
    """One forwarded connection's state."""

    tcp: trio.SocketStream
    ws: WebSocket
    protocol: ChannelProtocol
    remote_port: int
    pod: str
    #: ends the pod-to-client direction; its deadline is set once the client sent EOF
    receiving: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    local_eof: bool = False
    client_gone: bool = False
    error: str | None = None


async def bridge(tunnel: Tunnel, eof_linger: float | None) -> None:
    """Bytes both ways until the pod closes, the client goes, or an error arrives.

    Cancellation:
        Safe; the caller closes the connection and the WebSocket.
    """
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_to_pod, tunnel, nursery.cancel_scope, eof_linger)
        with tunnel.receiving:
            await _from_pod(tunnel, eof_linger)
        nursery.cancel_scope.cancel()
    if tunnel.error is None and not tunnel.client_gone:
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await tunnel.tcp.send_eof()


async def _to_pod(tunnel: Tunnel, scope: trio.CancelScope, eof_linger: float | None) -> None:
    """Client bytes to data channel 0; on EOF, give the pod ``eof_linger`` to answer."""
    try:
        while data := await tunnel.tcp.receive_some(CHUNK):
            await tunnel.ws.send(encode_frame(tunnel.protocol, 0, data))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        tunnel.client_gone = True
        scope.cancel()  # the client reset the connection: nobody to deliver to
        return
    except ConnectionClosed:
        return  # the pod's side closed: `_from_pod` sees it
    tunnel.local_eof = True
    if eof_linger is not None:
        tunnel.receiving.deadline = trio.current_time() + eof_linger


async def _from_pod(tunnel: Tunnel, eof_linger: float | None) -> None:
    started: set[int] = set()
    while True:
        try:
            message = await tunnel.ws.receive()
        except ConnectionClosed:
            return
        try:
            frame = decode_message(tunnel.protocol, message)
        except RemoteProtocolError as exc:
            tunnel.error = f"invalid message from the server: {exc}"
            return
        if not isinstance(frame, Frame):
            continue
        data = frame.data
        if frame.channel not in started:  # each channel starts with the port
            started.add(frame.channel)
            data = data[2:]
        if not data:
            continue
        if frame.channel == 0:
            try:
                await tunnel.tcp.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                tunnel.client_gone = True
                return
            if tunnel.local_eof and eof_linger is not None:
                tunnel.receiving.deadline = trio.current_time() + eof_linger
        elif frame.channel == 1:
            tunnel.error = data.decode("utf-8", "replace")
            return
