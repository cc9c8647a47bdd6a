"""The control-plane loops of part 1: garbage collector, namespace lifecycle, CRD lifecycle.

They react to committed store changes. Reactions are queued by a store listener and run by
`drain`, which the REST layer calls after each write it completes, so every cascade finishes
before the request that caused it is answered, in a deterministic order, with no background
task to wait for: an owner's DELETED event is followed by its dependents' DELETED events, as
with the real garbage collector, only sooner.

Timed work (a pod's grace period running out) goes through `Timers`, which sleeps on trio's
clock, so tests drive it with `MockClock`.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio

from kr8s_trio._core._exceptions import APIError
from kr8s_trio._core._field_selectors import FieldSelector
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._crd import crd_resource_types, crd_status
from kr8s_trio.testing._deletion import delete_object
from kr8s_trio.testing._pagination import ListOptions, list_page
from kr8s_trio.testing._rest import WriteContext
from kr8s_trio.testing._store import Change, copy_json
from kr8s_trio.testing._strategies import CRD_FINALIZER

if TYPE_CHECKING:
    from kr8s_trio.testing._resources import ResourceRegistry, ResourceType
    from kr8s_trio.testing._rest import RestStorage
    from kr8s_trio.testing._store import BucketKey, Store

__all__ = ["Controllers", "Timers"]

JSONObject = dict[str, Any]
Location = tuple["BucketKey", str]

_GC = WriteContext(manager="generic-garbage-collector")
_NS = WriteContext(manager="namespace-controller")
_CRD = WriteContext(manager="kube-apiserver")
_NAMESPACES: BucketKey = ("", "namespaces")
_CRDS: BucketKey = ("apiextensions.k8s.io", "customresourcedefinitions")
_NO_LABELS = LabelSelector(())
_NO_FIELDS = FieldSelector(())


class Timers:
    """Deadlines on trio's clock; callbacks run in the task running `run`.

    Callbacks that fall due together run as one batch, then ``after_batch`` runs once (the
    controllers' drain loop): a callback that only defers its reaction lets a thousand pods
    that become ready at the same instant cost one sync of their ReplicaSet, not a thousand.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._changed = trio.Event()
        #: run after each batch of due callbacks
        self.after_batch: Callable[[], None] = lambda: None

    def call_at(self, deadline: float, callback: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (deadline, next(self._counter), callback))
        self._changed.set()

    def pending(self) -> int:
        return len(self._heap)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run callbacks as their deadlines pass, forever.

        Cancellation: stops at once; pending callbacks are dropped.
        """
        task_status.started()
        while True:
            self._changed = trio.Event()
            now = trio.current_time()
            if self._heap and self._heap[0][0] <= now:
                while self._heap and self._heap[0][0] <= now:
                    _, _, callback = heapq.heappop(self._heap)
                    callback()
                self.after_batch()
            deadline = self._heap[0][0] if self._heap else math.inf
            with trio.move_on_at(deadline):
                await self._changed.wait()


def _owner_uids(obj: JSONObject | None) -> set[str]:
    if obj is None:
        return set()
    refs = obj.get("metadata", {}).get("ownerReferences") or []
    return {r["uid"] for r in refs if isinstance(r, dict) and isinstance(r.get("uid"), str)}


class Controllers:
    """Garbage collector, namespace controller, CRD controller and graceful pod deletion."""

    def __init__(
        self, rest: RestStorage, registry: ResourceRegistry, store: Store, timers: Timers
    ) -> None:
        self.rest = rest
        self.registry = registry
        self.store = store
        self.timers = timers
        self._queue: deque[tuple[str, Any]] = deque()
        self._draining = False
        self._uids: dict[str, Location] = {}
        self._dependents: dict[str, set[Location]] = {}
        self._crd_generations: dict[str, object] = {}
        #: set by the simulated kubelet: True for a pod whose graceful deletion it completes
        #: itself (else `_grace_expired` removes the pod when its grace period runs out)
        self.completes_graceful_deletion: Callable[[JSONObject], bool] = lambda pod: False
        store.add_listener(self._observe)
        rest.on_commit = self.drain
        timers.after_batch = self.drain

    # -- observing ----------------------------------------------------------------------------

    def _observe(self, bucket: BucketKey, change: Change) -> None:
        obj = change.new.obj
        meta = obj.get("metadata", {})
        uid = meta.get("uid")
        loc: Location = (bucket, change.key)
        prev = change.prev.obj if change.prev is not None else None
        if change.type == "DELETED":
            if uid:
                self._uids.pop(uid, None)
                self._queue.append(("orphaned", uid))
            for owner in _owner_uids(prev):
                deps = self._dependents.get(owner)
                if deps is not None:
                    deps.discard(loc)
                    if not deps:
                        del self._dependents[owner]
                self._queue.append(("owner", owner))
            namespace = meta.get("namespace")
            if namespace:
                self._queue.append(("namespace", namespace))
            crd_name = rt.crd_name if (rt := self._rt_for(bucket)) is not None else None
            if crd_name in self.rest.terminating_crds:
                self._queue.append(("crd", crd_name))  # maybe its last object went
            if bucket == _CRDS:
                self._crd_generations.pop(meta["name"], None)
                self.registry.remove_crd(meta["name"])
                self.rest.terminating_crds.discard(meta["name"])
            return
        if uid:
            self._uids[uid] = loc
        owners, old_owners = _owner_uids(obj), _owner_uids(prev)
        for owner in old_owners - owners:
            self._dependents.get(owner, set()).discard(loc)
        for owner in owners - old_owners:
            self._dependents.setdefault(owner, set()).add(loc)
        if owners and owners != old_owners:
            self._queue.append(("dependent", loc))
        if meta.get("deletionTimestamp"):
            if uid and {"orphan", "foregroundDeletion"} & set(meta.get("finalizers") or []):
                self._queue.append(("owner", uid))
            if bucket == _NAMESPACES:
                self._queue.append(("namespace", meta["name"]))
            grace = meta.get("deletionGracePeriodSeconds")
            if (
                bucket == ("", "pods")
                and grace
                and not self.completes_graceful_deletion(obj)
                and (
                    prev is None
                    or prev["metadata"].get("deletionTimestamp") != meta["deletionTimestamp"]
                )
            ):
                self.timers.call_at(
                    trio.current_time() + grace, lambda: self._grace_expired(loc, uid)
                )
        if bucket == _CRDS:
            self._queue.append(("crd", meta["name"]))

    # -- running ------------------------------------------------------------------------------

    def defer(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` from the drain loop, once the change being committed has reached every
        watcher and listener. Simulated kubelets and controllers react to changes this way
        (a store listener must not write: it runs in the middle of a commit)."""
        self._queue.append(("call", fn))

    def _on_call(self, fn: Callable[[], None]) -> None:
        fn()

    def drain(self) -> None:
        """Process queued reactions (and those they cause) until there are none."""
        if self._draining:
            return
        self._draining = True
        try:
            while self._queue:
                what, arg = self._queue.popleft()
                try:
                    getattr(self, f"_on_{what}")(arg)
                except APIError as exc:
                    if exc.code not in (404, 409):  # the object moved on; a later change re-queues
                        raise
        finally:
            self._draining = False

    def _rt_for(self, bucket: BucketKey) -> ResourceType | None:
        return self.registry.preferred(*bucket)

    def _delete(self, loc: Location, policy: str, ctx: WriteContext) -> None:
        stored = self.store.get(*loc)
        rt = self._rt_for(loc[0])
        if stored is None or rt is None or stored.obj["metadata"].get("deletionTimestamp"):
            return
        meta = stored.obj["metadata"]
        delete_object(
            self.rest, rt, meta.get("namespace"), meta["name"], {"propagationPolicy": policy}, ctx
        )

    def _update(
        self,
        loc: Location,
        mutate: Callable[[JSONObject], None],
        ctx: WriteContext,
        subresource: str | None = None,
    ) -> None:
        stored = self.store.get(*loc)
        rt = self._rt_for(loc[0])
        if stored is None or rt is None:
            return
        new = copy_json(stored.obj)
        mutate(new)
        self.rest.finish_update(rt, stored, new, ctx, subresource)

    # -- garbage collector ---------------------------------------------------------------------

    def _on_orphaned(self, uid: str) -> None:
        for loc in sorted(self._dependents.get(uid, set())):
            self._on_dependent(loc)

    def _on_dependent(self, loc: Location) -> None:
        stored = self.store.get(*loc)
        if stored is None:
            return
        refs = stored.obj["metadata"].get("ownerReferences") or []
        solid, dangling, waiting = [], [], []
        for ref in refs:
            owner_loc = self._uids.get(ref.get("uid", ""))
            owner = self.store.get(*owner_loc) if owner_loc else None
            if owner is None:
                dangling.append(ref)
            elif owner.obj["metadata"].get("deletionTimestamp") and "foregroundDeletion" in (
                owner.obj["metadata"].get("finalizers") or []
            ):
                waiting.append(ref)
            else:
                solid.append(ref)
        if solid:
            if dangling or waiting:
                gone = {r["uid"] for r in dangling + waiting}

                def strip(obj: JSONObject) -> None:
                    obj["metadata"]["ownerReferences"] = [
                        r for r in obj["metadata"]["ownerReferences"] if r.get("uid") not in gone
                    ]

                self._update(loc, strip, _GC)
            return
        if dangling or waiting:
            # as the real GC: foreground only when an owner waits and this has dependents too
            has_deps = bool(self._dependents.get(stored.obj["metadata"].get("uid", "")))
            self._delete(loc, "Foreground" if waiting and has_deps else "Background", _GC)

    def _on_owner(self, uid: str) -> None:
        owner_loc = self._uids.get(uid)
        owner = self.store.get(*owner_loc) if owner_loc else None
        if owner is None or owner_loc is None:
            return
        meta = owner.obj["metadata"]
        if not meta.get("deletionTimestamp"):
            return
        finalizers = meta.get("finalizers") or []
        deps = sorted(self._dependents.get(uid, set()))
        if "orphan" in finalizers:
            for loc in deps:

                def unown(obj: JSONObject) -> None:
                    refs = [
                        r
                        for r in obj["metadata"].get("ownerReferences") or []
                        if r.get("uid") != uid
                    ]
                    if refs:
                        obj["metadata"]["ownerReferences"] = refs
                    else:
                        obj["metadata"].pop("ownerReferences", None)

                self._update(loc, unown, _GC)
            self._remove_finalizer(owner_loc, "orphan")
        elif "foregroundDeletion" in finalizers:
            for loc in deps:  # dependents with another live owner only lose this reference
                self._on_dependent(loc)
            blocking = [
                loc
                for loc in sorted(self._dependents.get(uid, set()))
                if (dep := self.store.get(*loc)) is not None
                and any(
                    r.get("uid") == uid and r.get("blockOwnerDeletion")
                    for r in dep.obj["metadata"].get("ownerReferences") or []
                )
            ]
            if not blocking:
                self._remove_finalizer(owner_loc, "foregroundDeletion")

    def _remove_finalizer(self, loc: Location, finalizer: str) -> None:
        def remove(obj: JSONObject) -> None:
            obj["metadata"]["finalizers"] = [
                f for f in obj["metadata"].get("finalizers") or [] if f != finalizer
            ]
            if not obj["metadata"]["finalizers"]:
                del obj["metadata"]["finalizers"]

        self._update(loc, remove, _GC)

    # -- namespaces ----------------------------------------------------------------------------

    def _on_namespace(self, name: str) -> None:
        ns = self.store.get(_NAMESPACES, name)
        if ns is None or not ns.obj["metadata"].get("deletionTimestamp"):
            return
        remaining = 0
        prefix = f"{name}/"
        for bucket, b in self.store.buckets():
            rt = self._rt_for(bucket)
            if rt is None or not rt.namespaced:
                continue
            for key in [k for k in b.sorted_keys() if k.startswith(prefix)]:
                self._delete((bucket, key), "Background", _NS)
                if key in b.items:
                    remaining += 1
        if remaining:
            return
        if "kubernetes" in ((ns.obj.get("spec") or {}).get("finalizers") or []):
            # only its own finalizer: others (spec.finalizers of other controllers) keep it

            def finalize(obj: JSONObject) -> None:
                obj["spec"]["finalizers"] = sorted(
                    {f for f in obj["spec"]["finalizers"] if f != "kubernetes"}
                )

            self._update((_NAMESPACES, name), finalize, _NS)

    # -- CRDs ------------------------------------------------------------------------------------

    def _on_crd(self, name: str) -> None:
        crd = self.store.get(_CRDS, name)
        if crd is None:
            return
        obj = crd.obj
        types = crd_resource_types(obj)
        if obj["metadata"].get("deletionTimestamp"):
            self.rest.terminating_crds.add(name)
            if not types:
                return
            bucket = types[0].storage_key
            for key in list(self.store.bucket(bucket).sorted_keys()):
                self._delete((bucket, key), "Background", _CRD)
            if not self.store.bucket(bucket).items:
                self._remove_finalizer((_CRDS, name), CRD_FINALIZER)
            return
        generation = obj["metadata"].get("generation")
        if self._crd_generations.get(name) != generation:
            # the CRD's spec changed (or it is new): serve its versions afresh; this also bumps
            # the registry generation, so discovery and OpenAPI documents are rebuilt
            self._crd_generations[name] = generation
            self.registry.remove_crd(name)
            for rt in types:
                self.registry.add(rt)
        status = crd_status(obj, self.rest.timestamp())
        old_status = obj.get("status") or {}
        if {c["type"]: c["status"] for c in old_status.get("conditions") or []} != {
            c["type"]: c["status"] for c in status["conditions"]
        } or old_status.get("acceptedNames") != status["acceptedNames"]:

            def set_status(o: JSONObject) -> None:
                o["status"] = status

            self._update((_CRDS, name), set_status, _CRD, "status")

    # -- pods --------------------------------------------------------------------------------------

    def _grace_expired(self, loc: Location, uid: str | None) -> None:
        stored = self.store.get(*loc)
        if stored is None or stored.obj["metadata"].get("uid") != uid:
            return
        if not stored.obj["metadata"].get("deletionTimestamp"):
            return
        if stored.obj["metadata"].get("finalizers"):
            return
        self.store.delete(*loc)

    def all_in(self, rt: ResourceType, namespace: str | None) -> list[JSONObject]:
        page = list_page(
            self.store, rt, namespace, ListOptions(0, None, None, False), _NO_LABELS, _NO_FIELDS
        )
        return [s.obj for s in page.items]
