"""The arithmetic of Deployment rollouts, as pure functions of Deployment and ReplicaSet dicts.

kube-controller-manager's ``deployment/util`` package in the small: ``maxSurge`` and
``maxUnavailable`` resolved against the replica count (surge rounds up, unavailability down,
never both zero), how far the new ReplicaSet may grow, proportional scaling of every active
ReplicaSet when a Deployment is resized mid-rollout, the revision and replica annotations, the
status the controller reports and its conditions (``Available`` / ``Progressing`` with the real
reasons and messages, which ``kubectl rollout status`` reads).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from typing import Any

from kr8s_trio.testing._clock import parse_time

__all__ = [
    "DESIRED_REPLICAS",
    "MAX_REPLICAS",
    "REVISION",
    "REVISION_HISTORY",
    "TEMPLATE_HASH",
    "by_creation",
    "condition",
    "deployment_complete",
    "deployment_progressing",
    "deployment_timed_out",
    "get_condition",
    "max_surge",
    "max_unavailable",
    "new_rs_new_replicas",
    "proportion",
    "replicas",
    "revision",
    "set_condition",
    "status_replicas",
]

JSONObject = dict[str, Any]
Obj = Mapping[str, Any]

TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"


def replicas(obj: Obj | None) -> int:
    """``spec.replicas`` (an absent field means 1, as the API defaults it)."""
    if obj is None:
        return 0
    value = (obj.get("spec") or {}).get("replicas", 1)
    return value if isinstance(value, int) else 0


def status_replicas(obj: Obj | None, field: str = "replicas") -> int:
    if obj is None:
        return 0
    value = (obj.get("status") or {}).get(field, 0)
    return value if isinstance(value, int) else 0


def revision(rs: Obj) -> int:
    text = ((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION, "")
    try:
        return int(text)
    except ValueError:
        return 0


def by_creation(items: Iterable[Obj]) -> list[Any]:
    """Oldest first; ties broken by name (``ReplicaSetsByCreationTimestamp``)."""
    return sorted(
        items,
        key=lambda o: (str(o["metadata"].get("creationTimestamp", "")), o["metadata"]["name"]),
    )


# -- surge and unavailability ---------------------------------------------------------------------


def _scaled(value: object, total: int, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                percent = int(text[:-1])
            except ValueError:
                return 0
            exact = percent * total / 100
            return math.ceil(exact) if round_up else math.floor(exact)
        try:
            return int(text)
        except ValueError:
            return 0
    return 0


def _rolling(d: Obj) -> Mapping[str, Any] | None:
    strategy = (d.get("spec") or {}).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    rolling = strategy.get("rollingUpdate")
    return rolling if isinstance(rolling, Mapping) else {}


def _fenceposts(d: Obj) -> tuple[int, int]:
    rolling = _rolling(d) or {}
    desired = replicas(d)
    surge = _scaled(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = _scaled(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Obj) -> int:
    """How many pods above ``replicas`` a rolling update may run (0 for Recreate)."""
    if _rolling(d) is None:
        return 0
    return _fenceposts(d)[0]


def max_unavailable(d: Obj) -> int:
    """How many of ``replicas`` may be unavailable during a rolling update (0 for Recreate)."""
    desired = replicas(d)
    if _rolling(d) is None or desired == 0:
        return 0
    return min(_fenceposts(d)[1], desired)


def new_rs_new_replicas(d: Obj, all_rss: list[Obj], new_rs: Obj) -> int:
    """How big the new ReplicaSet may be now (``NewRSNewReplicas``)."""
    if _rolling(d) is None:
        return replicas(d)
    current = sum(replicas(rs) for rs in all_rss)
    most = replicas(d) + max_surge(d)
    if current >= most:
        return replicas(new_rs)
    scale_up = min(most - current, replicas(d) - replicas(new_rs))
    return replicas(new_rs) + scale_up


def proportion(rs: Obj, d: Obj, to_add: int, added: int) -> int:
    """This ReplicaSet's share of ``to_add`` replicas when resizing mid-rollout
    (``GetProportion``), from the size it was given for the ``max-replicas`` it knew."""
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    if replicas(d) == 0:
        fraction = -replicas(rs)
    else:
        target = replicas(d) + max_surge(d)
        annotated = ((rs.get("metadata") or {}).get("annotations") or {}).get(MAX_REPLICAS)
        try:
            known = int(annotated) if annotated is not None else status_replicas(d)
        except ValueError:
            known = status_replicas(d)
        if known == 0:
            fraction = 0
        else:
            fraction = math.floor(replicas(rs) * target / known + 0.5) - replicas(rs)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


# -- conditions -----------------------------------------------------------------------------------


def get_condition(status: Obj, kind: str) -> JSONObject | None:
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def condition(kind: str, status: str, reason: str, message: str, now: str) -> JSONObject:
    """A Deployment condition stamped ``now`` (update and transition)."""
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def set_condition(status: JSONObject, cond: JSONObject) -> None:
    """``SetDeploymentCondition``: nothing when status and reason are unchanged; the transition
    time is kept when only the reason changed; the condition moves to the end."""
    current = get_condition(status, cond["type"])
    if current is not None and current["status"] == cond["status"]:
        if current.get("reason") == cond["reason"]:
            return
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: JSONObject, kind: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def deployment_complete(d: Obj, status: Obj) -> bool:
    """Every replica updated and available, nothing old left, generation observed."""
    want = replicas(d)
    return bool(
        status.get("updatedReplicas", 0) == want
        and status.get("replicas", 0) == want
        and status.get("availableReplicas", 0) == want
        and status.get("observedGeneration", 0) >= (d["metadata"].get("generation") or 0)
    )


def deployment_progressing(d: Obj, new: Obj) -> bool:
    """Did this sync see progress since the stored status (``DeploymentProgressing``)?"""
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return bool(
        new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
        or new_old < old_old
        or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
        or new.get("availableReplicas", 0) > old.get("availableReplicas", 0)
    )


def progress_deadline(d: Obj, status: Obj) -> datetime.datetime | None:
    """When the rollout times out unless it progresses (None: no deadline applies)."""
    seconds = (d.get("spec") or {}).get("progressDeadlineSeconds")
    cond = get_condition(status, "Progressing")
    if not isinstance(seconds, int) or cond is None:
        return None
    if cond.get("reason") in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded"):
        return None
    since = parse_time(cond.get("lastUpdateTime"))
    return since + datetime.timedelta(seconds=seconds) if since is not None else None


def deployment_timed_out(d: Obj, status: Obj, now: datetime.datetime) -> bool:
    cond = get_condition(status, "Progressing")
    if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
        return True
    deadline = progress_deadline(d, status)
    return deadline is not None and deadline < now
