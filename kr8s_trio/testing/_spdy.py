"""SPDY/3.1 frames and their zlib-compressed header blocks, sans-IO.

kubectl 1.31+ forwards ports over SPDY/3.1 tunnelled in a WebSocket (subprotocol
``SPDY/3.1+portforward.k8s.io``): the binary messages form one byte stream of SPDY frames, split
anywhere. This module turns such a byte stream into frames (`FrameDecoder`, fed any chunks) and
frames into bytes (`encode_frame`); `_spdysession` keeps the per-stream state on top. Nothing here
does I/O, so the codec is tested on its own, over arbitrary chunk splits.

Layouts follow the SPDY draft 3.1 specification. Every header block of one direction shares a
single zlib stream primed with the specification's dictionary, each block ending on a sync flush,
so the compressor and the decompressor are per connection and must see blocks in wire order.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence

import attrs

__all__ = [
    "HEADER_DICTIONARY",
    "DataFrame",
    "Frame",
    "FrameDecoder",
    "GoAway",
    "HeaderCompressor",
    "HeaderDecompressor",
    "Headers",
    "HeadersFrame",
    "Ping",
    "RstStream",
    "Settings",
    "SpdyProtocolError",
    "SynReply",
    "SynStream",
    "WindowUpdate",
    "encode_frame",
    "normalize_headers",
]

VERSION = 3

# control frame types
SYN_STREAM = 1
SYN_REPLY = 2
RST_STREAM = 3
SETTINGS = 4
PING = 6
GOAWAY = 7
HEADERS = 8
WINDOW_UPDATE = 9

FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
FLAG_SETTINGS_CLEAR = 0x01

# RST_STREAM status codes
PROTOCOL_ERROR = 1
INVALID_STREAM = 2
REFUSED_STREAM = 3
UNSUPPORTED_VERSION = 4
CANCEL = 5
INTERNAL_ERROR = 6
FLOW_CONTROL_ERROR = 7
STREAM_IN_USE = 8
STREAM_ALREADY_CLOSED = 9
FRAME_TOO_LARGE = 11

# GOAWAY status codes
GOAWAY_OK = 0
GOAWAY_PROTOCOL_ERROR = 1
GOAWAY_INTERNAL_ERROR = 11

# SETTINGS ids
SETTINGS_MAX_CONCURRENT_STREAMS = 4
SETTINGS_INITIAL_WINDOW_SIZE = 7

#: the largest payload a frame's 24-bit length can announce
MAX_FRAME_PAYLOAD = (1 << 24) - 1
#: flow-control windows start at 64 KiB for streams and for the session
DEFAULT_WINDOW = 65536

_WORDS = (
    "options|head|post|put|delete|trace|accept|accept-charset|accept-encoding|accept-language|"
    "accept-ranges|age|allow|authorization|cache-control|connection|content-base|"
    "content-encoding|content-language|content-length|content-location|content-md5|"
    "content-range|content-type|date|etag|expect|expires|from|host|if-match|if-modified-since|"
    "if-none-match|if-range|if-unmodified-since|last-modified|location|max-forwards|pragma|"
    "proxy-authenticate|proxy-authorization|range|referer|retry-after|server|te|trailer|"
    "transfer-encoding|upgrade|user-agent|vary|via|warning|www-authenticate|method|get|status|"
    "200 OK|version|HTTP/1.1|url|public|set-cookie|keep-alive|origin"
)
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
#: the zlib dictionary of SPDY/3 header compression: words, each after its 32-bit length, then
#: a run of common values (1423 bytes)
HEADER_DICTIONARY = (
    b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS.split("|")) + _TAIL.encode()
)

#: header names and their values (several values of one name travel NUL-separated)
Headers = dict[str, tuple[str, ...]]


class SpdyProtocolError(Exception):
    """The peer broke the framing; the session must end with GOAWAY(PROTOCOL_ERROR)."""


@attrs.frozen
class DataFrame:
    stream_id: int
    data: bytes = b""
    fin: bool = False


@attrs.frozen
class SynStream:
    stream_id: int
    headers: Headers = attrs.field(factory=dict)
    associated_to: int = 0
    priority: int = 0
    slot: int = 0
    fin: bool = False
    unidirectional: bool = False


@attrs.frozen
class SynReply:
    stream_id: int
    headers: Headers = attrs.field(factory=dict)
    fin: bool = False


@attrs.frozen
class RstStream:
    stream_id: int
    status: int


@attrs.frozen
class Settings:
    #: (flags, id, value) per entry
    entries: tuple[tuple[int, int, int], ...] = ()
    clear: bool = False

    def values(self) -> dict[int, int]:
        return {setting_id: value for _, setting_id, value in self.entries}


@attrs.frozen
class Ping:
    ping_id: int


@attrs.frozen
class GoAway:
    last_good_stream_id: int
    status: int = GOAWAY_OK


@attrs.frozen
class HeadersFrame:
    stream_id: int
    headers: Headers = attrs.field(factory=dict)
    fin: bool = False


@attrs.frozen
class WindowUpdate:
    #: 0 for the session's window
    stream_id: int
    delta: int


Frame = (
    DataFrame | SynStream | SynReply | RstStream | Settings | Ping | GoAway | HeadersFrame
) | WindowUpdate


def normalize_headers(headers: Mapping[str, str | Sequence[str]]) -> Headers:
    """Lower-cased names with their values as tuples."""
    out: Headers = {}
    for name, value in headers.items():
        values = (value,) if isinstance(value, str) else tuple(value)
        out[name.lower()] = out.get(name.lower(), ()) + values
    return out


class HeaderCompressor:
    """One direction's header-block compressor (a single zlib stream for the connection)."""

    def __init__(self) -> None:
        self._zlib = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zdict=HEADER_DICTIONARY)

    def compress(self, headers: Mapping[str, str | Sequence[str]]) -> bytes:
        block = bytearray(struct.pack(">I", len(headers)))
        for name, values in normalize_headers(headers).items():
            raw_name, raw_value = name.encode(), "\x00".join(values).encode()
            block += struct.pack(">I", len(raw_name)) + raw_name
            block += struct.pack(">I", len(raw_value)) + raw_value
        return self._zlib.compress(bytes(block)) + self._zlib.flush(zlib.Z_SYNC_FLUSH)


class HeaderDecompressor:
    """One direction's header-block decompressor; blocks must arrive in wire order."""

    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(zdict=HEADER_DICTIONARY)

    def decompress(self, data: bytes) -> Headers:
        try:
            block = self._zlib.decompress(data)
        except zlib.error as exc:
            raise SpdyProtocolError(f"bad compressed header block: {exc}") from None
        try:
            (count,) = struct.unpack_from(">I", block)
            pos, pairs = 4, []
            for _ in range(count):
                (size,) = struct.unpack_from(">I", block, pos)
                name = block[pos + 4 : pos + 4 + size].decode()
                pos += 4 + size
                (size,) = struct.unpack_from(">I", block, pos)
                value = block[pos + 4 : pos + 4 + size].decode()
                pos += 4 + size
                pairs.append((name.lower(), tuple(value.split("\x00"))))
        except (struct.error, UnicodeDecodeError) as exc:
            raise SpdyProtocolError(f"malformed header block: {exc}") from None
        headers = dict(pairs)
        if pos != len(block) or len(headers) != len(pairs) or "" in headers:
            raise SpdyProtocolError("malformed header block: truncated, or repeated/empty names")
        return headers


def _control(frame_type: int, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_FRAME_PAYLOAD:
        raise ValueError("frame payload too large")
    return struct.pack(">HHI", 0x8000 | VERSION, frame_type, (flags << 24) | len(payload)) + payload


def encode_frame(frame: Frame, compressor: HeaderCompressor | None = None) -> bytes:
    """The wire bytes of ``frame``; frames with headers need the direction's compressor."""
    if isinstance(frame, DataFrame):
        if len(frame.data) > MAX_FRAME_PAYLOAD:
            raise ValueError("frame payload too large")
        flags = FLAG_FIN if frame.fin else 0
        head = struct.pack(">II", frame.stream_id & 0x7FFFFFFF, (flags << 24) | len(frame.data))
        return head + frame.data
    if isinstance(frame, (SynStream, SynReply, HeadersFrame)):
        if compressor is None:
            raise ValueError(f"{type(frame).__name__} needs a HeaderCompressor")
        block = compressor.compress(frame.headers)
        flags = FLAG_FIN if frame.fin else 0
        if isinstance(frame, SynStream):
            flags |= FLAG_UNIDIRECTIONAL if frame.unidirectional else 0
            head = struct.pack(
                ">IIBB",
                frame.stream_id & 0x7FFFFFFF,
                frame.associated_to & 0x7FFFFFFF,
                (frame.priority & 0x7) << 5,
                frame.slot,
            )
            return _control(SYN_STREAM, flags, head + block)
        kind = SYN_REPLY if isinstance(frame, SynReply) else HEADERS
        return _control(kind, flags, struct.pack(">I", frame.stream_id & 0x7FFFFFFF) + block)
    if isinstance(frame, RstStream):
        return _control(RST_STREAM, 0, struct.pack(">II", frame.stream_id, frame.status))
    if isinstance(frame, Settings):
        body = struct.pack(">I", len(frame.entries))
        for flags, setting_id, value in frame.entries:
            body += struct.pack(">II", (flags << 24) | setting_id, value)
        return _control(SETTINGS, FLAG_SETTINGS_CLEAR if frame.clear else 0, body)
    if isinstance(frame, Ping):
        return _control(PING, 0, struct.pack(">I", frame.ping_id))
    if isinstance(frame, GoAway):
        return _control(GOAWAY, 0, struct.pack(">II", frame.last_good_stream_id, frame.status))
    return _control(WINDOW_UPDATE, 0, struct.pack(">II", frame.stream_id, frame.delta))


class FrameDecoder:
    """Frames out of a byte stream fed in arbitrary chunks (one direction of a connection)."""

    def __init__(self, decompressor: HeaderDecompressor | None = None) -> None:
        self._buffer = bytearray()
        self._headers = decompressor or HeaderDecompressor()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a whole frame."""
        return len(self._buffer)

    def frames(self) -> Iterator[Frame]:
        """Every whole frame buffered so far (unknown control frame types are skipped).

        Raises:
            SpdyProtocolError: the bytes are not SPDY/3 frames.
        """
        while len(self._buffer) >= 8:
            first, second = struct.unpack_from(">II", self._buffer)
            length = second & 0xFFFFFF
            if len(self._buffer) < 8 + length:
                return
            flags = second >> 24
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            if not first & 0x80000000:
                stream_id = first & 0x7FFFFFFF
                if stream_id == 0:
                    raise SpdyProtocolError("DATA frame on stream 0")
                yield DataFrame(stream_id, payload, bool(flags & FLAG_FIN))
                continue
            version, frame_type = (first >> 16) & 0x7FFF, first & 0xFFFF
            if version != VERSION:
                raise SpdyProtocolError(f"unsupported SPDY version {version}")
            frame = self._control(frame_type, flags, payload)
            if frame is not None:
                yield frame

    def _control(self, frame_type: int, flags: int, payload: bytes) -> Frame | None:
        try:
            return self._parse_control(frame_type, flags, payload)
        except struct.error:
            raise SpdyProtocolError(f"control frame {frame_type} is too short") from None

    def _parse_control(self, frame_type: int, flags: int, payload: bytes) -> Frame | None:
        fin = bool(flags & FLAG_FIN)
        if frame_type == SYN_STREAM:
            stream_id, associated, priority, slot = struct.unpack_from(">IIBB", payload)
            return SynStream(
                _stream_id(stream_id),
                self._headers.decompress(payload[10:]),
                associated & 0x7FFFFFFF,
                priority >> 5,
                slot,
                fin,
                bool(flags & FLAG_UNIDIRECTIONAL),
            )
        if frame_type in (SYN_REPLY, HEADERS):
            (stream_id,) = struct.unpack_from(">I", payload)
            headers = self._headers.decompress(payload[4:])
            if frame_type == SYN_REPLY:
                return SynReply(_stream_id(stream_id), headers, fin)
            return HeadersFrame(_stream_id(stream_id), headers, fin)
        if frame_type == RST_STREAM:
            stream_id, status = _fixed(payload, 8)
            return RstStream(_stream_id(stream_id), status)
        if frame_type == SETTINGS:
            (count,) = struct.unpack_from(">I", payload)
            if len(payload) != 4 + 8 * count:
                raise SpdyProtocolError("SETTINGS length does not match its entries")
            entries = tuple(
                (word >> 24, word & 0xFFFFFF, value)
                for word, value in struct.iter_unpack(">II", payload[4:])
            )
            return Settings(entries, bool(flags & FLAG_SETTINGS_CLEAR))
        if frame_type == PING:
            (ping_id,) = _fixed(payload, 4)
            return Ping(ping_id)
        if frame_type == GOAWAY:
            last_good, status = _fixed(payload, 8)
            return GoAway(last_good & 0x7FFFFFFF, status)
        if frame_type == WINDOW_UPDATE:
            stream_id, delta = _fixed(payload, 8)
            delta &= 0x7FFFFFFF
            if delta == 0:
                raise SpdyProtocolError("WINDOW_UPDATE with a zero delta")
            return WindowUpdate(stream_id & 0x7FFFFFFF, delta)
        return None  # NOOP, CREDENTIAL and unknown types are ignored, as the draft says


def _stream_id(raw: int) -> int:
    stream_id = raw & 0x7FFFFFFF
    if stream_id == 0:
        raise SpdyProtocolError("stream id 0 is not allowed here")
    return stream_id


def _fixed(payload: bytes, size: int) -> tuple[int, ...]:
    if len(payload) != size:
        raise SpdyProtocolError(f"control frame payload must be {size} bytes")
    return struct.unpack(">" + "I" * (size // 4), payload)
