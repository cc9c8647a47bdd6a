"""The StatefulSet controller of the fake: ordinals, ordered starts and stops, revisions (kubelet
played by the test)."""

from __future__ import annotations

from typing import Any

import trio
import trio.testing
from workload_support import (
    HASH,
    controllers_only,
    finish_pod,
    names,
    owner,
    pods,
    run_pending,
    settle,
    workload,
    writes,
)

JSON = dict[str, Any]


def statefulset(replicas: int = 3, **spec: Any) -> JSON:
    body = workload("StatefulSet", "db", replicas=replicas, serviceName="db-headless", **spec)
    return body


async def test_ordered_ready_starts_one_ordinal_at_a_time() -> None:
    async with controllers_only() as cluster:
        sts = cluster.create(statefulset(3))
        assert names(pods(cluster)) == ["db-0"]
        (revision,) = cluster.list("controllerrevisions", "default")
        rev_name = revision["metadata"]["name"]
        digest = revision["metadata"]["labels"]["controller.kubernetes.io/hash"]
        assert HASH.match(digest)
        assert rev_name == f"db-{digest}"
        assert revision["revision"] == 1
        assert revision["metadata"]["labels"]["app"] == "db"
        assert owner(revision)["uid"] == sts["metadata"]["uid"]
        assert revision["data"]["spec"]["template"]["$patch"] == "replace"
        pod = cluster.get("pods", "db-0")
        assert pod["metadata"]["generateName"] == "db-"
        assert pod["metadata"]["labels"] == {
            "app": "db",
            "controller-revision-hash": rev_name,
            "statefulset.kubernetes.io/pod-name": "db-0",
            "apps.kubernetes.io/pod-index": "0",
        }
        assert pod["spec"]["hostname"] == "db-0"
        assert pod["spec"]["subdomain"] == "db-headless"
        assert owner(pod) == {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": "db",
            "uid": sts["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        assert cluster.get("sts", "db")["status"] == {
            "observedGeneration": 1,
            "replicas": 1,
            "currentReplicas": 1,
            "updatedReplicas": 1,
            "currentRevision": rev_name,
            "updateRevision": rev_name,
            "collisionCount": 0,
            "availableReplicas": 0,
        }
        # not ready yet: db-1 waits
        run_pending(cluster)  # db-0 runs -> db-1 is created
        assert names(pods(cluster)) == ["db-0", "db-1"]
        run_pending(cluster)
        assert names(pods(cluster)) == ["db-0", "db-1", "db-2"]
        run_pending(cluster)
        assert cluster.get("sts", "db")["status"] == {
            "observedGeneration": 1,
            "replicas": 3,
            "readyReplicas": 3,
            "currentReplicas": 3,
            "updatedReplicas": 3,
            "currentRevision": rev_name,
            "updateRevision": rev_name,
            "collisionCount": 0,
            "availableReplicas": 3,
        }
        messages = [
            e["message"]
            for e in sorted(cluster.list("events", "default"), key=lambda e: e["metadata"]["name"])
        ]
        assert messages == [f"create Pod db-{i} in StatefulSet db successful" for i in range(3)]


async def test_a_pod_not_ready_blocks_the_next_ordinal() -> None:
    async with controllers_only() as cluster:
        cluster.create(statefulset(2))
        from workload_support import run_pod

        run_pod(cluster, "db-0", ready=False)
        assert names(pods(cluster)) == ["db-0"]
        run_pod(cluster, "db-0", ready=True)
        assert names(pods(cluster)) == ["db-0", "db-1"]


async def test_parallel_creates_every_ordinal_at_once() -> None:
    async with controllers_only() as cluster:
        cluster.create(statefulset(3, podManagementPolicy="Parallel"))
        assert names(pods(cluster)) == ["db-0", "db-1", "db-2"]


async def test_scale_down_removes_the_highest_ordinal_first(
    mock_clock: trio.testing.MockClock,
) -> None:
    async with controllers_only() as cluster:
        cluster.create(statefulset(3))
        settle(cluster, node_name="node-1")  # bound pods: deletion is graceful (30 s)
        cluster.patch("sts", "db", {"spec": {"replicas": 1}})
        deleting = [
            p for p in pods(cluster, deleting=True) if p["metadata"].get("deletionTimestamp")
        ]
        assert names(deleting) == ["db-2"]
        mock_clock.jump(30)
        await trio.testing.wait_all_tasks_blocked()
        deleting = [
            p for p in pods(cluster, deleting=True) if p["metadata"].get("deletionTimestamp")
        ]
        assert names(pods(cluster, deleting=True)) == ["db-0", "db-1"]
        assert names(deleting) == ["db-1"]
        mock_clock.jump(30)
        await trio.testing.wait_all_tasks_blocked()
        assert names(pods(cluster, deleting=True)) == ["db-0"]
        status = cluster.get("sts", "db")["status"]
        assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (
            1,
            1,
            1,
        )


async def test_rolling_update_replaces_pods_from_the_highest_ordinal() -> None:
    async with controllers_only() as cluster:
        cluster.create(statefulset(3))
        settle(cluster)
        first = cluster.get("sts", "db")["status"]["currentRevision"]
        cluster.patch(
            "sts",
            "db",
            {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "pg:17"}]}}}},
            type="strategic",
        )
        revisions = sorted(
            cluster.list("controllerrevisions", "default"), key=lambda r: r["revision"]
        )
        assert [r["revision"] for r in revisions] == [1, 2]
        second = revisions[1]["metadata"]["name"]
        # db-2 was deleted (immediately: unbound) and recreated at the new revision
        status = cluster.get("sts", "db")["status"]
        assert (status["currentRevision"], status["updateRevision"]) == (first, second)
        assert (status["currentReplicas"], status["updatedReplicas"]) == (2, 1)
        revision_of = {
            p["metadata"]["name"]: p["metadata"]["labels"]["controller-revision-hash"]
            for p in pods(cluster)
        }
        assert revision_of == {"db-0": first, "db-1": first, "db-2": second}
        assert cluster.get("pods", "db-2")["spec"]["containers"][0]["image"] == "pg:17"
        settle(cluster)
        status = cluster.get("sts", "db")["status"]
        assert status["currentRevision"] == status["updateRevision"] == second
        assert (status["currentReplicas"], status["updatedReplicas"], status["readyReplicas"]) == (
            3,
            3,
            3,
        )
        assert {p["spec"]["containers"][0]["image"] for p in pods(cluster)} == {"pg:17"}


async def test_partition_keeps_lower_ordinals_on_the_old_revision() -> None:
    async with controllers_only() as cluster:
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
        cluster.create(statefulset(3, updateStrategy=strategy))
        settle(cluster)
        cluster.patch(
            "sts",
            "db",
            {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "pg:17"}]}}}},
            type="strategic",
        )
        settle(cluster)
        images = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in pods(cluster)}
        assert images == {"db-0": "nginx:1.27", "db-1": "nginx:1.27", "db-2": "pg:17"}
        status = cluster.get("sts", "db")["status"]
        assert status["currentRevision"] != status["updateRevision"]
        assert (status["currentReplicas"], status["updatedReplicas"]) == (2, 1)


async def test_failed_pods_are_replaced() -> None:
    async with controllers_only() as cluster:
        cluster.create(statefulset(1))
        settle(cluster)
        uid = cluster.get("pods", "db-0")["metadata"]["uid"]
        finish_pod(cluster, "db-0", exit_code=1)
        replacement = cluster.get("pods", "db-0")
        assert replacement["metadata"]["uid"] != uid
        assert replacement["status"]["phase"] == "Pending"


async def test_statefulset_reactions_settle_and_deletion_collects() -> None:
    async with controllers_only() as cluster:
        cluster.create(statefulset(2))
        settle(cluster)
        settled = writes(cluster)
        workloads = cluster.state.workloads
        assert workloads is not None
        workloads.enqueue(("StatefulSet", "default", "db"))
        cluster.state.controllers.drain()
        assert writes(cluster) == settled
        cluster.delete("sts", "db")
        assert pods(cluster, deleting=True) == []
        assert cluster.list("controllerrevisions", "default") == []
