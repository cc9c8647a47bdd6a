"""Kubernetes watch streams, decoded sans-IO.

A watch response body is a sequence of JSON objects, one per line::

    {"type": "ADDED", "object": {"kind": "Pod", "metadata": {"resourceVersion": "7", ...}}}
    {"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "9"}}}
    {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired", ...}}

`WatchDecoder` turns bytes, chunked however the network pleases, into `WatchEvent`s (like h11's
``receive_data``/``next_event``, in one call): the I/O layer pumps ``aiter_bytes()`` into
``feed`` and calls ``close`` at the end of the body. `ResumeState` remembers where to resume a
dropped watch from. Nothing here does I/O or knows about trio.
"""

from __future__ import annotations

import json
from typing import Final, Literal, cast

import attrs

from ._exceptions import APIError, JSONDict, RemoteProtocolError

__all__ = [
    "EVENT_TYPES",
    "MAX_LINE_SIZE",
    "EventType",
    "ResumeState",
    "WatchDecoder",
    "WatchEvent",
]

EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]

#: every event type a watch stream may carry
EVENT_TYPES: Final[frozenset[str]] = frozenset(
    {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"}
)

#: the longest line `WatchDecoder` accepts by default (64 MiB)
MAX_LINE_SIZE: Final = 64 * 1024 * 1024

#: how much of an offending line an error message quotes
_EXCERPT_CHARS: Final = 200


def _resource_version(obj: JSONDict) -> str:
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        rv = metadata.get("resourceVersion")
        if isinstance(rv, str):
            return rv
    return ""


@attrs.frozen
class WatchEvent:
    """One event of a watch stream.

    Attributes:
        type: ``"ADDED"``, ``"MODIFIED"``, ``"DELETED"``, ``"BOOKMARK"`` or ``"ERROR"``.
        object: the decoded object (a ``Status`` for ``ERROR``), not copied.
        resource_version: ``object.metadata.resourceVersion``, or ``""`` if absent.
    """

    type: EventType
    object: JSONDict = attrs.field(hash=False)
    resource_version: str = attrs.field(
        default=attrs.Factory(lambda self: _resource_version(self.object), takes_self=True)
    )

    def error(self) -> APIError:
        """The typed exception for an ``ERROR`` event's Status (410 Expired -> `GoneError`).

        Raises:
            ValueError: this is not an ``ERROR`` event.
        """
        if self.type != "ERROR":
            raise ValueError(f"a {self.type} event carries no error")
        return APIError.from_status(self.object)


def _excerpt(line: bytes | bytearray) -> str:
    text = bytes(line[: _EXCERPT_CHARS * 4]).decode("utf-8", "replace")
    if len(text) > _EXCERPT_CHARS or len(line) > _EXCERPT_CHARS * 4:
        return repr(text[:_EXCERPT_CHARS]) + "..."
    return repr(text)


def _decode_line(line: bytes) -> WatchEvent:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise RemoteProtocolError(
            f"watch line is not valid JSON ({exc}): {_excerpt(line)}"
        ) from exc
    if not isinstance(value, dict):
        raise RemoteProtocolError(
            f"watch line is a JSON {type(value).__name__}, not an object: {_excerpt(line)}"
        )
    event_type = value.get("type")
    if event_type is None:
        raise RemoteProtocolError(f"watch event has no type: {_excerpt(line)}")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise RemoteProtocolError(f"watch event has unknown type {event_type!r}: {_excerpt(line)}")
    obj = value.get("object")
    if obj is None:
        raise RemoteProtocolError(f"{event_type} watch event has no object: {_excerpt(line)}")
    if not isinstance(obj, dict):
        raise RemoteProtocolError(
            f"{event_type} watch event's object is not a JSON object: {_excerpt(line)}"
        )
    return WatchEvent(cast(EventType, event_type), obj, _resource_version(obj))


class WatchDecoder:
    """Decodes a watch response body fed in chunks of any size.

    Lines may be split anywhere (inside a UTF-8 character too) or packed several to a chunk;
    ``\\r\\n`` ends a line like ``\\n``; blank lines are skipped.

    If a line is bad, the events decoded before it in the same chunk are returned first and
    the error is raised by the next ``feed`` or ``close``. After an error the decoder stays
    broken: every later call raises the same error.
    """

    def __init__(self, *, max_line_size: int = MAX_LINE_SIZE) -> None:
        self.max_line_size = max_line_size
        self._buffer = bytearray()
        #: how far ``_buffer`` is known to hold no newline
        self._scanned = 0
        self._error: RemoteProtocolError | None = None

    def feed(self, data: bytes) -> list[WatchEvent]:
        """The events completed by ``data``, in order.

        Raises:
            RemoteProtocolError: a line is not a watch event, or is longer than
                ``max_line_size`` bytes.
        """
        if self._error is not None:
            raise self._error
        self._buffer += data
        events: list[WatchEvent] = []
        try:
            start = self._decode_lines(events)
        except RemoteProtocolError as exc:
            self._error = exc
            self._buffer = bytearray()
            self._scanned = 0
            if events:
                return events
            raise
        del self._buffer[:start]
        self._scanned = len(self._buffer)
        return events

    def _decode_lines(self, events: list[WatchEvent]) -> int:
        """Append the events of the complete lines in the buffer; return where they end."""
        buffer = self._buffer
        start = 0
        while (end := buffer.find(b"\n", max(start, self._scanned))) >= 0:
            line = bytes(buffer[start:end])
            start = end + 1
            if len(line) > self.max_line_size:
                raise RemoteProtocolError(
                    f"watch line of {len(line)} bytes exceeds the limit of "
                    f"{self.max_line_size}: {_excerpt(line)}"
                )
            if line.strip():
                events.append(_decode_line(line))
        if len(buffer) - start > self.max_line_size:
            raise RemoteProtocolError(
                f"watch line exceeds the limit of {self.max_line_size} bytes: "
                f"{_excerpt(buffer[start:])}"
            )
        return start

    def close(self) -> None:
        """Say the stream ended.

        Raises:
            RemoteProtocolError: an earlier error, or the stream ended inside a line.
        """
        if self._error is not None:
            raise self._error
        if self._buffer.strip():
            self._error = RemoteProtocolError(
                f"watch stream ended inside a line: {_excerpt(self._buffer)}"
            )
            raise self._error
        self._buffer = bytearray()
        self._scanned = 0


@attrs.define
class ResumeState:
    """Where a watch resumes after its connection drops.

    ``resource_version`` is the last one seen on an ``ADDED``/``MODIFIED``/``DELETED``/
    ``BOOKMARK`` event (never an ``ERROR``), or the one given at the start (a list's).
    """

    resource_version: str | None = None

    def observe(self, event: WatchEvent) -> None:
        """Remember ``event``'s resourceVersion, unless it is an error or has none."""
        if event.type != "ERROR" and event.resource_version:
            self.resource_version = event.resource_version

    def params(self) -> dict[str, str]:
        """The query parameters of the watch request that resumes from here."""
        params = {"watch": "1", "allowWatchBookmarks": "true"}
        if self.resource_version:
            params["resourceVersion"] = self.resource_version
        return params
