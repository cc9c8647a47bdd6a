"""The fake cluster's nodes and the scheduler's view of them.

A living cluster has ``config.nodes`` worker nodes (``node-1``, ``node-2``...) that look like
kubeadm/kind workers to ``kubectl get nodes -o wide`` and ``describe node``: capacity and
allocatable, the four kubelet conditions, InternalIP and Hostname addresses, nodeInfo with the
cluster's version, a pod CIDR and a Lease in ``kube-node-lease``. The scheduler part is pure:
which nodes a pod may go to (``nodeSelector``, required node affinity, ``spec.unschedulable``,
taints and tolerations) and the words the real scheduler uses when none fits. Resources are
shown but not accounted: any number of pods fits on a node.
"""

from __future__ import annotations

import hashlib
import heapq
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from kr8s_trio._core._jsonpath import dig
from kr8s_trio.testing._placement import selects_node, tolerates, untolerated_taints

__all__ = [
    "NodeSlot",
    "lease_object",
    "node_object",
    "node_status",
    "unfit_reason",
    "unschedulable_message",
]

JSONObject = dict[str, Any]

#: what the nodes report they have (and may give to pods)
CAPACITY = {
    "cpu": "4",
    "ephemeral-storage": "102626232Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    "memory": "16365244Ki",
    "pods": "110",
}
OS_IMAGE = "Debian GNU/Linux 12 (bookworm)"
KERNEL = "6.8.0-1024-kr8s-trio"
CONTAINER_RUNTIME = "containerd://2.0.5"

_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
_CORDONED = "node(s) were unschedulable"


def _stable_uuid(*parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


@attrs.define
class NodeSlot:
    """One simulated node: its name, address, pod network and the pods placed on it."""

    index: int  # 1-based
    name: str
    #: pod IP host numbers handed back by pods that went away (reused lowest first)
    _free: list[int] = attrs.field(factory=list)
    _next: int = 0
    #: images already pulled on this node (``IfNotPresent`` pulls once per node)
    images: set[str] = attrs.field(factory=set)

    @property
    def internal_ip(self) -> str:
        return f"10.0.0.{self.index}"

    @property
    def pod_cidr(self) -> str:
        return f"10.244.{self.index - 1}.0/24"

    def allocate_ip(self) -> str:
        """The next free pod IP of this node (``10.244.<n-1>.2`` onwards).

        The /24 holds 253 pods; beyond that (the fake does not enforce the 110-pod capacity),
        addresses continue in ``10.245.<n-1>.*``, ``10.246...``, so that every pod has its own.
        """
        k = heapq.heappop(self._free) if self._free else self._next
        if k == self._next:
            self._next += 1
        return f"10.{244 + k // 253}.{self.index - 1}.{k % 253 + 2}"

    def release_ip(self, ip: str) -> None:
        parts = ip.split(".")
        if len(parts) != 4 or parts[2] != str(self.index - 1):
            return
        try:
            k = (int(parts[1]) - 244) * 253 + int(parts[3]) - 2
        except ValueError:
            return
        if 0 <= k < self._next and k not in self._free:
            heapq.heappush(self._free, k)


def node_object(slot: NodeSlot) -> JSONObject:
    """The Node as the kubelet registers it (status is written separately, through /status)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": slot.name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": slot.name,
                "kubernetes.io/os": "linux",
            },
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {"podCIDR": slot.pod_cidr, "podCIDRs": [slot.pod_cidr]},
    }


def node_status(slot: NodeSlot, version: str, now: str) -> JSONObject:
    """A healthy node's status: Ready, no pressure, addresses and nodeInfo."""

    def condition(type_: str, status: str, reason: str, message: str) -> JSONObject:
        return {
            "type": type_,
            "status": status,
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        }

    return {
        "capacity": dict(CAPACITY),
        "allocatable": dict(CAPACITY),
        "conditions": [
            condition(
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            condition(
                "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"
            ),
            condition(
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [
            {"type": "InternalIP", "address": slot.internal_ip},
            {"type": "Hostname", "address": slot.name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": hashlib.md5(slot.name.encode(), usedforsecurity=False).hexdigest(),
            "systemUUID": _stable_uuid("system", slot.name),
            "bootID": _stable_uuid("boot", slot.name),
            "kernelVersion": KERNEL,
            "osImage": OS_IMAGE,
            "containerRuntimeVersion": CONTAINER_RUNTIME,
            "kubeletVersion": version,
            # deprecated and no longer reported by kubelets, but never omitted (not omitempty)
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    }


def lease_object(slot: NodeSlot, now_micro: str) -> JSONObject:
    """The node's heartbeat Lease in ``kube-node-lease`` (renewed once: the fake never ages)."""
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": slot.name, "namespace": "kube-node-lease"},
        "spec": {
            "holderIdentity": slot.name,
            "leaseDurationSeconds": 40,
            "renewTime": now_micro,
        },
    }


# -- scheduling predicates ------------------------------------------------------------------------


def unfit_reason(pod: Mapping[str, Any], node: Mapping[str, Any]) -> str | None:
    """Why ``pod`` cannot go to ``node`` in the scheduler's words (None: it fits)."""
    spec = pod.get("spec") or {}
    if dig(node, "spec", "unschedulable") is True and not tolerates(
        spec.get("tolerations") or [],
        {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
    ):
        return _CORDONED
    if not selects_node(spec, node):
        return _AFFINITY
    for taint in untolerated_taints(spec, node, ("NoSchedule", "NoExecute")):
        key, value = taint.get("key", ""), taint.get("value")
        shown = f"{key}: {value}" if value else key
        return f"node(s) had untolerated taint {{{shown}}}"
    return None


def unschedulable_message(total: int, reasons: Sequence[str]) -> str:
    """The FailedScheduling message: ``0/3 nodes are available: 3 node(s) didn't match ...``."""
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    parts = sorted(f"{n} {reason}" for reason, n in counts.items())
    detail = ", ".join(parts)
    return (
        f"0/{total} nodes are available: {detail}. preemption: 0/{total} nodes are available: "
        f"{total} Preemption is not helpful for scheduling."
    )
