"""The DaemonSet controller of the fake: a pod per eligible node (nodes created and kubelet
played by the test)."""

from __future__ import annotations

from typing import Any

from workload_support import (
    controllers_only,
    finish_pod,
    node,
    owner,
    pods,
    run_pending,
    settle,
    suffix_of,
    workload,
    writes,
)

JSON = dict[str, Any]


def daemonset(**spec: Any) -> JSON:
    return workload("DaemonSet", "agent", replicas=None, **spec)


def pinned(pod: JSON) -> str:
    (term,) = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    (field,) = term["matchFields"]
    assert (field["key"], field["operator"]) == ("metadata.name", "In")
    (name,) = field["values"]
    return str(name)


def by_node(cluster: Any) -> dict[str, str]:
    return {pinned(p): p["metadata"]["name"] for p in pods(cluster)}


async def test_one_pod_per_node_pinned_by_node_affinity() -> None:
    async with controllers_only() as cluster:
        for name in ("n1", "n2", "n3"):
            cluster.create(node(name))
        ds = cluster.create(daemonset())
        created = pods(cluster)
        assert sorted(by_node(cluster)) == ["n1", "n2", "n3"]
        (revision,) = cluster.list("controllerrevisions", "default")
        digest = revision["metadata"]["labels"]["controller-revision-hash"]
        assert revision["metadata"]["name"] == f"agent-{digest}"
        for pod in created:
            suffix_of(pod["metadata"]["name"], "agent-")
            assert "nodeName" not in pod["spec"]  # the scheduler binds daemon pods
            assert pod["metadata"]["labels"] == {
                "app": "agent",
                "controller-revision-hash": digest,
                "pod-template-generation": "1",
            }
            assert owner(pod) == {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "name": "agent",
                "uid": ds["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
            assert pod["spec"]["tolerations"] == [
                {"key": f"node.kubernetes.io/{key}", "operator": "Exists", "effect": effect}
                for key, effect in (
                    ("not-ready", "NoExecute"),
                    ("unreachable", "NoExecute"),
                    ("disk-pressure", "NoSchedule"),
                    ("memory-pressure", "NoSchedule"),
                    ("pid-pressure", "NoSchedule"),
                    ("unschedulable", "NoSchedule"),
                )
            ]
        assert cluster.get("ds", "agent")["status"] == {
            "currentNumberScheduled": 3,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 3,
            "numberReady": 0,
            "observedGeneration": 1,
            "updatedNumberScheduled": 3,
            "numberUnavailable": 3,
        }
        assert run_pending(cluster) == 3  # bound to the node each is pinned to
        assert {p["spec"]["nodeName"] for p in pods(cluster)} == {"n1", "n2", "n3"}
        assert cluster.get("ds", "agent")["status"] == {
            "currentNumberScheduled": 3,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 3,
            "numberReady": 3,
            "observedGeneration": 1,
            "updatedNumberScheduled": 3,
            "numberAvailable": 3,
        }


async def test_node_selector_and_taints_choose_the_nodes() -> None:
    async with controllers_only() as cluster:
        cluster.create(node("gpu-1", labels={"gpu": "yes"}))
        cluster.create(node("cpu-1"))
        cluster.create(
            node(
                "gpu-2",
                labels={"gpu": "yes"},
                taints=[{"key": "dedicated", "value": "ml", "effect": "NoSchedule"}],
            )
        )
        body = daemonset()
        body["spec"]["template"]["spec"]["nodeSelector"] = {"gpu": "yes"}
        cluster.create(body)
        assert sorted(by_node(cluster)) == ["gpu-1"]
        cluster.patch(
            "ds",
            "agent",
            {
                "spec": {
                    "template": {
                        "spec": {
                            "tolerations": [
                                {"key": "dedicated", "operator": "Equal", "value": "ml"}
                            ]
                        }
                    }
                }
            },
        )
        assert sorted(by_node(cluster)) == ["gpu-1", "gpu-2"]
        status = cluster.get("ds", "agent")["status"]
        assert status["desiredNumberScheduled"] == 2


async def test_nodes_coming_and_going() -> None:
    async with controllers_only() as cluster:
        cluster.create(node("n1"))
        cluster.create(daemonset())
        assert sorted(by_node(cluster)) == ["n1"]
        cluster.create(node("n2"))
        assert sorted(by_node(cluster)) == ["n1", "n2"]
        cluster.delete("nodes", "n2", namespace=None)  # its pod was never scheduled: removed
        assert sorted(by_node(cluster)) == ["n1"]
        cluster.patch("nodes", "n1", {"metadata": {"labels": {"role": "edge"}}}, namespace=None)
        cluster.patch(
            "ds",
            "agent",
            {"spec": {"template": {"spec": {"nodeSelector": {"role": "core"}}}}},
        )
        assert pods(cluster) == []
        assert cluster.get("ds", "agent")["status"]["desiredNumberScheduled"] == 0


async def test_failed_daemon_pods_are_replaced() -> None:
    async with controllers_only() as cluster:
        cluster.create(node("n1"))
        cluster.create(daemonset())
        settle(cluster)
        (pod,) = pods(cluster)
        finish_pod(cluster, pod["metadata"]["name"], exit_code=2)
        (replacement,) = pods(cluster)
        assert replacement["metadata"]["name"] != pod["metadata"]["name"]
        warnings = [e for e in cluster.list("events", "default") if e["type"] == "Warning"]
        assert [e["reason"] for e in warnings] == ["FailedDaemonPod"]
        assert warnings[0]["message"] == (
            f"Found failed daemon pod default/{pod['metadata']['name']} on node n1, "
            "will try to kill it"
        )


async def test_rolling_update_replaces_one_node_at_a_time() -> None:
    async with controllers_only() as cluster:
        for name in ("n1", "n2", "n3"):
            cluster.create(node(name))
        cluster.create(daemonset())
        settle(cluster)
        old = set(by_node(cluster).values())
        cluster.patch(
            "ds",
            "agent",
            {
                "spec": {
                    "template": {"spec": {"containers": [{"name": "main", "image": "agent:2"}]}}
                }
            },
            type="strategic",
        )
        # maxUnavailable 1: one old pod is deleted (gracefully: it was running), the others wait
        deleting = [
            p for p in pods(cluster, deleting=True) if p["metadata"].get("deletionTimestamp")
        ]
        assert len(deleting) == 1
        assert deleting[0]["metadata"]["name"] in old
        assert len(pods(cluster)) == 2
        assert cluster.get("ds", "agent")["status"]["observedGeneration"] == 2
        replaced = []
        while deleting:  # the kubelet's part: finish the deletion, run the replacement
            (gone,) = deleting
            cluster.delete("pods", gone["metadata"]["name"], grace_period_seconds=0)
            (fresh,) = [p for p in pods(cluster) if p["status"]["phase"] == "Pending"]
            assert pinned(fresh) == pinned(gone)
            assert fresh["metadata"]["labels"]["pod-template-generation"] == "2"
            replaced.append(pinned(fresh))
            run_pending(cluster)
            deleting = [
                p for p in pods(cluster, deleting=True) if p["metadata"].get("deletionTimestamp")
            ]
        assert sorted(replaced) == ["n1", "n2", "n3"]
        settle(cluster)
        assert not set(by_node(cluster).values()) & old
        assert {p["spec"]["containers"][0]["image"] for p in pods(cluster)} == {"agent:2"}
        status = cluster.get("ds", "agent")["status"]
        assert (status["updatedNumberScheduled"], status["numberAvailable"]) == (3, 3)
        assert len(cluster.list("controllerrevisions", "default")) == 2


async def test_daemonset_reactions_settle() -> None:
    async with controllers_only() as cluster:
        for name in ("n1", "n2"):
            cluster.create(node(name))
        cluster.create(daemonset())
        settle(cluster)
        settled = writes(cluster)
        workloads = cluster.state.workloads
        assert workloads is not None
        workloads.enqueue(("DaemonSet", "default", "agent"))
        cluster.state.controllers.drain()
        assert writes(cluster) == settled
        cluster.delete("ds", "agent")
        remaining = pods(cluster, deleting=True)  # bound: graceful deletion (the kubelet's part)
        assert len(remaining) == 2
        assert all(p["metadata"]["deletionTimestamp"] for p in remaining)
