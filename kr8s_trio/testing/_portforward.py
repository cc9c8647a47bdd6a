"""``pods/{name}/portforward`` over WebSocket: the checks, and the channel protocol.

Two protocols arrive here. Clients offering a ``SPDY/3.1+...`` subprotocol (kubectl 1.31+) get
SPDY tunnelled in the WebSocket (`_spdytunnel`); the others get the kubelet's channel protocol,
served here: ``?ports=`` names the ports, port ``i`` uses data channel ``2i`` and error channel
``2i+1``, each channel's first message is the port (16-bit little-endian), then bytes flow in
binary messages led by their channel byte (or, with ``v4.base64.channel.k8s.io``, in text
messages led by the character ``"0" + channel`` with a base64 payload). The session carries one
connection per port; it ends when every port's handler is done (then the server closes with
1000) or when the client closes. The kubelet offers ``""``, ``v4.channel.k8s.io`` and
``v4.base64.channel.k8s.io``, so a client offering v5 first (the Python client) gets v4.

Before upgrading, the checks and refusals a real cluster makes: the pod must exist (404) and be
bound to a node (400), both Status answers of the API server; then, in the kubelet's plain text,
there must be ports to forward (400), the pod must run on its node (``pod not found``, a 500)
and a subprotocol must be agreed (an empty 403, as Go's WebSocket server refuses a handshake).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import trio

from kr8s_trio._core._channels import (
    BASE64_V4,
    V4,
    ChannelProtocol,
    Frame,
    choose_protocol,
    decode_message,
    encode_frame,
    get_protocol,
)
from kr8s_trio._core._exceptions import RemoteProtocolError
from kr8s_trio.testing._ports import ForwardedStream, serve_forwarded
from kr8s_trio.testing._spdytunnel import (
    TUNNEL_PREFIX,
    UpgradeRefused,
    serve_spdy_tunnel,
    tunnel_protocols,
    tunnel_subprotocol,
)
from kr8s_trio.testing._status import status_error
from kr8s_trio.testing._websocket import WebSocketClosed

if TYPE_CHECKING:
    from kr8s_trio.testing._http import Request
    from kr8s_trio.testing._requestinfo import RequestInfo
    from kr8s_trio.testing._state import ClusterState
    from kr8s_trio.testing._websocket import WebSocket

__all__ = ["CHANNEL_PROTOCOLS", "serve_portforward"]

#: what the kubelet's port-forward WebSocket accepts
CHANNEL_PROTOCOLS = ("", V4, BASE64_V4)


async def serve_portforward(
    state: ClusterState, ws: WebSocket, request: Request, info: RequestInfo
) -> None:
    """Serve ``pods/{name}/portforward`` on an upgraded WebSocket.

    Cancellation: every forwarded connection's handler is cancelled; the WebSocket is closed.
    """
    if info.group != "" or info.resource != "pods" or info.name is None:
        raise status_error(404, "NotFound", "the server could not find the requested resource")
    pod = state.rest.get(state.resource("pods"), info.namespace, info.name).obj
    if not (pod.get("spec") or {}).get("nodeName"):
        raise status_error(400, "BadRequest", f"pod {info.name} does not have a host assigned")
    tunnel = any(p.startswith(TUNNEL_PREFIX) for p in ws.offered_subprotocols)
    try:
        if tunnel:
            protocols = tunnel_protocols(ws.offered_subprotocols)
            _check_running(pod)
            subprotocol = tunnel_subprotocol(protocols)
        else:
            ports = _ports(request.params("ports"))
            _check_running(pod)
            subprotocol = _channel_subprotocol(ws)
    except UpgradeRefused as refusal:
        await ws.reject_plain(refusal.code, refusal.text.encode())
        return
    if tunnel:
        await serve_spdy_tunnel(state, ws, pod, subprotocol)
    else:
        await ws.accept(subprotocol)
        await _ChannelSession(state, ws, pod, ports, get_protocol(subprotocol)).run()


def _channel_subprotocol(ws: WebSocket) -> str:
    """The first offered subprotocol the kubelet speaks (``""`` when none is offered)."""
    chosen = choose_protocol(ws.offered_subprotocols, CHANNEL_PROTOCOLS)
    if chosen is None:  # Go's WebSocket server refuses a failed handshake with a bare 403
        raise UpgradeRefused(403, "")
    return chosen


def _ports(values: list[str]) -> list[int]:
    """The kubelet's reading of the ports to forward (its messages name the query ``port``:
    that is what the API server passes on)."""
    if not values:
        raise UpgradeRefused(400, 'query parameter "port" is required')
    ports: list[int] = []
    for value in values:
        if not value:
            raise UpgradeRefused(400, 'query parameter "port" cannot be empty')
        for piece in value.split(","):
            problem = "invalid syntax" if not piece.isdigit() else "value out of range"
            if not piece.isdigit() or int(piece) > 65535:
                raise UpgradeRefused(
                    400,
                    f'unable to parse "{value}" as a port: strconv.ParseUint: parsing '
                    f'"{piece}": {problem}',
                )
            if int(piece) < 1:
                raise UpgradeRefused(400, f'port "{value}" must be > 0')
            ports.append(int(piece))
    return ports


def _check_running(pod: Mapping[str, Any]) -> None:
    """A node forwards only to pods it runs (its container runtime lists running pods only);
    the kubelet says so in a plain-text 500."""
    if (pod.get("status") or {}).get("phase") != "Running":
        metadata = pod.get("metadata") or {}
        full_name = f"{metadata.get('name')}_{metadata.get('namespace')}"
        raise UpgradeRefused(500, f'pod not found ("{full_name}")')


class _ChannelSession:
    """One WebSocket channel-protocol session: a connection per requested port."""

    def __init__(
        self,
        state: ClusterState,
        ws: WebSocket,
        pod: Mapping[str, Any],
        ports: list[int],
        protocol: ChannelProtocol,
    ) -> None:
        self._state = state
        self._ws = ws
        self._pod = pod
        self._ports = ports
        self._protocol = protocol
        self._lock = trio.Lock()
        metadata = pod.get("metadata") or {}
        self._streams = [
            ForwardedStream(
                namespace=str(metadata.get("namespace")),
                pod=str(metadata.get("name")),
                port=port,
                write=functools.partial(self._send, 2 * index),
            )
            for index, port in enumerate(ports)
        ]

    async def _send(self, channel: int, data: bytes) -> None:
        """One message on ``channel``; a closed WebSocket is a broken stream."""
        async with self._lock:
            message = encode_frame(self._protocol, channel, data)
            try:
                if isinstance(message, str):
                    await self._ws.send_text(message)
                else:
                    await self._ws.send_bytes(message)
            except WebSocketClosed:
                raise trio.BrokenResourceError("the client closed the WebSocket") from None

    async def run(self) -> None:
        try:
            for index, port in enumerate(self._ports):
                prefix = port.to_bytes(2, "little")
                await self._send(2 * index, prefix)
                await self._send(2 * index + 1, prefix)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read, nursery.cancel_scope)
                async with trio.open_nursery() as handlers:
                    for index, stream in enumerate(self._streams):
                        handlers.start_soon(self._forward, 2 * index + 1, stream)
                nursery.cancel_scope.cancel()
        except trio.BrokenResourceError:
            pass  # the client left before the port prefixes went out
        finally:
            for stream in self._streams:
                stream.abort()
            with trio.CancelScope(shield=True):
                await self._ws.close(1000)

    async def _forward(self, error_channel: int, stream: ForwardedStream) -> None:
        handler = self._state.ports.handler_for(self._pod, stream.port)
        error = await serve_forwarded(handler, self._pod, stream)
        try:
            if error is not None:
                await self._send(error_channel, error.encode())
            await stream.aclose()
        except trio.BrokenResourceError:
            pass

    async def _read(self, scope: trio.CancelScope) -> None:
        """Client messages into the streams; the client closing ends the session."""
        try:
            while True:
                message = await self._ws.receive()
                if isinstance(message, str) != self._protocol.base64:
                    continue  # text in a binary session, binary in a base64 one
                try:
                    frame = decode_message(self._protocol, message)
                except RemoteProtocolError:
                    continue  # a bad channel character or base64 payload
                if not isinstance(frame, Frame):
                    continue
                # the error channels (odd) are the server's to write; unknown channels are noise
                channel = frame.channel
                if channel % 2 == 0 and channel // 2 < len(self._streams):
                    self._streams[channel // 2].feed(frame.data)
        except WebSocketClosed:
            for stream in self._streams:
                stream.feed_eof()
            scope.cancel()
