"""The StatefulSet controller: pods with stable ordinal names, started and stopped in order.

As kube-controller-manager's ``statefulset-controller``: pods are named ``<set>-<ordinal>`` and
carry ``statefulset.kubernetes.io/pod-name``, ``apps.kubernetes.io/pod-index`` and
``controller-revision-hash`` (the ControllerRevision snapshotting the template they were made
from), a hostname and the governing service as subdomain. With ``OrderedReady`` the pod of
ordinal N is created only once every lower ordinal is Running and Ready, scale-down removes the
highest ordinal first, one at a time; ``Parallel`` creates and deletes without waiting. A
RollingUpdate replaces pods whose revision is not the update revision from the highest ordinal
down to ``partition``, one at a time, each once the previous is healthy again; when every pod is
updated and ready the current revision becomes the update revision. Failed pods are replaced.
``volumeClaimTemplates`` are not acted on (no PersistentVolumeClaims are made).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import APIError, SelectorError
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._podhealth import (
    available_at,
    is_deleting,
    is_running_and_ready,
    is_terminal,
)
from kr8s_trio.testing._replicasets import pod_from_template
from kr8s_trio.testing._revisions import HASH_LABEL, ensure_revision, truncate_history

if TYPE_CHECKING:
    from kr8s_trio.testing._workloadctx import WorkloadContext

__all__ = ["StatefulSetController"]

JSONObject = dict[str, Any]
_COMPONENT = "statefulset-controller"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def _ordinal(set_name: str, pod: Mapping[str, Any]) -> int | None:
    match = _ORDINAL.match(str(pod["metadata"].get("name", "")))
    if match is None or match.group(1) != set_name:
        return None
    return int(match.group(2))


def _revision_of(pod: Mapping[str, Any]) -> str | None:
    labels = pod["metadata"].get("labels") or {}
    value = labels.get(REVISION_LABEL)
    return value if isinstance(value, str) else None


class StatefulSetController:
    """Syncs StatefulSets (see the module docstring)."""

    def __init__(self, ctx: WorkloadContext) -> None:
        self.ctx = ctx

    def sync(self, namespace: str, name: str) -> None:
        ctx = self.ctx
        sts = ctx.get("StatefulSet", namespace, name)
        if sts is None:
            return
        try:
            selector = LabelSelector.from_label_selector((sts.get("spec") or {}).get("selector"))
        except SelectorError:
            return
        if selector.empty:
            return
        revisions = ctx.claim(sts, "ControllerRevision", selector.matches)
        collisions = int((sts.get("status") or {}).get("collisionCount") or 0)
        update, collisions = ensure_revision(
            ctx,
            sts,
            revisions,
            labels=((sts["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {},
            hash_label=HASH_LABEL,
            collision_count=collisions,
        )
        if update is None:
            return
        revisions = ctx.owned(sts["metadata"]["uid"], "ControllerRevision")
        current_name = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revisions if r["metadata"]["name"] == current_name), update)

        def member(labels: Mapping[str, str]) -> bool:
            return selector.matches(labels)

        pods = [p for p in ctx.claim(sts, "Pod", member) if _ordinal(name, p) is not None]
        if not sts["metadata"].get("deletionTimestamp"):
            self._act(sts, pods, current, update)
            pods = [
                p
                for p in ctx.owned(sts["metadata"]["uid"], "Pod")
                if _ordinal(name, p) is not None and selector.matches(p["metadata"].get("labels"))
            ]
        sts = ctx.get("StatefulSet", namespace, name)
        if sts is None:
            return
        self._write_status(sts, pods, current, update, collisions)
        live = {current["metadata"]["name"], update["metadata"]["name"]}
        live |= {rev for p in pods if (rev := _revision_of(p))}
        limit = sts["spec"].get("revisionHistoryLimit")
        truncate_history(ctx, revisions, live, limit if isinstance(limit, int) else 10)

    # -- pods --------------------------------------------------------------------------------------

    def _new_pod(
        self, sts: JSONObject, ordinal: int, current: JSONObject, update: JSONObject
    ) -> JSONObject:
        strategy = sts["spec"].get("updateStrategy") or {}
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        use_current = (
            strategy.get("type", "RollingUpdate") == "RollingUpdate" and ordinal < partition
        )
        revision = current if use_current else update
        template = {k: v for k, v in revision["data"]["spec"]["template"].items() if k != "$patch"}
        name = sts["metadata"]["name"]
        pod = pod_from_template(sts, template, generate_name=f"{name}-")
        pod_name = f"{name}-{ordinal}"
        pod["metadata"]["name"] = pod_name
        labels = pod["metadata"].setdefault("labels", {})
        labels[POD_NAME_LABEL] = pod_name
        labels[POD_INDEX_LABEL] = str(ordinal)
        labels[REVISION_LABEL] = revision["metadata"]["name"]
        pod["spec"]["hostname"] = pod_name
        if sts["spec"].get("serviceName"):
            pod["spec"]["subdomain"] = sts["spec"]["serviceName"]
        return pod

    def _create(self, sts: JSONObject, pod: JSONObject) -> bool:
        ctx = self.ctx
        name, set_name = pod["metadata"]["name"], sts["metadata"]["name"]
        try:
            ctx.create("Pod", sts["metadata"].get("namespace"), pod)
        except APIError as exc:
            ctx.event(
                sts,
                _COMPONENT,
                "FailedCreate",
                f"create Pod {name} in StatefulSet {set_name} failed error: "
                f"{exc.status.get('message', exc)}",
                warning=True,
            )
            return False
        ctx.event(
            sts,
            _COMPONENT,
            "SuccessfulCreate",
            f"create Pod {name} in StatefulSet {set_name} successful",
        )
        return True

    def _delete(self, sts: JSONObject, pod: JSONObject) -> None:
        if self.ctx.delete("Pod", pod):
            self.ctx.event(
                sts,
                _COMPONENT,
                "SuccessfulDelete",
                f"delete Pod {pod['metadata']['name']} in StatefulSet "
                f"{sts['metadata']['name']} successful",
            )

    def _healthy(self, pod: JSONObject | None, min_ready: int) -> bool:
        if pod is None or is_deleting(pod) or not is_running_and_ready(pod):
            return False
        at = available_at(pod, min_ready)
        return at is not None and at <= self.ctx.now()

    def _act(
        self, sts: JSONObject, pods: list[JSONObject], current: JSONObject, update: JSONObject
    ) -> None:
        spec = sts["spec"]
        name = sts["metadata"]["name"]
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        count = int(spec.get("replicas", 1) or 0)
        min_ready = int(spec.get("minReadySeconds") or 0)
        monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        slots: list[JSONObject | None] = [None] * count
        condemned: list[JSONObject] = []
        for pod in pods:
            ordinal = _ordinal(name, pod)
            assert ordinal is not None
            if start <= ordinal < start + count:
                slots[ordinal - start] = pod
            else:
                condemned.append(pod)
        condemned.sort(key=lambda p: -(_ordinal(name, p) or 0))
        # the first unhealthy pod (a missing one counts) may be deleted while others wait
        unhealthy = [i for i, p in enumerate(slots) if not self._healthy(p, min_ready)]
        first_unhealthy = (
            None
            if unhealthy
            else next((p for p in reversed(condemned) if not self._healthy(p, min_ready)), None)
        )
        self._requeue_for_availability(sts, [p for p in slots if p is not None], min_ready)
        for i, slot in enumerate(slots):
            if slot is not None and is_terminal(slot):
                if not is_deleting(slot):
                    self._delete(sts, slot)  # replaced once it is gone
                if monotonic:
                    return
                continue
            if slot is None:
                created = self._create(sts, self._new_pod(sts, start + i, current, update))
                if monotonic or not created:
                    return
                continue
            if monotonic and not self._healthy(slot, min_ready):
                return
        for pod in condemned:
            if is_deleting(pod):
                if monotonic:
                    return
                continue
            if monotonic and not self._healthy(pod, min_ready) and pod is not first_unhealthy:
                return
            self._delete(sts, pod)
            if monotonic:
                return
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        for i in range(count - 1, partition - 1, -1):
            slot = slots[i]
            if slot is None:
                return
            if _revision_of(slot) != update["metadata"]["name"] and not is_deleting(slot):
                self._delete(sts, slot)
                return
            if not self._healthy(slot, min_ready):
                return

    def _requeue_for_availability(
        self, sts: JSONObject, pods: list[JSONObject], min_ready: int
    ) -> None:
        if not min_ready:
            return
        now = self.ctx.now()
        pending = [at for p in pods if (at := available_at(p, min_ready)) is not None and at > now]
        if pending:
            meta = sts["metadata"]
            self.ctx.requeue_at(
                ("StatefulSet", meta.get("namespace") or "", meta["name"]), min(pending)
            )

    # -- status ------------------------------------------------------------------------------------

    def _write_status(
        self,
        sts: JSONObject,
        pods: list[JSONObject],
        current: JSONObject,
        update: JSONObject,
        collisions: int,
    ) -> None:
        min_ready = int(sts["spec"].get("minReadySeconds") or 0)
        now = self.ctx.now()
        current_name, update_name = current["metadata"]["name"], update["metadata"]["name"]
        replicas = ready = available = at_current = at_update = 0
        for pod in pods:
            replicas += 1
            if is_running_and_ready(pod):
                ready += 1
                at = available_at(pod, min_ready)
                if at is not None and at <= now:
                    available += 1
            if not is_deleting(pod):
                revision = _revision_of(pod)
                at_current += revision == current_name
                at_update += revision == update_name
        strategy = sts["spec"].get("updateStrategy") or {}
        if (
            strategy.get("type", "RollingUpdate") == "RollingUpdate"
            and at_update == replicas
            and ready == replicas
        ):
            at_current, current_name = at_update, update_name
        status: JSONObject = {}
        if sts["metadata"].get("generation"):
            status["observedGeneration"] = sts["metadata"]["generation"]
        status["replicas"] = replicas
        for key, value in (
            ("readyReplicas", ready),
            ("currentReplicas", at_current),
            ("updatedReplicas", at_update),
        ):
            if value:
                status[key] = value
        status["currentRevision"] = current_name
        status["updateRevision"] = update_name
        status["collisionCount"] = collisions
        conditions = (sts.get("status") or {}).get("conditions")
        if conditions:
            status["conditions"] = conditions
        status["availableReplicas"] = available
        self.ctx.update_status("StatefulSet", sts, status)
