"""The DaemonSet controller: one pod on every node that should run it.

As kube-controller-manager's ``daemonset-controller``: for each Node the scheduler's predicates
decide (node selector, required node affinity, taints against the pod's tolerations plus the
ones daemon pods always get) whether a daemon pod belongs there; missing pods are created with
``generateName`` ``<daemonset>-``, pinned to their node by a ``matchFields`` node-affinity term
on ``metadata.name`` (the scheduler binds them; the controller does not set ``nodeName``), and
labelled with ``controller-revision-hash`` and ``pod-template-generation``. Pods on nodes that
should not run them, extra pods on a node, and failed or succeeded pods are deleted. A
RollingUpdate replaces old pods node by node within ``maxUnavailable``. The status reports
``desiredNumberScheduled``, ``currentNumberScheduled``, ``numberMisscheduled``,
``numberReady``, ``numberAvailable``, ``numberUnavailable``, ``updatedNumberScheduled``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import APIError, SelectorError
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._placement import (
    affinity_for_node,
    fits_node,
    node_affinity_target,
    untolerated_taints,
)
from kr8s_trio.testing._podhealth import (
    available_at,
    is_available,
    is_deleting,
    is_ready,
    is_terminal,
)
from kr8s_trio.testing._replicasets import pod_from_template
from kr8s_trio.testing._revisions import ensure_revision, truncate_history

if TYPE_CHECKING:
    from kr8s_trio.testing._workloadctx import WorkloadContext

__all__ = ["DaemonSetController"]

JSONObject = dict[str, Any]
_COMPONENT = "daemonset-controller"
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"

#: tolerations every daemon pod gets (``AddOrUpdateDaemonPodTolerations``)
_DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
_HOST_NETWORK_TOLERATION = ("node.kubernetes.io/network-unavailable", "NoSchedule")


def _with_daemon_tolerations(spec: JSONObject) -> None:
    tolerations = list(spec.get("tolerations") or [])
    wanted = list(_DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(_HOST_NETWORK_TOLERATION)
    for key, effect in wanted:
        toleration = {"key": key, "operator": "Exists", "effect": effect}
        tolerations = [
            t for t in tolerations if not (t.get("key") == key and t.get("effect") == effect)
        ]
        tolerations.append(toleration)
    spec["tolerations"] = tolerations


def _by_age(pods: list[JSONObject]) -> list[JSONObject]:
    return sorted(
        pods,
        key=lambda p: (str(p["metadata"].get("creationTimestamp")), p["metadata"]["name"]),
    )


class DaemonSetController:
    """Syncs DaemonSets (see the module docstring)."""

    def __init__(self, ctx: WorkloadContext) -> None:
        self.ctx = ctx

    def sync(self, namespace: str, name: str) -> None:
        ctx = self.ctx
        ds = ctx.get("DaemonSet", namespace, name)
        if ds is None:
            return
        try:
            selector = LabelSelector.from_label_selector((ds.get("spec") or {}).get("selector"))
        except SelectorError:
            return
        if selector.empty:
            return
        revisions = ctx.claim(ds, "ControllerRevision", selector.matches)
        template = ds["spec"].get("template") or {}
        revision, _ = ensure_revision(
            ctx,
            ds,
            revisions,
            labels=(template.get("metadata") or {}).get("labels") or {},
            hash_label=HASH_LABEL,
            collision_count=int((ds.get("status") or {}).get("collisionCount") or 0),
            annotations=ds["metadata"].get("annotations"),
        )
        if revision is None:
            return
        digest = revision["metadata"]["labels"][HASH_LABEL]
        nodes = ctx.all("Node")
        pods = ctx.claim(ds, "Pod", selector.matches)
        if not ds["metadata"].get("deletionTimestamp"):
            self._manage(ds, nodes, pods, digest)
            pods = [
                p
                for p in ctx.owned(ds["metadata"]["uid"], "Pod")
                if selector.matches(p["metadata"].get("labels"))
            ]
        ds = ctx.get("DaemonSet", namespace, name)
        if ds is None:
            return
        self._write_status(ds, nodes, pods, digest)
        limit = ds["spec"].get("revisionHistoryLimit")
        live = {revision["metadata"]["name"]}
        live |= {
            f"{name}-{h}"
            for p in pods
            if (h := (p["metadata"].get("labels") or {}).get(HASH_LABEL))
        }
        truncate_history(ctx, revisions, live, limit if isinstance(limit, int) else 10)

    # -- placement ---------------------------------------------------------------------------------

    def _should_run(self, ds: JSONObject, node: JSONObject) -> tuple[bool, bool]:
        """(should a daemon pod be created there, may an existing one keep running)."""
        spec = dict((ds["spec"].get("template") or {}).get("spec") or {})
        node_name = node["metadata"]["name"]
        if spec.get("nodeName") and spec["nodeName"] != node_name:
            return False, False
        _with_daemon_tolerations(spec)
        spec["affinity"] = affinity_for_node(spec.get("affinity"), node_name)
        spec.pop("nodeName", None)
        if not fits_node(spec, node):
            return False, False
        if untolerated_taints(spec, node, ("NoSchedule", "NoExecute")):
            return False, not untolerated_taints(spec, node, ("NoExecute",))
        return True, True

    def _pods_by_node(
        self, pods: list[JSONObject], *, include_finished: bool
    ) -> dict[str, list[JSONObject]]:
        out: dict[str, list[JSONObject]] = {}
        for pod in pods:
            if not include_finished and is_deleting(pod) and is_terminal(pod):
                continue  # the kubelet or the pod GC removes it: nothing more to do with it
            node = node_affinity_target(pod.get("spec") or {})
            if node is not None:
                out.setdefault(node, []).append(pod)
        return out

    # -- pods --------------------------------------------------------------------------------------

    def _new_pod(self, ds: JSONObject, node_name: str, digest: str) -> JSONObject:
        template = ds["spec"].get("template") or {}
        pod = pod_from_template(ds, template, generate_name=f"{ds['metadata']['name']}-")
        labels = pod["metadata"].setdefault("labels", {})
        labels[HASH_LABEL] = digest
        labels[GENERATION_LABEL] = str(ds["metadata"].get("generation") or 1)
        _with_daemon_tolerations(pod["spec"])
        pod["spec"]["affinity"] = affinity_for_node(pod["spec"].get("affinity"), node_name)
        return pod

    def _manage(
        self, ds: JSONObject, nodes: list[JSONObject], pods: list[JSONObject], digest: str
    ) -> None:
        ctx = self.ctx
        by_node = self._pods_by_node(pods, include_finished=True)
        names = {n["metadata"]["name"] for n in nodes}
        to_create: list[str] = []
        to_delete: list[JSONObject] = []
        for node in nodes:
            node_name = node["metadata"]["name"]
            should_run, may_continue = self._should_run(ds, node)
            here = by_node.get(node_name, [])
            if should_run and not here:
                to_create.append(node_name)
            elif may_continue:
                running = []
                for pod in here:
                    if is_deleting(pod):
                        continue
                    if is_terminal(pod):
                        phase = (pod.get("status") or {}).get("phase")
                        if phase == "Failed":
                            ctx.event(
                                ds,
                                _COMPONENT,
                                "FailedDaemonPod",
                                f"Found failed daemon pod {pod['metadata'].get('namespace')}/"
                                f"{pod['metadata']['name']} on node {node_name}, "
                                "will try to kill it",
                                warning=True,
                            )
                        to_delete.append(pod)
                    else:
                        running.append(pod)
                to_delete += _by_age(running)[1:]
            else:
                to_delete += [p for p in here if not is_deleting(p)]
        for pod in pods:  # pinned to nodes that are gone and never scheduled
            target = node_affinity_target(pod.get("spec") or {})
            if (
                target is not None
                and target not in names
                and not (pod.get("spec") or {}).get("nodeName")
                and not is_deleting(pod)
            ):
                to_delete.append(pod)
        to_delete += self._rolling_update(ds, nodes, pods, digest)
        seen: set[str] = set()
        for pod in to_delete:
            uid = pod["metadata"]["uid"]
            if uid in seen:
                continue
            seen.add(uid)
            if ctx.delete("Pod", pod):
                ctx.event(
                    ds, _COMPONENT, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}"
                )
        for node_name in to_create:
            try:
                created = ctx.create(
                    "Pod", ds["metadata"].get("namespace"), self._new_pod(ds, node_name, digest)
                )
            except APIError as exc:
                ctx.event(
                    ds,
                    _COMPONENT,
                    "FailedCreate",
                    f"Error creating: {exc.status.get('message', exc)}",
                    warning=True,
                )
                break
            ctx.event(
                ds, _COMPONENT, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}"
            )

    def _rolling_update(
        self, ds: JSONObject, nodes: list[JSONObject], pods: list[JSONObject], digest: str
    ) -> list[JSONObject]:
        """Old pods to replace now, keeping at most ``maxUnavailable`` pods unavailable."""
        strategy = ds["spec"].get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return []
        desired = sum(1 for n in nodes if self._should_run(ds, n)[0])
        raw = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1)
        if isinstance(raw, str) and raw.endswith("%"):
            try:
                most = math.ceil(int(raw[:-1]) * desired / 100)
            except ValueError:
                most = 1
        else:
            most = int(raw) if str(raw).isdigit() else 1
        min_ready = int(ds["spec"].get("minReadySeconds") or 0)
        now = self.ctx.now()
        unavailable = 0
        replace: list[JSONObject] = []
        candidates: list[JSONObject] = []
        placed = self._pods_by_node(pods, include_finished=False)
        for node in nodes:  # a node that should run a pod and has none counts as unavailable
            if self._should_run(ds, node)[0]:
                placed.setdefault(node["metadata"]["name"], [])
        for _, on_node in sorted(placed.items()):
            here = [p for p in on_node if not is_deleting(p)]
            new = [p for p in here if (p["metadata"].get("labels") or {}).get(HASH_LABEL) == digest]
            old = [p for p in here if p not in new]
            if len(new) > 1 or len(old) > 1 or (new and old) or not here:
                unavailable += 1
            elif new:
                if not is_available(new[0], min_ready, now):
                    unavailable += 1
            elif old:
                if not is_available(old[0], min_ready, now):
                    replace.append(old[0])
                elif unavailable < most:
                    candidates.append(old[0])
        budget = min(max(most - unavailable, 0), len(candidates))
        return replace + candidates[:budget]

    # -- status ------------------------------------------------------------------------------------

    def _write_status(
        self, ds: JSONObject, nodes: list[JSONObject], pods: list[JSONObject], digest: str
    ) -> None:
        min_ready = int(ds["spec"].get("minReadySeconds") or 0)
        now = self.ctx.now()
        by_node = self._pods_by_node(pods, include_finished=False)
        desired = current = misscheduled = ready = available = updated = 0
        pending: list[Any] = []
        for node in nodes:
            should_run, _ = self._should_run(ds, node)
            here = _by_age(by_node.get(node["metadata"]["name"], []))
            if not should_run:
                misscheduled += bool(here)
                continue
            desired += 1
            if not here:
                continue
            current += 1
            pod = here[0]
            if is_ready(pod):
                ready += 1
                if is_available(pod, min_ready, now):
                    available += 1
                elif (at := available_at(pod, min_ready)) is not None:
                    pending.append(at)
            if (pod["metadata"].get("labels") or {}).get(HASH_LABEL) == digest:
                updated += 1
        status: JSONObject = {
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": desired,
            "numberReady": ready,
        }
        if ds["metadata"].get("generation"):
            status["observedGeneration"] = ds["metadata"]["generation"]
        for key, value in (
            ("updatedNumberScheduled", updated),
            ("numberAvailable", available),
            ("numberUnavailable", desired - available),
        ):
            if value:
                status[key] = value
        previous = ds.get("status") or {}
        for key in ("collisionCount", "conditions"):
            if key in previous:
                status[key] = previous[key]
        self.ctx.update_status("DaemonSet", ds, status)
        if pending:
            meta = ds["metadata"]
            self.ctx.requeue_at(
                ("DaemonSet", meta.get("namespace") or "", meta["name"]), min(pending)
            )
