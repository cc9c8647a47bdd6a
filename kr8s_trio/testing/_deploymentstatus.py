"""The status a Deployment controller reports, as pure functions of the Deployment and its
ReplicaSets.

The counts (``replicas``, ``updatedReplicas``, ``readyReplicas``, ``availableReplicas``,
``unavailableReplicas``, ``observedGeneration``) and the conditions kube-controller-manager
maintains, with its reasons and messages: ``Available`` (``MinimumReplicasAvailable`` /
``MinimumReplicasUnavailable``), ``Progressing`` (``ReplicaSetUpdated``,
``NewReplicaSetAvailable`` -- ``ReplicaSet "x-abc" has successfully progressed.`` --,
``ProgressDeadlineExceeded``) and ``ReplicaFailure`` copied from a ReplicaSet.
``kubectl rollout status`` compares exactly these fields.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from kr8s_trio.testing._rollouts import (
    condition,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    get_condition,
    max_unavailable,
    remove_condition,
    replicas,
    set_condition,
    status_replicas,
)
from kr8s_trio.testing._store import copy_json

__all__ = ["calculate_status", "rollout_status"]

JSONObject = dict[str, Any]


def calculate_status(
    d: Mapping[str, Any], old: list[JSONObject], new: JSONObject | None, stamp: str
) -> JSONObject:
    """``calculateStatus``: the counts, the previous conditions and ``Available``."""
    all_rss = [*old, *([new] if new is not None else [])]
    available = sum(status_replicas(rs, "availableReplicas") for rs in all_rss)
    unavailable = max(sum(replicas(rs) for rs in all_rss) - available, 0)
    counts = {
        "observedGeneration": d["metadata"].get("generation") or 0,
        "replicas": sum(status_replicas(rs) for rs in all_rss),
        "updatedReplicas": status_replicas(new),
        "readyReplicas": sum(status_replicas(rs, "readyReplicas") for rs in all_rss),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
    }
    status: JSONObject = {k: v for k, v in counts.items() if v}
    previous = d.get("status") or {}
    if previous.get("conditions"):
        status["conditions"] = copy_json({"c": previous["conditions"]})["c"]
    if "collisionCount" in previous:
        status["collisionCount"] = previous["collisionCount"]
    if available >= replicas(d) - max_unavailable(d):
        cond = condition(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            stamp,
        )
    else:
        cond = condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            stamp,
        )
    set_condition(status, cond)
    return status


def _replica_failure(rss: list[JSONObject]) -> JSONObject | None:
    for rs in rss:
        for cond in (rs.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "ReplicaFailure":
                return {
                    "type": "ReplicaFailure",
                    "status": cond.get("status"),
                    "lastUpdateTime": cond.get("lastTransitionTime"),
                    "lastTransitionTime": cond.get("lastTransitionTime"),
                    "reason": cond.get("reason"),
                    "message": cond.get("message"),
                }
    return None


def rollout_status(
    d: Mapping[str, Any],
    old: list[JSONObject],
    new: JSONObject | None,
    now: datetime.datetime,
    stamp: str,
) -> JSONObject:
    """``syncRolloutStatus``'s new status: `calculate_status` plus the ``Progressing`` and
    ``ReplicaFailure`` conditions."""
    status = calculate_status(d, old, new, stamp)
    has_deadline = isinstance((d.get("spec") or {}).get("progressDeadlineSeconds"), int)
    if not has_deadline:
        remove_condition(status, "Progressing")
    current = get_condition(status, "Progressing")
    complete = (
        status.get("replicas", 0) == status.get("updatedReplicas", 0)
        and current is not None
        and current.get("reason") == "NewReplicaSetAvailable"
    )
    subject = (
        f'ReplicaSet "{new["metadata"]["name"]}"'
        if new is not None
        else f'Deployment "{d["metadata"]["name"]}"'
    )
    if has_deadline and not complete:
        if deployment_complete(d, status):
            message = f"{subject} has successfully progressed."
            set_condition(
                status, condition("Progressing", "True", "NewReplicaSetAvailable", message, stamp)
            )
        elif deployment_progressing(d, status):
            cond = condition(
                "Progressing", "True", "ReplicaSetUpdated", f"{subject} is progressing.", stamp
            )
            if current is not None and current.get("status") == "True":
                cond["lastTransitionTime"] = current.get("lastTransitionTime")
            remove_condition(status, "Progressing")
            set_condition(status, cond)
        elif deployment_timed_out(d, status, now):
            message = f"{subject} has timed out progressing."
            set_condition(
                status,
                condition("Progressing", "False", "ProgressDeadlineExceeded", message, stamp),
            )
    failure = _replica_failure([*([new] if new is not None else []), *old])
    if failure is not None:
        set_condition(status, failure)
    else:
        remove_condition(status, "ReplicaFailure")
    return status
