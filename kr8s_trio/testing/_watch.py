"""Watch streams: kube-apiserver's watch semantics over a chunked HTTP response.

A `WatchStream` follows one bucket of the store. It is registered and primed in one synchronous
step (initial ADDED events or history replay, then live changes), so no change can slip between
"what the client has" and "what it will get". Each change is filtered by namespace and selectors
with the real cacher's transitions: an object that stops matching is sent as DELETED (its previous
state at the new resourceVersion), one that starts matching as ADDED.

Lines are newline-terminated JSON events, each sent as its own chunk. Bookmarks, the
``timeoutSeconds`` deadline and the ``k8s.io/initial-events-end`` bookmark of watch-list are
produced here; faults (drop, stall, 410) are injected through the same queue.
"""

from __future__ import annotations

import datetime
import math
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import attrs
import trio

from kr8s_trio._core._field_selectors import FieldSelector
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._http import dumps
from kr8s_trio.testing._resources import ResourceType
from kr8s_trio.testing._store import Change, Store, Stored

__all__ = ["RESET", "WatchOptions", "WatchStream"]

JSONObject = dict[str, Any]

#: yielded by `WatchStream.lines` when the connection must be reset (fault injection)
RESET = b"\x00reset"

TableEncoder = Callable[[ResourceType, JSONObject, bool], JSONObject]


@attrs.frozen
class WatchOptions:
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    bookmarks: bool
    timeout: float
    bookmark_interval: float
    max_pending: int = 10_000


class WatchStream:
    """One open watch: a filter over a bucket's changes and a queue of lines to send."""

    def __init__(
        self,
        rt: ResourceType,
        options: WatchOptions,
        *,
        table: TableEncoder | None = None,
        record: Callable[[WatchStream], None] | None = None,
    ) -> None:
        self.rt = rt
        self.options = options
        self._table = table
        self._first_table = True
        self._queue: deque[bytes] = deque()
        self._wakeup = trio.Event()
        self._prefix = f"{options.namespace}/" if options.namespace and rt.namespaced else ""
        self.sent = 0
        self.closed = False
        #: why the stream ended early: "slow", "fault", None
        self.ended: str | None = None
        #: fault injection: stop sending after this many events (then EOF or reset)
        self.drop_after: int | None = None
        self.drop_mode: Literal["eof", "reset"] = "eof"
        self.stalled = False
        self._record = record

    # -- filtering -------------------------------------------------------------------------------

    def _selected(self, stored: Stored | None) -> bool:
        if stored is None:
            return False
        if self._prefix and not stored.key.startswith(self._prefix):
            return False
        obj = stored.obj
        o = self.options
        if not o.labels.empty and not o.labels.matches(obj.get("metadata", {}).get("labels") or {}):
            return False
        return not o.fields.requirements or o.fields.matches(self.rt.field_values(obj))

    def deliver(self, change: Change) -> None:
        """Called by the store for every change of the bucket (synchronously)."""
        if self.closed:
            return
        now_in = self._selected(change.new) if change.type != "DELETED" else False
        was_in = self._selected(change.prev)
        if change.type == "DELETED":
            if was_in:
                self._emit("DELETED", change.new.obj, change.new.json)
        elif now_in and was_in:
            self._emit("MODIFIED", change.new.obj, change.new.json)
        elif now_in:
            self._emit("ADDED", change.new.obj, change.new.json)
        elif was_in and change.prev is not None:
            last = {**change.prev.obj}
            last["metadata"] = {**last.get("metadata", {}), "resourceVersion": str(change.rv)}
            self._emit("DELETED", last, None)

    # -- queueing --------------------------------------------------------------------------------

    def _emit(self, type_: str, obj: JSONObject, encoded: bytes | None) -> None:
        if self._table is not None:
            table = self._table(self.rt, obj, self._first_table)
            self._first_table = False
            body = dumps(table)
        elif encoded is not None and obj.get("apiVersion") == self.rt.api_version:
            body = encoded
        else:
            body = dumps({**obj, "apiVersion": self.rt.api_version})
        self._push(b'{"type":"' + type_.encode() + b'","object":' + body + b"}\n")

    def _push(self, line: bytes) -> None:
        if len(self._queue) >= self.options.max_pending:
            # the real cacher drops watchers that cannot keep up; the client re-watches
            self.ended = "slow"
            self.closed = True
            self._queue.clear()
        else:
            self._queue.append(line)
        self._wakeup.set()

    def push_bookmark(self, revision: int, *, initial_events_end: bool = False) -> None:
        metadata: JSONObject = {"resourceVersion": str(revision)}
        if initial_events_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": self.rt.kind, "apiVersion": self.rt.api_version, "metadata": metadata}
        self._push(b'{"type":"BOOKMARK","object":' + dumps(obj) + b"}\n")

    def push_error(self, status: JSONObject) -> None:
        """Send an ERROR event carrying ``status``; the stream ends after it."""
        self._push(b'{"type":"ERROR","object":' + dumps(status) + b"}\n")
        self.closed = True
        self.ended = "error"

    def close(self) -> None:
        self.closed = True
        self._wakeup.set()

    # -- priming ----------------------------------------------------------------------------------

    def prime_initial(self, items: list[Stored]) -> None:
        for stored in items:
            if self._selected(stored):
                self._emit("ADDED", stored.obj, stored.json)

    def prime_history(self, changes: list[Change]) -> None:
        for change in changes:
            self.deliver(change)

    # -- sending ----------------------------------------------------------------------------------

    async def lines(self, store: Store) -> AsyncIterator[bytes]:
        """Lines to send, until the deadline, an error, a fault or cancellation."""
        o = self.options
        deadline = trio.current_time() + o.timeout

        def bookmark_after(now: float) -> float:
            # as kube-apiserver's cacher: every interval, and once 2 s before the deadline
            if not o.bookmarks:
                return math.inf
            at, pre_timeout = now + o.bookmark_interval, deadline - 2
            if pre_timeout < at:
                return pre_timeout if pre_timeout > now else math.inf
            return at

        next_bookmark = bookmark_after(trio.current_time())
        while True:
            while self._queue and not self.stalled:
                if self.drop_after is not None and self.sent >= self.drop_after:
                    self.ended = "fault"
                    if self.drop_mode == "reset":
                        yield RESET
                    return
                line = self._queue.popleft()
                self.sent += 1
                yield line
            if self.closed and not self._queue:
                return
            now = trio.current_time()
            if self.stalled:
                # a stalled watch is a dead peer: no events, no bookmarks, no end at the deadline
                self._wakeup = trio.Event()
                await self._wakeup.wait()
                continue
            if now >= deadline:
                return
            if now >= next_bookmark:
                self.push_bookmark(store.revision)
                next_bookmark = bookmark_after(now)
                continue
            self._wakeup = trio.Event()
            if self._queue:
                continue
            with trio.move_on_at(min(deadline, next_bookmark)):
                await self._wakeup.wait()


def table_encoder(
    to_table: Callable[..., JSONObject], tr: object, now: Callable[[], datetime.datetime]
) -> TableEncoder:
    """Encode watch event objects as one-row Tables (column definitions on the first only)."""

    def encode(rt: ResourceType, obj: JSONObject, first: bool) -> JSONObject:
        rv = obj.get("metadata", {}).get("resourceVersion", "")
        return to_table(
            rt,
            [obj],
            tr,
            resource_version=str(rv),
            now=now(),
            include_column_definitions=first,
        )

    return encode
