"""The blocking facade (`kr8s_trio.sync`) from event loops and threads: inside a running trio
loop (pytest-trio), inside asyncio, and from 8 threads at once sharing one portal thread. No
sleeps: every wait is on a result or a thread's completion."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kr8s_trio.sync as kr8s
from kr8s_trio.sync.objects import Pod
from kr8s_trio.testing import FakeClusterThread


def pod_manifest(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }


async def test_facade_from_inside_trio(sync_cluster: FakeClusterThread) -> None:
    # (sync_cluster's own helpers use trio.from_thread, which refuses a trio thread: the
    # facade makes the pod itself)
    Pod(pod_manifest("in-trio")).create()
    assert kr8s.version()["gitVersion"]
    assert [p.name for p in kr8s.get("pods")] == ["in-trio"]
    assert Pod.get("in-trio").api is kr8s.api()


def test_facade_from_inside_asyncio(sync_cluster: FakeClusterThread) -> None:
    sync_cluster.create(pod_manifest("in-asyncio"))

    async def main() -> tuple[str, list[str]]:
        asyncio.get_running_loop()  # inside the loop
        info = kr8s.version()
        return info["gitVersion"], [p.name for p in kr8s.get("pods")]

    version, names = asyncio.run(main())
    assert version.startswith("v")
    assert names == ["in-asyncio"]


def test_facade_from_8_threads(sync_cluster: FakeClusterThread) -> None:
    start = threading.Barrier(8, timeout=30)  # a bound only: all 8 arrive at once

    def worker(i: int) -> tuple[str, str, str | None, list[str], kr8s.Api | None]:
        start.wait()
        pod = Pod(pod_manifest(f"t{i}", thread=str(i)))
        pod.create()
        back = Pod.get(f"t{i}")
        listed = [p.name for p in kr8s.get("pods", label_selector={"thread": str(i)})]
        return back.name, back.labels["thread"], back.metadata.uid, listed, back.api

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(worker, range(8)))
    for i, (name, label, uid, listed, _) in enumerate(results):
        assert (name, label, listed) == (f"t{i}", str(i), [f"t{i}"])
        assert uid == sync_cluster.get("pods", f"t{i}")["metadata"]["uid"]
    shared = kr8s.api()
    assert all(result[4] is shared for result in results)
    assert sorted(p.name for p in kr8s.get("pods")) == sorted(f"t{i}" for i in range(8))
    portals = [t for t in threading.enumerate() if t.name == "kr8s_trio-sync"]
    assert len(portals) == 1
