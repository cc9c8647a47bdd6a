"""The Deployment controller: ReplicaSets per pod template, rolled out step by step.

As kube-controller-manager's ``deployment-controller``: the Deployment claims the ReplicaSets
matching its selector (adopting orphans, releasing strays); `_deploymentrs` finds or creates the
new one. A RollingUpdate grows the new ReplicaSet within ``maxSurge`` and shrinks old ones as new
pods become available, keeping at most ``maxUnavailable`` unavailable (unhealthy old replicas
go first); Recreate scales old ones to zero, waits until their pods are gone, then scales the
new one up. Changing ``spec.replicas`` mid-rollout resizes every active ReplicaSet in proportion
(the ``desired-replicas`` / ``max-replicas`` annotations say what each was sized for); a paused
Deployment only scales. The status (`_deploymentstatus`) carries the counts and conditions
``kubectl rollout status`` waits on; a stalled rollout is re-examined when its
``progressDeadlineSeconds`` runs out (on trio's clock).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import SelectorError
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._deploymentrs import DeploymentReplicaSets
from kr8s_trio.testing._deploymentstatus import calculate_status, rollout_status
from kr8s_trio.testing._podhealth import is_terminal
from kr8s_trio.testing._rollouts import (
    DESIRED_REPLICAS,
    by_creation,
    condition,
    deployment_complete,
    get_condition,
    max_surge,
    max_unavailable,
    new_rs_new_replicas,
    progress_deadline,
    proportion,
    replicas,
    set_condition,
    status_replicas,
)
from kr8s_trio.testing._store import copy_json

if TYPE_CHECKING:
    from kr8s_trio.testing._workloadctx import WorkloadContext

__all__ = ["DeploymentController"]

JSONObject = dict[str, Any]


class DeploymentController:
    """Syncs Deployments (see the module docstring)."""

    def __init__(self, ctx: WorkloadContext) -> None:
        self.ctx = ctx
        self.rs = DeploymentReplicaSets(ctx)

    def sync(self, namespace: str, name: str) -> None:
        stored = self.ctx.get("Deployment", namespace, name)
        if stored is None:
            return
        d = copy_json(stored)
        try:
            selector = LabelSelector.from_label_selector((d.get("spec") or {}).get("selector"))
        except SelectorError:
            return
        if selector.empty:
            return
        d.setdefault("status", {})
        rs_list = self.ctx.claim(d, "ReplicaSet", selector.matches)
        if d["metadata"].get("deletionTimestamp"):
            new, old = self.rs.get_all(d, rs_list, create=False)
            self._sync_status(d, old, new)
            return
        self._check_paused(d)
        if d["spec"].get("paused") or self._is_scaling_event(d, rs_list):
            self._sync(d, rs_list)
        elif (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            self._recreate(d, rs_list)
        else:
            self._rolling(d, rs_list)

    def _rolling(self, d: JSONObject, rs_list: list[JSONObject]) -> None:
        new, old = self.rs.get_all(d, rs_list, create=True)
        if new is None:
            return
        if replicas(new) != replicas(d):
            if replicas(new) > replicas(d):
                scaled, new = self.rs.scale(new, replicas(d), d)
            else:
                scaled, new = self.rs.scale(new, new_rs_new_replicas(d, [*old, new], new), d)
            if scaled:
                self._sync_rollout_status(d, old, new)
                return
        if self._reconcile_old(d, old, new):
            self._sync_rollout_status(d, old, new)
            return
        if deployment_complete(d, d["status"]):
            self.rs.cleanup(d, old)
        self._sync_rollout_status(d, old, new)

    def _reconcile_old(self, d: JSONObject, old: list[JSONObject], new: JSONObject) -> bool:
        """Scale old ReplicaSets down within ``maxUnavailable``; True if any was."""
        active = [rs for rs in old if replicas(rs) > 0]
        if not active:
            return False
        all_pods = sum(replicas(rs) for rs in [*old, new])
        min_available = replicas(d) - max_unavailable(d)
        new_unavailable = replicas(new) - status_replicas(new, "availableReplicas")
        budget = all_pods - min_available - new_unavailable
        if budget <= 0:
            return False
        latest = {rs["metadata"]["uid"]: rs for rs in active}
        cleaned = 0
        for rs in by_creation(active):  # unhealthy replicas first: they cost no availability
            if cleaned >= budget:
                break
            unhealthy = replicas(rs) - status_replicas(rs, "availableReplicas")
            if replicas(rs) == 0 or unhealthy <= 0:
                continue
            count = min(budget - cleaned, unhealthy)
            _, latest[rs["metadata"]["uid"]] = self.rs.scale(rs, replicas(rs) - count, d)
            cleaned += count
        current = list(latest.values())
        available = sum(status_replicas(rs, "availableReplicas") for rs in [*current, new])
        scaled_down = 0
        if available > min_available:
            wanted = available - min_available
            for rs in by_creation(current):
                if scaled_down >= wanted:
                    break
                if replicas(rs) == 0:
                    continue
                count = min(replicas(rs), wanted - scaled_down)
                self.rs.scale(rs, replicas(rs) - count, d)
                scaled_down += count
        return cleaned + scaled_down > 0

    def _recreate(self, d: JSONObject, rs_list: list[JSONObject]) -> None:
        new, old = self.rs.get_all(d, rs_list, create=False)
        scaled = False
        for rs in [rs for rs in old if replicas(rs) > 0]:
            resized, _ = self.rs.scale(rs, 0, d)
            scaled = scaled or resized
        if scaled or self._old_pods_running(old, new):
            self._sync_rollout_status(d, old, new)
            return
        if new is None:
            new, old = self.rs.get_all(d, rs_list, create=True)
            if new is None:
                return
        if replicas(new) != replicas(d):
            _, new = self.rs.scale(new, replicas(d), d)
        if deployment_complete(d, d["status"]):
            self.rs.cleanup(d, old)
        self._sync_rollout_status(d, old, new)

    def _old_pods_running(self, old: list[JSONObject], new: JSONObject | None) -> bool:
        if sum(status_replicas(rs) for rs in old) > 0:
            return True
        for rs in old:
            if new is not None and rs["metadata"]["uid"] == new["metadata"]["uid"]:
                continue
            if any(not is_terminal(p) for p in self.ctx.owned(rs["metadata"]["uid"], "Pod")):
                return True
        return False

    def _is_scaling_event(self, d: JSONObject, rs_list: list[JSONObject]) -> bool:
        new, old = self.rs.get_all(d, rs_list, create=False)
        for rs in [*old, *([new] if new is not None else [])]:
            if replicas(rs) == 0:
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
            if desired is not None and desired != str(replicas(d)):
                return True
        return False

    def _sync(self, d: JSONObject, rs_list: list[JSONObject]) -> None:
        new, old = self.rs.get_all(d, rs_list, create=False)
        new, old = self._scale_all(d, new, old)
        if d["spec"].get("paused"):
            self.rs.cleanup(d, old)
        self._sync_status(d, old, new)

    def _scale_all(
        self, d: JSONObject, new: JSONObject | None, old: list[JSONObject]
    ) -> tuple[JSONObject | None, list[JSONObject]]:
        """Resize to ``spec.replicas`` (``scale``): the only active ReplicaSet takes it all;
        a saturated new one means old ones go to zero; else every active one gets its share."""
        newest_first = sorted(
            by_creation(old),
            key=lambda rs: str(rs["metadata"].get("creationTimestamp")),
            reverse=True,
        )
        active = [rs for rs in [*newest_first, *([new] if new else [])] if replicas(rs) > 0]
        target: JSONObject | None = None
        if len(active) == 1:
            target = active[0]
        elif not active and (new is not None or newest_first):
            target = new if new is not None else newest_first[0]
        if target is not None:
            if replicas(target) != replicas(d):
                self.rs.scale(target, replicas(d), d)
            return new, old
        want = replicas(d)
        annotations = (new or {}).get("metadata", {}).get("annotations") or {}
        if (
            new is not None
            and annotations.get(DESIRED_REPLICAS) == str(want)
            and replicas(new) == want
            and status_replicas(new, "availableReplicas") == want
        ):
            for rs in active:
                if rs is not new:
                    self.rs.scale(rs, 0, d)
            return new, old
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return new, old
        allowed = want + max_surge(d) if want > 0 else 0
        to_add = allowed - sum(replicas(rs) for rs in active)
        # bigger first; among equals newer first when growing, older first when shrinking
        oldest_first = by_creation(active)
        ordered = sorted(
            oldest_first if to_add < 0 else list(reversed(oldest_first)),
            key=lambda rs: -replicas(rs),
        )
        sizes: list[int] = []
        added = 0
        for rs in ordered:
            share = proportion(rs, d, to_add, added) if to_add else 0
            sizes.append(replicas(rs) + share)
            added += share
        if ordered and to_add:
            sizes[0] = max(sizes[0] + to_add - added, 0)
        for rs, size in zip(ordered, sizes, strict=True):
            self.rs.scale(rs, size, d, resize_only=False)
        return new, old

    def _check_paused(self, d: JSONObject) -> None:
        if not isinstance(d["spec"].get("progressDeadlineSeconds"), int):
            return
        cond = get_condition(d["status"], "Progressing")
        if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
            return
        paused = bool(d["spec"].get("paused"))
        marked = cond is not None and cond.get("reason") == "DeploymentPaused"
        if paused == marked:
            return
        reason, message = (
            ("DeploymentPaused", "Deployment is paused")
            if paused
            else ("DeploymentResumed", "Deployment is resumed")
        )
        set_condition(
            d["status"], condition("Progressing", "Unknown", reason, message, self.ctx.timestamp())
        )
        self.rs.write_status(d)

    def _sync_status(self, d: JSONObject, old: list[JSONObject], new: JSONObject | None) -> None:
        status = calculate_status(d, old, new, self.ctx.timestamp())
        if status != d["status"]:
            d["status"] = status
            self.rs.write_status(d)

    def _sync_rollout_status(
        self, d: JSONObject, old: list[JSONObject], new: JSONObject | None
    ) -> None:
        status = rollout_status(d, old, new, self.ctx.now(), self.ctx.timestamp())
        if status != d["status"]:
            d["status"] = status
            self.rs.write_status(d)
            return
        deadline = progress_deadline(d, status)  # stuck: look again when the deadline passes
        if deadline is not None and not deployment_complete(d, status):
            meta = d["metadata"]
            self.ctx.requeue_at(
                ("Deployment", meta.get("namespace") or "", meta["name"]),
                deadline + datetime.timedelta(seconds=1),
            )
