"""What the simulated kubelets run: pods' container instances and their logs, in memory.

The API objects (a Pod's ``status``) are the kubelet's report; this module is the "node side"
they report on: for each pod the kubelet has admitted, its containers' states (waiting,
running, terminated), restart counts and log buffers. Logs, exec and attach read it; the kubelet
changes it and writes the resulting status through the API. Nothing here runs a real process.
"""

from __future__ import annotations

import datetime
from typing import Literal

import attrs
import trio

__all__ = ["ContainerRuntime", "LogBuffer", "LogLine", "PodRuntime", "Runtime"]

LogStream = Literal["stdout", "stderr"]
ContainerStateName = Literal["waiting", "running", "terminated"]


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

    @property
    def running(self) -> bool:
        return self.state == "running"


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

    def container(self, name: str) -> ContainerRuntime | None:
        return self.containers.get(name) or self.init_containers.get(name)


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

    def by_uid(self, uid: str) -> PodRuntime | None:
        return self._by_uid.get(uid)

    def __len__(self) -> int:
        return len(self._by_uid)
