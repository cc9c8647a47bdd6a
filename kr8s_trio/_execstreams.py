"""The streams of a remote process (`kr8s_trio._exec`): its stdout / stderr as trio
``ReceiveStream`` s fed by the session's pump, its stdin as a trio ``SendStream`` writing channel
0 (``aclose`` sends v5's stream close ``[255, 0]``).
"""

from __future__ import annotations

import contextlib

import trio

from kr8s_trio._core._channels import STDIN, ChannelProtocol, encode_close, encode_frame
from kr8s_trio._core._exceptions import LocalProtocolError
from kr8s_trio._ws import ConnectionClosed, WebSocket

__all__ = ["OUTPUT_BUFFER", "STDIN_CHUNK", "Output", "Stdin"]

#: messages buffered per output stream before the reading stops
OUTPUT_BUFFER = 16
#: the largest stdin message sent
STDIN_CHUNK = 1 << 20


class Output(trio.abc.ReceiveStream):
    """stdout or stderr of the remote process."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._send, self._receive = trio.open_memory_channel[bytes](OUTPUT_BUFFER)
        self._leftover = b""

    def end(self) -> None:
        """The stream ended (readers get ``b""`` once the buffer is read)."""
        self._send.close()

    async def deliver(self, data: bytes) -> None:
        """Buffer ``data`` for readers, waiting while the buffer is full.

        Raises:
            trio.BrokenResourceError: the reader closed the stream.

        Cancellation:
            Safe; the data was buffered or not.
        """
        await self._send.send(data)

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """The next bytes; ``b""`` once the stream ended (the process closed it or exited).

        Cancellation:
            Safe; nothing is lost.
        """
        if not self._leftover:
            try:
                self._leftover = await self._receive.receive()
            except (trio.EndOfChannel, trio.BrokenResourceError):
                return b""
        else:
            await trio.lowlevel.checkpoint()
        size = len(self._leftover) if max_bytes is None else max_bytes
        data, self._leftover = self._leftover[:size], self._leftover[size:]
        return data

    async def aclose(self) -> None:
        """Stop reading: what arrives later on this stream is dropped.

        Cancellation:
            Closed anyway.
        """
        self._receive.close()
        await trio.lowlevel.checkpoint()


class Stdin(trio.abc.SendStream):
    """stdin of the remote process."""

    def __init__(self, ws: WebSocket, protocol: ChannelProtocol) -> None:
        self._ws = ws
        self._protocol = protocol
        self._closed = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send ``data`` (in messages of at most `STDIN_CHUNK` bytes).

        Raises:
            trio.ClosedResourceError: stdin was closed.
            ConnectionClosed: the session ended.

        Cancellation:
            Part of the data may have been sent; the session is then unusable.
        """
        if self._closed:
            raise trio.ClosedResourceError("stdin is closed")
        view = memoryview(data)
        for start in range(0, max(len(view), 1), STDIN_CHUNK):
            chunk = bytes(view[start : start + STDIN_CHUNK])
            if chunk:
                await self._ws.send(encode_frame(self._protocol, STDIN, chunk))
        if not view:
            await trio.lowlevel.checkpoint()

    async def wait_send_all_might_not_block(self) -> None:
        """Returns at once (sends are WebSocket messages).

        Cancellation:
            Safe.
        """
        await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        """Close stdin: the remote process reads its end (v5's ``[255, 0]``).

        Raises:
            LocalProtocolError: the server speaks ``v4.channel.k8s.io``, which cannot end stdin
                short of ending the whole session (Kubernetes 1.30+ speaks v5).

        Cancellation:
            The close may not have been sent.
        """
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        if not self._protocol.stream_close:
            raise LocalProtocolError(
                f"the server speaks {self._protocol.name or 'an old channel protocol'}, which "
                "cannot close stdin (only v5.channel.k8s.io, Kubernetes 1.30+, can)"
            )
        self._closed = True
        with contextlib.suppress(ConnectionClosed):  # the process is gone: nothing to end
            await self._ws.send(encode_close(self._protocol, STDIN))
