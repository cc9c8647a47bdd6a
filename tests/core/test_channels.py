"""The channel protocols of exec and attach: framing, the v5 close signal, terminal resizes,
and the status channel read into exit codes."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._channel_status import (
    ExecStatus,
    encode_status,
    exit_code_status,
    go_json,
    internal_error_status,
    parse_status,
    success_status,
)
from kr8s_trio._core._channels import (
    BASE64_V1,
    BASE64_V4,
    PROTOCOLS,
    V1,
    V4,
    V5,
    CloseStream,
    Frame,
    ResizeDecoder,
    TerminalSize,
    choose_protocol,
    decode_message,
    encode_close,
    encode_frame,
    encode_resize,
    get_protocol,
)
from kr8s_trio._core._exceptions import (
    ExecError,
    LocalProtocolError,
    RemoteProtocolError,
    ServerError,
)

ALL = sorted(PROTOCOLS)
EXIT_3_V5 = (
    b'{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: '
    b'command terminated with exit code 3","reason":"NonZeroExitCode","details":{"causes":'
    b'[{"reason":"ExitCode","message":"3"}]}}'
)


# -- negotiation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "supported", "chosen"),
    [
        ([V5, V4], [V4, V5], V5),  # the client's order decides
        ([V4, V5], [V5, V4], V4),
        (["x", V4], [V5, V4], V4),
        ([], [V4, ""], ""),  # no header: no subprotocol, when that is allowed
        ([], [V5, V4], None),
        (["x"], [V5, V4, ""], None),
    ],
)
def test_channels_choose_protocol(offered: list[str], supported: list[str], chosen: str) -> None:
    assert choose_protocol(offered, supported) == chosen


def test_channels_protocol_flags() -> None:
    assert get_protocol(V5).stream_close
    assert not get_protocol(V4).stream_close
    assert get_protocol(V4).json_status
    assert not get_protocol(V1).json_status
    assert get_protocol(BASE64_V4).base64
    assert get_protocol(BASE64_V1).base64
    assert not get_protocol("").json_status
    with pytest.raises(LocalProtocolError):
        get_protocol("v6.channel.k8s.io")


# -- frames --------------------------------------------------------------------------------------


@given(st.sampled_from(ALL), st.integers(0, 254), st.binary(max_size=300))
def test_channels_frame_round_trip(name: str, channel: int, data: bytes) -> None:
    protocol = get_protocol(name)
    if protocol.base64 and channel > 79:  # '0' + channel must stay ASCII
        with pytest.raises(LocalProtocolError):
            encode_frame(protocol, channel, data)
        return
    message = encode_frame(protocol, channel, data)
    assert isinstance(message, str) == protocol.base64
    assert decode_message(protocol, message) == Frame(channel, data)


def test_channels_frames_on_the_wire() -> None:
    assert encode_frame(get_protocol(V5), 1, b"hi\n") == b"\x01hi\n"
    assert encode_frame(get_protocol(V4), 0) == b"\x00"  # the "established" marker shape
    assert encode_frame(get_protocol(BASE64_V4), 2, b"oops") == "2" + base64.b64encode(
        b"oops"
    ).decode("ascii")
    # text messages of binary protocols are read as their UTF-8 bytes
    assert decode_message(get_protocol(V4), "\x01é") == Frame(1, "é".encode())


def test_channels_out_of_range_channels_are_refused() -> None:
    with pytest.raises(LocalProtocolError):
        encode_frame(get_protocol(V4), 255, b"x")
    with pytest.raises(LocalProtocolError):
        encode_frame(get_protocol(V4), -1, b"x")


def test_channels_empty_messages_are_ignored() -> None:
    assert decode_message(get_protocol(V5), b"") is None
    assert decode_message(get_protocol(BASE64_V4), "") is None


def test_channels_v5_close_frame() -> None:
    v5 = get_protocol(V5)
    assert encode_close(v5, 0) == b"\xff\x00"
    assert decode_message(v5, b"\xff\x00") == CloseStream(0)
    with pytest.raises(RemoteProtocolError, match="one channel byte"):
        decode_message(v5, b"\xff\x00\x01")
    with pytest.raises(RemoteProtocolError):
        decode_message(v5, b"\xff")


def test_channels_close_is_v5_only() -> None:
    v4 = get_protocol(V4)
    with pytest.raises(LocalProtocolError):
        encode_close(v4, 0)
    # for v4, a leading 255 is just an (unknown) channel
    assert decode_message(v4, b"\xff\x00") == Frame(255, b"\x00")


def test_channels_bad_base64_is_a_protocol_error() -> None:
    with pytest.raises(RemoteProtocolError, match="base64"):
        decode_message(get_protocol(BASE64_V4), "1***")
    with pytest.raises(RemoteProtocolError, match="channel"):
        decode_message(get_protocol(BASE64_V4), "\x01aGk=")


# -- resize ------------------------------------------------------------------------------------


def test_channels_resize_is_encoded_as_client_go_does() -> None:
    size = TerminalSize(120, 40)
    assert encode_resize(get_protocol(V5), size) == b'\x04{"Width":120,"Height":40}\n'


sizes = st.builds(TerminalSize, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))


@given(st.lists(sizes, max_size=8), st.data())
def test_channels_resize_decoder_over_any_split(
    expected: list[TerminalSize], data: st.DataObject
) -> None:
    stream = b"".join(
        json.dumps({"Width": s.width, "Height": s.height}).encode() + b"\n" for s in expected
    )
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    decoder = ResizeDecoder()
    seen: list[TerminalSize] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        seen.extend(decoder.feed(stream[start:cut]))
        start = cut
    assert seen == expected


def test_channels_resize_decoder_reads_fields_as_go_does() -> None:
    decoder = ResizeDecoder()
    # names match case-insensitively, missing ones are 0, unknown ones are ignored, and braces
    # inside strings do not end the object
    assert decoder.feed(b'{"width":3}{"HEIGHT":4,"x":"}{\\""}') == [
        TerminalSize(3, 0),
        TerminalSize(0, 4),
    ]


@pytest.mark.parametrize(
    "payload",
    [b"[1,2]", b"5", b'{"Width":-1}', b'{"Width":70000}', b'{"Width":"80"}', b"{,}"],
)
def test_channels_resize_decoder_refuses_what_is_not_a_size(payload: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        ResizeDecoder().feed(payload)


def test_channels_resize_decoder_refuses_endless_objects() -> None:
    decoder = ResizeDecoder()
    with pytest.raises(RemoteProtocolError, match="too long"):
        decoder.feed(b'{"Width":' + b" " * 5000)


# -- status --------------------------------------------------------------------------------------


def test_channels_status_success_on_the_wire() -> None:
    assert (
        encode_status(get_protocol(V5), success_status()) == b'{"metadata":{},"status":"Success"}'
    )
    assert encode_status(get_protocol(V1), success_status()) is None
    assert encode_status(get_protocol(""), success_status()) is None


def test_channels_status_exit_code_on_the_wire() -> None:
    status = exit_code_status(
        3, "command terminated with non-zero exit code: command terminated with exit code 3"
    )
    assert encode_status(get_protocol(V5), status) == EXIT_3_V5
    assert encode_status(get_protocol(V1), status) == (
        b"command terminated with non-zero exit code: command terminated with exit code 3"
    )


def test_channels_status_internal_error() -> None:
    error = 'unable to upgrade connection: container not found ("c")'
    assert json.loads(go_json(internal_error_status(error))) == {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {error}",
        "reason": "InternalError",
        "details": {"causes": [{"message": error}]},
        "code": 500,
    }


def test_channels_go_json_escapes_html_characters() -> None:
    assert go_json({"message": "a<b>&c"}) == b'{"message":"a\\u003cb\\u003e\\u0026c"}'
    assert json.loads(go_json({"message": "a<b>&c"})) == {"message": "a<b>&c"}


@pytest.mark.parametrize("name", [V5, V4])
def test_channels_parse_status_json(name: str) -> None:
    protocol = get_protocol(name)
    ok = parse_status(protocol, b'{"metadata":{},"status":"Success"}')
    assert ok.exit_code == 0
    assert ok.success
    assert ok.error() is None
    failed = parse_status(protocol, EXIT_3_V5)
    assert (failed.exit_code, failed.reason) == (3, "NonZeroExitCode")
    assert not failed.success
    error = failed.error()
    assert isinstance(error, ExecError)
    assert error.exit_code == 3
    assert error.status["reason"] == "NonZeroExitCode"


def test_channels_parse_status_of_a_runtime_failure() -> None:
    payload = go_json(internal_error_status("container not found"))
    status = parse_status(get_protocol(V5), payload)
    assert status.exit_code is None
    assert status.message == "Internal error occurred: container not found"
    error = status.error()
    assert isinstance(error, ServerError)
    assert error.code == 500


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"not json", "protocol error"),
        (b"[]", "protocol error"),
        (b'{"status":"Weird"}', "unknown error"),
        (b'{"status":"Failure","reason":"NonZeroExitCode"}', "details must be set"),
        (
            b'{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[]}}',
            "no ExitCode cause",
        ),
        (
            b'{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":'
            b'[{"reason":"ExitCode","message":"256"}]}}',
            "invalid exit code value",
        ),
        (
            b'{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":'
            b'[{"reason":"ExitCode","message":"x"}]}}',
            "invalid exit code value",
        ),
    ],
)
def test_channels_parse_status_refuses_broken_statuses(payload: bytes, match: str) -> None:
    with pytest.raises(RemoteProtocolError, match=match):
        parse_status(get_protocol(V4), payload)


@pytest.mark.parametrize("name", [V1, BASE64_V1, ""])
def test_channels_parse_status_v1_plain_text(name: str) -> None:
    protocol = get_protocol(name)
    assert parse_status(protocol, b"") == ExecStatus(0)
    exited = parse_status(
        protocol,
        b"command terminated with non-zero exit code: error executing command "
        b"[sh -c exit 7], exit code 7",
    )
    assert exited.exit_code == 7
    assert exited.reason == "NonZeroExitCode"
    other = parse_status(protocol, b"Internal error occurred: the runtime broke")
    assert other.exit_code is None
    assert other.message == "Internal error occurred: the runtime broke"
    assert other.status["status"] == "Failure"


@given(st.integers(0, 255))
def test_channels_exit_codes_survive_the_status_channel(code: int) -> None:
    message = f"command terminated with non-zero exit code: exit code {code}"
    status = exit_code_status(code, message) if code else success_status()
    for name in (V5, V4, V1):
        protocol = get_protocol(name)
        payload = encode_status(protocol, status) or b""
        assert parse_status(protocol, payload).exit_code == code
