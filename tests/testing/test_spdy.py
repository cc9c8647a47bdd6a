"""SPDY/3.1 framing, header compression and the server session, without I/O.

Exact bytes for the fixed-layout frames (from the draft's layouts), round trips for every frame
type, the decoder over arbitrary chunk splits (hypothesis), and the session's answers: replies,
data both ways, half-close, resets, pings, GOAWAY, SETTINGS and window updates.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest
from hypothesis import given, strategies as st

from kr8s_trio.testing._spdy import (
    HEADER_DICTIONARY,
    DataFrame,
    Frame,
    FrameDecoder,
    GoAway,
    HeaderCompressor,
    HeadersFrame,
    Ping,
    RstStream,
    Settings,
    SpdyProtocolError,
    SynReply,
    SynStream,
    WindowUpdate,
    encode_frame,
)
from kr8s_trio.testing._spdysession import (
    DataReceived,
    GoAwayReceived,
    HeadersReceived,
    PingReceived,
    SettingsReceived,
    SpdyServerSession,
    StreamClosedError,
    StreamEnded,
    StreamOpened,
    StreamReset,
    WindowUpdated,
)

# -- the dictionary and header blocks -----------------------------------------------------------


def test_spdy_dictionary_is_the_drafts() -> None:
    assert len(HEADER_DICTIONARY) == 1423
    assert HEADER_DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert b"\x00\x00\x00\x08HTTP/1.1\x00\x00\x00\x03url" in HEADER_DICTIONARY
    assert HEADER_DICTIONARY.endswith(b"charset=iso-8859-1,utf-,*,enq=0.")
    assert (
        hashlib.sha256(HEADER_DICTIONARY).hexdigest()
        == "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"
    )


def test_spdy_header_block_layout_and_shared_zlib_stream() -> None:
    compressor = HeaderCompressor()
    first = compressor.compress({"streamType": "data", "Port": ["80", "81"]})
    # one zlib stream per direction: only the first block carries the zlib header with the
    # dictionary's id, and every block ends on a sync flush
    assert first[:2] == b"\x78\xf9"
    assert first[2:6] == zlib.adler32(HEADER_DICTIONARY).to_bytes(4, "big")
    assert first.endswith(b"\x00\x00\xff\xff")
    second = compressor.compress({})
    assert second.endswith(b"\x00\x00\xff\xff")
    inflate = zlib.decompressobj(zdict=HEADER_DICTIONARY)
    assert inflate.decompress(first) == (
        struct.pack(">I", 2)
        + struct.pack(">I", 10)
        + b"streamtype"
        + struct.pack(">I", 4)
        + b"data"
        + struct.pack(">I", 4)
        + b"port"
        + struct.pack(">I", 5)
        + b"80\x0081"
    )
    assert inflate.decompress(second) == b"\x00\x00\x00\x00"


# -- frames -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "wire"),
    [
        (DataFrame(3, b"hi", fin=True), "00000003 01000002 6869"),
        (DataFrame(5), "00000005 00000000"),
        (RstStream(3, 5), "80030003 00000008 00000003 00000005"),
        (Ping(1), "80030006 00000004 00000001"),
        (GoAway(7, 1), "80030007 00000008 00000007 00000001"),
        (WindowUpdate(0, 65536), "80030009 00000008 00000000 00010000"),
        (
            Settings(((0, 7, 1 << 20), (1, 4, 100))),
            "80030004 00000014 00000002 00000007 00100000 01000004 00000064",
        ),
        (Settings((), clear=True), "80030004 01000004 00000000"),
    ],
)
def test_spdy_fixed_frames_wire_bytes(frame: Frame, wire: str) -> None:
    data = encode_frame(frame)
    assert data == bytes.fromhex(wire.replace(" ", ""))
    decoder = FrameDecoder()
    decoder.feed(data)
    assert list(decoder.frames()) == [frame]


def test_spdy_header_frames_round_trip_in_order() -> None:
    compressor = HeaderCompressor()
    frames: list[Frame] = [
        SynStream(1, {"streamtype": ("error",), "port": ("80",)}, priority=3, fin=True),
        SynStream(3, {"a": ("1", "2")}, associated_to=1, slot=2, unidirectional=True),
        SynReply(1, {}),
        HeadersFrame(3, {"x": ("y",)}, fin=True),
    ]
    wire = b"".join(encode_frame(f, compressor) for f in frames)
    assert wire[:5] == bytes.fromhex("8003000101")  # SYN_STREAM with FLAG_FIN
    decoder = FrameDecoder()
    decoder.feed(wire)
    assert list(decoder.frames()) == frames
    assert decoder.buffered == 0


def test_spdy_header_frame_needs_a_compressor() -> None:
    with pytest.raises(ValueError, match="needs a HeaderCompressor"):
        encode_frame(SynReply(1))


def test_spdy_unknown_control_frames_are_skipped() -> None:
    decoder = FrameDecoder()
    decoder.feed(bytes.fromhex("8003000a 00000002 abcd") + encode_frame(Ping(3)))
    assert list(decoder.frames()) == [Ping(3)]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ("80020006 00000004 00000001", "unsupported SPDY version 2"),
        ("00000000 00000001 ff", "DATA frame on stream 0"),
        ("80030006 00000002 0001", "payload must be 4 bytes"),
        ("80030009 00000008 00000001 00000000", "zero delta"),
        ("80030003 00000008 00000000 00000001", "stream id 0"),
        ("80030004 00000008 00000002 00000007", "SETTINGS length"),
        ("80030002 00000002 0000", "too short"),
        ("80030002 00000008 00000001 deadbeef", "bad compressed header block"),
    ],
)
def test_spdy_decoder_rejects_malformed_frames(wire: str, message: str) -> None:
    decoder = FrameDecoder()
    decoder.feed(bytes.fromhex(wire.replace(" ", "")))
    with pytest.raises(SpdyProtocolError, match=message):
        list(decoder.frames())


def test_spdy_decoder_rejects_malformed_header_blocks() -> None:
    raw = zlib.compressobj(zdict=HEADER_DICTIONARY)
    block = struct.pack(">I", 2) + (struct.pack(">I", 1) + b"a" + struct.pack(">I", 0)) * 2
    payload = struct.pack(">I", 1) + raw.compress(block) + raw.flush(zlib.Z_SYNC_FLUSH)
    decoder = FrameDecoder()
    decoder.feed(struct.pack(">HHI", 0x8003, 2, len(payload)) + payload)
    with pytest.raises(SpdyProtocolError, match="repeated/empty names"):
        list(decoder.frames())


names = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
values = st.tuples(st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20))
header_maps = st.dictionaries(names, values, max_size=4)
stream_ids = st.integers(1, 2**31 - 1)
frames = st.one_of(
    st.builds(DataFrame, stream_ids, st.binary(max_size=300), st.booleans()),
    st.builds(SynStream, stream_ids, header_maps, st.integers(0, 2**31 - 1), st.integers(0, 7)),
    st.builds(SynReply, stream_ids, header_maps, st.booleans()),
    st.builds(HeadersFrame, stream_ids, header_maps, st.booleans()),
    st.builds(RstStream, stream_ids, st.integers(1, 11)),
    st.builds(Ping, st.integers(0, 2**32 - 1)),
    st.builds(GoAway, st.integers(0, 2**31 - 1), st.integers(0, 11)),
    st.builds(WindowUpdate, st.integers(0, 2**31 - 1), st.integers(1, 2**31 - 1)),
)


@given(st.lists(frames, max_size=12), st.data())
def test_spdy_decoder_over_any_chunk_split(sequence: list[Frame], data: st.DataObject) -> None:
    compressor = HeaderCompressor()
    wire = b"".join(encode_frame(f, compressor) for f in sequence)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    decoder = FrameDecoder()
    decoded: list[Frame] = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        decoder.feed(wire[start:end])
        decoded.extend(decoder.frames())
    assert decoded == sequence
    assert decoder.buffered == 0


# -- the server session -------------------------------------------------------------------------


class Peer:
    """The client's side of the wire: its own compressor and decoder."""

    def __init__(self) -> None:
        self.compressor = HeaderCompressor()
        self.decoder = FrameDecoder()

    def wire(self, *frames: Frame) -> bytes:
        return b"".join(encode_frame(f, self.compressor) for f in frames)

    def read(self, session: SpdyServerSession) -> list[Frame]:
        self.decoder.feed(session.data_to_send())
        return list(self.decoder.frames())


HEADERS = {"streamtype": ("data",), "port": ("80",), "requestid": ("0",)}


def test_spdy_session_stream_lifecycle() -> None:
    session, peer = SpdyServerSession(), Peer()
    events = session.receive_data(peer.wire(SynStream(1, HEADERS), DataFrame(1, b"ping")))
    assert events == [StreamOpened(1, HEADERS), DataReceived(1, b"ping")]
    session.reply(1)
    session.send_data(1, b"pong")
    assert peer.read(session) == [SynReply(1, {}), DataFrame(1, b"pong")]
    assert session.receive_data(peer.wire(DataFrame(1, b"", fin=True))) == [StreamEnded(1)]
    assert session.is_open(1)  # half-closed by the peer only
    session.send_data(1, b"last", fin=True)
    assert peer.read(session) == [DataFrame(1, b"last", fin=True)]
    assert not session.is_open(1)
    with pytest.raises(StreamClosedError):
        session.send_data(1, b"more")
    session.end_stream(1)  # a no-op now
    assert session.data_to_send() == b""
    # data on a finished or unknown stream is dropped, as spdystream does
    assert session.receive_data(peer.wire(DataFrame(1, b"late"), DataFrame(9, b"?"))) == []


def test_spdy_session_open_with_fin_headers_and_reset() -> None:
    session, peer = SpdyServerSession(), Peer()
    events = session.receive_data(
        peer.wire(SynStream(1, HEADERS, fin=True), SynStream(3, HEADERS, unidirectional=True))
    )
    assert events == [
        StreamOpened(1, HEADERS),
        StreamEnded(1),
        StreamOpened(3, HEADERS, unidirectional=True),
    ]
    assert not session.is_open(3)  # unidirectional: the server may not send
    session.reply(1)
    events = session.receive_data(peer.wire(HeadersFrame(3, {"k": ("v",)}), RstStream(3, 5)))
    assert events == [HeadersReceived(3, {"k": ("v",)}), StreamReset(3, 5)]
    assert session.receive_data(peer.wire(RstStream(3, 5))) == []  # already gone
    session.reset_stream(1, 6)
    assert peer.read(session) == [SynReply(1, {}), RstStream(1, 6)]
    assert not session.is_open(1)


def test_spdy_session_refuses_bad_stream_ids_and_streams_after_goaway() -> None:
    session, peer = SpdyServerSession(), Peer()
    events = session.receive_data(
        peer.wire(SynStream(2, HEADERS), SynStream(5, HEADERS), SynStream(3, HEADERS))
    )
    assert events == [StreamOpened(5, HEADERS)]
    assert peer.read(session) == [RstStream(2, 1), RstStream(3, 1)]  # PROTOCOL_ERROR
    session.goaway()
    session.goaway()  # once only
    assert session.receive_data(peer.wire(SynStream(7, HEADERS))) == []
    assert peer.read(session) == [GoAway(5, 0), RstStream(7, 3)]  # REFUSED_STREAM


def test_spdy_session_pings_settings_goaway() -> None:
    session, peer = SpdyServerSession(), Peer()
    events = session.receive_data(
        peer.wire(Ping(1), Ping(2), Settings(((0, 4, 100),)), GoAway(0, 0))
    )
    assert events == [
        PingReceived(1),
        SettingsReceived({4: 100}),
        GoAwayReceived(0, 0),
    ]
    assert session.goaway_received
    assert peer.read(session) == [Ping(1)]  # an even ping answers none of ours: not echoed


def test_spdy_session_windows_are_not_enforced() -> None:
    session, peer = SpdyServerSession(), Peer()
    session.receive_data(peer.wire(SynStream(1, HEADERS)))
    session.reply(1)
    session.send_data(1, b"x" * 70_000)  # beyond the 64 KiB window: sent anyway
    sent = peer.read(session)
    assert [type(f) for f in sent] == [SynReply, DataFrame, DataFrame, DataFrame]
    assert [len(f.data) for f in sent[1:]] == [32768, 32768, 70_000 - 65536]  # type: ignore[union-attr]
    events = session.receive_data(
        peer.wire(WindowUpdate(1, 10_000), WindowUpdate(0, 20_000), WindowUpdate(99, 1))
    )
    assert events == [WindowUpdated(1, 10_000), WindowUpdated(0, 20_000)]


def test_spdy_session_announces_consumed_data_every_half_window() -> None:
    session, peer = SpdyServerSession(), Peer()
    session.receive_data(peer.wire(SynStream(1, HEADERS), DataFrame(1, b"y" * 40_000)))
    session.reply(1)
    peer.read(session)
    session.acknowledge_received_data(1, 20_000)
    assert session.data_to_send() == b""  # less than half a window so far
    session.acknowledge_received_data(1, 20_000)
    assert peer.read(session) == [WindowUpdate(1, 40_000), WindowUpdate(0, 40_000)]
