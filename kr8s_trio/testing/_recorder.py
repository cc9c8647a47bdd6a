"""Events the simulated components record (``kubectl describe`` and ``get events`` show them).

`EventRecorder` writes core/v1 Events through the REST layer, as client-go's event broadcaster
does: named ``<object>.<hex nanoseconds>``, with ``involvedObject``, ``source``, ``count`` and
first/last timestamps; a repeat of the same event (same object, field, reason, message) bumps
``count`` and ``lastTimestamp`` instead of making another, like the broadcaster's correlator.
Events of components on the new events API (the scheduler's ``Scheduled``) carry ``eventTime``,
``action`` and ``reportingController`` instead, and are never aggregated. Recording is best
effort, as with the real broadcaster: an event the API refuses (in a terminating namespace, say)
is dropped.
"""

from __future__ import annotations

import contextlib
import datetime
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._rest import WriteContext
from kr8s_trio.testing._store import copy_json

if TYPE_CHECKING:
    from kr8s_trio.testing._resources import ResourceRegistry
    from kr8s_trio.testing._rest import RestStorage

__all__ = ["EventRecorder", "micro_time"]

JSONObject = dict[str, Any]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
#: how many aggregation keys are remembered (client-go's correlator LRU, maxLruCacheEntries)
_MAX_SEEN = 4096


def micro_time(t: datetime.datetime) -> str:
    """``metav1.MicroTime``: RFC 3339 with microseconds (``2025-01-02T03:04:05.000000Z``)."""
    return t.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventRecorder:
    """Records Events about objects for the simulated components of one cluster."""

    def __init__(
        self,
        rest: RestStorage,
        registry: ResourceRegistry,
        now: Callable[[], datetime.datetime],
    ) -> None:
        self.rest = rest
        self.now = now
        rt = registry.get("", "v1", "events")
        assert rt is not None
        self._rt = rt
        self._seq = 0
        #: aggregation key -> (namespace, event name), least recently recorded first
        self._seen: OrderedDict[tuple[str, ...], tuple[str, str]] = OrderedDict()

    def _name(self, obj_name: str) -> str:
        t = self.now()
        nanos = int((t - _EPOCH).total_seconds() * 1_000_000) * 1000 + self._seq
        self._seq += 1
        return f"{obj_name}.{nanos:x}"

    def record(
        self,
        obj: Mapping[str, Any],
        type_: str,
        reason: str,
        message: str,
        *,
        component: str,
        manager: str,
        host: str | None = None,
        field_path: str | None = None,
    ) -> None:
        """A legacy (core/v1 recorder) event, aggregated with identical earlier ones."""
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        key = (str(meta.get("uid")), field_path or "", component, type_, reason, message)
        stamp = self.rest.timestamp()
        seen = self._seen.get(key)
        if seen is not None:
            self._seen.move_to_end(key)
            stored = self.rest.find(self._rt, *seen)
            if stored is not None:
                new = copy_json(stored.obj)
                new["count"] = int(new.get("count") or 1) + 1
                new["lastTimestamp"] = stamp
                with contextlib.suppress(APIError):
                    self.rest.finish_update(self._rt, stored, new, WriteContext(manager=manager))
                return
        source: JSONObject = {"component": component}
        if host:
            source["host"] = host
        event: JSONObject = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": self._name(str(meta.get("name"))), "namespace": namespace},
            "involvedObject": _reference(obj, field_path),
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        with contextlib.suppress(APIError):
            created = self.rest.create(self._rt, namespace, event, WriteContext(manager=manager))
            self._seen[key] = (namespace, created["metadata"]["name"])
            self._seen.move_to_end(key)
            if len(self._seen) > _MAX_SEEN:
                self._seen.popitem(last=False)

    def record_new(
        self,
        obj: Mapping[str, Any],
        type_: str,
        reason: str,
        message: str,
        *,
        action: str,
        controller: str,
        instance: str,
        manager: str,
    ) -> None:
        """An events.k8s.io/v1 event (as the scheduler writes them), seen through core/v1."""
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        event: JSONObject = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": self._name(str(meta.get("name"))), "namespace": namespace},
            "involvedObject": _reference(obj, None),
            "reason": reason,
            "message": message,
            "source": {},
            "firstTimestamp": None,
            "lastTimestamp": None,
            "type": type_,
            "eventTime": micro_time(self.now()),
            "action": action,
            "reportingComponent": controller,
            "reportingInstance": instance,
        }
        with contextlib.suppress(APIError):
            self.rest.create(self._rt, namespace, event, WriteContext(manager=manager))


def _reference(obj: Mapping[str, Any], field_path: str | None) -> JSONObject:
    meta = obj.get("metadata") or {}
    ref: JSONObject = {
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "apiVersion": obj.get("apiVersion"),
        "resourceVersion": meta.get("resourceVersion"),
    }
    if field_path:
        ref["fieldPath"] = field_path
    return {k: v for k, v in ref.items() if v is not None}
