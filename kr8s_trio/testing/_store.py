"""The fake's storage engine: etcd and the watch cache in one, in memory.

One global revision counter (every change gets the next ``resourceVersion``, shared by all kinds,
like etcd's revision). Objects live in buckets, one per stored resource (``(group, plural)``); each
bucket keeps its current objects, a history of change events back to the compaction point, and the
watchers that follow it. Past states are rebuilt by undoing history from the current state, which
is how pagination keeps a consistent snapshot and how ``resourceVersionMatch=Exact`` lists work.

The store knows nothing of Kubernetes semantics beyond stamping ``metadata.resourceVersion``; the
REST layer (`_rest`) decides what a create, update or delete means. Everything here is synchronous,
so a change and its fan-out to watchers happen atomically with respect to other trio tasks.

Each stored object caches its compact JSON encoding: a list of 10,000 pods is served by joining
bytes, and one event is encoded once however many watchers receive it.
"""

from __future__ import annotations

import bisect
import json
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Literal, Protocol, cast

import attrs

from kr8s_trio._core._patch import copy_json as _copy_json

__all__ = ["Bucket", "Change", "Store", "Stored", "Watcher", "copy_json", "object_key"]

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
BucketKey = tuple[str, str]


def _encode(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class Stored:
    """One version of one object: the dict (never mutated once stored) and its cached JSON."""

    __slots__ = ("_json", "key", "obj", "rv")

    def __init__(self, key: str, obj: dict[str, Any], rv: int) -> None:
        self.key = key
        self.obj = obj
        self.rv = rv
        self._json: bytes | None = None

    @property
    def json(self) -> bytes:
        if self._json is None:
            self._json = _encode(self.obj)
        return self._json

    def __repr__(self) -> str:
        return f"<Stored {self.key} rv={self.rv}>"


@attrs.frozen
class Change:
    """One committed change of one object (what a watch event is made from)."""

    type: EventType
    rv: int
    key: str
    new: Stored  # for DELETED: the last state, stamped with the deletion's resourceVersion
    prev: Stored | None
    time: float


class Watcher(Protocol):
    """Something that follows a bucket's changes; `deliver` is called synchronously."""

    def deliver(self, change: Change) -> None: ...


@attrs.define
class Bucket:
    """Current objects, history and watchers of one stored resource."""

    items: dict[str, Stored] = attrs.field(factory=dict)
    history: deque[Change] = attrs.field(factory=deque)
    watchers: set[Watcher] = attrs.field(factory=set)
    _sorted: list[str] | None = None

    def sorted_keys(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.items)
        return self._sorted

    def _added(self, key: str) -> None:
        if self._sorted is not None:
            bisect.insort(self._sorted, key)

    def _removed(self, key: str) -> None:
        if self._sorted is not None:
            i = bisect.bisect_left(self._sorted, key)
            if i < len(self._sorted) and self._sorted[i] == key:
                del self._sorted[i]


def object_key(namespace: str | None, name: str) -> str:
    """The storage key of an object inside its bucket (etcd's ``<namespace>/<name>``)."""
    return f"{namespace}/{name}" if namespace else name


class Store:
    """All objects of the fake cluster, versioned.

    Args:
        clock: returns the current time in seconds (trio time, so MockClock drives compaction).
        history_window: seconds of history kept for watch resumption and snapshots; older
            history is compacted away and asking for it answers 410 Gone.
    """

    def __init__(self, clock: Callable[[], float], history_window: float = 300.0) -> None:
        self._clock = clock
        self.history_window = history_window
        self.revision = 1
        self._compacted = 0
        self._buckets: dict[BucketKey, Bucket] = {}
        self._timeline: deque[tuple[float, int]] = deque()
        self._listeners: list[Callable[[BucketKey, Change], None]] = []

    # -- reading -------------------------------------------------------------------------------

    @property
    def compacted(self) -> int:
        """The compaction point: changes with rv <= this are forgotten.

        History older than the window is compacted whenever this is read (as well as on
        writes), so a quiet cluster still expires old resourceVersions as time passes.
        """
        self._expire(self._clock())
        return self._compacted

    def bucket(self, key: BucketKey) -> Bucket:
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = Bucket()
        return b

    def get(self, bucket: BucketKey, key: str) -> Stored | None:
        b = self._buckets.get(bucket)
        return b.items.get(key) if b else None

    def buckets(self) -> Iterator[tuple[BucketKey, Bucket]]:
        return iter(list(self._buckets.items()))

    def snapshot(self, bucket: BucketKey, rv: int | None = None) -> tuple[list[Stored], int]:
        """Objects of a bucket sorted by key, as of ``rv`` (None: now), and the revision used.

        Raises:
            ValueError: ``rv`` is older than the compaction point (callers answer 410).
        """
        b = self.bucket(bucket)
        if rv is None or rv >= self.revision:
            return [b.items[k] for k in b.sorted_keys()], self.revision
        if rv < self.compacted:
            raise ValueError(f"revision {rv} is compacted (oldest {self.compacted})")
        state: dict[str, Stored | None] = {}
        for change in reversed(b.history):
            if change.rv <= rv:
                break
            state[change.key] = change.prev
        keys = set(b.items) | set(state)
        out: list[Stored] = []
        for k in sorted(keys):
            item = state[k] if k in state else b.items[k]
            if item is not None:
                out.append(item)
        return out, rv

    def changes_since(self, bucket: BucketKey, rv: int) -> list[Change]:
        """Changes of a bucket after ``rv``, oldest first.

        Raises:
            ValueError: history after ``rv`` is (partly) compacted away.
        """
        if rv < self.compacted:
            raise ValueError(f"too old resource version: {rv} ({self.compacted})")
        b = self.bucket(bucket)
        out = [c for c in reversed(b.history) if c.rv > rv] if b.history else []
        out.reverse()
        return out

    # -- writing -------------------------------------------------------------------------------

    def next_revision(self) -> int:
        """The resourceVersion the next change will get."""
        return self.revision + 1

    def put(self, bucket: BucketKey, key: str, obj: dict[str, Any]) -> Change:
        """Store ``obj`` (creating or replacing) under a new revision; ``obj`` becomes owned."""
        b = self.bucket(bucket)
        prev = b.items.get(key)
        rv = self._bump()
        obj.setdefault("metadata", {})["resourceVersion"] = str(rv)
        stored = Stored(key, obj, rv)
        b.items[key] = stored
        if prev is None:
            b._added(key)
        return self._commit(bucket, b, "ADDED" if prev is None else "MODIFIED", key, stored, prev)

    def delete(self, bucket: BucketKey, key: str, final: dict[str, Any] | None = None) -> Change:
        """Remove an object; the DELETED change carries ``final`` (default: its last state)."""
        b = self.bucket(bucket)
        prev = b.items.pop(key)
        b._removed(key)
        rv = self._bump()
        obj = dict(final if final is not None else prev.obj)
        obj["metadata"] = {**obj.get("metadata", {}), "resourceVersion": str(rv)}
        return self._commit(bucket, b, "DELETED", key, Stored(key, obj, rv), prev)

    def add_listener(self, listener: Callable[[BucketKey, Change], None]) -> None:
        """Call ``listener`` after every committed change (controllers hook in here)."""
        self._listeners.append(listener)

    def compact(self, upto: int | None = None) -> int:
        """Forget history up to ``upto``; returns the new compaction point.

        Without ``upto``, every resourceVersion handed out so far becomes too old: the revision
        advances by one (no object changes, as when another resource is written) and history is
        compacted up to it, so watches and continue tokens from before get 410 Gone.
        """
        if upto is None:
            self._bump()
        target = self.revision if upto is None else min(upto, self.revision)
        if target <= self._compacted:
            return self._compacted
        self._compacted = target
        for b in self._buckets.values():
            while b.history and b.history[0].rv <= target:
                b.history.popleft()
        while self._timeline and self._timeline[0][1] <= target:
            self._timeline.popleft()
        return target

    def _bump(self) -> int:
        self.revision += 1
        return self.revision

    def _commit(
        self,
        bucket_key: BucketKey,
        b: Bucket,
        type_: EventType,
        key: str,
        new: Stored,
        prev: Stored | None,
    ) -> Change:
        now = self._clock()
        change = Change(type_, new.rv, key, new, prev, now)
        b.history.append(change)
        self._timeline.append((now, new.rv))
        self._expire(now)
        for watcher in list(b.watchers):
            watcher.deliver(change)
        for listener in self._listeners:
            listener(bucket_key, change)
        return change

    def _expire(self, now: float) -> None:
        horizon = now - self.history_window
        cut = 0
        while self._timeline and self._timeline[0][0] < horizon:
            cut = self._timeline.popleft()[1]
        if cut:
            self.compact(cut)


def copy_json(value: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a stored object (stored objects are never mutated; derive, then store)."""
    return cast("dict[str, Any]", _copy_json(value))
