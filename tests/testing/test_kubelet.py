"""The simulated scheduler and kubelets of a living fake cluster.

Nodes as kubectl shows them; pods scheduled, started and made ready with the status shape,
events and managedFields the real kubelet writes; the configurable delays on trio's clock;
readiness held, failed and released (test hooks, annotations, readiness gates); containers
exiting under each restartPolicy with CrashLoopBackOff; graceful deletion. Time is a MockClock
that only moves when a test jumps it, so every timestamp is exact.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from support import CORE, JSON, create, patch, watch_from_now

from kr8s_trio.testing import FakeCluster, open_fake_cluster

T0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}


def stamp(seconds: float = 0) -> str:
    return (T0 + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def a_pod(name: str, *containers: JSON, **spec: Any) -> JSON:
    """A pod with ``containers`` (default: one "app" running nginx:1.27) and more ``spec``."""
    metadata = spec.pop("metadata", {})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **metadata},
        "spec": {
            "containers": list(containers) or [{"name": "app", "image": "nginx:1.27"}],
            **spec,
        },
    }


def condition(pod: JSON, kind: str) -> JSON:
    return next(c for c in pod["status"]["conditions"] if c["type"] == kind)


def container_status(pod: JSON, name: str = "app") -> JSON:
    statuses = pod["status"].get("initContainerStatuses", []) + pod["status"]["containerStatuses"]
    return next(s for s in statuses if s["name"] == name)


def events_of(cluster: FakeCluster, name: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of the events about object ``name``, oldest first."""
    found = [e for e in cluster.list("events", "default") if e["involvedObject"]["name"] == name]
    return [(e["type"], e["reason"], e["message"]) for e in found]


async def settle() -> None:
    """Let the cluster's timer task run what a clock jump made due."""
    await trio.testing.wait_all_tasks_blocked()


@pytest.fixture
async def cluster(mock_clock: trio.testing.MockClock) -> AsyncIterator[FakeCluster]:
    """A living cluster (kubelet on, workload controllers off) starting at T0. Tests using it
    ask for ``mock_clock`` themselves (pytest-trio only takes the clock from a test's own
    arguments), so time moves only when they jump it."""
    async with open_fake_cluster(controllers=False, start_time=T0, seed=1) as c:
        yield c


@pytest.fixture
async def client(cluster: FakeCluster) -> AsyncIterator[httpx.AsyncClient]:
    async with cluster.http_client(timeout=None) as c:
        yield c


# -- nodes ----------------------------------------------------------------------------------------


async def test_kubelet_registers_nodes_that_look_like_kubelets(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    nodes = cluster.list("nodes")
    assert [n["metadata"]["name"] for n in nodes] == ["node-1", "node-2", "node-3"]
    node = nodes[1]
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "node-2"
    assert node["metadata"]["labels"]["kubernetes.io/os"] == "linux"
    assert node["spec"]["podCIDR"] == "10.244.1.0/24"
    status = node["status"]
    assert status["capacity"]["pods"] == "110"
    assert status["allocatable"] == status["capacity"]
    assert {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]} == {
        "MemoryPressure": ("False", "KubeletHasSufficientMemory"),
        "DiskPressure": ("False", "KubeletHasNoDiskPressure"),
        "PIDPressure": ("False", "KubeletHasSufficientPID"),
        "Ready": ("True", "KubeletReady"),
    }
    assert status["addresses"] == [
        {"type": "InternalIP", "address": "10.0.0.2"},
        {"type": "Hostname", "address": "node-2"},
    ]
    assert status["nodeInfo"]["kubeletVersion"] == "v1.33.1"
    assert status["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    managers = {(m["manager"], m.get("subresource")) for m in node["metadata"]["managedFields"]}
    assert managers == {("kubelet", None), ("kubelet", "status")}
    lease = cluster.get("leases", "node-2", "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == "node-2"


async def test_kubelet_nodes_print_as_kubectl_get_nodes(
    client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    table = (await client.get("/api/v1/nodes", headers=TABLE)).json()
    columns = [c["name"] for c in table["columnDefinitions"]]
    rows = [dict(zip(columns, row["cells"], strict=True)) for row in table["rows"]]
    assert [(r["Name"], r["Status"], r["Roles"], r["Version"]) for r in rows] == [
        (f"node-{i}", "Ready", "<none>", "v1.33.1") for i in (1, 2, 3)
    ]
    assert rows[2]["Internal-IP"] == "10.0.0.3"
    assert rows[0]["OS-Image"] == "Debian GNU/Linux 12 (bookworm)"


async def test_kubelet_node_count_follows_the_config() -> None:
    async with open_fake_cluster(nodes=1, controllers=False) as cluster:
        assert [n["metadata"]["name"] for n in cluster.list("nodes")] == ["node-1"]
    async with open_fake_cluster(kubelet=False, controllers=False) as cluster:
        assert cluster.list("nodes") == []
        with pytest.raises(RuntimeError, match="no simulated kubelet"):
            _ = cluster.kubelet


# -- a pod's life ---------------------------------------------------------------------------------


async def test_kubelet_pod_becomes_running_and_ready_with_the_kubelets_status(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    created = cluster.create(a_pod("web"))
    pod = cluster.get("pods", "web")
    assert pod["spec"]["nodeName"] == "node-1"
    ready = {"lastProbeTime": None, "lastTransitionTime": stamp(), "status": "True"}
    status = pod["status"]
    app = status["containerStatuses"][0]
    assert app.pop("containerID").startswith("containerd://")
    assert app.pop("imageID").startswith("docker.io/library/nginx@sha256:")
    assert status == {
        "phase": "Running",
        "conditions": [
            {"type": "PodReadyToStartContainers", **ready},
            {"type": "Initialized", **ready},
            {"type": "Ready", **ready},
            {"type": "ContainersReady", **ready},
            {"type": "PodScheduled", **ready},
        ],
        "hostIP": "10.0.0.1",
        "hostIPs": [{"ip": "10.0.0.1"}],
        "podIP": "10.244.0.2",
        "podIPs": [{"ip": "10.244.0.2"}],
        "startTime": stamp(),
        "containerStatuses": [
            {
                "name": "app",
                "state": {"running": {"startedAt": stamp()}},
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "image": "docker.io/library/nginx:1.27",
                "started": True,
            }
        ],
        "qosClass": "BestEffort",
    }
    status_managers = [
        m["manager"] for m in pod["metadata"]["managedFields"] if m.get("subresource") == "status"
    ]
    assert status_managers == ["kubelet"]
    assert pod["metadata"]["uid"] == created["metadata"]["uid"]
    seen = events_of(cluster, "web")
    size = seen[2][2].rsplit("Image size: ", 1)[1]
    assert size.endswith(" bytes.")
    assert seen == [
        ("Normal", "Scheduled", "Successfully assigned default/web to node-1"),
        ("Normal", "Pulling", 'Pulling image "nginx:1.27"'),
        (
            "Normal",
            "Pulled",
            'Successfully pulled image "nginx:1.27" in 0s (0s including waiting). '
            f"Image size: {size}",
        ),
        ("Normal", "Created", "Created container: app"),
        ("Normal", "Started", "Started container app"),
    ]
    kubelet_events = [e for e in cluster.list("events", "default") if e["reason"] == "Started"]
    assert kubelet_events[0]["involvedObject"]["fieldPath"] == "spec.containers{app}"
    assert kubelet_events[0]["source"] == {"component": "kubelet", "host": "node-1"}
    assert kubelet_events[0]["count"] == 1
    scheduled = next(e for e in cluster.list("events", "default") if e["reason"] == "Scheduled")
    assert scheduled["reportingComponent"] == "default-scheduler"
    assert scheduled["action"] == "Binding"
    assert scheduled["eventTime"] == "2025-01-01T00:00:00.000000Z"


async def test_kubelet_second_pod_of_an_image_finds_it_present(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    # IfNotPresent pulls once per node: the fourth pod lands on node-1 again
    for name in ("a", "b", "c", "d"):
        cluster.create(a_pod(name))
    assert [cluster.get("pods", n)["spec"]["nodeName"] for n in "abcd"] == [
        "node-1",
        "node-2",
        "node-3",
        "node-1",
    ]
    reasons = [r for _, r, _ in events_of(cluster, "d")]
    assert reasons == ["Scheduled", "Pulled", "Created", "Started"]
    assert ("Normal", "Pulled", 'Container image "nginx:1.27" already present on machine') in (
        events_of(cluster, "d")
    )
    assert [cluster.get("pods", n)["status"]["podIP"] for n in "abcd"] == [
        "10.244.0.2",
        "10.244.1.2",
        "10.244.2.2",
        "10.244.0.3",
    ]


async def test_kubelet_watchers_see_binding_then_status(
    client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    async with watch_from_now(client, f"{CORE}/pods") as events:
        await create(client, f"{CORE}/pods", a_pod("w"))
        kinds = [await events.change() for _ in range(3)]
    assert [t for t, _ in kinds] == ["ADDED", "MODIFIED", "MODIFIED"]
    assert "nodeName" not in kinds[0][1]["spec"]
    assert kinds[1][1]["spec"]["nodeName"] == "node-1"
    assert kinds[1][1]["status"]["phase"] == "Pending"
    assert kinds[2][1]["status"]["phase"] == "Running"


async def test_kubelet_init_containers_run_first_in_order(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    inits = [{"name": "one", "image": "busybox"}, {"name": "two", "image": "busybox"}]
    cluster.create(a_pod("init", initContainers=inits))
    pod = cluster.get("pods", "init")
    assert [s["name"] for s in pod["status"]["initContainerStatuses"]] == ["one", "two"]
    one = container_status(pod, "one")
    assert one["state"]["terminated"]["reason"] == "Completed"
    assert one["state"]["terminated"]["exitCode"] == 0
    assert (one["ready"], one["started"]) == (True, False)
    assert condition(pod, "Initialized")["status"] == "True"
    started = [m for _, r, m in events_of(cluster, "init") if r == "Started"]
    assert started == ["Started container one", "Started container two", "Started container app"]


async def test_kubelet_delays_run_on_trio_time(mock_clock: trio.testing.MockClock) -> None:
    async with open_fake_cluster(
        controllers=False, start_time=T0, pod_start_delay=5, pod_ready_delay=3
    ) as cluster:
        cluster.create(a_pod("slow"))
        pod = cluster.get("pods", "slow")
        assert pod["status"]["phase"] == "Pending"
        assert pod["status"]["startTime"] == stamp()
        assert container_status(pod)["state"] == {"waiting": {"reason": "ContainerCreating"}}
        assert container_status(pod)["image"] == "nginx:1.27"
        assert container_status(pod)["imageID"] == ""
        assert condition(pod, "PodReadyToStartContainers")["status"] == "False"
        assert condition(pod, "Ready") | {"lastTransitionTime": None} == {
            "type": "Ready",
            "status": "False",
            "reason": "ContainersNotReady",
            "message": "containers with unready status: [app]",
            "lastProbeTime": None,
            "lastTransitionTime": None,
        }
        assert "podIP" not in pod["status"]
        mock_clock.jump(4.9)
        await settle()
        assert cluster.get("pods", "slow")["status"]["phase"] == "Pending"
        mock_clock.jump(0.1)
        await settle()
        pod = cluster.get("pods", "slow")
        assert pod["status"]["phase"] == "Running"
        assert container_status(pod)["state"] == {"running": {"startedAt": stamp(5)}}
        assert (container_status(pod)["ready"], condition(pod, "Ready")["status"]) == (
            False,
            "False",
        )
        assert condition(pod, "PodReadyToStartContainers")["lastTransitionTime"] == stamp(5)
        pulled = [m for _, r, m in events_of(cluster, "slow") if r == "Pulled"]
        assert pulled[0].startswith('Successfully pulled image "nginx:1.27" in 5s (5s including')
        mock_clock.jump(3)
        await settle()
        pod = cluster.get("pods", "slow")
        assert condition(pod, "Ready") == {
            "type": "Ready",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": stamp(8),
        }
        assert condition(pod, "PodScheduled")["lastTransitionTime"] == stamp()


# -- scheduling -----------------------------------------------------------------------------------


async def test_kubelet_scheduler_honours_node_name_selector_and_affinity(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("pinned", nodeName="node-3"))
    pinned = cluster.get("pods", "pinned")
    assert pinned["status"]["phase"] == "Running"
    assert "Scheduled" not in [r for _, r, _ in events_of(cluster, "pinned")]
    cluster.create(a_pod("chosen", nodeSelector={"kubernetes.io/hostname": "node-2"}))
    assert cluster.get("pods", "chosen")["spec"]["nodeName"] == "node-2"
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-3"]}]}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }
    cluster.create(a_pod("affine", affinity=affinity))
    assert cluster.get("pods", "affine")["spec"]["nodeName"] == "node-3"
    cluster.create(a_pod("elsewhere", schedulerName="my-scheduler"))
    assert "nodeName" not in cluster.get("pods", "elsewhere")["spec"]


async def test_kubelet_unschedulable_pod_waits_for_a_matching_node(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("picky", nodeSelector={"disk": "ssd"}))
    pod = cluster.get("pods", "picky")
    message = (
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["conditions"] == [
        {
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": stamp(),
            "reason": "Unschedulable",
            "message": message,
        }
    ]
    assert events_of(cluster, "picky") == [("Warning", "FailedScheduling", message)]
    cluster.patch("nodes", "node-3", {"metadata": {"labels": {"disk": "ssd"}}}, namespace=None)
    pod = cluster.get("pods", "picky")
    assert pod["spec"]["nodeName"] == "node-3"
    assert condition(pod, "PodScheduled")["status"] == "True"
    assert pod["status"]["phase"] == "Running"


async def test_kubelet_cordoned_node_gets_no_new_pods(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    for node in ("node-1", "node-2"):
        cluster.patch("nodes", node, {"spec": {"unschedulable": True}}, namespace=None)
    for name in ("a", "b"):
        cluster.create(a_pod(name))
    assert {cluster.get("pods", n)["spec"]["nodeName"] for n in "ab"} == {"node-3"}


# -- readiness ------------------------------------------------------------------------------------


async def test_kubelet_readiness_hold_fail_release(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    kubelet = cluster.kubelet
    cluster.create(a_pod("r"))
    kubelet.fail_readiness("r")
    pod = cluster.get("pods", "r")
    assert pod["status"]["phase"] == "Running"
    assert container_status(pod)["ready"] is False
    assert condition(pod, "ContainersReady")["message"] == "containers with unready status: [app]"
    assert ("Warning", "Unhealthy") in [(t, r) for t, r, _ in events_of(cluster, "r")]
    kubelet.release_readiness("r")
    assert condition(cluster.get("pods", "r"), "Ready")["status"] == "True"
    kubelet.hold_readiness("r", container="app")
    assert condition(cluster.get("pods", "r"), "Ready")["status"] == "False"
    kubelet.release_readiness("r", container="app")
    assert condition(cluster.get("pods", "r"), "Ready")["status"] == "True"


async def test_kubelet_readiness_follows_the_ready_annotation(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    held = a_pod("held", metadata={"annotations": {"kr8s-trio.dev/ready": "false"}})
    await create(client, f"{CORE}/pods", held)
    assert condition(cluster.get("pods", "held"), "Ready")["status"] == "False"
    await patch(
        client, f"{CORE}/pods/held", {"metadata": {"annotations": {"kr8s-trio.dev/ready": None}}}
    )
    assert condition(cluster.get("pods", "held"), "Ready")["status"] == "True"


async def test_kubelet_ready_waits_for_readiness_gates(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("gated", readinessGates=[{"conditionType": "example.com/lb"}]))
    pod = cluster.get("pods", "gated")
    assert condition(pod, "ContainersReady")["status"] == "True"
    assert condition(pod, "Ready") | {"lastTransitionTime": None} == {
        "type": "Ready",
        "status": "False",
        "reason": "ReadinessGatesNotReady",
        "message": 'corresponding condition of pod readiness gate "example.com/lb" does not exist.',
        "lastProbeTime": None,
        "lastTransitionTime": None,
    }
    gate = {"type": "example.com/lb", "status": "True"}
    cluster.patch_status("pods", "gated", {"conditions": [gate]})
    pod = cluster.get("pods", "gated")
    assert [c["type"] for c in pod["status"]["conditions"]] == [
        "example.com/lb",
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert condition(pod, "Ready")["status"] == "True"


# -- exits and restarts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "code", "phase", "restarts", "state"),
    [
        ("Always", 0, "Running", 1, "running"),
        ("Always", 2, "Running", 1, "running"),
        ("OnFailure", 0, "Succeeded", 0, "terminated"),
        ("OnFailure", 2, "Running", 1, "running"),
        ("Never", 0, "Succeeded", 0, "terminated"),
        ("Never", 2, "Failed", 0, "terminated"),
    ],
)
async def test_kubelet_exit_follows_the_restart_policy(
    cluster: FakeCluster,
    policy: str,
    code: int,
    phase: str,
    restarts: int,
    state: str,
    mock_clock: trio.testing.MockClock,
) -> None:
    cluster.create(a_pod("x", restartPolicy=policy))
    cluster.kubelet.exit_container("x", code)
    pod = cluster.get("pods", "x")
    status = container_status(pod)
    assert (pod["status"]["phase"], status["restartCount"], *status["state"]) == (
        phase,
        restarts,
        state,
    )
    ended = status["lastState"]["terminated"] if restarts else status["state"]["terminated"]
    assert ended["exitCode"] == code
    assert ended["reason"] == ("Completed" if code == 0 else "Error")
    assert ended["finishedAt"] == stamp()
    if phase in ("Succeeded", "Failed"):
        reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        assert condition(pod, "Ready")["reason"] == reason
        assert condition(pod, "PodReadyToStartContainers")["status"] == "False"


async def test_kubelet_crash_loop_backs_off_on_trio_time(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("crash"))
    cluster.kubelet.exit_container("crash", 1)  # first crash: restarted at once
    cluster.kubelet.exit_container("crash", 1)  # second: back-off 10 s
    pod = cluster.get("pods", "crash")
    status = container_status(pod)
    uid = pod["metadata"]["uid"]
    assert status["state"] == {
        "waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 10s restarting failed container=app pod=crash_default({uid})",
        }
    }
    assert (status["restartCount"], status["ready"], status["started"]) == (1, False, False)
    assert pod["status"]["phase"] == "Running"
    assert events_of(cluster, "crash")[-1] == (
        "Warning",
        "BackOff",
        f"Back-off restarting failed container app in pod crash_default({uid})",
    )
    table = (await client.get(f"{CORE}/pods", headers=TABLE)).json()
    assert table["rows"][0]["cells"][1:4] == ["0/1", "CrashLoopBackOff", "1 (0s ago)"]
    mock_clock.jump(10)
    await settle()
    status = container_status(cluster.get("pods", "crash"))
    assert status["restartCount"] == 2
    assert status["state"] == {"running": {"startedAt": stamp(10)}}
    cluster.kubelet.exit_container("crash", 1)
    message = container_status(cluster.get("pods", "crash"))["state"]["waiting"]["message"]
    assert message.startswith("back-off 20s ")


async def test_kubelet_exit_code_annotation_finishes_a_pod_after_run_seconds(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    annotations = {"kr8s-trio.dev/exit-code": "0", "kr8s-trio.dev/run-seconds": "5"}
    cluster.create(a_pod("job", restartPolicy="Never", metadata={"annotations": annotations}))
    assert cluster.get("pods", "job")["status"]["phase"] == "Running"
    mock_clock.jump(5)
    await settle()
    pod = cluster.get("pods", "job")
    assert pod["status"]["phase"] == "Succeeded"
    assert container_status(pod)["state"]["terminated"]["finishedAt"] == stamp(5)
    assert condition(pod, "Initialized")["reason"] == "PodCompleted"


async def test_kubelet_exit_code_annotation_on_a_running_pod_crash_loops(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("doomed"))
    await patch(
        client,
        f"{CORE}/pods/doomed",
        {"metadata": {"annotations": {"kr8s-trio.dev/exit-code": "3"}}},
    )
    status = container_status(cluster.get("pods", "doomed"))
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 3
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"


async def test_kubelet_hooks_refuse_what_cannot_happen(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    with pytest.raises(LookupError, match="no simulated kubelet runs pod default/ghost"):
        cluster.kubelet.exit_container("ghost")
    cluster.create(a_pod("once", restartPolicy="Never"))
    with pytest.raises(LookupError, match="no container 'nope'"):
        cluster.kubelet.exit_container("once", container="nope")
    cluster.kubelet.exit_container("once", container="app")
    with pytest.raises(RuntimeError, match="is not running"):
        cluster.kubelet.exit_container("once", container="app")
    with pytest.raises(RuntimeError, match="is not running"):
        cluster.kubelet.write_log("once", "late")


# -- deletion -------------------------------------------------------------------------------------


async def test_kubelet_graceful_deletion_stops_containers_then_deletes(
    client: httpx.AsyncClient, cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("bye"))
    async with watch_from_now(client, f"{CORE}/pods") as events:
        r = await client.delete(f"{CORE}/pods/bye")
        assert r.status_code == 200
        assert r.json()["metadata"]["deletionGracePeriodSeconds"] == 30
        seen = [await events.change() for _ in range(3)]
    assert [t for t, _ in seen] == ["MODIFIED", "MODIFIED", "DELETED"]
    final = seen[1][1]["status"]
    assert final["phase"] == "Succeeded"
    assert final["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert events_of(cluster, "bye")[-1] == ("Normal", "Killing", "Stopping container app")
    assert cluster.list("pods") == []
    with pytest.raises(LookupError):
        cluster.kubelet.pod("bye")


async def test_kubelet_graceful_deletion_waits_the_grace_period(
    client: httpx.AsyncClient, cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    cluster.kubelet.stop_seconds = None  # the containers ignore SIGTERM
    cluster.create(a_pod("slow", terminationGracePeriodSeconds=20))
    table = await client.delete(f"{CORE}/pods/slow")
    assert table.status_code == 200
    rows = (await client.get(f"{CORE}/pods", headers=TABLE)).json()["rows"]
    assert rows[0]["cells"][1:3] == ["1/1", "Terminating"]
    mock_clock.jump(19)
    await settle()
    assert cluster.get("pods", "slow")["status"]["phase"] == "Running"
    mock_clock.jump(1)
    await settle()
    assert cluster.list("pods") == []


async def test_kubelet_stop_seconds_annotation_and_shorter_grace(
    client: httpx.AsyncClient, cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    annotations = {"kr8s-trio.dev/stop-seconds": "8"}
    cluster.create(a_pod("a", metadata={"annotations": annotations}))
    cluster.create(a_pod("b", metadata={"annotations": {"kr8s-trio.dev/stop-seconds": "60"}}))
    async with watch_from_now(client, f"{CORE}/pods") as events:
        await client.delete(f"{CORE}/pods/a")
        await client.delete(f"{CORE}/pods/b")
        assert [t for t, _ in [await events.change() for _ in range(2)]] == ["MODIFIED"] * 2
        mock_clock.jump(8)
        await settle()
        kind, obj = await events.change()
        assert (kind, obj["metadata"]["name"], obj["status"]["phase"]) == (
            "MODIFIED",
            "a",
            "Succeeded",
        )
        assert (await events.change())[0] == "DELETED"
        # deleted again with a shorter grace period: killed (137) when that one ends
        await client.delete(f"{CORE}/pods/b", params={"gracePeriodSeconds": "5"})
        assert (await events.change())[0] == "MODIFIED"
        mock_clock.jump(5)
        await settle()
        kind, obj = await events.change()
        terminated = obj["status"]["containerStatuses"][0]["state"]["terminated"]
        assert (obj["status"]["phase"], terminated["exitCode"], terminated["reason"]) == (
            "Failed",
            137,
            "Error",
        )
        assert (await events.change())[0] == "DELETED"


async def test_kubelet_deletion_waits_for_finalizers_then_completes(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("kept", metadata={"finalizers": ["example.com/hold"]}))
    cluster.delete("pods", "kept")
    pod = cluster.get("pods", "kept")
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 0
    assert pod["status"]["phase"] == "Succeeded"
    cluster.patch("pods", "kept", {"metadata": {"finalizers": None}})
    assert cluster.list("pods") == []


async def test_kubelet_leaves_pods_of_other_nodes_to_the_grace_timer(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    # no kubelet runs "node-9": part 1's stand-in removes the pod when its grace period ends
    cluster.create(a_pod("orphan", nodeName="node-9", terminationGracePeriodSeconds=5))
    assert cluster.get("pods", "orphan")["status"]["phase"] == "Pending"
    cluster.delete("pods", "orphan")
    mock_clock.jump(5)
    await settle()
    assert cluster.list("pods") == []


# -- kubectl's columns ----------------------------------------------------------------------------


async def test_kubelet_pods_print_ready_status_restarts(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    two = [{"name": "a", "image": "nginx"}, {"name": "b", "image": "redis"}]
    cluster.create(a_pod("both", *two))
    cluster.create(a_pod("half", *two))
    cluster.kubelet.hold_readiness("half", container="b")
    cluster.create(a_pod("done", restartPolicy="Never"))
    cluster.kubelet.exit_container("done", 0)
    cluster.create(a_pod("failed", restartPolicy="Never"))
    cluster.kubelet.exit_container("failed", 7)
    cluster.create(a_pod("restarted"))
    cluster.kubelet.exit_container("restarted", 1)
    rows = (await client.get(f"{CORE}/pods", headers=TABLE)).json()["rows"]
    assert {r["cells"][0]: r["cells"][1:4] for r in rows} == {
        "both": ["2/2", "Running", "0"],
        "done": ["0/1", "Completed", "0"],
        "failed": ["0/1", "Error", "0"],
        "half": ["1/2", "Running", "0"],
        "restarted": ["1/1", "Running", "1 (0s ago)"],
    }


async def test_kubelet_namespace_deletion_takes_running_pods_along(
    client: httpx.AsyncClient, cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    # events cannot be created in a terminating namespace: the kubelet drops them, as the real
    # event broadcaster does, and the pods still go
    await create(client, "/api/v1/namespaces", {"metadata": {"name": "doomed"}})
    for name in ("a", "b"):
        await create(client, "/api/v1/namespaces/doomed/pods", a_pod(name))
    r = await client.delete("/api/v1/namespaces/doomed")
    assert r.status_code == 200
    assert cluster.list("pods", "doomed") == []
    assert (await client.get("/api/v1/namespaces/doomed")).status_code == 404


async def test_kubelet_restarts_a_container_whose_image_changed(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    old_id = container_status(cluster.get("pods", "web"))["containerID"]
    ops = [{"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:1.28"}]
    cluster.patch("pods", "web", ops, type="json")
    status = container_status(cluster.get("pods", "web"))
    assert (status["image"], status["restartCount"], status["ready"]) == (
        "docker.io/library/nginx:1.28",
        1,
        True,
    )
    assert status["lastState"]["terminated"]["containerID"] == old_id
    assert status["containerID"] != old_id
    assert ("Normal", "Killing", "Container app definition changed, will be restarted") in (
        events_of(cluster, "web")
    )
    # the same event again is aggregated, as client-go's correlator does
    started = [e for e in cluster.list("events", "default") if e["reason"] == "Started"]
    assert [(e["message"], e["count"]) for e in started] == [("Started container app", 2)]


async def test_kubelet_sidecar_init_containers_keep_running(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    sidecar = {"name": "proxy", "image": "envoy", "restartPolicy": "Always"}
    cluster.create(a_pod("meshed", initContainers=[sidecar]))
    pod = cluster.get("pods", "meshed")
    proxy = container_status(pod, "proxy")
    assert (proxy["ready"], proxy["started"], *proxy["state"]) == (True, True, "running")
    assert condition(pod, "Ready")["status"] == "True"
    rows = (await client.get(f"{CORE}/pods", headers=TABLE)).json()["rows"]
    assert rows[0]["cells"][1:3] == ["2/2", "Running"]


async def test_kubelet_pod_deleted_before_it_started_goes_at_once(
    mock_clock: trio.testing.MockClock,
) -> None:
    async with open_fake_cluster(controllers=False, pod_start_delay=60) as cluster:
        cluster.create(a_pod("early"))
        cluster.kubelet.stop_seconds = None  # nothing runs, so nothing to wait for
        cluster.delete("pods", "early")
        assert cluster.list("pods") == []
        assert [r for _, r, _ in events_of(cluster, "early")] == ["Scheduled"]
