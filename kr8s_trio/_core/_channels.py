"""The channel protocols of exec and attach over WebSocket (``*.channel.k8s.io``), sans-IO.

Kubernetes multiplexes a process's streams over one WebSocket: every message starts with a
channel byte (0 stdin, 1 stdout, 2 stderr, 3 status, 4 terminal resize) followed by the payload.
The subprotocol negotiated in ``Sec-WebSocket-Protocol`` says how to read the rest:

====================================  =======================================================
``v5.channel.k8s.io``                 binary; the status channel carries a JSON ``Status``;
                                      ``[255, channel]`` half-closes a stream (stdin EOF)
``v4.channel.k8s.io``                 binary; JSON ``Status``; stdin ends with the WebSocket
``v4.base64.channel.k8s.io``          as v4, in text messages: ``'0' + channel`` then base64
``channel.k8s.io`` (and no header)    binary; the status channel carries only an error text
``base64.channel.k8s.io``             as ``channel.k8s.io``, base64 in text messages
====================================  =======================================================

Both ends use this module: the fake API server frames what its simulated containers write, and
the client decodes it. Nothing here does I/O: functions turn payloads into WebSocket messages
(``bytes`` for binary protocols, ``str`` for base64 ones) and messages back into `Frame` and
`CloseStream` events; `ResizeDecoder` reads the resize channel, which is a stream of JSON
objects that may be split across (or packed into) messages. What the status channel carries is
built and read by `kr8s_trio._core._channel_status`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence

import attrs

from ._exceptions import LocalProtocolError, RemoteProtocolError

__all__ = [
    "BASE64_V1",
    "BASE64_V4",
    "CLOSE",
    "ERROR",
    "PROTOCOLS",
    "RESIZE",
    "STDERR",
    "STDIN",
    "STDOUT",
    "V1",
    "V4",
    "V5",
    "ChannelProtocol",
    "CloseStream",
    "Frame",
    "ResizeDecoder",
    "TerminalSize",
    "choose_protocol",
    "decode_message",
    "encode_close",
    "encode_frame",
    "encode_resize",
    "get_protocol",
]

#: channel numbers (``apimachinery/pkg/util/remotecommand/constants.go``)
STDIN = 0
STDOUT = 1
STDERR = 2
ERROR = 3
RESIZE = 4
#: the v5 stream-close signal: a message ``[CLOSE, channel]``
CLOSE = 255

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
BASE64_V4 = "v4.base64.channel.k8s.io"
V1 = "channel.k8s.io"
BASE64_V1 = "base64.channel.k8s.io"


@attrs.frozen
class ChannelProtocol:
    """How one subprotocol frames messages.

    Attributes:
        name: the ``Sec-WebSocket-Protocol`` value (``""``: none was negotiated).
        base64: text messages carrying ``'0' + channel`` and the base64 of the payload.
        json_status: the status channel carries a JSON ``Status`` (v4 and later); otherwise only
            a failure's message, as text, and nothing on success.
        stream_close: ``[255, channel]`` half-closes a stream (v5).
    """

    name: str
    base64: bool = False
    json_status: bool = False
    stream_close: bool = False


#: every channel protocol, by name
PROTOCOLS: Mapping[str, ChannelProtocol] = {
    p.name: p
    for p in (
        ChannelProtocol(V5, json_status=True, stream_close=True),
        ChannelProtocol(V4, json_status=True),
        ChannelProtocol(BASE64_V4, base64=True, json_status=True),
        ChannelProtocol(V1),
        ChannelProtocol(BASE64_V1, base64=True),
        ChannelProtocol(""),
    )
}


def get_protocol(name: str) -> ChannelProtocol:
    """The protocol named ``name`` (``""`` for a WebSocket without a subprotocol).

    Raises:
        LocalProtocolError: not a channel protocol.
    """
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise LocalProtocolError(f"{name!r} is not a channel protocol") from None


def choose_protocol(offered: Sequence[str], supported: Sequence[str]) -> str | None:
    """The first of the client's ``offered`` subprotocols (in its order) that is ``supported``;
    ``""`` when nothing was offered and ``""`` is supported; otherwise None."""
    if not offered:
        return "" if "" in supported else None
    for name in offered:
        if name in supported:
            return name
    return None


# -- frames -------------------------------------------------------------------------------------


@attrs.frozen
class Frame:
    """Data on one channel (an empty payload is the "connection established" marker)."""

    channel: int
    data: bytes


@attrs.frozen
class CloseStream:
    """The peer will send nothing more on ``channel`` (v5 only)."""

    channel: int


#: base64 protocols write the channel as the ASCII character '0' + channel
_MAX_BASE64_CHANNEL = 0x7F - ord("0")


def _check_channel(channel: int) -> None:
    if not 0 <= channel < CLOSE:
        raise LocalProtocolError(f"channel {channel} is out of range")


def encode_frame(protocol: ChannelProtocol, channel: int, data: bytes = b"") -> bytes | str:
    """The WebSocket message carrying ``data`` on ``channel``: bytes, or text for base64."""
    _check_channel(channel)
    if protocol.base64:
        if channel > _MAX_BASE64_CHANNEL:
            raise LocalProtocolError(f"channel {channel} cannot be sent as base64 text")
        return chr(ord("0") + channel) + base64.b64encode(data).decode("ascii")
    return bytes((channel,)) + data


def encode_close(protocol: ChannelProtocol, channel: int) -> bytes:
    """The v5 message that half-closes ``channel`` (``[255, channel]``).

    Raises:
        LocalProtocolError: the protocol has no stream close.
    """
    if not protocol.stream_close:
        raise LocalProtocolError(f"{protocol.name or 'this protocol'} cannot close one stream")
    _check_channel(channel)
    return bytes((CLOSE, channel))


def decode_message(protocol: ChannelProtocol, message: bytes | str) -> Frame | CloseStream | None:
    """The event in one received WebSocket message; None for an empty message (ignored, as the
    real server does).

    Raises:
        RemoteProtocolError: a malformed close signal or base64 payload.
    """
    raw = message.encode("utf-8") if isinstance(message, str) else bytes(message)
    if not raw:
        return None
    if protocol.stream_close and raw[0] == CLOSE:
        if len(raw) != 2:
            raise RemoteProtocolError(
                f"a stream close signal carries one channel byte, got {len(raw) - 1}"
            )
        return CloseStream(raw[1])
    if protocol.base64:
        channel = raw[0] - ord("0")
        if not 0 <= channel <= _MAX_BASE64_CHANNEL:
            raise RemoteProtocolError(f"invalid base64 channel byte {raw[0]!r}")
        try:
            data = base64.b64decode(raw[1:], validate=True)
        except binascii.Error as exc:
            raise RemoteProtocolError(f"invalid base64 payload on channel {channel}") from exc
        return Frame(channel, data)
    return Frame(raw[0], raw[1:])


# -- terminal resize -------------------------------------------------------------------------


@attrs.frozen
class TerminalSize:
    """A terminal's size in characters (``remotecommand.TerminalSize``)."""

    width: int
    height: int


def encode_resize(protocol: ChannelProtocol, size: TerminalSize) -> bytes | str:
    """The resize message, as client-go writes it: ``{"Width":W,"Height":H}`` and a newline."""
    payload = f'{{"Width":{size.width},"Height":{size.height}}}\n'.encode()
    return encode_frame(protocol, RESIZE, payload)


class ResizeDecoder:
    """Reads the resize channel: a stream of JSON objects, split across messages at will.

    Field names match case-insensitively and missing ones are 0, as Go's decoder reads them into
    ``TerminalSize``; sizes are unsigned 16-bit numbers.
    """

    #: the longest resize object accepted (a real one is about 30 bytes)
    MAX_OBJECT = 4096

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._scanned = 0

    def feed(self, data: bytes) -> list[TerminalSize]:
        """The sizes completed by ``data``.

        Raises:
            RemoteProtocolError: the stream is not a sequence of JSON objects of sizes.
        """
        sizes: list[TerminalSize] = []
        self._buffer += data
        while self._scanned < len(self._buffer):
            byte = self._buffer[self._scanned]
            self._scanned += 1
            if self._depth == 0:
                if byte in b" \t\r\n":
                    del self._buffer[: self._scanned]
                    self._scanned = 0
                    continue
                if byte != ord("{"):
                    raise RemoteProtocolError(f"invalid resize message: {bytes(self._buffer)!r}")
            if self._in_string:
                if self._escaped:
                    self._escaped = False
                elif byte == ord("\\"):
                    self._escaped = True
                elif byte == ord('"'):
                    self._in_string = False
            elif byte == ord('"'):
                self._in_string = True
            elif byte == ord("{"):
                self._depth += 1
            elif byte == ord("}"):
                self._depth -= 1
                if self._depth == 0:
                    sizes.append(self._decode(bytes(self._buffer[: self._scanned])))
                    del self._buffer[: self._scanned]
                    self._scanned = 0
        if len(self._buffer) > self.MAX_OBJECT:
            raise RemoteProtocolError("a resize message is too long")
        return sizes

    @staticmethod
    def _decode(raw: bytes) -> TerminalSize:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise RemoteProtocolError(f"invalid resize message: {raw[:80]!r}") from exc
        return _terminal_size(value)


def _terminal_size(value: object) -> TerminalSize:
    if not isinstance(value, dict):
        raise RemoteProtocolError(f"a resize message is a JSON object, got {value!r}")
    fields = {str(k).lower(): v for k, v in value.items()}
    numbers = []
    for name in ("width", "height"):
        n = fields.get(name, 0)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 0xFFFF:
            raise RemoteProtocolError(f"invalid terminal {name} {n!r}")
        numbers.append(n)
    return TerminalSize(numbers[0], numbers[1])
