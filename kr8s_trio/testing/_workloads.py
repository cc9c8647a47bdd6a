"""The workload controllers of a living fake cluster, driven by store changes.

`WorkloadControllers` plays kube-controller-manager's Deployment, ReplicaSet,
ReplicationController, StatefulSet, DaemonSet and Job controllers (CronJobs stay inert). A store
listener maps each committed change to the controller objects it concerns (a pod to its
controller, or to the controllers that could adopt it; a ReplicaSet to its Deployment; a Node to
every DaemonSet) and marks them dirty; one deferred flush, run by the part-1 controllers' drain
loop after the write that caused it, syncs dirty objects in order until none is left. So a
request that creates a Deployment is answered after its ReplicaSet and pods exist, every sync is
deterministic, and nothing runs in the background except requeues on trio's clock
(``minReadySeconds``, progress deadlines, Job backoff).

Every sync is level-based and idempotent, and writes only what differs (the REST layer commits
nothing for a no-op write), so reactions settle; a flush that does not settle within a bound
raises instead of spinning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import APIError, SelectorError
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._daemonsets import DaemonSetController
from kr8s_trio.testing._deployments import DeploymentController
from kr8s_trio.testing._jobs import JobController
from kr8s_trio.testing._podhealth import is_terminal
from kr8s_trio.testing._replicasets import ReplicaSetController
from kr8s_trio.testing._statefulsets import StatefulSetController
from kr8s_trio.testing._workloadctx import KINDS, Key, WorkloadContext, controller_ref_of

if TYPE_CHECKING:
    from kr8s_trio.testing._controllers import Controllers, Timers
    from kr8s_trio.testing._resources import ResourceRegistry
    from kr8s_trio.testing._rest import RestStorage
    from kr8s_trio.testing._store import BucketKey, Change, Store

__all__ = ["WorkloadControllers"]

JSONObject = dict[str, Any]

#: kinds whose pods a controller may adopt
_POD_OWNERS = ("ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job")
#: syncs one flush may run before it is declared a reaction loop
_MAX_SYNCS_PER_FLUSH = 200_000


class WorkloadControllers:
    """The simulated workload controllers of one cluster (see the module docstring).

    Args:
        rest, registry, store, timers: the cluster's machinery.
        controllers: the part-1 control loops, whose drain runs the flush.

    Attributes:
        ctx: reads, writes and indexes shared by the controllers.
        syncs: how many syncs have run (tests check that reactions settle).
    """

    def __init__(
        self,
        rest: RestStorage,
        registry: ResourceRegistry,
        store: Store,
        controllers: Controllers,
        timers: Timers,
    ) -> None:
        self._controllers = controllers
        self.ctx = WorkloadContext(rest, registry, store, timers, self.enqueue)
        self.replicasets = ReplicaSetController(self.ctx, "ReplicaSet")
        self.replicationcontrollers = ReplicaSetController(self.ctx, "ReplicationController")
        self.deployments = DeploymentController(self.ctx)
        self.statefulsets = StatefulSetController(self.ctx)
        self.daemonsets = DaemonSetController(self.ctx)
        self.jobs = JobController(self.ctx)
        self._sync: dict[str, Callable[[str, str], None]] = {
            "ReplicaSet": self.replicasets.sync,
            "ReplicationController": self.replicationcontrollers.sync,
            "Deployment": self.deployments.sync,
            "StatefulSet": self.statefulsets.sync,
            "DaemonSet": self.daemonsets.sync,
            "Job": self.jobs.sync,
        }
        self._kinds: dict[BucketKey, str] = {bucket: kind for kind, bucket in KINDS.items()}
        self._dirty: dict[Key, None] = {}
        self._scheduled = False
        self.syncs = 0
        store.add_listener(self._observe)

    # -- queue -------------------------------------------------------------------------------------

    def enqueue(self, key: Key) -> None:
        """Sync ``(kind, namespace, name)`` in the next flush (once, however often marked)."""
        self._dirty[key] = None
        if not self._scheduled:
            self._scheduled = True
            self._controllers.defer(self._flush)

    def _flush(self) -> None:
        runs = 0
        try:
            while self._dirty:
                key = next(iter(self._dirty))
                del self._dirty[key]
                runs += 1
                if runs > _MAX_SYNCS_PER_FLUSH:
                    raise RuntimeError(f"workload controllers do not settle (last: {key})")
                self.syncs += 1
                kind, namespace, name = key
                try:
                    self._sync[kind](namespace, name)
                except APIError as exc:  # the object moved on; a later change re-queues it
                    self.ctx.note_error(exc)
        finally:
            self._scheduled = False
            if self._dirty:
                self._scheduled = True
                self._controllers.defer(self._flush)

    # -- observing ---------------------------------------------------------------------------------

    def _observe(self, bucket: BucketKey, change: Change) -> None:
        kind = self._kinds.get(bucket)
        if kind is None or kind == "Event":
            return
        self.ctx.index(kind, change)
        obj = change.new.obj
        prev = change.prev.obj if change.prev is not None else None
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "")
        if kind in self._sync:
            self.enqueue((kind, namespace, str(meta.get("name"))))
        if kind == "Node":
            for ds in self.ctx.all("DaemonSet"):
                self._enqueue_obj("DaemonSet", ds)
            return
        if kind not in ("Pod", "ReplicaSet", "ControllerRevision"):
            return
        owners = {
            (str(ref.get("kind")), str(ref.get("name")))
            for o in (obj, prev)
            if o is not None and (ref := controller_ref_of(o)) is not None
        }
        for owner_kind, owner_name in sorted(owners):
            if owner_kind in self._sync:
                self.enqueue((owner_kind, namespace, owner_name))
        if (
            change.type != "DELETED"
            and controller_ref_of(obj) is None
            and (
                prev is None  # a new orphan
                or controller_ref_of(prev) is not None  # just released or orphaned
                or (prev.get("metadata") or {}).get("labels") != meta.get("labels")
            )
        ):
            # as the real controllers' updatePod: other changes (a status write) cannot make
            # an orphan adoptable, so they do not look for adopters
            self._enqueue_adopters(kind, namespace, meta.get("labels") or {})
        if kind == "Pod" and (change.type == "DELETED" or is_terminal(obj)):
            self._enqueue_deployments_of(namespace, owners)

    def _enqueue_obj(self, kind: str, obj: Mapping[str, Any]) -> None:
        meta = obj["metadata"]
        self.enqueue((kind, str(meta.get("namespace") or ""), str(meta["name"])))

    def _enqueue_adopters(self, kind: str, namespace: str, labels: Mapping[str, str]) -> None:
        """An orphan changed: every controller whose selector matches it may adopt it."""
        candidates = {
            "Pod": _POD_OWNERS,
            "ReplicaSet": ("Deployment",),
            "ControllerRevision": ("StatefulSet", "DaemonSet"),
        }[kind]
        for owner_kind in candidates:
            for owner in self.ctx.all(owner_kind, namespace):
                if _selects(owner_kind, owner, labels):
                    self._enqueue_obj(owner_kind, owner)

    def _enqueue_deployments_of(self, namespace: str, owners: set[tuple[str, str]]) -> None:
        """A pod of a ReplicaSet went away: a Recreate rollout may be waiting for that."""
        for owner_kind, owner_name in owners:
            if owner_kind != "ReplicaSet":
                continue
            rs = self.ctx.get("ReplicaSet", namespace, owner_name)
            ref = controller_ref_of(rs) if rs is not None else None
            if ref is not None and ref.get("kind") == "Deployment":
                self.enqueue(("Deployment", namespace, str(ref.get("name"))))


def _selects(kind: str, owner: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    spec = owner.get("spec") or {}
    try:
        if kind == "ReplicationController":
            wanted: Mapping[str, str] = (
                spec.get("selector")
                or ((spec.get("template") or {}).get("metadata") or {}).get("labels")
                or {}
            )
            return bool(wanted) and LabelSelector.from_labels(wanted).matches(labels)
        raw = spec.get("selector")
        if not raw:
            return False
        selector = LabelSelector.from_label_selector(raw)
    except SelectorError:
        return False
    return not selector.empty and selector.matches(labels)
