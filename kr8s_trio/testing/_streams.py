"""The process side of exec and attach streams: what a simulated command reads and writes.

`Stdin` is a trio ``ReceiveStream`` fed by what the client sends on channel 0; it ends (``b""``)
when the client half-closes stdin (v5), closes the WebSocket, or never asked for stdin. `Output`
is a trio ``SendStream`` whose writes become frames on the client's stdout or stderr channel (or
are dropped when the client did not ask for that stream, as a process's output to a closed pipe
would be). Both work without a client too, so handlers can be unit-tested.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable

import trio

from kr8s_trio._core._channels import TerminalSize

__all__ = ["Output", "Stdin", "no_resizes"]


class Stdin(trio.abc.ReceiveStream):
    """A command's standard input: what the client sends, ending (``b""``) when it half-closes
    stdin, or at once when the client did not ask for stdin."""

    def __init__(self, source: trio.MemoryReceiveChannel[bytes] | None = None) -> None:
        self._source = source
        self._buffer = bytearray()
        self._eof = source is None
        self._closed = False

    @classmethod
    def of(cls, data: bytes) -> Stdin:
        """A stdin that yields ``data`` then ends (for running commands from commands)."""
        stdin = cls()
        stdin._buffer += data
        return stdin

    async def _fill(self) -> bool:
        """Wait for more data; False at the end."""
        if self._eof or self._source is None:
            await trio.lowlevel.checkpoint()
            return False
        try:
            self._buffer += await self._source.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            self._eof = True
            return False
        return True

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """The next bytes (at most ``max_bytes``); ``b""`` at the end.

        Cancellation: safe; nothing is lost.
        """
        if self._closed:
            raise trio.ClosedResourceError("stdin is closed")
        while not self._buffer:
            if not await self._fill():
                return b""
        n = len(self._buffer) if max_bytes is None else max(1, max_bytes)
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    async def readline(self) -> bytes:
        """The next line with its ``\\n`` (the last one may lack it); ``b""`` at the end.

        Cancellation: safe; a partial line stays buffered.
        """
        while b"\n" not in self._buffer:
            if not await self._fill():
                break
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        out = bytes(self._buffer[:end])
        del self._buffer[:end]
        return out

    async def read(self) -> bytes:
        """Everything until the end.

        Cancellation: what was read so far stays buffered.
        """
        while await self._fill():
            pass
        out = bytes(self._buffer)
        self._buffer.clear()
        return out

    async def lines(self) -> AsyncIterator[bytes]:
        """Each line (with its ``\\n``) until the end.

        Cancellation: safe; a partial line stays buffered.
        """
        while line := await self.readline():
            yield line

    async def aclose(self) -> None:
        """Stop reading (further reads raise ``ClosedResourceError``).

        Cancellation: the stream is closed anyway.
        """
        self._closed = True
        await trio.lowlevel.checkpoint()


class Output(trio.abc.SendStream):
    """A command's stdout or stderr: each write goes to the client as it happens (or nowhere,
    when the client did not ask for that stream)."""

    def __init__(self, sink: Callable[[bytes], Awaitable[None]] | None = None) -> None:
        self._sink = sink
        self._closed = False
        #: everything written, when there is no sink (for tests of handlers)
        self.captured = bytearray()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send ``data``.

        Cancellation: the data may have been sent or not.
        """
        if self._closed:
            raise trio.ClosedResourceError("the stream is closed")
        if not data:
            await trio.lowlevel.checkpoint()
            return
        if self._sink is None:
            self.captured += data
            await trio.lowlevel.checkpoint()
        else:
            await self._sink(bytes(data))

    async def write(self, data: str | bytes) -> None:
        """Send text (UTF-8) or bytes.

        Cancellation: the data may have been sent or not.
        """
        await self.send_all(data.encode("utf-8") if isinstance(data, str) else data)

    async def wait_send_all_might_not_block(self) -> None:
        """Return at once (writes wait for the client themselves).

        Cancellation: safe.
        """
        await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        """Stop writing (further writes raise ``ClosedResourceError``).

        Cancellation: the stream is closed anyway.
        """
        self._closed = True
        await trio.lowlevel.checkpoint()


def no_resizes() -> trio.MemoryReceiveChannel[TerminalSize]:
    """A resize channel that never delivers anything."""
    send, receive = trio.open_memory_channel[TerminalSize](math.inf)
    send.close()
    return receive
