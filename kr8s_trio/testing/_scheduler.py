"""The simulated default scheduler: binds pending pods to the simulated nodes.

A pod with no ``spec.nodeName``, ``schedulerName: default-scheduler`` (the default) and no
scheduling gates goes to the feasible node with the fewest pods bound to it (ties: the first
node), the way the binding subresource writes it: ``spec.nodeName`` and ``PodScheduled=True``,
with an events.k8s.io-style ``Scheduled`` event. When no node fits, the pod gets
``PodScheduled=False`` (``Unschedulable``, the real scheduler's ``0/3 nodes are available: ...``
message) and a ``FailedScheduling`` event, and is tried again whenever a node changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kr8s_trio.testing._nodes import NodeSlot, unfit_reason, unschedulable_message
from kr8s_trio.testing._rest import WriteContext
from kr8s_trio.testing._store import copy_json

if TYPE_CHECKING:
    from kr8s_trio.testing._recorder import EventRecorder
    from kr8s_trio.testing._resources import ResourceType
    from kr8s_trio.testing._state import ClusterState
    from kr8s_trio.testing._store import BucketKey, Change, Stored

__all__ = ["Scheduler"]

_PODS: BucketKey = ("", "pods")
_NODES: BucketKey = ("", "nodes")
_SCHEDULER = WriteContext(manager="kube-scheduler")
_INSTANCE = "default-scheduler-kr8s-trio"


class Scheduler:
    """Places pods on the simulated nodes (``nodes`` is shared with the kubelets)."""

    def __init__(
        self,
        state: ClusterState,
        pods_rt: ResourceType,
        nodes: dict[str, NodeSlot],
        events: EventRecorder,
    ) -> None:
        self.state = state
        self.pods_rt = pods_rt
        self.nodes = nodes
        self.events = events
        #: pod key -> node it is bound to; node -> how many pods are bound to it
        self._placement: dict[str, str] = {}
        self._load: dict[str, int] = {}
        #: pods no node fits (tried again when a node changes)
        self.unschedulable: set[str] = set()

    def observe(self, bucket: BucketKey, change: Change) -> None:
        """Keep the count of pods per node (called by the kubelet's store listener)."""
        if bucket != _PODS:
            return
        key = change.key
        node = None if change.type == "DELETED" else change.new.obj["spec"].get("nodeName")
        old = self._placement.get(key)
        if node == old:
            return
        if old is not None:
            self._load[old] = self._load.get(old, 1) - 1
            del self._placement[key]
        if node is not None:
            self._load[node] = self._load.get(node, 0) + 1
            self._placement[key] = node
        if change.type == "DELETED":
            self.unschedulable.discard(key)

    def schedule(self, stored: Stored) -> None:
        """Bind a pending pod to a node, or say why none fits."""
        pod = stored.obj
        spec, meta = pod.get("spec") or {}, pod["metadata"]
        if (
            spec.get("schedulerName", "default-scheduler") != "default-scheduler"
            or spec.get("schedulingGates")
            or meta.get("deletionTimestamp")
            or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        ):
            return
        fits: list[NodeSlot] = []
        reasons: list[str] = []
        for slot in self.nodes.values():
            node = self.state.store.get(_NODES, slot.name)
            if node is None:
                continue
            why = unfit_reason(pod, node.obj)
            if why is None:
                fits.append(slot)
            else:
                reasons.append(why)
        if not fits:
            self.unschedulable.add(stored.key)
            message = (
                unschedulable_message(len(reasons), reasons)
                if reasons
                else "no nodes available to schedule pods"
            )
            self._mark_unschedulable(stored, message)
            return
        self.unschedulable.discard(stored.key)
        slot = min(fits, key=lambda s: (self._load.get(s.name, 0), s.index))
        new = copy_json(pod)
        new["spec"]["nodeName"] = slot.name
        status = new.setdefault("status", {})
        status["conditions"] = [
            c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"
        ] + [
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": self.state.rest.timestamp(),
            }
        ]
        # as the binding subresource does: spec.nodeName is otherwise immutable
        self.state.store.put(_PODS, stored.key, new)
        self.events.record_new(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {meta.get('namespace')}/{meta['name']} to {slot.name}",
            action="Binding",
            controller="default-scheduler",
            instance=_INSTANCE,
            manager="kube-scheduler",
        )

    def _mark_unschedulable(self, stored: Stored, message: str) -> None:
        pod = stored.obj
        old = pod.get("status") or {}
        current = next(
            (c for c in old.get("conditions") or [] if c.get("type") == "PodScheduled"), None
        )
        if current is not None and current.get("message") == message:
            return
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": self.state.rest.timestamp(),
            "reason": "Unschedulable",
            "message": message,
        }
        status = dict(old)
        status["conditions"] = [
            c for c in old.get("conditions") or [] if c.get("type") != "PodScheduled"
        ] + [condition]
        self.state.rest.finish_update(
            self.pods_rt, stored, {"status": status}, _SCHEDULER, "status"
        )
        self.events.record_new(
            pod,
            "Warning",
            "FailedScheduling",
            message,
            action="Scheduling",
            controller="default-scheduler",
            instance=_INSTANCE,
            manager="kube-scheduler",
        )
