"""A fake cluster served from a background thread, for synchronous code and tests.

The thread runs its own ``trio.run`` with the cluster open; the handle hands its connection
details to the caller and forwards calls into the loop thread with `trio.from_thread`. Start-up
is a handshake (the loop publishes its TrioToken and sets a `threading.Event`), and leaving the
``with`` block cancels the loop and joins the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import trio

from kr8s_trio.testing._cluster import FakeCluster, open_fake_cluster
from kr8s_trio.testing._faults import Faults, RequestLog
from kr8s_trio.testing._state import ClusterConfig

__all__ = ["FakeClusterThread", "run_fake_cluster_in_thread"]

T = TypeVar("T")
JSONObject = dict[str, Any]


class FakeClusterThread:
    """A fake cluster running in a background thread; methods are forwarded into its loop."""

    def __init__(self, cluster: FakeCluster, token: trio.lowlevel.TrioToken) -> None:
        self._cluster = cluster
        self._token = token
        self.url = cluster.url
        self.token = cluster.token
        self.ca_pem = cluster.ca_pem
        self.client_cert = cluster.client_cert

    def __repr__(self) -> str:
        return f"<FakeClusterThread {self.url}>"

    def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the cluster's loop thread (for direct access to state)."""
        return trio.from_thread.run_sync(fn, *args, trio_token=self._token)

    def call(self, fn: Callable[[FakeCluster], T]) -> T:
        """Run ``fn(cluster)`` in the loop thread with the async-side `FakeCluster`."""
        return self.run_sync(fn, self._cluster)

    @property
    def kubeconfig(self) -> JSONObject:
        return self.call(lambda c: c.kubeconfig)

    @property
    def kubeconfig_path(self) -> Path:
        return self.call(lambda c: c.kubeconfig_path)

    @property
    def faults(self) -> Faults:
        """The fault handle. Arm faults through `call` when racing with live requests matters."""
        return self._cluster.faults

    @property
    def requests(self) -> RequestLog:
        return self._cluster.requests

    def write_kubeconfig(self, path: str) -> None:
        self.call(lambda c: c.write_kubeconfig(path))

    def create(self, obj: Mapping[str, Any], *, namespace: str | None = None) -> JSONObject:
        return self.call(lambda c: c.create(obj, namespace=namespace))

    def get(self, resource: str, name: str, namespace: str | None = "default") -> JSONObject:
        return self.call(lambda c: c.get(resource, name, namespace))

    def list(
        self, resource: str, namespace: str | None = None, **selectors: str
    ) -> list[JSONObject]:
        return self.call(lambda c: c.list(resource, namespace, **selectors))

    def patch(self, resource: str, name: str, patch: object, **kwargs: Any) -> JSONObject:
        return self.call(lambda c: c.patch(resource, name, patch, **kwargs))

    def patch_status(
        self,
        resource: str,
        name: str,
        status: Mapping[str, Any],
        *,
        namespace: str | None = "default",
    ) -> JSONObject:
        return self.call(lambda c: c.patch_status(resource, name, status, namespace=namespace))

    def delete(
        self, resource: str, name: str, namespace: str | None = "default", **kwargs: Any
    ) -> JSONObject:
        return self.call(lambda c: c.delete(resource, name, namespace, **kwargs))

    def add_user(self, username: str, groups: tuple[str, ...] = (), **kwargs: Any) -> str:
        return self.call(lambda c: c.add_user(username, groups, **kwargs))


@contextmanager
def run_fake_cluster_in_thread(
    config: ClusterConfig | None = None, **kwargs: Any
) -> Iterator[FakeClusterThread]:
    """Serve a fake cluster from a daemon thread for the duration of the ``with`` block.

    Accepts the arguments of `open_fake_cluster`. The thread is joined on exit; errors from
    the server's loop are re-raised in the caller.
    """
    started = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        with trio.CancelScope() as scope:
            box["scope"] = scope
            box["token"] = trio.lowlevel.current_trio_token()
            async with open_fake_cluster(config, **kwargs) as cluster:
                box["cluster"] = cluster
                started.set()
                await trio.sleep_forever()

    def target() -> None:
        try:
            trio.run(main)
        except BaseException as exc:  # handed to the caller thread
            box["error"] = exc
        finally:
            started.set()

    thread = threading.Thread(target=target, name="kr8s-trio-fake-cluster", daemon=True)
    thread.start()
    started.wait()
    if "cluster" not in box:
        thread.join()
        raise RuntimeError("the fake cluster failed to start") from box.get("error")
    handle = FakeClusterThread(box["cluster"], box["token"])
    try:
        yield handle
    finally:
        with suppress(trio.RunFinishedError):
            trio.from_thread.run_sync(box["scope"].cancel, trio_token=box["token"])
        thread.join()
        if "error" in box:
            raise RuntimeError("the fake cluster's loop failed") from box["error"]
