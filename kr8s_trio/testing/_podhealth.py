"""What the workload controllers read from a pod: active or finished, ready, available, and
which pods to remove first when there are too many.

The controllers never look at containers directly: like kube-controller-manager they judge a pod
by its phase, its ``Ready`` condition (and when it last changed, for ``minReadySeconds``),
``deletionTimestamp`` and container restart counts, which the kubelet (simulated or played by a
test) reports in the pod's status. Everything here is a pure function of pod dicts.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from kr8s_trio.testing._clock import parse_time

__all__ = [
    "available_at",
    "deletion_order",
    "is_active",
    "is_available",
    "is_deleting",
    "is_ready",
    "is_running_and_ready",
    "is_terminal",
    "ready_since",
]

JSONObject = Mapping[str, Any]

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def _status(pod: JSONObject) -> JSONObject:
    status = pod.get("status")
    return status if isinstance(status, Mapping) else {}


def is_terminal(pod: JSONObject) -> bool:
    """Succeeded or Failed: its containers will not run again."""
    return _status(pod).get("phase") in ("Succeeded", "Failed")


def is_deleting(pod: JSONObject) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def is_active(pod: JSONObject) -> bool:
    """Counted by a controller: neither finished nor being deleted (``FilterActivePods``)."""
    return not is_terminal(pod) and not is_deleting(pod)


def _ready_condition(pod: JSONObject) -> JSONObject | None:
    for cond in _status(pod).get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == "Ready":
            return cond
    return None


def is_ready(pod: JSONObject) -> bool:
    """The pod's ``Ready`` condition is True."""
    cond = _ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def is_running_and_ready(pod: JSONObject) -> bool:
    """Phase Running and Ready (what StatefulSets wait for between ordinals)."""
    return _status(pod).get("phase") == "Running" and is_ready(pod)


def ready_since(pod: JSONObject) -> datetime.datetime | None:
    """When the pod became ready (its Ready condition's ``lastTransitionTime``), if it is."""
    cond = _ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return None
    return parse_time(cond.get("lastTransitionTime"))


def available_at(pod: JSONObject, min_ready_seconds: int) -> datetime.datetime | None:
    """When a ready pod counts as available: ``minReadySeconds`` after it became ready.

    None when it is not ready (or its Ready condition has no transition time while
    ``minReadySeconds`` is set)."""
    if not is_ready(pod):
        return None
    since = ready_since(pod)
    if since is None:
        return None if min_ready_seconds else datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return since + datetime.timedelta(seconds=min_ready_seconds)


def is_available(pod: JSONObject, min_ready_seconds: int, now: datetime.datetime) -> bool:
    """Ready for at least ``minReadySeconds`` (``podutil.IsPodAvailable``; the deadline itself
    counts as available, so a timer set for it sees the pod available)."""
    if not is_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    at = available_at(pod, min_ready_seconds)
    return at is not None and at <= now


def _restarts(pod: JSONObject) -> int:
    total = 0
    for key in ("containerStatuses", "initContainerStatuses"):
        for cs in _status(pod).get(key) or []:
            if isinstance(cs, Mapping) and isinstance(cs.get("restartCount"), int):
                total += cs["restartCount"]
    return total


def _deletion_cost(pod: JSONObject) -> int:
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    try:
        return int(annotations.get("controller.kubernetes.io/pod-deletion-cost", "0"))
    except ValueError:
        return 0


_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def deletion_order(pod: JSONObject, rank: int = 0) -> tuple[Any, ...]:
    """Sort key putting the pods a ReplicaSet removes first first (``ActivePodsWithRanks``):
    unscheduled before scheduled, Pending before Unknown before Running, not ready before
    ready, lower ``pod-deletion-cost`` first, more pods of the same owner on its node first,
    ready more recently first, more restarts first, newer first; then by name."""
    meta = pod.get("metadata") or {}
    scheduled = bool((pod.get("spec") or {}).get("nodeName"))
    phase = _PHASE_RANK.get(str(_status(pod).get("phase")), 0)
    ready = is_ready(pod)
    since = ready_since(pod) or _EPOCH
    created = parse_time(meta.get("creationTimestamp")) or _EPOCH
    return (
        scheduled,
        phase,
        ready,
        _deletion_cost(pod),
        -rank,
        -since.timestamp() if ready and since is not _EPOCH else 0.0,
        -_restarts(pod),
        -created.timestamp() if created is not _EPOCH else float("-inf"),
        meta.get("name", ""),
    )
