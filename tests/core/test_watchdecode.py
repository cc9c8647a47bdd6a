"""The watch-stream decoder: lines split and packed at will, bad lines, the resume point."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._exceptions import (
    APIError,
    GoneError,
    NotFoundError,
    RemoteProtocolError,
    ServerError,
)
from kr8s_trio._core._watchdecode import (
    MAX_LINE_SIZE,
    ResumeState,
    WatchDecoder,
    WatchEvent,
)


def _pod(name: str, rv: str = "1", **labels: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "resourceVersion": rv, "labels": labels},
    }


def _line(type_: str, obj: object) -> bytes:
    return json.dumps({"type": type_, "object": obj}, ensure_ascii=False).encode() + b"\n"


GONE = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "too old resource version: 1 (5)",
    "reason": "Expired",
    "code": 410,
}


def test_watchdecode_one_event_per_line() -> None:
    decoder = WatchDecoder()
    events = decoder.feed(_line("ADDED", _pod("a", "5")) + _line("DELETED", _pod("b", "6")))
    assert [(e.type, e.object["metadata"], e.resource_version) for e in events] == [
        ("ADDED", _pod("a", "5")["metadata"], "5"),
        ("DELETED", _pod("b", "6")["metadata"], "6"),
    ]
    decoder.close()


def test_watchdecode_partial_line_waits_for_newline() -> None:
    decoder = WatchDecoder()
    data = _line("MODIFIED", _pod("a", "7"))
    assert decoder.feed(data[:10]) == []
    assert decoder.feed(data[10:-1]) == []
    [event] = decoder.feed(b"\n")
    assert event == WatchEvent("MODIFIED", _pod("a", "7"), "7")
    decoder.close()


def test_watchdecode_split_inside_utf8_character() -> None:
    decoder = WatchDecoder()
    data = _line("ADDED", _pod("ünïcødé-🚀", "3", team="équipe"))
    cut = data.index("🚀".encode()) + 2
    assert decoder.feed(data[:cut]) == []
    [event] = decoder.feed(data[cut:])
    assert event.object["metadata"]["name"] == "ünïcødé-🚀"  # type: ignore[index]


def test_watchdecode_crlf_and_blank_lines() -> None:
    decoder = WatchDecoder()
    body = b"\n\r\n" + _line("ADDED", _pod("a", "1"))[:-1] + b"\r\n  \n\r\n"
    body += _line("BOOKMARK", {"kind": "Pod", "metadata": {"resourceVersion": "9"}})
    events = decoder.feed(body)
    assert [(e.type, e.resource_version) for e in events] == [("ADDED", "1"), ("BOOKMARK", "9")]
    decoder.close()


def test_watchdecode_close_on_empty_or_trailing_blank_is_fine() -> None:
    WatchDecoder().close()
    decoder = WatchDecoder()
    decoder.feed(b"\r\n\r")
    decoder.close()


def test_watchdecode_close_inside_a_line_raises() -> None:
    decoder = WatchDecoder()
    decoder.feed(b'{"type": "ADDED", "obj')
    with pytest.raises(RemoteProtocolError, match="ended inside a line"):
        decoder.close()


def test_watchdecode_object_is_not_copied() -> None:
    pod = _pod("a")
    event = WatchEvent("ADDED", pod)
    assert event.object is pod
    assert event.resource_version == "1"


def test_watchdecode_resource_version_missing_is_empty() -> None:
    decoder = WatchDecoder()
    events = decoder.feed(
        _line("ADDED", {"kind": "Pod"})
        + _line("ADDED", {"metadata": None})
        + _line("ADDED", {"metadata": {"resourceVersion": 12}})
    )
    assert [e.resource_version for e in events] == ["", "", ""]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (GONE, GoneError),
        ({"kind": "Status", "code": 404, "reason": "NotFound"}, NotFoundError),
        ({"kind": "Status", "code": 500, "message": "etcd"}, ServerError),
        ({"kind": "Status", "message": "no code"}, APIError),
    ],
)
def test_watchdecode_error_event_builds_typed_exception(
    status: dict[str, object], cls: type[APIError]
) -> None:
    [event] = WatchDecoder().feed(_line("ERROR", status))
    assert event.type == "ERROR"
    error = event.error()
    assert type(error) is cls
    assert error.status == status


def test_watchdecode_error_of_gone_carries_message() -> None:
    [event] = WatchDecoder().feed(_line("ERROR", GONE))
    error = event.error()
    assert isinstance(error, GoneError)
    assert error.code == 410
    assert error.reason == "Expired"
    assert "too old" in str(error)


def test_watchdecode_error_on_non_error_event_is_a_misuse() -> None:
    with pytest.raises(ValueError, match="ADDED"):
        WatchEvent("ADDED", _pod("a")).error()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"type": "ADDED", "object": {', "not valid JSON"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"[1, 2]", "JSON list, not an object"),
        (b'"ADDED"', "JSON str, not an object"),
        (b'{"object": {}}', "has no type"),
        (b'{"type": "ADDED"}', "ADDED watch event has no object"),
        (b'{"type": "ADDED", "object": null}', "ADDED watch event has no object"),
        (b'{"type": "ADDED", "object": [1]}', "object is not a JSON object"),
        (b'{"type": "CREATED", "object": {}}', "unknown type 'CREATED'"),
        (b'{"type": 3, "object": {}}', "unknown type 3"),
    ],
)
def test_watchdecode_bad_line_raises(line: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        WatchDecoder().feed(line + b"\n")


def test_watchdecode_error_quotes_at_most_200_chars() -> None:
    line = b'{"type": "NOPE", "object": {"x": "' + b"y" * 10_000 + b'"}}\n'
    with pytest.raises(RemoteProtocolError) as info:
        WatchDecoder().feed(line)
    assert "unknown type 'NOPE'" in str(info.value)
    assert '{"type": "NOPE"' in str(info.value)
    assert len(str(info.value)) < 300
    assert str(info.value).endswith("...")


def test_watchdecode_events_before_a_bad_line_come_first() -> None:
    decoder = WatchDecoder()
    [event] = decoder.feed(_line("ADDED", _pod("a")) + b"not json\n" + _line("ADDED", _pod("b")))
    assert event.object["metadata"]["name"] == "a"  # type: ignore[index]
    with pytest.raises(RemoteProtocolError, match="not valid JSON"):
        decoder.feed(b"")
    # the decoder stays broken
    with pytest.raises(RemoteProtocolError, match="not valid JSON"):
        decoder.feed(_line("ADDED", _pod("c")))
    with pytest.raises(RemoteProtocolError, match="not valid JSON"):
        decoder.close()


def test_watchdecode_default_max_line_size() -> None:
    assert WatchDecoder().max_line_size == MAX_LINE_SIZE == 64 * 1024 * 1024


def test_watchdecode_max_line_size_on_partial_line() -> None:
    decoder = WatchDecoder(max_line_size=100)
    assert decoder.feed(b"x" * 60) == []
    with pytest.raises(RemoteProtocolError, match="exceeds the limit of 100"):
        decoder.feed(b"x" * 60)


def test_watchdecode_max_line_size_on_complete_line() -> None:
    decoder = WatchDecoder(max_line_size=100)
    ok = _line("ADDED", {"metadata": {"resourceVersion": "1"}})
    assert len(ok) <= 100
    assert len(decoder.feed(ok)) == 1
    big = _line("ADDED", {"metadata": {"name": "n" * 200}})
    with pytest.raises(RemoteProtocolError, match="exceeds the limit of 100"):
        decoder.feed(big)


def test_watchdecode_line_of_exactly_max_size_is_accepted() -> None:
    line = _line("ADDED", _pod("a"))
    decoder = WatchDecoder(max_line_size=len(line) - 1)
    assert len(decoder.feed(line)) == 1


def test_watchdecode_byte_at_a_time_does_not_rescan() -> None:
    # a long line fed byte by byte: linear, and completes exactly at its newline
    decoder = WatchDecoder()
    data = _line("ADDED", _pod("a" * 20_000, "4"))
    for i in range(len(data) - 1):
        assert decoder.feed(data[i : i + 1]) == []
    [event] = decoder.feed(data[-1:])
    assert event.resource_version == "4"


def test_resumestate_params() -> None:
    state = ResumeState()
    assert state.params() == {"watch": "1", "allowWatchBookmarks": "true"}
    state = ResumeState("42")
    assert state.params() == {"watch": "1", "allowWatchBookmarks": "true", "resourceVersion": "42"}


def test_resumestate_observe_skips_errors_and_missing_versions() -> None:
    state = ResumeState("1")
    state.observe(WatchEvent("ADDED", _pod("a", "2")))
    state.observe(WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": "3"}}))
    state.observe(WatchEvent("ERROR", {**GONE, "metadata": {"resourceVersion": "99"}}))
    assert state.resource_version == "3"
    state.observe(WatchEvent("MODIFIED", {"kind": "Pod"}))
    assert state.resource_version == "3"
    state.observe(WatchEvent("DELETED", _pod("a", "4")))
    assert state.params()["resourceVersion"] == "4"


# -- properties -----------------------------------------------------------------------------

_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]),
    max_size=12,
)
Event = tuple[str, dict[str, object]]


def _object(name: str, rv: str, labels: dict[str, str]) -> dict[str, object]:
    return {"kind": "Pod", "metadata": {"name": name, "resourceVersion": rv, "labels": labels}}


_objects = st.builds(
    _object,
    _text,
    st.integers(1, 10**12).map(str) | st.just(""),
    st.dictionaries(_text, _text, max_size=3),
)
_events = st.lists(
    st.tuples(st.sampled_from(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]), _objects),
    max_size=8,
)


@st.composite
def _encoded(draw: st.DrawFn) -> tuple[list[Event], list[bytes]]:
    events = draw(_events)
    body = b""
    for type_, obj in events:
        body += draw(st.sampled_from([b"", b"\n", b"\r\n"]))  # blank lines
        line = _line(type_, obj)
        if draw(st.booleans()):
            line = line[:-1] + b"\r\n"
        body += line
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=len(body) // 2 + 2)))
    if draw(st.booleans()):
        cuts = list(range(len(body) + 1))  # one byte at a time
    bounds = [0, *cuts, len(body)]
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
    return events, chunks


@given(_encoded())
def test_watchdecode_any_chunking_yields_the_events_in_order(
    case: tuple[list[Event], list[bytes]],
) -> None:
    events, chunks = case
    decoder = WatchDecoder()
    got: list[WatchEvent] = []
    for chunk in chunks:
        got += decoder.feed(chunk)
    decoder.close()
    assert [(e.type, e.object) for e in got] == events
    for event, (_, obj) in zip(got, events, strict=True):
        assert event.resource_version == obj["metadata"]["resourceVersion"]  # type: ignore[index]


@given(_encoded(), st.integers(1, 40))
def test_watchdecode_any_chunking_then_truncation_fails_on_close(
    case: tuple[list[Event], list[bytes]], keep: int
) -> None:
    _, chunks = case
    decoder = WatchDecoder()
    for chunk in chunks:
        decoder.feed(chunk)
    decoder.feed(_line("ADDED", _pod("tail"))[:keep])
    with pytest.raises(RemoteProtocolError):
        decoder.close()


@given(_events, st.one_of(st.none(), st.integers(1, 99).map(str)))
def test_resumestate_tracks_last_non_error_version(events: list[Event], start: str | None) -> None:
    state = ResumeState(start)
    for type_, obj in events:
        state.observe(WatchEvent(type_, obj))  # type: ignore[arg-type]
    expected = start
    for type_, obj in events:
        rv = obj["metadata"]["resourceVersion"]  # type: ignore[index]
        if type_ != "ERROR" and rv:
            expected = rv
    assert state.resource_version == expected
    params = state.params()
    assert params.pop("watch") == "1"
    assert params.pop("allowWatchBookmarks") == "true"
    assert params == ({"resourceVersion": expected} if expected else {})


@given(_encoded(), st.sampled_from([b"not json", b"[]", b'{"type": "X", "object": {}}']), st.data())
def test_watchdecode_any_chunking_delivers_events_before_a_bad_line(
    case: tuple[list[Event], list[bytes]], bad: bytes, data: st.DataObject
) -> None:
    events, chunks = case
    body = b"".join(chunks) + bad + b"\n" + _line("ADDED", _pod("after"))
    cut = data.draw(st.integers(0, len(body)))
    got: list[WatchEvent] = []

    def pump() -> None:
        decoder = WatchDecoder()
        for chunk in [body[:cut], body[cut:], b""]:
            got.extend(decoder.feed(chunk))
        decoder.close()

    with pytest.raises(RemoteProtocolError):
        pump()
    assert [(e.type, e.object) for e in got] == events
