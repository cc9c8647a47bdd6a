"""The test hooks of the simulated kubelets: what ``cluster.kubelet`` lets a test do to a pod.

Readiness held, failed and released (per pod or per container), containers made to exit with a
code, lines written to a container's log, and a look at what a node runs for a pod. Each hook
changes the node side and lets the kubelet report the result at once, through the controllers'
drain loop, so the pod's status (and every watcher) reflects it before the call returns. The
same controls exist as pod annotations for other processes (see `Kubelet`).
"""

from __future__ import annotations

import functools

from kr8s_trio.testing._containers import ContainerLifecycle
from kr8s_trio.testing._runtime import ContainerRuntime, LogStream, PodRuntime, Readiness

__all__ = ["KubeletHooks"]


class KubeletHooks(ContainerLifecycle):
    """The public test hooks of `Kubelet` (pods are named by ``name`` and ``namespace``)."""

    def pod(self, name: str, *, namespace: str = "default") -> PodRuntime:
        """What the node runs for a pod (containers, logs).

        Raises:
            LookupError: no kubelet has admitted the pod.
        """
        pr = self.runtime.pod(namespace, name)
        if pr is None:
            raise LookupError(f"no simulated kubelet runs pod {namespace}/{name}")
        return pr

    def _targets(self, pr: PodRuntime, container: str | None) -> list[ContainerRuntime]:
        if container is None:
            return list(pr.containers.values())
        found = pr.container(container)
        if found is None:
            raise LookupError(f"pod {pr.namespace}/{pr.name} has no container {container!r}")
        return [found]

    def _set_readiness(
        self, name: str, namespace: str, container: str | None, value: Readiness
    ) -> None:
        pr = self.pod(name, namespace=namespace)
        if container is None:
            pr.readiness = value
        else:
            for c in self._targets(pr, container):
                c.readiness = value
        if value == "fail":
            stored = self.state.rest.find(self.pods_rt, namespace, name)
            if stored is not None:
                for c in self._targets(pr, container):
                    if c.running:
                        self._event(
                            pr,
                            stored.obj,
                            c,
                            "Warning",
                            "Unhealthy",
                            "Readiness probe failed: failed by a test (kr8s_trio.testing)",
                        )
        self._run(functools.partial(self._sync, f"{namespace}/{name}"))

    def hold_readiness(
        self, name: str, *, namespace: str = "default", container: str | None = None
    ) -> None:
        """Keep the pod's containers (or one) not ready, as a readiness probe not passing yet."""
        self._set_readiness(name, namespace, container, "hold")

    def fail_readiness(
        self, name: str, *, namespace: str = "default", container: str | None = None
    ) -> None:
        """Make the readiness probe fail: ready containers become not ready (event Unhealthy)."""
        self._set_readiness(name, namespace, container, "fail")

    def release_readiness(
        self, name: str, *, namespace: str = "default", container: str | None = None
    ) -> None:
        """Undo `hold_readiness` / `fail_readiness`: readiness follows the probes again."""
        self._set_readiness(name, namespace, container, "auto")

    def exit_container(
        self,
        name: str,
        exit_code: int = 0,
        *,
        namespace: str = "default",
        container: str | None = None,
    ) -> None:
        """Make the container (default: every main container) exit with ``exit_code`` now; the
        restartPolicy decides what follows.

        Raises:
            RuntimeError: the container is not running.
        """
        pr = self.pod(name, namespace=namespace)
        targets = self._targets(pr, container)
        if container is not None and not targets[0].running:
            raise RuntimeError(f"container {container!r} of pod {namespace}/{name} is not running")

        def run() -> None:
            stored = self.state.rest.find(self.pods_rt, namespace, name)
            if stored is None:
                return
            for c in targets:
                if c.running:
                    self._exit(pr, c, stored.obj, exit_code)
            self._sync(f"{namespace}/{name}")

        self._run(run)

    def write_log(
        self,
        name: str,
        text: str,
        *,
        namespace: str = "default",
        container: str | None = None,
        stream: LogStream = "stdout",
    ) -> None:
        """Append ``text`` (one line per ``\\n``) to a running container's log.

        Raises:
            RuntimeError: the container is not running (its log is closed or not open yet).
        """
        pr = self.pod(name, namespace=namespace)
        if container is None:
            if len(pr.containers) != 1:
                raise LookupError(
                    f"pod {namespace}/{name} has several containers: name one of "
                    f"{sorted(pr.containers)}"
                )
            container = next(iter(pr.containers))
        c = self._targets(pr, container)[0]
        if not c.running:
            raise RuntimeError(f"container {container!r} of pod {namespace}/{name} is not running")
        c.log.append(text, time=self.state.now(), stream=stream)
