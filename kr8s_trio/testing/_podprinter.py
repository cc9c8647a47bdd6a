"""The Pod printer: a pod's Table row the way kube-apiserver's ``printPod`` computes it.

The most intricate printer, kept apart: the ``STATUS`` column walks init containers (sidecars
included) and containers to find the reason kubectl shows (``Init:0/2``, ``CrashLoopBackOff``,
``Terminating``...), ``READY`` counts ready containers and started sidecars, and ``RESTARTS``
adds how long ago the last restart was.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kr8s_trio._core._jsonpath import dig
from kr8s_trio.testing._cells import (
    Cell,
    Conditions,
    condition_true,
    object_age,
    object_name,
)
from kr8s_trio.testing._clock import Clock, human_duration, parse_time

__all__ = ["pod_row"]


def _later(a: datetime | None, b: object) -> datetime | None:
    t = parse_time(b)
    if t is None:
        return a
    return t if a is None or t > a else a


def pod_row(pod: Mapping[str, Any], clock: Clock) -> tuple[list[Cell], Conditions]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}

    def sidecar(name: object) -> bool:
        return (init_specs.get(name) or {}).get("restartPolicy") == "Always"

    total = len(spec.get("containers") or []) + sum(1 for n in init_specs if sidecar(n))
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    ready = restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        count = cs.get("restartCount") or 0
        finished = dig(cs, "lastState", "terminated", "finishedAt")
        restarts += count
        last_restart = _later(last_restart, finished)
        if sidecar(cs.get("name")):
            sidecar_restarts += count
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if sidecar(cs.get("name")) and cs.get("started") is True:
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            reason = "Init:" + _terminated_reason(terminated)
        elif waiting is not None and waiting.get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing or condition_true(status, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount") or 0
            last_restart = _later(last_restart, dig(cs, "lastState", "terminated", "finishedAt"))
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated)
            elif cs.get("ready") and state.get("running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running" if condition_true(status, "Ready") else "NotReady"
    if dig(pod, "metadata", "deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    restart_cell = str(restarts)
    if restarts and last_restart is not None:
        restart_cell = (
            f"{restarts} ({human_duration((clock.now - last_restart).total_seconds())} ago)"
        )
    ips = status.get("podIPs") or []
    ip = (ips[0].get("ip") if ips else None) or status.get("podIP") or "<none>"
    gates = spec.get("readinessGates") or []
    gate_cell = "<none>"
    if gates:
        passed = sum(1 for g in gates if condition_true(status, g.get("conditionType")))
        gate_cell = f"{passed}/{len(gates)}"
    cells: list[Cell] = [
        object_name(pod),
        f"{ready}/{total}",
        reason,
        restart_cell,
        object_age(pod, clock),
        ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gate_cell,
    ]
    conditions: Conditions = []
    if phase in ("Succeeded", "Failed"):
        message = (
            "The pod has completed successfully." if phase == "Succeeded" else "The pod failed."
        )
        conditions.append(
            {"type": "Completed", "status": "True", "reason": phase, "message": message}
        )
    return cells, conditions


def _terminated_reason(terminated: Mapping[str, Any]) -> str:
    if terminated.get("reason"):
        return str(terminated["reason"])
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode', 0)}"
