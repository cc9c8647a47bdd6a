"""The Deployment controller of the fake: ReplicaSets, rollouts, scaling, status (kubelet played
by the test)."""

from __future__ import annotations

from typing import Any

import trio
import trio.testing
from support import APPS, watch_from_now
from workload_support import (
    HASH,
    controllers_only,
    names,
    owner,
    pods,
    rollout_done,
    run_pending,
    settle,
    suffix_of,
    workload,
    writes,
)

JSON = dict[str, Any]


def deployment(name: str = "web", replicas: int = 3, **spec: Any) -> JSON:
    return workload("Deployment", name, replicas=replicas, **spec)


def replicasets(cluster: Any) -> list[JSON]:
    return sorted(
        cluster.list("rs", "default"),
        key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]),
    )


def sizes(cluster: Any) -> list[tuple[int, int]]:
    """(spec.replicas, availableReplicas) of each ReplicaSet, oldest revision first."""
    return [
        (rs["spec"]["replicas"], rs.get("status", {}).get("availableReplicas", 0))
        for rs in replicasets(cluster)
    ]


def set_image(cluster: Any, image: str, name: str = "web") -> None:
    cluster.patch(
        "deploy",
        name,
        {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": image}]}}}},
        type="strategic",
    )


def condition(status: JSON, kind: str) -> JSON:
    return next(c for c in status["conditions"] if c["type"] == kind)


async def test_deployment_creates_a_hashed_replicaset_and_its_pods() -> None:
    async with controllers_only() as cluster:
        d = cluster.create(deployment())
        (rs,) = cluster.list("rs", "default")
        name = rs["metadata"]["name"]
        digest = rs["metadata"]["labels"]["pod-template-hash"]
        assert HASH.match(digest)
        assert name == f"web-{digest}"
        assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": digest}
        assert rs["spec"]["selector"] == {
            "matchLabels": {"app": "web", "pod-template-hash": digest}
        }
        assert rs["spec"]["template"]["metadata"]["labels"] == rs["metadata"]["labels"]
        assert rs["spec"]["replicas"] == 3
        assert rs["metadata"]["annotations"] == {
            "deployment.kubernetes.io/desired-replicas": "3",
            "deployment.kubernetes.io/max-replicas": "4",
            "deployment.kubernetes.io/revision": "1",
        }
        assert owner(rs) == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": d["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        created = pods(cluster)
        assert len(created) == 3
        for pod in created:
            suffix_of(pod["metadata"]["name"], f"{name}-")
            assert pod["metadata"]["labels"] == {"app": "web", "pod-template-hash": digest}
            assert owner(pod)["name"] == name
        d = cluster.get("deploy", "web")
        assert d["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
        status = d["status"]
        assert [
            (c["type"], c["status"], c["reason"], c["message"]) for c in status["conditions"]
        ] == [
            (
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            ),
            ("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.'),
        ]
        assert {k: v for k, v in status.items() if k != "conditions"} == {
            "observedGeneration": 1,
            "replicas": 3,
            "updatedReplicas": 3,
            "unavailableReplicas": 3,
        }
        assert rollout_done(d) == (False, "0 of 3 updated replicas are available...")
        settle(cluster)
        d = cluster.get("deploy", "web")
        status = d["status"]
        assert [
            (c["type"], c["status"], c["reason"], c["message"]) for c in status["conditions"]
        ] == [
            (
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            ),
            (
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
            ),
        ]
        assert set(status["conditions"][0]) == {
            "type",
            "status",
            "lastUpdateTime",
            "lastTransitionTime",
            "reason",
            "message",
        }
        assert {k: v for k, v in status.items() if k != "conditions"} == {
            "observedGeneration": 1,
            "replicas": 3,
            "updatedReplicas": 3,
            "readyReplicas": 3,
            "availableReplicas": 3,
        }
        assert rollout_done(d) == (True, 'deployment "web" successfully rolled out')
        reasons = [
            e["message"]
            for e in cluster.list("events", "default")
            if e["source"]["component"] == "deployment-controller"
        ]
        assert reasons == [f"Scaled up replica set {name} from 0 to 3"]


async def test_rolling_update_respects_max_surge_and_max_unavailable() -> None:
    async with controllers_only() as cluster:
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        cluster.create(deployment(replicas=3, strategy=strategy))
        settle(cluster)
        set_image(cluster, "nginx:1.28")
        old, new = replicasets(cluster)
        assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
        assert cluster.get("deploy", "web")["metadata"]["annotations"] == {
            "deployment.kubernetes.io/revision": "2"
        }
        assert new["metadata"]["name"] != old["metadata"]["name"]
        steps = [sizes(cluster)]
        while run_pending(cluster):
            steps.append(sizes(cluster))
            alive = pods(cluster)
            assert len(alive) <= 4  # replicas + maxSurge
            running = [p for p in alive if p["status"]["phase"] == "Running"]
            assert len(running) >= 3  # replicas - maxUnavailable
        assert steps == [
            [(3, 3), (1, 0)],
            [(2, 2), (2, 1)],
            [(1, 1), (3, 2)],
            [(0, 0), (3, 3)],
        ]
        assert {p["spec"]["containers"][0]["image"] for p in pods(cluster)} == {"nginx:1.28"}
        assert rollout_done(cluster.get("deploy", "web"))[0]


async def test_rolling_update_with_no_surge_removes_old_pods_first() -> None:
    async with controllers_only() as cluster:
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
        cluster.create(deployment(replicas=3, strategy=strategy))
        settle(cluster)
        set_image(cluster, "nginx:1.28")
        assert sizes(cluster) == [(2, 2), (1, 0)]
        assert len(pods(cluster)) == 3
        settle(cluster)
        assert sizes(cluster) == [(0, 0), (3, 3)]


async def test_rolling_update_resolves_percentages() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=10))  # default strategy: 25% surge, 25% unavailable
        settle(cluster)
        set_image(cluster, "nginx:1.28")
        # surge rounds up (3), unavailability rounds down (2): 13 pods, 8 of them available
        assert sizes(cluster) == [(8, 8), (5, 0)]
        assert (
            replicasets(cluster)[1]["metadata"]["annotations"][
                "deployment.kubernetes.io/max-replicas"
            ]
            == "13"
        )


async def test_recreate_waits_for_old_pods_before_creating_new_ones() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=2, strategy={"type": "Recreate"}))
        settle(cluster, node_name="node-1")  # bound pods: deletion is graceful (30 s)
        old_pods = names(pods(cluster))
        set_image(cluster, "nginx:1.28")
        (old,) = cluster.list("rs", "default")
        assert old["spec"]["replicas"] == 0
        terminating = pods(cluster, deleting=True)
        assert names(terminating) == old_pods
        assert all(p["metadata"].get("deletionTimestamp") for p in terminating)
        # the graceful deletions complete (the kubelet's part): the new ReplicaSet appears
        cluster.delete("pods", old_pods[0], grace_period_seconds=0)
        assert len(cluster.list("rs", "default")) == 1  # one old pod is still there
        cluster.delete("pods", old_pods[1], grace_period_seconds=0)
        assert sizes(cluster) == [(0, 0), (2, 0)]
        d = cluster.get("deploy", "web")
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
        settle(cluster)
        assert rollout_done(cluster.get("deploy", "web"))[0]


async def test_scale_subresource_scales_from_one_to_five_and_back() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=1))
        settle(cluster)
        async with cluster.http_client(timeout=None) as client:
            for want in (5, 1):
                r = await client.patch(
                    f"{APPS}/deployments/web/scale",
                    json={"spec": {"replicas": want}},
                    headers={"Content-Type": "application/merge-patch+json"},
                )
                assert r.status_code == 200, r.text
                settle(cluster)
                d = cluster.get("deploy", "web")
                assert d["status"]["readyReplicas"] == want
                assert d["status"]["availableReplicas"] == want
                assert len(pods(cluster)) == want
                (rs,) = cluster.list("rs", "default")
                assert rs["spec"]["replicas"] == want
                assert rs["metadata"]["annotations"][
                    "deployment.kubernetes.io/desired-replicas"
                ] == str(want)
                assert rollout_done(d)[0]
                r = await client.get(f"{APPS}/deployments/web/scale")
                assert r.json()["status"]["replicas"] == want


async def test_scaling_mid_rollout_is_proportional() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=10))
        settle(cluster)
        set_image(cluster, "nginx:1.28")
        cluster.patch("deploy", "web", {"spec": {"paused": True}})
        assert sizes(cluster) == [(8, 8), (5, 0)]
        cluster.patch("deploy", "web", {"spec": {"replicas": 20}})
        # 25 allowed (20 + 25% surge), shared by the sizes they were made for (max-replicas 13)
        assert sizes(cluster) == [(15, 8), (10, 0)]
        for rs in replicasets(cluster):
            assert (
                rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "20"
            )
            assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "25"
        cluster.patch("deploy", "web", {"spec": {"paused": False}})
        settle(cluster)
        assert sizes(cluster) == [(0, 0), (20, 20)]
        assert rollout_done(cluster.get("deploy", "web"))[0]


async def test_paused_deployment_does_not_roll_out() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=2))
        settle(cluster)
        cluster.patch("deploy", "web", {"spec": {"paused": True}})
        set_image(cluster, "nginx:1.28")
        assert len(cluster.list("rs", "default")) == 1
        d = cluster.get("deploy", "web")
        progressing = condition(d["status"], "Progressing")
        assert (progressing["status"], progressing["reason"], progressing["message"]) == (
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused",
        )
        assert d["status"]["observedGeneration"] == d["metadata"]["generation"] == 3
        assert rollout_done(d) == (False, "0 out of 2 new replicas have been updated...")
        cluster.patch("deploy", "web", {"spec": {"paused": False}})
        assert len(cluster.list("rs", "default")) == 2
        settle(cluster)
        d = cluster.get("deploy", "web")
        assert condition(d["status"], "Progressing")["reason"] == "NewReplicaSetAvailable"
        assert rollout_done(d)[0]


async def test_rollback_reuses_the_old_replicaset_with_a_new_revision() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=1))
        settle(cluster)
        first = cluster.list("rs", "default")[0]["metadata"]["name"]
        set_image(cluster, "nginx:1.28")
        settle(cluster)
        set_image(cluster, "nginx:1.27")
        settle(cluster)
        rs = cluster.get("rs", first)
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
        assert rs["spec"]["replicas"] == 1
        assert len(cluster.list("rs", "default")) == 2
        d = cluster.get("deploy", "web")
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        assert rollout_done(d)[0]


async def test_revision_history_limit_deletes_old_replicasets() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=1, revisionHistoryLimit=1))
        settle(cluster)
        for image in ("nginx:2", "nginx:3", "nginx:4"):
            set_image(cluster, image)
            settle(cluster)
        revisions = [
            rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            for rs in replicasets(cluster)
        ]
        assert revisions == ["3", "4"]


async def test_progress_deadline_exceeded(mock_clock: trio.testing.MockClock) -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=1, progressDeadlineSeconds=10))
        mock_clock.jump(10)
        await trio.testing.wait_all_tasks_blocked()
        assert condition(cluster.get("deploy", "web")["status"], "Progressing")["reason"] == (
            "ReplicaSetUpdated"
        )
        mock_clock.jump(2)
        await trio.testing.wait_all_tasks_blocked()
        d = cluster.get("deploy", "web")
        progressing = condition(d["status"], "Progressing")
        name = cluster.list("rs", "default")[0]["metadata"]["name"]
        assert (progressing["status"], progressing["reason"], progressing["message"]) == (
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{name}" has timed out progressing.',
        )
        assert rollout_done(d) == (False, 'deployment "web" exceeded its progress deadline')


async def test_deleting_a_deployment_collects_replicasets_and_pods() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=2))
        cluster.create(deployment("keep", replicas=1))
        cluster.delete("deploy", "web")
        assert names(cluster.list("rs", "default")) == [
            cluster.list("rs", "default")[0]["metadata"]["name"]
        ]
        assert all(n.startswith("keep-") for n in names(cluster.list("rs", "default")))
        assert all(n.startswith("keep-") for n in names(pods(cluster, deleting=True)))


async def test_foreground_deletion_waits_for_dependents() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=2))
        cluster.delete("deploy", "web", propagation_policy="Foreground")
        assert cluster.list("deploy", "default") == []
        assert cluster.list("rs", "default") == []
        assert pods(cluster, deleting=True) == []


async def test_deployment_reactions_settle() -> None:
    async with controllers_only() as cluster:
        cluster.create(deployment(replicas=3))
        settle(cluster)
        set_image(cluster, "nginx:1.28")
        settle(cluster)
        settled = writes(cluster)
        workloads = cluster.state.workloads
        assert workloads is not None
        for rs in cluster.list("rs", "default"):
            workloads.enqueue(("ReplicaSet", "default", rs["metadata"]["name"]))
        workloads.enqueue(("Deployment", "default", "web"))
        cluster.state.controllers.drain()
        assert writes(cluster) == settled
        assert workloads.ctx.errors == []


async def test_deployment_created_over_http_is_answered_with_its_replicaset_made() -> None:
    async with controllers_only() as cluster, cluster.http_client(timeout=None) as client:
        r = await client.post(f"{APPS}/deployments", json=deployment(replicas=2))
        assert r.status_code == 201
        r = await client.get(f"{APPS}/replicasets")
        (rs,) = r.json()["items"]
        assert rs["status"]["replicas"] == 2
        r = await client.get("/api/v1/namespaces/default/pods")
        assert len(r.json()["items"]) == 2


async def test_rollout_is_watchable() -> None:
    """A watcher sees the ReplicaSets of a rollout grow and shrink one step at a time."""
    async with controllers_only() as cluster, cluster.http_client(timeout=None) as client:
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        cluster.create(deployment(replicas=2, strategy=strategy))
        settle(cluster)
        async with watch_from_now(client, f"{APPS}/replicasets") as events:
            set_image(cluster, "nginx:1.28")
            settle(cluster)
            old, new = (rs["metadata"]["name"] for rs in replicasets(cluster))
            seen: list[tuple[str, int]] = []
            while (old, 0) not in seen:
                kind, obj = await events.change()
                step = (obj["metadata"]["name"], obj["spec"]["replicas"])
                if kind != "DELETED" and step not in seen:
                    seen.append(step)
        assert seen == [(new, 1), (old, 1), (new, 2), (old, 0)]
