"""A WebSocket over an ASGI ``websocket`` scope, for the streaming subresources.

exec, attach and port-forward speak WebSocket (binary messages, one channel byte in front).
This wraps hypercorn's ASGI messages in the few operations their handlers need: choose a
subprotocol and accept, or refuse with a Status before upgrading (as kube-apiserver does, with a
plain HTTP answer); send and receive binary messages; close.
"""

from __future__ import annotations

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._http import dumps
from kr8s_trio.testing._server import Receive, Scope, Send

__all__ = ["WebSocket", "WebSocketClosed"]


class WebSocketClosed(Exception):
    """The peer closed the WebSocket (or the connection went away)."""

    def __init__(self, code: int = 1000) -> None:
        super().__init__(f"websocket closed with code {code}")
        self.code = code


class WebSocket:
    """One server-side WebSocket, after the ``websocket.connect`` message."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.accepted = False
        self.closed = False
        #: the HTTP status of a refused upgrade (None: not refused)
        self.refused_with: int | None = None

    @property
    def offered_subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order (``Sec-WebSocket-Protocol``)."""
        return [str(p) for p in self.scope.get("subprotocols") or []]

    async def accept(self, subprotocol: str | None = None) -> None:
        """Complete the upgrade (101), echoing ``subprotocol`` unless it is empty or None."""
        message: dict[str, object] = {"type": "websocket.accept"}
        if subprotocol:
            message["subprotocol"] = subprotocol
        await self._send(message)
        self.accepted = True

    async def reject(self, exc: APIError) -> None:
        """Answer the upgrade request with a plain HTTP error carrying ``exc``'s Status."""
        body = dumps(exc.status)
        await self._send(
            {
                "type": "websocket.http.response.start",
                "status": exc.code,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": body, "more_body": False})
        self.closed = True
        self.refused_with = exc.code

    async def reject_plain(self, code: int, body: bytes = b"") -> None:
        """Answer the upgrade request with a plain-text HTTP error (how the kubelet refuses
        exec and attach: ``text/plain`` for a message, no body at all for an unsupported
        subprotocol)."""
        headers = [(b"content-length", str(len(body)).encode())]
        if body:
            headers.insert(0, (b"content-type", b"text/plain; charset=utf-8"))
        await self._send(
            {"type": "websocket.http.response.start", "status": code, "headers": headers}
        )
        await self._send({"type": "websocket.http.response.body", "body": body, "more_body": False})
        self.closed = True
        self.refused_with = code

    async def send_bytes(self, data: bytes) -> None:
        """Send one binary message.

        Raises:
            WebSocketClosed: the socket is closed.
        """
        if self.closed:
            raise WebSocketClosed()
        await self._send({"type": "websocket.send", "bytes": bytes(data)})

    async def send_text(self, text: str) -> None:
        """Send one text message (the base64 channel protocols).

        Raises:
            WebSocketClosed: the socket is closed.
        """
        if self.closed:
            raise WebSocketClosed()
        await self._send({"type": "websocket.send", "text": text})

    async def receive(self) -> bytes | str:
        """The next message (binary as bytes, text as str).

        Raises:
            WebSocketClosed: the peer closed (or disconnected).
        """
        if self.closed:
            raise WebSocketClosed()
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "websocket.receive":
                data = message.get("bytes")
                if data is not None:
                    return bytes(data)
                return str(message.get("text") or "")
            if kind == "websocket.disconnect":
                self.closed = True
                raise WebSocketClosed(int(message.get("code") or 1005))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the WebSocket (idempotent)."""
        if self.closed:
            return
        self.closed = True
        await self._send({"type": "websocket.close", "code": code, "reason": reason})
