"""The ReplicaSet and ReplicationController controllers of the fake (kubelet played by the test)."""

from __future__ import annotations

import trio
import trio.testing
from workload_support import (
    controllers_only,
    names,
    owner,
    pods,
    run_pending,
    run_pod,
    suffix_of,
    workload,
    writes,
)


async def test_replicaset_creates_pods_from_its_template() -> None:
    async with controllers_only() as cluster:
        rs = cluster.create(workload("ReplicaSet", "web", replicas=3))
        created = pods(cluster, "app=web")
        assert len(created) == 3
        for pod in created:
            suffix_of(pod["metadata"]["name"], "web-")
            assert pod["metadata"]["generateName"] == "web-"
            assert pod["metadata"]["labels"] == {"app": "web"}
            assert owner(pod) == {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": rs["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
            assert pod["spec"]["containers"][0]["image"] == "nginx:1.27"
            assert pod["status"]["phase"] == "Pending"
            managers = {f["manager"] for f in pod["metadata"]["managedFields"]}
            assert managers == {"kube-controller-manager"}
        assert cluster.get("rs", "web")["status"] == {
            "replicas": 3,
            "fullyLabeledReplicas": 3,
            "observedGeneration": 1,
        }
        events = cluster.list("events", "default")
        assert sorted(e["message"] for e in events) == sorted(
            f"Created pod: {n}" for n in names(created)
        )
        assert {e["source"]["component"] for e in events} == {"replicaset-controller"}
        assert run_pending(cluster) == 3
        assert cluster.get("rs", "web")["status"] == {
            "replicas": 3,
            "fullyLabeledReplicas": 3,
            "readyReplicas": 3,
            "availableReplicas": 3,
            "observedGeneration": 1,
        }


async def test_replicaset_scales_up_and_down_keeping_ready_pods() -> None:
    async with controllers_only() as cluster:
        cluster.create(workload("ReplicaSet", "web", replicas=1))
        run_pending(cluster)
        cluster.patch("rs", "web", {"spec": {"replicas": 5}})
        assert len(pods(cluster, "app=web")) == 5
        status = cluster.get("rs", "web")["status"]
        assert (status["replicas"], status["readyReplicas"], status["observedGeneration"]) == (
            5,
            1,
            2,
        )
        # two more become ready; scaling down removes the three that are not ready first
        pending = [
            p["metadata"]["name"] for p in pods(cluster) if p["status"]["phase"] == "Pending"
        ]
        for name in pending[:2]:
            run_pod(cluster, name)
        ready = {p["metadata"]["name"] for p in pods(cluster) if p["status"]["phase"] == "Running"}
        cluster.patch("rs", "web", {"spec": {"replicas": 3}})
        assert set(names(pods(cluster))) == ready
        cluster.patch("rs", "web", {"spec": {"replicas": 1}})
        assert len(pods(cluster)) == 1
        assert cluster.get("rs", "web")["status"] == {
            "replicas": 1,
            "fullyLabeledReplicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "observedGeneration": 4,
        }


async def test_replicaset_adopts_orphans_and_releases_pods_that_stop_matching() -> None:
    async with controllers_only() as cluster:
        orphan = cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "stray", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            }
        )
        rs = cluster.create(workload("ReplicaSet", "web", replicas=2))
        found = pods(cluster, "app=web")
        assert len(found) == 2
        adopted = cluster.get("pods", "stray")
        assert adopted["metadata"]["uid"] == orphan["metadata"]["uid"]
        assert owner(adopted)["uid"] == rs["metadata"]["uid"]
        # relabel it: released (no owner) and replaced
        cluster.patch("pods", "stray", {"metadata": {"labels": {"app": "other"}}})
        assert "ownerReferences" not in cluster.get("pods", "stray")["metadata"]
        assert len(pods(cluster, "app=web")) == 2
        assert "stray" not in names(pods(cluster, "app=web"))


async def test_replicaset_replaces_deleted_and_finished_pods() -> None:
    async with controllers_only() as cluster:
        cluster.create(workload("ReplicaSet", "web", replicas=2))
        first = names(pods(cluster))
        cluster.delete("pods", first[0])
        after = names(pods(cluster))
        assert len(after) == 2
        assert first[0] not in after
        assert first[1] in after


async def test_replicaset_min_ready_seconds_on_trio_clock(
    mock_clock: trio.testing.MockClock,
) -> None:
    async with controllers_only() as cluster:
        cluster.create(workload("ReplicaSet", "web", replicas=2, minReadySeconds=10))
        run_pending(cluster)
        status = cluster.get("rs", "web")["status"]
        assert status["readyReplicas"] == 2
        assert "availableReplicas" not in status
        mock_clock.jump(9)
        await trio.testing.wait_all_tasks_blocked()
        assert "availableReplicas" not in cluster.get("rs", "web")["status"]
        mock_clock.jump(1)
        await trio.testing.wait_all_tasks_blocked()
        assert cluster.get("rs", "web")["status"]["availableReplicas"] == 2


async def test_replicaset_reports_replica_failure_when_pods_cannot_be_created() -> None:
    async with controllers_only() as cluster:
        body = workload("ReplicaSet", "web", replicas=1)
        body["spec"]["template"]["metadata"]["labels"]["bad"] = "not a label value!"
        cluster.create(body)
        assert pods(cluster) == []
        status = cluster.get("rs", "web")["status"]
        (cond,) = status["conditions"]
        assert cond["type"] == "ReplicaFailure"
        assert cond["status"] == "True"
        assert cond["reason"] == "FailedCreate"
        assert cond["message"].startswith('Pod "')
        assert "metadata.labels" in cond["message"]
        warnings = [e for e in cluster.list("events", "default") if e["type"] == "Warning"]
        assert warnings  # retried once after the status write: still failing, still reported
        assert {e["reason"] for e in warnings} == {"FailedCreate"}
        assert all(e["message"].startswith("Error creating: ") for e in warnings)


async def test_replication_controller_selector_defaults_to_template_labels() -> None:
    async with controllers_only() as cluster:
        rc = cluster.create(
            {
                "apiVersion": "v1",
                "kind": "ReplicationController",
                "metadata": {"name": "legacy"},
                "spec": {
                    "replicas": 2,
                    "template": {
                        "metadata": {"labels": {"app": "legacy"}},
                        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                    },
                },
            }
        )
        created = pods(cluster, "app=legacy")
        assert len(created) == 2
        for pod in created:
            suffix_of(pod["metadata"]["name"], "legacy-")
            assert owner(pod) == {
                "apiVersion": "v1",
                "kind": "ReplicationController",
                "name": "legacy",
                "uid": rc["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        run_pending(cluster)
        assert cluster.get("rc", "legacy")["status"] == {
            "replicas": 2,
            "fullyLabeledReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "observedGeneration": 1,
        }
        components = {e["source"]["component"] for e in cluster.list("events", "default")}
        assert components == {"replication-controller"}


async def test_replicaset_reactions_settle() -> None:
    async with controllers_only() as cluster:
        cluster.create(workload("ReplicaSet", "web", replicas=3))
        run_pending(cluster)
        settled = writes(cluster)
        workloads = cluster.state.workloads
        assert workloads is not None
        syncs = workloads.syncs
        workloads.enqueue(("ReplicaSet", "default", "web"))
        cluster.state.controllers.drain()
        assert workloads.syncs == syncs + 1
        assert writes(cluster) == settled


async def test_deleting_a_replicaset_collects_its_pods() -> None:
    async with controllers_only() as cluster:
        cluster.create(workload("ReplicaSet", "web", replicas=3))
        cluster.delete("rs", "web")
        assert pods(cluster, deleting=True) == []
