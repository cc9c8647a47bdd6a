"""The workload controllers with the simulated kubelet: a living cluster, end to end.

Here nothing is played by the test: the scheduler and kubelets run the pods the controllers
create. Waiting is done on trio's scheduler (``wait_all_tasks_blocked``), never by sleeping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from workload_support import job, pods, rollout_done, workload

from kr8s_trio.testing import FakeCluster, open_fake_cluster

JSON = dict[str, Any]


@asynccontextmanager
async def living() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster() as cluster:
        if getattr(cluster.state, "kubelet", None) is None:
            pytest.skip("this build has no simulated kubelet (ClusterState.kubelet)")
        yield cluster


async def until(check: Callable[[], bool], rounds: int = 50) -> None:
    """Let the cluster's tasks run until ``check()`` holds (a bounded number of rounds)."""
    for _ in range(rounds):
        if check():
            return
        await trio.testing.wait_all_tasks_blocked()
    assert check()


async def test_deployment_scales_from_one_to_five_and_back() -> None:
    async with living() as cluster:
        cluster.create(workload("Deployment", "web", replicas=1))

        def ready(n: int) -> Callable[[], bool]:
            def check() -> bool:
                status = cluster.get("deploy", "web").get("status", {})
                return status.get("readyReplicas") == n and len(pods(cluster, deleting=True)) == n

            return check

        await until(ready(1))
        cluster.patch("deploy", "web", {"spec": {"replicas": 5}})
        await until(ready(5))
        assert all(p["spec"].get("nodeName") for p in pods(cluster))
        cluster.patch("deploy", "web", {"spec": {"replicas": 1}})
        await until(ready(1))
        d = cluster.get("deploy", "web")
        assert d["status"]["availableReplicas"] == 1
        assert rollout_done(d) == (True, 'deployment "web" successfully rolled out')


async def test_rolling_update_completes_and_kubectl_rollout_status_returns(
    tmp_path: Path,
) -> None:
    async with living() as cluster:
        cluster.create(workload("Deployment", "web", replicas=3))
        cluster.patch(
            "deploy",
            "web",
            {
                "spec": {
                    "template": {"spec": {"containers": [{"name": "main", "image": "nginx:2"}]}}
                }
            },
            type="strategic",
        )

        def rolled_out() -> bool:
            return rollout_done(cluster.get("deploy", "web"))[0]

        await until(rolled_out)
        assert {p["spec"]["containers"][0]["image"] for p in pods(cluster)} == {"nginx:2"}
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            pytest.skip("kubectl is not installed")
        env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": str(cluster.kubeconfig_path)}
        with trio.fail_after(60):
            done = await trio.run_process(
                [kubectl, "rollout", "status", "deployment/web", "--timeout=30s"],
                capture_stdout=True,
                capture_stderr=True,
                check=False,
                env=env,
            )
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout.decode().strip().endswith('deployment "web" successfully rolled out')


async def test_job_completes() -> None:
    async with living() as cluster:
        body = job("pi", completions=2, parallelism=2)
        body["spec"]["template"]["metadata"] = {"annotations": {"kr8s-trio.dev/exit-code": "0"}}
        cluster.create(body)

        def complete() -> bool:
            status = cluster.get("jobs", "pi").get("status", {})
            return any(c["type"] == "Complete" for c in status.get("conditions", []))

        await until(complete)
        status = cluster.get("jobs", "pi")["status"]
        assert status["succeeded"] == 2
        assert {p["status"]["phase"] for p in pods(cluster)} == {"Succeeded"}


async def test_statefulset_and_daemonset_come_up() -> None:
    async with living() as cluster:
        cluster.create(workload("StatefulSet", "db", replicas=3, serviceName="db"))
        cluster.create(workload("DaemonSet", "agent", replicas=None))

        def up() -> bool:
            sts = cluster.get("sts", "db").get("status", {})
            ds = cluster.get("ds", "agent").get("status", {})
            return sts.get("readyReplicas") == 3 and ds.get("numberAvailable") == 3

        await until(up)
        assert sorted(p["metadata"]["name"] for p in pods(cluster, "app=db")) == [
            "db-0",
            "db-1",
            "db-2",
        ]
        nodes = {p["spec"]["nodeName"] for p in pods(cluster, "app=agent")}
        assert nodes == {n["metadata"]["name"] for n in cluster.list("nodes")}


async def test_pods_ready_at_one_instant_cost_one_sync_of_their_controllers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # the kubelets' wake-ups that fall due together are one batch, drained once: 60 pods that
    # become ready at the same instant sync their ReplicaSet and Deployment a few times, not
    # a few times per pod
    async with open_fake_cluster(pod_ready_delay=5) as cluster:
        cluster.create(workload("Deployment", "web", replicas=60))
        assert cluster.get("deploy", "web")["status"].get("readyReplicas", 0) == 0
        workloads = cluster.state.workloads
        assert workloads is not None
        before = workloads.syncs
        await trio.sleep(6)
        assert cluster.get("deploy", "web")["status"]["readyReplicas"] == 60
        assert workloads.syncs - before <= 6


async def test_orphan_pods_look_for_adopters_only_when_they_could_be_adopted() -> None:
    # the kubelet's status writes of a bare pod do not scan every controller's selector
    async with open_fake_cluster() as cluster:
        workloads = cluster.state.workloads
        assert workloads is not None
        looked: list[dict[str, str]] = []
        real = workloads._enqueue_adopters

        def counting(kind: str, namespace: str, labels: Any) -> None:
            looked.append(dict(labels))
            real(kind, namespace, labels)

        workloads._enqueue_adopters = counting  # type: ignore[method-assign]
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "bare", "labels": {"app": "bare"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            }
        )
        assert cluster.get("pods", "bare")["status"]["phase"] == "Running"  # written 3 times
        assert looked == [{"app": "bare"}]
        cluster.patch("pods", "bare", {"metadata": {"labels": {"app": "web"}}})
        assert looked == [{"app": "bare"}, {"app": "web"}]
        cluster.create(workload("ReplicaSet", "web", replicas=1))
        (pod,) = pods(cluster, "app=web")
        assert pod["metadata"]["name"] == "bare"  # adopted, not replaced
        assert pod["metadata"]["ownerReferences"][0]["name"] == "web"
