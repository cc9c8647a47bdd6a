"""One exec or attach session on an upgraded WebSocket: frames out, stdin and resizes in.

`ChannelSession` frames what a simulated process writes onto the client's channels (output
nobody asked for is dropped), feeds the client's stdin frames and terminal sizes to the process,
turns the v5 close signal (or, with older protocols, the end of the WebSocket) into the end of
stdin, and reports the final status on channel 3 before closing. When the client goes away, the
process is cancelled and nothing more is sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

import trio

from kr8s_trio._core._channel_status import encode_status
from kr8s_trio._core._channels import (
    ERROR,
    RESIZE,
    STDIN,
    V5,
    ChannelProtocol,
    CloseStream,
    ResizeDecoder,
    TerminalSize,
    decode_message,
    encode_frame,
)
from kr8s_trio._core._exceptions import RemoteProtocolError
from kr8s_trio.testing._streams import Output
from kr8s_trio.testing._websocket import WebSocketClosed

if TYPE_CHECKING:
    from kr8s_trio.testing._exec import StreamRequest
    from kr8s_trio.testing._websocket import WebSocket

__all__ = ["ChannelSession"]


class ChannelSession:
    """One upgraded WebSocket speaking a channel protocol."""

    def __init__(self, ws: WebSocket, protocol: ChannelProtocol, req: StreamRequest) -> None:
        self.ws = ws
        self.protocol = protocol
        self.req = req
        self.translated = protocol.name == V5
        self.gone = False
        self._lock = trio.Lock()
        self._scope: trio.CancelScope | None = None
        stderr_open = req.stderr and (self.translated or not req.tty)
        self.marker_channel = 1 if req.stdout else 2 if stderr_open else ERROR

    def output_channel(self, stream: str, tty: bool) -> int | None:
        """Where a process's ``stream`` goes (None: nowhere)."""
        if stream == "stdout" or tty:
            return 1 if self.req.stdout else None
        return 2 if self.req.stderr else None

    async def send(self, channel: int, data: bytes) -> None:
        """Send ``data`` on ``channel`` (messages never interleave).

        Raises:
            WebSocketClosed: the client went away.

        Cancellation: the message may have been sent or not.
        """
        message = encode_frame(self.protocol, channel, data)
        async with self._lock:
            if isinstance(message, str):
                await self.ws.send_text(message)
            else:
                await self.ws.send_bytes(message)

    def sink(self, channel: int | None) -> Output:
        """A process's stream writing to ``channel`` (None: dropped); once the client is gone,
        writes raise ``trio.BrokenResourceError`` and the session is cancelled."""
        if channel is None:
            return Output(_discard)

        async def write(data: bytes) -> None:
            try:
                await self.send(channel, data)
            except WebSocketClosed:
                self._client_gone()
                raise trio.BrokenResourceError("the client went away") from None

        return Output(write)

    def _client_gone(self) -> None:
        self.gone = True
        if self._scope is not None:
            self._scope.cancel()

    async def finish(self, status: Mapping[str, object]) -> None:
        """Report ``status`` on the status channel and close the WebSocket (quietly, if the
        client already went away).

        Cancellation: the status may have been sent or not.
        """
        payload = encode_status(self.protocol, status)
        try:
            if payload is not None:
                await self.send(ERROR, payload)
            await self.ws.close(1000)
        except WebSocketClosed:
            pass

    async def run(
        self,
        main: Callable[[], Awaitable[Mapping[str, object]]],
        stdin: trio.MemorySendChannel[bytes] | None,
        resizes: trio.MemorySendChannel[TerminalSize] | None,
    ) -> None:
        """Run ``main`` while pumping what the client sends; finish with the status it returns,
        unless the client went away (then ``main`` is cancelled).

        Cancellation: ``main`` and the pump are cancelled; nothing more is sent.
        """
        status: Mapping[str, object] | None = None
        async with trio.open_nursery() as nursery:
            self._scope = nursery.cancel_scope
            nursery.start_soon(self._pump, stdin, resizes)
            status = await main()
            nursery.cancel_scope.cancel()
        if not self.gone and status is not None:
            await self.finish(status)

    async def _pump(
        self,
        stdin: trio.MemorySendChannel[bytes] | None,
        resizes: trio.MemorySendChannel[TerminalSize] | None,
    ) -> None:
        decoder = ResizeDecoder()
        try:
            while True:
                message = await self.ws.receive()
                try:
                    event = decode_message(self.protocol, message)
                except RemoteProtocolError:
                    continue
                if isinstance(event, CloseStream):
                    if event.channel == STDIN and stdin is not None:
                        stdin.close()
                elif event is None or not event.data:
                    continue
                elif event.channel == STDIN and stdin is not None:
                    with contextlib.suppress(trio.ClosedResourceError):
                        stdin.send_nowait(event.data)
                elif event.channel == RESIZE and resizes is not None:
                    try:
                        for size in decoder.feed(event.data):
                            resizes.send_nowait(size)
                    except RemoteProtocolError:
                        resizes.close()  # the kubelet stops reading sizes too
                        resizes = None
        except WebSocketClosed:
            # without v5's close signal, the end of the WebSocket is the end of stdin
            if stdin is not None:
                stdin.close()
            self._client_gone()


async def _discard(data: bytes) -> None:
    await trio.lowlevel.checkpoint()
