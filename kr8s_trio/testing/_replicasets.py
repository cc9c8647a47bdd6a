"""The ReplicaSet and ReplicationController controllers: keep ``spec.replicas`` pods running.

As kube-controller-manager's ``replicaset-controller`` (and ``replication-controller``, the same
code over the older kind): claim the pods matching the selector (adopting orphans, releasing
pods that stopped matching), create missing pods from the template with ``generateName``
``<owner>-`` and a controller owner reference, delete surplus pods starting with the least
useful (unscheduled, pending, not ready, newest), and report ``replicas``,
``fullyLabeledReplicas``, ``readyReplicas``, ``availableReplicas`` (``minReadySeconds`` on
trio's clock), ``observedGeneration`` and a ``ReplicaFailure`` condition when pods cannot be
created.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import APIError, SelectorError
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._podhealth import (
    available_at,
    deletion_order,
    is_active,
    is_available,
    is_ready,
)
from kr8s_trio.testing._store import copy_json
from kr8s_trio.testing._workloadctx import controller_ref, controller_uid

if TYPE_CHECKING:
    from kr8s_trio.testing._workloadctx import WorkloadContext

__all__ = ["ReplicaSetController", "pod_from_template"]

JSONObject = dict[str, Any]

#: at most this many pods are created or deleted per sync (kube-controller-manager's burst)
_BURST = 500


def pod_from_template(
    owner: Mapping[str, Any], template: Mapping[str, Any], *, generate_name: str | None = None
) -> JSONObject:
    """A pod made from a controller's pod template (``GetPodFromTemplate``): the template's
    labels, annotations, finalizers and spec, owned by ``owner``."""
    meta = template.get("metadata") or {}
    pod_meta: JSONObject = {"namespace": owner["metadata"].get("namespace")}
    if generate_name is not None:
        pod_meta["generateName"] = generate_name
    for field in ("labels", "annotations", "finalizers"):
        if meta.get(field):
            pod_meta[field] = copy_json({"v": meta[field]})["v"]
    pod_meta["ownerReferences"] = [controller_ref(owner)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": copy_json(dict(template.get("spec") or {})),
    }


class ReplicaSetController:
    """Syncs ReplicaSets (``kind="ReplicaSet"``) or ReplicationControllers."""

    def __init__(self, ctx: WorkloadContext, kind: str = "ReplicaSet") -> None:
        self.ctx = ctx
        self.kind = kind
        self.component = (
            "replicaset-controller" if kind == "ReplicaSet" else "replication-controller"
        )

    def selector(self, obj: Mapping[str, Any]) -> LabelSelector | None:
        spec = obj.get("spec") or {}
        try:
            if self.kind == "ReplicationController":
                labels = spec.get("selector") or (
                    (spec.get("template") or {}).get("metadata") or {}
                ).get("labels")
                return LabelSelector.from_labels(labels) if labels else None
            selector = spec.get("selector")
            if not selector:
                return None
            return LabelSelector.from_label_selector(selector)
        except SelectorError:
            return None

    def sync(self, namespace: str, name: str) -> None:
        ctx = self.ctx
        rs = ctx.get(self.kind, namespace, name)
        if rs is None:
            return
        selector = self.selector(rs)
        if selector is None or selector.empty:
            return
        pods = ctx.claim(rs, "Pod", selector.matches)
        error: APIError | None = None
        if not rs["metadata"].get("deletionTimestamp"):
            error = self._manage(rs, [p for p in pods if is_active(p)])
            pods = [
                p
                for p in ctx.owned(rs["metadata"]["uid"], "Pod")
                if selector.matches(p["metadata"].get("labels"))
            ]
        rs = ctx.get(self.kind, namespace, name)
        if rs is None:
            return
        active = [p for p in pods if is_active(p)]
        status = self._status(rs, active, error)
        ctx.update_status(self.kind, rs, status)
        self._requeue_for_availability(rs, active)

    # -- pods --------------------------------------------------------------------------------------

    def _manage(self, rs: JSONObject, active: list[JSONObject]) -> APIError | None:
        ctx = self.ctx
        replicas = int((rs.get("spec") or {}).get("replicas", 1) or 0)
        diff = len(active) - replicas
        if diff < 0:
            template = (rs.get("spec") or {}).get("template") or {}
            for _ in range(min(-diff, _BURST)):
                pod = pod_from_template(rs, template, generate_name=f"{rs['metadata']['name']}-")
                try:
                    created = ctx.create("Pod", rs["metadata"].get("namespace"), pod)
                except APIError as exc:
                    ctx.event(
                        rs,
                        self.component,
                        "FailedCreate",
                        f"Error creating: {exc.status.get('message', exc)}",
                        warning=True,
                    )
                    return exc
                ctx.event(
                    rs,
                    self.component,
                    "SuccessfulCreate",
                    f"Created pod: {created['metadata']['name']}",
                )
        elif diff > 0:
            for pod in self._pods_to_delete(rs, active, min(diff, _BURST)):
                if ctx.delete("Pod", pod):
                    ctx.event(
                        rs,
                        self.component,
                        "SuccessfulDelete",
                        f"Deleted pod: {pod['metadata']['name']}",
                    )
        return None

    def _pods_to_delete(
        self, rs: JSONObject, active: list[JSONObject], count: int
    ) -> list[JSONObject]:
        # pods of the ReplicaSets of the same Deployment count as related: doubled-up nodes first
        related = list(active)
        owner = controller_uid(rs)
        if owner is not None:
            related = [
                p
                for sibling in self.ctx.owned(owner, "ReplicaSet")
                for p in self.ctx.owned(sibling["metadata"]["uid"], "Pod")
                if is_active(p)
            ]
        per_node = Counter(node for p in related if (node := (p.get("spec") or {}).get("nodeName")))

        def rank(pod: JSONObject) -> int:
            node = (pod.get("spec") or {}).get("nodeName")
            return per_node[node] if node else 0

        return sorted(active, key=lambda p: deletion_order(p, rank(p)))[:count]

    # -- status ------------------------------------------------------------------------------------

    def _status(
        self, rs: JSONObject, active: list[JSONObject], error: APIError | None
    ) -> JSONObject:
        spec = rs.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        now = self.ctx.now()
        fully = sum(
            1
            for p in active
            if all(
                (p["metadata"].get("labels") or {}).get(k) == v for k, v in template_labels.items()
            )
        )
        ready = sum(1 for p in active if is_ready(p))
        available = sum(1 for p in active if is_available(p, min_ready, now))
        status: JSONObject = {"replicas": len(active)}
        if fully:
            status["fullyLabeledReplicas"] = fully
        if ready:
            status["readyReplicas"] = ready
        if available:
            status["availableReplicas"] = available
        generation = rs["metadata"].get("generation")
        if generation:
            status["observedGeneration"] = generation
        conditions = list((rs.get("status") or {}).get("conditions") or [])
        failure = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
        if error is not None and failure is None:
            replicas = int(spec.get("replicas", 1) or 0)
            reason = "FailedCreate" if len(active) < replicas else "FailedDelete"
            # there is no ReplicaFailure condition yet: SetCondition appends it
            conditions.append(
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "lastTransitionTime": self.ctx.timestamp(),
                    "reason": reason,
                    "message": str(error.status.get("message", error)),
                }
            )
        elif error is None and failure is not None:
            conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
        if conditions:
            status["conditions"] = conditions
        return status

    def _requeue_for_availability(self, rs: JSONObject, active: list[JSONObject]) -> None:
        min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
        if not min_ready:
            return
        now = self.ctx.now()
        pending = [
            at for p in active if (at := available_at(p, min_ready)) is not None and at > now
        ]
        if pending:
            meta = rs["metadata"]
            self.ctx.requeue_at(
                (self.kind, meta.get("namespace") or "", meta["name"]), min(pending)
            )
