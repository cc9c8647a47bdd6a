"""Faults on demand and the request log: how tests make the fake misbehave and check what it saw.

Faults are armed with a matcher (verb, resource, namespace, name, user, ...) and a count; the ASGI
layer consumes them as matching requests arrive. Watch faults apply to the next matching watches,
or to the ones already open (`active_watches`). Every request is recorded, parsed
(verb, resource, selectors, user), with the status it got.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from kr8s_trio.testing._watch import WatchStream

__all__ = ["Fault", "Faults", "RequestLog", "RequestMatcher", "RequestRecord"]


@attrs.define
class RequestRecord:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    verb: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str | None = None
    name: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    user: str | None = None
    user_agent: str = ""
    content_type: str = ""
    accept: str = ""
    status: int | None = None
    #: the ``Impersonate-*`` headers as received (name -> value)
    impersonation: dict[str, str] = attrs.field(factory=dict)

    @property
    def is_watch(self) -> bool:
        return self.verb == "watch"


@attrs.frozen
class RequestMatcher:
    """Which requests a fault applies to; ``None`` fields match anything."""

    verb: str | None = None
    resource: str | None = None
    subresource: str | None = None
    namespace: str | None = None
    name: str | None = None
    method: str | None = None
    path: str | None = None  # exact path
    user: str | None = None

    def matches(self, record: RequestRecord) -> bool:
        return (
            (self.verb is None or self.verb == record.verb)
            and (self.resource is None or self.resource == record.resource)
            and (self.subresource is None or self.subresource == record.subresource)
            and (self.namespace is None or self.namespace == record.namespace)
            and (self.name is None or self.name == record.name)
            and (self.method is None or self.method == record.method)
            and (self.path is None or self.path == record.path)
            and (self.user is None or self.user == record.user)
        )


FaultKind = Literal["status", "delay_headers", "trickle", "watch_drop", "watch_stall", "watch_gone"]


@attrs.define
class Fault:
    kind: FaultKind
    match: RequestMatcher
    remaining: int
    status: int = 0
    retry_after: float | None = None
    seconds: float = 0.0
    chunk_size: int = 64
    after_events: int = 0
    mode: Literal["eof", "reset"] = "eof"


class RequestLog:
    """The requests the fake has received, oldest first: the last ``maxlen`` of them, so that a
    long-running server does not grow without bound."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self.records: collections.deque[RequestRecord] = collections.deque(maxlen=maxlen)

    def append(self, record: RequestRecord) -> None:
        self.records.append(record)

    def filter(
        self, match: RequestMatcher | None = None, /, **fields: str | None
    ) -> list[RequestRecord]:
        """Records matching ``match`` or the given matcher fields (``verb="watch"``...)."""
        m = match or RequestMatcher(**fields)
        return [r for r in self.records if m.matches(r)]

    def clear(self) -> None:
        self.records.clear()

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(list(self.records))

    def __len__(self) -> int:
        return len(self.records)


class Faults:
    """Arms faults for the next matching requests and reaches into open watches."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []
        self._watches: set[WatchStream] = set()
        self._watch_records: dict[WatchStream, RequestRecord] = {}

    @staticmethod
    def _matcher(match: RequestMatcher | None, fields: dict[str, str | None]) -> RequestMatcher:
        return match or RequestMatcher(**fields)

    def _arm(self, fault: Fault) -> Fault:
        self._armed.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault."""
        self._armed.clear()

    # -- arming ------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
        match: RequestMatcher | None = None,
        **fields: str | None,
    ) -> Fault:
        """Answer the next ``count`` matching requests with ``status`` (429, 500, 503, 504...).

        429 is plain text with ``Retry-After`` (default 1), as API Priority and Fairness sends it;
        5xx are Status objects, with ``Retry-After`` when ``retry_after`` is given.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        return self._arm(
            Fault(
                "status",
                self._matcher(match, fields),
                count,
                status=status,
                retry_after=retry_after,
            )
        )

    def delay_headers(
        self,
        seconds: float,
        *,
        count: int = 1,
        match: RequestMatcher | None = None,
        **fields: str | None,
    ) -> Fault:
        """Hold the response headers of the next matching requests for ``seconds`` (trio time)."""
        return self._arm(
            Fault("delay_headers", self._matcher(match, fields), count, seconds=seconds)
        )

    def trickle_body(
        self,
        *,
        chunk_size: int = 64,
        interval: float = 0.01,
        count: int = 1,
        match: RequestMatcher | None = None,
        **fields: str | None,
    ) -> Fault:
        """Send the body of the next matching responses ``chunk_size`` bytes at a time."""
        return self._arm(
            Fault(
                "trickle",
                self._matcher(match, fields),
                count,
                seconds=interval,
                chunk_size=chunk_size,
            )
        )

    def drop_watch(
        self,
        *,
        after_events: int = 0,
        mode: Literal["eof", "reset"] = "eof",
        count: int = 1,
        match: RequestMatcher | None = None,
        **fields: str | None,
    ) -> Fault:
        """End the next matching watches after ``after_events`` events: clean EOF or TCP reset."""
        return self._arm(
            Fault(
                "watch_drop",
                self._matcher(match, fields),
                count,
                after_events=after_events,
                mode=mode,
            )
        )

    def stall_watch(
        self, *, count: int = 1, match: RequestMatcher | None = None, **fields: str | None
    ) -> Fault:
        """The next matching watches send their headers, then nothing (no events, no EOF)."""
        return self._arm(Fault("watch_stall", self._matcher(match, fields), count))

    def watch_gone(
        self, *, count: int = 1, match: RequestMatcher | None = None, **fields: str | None
    ) -> Fault:
        """The next matching watches get one ERROR event with a 410 Expired Status, then EOF."""
        return self._arm(Fault("watch_gone", self._matcher(match, fields), count))

    # -- consuming (the ASGI layer) ------------------------------------------------------------

    def take(self, kind: FaultKind, record: RequestRecord) -> Fault | None:
        for fault in self._armed:
            if fault.kind == kind and fault.remaining > 0 and fault.match.matches(record):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._armed.remove(fault)
                return fault
        return None

    def has_armed(self) -> bool:
        return bool(self._armed)

    # -- open watches ----------------------------------------------------------------------------

    def register_watch(self, stream: WatchStream, record: RequestRecord) -> None:
        self._watches.add(stream)
        self._watch_records[stream] = record

    def unregister_watch(self, stream: WatchStream) -> None:
        self._watches.discard(stream)
        self._watch_records.pop(stream, None)

    def active_watches(
        self, match: RequestMatcher | None = None, **fields: str | None
    ) -> list[WatchStream]:
        """Watches open right now (matching, if a matcher is given)."""
        m = self._matcher(match, fields)
        return [w for w in self._watches if m.matches(self._watch_records[w])]

    def drop_active_watches(
        self,
        *,
        mode: Literal["eof", "reset"] = "eof",
        match: RequestMatcher | None = None,
        **fields: str | None,
    ) -> int:
        """End the open (matching) watches now; returns how many."""
        watches = self.active_watches(match, **fields)
        for w in watches:
            w.drop_after = w.sent
            w.drop_mode = mode
            w.stalled = False
            w.push_bookmark(0)  # wake it; the drop happens before this line is sent
        return len(watches)

    def expire_active_watches(
        self,
        message: str = "too old resource version",
        match: RequestMatcher | None = None,
        **fields: str | None,
    ) -> int:
        """Send a 410 Expired ERROR event on the open (matching) watches; returns how many."""
        watches = self.active_watches(match, **fields)
        for w in watches:
            w.push_error(expired_status(message))
        return len(watches)


def expired_status(message: str) -> dict[str, object]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Expired",
        "code": 410,
    }
