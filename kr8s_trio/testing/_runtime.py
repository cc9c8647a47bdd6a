"""What the simulated kubelets run: pods' container instances and their logs, in memory.

The API objects (a Pod's ``status``) are the kubelet's report; this module is the "node side"
they report on: for each pod the kubelet has admitted, its containers' states (waiting,
running, terminated), restart counts and log buffers. Logs, exec and attach read it; the kubelet
changes it and writes the resulting status through the API. Nothing here runs a real process.

Times come in two flavours: wall-clock ``datetime`` values (what the status and log timestamps
show, from the cluster's clock) and trio times (``*_clock`` fields, ``trio.current_time()``), which
the kubelet compares against its deadlines so that MockClock drives everything.
"""

from __future__ import annotations

import datetime
from typing import Literal

import attrs
import trio

__all__ = [
    "ContainerRuntime",
    "LogBuffer",
    "LogLine",
    "PodRuntime",
    "Runtime",
    "Termination",
]

LogStream = Literal["stdout", "stderr"]
ContainerStateName = Literal["waiting", "running", "terminated"]
Readiness = Literal["auto", "hold", "fail"]


@attrs.frozen
class LogLine:
    """One line a container wrote (without its newline)."""

    time: datetime.datetime
    text: str
    stream: LogStream = "stdout"


class LogBuffer:
    """The log of one container instance; followers wait for lines or for the end."""

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self.closed = False
        self._changed = trio.Event()

    def append(self, text: str, *, time: datetime.datetime, stream: LogStream = "stdout") -> None:
        """Add ``text`` (one line per ``\\n``-separated part; a final newline is optional)."""
        if self.closed:
            raise RuntimeError("the container has stopped: its log is closed")
        parts = text.split("\n")
        if parts and parts[-1] == "" and len(parts) > 1:
            parts.pop()
        self.lines.extend(LogLine(time, part, stream) for part in parts)
        self._wake()

    def close(self) -> None:
        """The container stopped: followers see the end once they have read every line."""
        if self.closed:
            return
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_beyond(self, seen: int) -> None:
        """Return once there are more than ``seen`` lines, or the log is closed.

        Cancellation: safe; nothing is consumed.
        """
        while len(self.lines) <= seen and not self.closed:
            await self._changed.wait()


@attrs.frozen
class Termination:
    """How a container instance ended (a status's ``state.terminated`` / ``lastState``)."""

    exit_code: int
    reason: str
    started_at: datetime.datetime | None
    finished_at: datetime.datetime
    container_id: str
    message: str = ""


@attrs.define
class ContainerRuntime:
    """One container of an admitted pod, as the kubelet runs it."""

    name: str
    image: str
    init: bool = False
    state: ContainerStateName = "waiting"
    #: waiting or terminated reason (ContainerCreating, CrashLoopBackOff, Completed, Error...)
    reason: str = "ContainerCreating"
    message: str = ""
    exit_code: int | None = None
    started_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    restart_count: int = 0
    ready: bool = False
    log: LogBuffer = attrs.field(factory=LogBuffer)
    #: the log of the previous (terminated) instance, for ``previous=true``
    previous_log: LogBuffer | None = None
    #: spec flags that exec/attach need
    tty: bool = False
    stdin: bool = False
    #: an init container with ``restartPolicy: Always`` (runs beside the main containers)
    sidecar: bool = False
    #: the current instance (``containerd://...``; empty until it is first created)
    container_id: str = ""
    #: the image as the runtime resolved it (``docker.io/library/nginx:latest``) and its digest
    image_ref: str = ""
    image_id: str = ""
    #: how the previous instance ended (``lastState.terminated``)
    last_termination: Termination | None = None
    #: trio time the current instance started, and from when it may report ready
    started_clock: float | None = None
    ready_clock: float | None = None
    #: CrashLoopBackOff: trio time of the next restart
    restart_clock: float | None = None
    #: crash back-off as the kubelet keeps it: current delay (0: none yet) and when it was set
    backoff: float = 0.0
    backoff_clock: float = 0.0
    #: what a test asked of this container's readiness (``auto``: as its probes say)
    readiness: Readiness = "auto"

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def terminated(self) -> bool:
        return self.state == "terminated"

    @property
    def termination(self) -> Termination | None:
        """The current instance's end, while it is terminated."""
        if self.state != "terminated" or self.finished_at is None:
            return None
        return Termination(
            self.exit_code or 0,
            self.reason,
            self.started_at,
            self.finished_at,
            self.container_id,
            self.message,
        )


@attrs.define
class PodRuntime:
    """A pod admitted by a simulated kubelet."""

    uid: str
    namespace: str
    name: str
    node: str
    ip: str = ""
    host_ip: str = ""
    containers: dict[str, ContainerRuntime] = attrs.field(factory=dict)
    init_containers: dict[str, ContainerRuntime] = attrs.field(factory=dict)
    #: when the kubelet admitted the pod (``status.startTime``)
    start_time: datetime.datetime | None = None
    #: trio time the sandbox is up and containers start (pod_start_delay after admission)
    start_clock: float = 0.0
    #: the sandbox exists (``PodReadyToStartContainers``) and containers were started
    started: bool = False
    #: ``Pending``, ``Running``, ``Succeeded`` or ``Failed``, as last reported
    phase: str = "Pending"
    #: the pod is being deleted: containers were told to stop (``Killing``)
    terminating: bool = False
    #: trio time the containers are stopped (killed at the end of the grace period)
    kill_clock: float | None = None
    #: the exit code containers stop with: 0 when they honour SIGTERM in time, 137 when killed
    stop_exit_code: int = 0
    #: the pod-level readiness a test asked for (containers may add their own)
    readiness: Readiness = "auto"
    #: the value of the log annotations last written (each change is written once)
    logged: dict[str, str] = attrs.field(factory=dict)

    def container(self, name: str) -> ContainerRuntime | None:
        return self.containers.get(name) or self.init_containers.get(name)

    def all_containers(self) -> list[ContainerRuntime]:
        """Init containers first (in spec order), then the main containers."""
        return [*self.init_containers.values(), *self.containers.values()]

    def close_logs(self) -> None:
        """The pod is gone: every follower of every container ends."""
        for c in self.all_containers():
            c.log.close()
            if c.previous_log is not None:
                c.previous_log.close()


class Runtime:
    """Every pod the simulated kubelets run, by uid and by namespace/name."""

    def __init__(self) -> None:
        self._by_uid: dict[str, PodRuntime] = {}
        self._by_name: dict[tuple[str, str], PodRuntime] = {}

    def add(self, pod: PodRuntime) -> None:
        self._by_uid[pod.uid] = pod
        self._by_name[(pod.namespace, pod.name)] = pod

    def remove(self, uid: str) -> PodRuntime | None:
        pod = self._by_uid.pop(uid, None)
        if pod is not None and self._by_name.get((pod.namespace, pod.name)) is pod:
            del self._by_name[(pod.namespace, pod.name)]
        return pod

    def pod(self, namespace: str, name: str) -> PodRuntime | None:
        return self._by_name.get((namespace, name))

    def __len__(self) -> int:
        return len(self._by_uid)
