"""How the workload controllers see and change the cluster: informer caches and clients in one.

kube-controller-manager's controllers read shared informer caches (indexed by controller owner)
and write through the API as ``kube-controller-manager`` (the field manager derived from its
user agent). `WorkloadContext` gives the simulated controllers the same two halves over the
fake's store and REST layer: reads of stored objects (read-only dicts, never mutated), an index
of pods, ReplicaSets and ControllerRevisions by their controller's UID and of orphans per
namespace (for adoption), the ``ControllerRefManager`` claim (adopt matching orphans, release
owned objects that stopped matching), writes with the server's rules, events, and requeues on
trio's clock (``minReadySeconds``, progress deadlines, backoff).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import trio

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._deletion import delete_object
from kr8s_trio.testing._recorder import EventRecorder
from kr8s_trio.testing._rest import WriteContext
from kr8s_trio.testing._store import copy_json, object_key

if TYPE_CHECKING:
    from kr8s_trio.testing._controllers import Timers
    from kr8s_trio.testing._resources import ResourceRegistry, ResourceType
    from kr8s_trio.testing._rest import RestStorage
    from kr8s_trio.testing._store import BucketKey, Change, Store

__all__ = ["KINDS", "MANAGER", "Key", "WorkloadContext", "controller_ref", "controller_uid"]

JSONObject = dict[str, Any]
#: (kind, namespace, name) of an object a controller syncs
Key = tuple[str, str, str]

#: the field manager of every write kube-controller-manager makes
MANAGER = "kube-controller-manager"
_WRITE = WriteContext(manager=MANAGER)

#: the kinds the workload controllers read or write, and where they are stored
KINDS: dict[str, BucketKey] = {
    "Pod": ("", "pods"),
    "Node": ("", "nodes"),
    "ReplicationController": ("", "replicationcontrollers"),
    "ReplicaSet": ("apps", "replicasets"),
    "Deployment": ("apps", "deployments"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "ControllerRevision": ("apps", "controllerrevisions"),
    "Job": ("batch", "jobs"),
    "Event": ("", "events"),
}
#: kinds indexed by controller (what controllers own)
_INDEXED = frozenset({"Pod", "ReplicaSet", "ControllerRevision"})
#: how many shrugged-off API errors `WorkloadContext.errors` keeps
MAX_ERRORS = 100


def controller_ref_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The owner reference with ``controller: true``, if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(ref, Mapping) and ref.get("controller") is True:
            return ref
    return None


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    ref = controller_ref_of(obj)
    uid = ref.get("uid") if ref is not None else None
    return uid if isinstance(uid, str) else None


def controller_ref(owner: Mapping[str, Any]) -> JSONObject:
    """The owner reference a controller puts on what it creates (``NewControllerRef``)."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


class WorkloadContext:
    """Reads, indexes and writes for the workload controllers (see the module docstring).

    Args:
        rest: the REST layer every write goes through.
        registry: served resource types.
        store: the object store (read directly, as an informer cache).
        timers: trio-clock callbacks, for requeues.
        enqueue: marks a controller object for syncing.
    """

    def __init__(
        self,
        rest: RestStorage,
        registry: ResourceRegistry,
        store: Store,
        timers: Timers,
        enqueue: Callable[[Key], None],
    ) -> None:
        self.rest = rest
        self.store = store
        self.timers = timers
        self._enqueue = enqueue
        self._types: dict[str, ResourceType] = {}
        for kind, (group, plural) in KINDS.items():
            rt = registry.preferred(group, plural)
            assert rt is not None, kind
            self._types[kind] = rt
        #: controller UID -> kind -> store keys of what it controls
        self._children: dict[str, dict[str, set[str]]] = {}
        #: (kind, store key) -> controller UID
        self._owner_of: dict[tuple[str, str], str] = {}
        #: (kind, namespace) -> store keys of objects without a controller
        self._orphans: dict[tuple[str, str], set[str]] = {}
        self._requeues: dict[Key, float] = {}
        self._events = EventRecorder(rest, registry, rest.now)
        #: API errors the controllers met and shrugged off (the latest `MAX_ERRORS`, newest
        #: last; tests may look); add with `note_error`
        self.errors: list[APIError] = []

    # -- index -----------------------------------------------------------------------------------

    def index(self, kind: str, change: Change) -> None:
        """Keep the controller and orphan indexes current (called for every committed change)."""
        if kind not in _INDEXED:
            return
        key = change.key
        meta = change.new.obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "")
        new_uid = None if change.type == "DELETED" else controller_uid(change.new.obj)
        old_uid = self._owner_of.get((kind, key))
        if old_uid != new_uid:
            if old_uid is not None:
                children = self._children.get(old_uid, {})
                children.get(kind, set()).discard(key)
                del self._owner_of[(kind, key)]
            if new_uid is not None:
                self._children.setdefault(new_uid, {}).setdefault(kind, set()).add(key)
                self._owner_of[(kind, key)] = new_uid
        orphans = self._orphans.setdefault((kind, namespace), set())
        if change.type == "DELETED" or new_uid is not None:
            orphans.discard(key)
        else:
            orphans.add(key)

    # -- reading ---------------------------------------------------------------------------------

    def rt(self, kind: str) -> ResourceType:
        return self._types[kind]

    def get(self, kind: str, namespace: str | None, name: str) -> JSONObject | None:
        """The stored object (read-only), or None."""
        rt = self._types[kind]
        stored = self.store.get(
            rt.storage_key, object_key(namespace if rt.namespaced else None, name)
        )
        return stored.obj if stored is not None else None

    def _objects(self, kind: str, keys: set[str]) -> list[JSONObject]:
        bucket = self.store.bucket(self._types[kind].storage_key)
        return [bucket.items[k].obj for k in sorted(keys) if k in bucket.items]

    def all(self, kind: str, namespace: str | None = None) -> list[JSONObject]:
        """Every object of a kind (in a namespace), sorted by namespace and name."""
        bucket = self.store.bucket(self._types[kind].storage_key)
        keys = bucket.sorted_keys()
        if namespace is None:
            return [bucket.items[k].obj for k in keys]
        prefix = f"{namespace}/"
        start = bisect.bisect_left(keys, prefix)
        out = []
        for k in keys[start:]:
            if not k.startswith(prefix):
                break
            out.append(bucket.items[k].obj)
        return out

    def owned(self, owner_uid: str, kind: str) -> list[JSONObject]:
        """Objects of ``kind`` whose controller is ``owner_uid``, sorted by name."""
        return self._objects(kind, self._children.get(owner_uid, {}).get(kind, set()))

    def orphans(self, kind: str, namespace: str) -> list[JSONObject]:
        """Objects of ``kind`` in ``namespace`` without a controller, sorted by name."""
        return self._objects(kind, self._orphans.get((kind, namespace), set()))

    def claim(
        self, owner: Mapping[str, Any], kind: str, matches: Callable[[Mapping[str, str]], bool]
    ) -> list[JSONObject]:
        """What ``owner`` controls among objects of ``kind``, as ``ControllerRefManager``
        claims them: its own objects that still match (those that do not are released), and
        orphans that match (adopted), unless the owner is being deleted. Sorted by name."""
        meta = owner["metadata"]
        uid, namespace = meta["uid"], meta.get("namespace") or ""
        deleting = bool(meta.get("deletionTimestamp"))
        claimed: list[JSONObject] = []
        for obj in self.owned(uid, kind):
            if matches(obj["metadata"].get("labels") or {}):
                claimed.append(obj)
            elif not deleting:
                self.update(kind, obj, lambda o: _drop_owner(o, uid))
        if not deleting:
            ref = controller_ref(owner)
            for obj in self.orphans(kind, namespace):
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                if not matches(obj["metadata"].get("labels") or {}):
                    continue
                adopted = self.update(
                    kind,
                    obj,
                    lambda o: o["metadata"].setdefault("ownerReferences", []).append(dict(ref)),
                )
                if adopted is not None:
                    claimed.append(adopted)
        claimed.sort(key=lambda o: str(o["metadata"].get("name")))
        return claimed

    # -- writing ---------------------------------------------------------------------------------

    def create(self, kind: str, namespace: str | None, obj: JSONObject) -> JSONObject:
        """Create an object; returns the stored object.

        Raises:
            APIError: the server refused it (validation, terminating namespace, name taken).
        """
        return self.rest.create(self._types[kind], namespace, obj, _WRITE)

    def update(
        self,
        kind: str,
        obj: Mapping[str, Any],
        mutate: Callable[[JSONObject], None],
        *,
        status: bool = False,
    ) -> JSONObject | None:
        """Change the stored version of ``obj`` (same UID) by ``mutate``; no-op writes commit
        nothing. Returns the stored result, or None when the object is gone."""
        rt = self._types[kind]
        meta = obj["metadata"]
        key = object_key(meta.get("namespace") if rt.namespaced else None, meta["name"])
        stored = self.store.get(rt.storage_key, key)
        if stored is None or stored.obj["metadata"].get("uid") != meta.get("uid"):
            return None
        new = copy_json(stored.obj)
        mutate(new)
        try:
            return self.rest.finish_update(rt, stored, new, _WRITE, "status" if status else None)
        except APIError as exc:
            self.note_error(exc)
            return None

    def update_status(
        self, kind: str, obj: Mapping[str, Any], status: JSONObject
    ) -> JSONObject | None:
        """Replace ``obj``'s status through the status subresource (UpdateStatus)."""

        def put(o: JSONObject) -> None:
            o["status"] = copy_json(status)

        return self.update(kind, obj, put, status=True)

    def delete(self, kind: str, obj: Mapping[str, Any]) -> bool:
        """Delete ``obj`` (this UID only), as a controller does; False if it was already gone."""
        meta = obj["metadata"]
        try:
            delete_object(
                self.rest,
                self._types[kind],
                meta.get("namespace"),
                meta["name"],
                {"preconditions": {"uid": meta.get("uid")}},
                _WRITE,
            )
        except APIError as exc:
            if exc.code not in (404, 409):
                self.note_error(exc)
            return False
        return True

    def note_error(self, exc: APIError) -> None:
        """Keep an API error a controller shrugged off (only the latest `MAX_ERRORS`)."""
        self.errors.append(exc)
        del self.errors[:-MAX_ERRORS]

    def event(
        self,
        obj: Mapping[str, Any],
        component: str,
        reason: str,
        message: str,
        *,
        warning: bool = False,
    ) -> None:
        """Record a core/v1 Event about ``obj`` as ``component`` (``deployment-controller``...);
        repeats are aggregated. Best effort, as with the real recorder."""
        with contextlib.suppress(APIError):
            self._events.record(
                obj,
                "Warning" if warning else "Normal",
                reason,
                message,
                component=component,
                manager=MANAGER,
            )

    # -- time --------------------------------------------------------------------------------------

    def now(self) -> datetime.datetime:
        return self.rest.now()

    def timestamp(self) -> str:
        return self.rest.timestamp()

    def requeue_at(self, key: Key, when: datetime.datetime) -> None:
        """Sync ``key`` again at wall-clock time ``when`` (on trio's clock); nothing if that is
        not in the future or an earlier requeue is pending."""
        delay = (when - self.now()).total_seconds()
        if delay <= 0:
            return
        deadline = trio.current_time() + delay
        pending = self._requeues.get(key)
        if pending is not None and trio.current_time() <= pending <= deadline:
            return
        self._requeues[key] = deadline

        def fire() -> None:
            if self._requeues.get(key) == deadline:
                del self._requeues[key]
            self._enqueue(key)  # synced when the timers drain, once per batch

        self.timers.call_at(deadline, fire)


def _drop_owner(obj: JSONObject, uid: str) -> None:
    refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
    if refs:
        obj["metadata"]["ownerReferences"] = refs
    else:
        obj["metadata"].pop("ownerReferences", None)
