"""What answers inside a fake pod when a port is forwarded to it: port handlers.

No pod runs a real process, so a forwarded connection is handed to a trio callable registered
per pod and port (`PortRegistry.register`), which gets the connection as a trio stream
(`ForwardedStream`: bytes from the client in, bytes to the client out, half-close both ways).
Instead of a callable, a ``(host, port)`` target on the test's side can be given: the connection
is then proxied there. A port that nothing is registered for but that a container declares
(``containerPorts``) is answered by a tiny HTTP server naming the pod and port; any other port
refuses the connection, and the client reads the error a containerd node writes.

Both port-forward protocols (`_portforward`'s WebSocket channels and `_spdytunnel`'s SPDY) feed
the same streams.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import h11
import trio

__all__ = [
    "ForwardedStream",
    "PortHandler",
    "PortRefused",
    "PortRegistry",
    "forward_error",
    "http_responder",
    "proxy_to",
    "serve_forwarded",
]

logger = logging.getLogger("kr8s_trio.testing.ports")

#: a port handler: serves one forwarded connection until it returns
PortHandler = Callable[["ForwardedStream"], Awaitable[None]]


class PortRefused(Exception):
    """Nothing accepts connections on the forwarded port (the handler's way to say so)."""


class ForwardedStream(trio.abc.HalfCloseableStream):
    """One forwarded connection, seen from inside the pod.

    ``receive_some`` returns what the client sends (``b""`` once it half-closed or went away);
    ``send_all`` delivers to the client; ``send_eof`` half-closes (where the protocol can say
    so: SPDY can, the WebSocket channel protocol cannot). ``namespace``, ``pod`` and ``port``
    say where the connection arrived.

    Cancellation: ``receive_some`` loses nothing (data not returned stays buffered);
    ``send_all`` may have delivered part of its data; ``send_eof`` may be cancelled before the
    half-close reaches the client; ``aclose`` closes anyway (its half-close is shielded), then
    raises ``Cancelled``.
    """

    def __init__(
        self,
        *,
        namespace: str,
        pod: str,
        port: int,
        write: Callable[[bytes], Awaitable[None]],
        write_eof: Callable[[], Awaitable[None]] | None = None,
        consumed: Callable[[int], None] | None = None,
    ) -> None:
        self.namespace = namespace
        self.pod = pod
        self.port = port
        self._write = write
        self._write_eof = write_eof
        self._consumed = consumed
        self._inbound = bytearray()
        self._inbound_eof = False
        self._broken = False
        self._eof_sent = False
        self._closed = False
        self._changed = trio.Event()
        self._receiving = False
        self._sending = False

    def __repr__(self) -> str:
        return f"<ForwardedStream {self.namespace}/{self.pod}:{self.port}>"

    # -- the protocol side ---------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the client arrived."""
        if not self._inbound_eof and not self._closed:
            self._inbound += data
            self._wake()

    def feed_eof(self) -> None:
        """The client will send nothing more."""
        self._inbound_eof = True
        self._wake()

    def abort(self) -> None:
        """The connection is gone (reset, or the session ended): both directions fail."""
        self._broken = True
        self._inbound_eof = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    # -- trio.abc.HalfCloseableStream --------------------------------------------------------

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._receiving:
            raise trio.BusyResourceError("another task is receiving on this stream")
        self._receiving = True
        try:
            await trio.lowlevel.checkpoint_if_cancelled()
            while True:
                if self._closed:
                    raise trio.ClosedResourceError("the stream is closed")
                if self._inbound:
                    size = len(self._inbound) if max_bytes is None else max_bytes
                    data = bytes(self._inbound[:size])
                    del self._inbound[:size]
                    if self._consumed is not None:
                        self._consumed(len(data))
                    await trio.lowlevel.cancel_shielded_checkpoint()
                    return data
                if self._broken:
                    raise trio.BrokenResourceError("the forwarded connection was reset")
                if self._inbound_eof:
                    await trio.lowlevel.cancel_shielded_checkpoint()
                    return b""
                await self._changed.wait()
        finally:
            self._receiving = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._sending:
            raise trio.BusyResourceError("another task is sending on this stream")
        self._sending = True
        try:
            await trio.lowlevel.checkpoint_if_cancelled()
            if self._closed or self._eof_sent:
                raise trio.ClosedResourceError("the stream is closed for sending")
            if self._broken:
                raise trio.BrokenResourceError("the forwarded connection is gone")
            if data:
                await self._write(bytes(data))
            else:
                await trio.lowlevel.cancel_shielded_checkpoint()
        finally:
            self._sending = False

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.checkpoint()

    async def send_eof(self) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()
        if self._closed:
            raise trio.ClosedResourceError("the stream is closed")
        if self._eof_sent or self._broken:
            await trio.lowlevel.cancel_shielded_checkpoint()
            return
        self._eof_sent = True
        if self._write_eof is not None:
            await self._write_eof()
        else:
            await trio.lowlevel.cancel_shielded_checkpoint()

    async def aclose(self) -> None:
        """Close: half-close towards the client if not done yet, and stop receiving."""
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        try:
            if not self._eof_sent and not self._broken:
                self._eof_sent = True
                if self._write_eof is not None:
                    with trio.CancelScope(shield=True):
                        await self._write_eof()
        finally:
            self._closed = True
            self._inbound.clear()
            self._wake()
        await trio.lowlevel.checkpoint()


class PortRegistry:
    """Who answers on each forwarded pod port (``cluster.ports``)."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None, int], PortHandler] = {}
        #: what serves a declared container port nothing is registered for (None: refuse)
        self.default: PortHandler | None = http_responder

    def register(
        self,
        namespace: str,
        pod: str | None,
        port: int,
        handler: PortHandler | tuple[str, int],
    ) -> None:
        """Serve ``port`` of pod ``namespace/pod`` (every pod of the namespace when ``pod`` is
        None) with ``handler``: an async callable receiving each forwarded connection as a
        `ForwardedStream`, or a ``(host, port)`` to proxy the connections to. A handler that
        raises `PortRefused` makes the client see a refused connection (any other exception is
        logged, and its message sent to the client as the forwarding error)."""
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range")
        if isinstance(handler, tuple):
            handler = proxy_to(*handler)
        self._handlers[(namespace, pod, port)] = handler

    def unregister(self, namespace: str, pod: str | None, port: int) -> None:
        """Forget the handler of ``port`` (no error if there is none)."""
        self._handlers.pop((namespace, pod, port), None)

    def handler_for(self, pod: Mapping[str, Any], port: int) -> PortHandler | None:
        """What serves ``port`` of ``pod`` (a Pod object), or None when nothing listens."""
        metadata = pod.get("metadata") or {}
        namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
        handler = self._handlers.get((namespace, name, port))
        if handler is None:
            handler = self._handlers.get((namespace, None, port))
        if handler is None and port in declared_ports(pod):
            handler = self.default
        return handler


def declared_ports(pod: Mapping[str, Any]) -> set[int]:
    """The TCP ``containerPort``s of a pod's containers."""
    ports: set[int] = set()
    spec = pod.get("spec") or {}
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for entry in container.get("ports") or []:
            if (entry.get("protocol") or "TCP") == "TCP" and isinstance(
                entry.get("containerPort"), int
            ):
                ports.add(entry["containerPort"])
    return ports


def _sandbox(uid: str) -> tuple[str, str]:
    """The pod's sandbox id and network namespace path, as containerd would name them (derived
    from the pod's uid, so they are stable)."""
    digest = hashlib.sha256(uid.encode()).digest()
    return digest.hex(), f"/var/run/netns/cni-{uuid.UUID(bytes=digest[:16])}"


def forward_error(pod: Mapping[str, Any], port: int, detail: str | None = None) -> str:
    """The text a node writes on the error stream when forwarding ``port`` fails: what
    containerd reports for a refused connection, or ``detail``."""
    uid = str((pod.get("metadata") or {}).get("uid") or "")
    sandbox, netns = _sandbox(uid)
    if detail is None:
        detail = (
            f'failed to execute portforward in network namespace "{netns}": failed to connect to '
            f'localhost:{port} inside namespace "{sandbox}", IPv4: dial tcp4 127.0.0.1:{port}: '
            f"connect: connection refused IPv6 dial tcp6 [::1]:{port}: connect: connection "
            "refused "
        )
    return f"error forwarding port {port} to pod {sandbox}, uid : {detail}"


async def serve_forwarded(
    handler: PortHandler | None, pod: Mapping[str, Any], stream: ForwardedStream
) -> str | None:
    """Run ``handler`` on one forwarded connection; returns the text for the error stream when
    forwarding failed (None when it went well). The caller closes the stream afterwards (after
    writing the error, as kubelets do).

    Cancellation: the handler is cancelled.
    """
    if handler is None:
        return forward_error(pod, stream.port)
    detail: str | None = None
    failed = False
    try:
        await handler(stream)
    except PortRefused as exc:
        failed, detail = True, str(exc) or None
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the client went away: nobody to tell
    except Exception as exc:
        logger.exception("port handler for %r failed", stream)
        failed, detail = True, str(exc) or type(exc).__name__
    return forward_error(pod, stream.port, detail) if failed else None


async def http_responder(stream: ForwardedStream) -> None:
    """The default server of a declared container port: answers every HTTP/1.x request with
    ``200`` and a one-line text body naming the pod, the port and the request line; keeps the
    connection alive as HTTP/1.1 allows.

    Cancellation: the connection is abandoned mid-request.
    """
    conn = h11.Connection(h11.SERVER)
    request: h11.Request | None = None
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError:
            return
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.EndOfMessage) and request is not None:
            target = request.target.decode("latin-1")
            body = (
                f"fake pod {stream.namespace}/{stream.pod} port {stream.port}: "
                f"{request.method.decode()} {target}\n"
            ).encode()
            headers = [
                ("content-type", "text/plain; charset=utf-8"),
                ("content-length", str(len(body))),
            ]
            response = h11.Response(status_code=200, headers=headers, reason=b"OK")
            await stream.send_all(conn.send(response))
            await stream.send_all(conn.send(h11.Data(data=body)))
            await stream.send_all(conn.send(h11.EndOfMessage()))
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
            request = None
        elif isinstance(event, (h11.ConnectionClosed, h11.PAUSED)):
            return


def proxy_to(host: str, port: int) -> PortHandler:
    """A handler proxying each connection to ``host:port``: the client's half-close is passed
    on, and the connection ends when the target has finished sending (cancelling the handler
    closes the target connection)."""

    async def proxy(stream: ForwardedStream) -> None:
        try:
            remote = await trio.open_tcp_stream(host, port)
        except OSError as exc:  # the pod's port refuses, as far as the client can tell
            raise PortRefused() from exc
        async with remote, trio.open_nursery() as nursery:
            nursery.start_soon(_pump, stream, remote, nursery.cancel_scope, False)
            nursery.start_soon(_pump, remote, stream, nursery.cancel_scope, True)

    return proxy


async def _pump(
    source: trio.abc.ReceiveStream,
    sink: trio.abc.HalfCloseableStream,
    scope: trio.CancelScope,
    last: bool,
) -> None:
    try:
        while data := await source.receive_some(65536):
            await sink.send_all(data)
        await sink.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        scope.cancel()
    if last:
        scope.cancel()
