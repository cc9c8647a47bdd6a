"""The server side of a SPDY/3.1 session, sans-IO: bytes in, events out; calls in, bytes out.

Like h2's ``H2Connection``: `SpdyServerSession.receive_data` turns the peer's bytes into events
(a stream opened with its headers, data, a half-close, a reset, a ping, GOAWAY, SETTINGS, window
updates) and answers what the protocol answers by itself (PING echoes, refusals of bad stream
ids); the owner replies, sends data, half-closes and resets streams with method calls, and
writes out `data_to_send` whenever it likes. The port-forward tunnel (`_spdytunnel`) is the
owner; tests drive it directly.

Flow control: WINDOW_UPDATE frames are sent (per stream and for the session) as the owner
reports received data consumed; the peer's WINDOW_UPDATE and SETTINGS are reported as events
and otherwise ignored: no send window is tracked or enforced. The SPDY library Kubernetes uses
on both ends (moby/spdystream, in kubectl and in the kubelet) implements no flow control: it
never sends WINDOW_UPDATE and ignores ours, so a server that waited for window space would
stall after 64 KiB, and one that policed its own window would reset kubectl's streams.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from kr8s_trio.testing._spdy import (
    DEFAULT_WINDOW,
    GOAWAY_OK,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    DataFrame,
    Frame,
    FrameDecoder,
    GoAway,
    HeaderCompressor,
    Headers,
    HeadersFrame,
    Ping,
    RstStream,
    Settings,
    SynReply,
    SynStream,
    WindowUpdate,
    encode_frame,
    normalize_headers,
)

__all__ = [
    "DataReceived",
    "Event",
    "GoAwayReceived",
    "HeadersReceived",
    "PingReceived",
    "SettingsReceived",
    "SpdyServerSession",
    "StreamClosedError",
    "StreamEnded",
    "StreamOpened",
    "StreamReset",
    "WindowUpdated",
]

#: the largest DATA frame this side sends (kubelets copy in 32 KiB reads)
MAX_DATA_FRAME = 32 * 1024


@attrs.frozen
class StreamOpened:
    stream_id: int
    headers: Headers
    priority: int = 0
    #: the peer will not send on it (FLAG_UNIDIRECTIONAL)
    unidirectional: bool = False


@attrs.frozen
class DataReceived:
    stream_id: int
    data: bytes


@attrs.frozen
class StreamEnded:
    """The peer half-closed the stream (FLAG_FIN)."""

    stream_id: int


@attrs.frozen
class StreamReset:
    stream_id: int
    status: int


@attrs.frozen
class HeadersReceived:
    stream_id: int
    headers: Headers


@attrs.frozen
class PingReceived:
    """A ping from the peer; the echo is already queued."""

    ping_id: int


@attrs.frozen
class SettingsReceived:
    settings: dict[int, int]


@attrs.frozen
class GoAwayReceived:
    last_good_stream_id: int
    status: int


@attrs.frozen
class WindowUpdated:
    #: 0 for the session
    stream_id: int
    delta: int


Event = (
    StreamOpened
    | DataReceived
    | StreamEnded
    | StreamReset
    | HeadersReceived
    | PingReceived
    | SettingsReceived
    | GoAwayReceived
    | WindowUpdated
)


class StreamClosedError(Exception):
    """Sending on a stream this side has half-closed, or that is gone."""


@attrs.define
class _Stream:
    stream_id: int
    local_closed: bool = False
    remote_closed: bool = False
    #: bytes consumed by the owner and not yet announced with WINDOW_UPDATE
    unannounced: int = 0


class SpdyServerSession:
    """One SPDY/3.1 session seen from the server (streams opened by the client are odd)."""

    def __init__(self, *, receive_window: int = DEFAULT_WINDOW) -> None:
        self._decoder = FrameDecoder()
        self._compressor = HeaderCompressor()
        self._out = bytearray()
        self._streams: dict[int, _Stream] = {}
        self._last_remote_id = 0
        self._receive_window = receive_window
        self._session_unannounced = 0
        #: the peer sent GOAWAY: it opens no more streams
        self.goaway_received = False
        #: this side sent GOAWAY: new streams are refused
        self.goaway_sent = False

    # -- input ---------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Events for the peer's bytes (any split; partial frames wait for the rest).

        Raises:
            SpdyProtocolError: the bytes are not SPDY/3; send GOAWAY(PROTOCOL_ERROR) and stop.
        """
        self._decoder.feed(data)
        events: list[Event] = []
        for frame in self._decoder.frames():
            self._on_frame(frame, events)
        return events

    def _on_frame(self, frame: Frame, events: list[Event]) -> None:
        if isinstance(frame, SynStream):
            self._on_syn_stream(frame, events)
        elif isinstance(frame, DataFrame):
            stream = self._streams.get(frame.stream_id)
            # data for unknown or finished streams is dropped, as spdystream does
            if stream is None or stream.remote_closed:
                return
            if frame.data:
                events.append(DataReceived(frame.stream_id, frame.data))
            if frame.fin:
                self._remote_finished(stream, events)
        elif isinstance(frame, HeadersFrame):
            stream = self._streams.get(frame.stream_id)
            if stream is None or stream.remote_closed:
                return
            events.append(HeadersReceived(frame.stream_id, frame.headers))
            if frame.fin:
                self._remote_finished(stream, events)
        elif isinstance(frame, RstStream):
            if self._streams.pop(frame.stream_id, None) is not None:
                events.append(StreamReset(frame.stream_id, frame.status))
        elif isinstance(frame, Settings):
            events.append(SettingsReceived(frame.values()))
        elif isinstance(frame, Ping):
            # the client's pings are odd: echo them; this side sends none, so an even one
            # answers nothing and is dropped (as spdystream drops an unknown ping reply)
            if frame.ping_id % 2:
                self._queue(frame)
                events.append(PingReceived(frame.ping_id))
        elif isinstance(frame, GoAway):
            self.goaway_received = True
            events.append(GoAwayReceived(frame.last_good_stream_id, frame.status))
        elif isinstance(frame, WindowUpdate) and (
            frame.stream_id == 0 or frame.stream_id in self._streams
        ):
            # reported for the session (0) and for known streams; no send window is kept
            events.append(WindowUpdated(frame.stream_id, frame.delta))
        # a SYN_REPLY from the client answers nothing this side opened: ignored

    def _on_syn_stream(self, frame: SynStream, events: list[Event]) -> None:
        stream_id = frame.stream_id
        if stream_id % 2 == 0 or stream_id <= self._last_remote_id:
            self._queue(RstStream(stream_id, PROTOCOL_ERROR))
            return
        self._last_remote_id = stream_id
        if self.goaway_sent:
            self._queue(RstStream(stream_id, REFUSED_STREAM))
            return
        stream = _Stream(stream_id, local_closed=frame.unidirectional)
        self._streams[stream_id] = stream
        events.append(StreamOpened(stream_id, frame.headers, frame.priority, frame.unidirectional))
        if frame.fin:
            self._remote_finished(stream, events)

    def _remote_finished(self, stream: _Stream, events: list[Event]) -> None:
        stream.remote_closed = True
        events.append(StreamEnded(stream.stream_id))
        self._forget_if_closed(stream)

    def _forget_if_closed(self, stream: _Stream) -> None:
        if stream.local_closed and stream.remote_closed:
            self._streams.pop(stream.stream_id, None)

    # -- output --------------------------------------------------------------------------------

    def _queue(self, frame: Frame) -> None:
        self._out += encode_frame(frame, self._compressor)

    def data_to_send(self) -> bytes:
        """The bytes queued for the peer since the last call."""
        data = bytes(self._out)
        self._out.clear()
        return data

    def is_open(self, stream_id: int) -> bool:
        """Whether the stream exists and this side may still send on it."""
        stream = self._streams.get(stream_id)
        return stream is not None and not stream.local_closed

    def reply(
        self,
        stream_id: int,
        headers: Mapping[str, str | Sequence[str]] | None = None,
        *,
        fin: bool = False,
    ) -> None:
        """Accept a stream the peer opened (SYN_REPLY)."""
        self._queue(SynReply(stream_id, normalize_headers(headers or {}), fin))
        if fin and (stream := self._streams.get(stream_id)) is not None:
            stream.local_closed = True
            self._forget_if_closed(stream)

    def send_data(self, stream_id: int, data: bytes, *, fin: bool = False) -> None:
        """Queue ``data`` on the stream (split into frames), half-closing it if ``fin``.

        Raises:
            StreamClosedError: the stream is gone or already half-closed by this side.
        """
        stream = self._streams.get(stream_id)
        if stream is None or stream.local_closed:
            raise StreamClosedError(f"stream {stream_id} is closed for sending")
        view = memoryview(data)
        while len(view) > MAX_DATA_FRAME:
            self._queue(DataFrame(stream_id, bytes(view[:MAX_DATA_FRAME])))
            view = view[MAX_DATA_FRAME:]
        self._queue(DataFrame(stream_id, bytes(view), fin))
        if fin:
            stream.local_closed = True
            self._forget_if_closed(stream)

    def end_stream(self, stream_id: int) -> None:
        """Half-close the stream (an empty DATA frame with FIN); no-op when already done."""
        if self.is_open(stream_id):
            self.send_data(stream_id, b"", fin=True)

    def reset_stream(self, stream_id: int, status: int) -> None:
        """Abort the stream (RST_STREAM with ``status``)."""
        self._streams.pop(stream_id, None)
        self._queue(RstStream(stream_id, status))

    def acknowledge_received_data(self, stream_id: int, size: int) -> None:
        """The owner consumed ``size`` bytes received on the stream: once half a window is
        consumed, tell the peer (WINDOW_UPDATE for the stream and for the session)."""
        threshold = max(self._receive_window // 2, 1)
        self._session_unannounced += size
        stream = self._streams.get(stream_id)
        if stream is not None and not stream.remote_closed:
            stream.unannounced += size
            if stream.unannounced >= threshold:
                self._queue(WindowUpdate(stream_id, stream.unannounced))
                stream.unannounced = 0
        if self._session_unannounced >= threshold:
            self._queue(WindowUpdate(0, self._session_unannounced))
            self._session_unannounced = 0

    def goaway(self, status: int = GOAWAY_OK) -> None:
        """Tell the peer this side accepts no new streams (idempotent)."""
        if not self.goaway_sent:
            self.goaway_sent = True
            self._queue(GoAway(self._last_remote_id, status))
