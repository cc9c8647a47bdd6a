"""How a simulated kubelet runs containers: start, readiness, exit, restart and back-off.

`ContainerLifecycle` is the node-side half of `Kubelet`: it changes a `PodRuntime` (container
states, IDs, restart counts, logs) and records the events the real kubelet records on the way
(``Pulling``/``Pulled``, ``Created``, ``Started``, ``BackOff``, ``Killing``); the `Kubelet` then
reports the result as the pod's status. Deadlines (ready after a delay, an exit after
``run-seconds``, the end of a back-off) are trio times, returned by `_next_deadline` for the
kubelet to wake up at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio

from kr8s_trio.testing._nodes import NodeSlot
from kr8s_trio.testing._podstatus import container_id, go_duration, image_id, resolve_image
from kr8s_trio.testing._runtime import ContainerRuntime, LogBuffer, PodRuntime

if TYPE_CHECKING:
    from kr8s_trio.testing._recorder import EventRecorder
    from kr8s_trio.testing._resources import ResourceType
    from kr8s_trio.testing._state import ClusterState

__all__ = ["PREFIX", "ContainerLifecycle", "startup_lines"]

JSONObject = dict[str, Any]

#: the prefix of the annotations that drive simulated pods
PREFIX = "kr8s-trio.dev/"
#: the longest crash back-off, and how long after its last change a back-off is forgotten
MAX_BACKOFF = 300.0
BACKOFF_RESET = 600.0


def startup_lines(c: ContainerRuntime, spec: JSONObject) -> list[str]:
    """What every simulated container writes to its log when it starts."""
    lines = [f'starting container "{c.name}" (image {c.image})']
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and "containerPort" in port:
            lines.append(f"listening on port {port['containerPort']}/{port.get('protocol', 'TCP')}")
    lines.append(f'container "{c.name}" is running')
    return lines


def _container_spec(pod: JSONObject, c: ContainerRuntime) -> JSONObject:
    key = "initContainers" if c.init else "containers"
    for spec in (pod.get("spec") or {}).get(key) or []:
        if spec.get("name") == c.name:
            return dict(spec)
    return {}


class ContainerLifecycle:
    """Container state changes of the simulated kubelets (the base of `Kubelet`)."""

    def __init__(self, state: ClusterState, pods_rt: ResourceType, events: EventRecorder) -> None:
        self.state = state
        self.store = state.store
        self.runtime = state.runtime
        self.controllers = state.controllers
        self.pods_rt = pods_rt
        self.events = events
        self.crash_backoff = 10.0
        #: the simulated nodes by name
        self.nodes: dict[str, NodeSlot] = {}

    def _sync(self, key: str) -> None:
        """Bring the pod stored under ``key`` up to date (the `Kubelet` does)."""
        raise NotImplementedError

    def _run(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the controllers' drain loop (so its writes cascade in order)."""
        self.controllers.defer(fn)
        self.controllers.drain()

    # -- annotations ------------------------------------------------------------------------------

    @staticmethod
    def _annotation(pod: JSONObject, key: str, container: str | None = None) -> str | None:
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        if container is not None:
            value = annotations.get(f"{PREFIX}{key}.{container}")
            if value is not None:
                return str(value)
        value = annotations.get(PREFIX + key)
        return None if value is None else str(value)

    def _exit_plan(self, pod: JSONObject, c: ContainerRuntime) -> tuple[int, float] | None:
        """(exit code, seconds to run first) when annotations make this container exit."""
        code = self._annotation(pod, "exit-code", c.name)
        if code is None:
            return None
        try:
            exit_code = int(code)
        except ValueError:
            return None
        run = self._annotation(pod, "run-seconds", c.name)
        try:
            seconds = max(float(run), 0.0) if run is not None else 0.0
        except ValueError:
            seconds = 0.0
        return exit_code, seconds

    # -- events -----------------------------------------------------------------------------------

    def _event(
        self,
        pr: PodRuntime,
        pod: JSONObject,
        c: ContainerRuntime | None,
        type_: str,
        reason: str,
        message: str,
    ) -> None:
        field_path = None
        if c is not None:
            field_path = f"spec.{'initContainers' if c.init else 'containers'}{{{c.name}}}"
        self.events.record(
            pod,
            type_,
            reason,
            message,
            component="kubelet",
            manager="kubelet",
            host=pr.node,
            field_path=field_path,
        )

    def _pull(self, pr: PodRuntime, pod: JSONObject, c: ContainerRuntime, slot: NodeSlot) -> None:
        policy = _container_spec(pod, c).get("imagePullPolicy", "IfNotPresent")
        resolved = resolve_image(c.image)
        if policy == "Always" or (policy == "IfNotPresent" and resolved not in slot.images):
            took = go_duration(self.state.config.pod_start_delay)
            size = 5_000_000 + int(hashlib.sha256(resolved.encode()).hexdigest()[:6], 16) * 10
            self._event(pr, pod, c, "Normal", "Pulling", f'Pulling image "{c.image}"')
            self._event(
                pr,
                pod,
                c,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{c.image}" in {took} ({took} including waiting). '
                f"Image size: {size} bytes.",
            )
            slot.images.add(resolved)
        else:
            self._event(
                pr,
                pod,
                c,
                "Normal",
                "Pulled",
                f'Container image "{c.image}" already present on machine',
            )

    # -- running ----------------------------------------------------------------------------------

    def _start(self, pr: PodRuntime, pod: JSONObject, slot: NodeSlot) -> None:
        """The sandbox is up: init containers run to completion in order, then the containers."""
        pr.started = True
        host_network = bool((pod.get("spec") or {}).get("hostNetwork"))
        pr.ip = pr.host_ip if host_network else slot.allocate_ip()
        for c in pr.init_containers.values():
            self._run_container(pr, c, pod, slot)
            if not c.sidecar:
                c.state, c.exit_code, c.reason = "terminated", 0, "Completed"
                c.finished_at = self.state.now()
                c.log.close()
        for c in pr.containers.values():
            self._run_container(pr, c, pod, slot)

    def _run_container(
        self, pr: PodRuntime, c: ContainerRuntime, pod: JSONObject, slot: NodeSlot
    ) -> None:
        now, clock = self.state.now(), trio.current_time()
        c.container_id = container_id(pr.uid, c.name, c.restart_count)
        c.image_ref, c.image_id = resolve_image(c.image), image_id(c.image)
        self._pull(pr, pod, c, slot)
        self._event(pr, pod, c, "Normal", "Created", f"Created container: {c.name}")
        self._event(pr, pod, c, "Normal", "Started", f"Started container {c.name}")
        c.state, c.reason, c.message, c.exit_code = "running", "", "", None
        c.started_at, c.finished_at, c.started_clock = now, None, clock
        c.restart_clock = None
        spec = _container_spec(pod, c)
        probe = spec.get("readinessProbe") or {}
        delay = float(probe.get("initialDelaySeconds") or 0) if probe else 0.0
        c.ready_clock = clock + self.state.config.pod_ready_delay + delay
        c.log.append("\n".join(startup_lines(c, spec)), time=now)
        text = self._annotation(pod, "log", c.name)
        pr.logged[c.name] = text or ""
        if text:
            c.log.append(text, time=now)

    def _step_container(
        self, pr: PodRuntime, c: ContainerRuntime, pod: JSONObject, slot: NodeSlot, now: float
    ) -> None:
        """Apply what is due for one container: a new image, annotation logs, a planned exit, a
        restart."""
        image = _container_spec(pod, c).get("image")
        if image and image != c.image and (c.running or c.restart_clock is not None):
            # the pod's spec changed the image: kill and start again with the new one
            if c.running:
                self._event(
                    pr,
                    pod,
                    c,
                    "Normal",
                    "Killing",
                    f"Container {c.name} definition changed, will be restarted",
                )
                c.state, c.exit_code, c.reason = "terminated", 0, "Completed"
                c.finished_at, c.ready = self.state.now(), False
                c.log.close()
            c.image = str(image)
            c.restart_clock = None
            self._restart(pr, c, pod, slot)
        for _ in range(4):  # exit -> immediate restart -> exit -> back-off, at most
            if c.running:
                text = self._annotation(pod, "log", c.name) or ""
                if text != pr.logged.get(c.name, ""):
                    pr.logged[c.name] = text
                    if text:
                        c.log.append(text, time=self.state.now())
                plan = None if c.init and not c.sidecar else self._exit_plan(pod, c)
                if (
                    plan is not None
                    and c.started_clock is not None
                    and now >= c.started_clock + plan[1]
                ):
                    self._exit(pr, c, pod, plan[0])
                    continue
            elif c.restart_clock is not None and now >= c.restart_clock:
                self._restart(pr, c, pod, slot)
                continue
            return

    def _exit(self, pr: PodRuntime, c: ContainerRuntime, pod: JSONObject, code: int) -> None:
        """The container's process ended with ``code``; restart it now, later, or never."""
        c.state, c.exit_code = "terminated", code
        c.reason = "Completed" if code == 0 else "Error"
        c.finished_at, c.ready, c.ready_clock = self.state.now(), False, None
        c.log.close()
        policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
        if c.sidecar:
            policy = "Always"
        if pr.terminating or not (policy == "Always" or (policy == "OnFailure" and code != 0)):
            return
        clock = trio.current_time()
        if c.backoff == 0 or clock - c.backoff_clock > BACKOFF_RESET:
            c.backoff, c.backoff_clock = self.crash_backoff, clock
            self._restart(pr, c, pod, self._slot(pr))
            return
        self._retire(c)
        c.state, c.reason = "waiting", "CrashLoopBackOff"
        c.message = (
            f"back-off {go_duration(c.backoff)} restarting failed container={c.name} "
            f"pod={pr.name}_{pr.namespace}({pr.uid})"
        )
        c.restart_clock = clock + c.backoff
        self._event(
            pr,
            pod,
            c,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod "
            f"{pr.name}_{pr.namespace}({pr.uid})",
        )

    def _slot(self, pr: PodRuntime) -> NodeSlot:
        return self.nodes[pr.node]

    @staticmethod
    def _retire(c: ContainerRuntime) -> None:
        """The terminated instance becomes ``lastState``; its log the previous log."""
        if c.state != "terminated":
            return
        c.last_termination = c.termination
        c.previous_log = c.log
        c.log = LogBuffer()

    def _restart(
        self, pr: PodRuntime, c: ContainerRuntime, pod: JSONObject, slot: NodeSlot
    ) -> None:
        self._retire(c)
        if c.backoff and c.restart_clock is not None:  # a back-off ran out: the next is longer
            c.backoff = min(c.backoff * 2, MAX_BACKOFF)
            c.backoff_clock = trio.current_time()
        c.restart_count += 1
        self._run_container(pr, c, pod, slot)

    def _update_readiness(self, pr: PodRuntime, pod: JSONObject, now: float) -> None:
        pod_hold = pr.readiness != "auto" or self._annotation(pod, "ready") == "false"
        for c in pr.all_containers():
            if c.init and not c.sidecar:
                continue
            hold = (
                pod_hold
                or c.readiness != "auto"
                or self._annotation(pod, "ready", c.name) == "false"
            )
            c.ready = c.running and c.ready_clock is not None and now >= c.ready_clock and not hold

    def _next_deadline(self, pr: PodRuntime, pod: JSONObject, now: float) -> float | None:
        """The earliest future trio time at which something changes for this pod."""
        times: list[float] = []
        if not pr.started:
            times.append(pr.start_clock)
        if pr.terminating:
            if pr.kill_clock is not None:
                times.append(pr.kill_clock)
        else:
            for c in pr.all_containers():
                if c.running and not c.ready and c.ready_clock is not None:
                    times.append(c.ready_clock)
                if c.running and c.started_clock is not None:
                    plan = None if c.init and not c.sidecar else self._exit_plan(pod, c)
                    if plan is not None:
                        times.append(c.started_clock + plan[1])
                if c.restart_clock is not None:
                    times.append(c.restart_clock)
        future = [t for t in times if t > now]
        return min(future) if future else None
