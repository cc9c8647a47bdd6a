"""The ``apps/v1`` kinds: `Deployment` (with its pods and readiness), `ReplicaSet`,
`StatefulSet`, `DaemonSet`, `ControllerRevision`."""

from __future__ import annotations

from typing import ClassVar

from kr8s_trio._core._objectedits import pod_is_ready, workload_is_ready
from kr8s_trio._objects._base import APIObject
from kr8s_trio._objects._core_v1 import Pod, pods_selected_by
from kr8s_trio._objects._podexec import ReadyPodExec
from kr8s_trio._objects._podforward import ReadyPodPortForward
from kr8s_trio._objects._podlogs import WorkloadLogs

__all__ = ["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"]


class _Apps(APIObject):
    __slots__ = ()
    version = "apps/v1"
    namespaced = True
    builtin: ClassVar[bool] = True


class ControllerRevision(_Apps):
    kind = "ControllerRevision"
    plural = "controllerrevisions"


class DaemonSet(_Apps):
    kind = "DaemonSet"
    plural = "daemonsets"
    short_names = ("ds",)


class _Workload(_Apps):
    """A kind whose ``spec.selector`` (``matchLabels`` and ``matchExpressions``) picks pods."""

    scalable = True
    scale_subresource = True

    async def pods(self) -> list[Pod]:
        """The pods ``spec.selector`` selects, in the object's namespace (kr8s ignores
        ``matchExpressions`` and so returns pods the workload does not own).

        Cancellation:
            Safe.
        """
        return await pods_selected_by(self, self._raw.get("spec", {}).get("selector"))

    async def ready_pods(self) -> list[Pod]:
        """Those of `pods` that are ready.

        Cancellation:
            Safe.
        """
        return [pod for pod in await self.pods() if pod_is_ready(pod.raw)]

    async def ready(self) -> bool:
        """Refresh, then whether the controller has observed the latest generation and every
        replica is ready.

        Cancellation:
            Safe.
        """
        await self.refresh()
        return workload_is_ready(self._raw)


class Deployment(ReadyPodExec, ReadyPodPortForward, WorkloadLogs, _Workload):
    kind = "Deployment"
    plural = "deployments"
    short_names = ("deploy",)


class ReplicaSet(_Workload):
    kind = "ReplicaSet"
    plural = "replicasets"
    short_names = ("rs",)


class StatefulSet(_Workload):
    kind = "StatefulSet"
    plural = "statefulsets"
    short_names = ("sts",)
