"""A pod's ``status`` as the kubelet reports it, computed from what the node runs.

Pure functions of a `PodRuntime`, the pod's spec and its previous status: the phase (the
kubelet's ``getPhase`` rules for each restartPolicy), the five kubelet conditions with their
reasons and messages (``ContainersNotReady``, ``ReadinessGatesNotReady``, ``PodCompleted``...),
``containerStatuses`` sorted by name and ``initContainerStatuses`` in spec order, IPs and start
time. A condition keeps its ``lastTransitionTime`` while its status does not change, so computing
the status again with nothing new gives the same dict, and the kubelet writes nothing.

Also here: how images are named once resolved, container IDs, and Go's duration format, which
event messages use.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from typing import Any

from kr8s_trio.testing._runtime import ContainerRuntime, PodRuntime, Termination

__all__ = [
    "container_id",
    "go_duration",
    "image_digest",
    "pod_phase",
    "pod_status",
    "resolve_image",
    "rfc3339",
]

JSONObject = dict[str, Any]

#: conditions the kubelet owns, in the order it writes them (others are kept, before these)
KUBELET_CONDITIONS = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
)


def rfc3339(t: datetime.datetime) -> str:
    """A status timestamp (``metav1.Time``: whole seconds, UTC)."""
    return t.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_image(image: str) -> str:
    """The image as containerd names it: ``nginx`` -> ``docker.io/library/nginx:latest``."""
    name, _, digest = image.partition("@")
    first, _, rest = name.partition("/")
    if not rest:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if digest:
        return f"{name}@{digest}"
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def image_digest(image: str) -> str:
    """A stable fake ``sha256:`` digest for an image reference."""
    return "sha256:" + hashlib.sha256(resolve_image(image).encode()).hexdigest()


def image_id(image: str) -> str:
    """``imageID``: the repository with the digest (``docker.io/library/nginx@sha256:...``)."""
    resolved = resolve_image(image)
    if "@" in resolved:
        return resolved
    repo = resolved.rsplit(":", 1)[0] if ":" in resolved.rsplit("/", 1)[-1] else resolved
    return f"{repo}@{image_digest(image)}"


def container_id(pod_uid: str, name: str, instance: int) -> str:
    """A stable container ID for one instance (restart) of one container of one pod."""
    digest = hashlib.sha256(f"{pod_uid}/{name}/{instance}".encode()).hexdigest()
    return f"containerd://{digest}"


def go_duration(seconds: float) -> str:
    """A duration the way Go's ``time.Duration.String`` prints it (``0s``, ``1.5s``, ``5m0s``)."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        millis = round(seconds * 1000, 3)
        return f"{millis:g}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    sec_text = f"{round(secs, 9):.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{sec_text}"
    if minutes:
        return f"{int(minutes)}m{sec_text}"
    return sec_text


def _termination_json(t: Termination) -> JSONObject:
    out: JSONObject = {"exitCode": t.exit_code, "reason": t.reason}
    if t.message:
        out["message"] = t.message
    if t.started_at is not None:
        out["startedAt"] = rfc3339(t.started_at)
    out["finishedAt"] = rfc3339(t.finished_at)
    if t.container_id:
        out["containerID"] = t.container_id
    return out


def _container_status(c: ContainerRuntime) -> JSONObject:
    state: JSONObject
    if c.state == "running":
        assert c.started_at is not None
        state = {"running": {"startedAt": rfc3339(c.started_at)}}
    elif c.state == "terminated":
        term = c.termination
        assert term is not None
        state = {"terminated": _termination_json(term)}
    else:
        waiting: JSONObject = {"reason": c.reason}
        if c.message:
            waiting["message"] = c.message
        state = {"waiting": waiting}
    out: JSONObject = {
        "name": c.name,
        "state": state,
        "lastState": (
            {"terminated": _termination_json(c.last_termination)}
            if c.last_termination is not None
            else {}
        ),
        "ready": c.ready,
        "restartCount": c.restart_count,
        # a container never created shows the image as written, with no ID yet
        "image": c.image_ref if c.container_id else c.image,
        "imageID": c.image_id if c.container_id else "",
        "started": c.running if not c.init or c.sidecar else False,
    }
    if c.container_id:
        out["containerID"] = c.container_id
    if c.init and c.terminated and c.exit_code == 0:
        out["ready"] = True  # a completed init container reports ready
    return out


def pod_phase(pod: PodRuntime, restart_policy: str) -> str:
    """The kubelet's ``getPhase`` over the main containers (init containers always succeed)."""
    if not pod.started or any(
        not c.sidecar and not (c.terminated and c.exit_code == 0)
        for c in pod.init_containers.values()
    ):
        return "Pending"
    waiting = running = stopped = succeeded = 0
    for c in pod.containers.values():
        if c.running:
            running += 1
        elif c.terminated:
            stopped += 1
            succeeded += c.exit_code == 0
        elif c.last_termination is not None:
            stopped += 1  # waiting to restart
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    terminal = pod.terminating or restart_policy == "Never"
    if terminal or restart_policy == "OnFailure":
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if terminal else "Running"
    return "Running"


def _condition(type_: str, status: bool, reason: str = "", message: str = "") -> JSONObject:
    out: JSONObject = {"type": type_, "status": "True" if status else "False"}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def _names(names: list[str]) -> str:
    return "[" + " ".join(names) + "]"


def _kubelet_conditions(
    pod: PodRuntime, spec: Mapping[str, Any], others: list[JSONObject]
) -> list[JSONObject]:
    phase = pod.phase
    inits = [c for c in pod.init_containers.values() if not c.sidecar]
    incomplete = [c.name for c in inits if not (c.terminated and c.exit_code == 0)]
    incomplete += [c.name for c in pod.init_containers.values() if c.sidecar and not c.running]
    regular_started = any(c.container_id for c in pod.containers.values())
    if phase == "Succeeded":
        initialized = _condition("Initialized", True, "PodCompleted")
    elif incomplete and not regular_started:
        initialized = _condition(
            "Initialized",
            False,
            "ContainersNotInitialized",
            f"containers with incomplete status: {_names(incomplete)}",
        )
    else:
        initialized = _condition("Initialized", True)
    unready = [c.name for c in pod.init_containers.values() if c.sidecar and not c.ready]
    unready += [
        c.name for c in sorted(pod.containers.values(), key=_spec_order(spec)) if not c.ready
    ]
    if phase in ("Succeeded", "Failed"):
        reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        containers_ready = _condition("ContainersReady", False, reason)
    elif unready:
        containers_ready = _condition(
            "ContainersReady",
            False,
            "ContainersNotReady",
            f"containers with unready status: {_names(unready)}",
        )
    else:
        containers_ready = _condition("ContainersReady", True)
    ready = {**containers_ready, "type": "Ready"}
    if containers_ready["status"] == "True":
        gate_problems = []
        for gate in spec.get("readinessGates") or []:
            kind = gate.get("conditionType")
            found = next((c for c in others if c.get("type") == kind), None)
            if found is None:
                gate_problems.append(
                    f'corresponding condition of pod readiness gate "{kind}" does not exist.'
                )
            elif found.get("status") != "True":
                gate_problems.append(
                    f'the status of pod readiness gate "{kind}" is not "True", but '
                    f"{found.get('status')}"
                )
        if gate_problems:
            ready = _condition("Ready", False, "ReadinessGatesNotReady", ", ".join(gate_problems))
    sandbox = pod.started and phase not in ("Succeeded", "Failed")
    return [
        _condition("PodReadyToStartContainers", sandbox),
        initialized,
        ready,
        containers_ready,
        _condition("PodScheduled", True),
    ]


def _spec_order(spec: Mapping[str, Any]) -> Any:
    order = {c.get("name"): i for i, c in enumerate(spec.get("containers") or [])}
    return lambda c: order.get(c.name, len(order))


def pod_status(
    pod: PodRuntime, spec: Mapping[str, Any], old: Mapping[str, Any], now: str
) -> JSONObject:
    """The status the kubelet writes for ``pod`` (``old`` is the current status)."""
    old_conditions = [c for c in old.get("conditions") or [] if isinstance(c, dict)]
    others = [c for c in old_conditions if c.get("type") not in KUBELET_CONDITIONS]
    previous = {c.get("type"): c for c in old_conditions}
    conditions: list[JSONObject] = list(others)
    for cond in _kubelet_conditions(pod, spec, others):
        before = previous.get(cond["type"])
        if before is not None and before.get("status") == cond["status"]:
            since = before.get("lastTransitionTime") or now
        else:
            since = now
        conditions.append({**cond, "lastProbeTime": None, "lastTransitionTime": since})
    status: JSONObject = {
        "phase": pod.phase,
        "conditions": conditions,
        "hostIP": pod.host_ip,
        "hostIPs": [{"ip": pod.host_ip}],
    }
    if pod.ip:
        status["podIP"] = pod.ip
        status["podIPs"] = [{"ip": pod.ip}]
    if pod.start_time is not None:
        status["startTime"] = rfc3339(pod.start_time)
    if pod.init_containers:
        status["initContainerStatuses"] = [
            _container_status(c) for c in pod.init_containers.values()
        ]
    status["containerStatuses"] = [
        _container_status(c) for c in sorted(pod.containers.values(), key=lambda c: c.name)
    ]
    for key in ("qosClass", "nominatedNodeName", "reason", "message", "resize"):
        if key in old:
            status[key] = old[key]
    return status
