"""The simulated scheduler and kubelets of a living fake cluster, and the hooks tests drive.

When ``ClusterConfig.kubelet`` is on, a `Kubelet` registers ``config.nodes`` nodes and reacts
to every pod change (a store listener queues the work, the controllers' drain loop runs it, so a
pod created by a request is scheduled and started before the request is answered, in a
deterministic order):

* the scheduler binds pods that have no ``spec.nodeName`` (``schedulerName: default-scheduler``,
  no scheduling gates) to the feasible node with the fewest pods, honouring ``nodeSelector``,
  required node affinity, cordons and taints (``PodScheduled``, event ``Scheduled``; when no node
  fits, ``PodScheduled=False``/``Unschedulable`` and ``FailedScheduling``);
* the node's kubelet admits the pod (``startTime``, ``hostIP``), and after
  ``config.pod_start_delay`` seconds of trio time runs the init containers to completion and
  starts the containers (``podIP``, events ``Pulling``/``Pulled``, ``Created``, ``Started``, a few
  log lines each); after ``config.pod_ready_delay`` more (plus a readiness probe's
  ``initialDelaySeconds``) they are ready;
* a container that exits is restarted or not by ``restartPolicy`` (``CrashLoopBackOff`` from
  the second crash, with the kubelet's doubling back-off from `Kubelet.crash_backoff` to five
  minutes), and the phase follows (``Succeeded``/``Failed``);
* a pod being deleted gets ``Killing`` events; its containers stop after `Kubelet.stop_seconds`
  (default 0: they honour SIGTERM at once; None: they ignore it and are killed when the grace
  period ends), it reports its final phase and is deleted with grace 0; its logs close.

Every status write goes through the status subresource as manager ``kubelet`` (the scheduler's
as ``kube-scheduler``), so watchers see MODIFIED events and managedFields are right.

Tests drive pods through `Kubelet` methods (``cluster.kubelet``) or, from another process (kubectl
against ``python -m kr8s_trio fake-cluster``), through pod annotations. ``kr8s-trio.dev/<key>``
applies to every container; ``kr8s-trio.dev/<key>.<container>`` to one:

* ``ready: "false"`` holds readiness (containers run, not ready); remove it to release;
* ``exit-code: "N"`` makes each instance of the containers exit with N once it has run
  ``run-seconds`` (default 0): a crash loop with ``restartPolicy: Always``, a finished Job pod
  with ``Never``;
* ``log: "text"`` is written to the log when a container starts and whenever the value changes;
* ``stop-seconds: "N"`` (pod-wide) is how long the containers take to stop when the pod is
  deleted (capped by the grace period; at the cap they are killed, exit code 137).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import trio

from kr8s_trio.testing._containers import PREFIX as ANNOTATION_PREFIX
from kr8s_trio.testing._deletion import delete_object
from kr8s_trio.testing._kubelethooks import KubeletHooks
from kr8s_trio.testing._nodes import (
    NodeSlot,
    lease_object,
    node_object,
    node_status,
)
from kr8s_trio.testing._podstatus import pod_phase, pod_status
from kr8s_trio.testing._recorder import EventRecorder, micro_time
from kr8s_trio.testing._rest import WriteContext
from kr8s_trio.testing._runtime import ContainerRuntime, PodRuntime
from kr8s_trio.testing._scheduler import Scheduler
from kr8s_trio.testing._store import copy_json

if TYPE_CHECKING:
    from kr8s_trio.testing._state import ClusterState
    from kr8s_trio.testing._store import BucketKey, Change, Stored

__all__ = ["ANNOTATION_PREFIX", "Kubelet"]

JSONObject = dict[str, Any]

_PODS: BucketKey = ("", "pods")
_NODES: BucketKey = ("", "nodes")
_KUBELET = WriteContext(manager="kubelet")
_TERMINAL = ("Succeeded", "Failed")


class Kubelet(KubeletHooks):
    """The scheduler and the kubelets of every node of one fake cluster, with the test hooks
    of `KubeletHooks` (``cluster.kubelet``).

    Attributes:
        nodes: the simulated nodes by name.
        stop_seconds: how long containers take to stop after SIGTERM when their pod is deleted
            (0: at once; None: they ignore it and are killed when the grace period ends). The
            ``kr8s-trio.dev/stop-seconds`` annotation overrides it per pod.
        crash_backoff: the first CrashLoopBackOff delay in seconds (doubles, up to 300).
    """

    def __init__(self, state: ClusterState) -> None:
        pods_rt = state.registry.get("", "v1", "pods")
        nodes_rt = state.registry.get("", "v1", "nodes")
        assert pods_rt is not None
        assert nodes_rt is not None
        super().__init__(state, pods_rt, EventRecorder(state.rest, state.registry, state.now))
        self._nodes_rt = nodes_rt
        self.stop_seconds: float | None = 0.0
        #: the default scheduler, placing pods on ``nodes``
        self.scheduler = Scheduler(state, pods_rt, self.nodes, self.events)
        self._queued: set[str] = set()
        self._wakeups: dict[str, float] = {}
        for i in range(1, state.config.nodes + 1):
            self._register(NodeSlot(i, f"node-{i}"))
        state.store.add_listener(self._observe)
        state.controllers.completes_graceful_deletion = self.runs

    # -- nodes ------------------------------------------------------------------------------------

    def _register(self, slot: NodeSlot) -> None:
        self.nodes[slot.name] = slot
        rest = self.state.rest
        rest.create(self._nodes_rt, None, node_object(slot), _KUBELET)
        stored = rest.get(self._nodes_rt, None, slot.name)
        status = node_status(slot, self.state.config.version, rest.timestamp())
        rest.finish_update(self._nodes_rt, stored, {"status": status}, _KUBELET, "status")
        lease_rt = self.state.registry.get("coordination.k8s.io", "v1", "leases")
        if lease_rt is not None:
            lease = lease_object(slot, micro_time(self.state.now()))
            rest.create(lease_rt, "kube-node-lease", lease, _KUBELET)

    def runs(self, pod: JSONObject) -> bool:
        """Whether a simulated kubelet runs ``pod`` (it is bound to one of the nodes)."""
        return (pod.get("spec") or {}).get("nodeName") in self.nodes

    # -- reacting to changes ----------------------------------------------------------------------

    def _observe(self, bucket: BucketKey, change: Change) -> None:
        if bucket == _NODES:
            for key in sorted(self.scheduler.unschedulable):
                self._queue(key)
        elif bucket == _PODS:
            self.scheduler.observe(bucket, change)
            self._queue(change.key)

    def _queue(self, key: str) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self.controllers.defer(functools.partial(self._sync, key))

    def _wake_at(self, key: str, deadline: float) -> None:
        known = self._wakeups.get(key)
        if known is not None and known <= deadline and known > trio.current_time():
            return
        self._wakeups[key] = deadline
        self.state.timers.call_at(deadline, functools.partial(self._on_timer, key, deadline))

    def _on_timer(self, key: str, deadline: float) -> None:
        if self._wakeups.get(key) == deadline:
            del self._wakeups[key]
        # deferred: the timers drain once per batch of due wake-ups
        self.controllers.defer(functools.partial(self._sync, key))

    def _sync(self, key: str) -> None:
        self._queued.discard(key)
        stored = self.store.get(_PODS, key)
        namespace, _, name = key.partition("/")
        pr = self.runtime.pod(namespace, name)
        if stored is None:
            if pr is not None:
                self._forget(pr)
            return
        pod = stored.obj
        meta, spec = pod["metadata"], pod.get("spec") or {}
        if pr is not None and pr.uid != meta.get("uid"):
            self._forget(pr)
            pr = None
        node = spec.get("nodeName")
        if not node:
            self.scheduler.schedule(stored)
            return
        slot = self.nodes.get(node)
        if slot is None:
            return
        if pr is None:
            if (pod.get("status") or {}).get("phase") in _TERMINAL:
                return
            if meta.get("deletionTimestamp"):
                self._finish_deletion(stored)
                return
            pr = self._admit(pod, slot)
        self._advance(pr, stored, slot)

    def _forget(self, pr: PodRuntime) -> None:
        self.runtime.remove(pr.uid)
        pr.close_logs()
        slot = self.nodes.get(pr.node)
        if slot is not None and pr.ip and pr.ip != pr.host_ip:
            slot.release_ip(pr.ip)

    # -- kubelet ----------------------------------------------------------------------------------

    def _admit(self, pod: JSONObject, slot: NodeSlot) -> PodRuntime:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        pr = PodRuntime(
            uid=meta["uid"],
            namespace=meta["namespace"],
            name=meta["name"],
            node=slot.name,
            host_ip=slot.internal_ip,
            start_time=self.state.now(),
            start_clock=trio.current_time() + self.state.config.pod_start_delay,
        )
        inits = spec.get("initContainers") or []
        for c in inits:
            pr.init_containers[c["name"]] = self._container(c, init=True, reason="PodInitializing")
        waiting = "PodInitializing" if inits else "ContainerCreating"
        for c in spec.get("containers") or []:
            pr.containers[c["name"]] = self._container(c, init=False, reason=waiting)
        self.runtime.add(pr)
        return pr

    @staticmethod
    def _container(spec: JSONObject, *, init: bool, reason: str) -> ContainerRuntime:
        return ContainerRuntime(
            name=spec["name"],
            image=str(spec.get("image") or ""),
            init=init,
            reason=reason,
            tty=bool(spec.get("tty")),
            stdin=bool(spec.get("stdin")),
            sidecar=init and spec.get("restartPolicy") == "Always",
        )

    def _advance(self, pr: PodRuntime, stored: Stored, slot: NodeSlot) -> None:
        pod = stored.obj
        now = trio.current_time()
        if pod["metadata"].get("deletionTimestamp"):
            self._terminate(pr, pod, now)
        elif not pr.started and now >= pr.start_clock:
            self._start(pr, pod, slot)
        if pr.started and not pr.terminating:
            for c in pr.all_containers():
                self._step_container(pr, c, pod, slot, now)
        now = trio.current_time()  # what started above started at this time or earlier
        self._update_readiness(pr, pod, now)
        pr.phase = pod_phase(pr, (pod.get("spec") or {}).get("restartPolicy", "Always"))
        stored = self._write_status(pr, stored)
        if pr.terminating and not any(c.running for c in pr.all_containers()):
            self._finish_deletion(stored)
            return
        deadline = self._next_deadline(pr, pod, now)
        if deadline is not None:
            self._wake_at(stored.key, deadline)

    def _write_status(self, pr: PodRuntime, stored: Stored) -> Stored:
        pod = stored.obj
        old = pod.get("status") or {}
        status = pod_status(pr, pod.get("spec") or {}, old, self.state.rest.timestamp())
        if status == old:
            return stored
        self.state.rest.finish_update(self.pods_rt, stored, {"status": status}, _KUBELET, "status")
        return self.store.get(_PODS, stored.key) or stored

    # -- deletion ---------------------------------------------------------------------------------

    def _terminate(self, pr: PodRuntime, pod: JSONObject, now: float) -> None:
        meta = pod["metadata"]
        grace = float(meta.get("deletionGracePeriodSeconds") or 0)
        stop = self._stop_seconds(pod)
        if not pr.terminating:
            pr.terminating = True
            for c in pr.all_containers():
                if c.running:
                    self._event(pr, pod, c, "Normal", "Killing", f"Stopping container {c.name}")
                if c.state == "waiting":
                    c.restart_clock = None
            graceful = stop is not None and stop < grace
            pr.stop_exit_code = 0 if graceful else 137
            pr.kill_clock = now + (stop if graceful and stop is not None else grace)
        else:
            assert pr.kill_clock is not None
            if now + grace < pr.kill_clock:  # deleted again with a shorter grace period
                pr.kill_clock = now + grace
                if stop is None or stop >= grace:
                    pr.stop_exit_code = 137
        assert pr.kill_clock is not None
        if now >= pr.kill_clock:
            for c in pr.all_containers():
                if c.running:
                    self._exit(pr, c, pod, pr.stop_exit_code)

    def _stop_seconds(self, pod: JSONObject) -> float | None:
        value = self._annotation(pod, "stop-seconds")
        if value is not None:
            try:
                return max(float(value), 0.0)
            except ValueError:
                pass
        return self.stop_seconds

    def _finish_deletion(self, stored: Stored) -> None:
        """The kubelet's DELETE with grace 0 once the pod's containers have stopped."""
        meta = stored.obj["metadata"]
        if meta.get("finalizers"):
            if meta.get("deletionGracePeriodSeconds") == 0:
                return
            new = copy_json(stored.obj)
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["metadata"]["deletionTimestamp"] = self.state.rest.timestamp()
            self.store.put(_PODS, stored.key, new)
            return
        delete_object(
            self.state.rest,
            self.pods_rt,
            meta.get("namespace"),
            meta["name"],
            {"gracePeriodSeconds": 0, "preconditions": {"uid": meta.get("uid")}},
            _KUBELET,
        )
