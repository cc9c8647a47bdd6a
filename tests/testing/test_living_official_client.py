"""A living fake cluster, driven by the official ``kubernetes`` Python client unchanged.

The cluster is served from a background thread with its simulated kubelets and workload
controllers on (the defaults): pods are scheduled, started and made ready, Deployments scale,
Jobs run their pods to completion and containers log. The client sees only what a real cluster
would show it; where a real container would act on its own (write a line, crash), the test plays
the node side through ``cluster.kubelet`` in the cluster's loop (``fake.call``).

One cluster is shared by the module; each test works in its own namespace. Nothing sleeps: a
test waits with the client's watch helper (``timeout_seconds`` caps every watch server-side) or
on a followed log, and every blocking read carries a socket timeout, so a bug fails a test
instead of hanging it. Time is the real clock: ``sinceSeconds`` is tested on a log whose first
lines the test dates back. The client's ``read_namespaced_pod_log`` has no ``since_time``
parameter (kubernetes 37), so ``sinceTime`` is left to ``test_logs.py``.
"""

from __future__ import annotations

import datetime
import ipaddress
import itertools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import attrs
import pytest
from kubernetes import client, config, watch
from kubernetes.client import ApiClient, ApiException
from kubernetes.watch.watch import iter_resp_lines
from support import JSON, failure

from kr8s_trio.testing import FakeCluster, FakeClusterThread, run_fake_cluster_in_thread

#: the longest a watch may wait for a condition (server-side ``timeoutSeconds``)
WAIT = 10
#: the socket timeout of every request, so that a stream that never ends fails the test
SOCKET = 30
#: what the simulated container "app" (image nginx:1.27) logs when it starts
STARTUP = ['starting container "app" (image nginx:1.27)', 'container "app" is running']
STAMPED = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z (.*)$")

_names = itertools.count(1)


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeClusterThread]:
    """A living cluster: simulated kubelets and workload controllers on (the defaults)."""
    with run_fake_cluster_in_thread() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def api(fake: FakeClusterThread) -> Iterator[ApiClient]:
    """The official client, configured from the cluster's kubeconfig (never the global one)."""
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=str(fake.kubeconfig_path), client_configuration=configuration
    )
    with ApiClient(configuration) as api_client:
        yield api_client


@pytest.fixture
def core(api: ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def batch(api: ApiClient) -> client.BatchV1Api:
    return client.BatchV1Api(api)


@pytest.fixture
def ns(core: client.CoreV1Api) -> str:
    """A fresh namespace for one test."""
    name = f"living-{next(_names)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def pod(
    name: str,
    *containers: str,
    annotations: dict[str, str] | None = None,
    ports: tuple[int, ...] = (),
) -> client.V1Pod:
    """A pod whose containers (default: "app") run nginx:1.27."""
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": name}, annotations=annotations),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name=c,
                    image="nginx:1.27",
                    ports=[client.V1ContainerPort(container_port=p) for p in ports] or None,
                )
                for c in containers or ("app",)
            ]
        ),
    )


def conditions(obj: Any) -> dict[str, str]:
    """The status of each condition of ``obj`` by type."""
    return {c.type: c.status for c in obj.status.conditions or []}


def is_ready(p: client.V1Pod) -> bool:
    return conditions(p).get("Ready") == "True"


def wait_for(list_fn: Callable[..., Any], ns: str, name: str, done: Callable[[Any], bool]) -> Any:
    """The object ``name`` of ``ns`` as the first watch event for which ``done`` holds.

    The watch starts without a resourceVersion, so its first event is the object's current
    state; it fails the test when the object goes or when ``WAIT`` seconds pass first.
    """
    w = watch.Watch()
    last = None
    events = w.stream(
        list_fn,
        ns,
        field_selector=f"metadata.name={name}",
        timeout_seconds=WAIT,
        _request_timeout=SOCKET,
    )
    with closing(events):
        for event in events:
            assert event["type"] != "DELETED", f"{name} was deleted while the test waited"
            last = event["object"]
            if done(last):
                return last
    pytest.fail(f"{name} never got there in {WAIT} s; it ended as {last}")


def wait_for_pods(
    core: client.CoreV1Api, ns: str, selector: str, done: Callable[[list[client.V1Pod]], bool]
) -> list[client.V1Pod]:
    """The pods of ``ns`` that ``selector`` matches, as soon as ``done`` holds for them (an
    informer: the list, then the watch from its resourceVersion)."""
    listed = core.list_namespaced_pod(ns, label_selector=selector)
    pods = {p.metadata.name: p for p in listed.items}
    if done(list(pods.values())):
        return list(pods.values())
    w = watch.Watch()
    events = w.stream(
        core.list_namespaced_pod,
        ns,
        label_selector=selector,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=WAIT,
        _request_timeout=SOCKET,
    )
    with closing(events):
        for event in events:
            p = event["object"]
            if event["type"] == "DELETED":
                pods.pop(p.metadata.name, None)
            else:
                pods[p.metadata.name] = p
            if done(list(pods.values())):
                return list(pods.values())
    pytest.fail(f"the pods {selector} never got there in {WAIT} s: {sorted(pods)}")


def body_of(exc: pytest.ExceptionInfo[ApiException]) -> JSON:
    body = json.loads(exc.value.body)
    assert isinstance(body, dict)
    return body


def log_lines(core: client.CoreV1Api, name: str, ns: str, **params: Any) -> list[str]:
    text = core.read_namespaced_pod_log(name, ns, _request_timeout=SOCKET, **params)
    assert isinstance(text, str)
    return text.splitlines()


# -- pods -------------------------------------------------------------------------------------


def test_a_created_pod_is_scheduled_started_and_becomes_ready(
    core: client.CoreV1Api, ns: str
) -> None:
    created = core.create_namespaced_pod(ns, pod("web", ports=(80,)))
    ready = wait_for(core.list_namespaced_pod, ns, "web", is_ready)
    assert ready.metadata.uid == created.metadata.uid
    status = ready.status
    assert status.phase == "Running"
    assert {
        "PodScheduled": "True",
        "Initialized": "True",
        "ContainersReady": "True",
        "Ready": "True",
    }.items() <= conditions(ready).items()
    assert ready.spec.node_name in {"node-1", "node-2", "node-3"}
    assert ipaddress.ip_address(status.host_ip) != ipaddress.ip_address(status.pod_ip)
    assert [ip.ip for ip in status.pod_ips] == [status.pod_ip]
    assert [ip.ip for ip in status.host_ips] == [status.host_ip]
    assert isinstance(status.start_time, datetime.datetime)
    (cs,) = status.container_statuses
    assert (cs.name, cs.image, cs.ready, cs.started, cs.restart_count) == (
        "app",
        "docker.io/library/nginx:1.27",  # as containerd resolves it
        True,
        True,
        0,
    )
    assert cs.container_id.startswith("containerd://")
    assert cs.image_id.startswith("docker.io/library/nginx@sha256:")
    assert cs.state.running.started_at >= status.start_time
    assert (cs.state.waiting, cs.state.terminated) == (None, None)
    # what the scheduler and the kubelet recorded on the way
    events = core.list_namespaced_event(
        ns, field_selector=f"involvedObject.name=web,involvedObject.uid={created.metadata.uid}"
    ).items
    assert [e.reason for e in events] == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    assert events[0].message == f"Successfully assigned {ns}/web to {ready.spec.node_name}"


def test_a_running_pod_is_addressed_from_its_node(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_pod(ns, pod("web"))
    running = wait_for(core.list_namespaced_pod, ns, "web", is_ready)
    # the typed Node model: every field the API always serializes must be there
    node = core.read_node(running.spec.node_name)
    internal = [a.address for a in node.status.addresses if a.type == "InternalIP"]
    assert running.status.host_ip == internal[0]
    assert ipaddress.ip_address(running.status.pod_ip) in ipaddress.ip_network(node.spec.pod_cidr)
    assert node.status.node_info.kubelet_version == "v1.33.1"


def test_readiness_held_by_an_annotation_then_released_with_a_patch(
    core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, pod("gate", annotations={"kr8s-trio.dev/ready": "false"}))
    held = wait_for(core.list_namespaced_pod, ns, "gate", lambda p: p.status.phase == "Running")
    assert {"ContainersReady": "False", "Ready": "False"}.items() <= conditions(held).items()
    (cs,) = held.status.container_statuses
    assert (cs.started, cs.ready, cs.state.running is not None) == (True, False, True)
    # the annotation goes: the probe passes, and the watch sees the pod become ready
    core.patch_namespaced_pod(
        "gate", ns, {"metadata": {"annotations": {"kr8s-trio.dev/ready": None}}}
    )
    ready = wait_for(core.list_namespaced_pod, ns, "gate", is_ready)
    assert ready.status.container_statuses[0].ready is True
    assert ready.status.container_statuses[0].restart_count == 0


# -- workloads --------------------------------------------------------------------------------


def deployment(name: str, replicas: int) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": name}),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="main", image="nginx:1.27")]
                ),
            ),
        ),
    )


def rolled_out(replicas: int) -> Callable[[client.V1Deployment], bool]:
    """Whether a Deployment's status reports ``replicas`` ready, updated and available pods
    for its current spec (observedGeneration: not a status left from before a change)."""

    def check(d: client.V1Deployment) -> bool:
        s = d.status
        return bool(
            s is not None
            and s.observed_generation == d.metadata.generation
            and (s.replicas, s.ready_replicas, s.updated_replicas, s.available_replicas)
            == (replicas, replicas, replicas, replicas)
        )

    return check


def live(pods: list[client.V1Pod]) -> list[client.V1Pod]:
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def test_deployment_scales_from_one_to_five_and_back_to_one(
    core: client.CoreV1Api, apps: client.AppsV1Api, ns: str
) -> None:
    apps.create_namespaced_deployment(ns, deployment("web", 1))
    first = wait_for(apps.list_namespaced_deployment, ns, "web", rolled_out(1))
    assert first.status.unavailable_replicas in (None, 0)

    scale = apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 5}})
    assert scale.spec.replicas == 5
    five = wait_for(apps.list_namespaced_deployment, ns, "web", rolled_out(5))
    assert five.spec.replicas == 5
    pods = core.list_namespaced_pod(ns, label_selector="app=web").items
    assert len(live(pods)) == 5
    assert all(p.status.phase == "Running" and is_ready(p) and p.spec.node_name for p in pods)
    assert len({p.status.pod_ip for p in pods}) == 5

    apps.replace_namespaced_deployment_scale(
        "web",
        ns,
        client.V1Scale(
            metadata=client.V1ObjectMeta(name="web", namespace=ns),
            spec=client.V1ScaleSpec(replicas=1),
        ),
    )
    one = wait_for(apps.list_namespaced_deployment, ns, "web", rolled_out(1))
    assert one.status.unavailable_replicas in (None, 0)
    assert {"Available": "True", "Progressing": "True"}.items() <= conditions(one).items()
    # the four pods scaled away go for good: one pod of the deployment is left
    (left,) = wait_for_pods(core, ns, "app=web", lambda ps: len(ps) == 1 and len(live(ps)) == 1)
    assert is_ready(left)
    scale = apps.read_namespaced_deployment_scale("web", ns)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (
        1,
        1,
        "app=web",
    )


def job(name: str, *, exit_code: str, **spec: Any) -> client.V1Job:
    return client.V1Job(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1JobSpec(
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(annotations={"kr8s-trio.dev/exit-code": exit_code}),
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="work", image="busybox")],
                ),
            ),
            **spec,
        ),
    )


def test_job_with_two_completions_completes(
    core: client.CoreV1Api, batch: client.BatchV1Api, ns: str
) -> None:
    batch.create_namespaced_job(ns, job("pi", exit_code="0", completions=2))
    done = wait_for(
        batch.list_namespaced_job, ns, "pi", lambda j: conditions(j).get("Complete") == "True"
    )
    status = done.status
    assert status.succeeded == 2
    assert (status.failed or 0, status.active or 0) == (0, 0)
    assert status.start_time <= status.completion_time
    assert {"SuccessCriteriaMet": "True", "Complete": "True"}.items() <= conditions(done).items()
    complete = next(c for c in status.conditions if c.type == "Complete")
    assert complete.reason == "CompletionsReached"
    pods = core.list_namespaced_pod(ns, label_selector="batch.kubernetes.io/job-name=pi").items
    assert len(pods) == 2
    for p in pods:
        assert p.status.phase == "Succeeded"
        terminated = p.status.container_statuses[0].state.terminated
        assert (terminated.exit_code, terminated.reason) == (0, "Completed")


def test_job_whose_pod_fails_fails_past_its_backoff_limit(
    batch: client.BatchV1Api, ns: str
) -> None:
    batch.create_namespaced_job(ns, job("doomed", exit_code="2", backoff_limit=0))
    failed = wait_for(
        batch.list_namespaced_job, ns, "doomed", lambda j: conditions(j).get("Failed") == "True"
    )
    assert (failed.status.failed, failed.status.succeeded or 0) == (1, 0)
    reason = next(c.reason for c in failed.status.conditions if c.type == "Failed")
    assert reason == "BackoffLimitExceeded"
    assert "Complete" not in conditions(failed)


# -- logs -------------------------------------------------------------------------------------


def test_logs_container_is_required_and_must_exist_when_a_pod_has_several(
    core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, pod("multi", "a", "b"))
    wait_for(core.list_namespaced_pod, ns, "multi", is_ready)
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log("multi", ns, _request_timeout=SOCKET)
    assert exc.value.status == 400
    assert body_of(exc) == failure(
        400, "BadRequest", "a container name must be specified for pod multi, choose one of: [a b]"
    )
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log("multi", ns, container="c", _request_timeout=SOCKET)
    assert exc.value.status == 400
    assert body_of(exc) == failure(400, "BadRequest", "container c is not valid for pod multi")
    assert log_lines(core, "multi", ns, container="b") == [
        'starting container "b" (image nginx:1.27)',
        'container "b" is running',
    ]
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log("nothere", ns, _request_timeout=SOCKET)
    assert body_of(exc) == failure(
        404, "NotFound", 'pods "nothere" not found', {"name": "nothere", "kind": "pods"}
    )


def test_logs_tail_lines_limit_bytes_and_stream(
    fake: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, pod("web"))
    wait_for(core.list_namespaced_pod, ns, "web", is_ready)
    assert log_lines(core, "web", ns) == STARTUP
    fake.call(lambda c: c.kubelet.write_log("web", "late", namespace=ns))
    fake.call(lambda c: c.kubelet.write_log("web", "oops", namespace=ns, stream="stderr"))
    assert log_lines(core, "web", ns, container="app") == [*STARTUP, "late", "oops"]
    read = core.read_namespaced_pod_log
    assert read("web", ns, tail_lines=2) == "late\noops\n"
    assert read("web", ns, tail_lines=0) == ""
    assert read("web", ns, limit_bytes=10) == "starting c"
    assert read("web", ns, limit_bytes=6, tail_lines=2) == "late\no"
    assert read("web", ns, stream="Stderr") == "oops\n"
    assert log_lines(core, "web", ns, stream="Stdout") == [*STARTUP, "late"]
    with pytest.raises(ApiException) as exc:
        read("web", ns, tail_lines=-1)
    assert body_of(exc) == failure(
        422,
        "Invalid",
        'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or '
        "equal to 0",
        {
            "name": "web",
            "kind": "PodLogOptions",
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "message": "Invalid value: -1: must be greater than or equal to 0",
                    "field": "tailLines",
                }
            ],
        },
    )


def test_logs_timestamps_are_rfc3339_with_nanoseconds_from_the_container_start(
    fake: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, pod("web"))
    running = wait_for(core.list_namespaced_pod, ns, "web", is_ready)
    started = running.status.container_statuses[0].state.running.started_at
    fake.call(lambda c: c.kubelet.write_log("web", "later", namespace=ns))
    stamped = log_lines(core, "web", ns, timestamps=True)
    matches = [STAMPED.match(line) for line in stamped]
    assert all(matches), stamped
    assert [m[3] for m in matches if m] == [*STARTUP, "later"]
    times = [datetime.datetime.fromisoformat(f"{m[1]}.{m[2][:6]}+00:00") for m in matches if m]
    # the startup lines were written as the container started (startedAt has whole seconds)
    assert times[0].replace(microsecond=0) == started
    assert times == sorted(times)
    assert times[-1] - times[0] < datetime.timedelta(seconds=WAIT)
    assert log_lines(core, "web", ns, timestamps=True, tail_lines=1) == stamped[-1:]


def test_logs_since_seconds_leaves_out_older_lines(
    fake: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, pod("web"))
    wait_for(core.list_namespaced_pod, ns, "web", is_ready)

    def started_ten_minutes_ago(cluster: FakeCluster) -> None:
        # the clock is real and nothing sleeps: the startup lines are dated back instead
        buffer = cluster.kubelet.pod("web", namespace=ns).containers["app"].log
        ago = datetime.timedelta(minutes=10)
        buffer.lines[:] = [attrs.evolve(line, time=line.time - ago) for line in buffer.lines]
        cluster.kubelet.write_log("web", "just now", namespace=ns)

    fake.call(started_ten_minutes_ago)
    assert log_lines(core, "web", ns, since_seconds=60) == ["just now"]
    assert log_lines(core, "web", ns, since_seconds=3600) == [*STARTUP, "just now"]
    assert log_lines(core, "web", ns, since_seconds=60, timestamps=True)[0].endswith(" just now")


def test_logs_previous_is_the_instance_before_a_restart(
    fake: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, pod("web"))  # restartPolicy Always (the default)
    wait_for(core.list_namespaced_pod, ns, "web", is_ready)
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log("web", ns, previous=True, _request_timeout=SOCKET)
    assert body_of(exc) == failure(
        400, "BadRequest", 'previous terminated container "app" in pod "web" not found'
    )
    fake.call(lambda c: c.kubelet.write_log("web", "before the crash", namespace=ns))
    fake.call(lambda c: c.kubelet.exit_container("web", 1, namespace=ns))
    restarted = wait_for(
        core.list_namespaced_pod,
        ns,
        "web",
        lambda p: p.status.container_statuses[0].restart_count == 1 and is_ready(p),
    )
    cs = restarted.status.container_statuses[0]
    assert (cs.last_state.terminated.exit_code, cs.last_state.terminated.reason) == (1, "Error")
    assert cs.state.running is not None
    assert log_lines(core, "web", ns, previous=True) == [*STARTUP, "before the crash"]
    assert log_lines(core, "web", ns, previous=True, tail_lines=1) == ["before the crash"]
    assert log_lines(core, "web", ns) == STARTUP  # the new instance's log
    fake.call(lambda c: c.kubelet.write_log("web", "second life", namespace=ns))
    assert log_lines(core, "web", ns, previous=False) == [*STARTUP, "second life"]


# -- following --------------------------------------------------------------------------------


def test_logs_follow_streams_appended_lines_and_ends_when_the_container_exits(
    fake: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, pod("web"))
    wait_for(core.list_namespaced_pod, ns, "web", is_ready)
    resp = core.read_namespaced_pod_log(
        "web", ns, follow=True, _preload_content=False, _request_timeout=SOCKET
    )
    try:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/plain"
        lines = iter_resp_lines(resp)
        assert [next(lines), next(lines)] == STARTUP
        fake.call(lambda c: c.kubelet.write_log("web", "tick", namespace=ns))
        assert next(lines) == "tick"
        fake.call(lambda c: c.kubelet.write_log("web", "tock\ntack", namespace=ns))
        assert [next(lines), next(lines)] == ["tock", "tack"]
        fake.call(lambda c: c.kubelet.exit_container("web", 0, namespace=ns))
        assert list(lines) == []  # this instance's log closed: the stream ends
    finally:
        resp.close()
        resp.release_conn()
    restarted = core.read_namespaced_pod("web", ns).status.container_statuses[0]
    assert (restarted.restart_count, restarted.last_state.terminated.exit_code) == (1, 0)


def test_logs_followed_with_the_watch_helper_end_when_the_pod_is_deleted(
    fake: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, pod("web", "app", "side"))
    wait_for(core.list_namespaced_pod, ns, "web", is_ready)
    # Watch.stream follows a log when given read_namespaced_pod_log (it sets follow=True)
    lines = watch.Watch().stream(
        core.read_namespaced_pod_log, "web", ns, container="app", _request_timeout=SOCKET
    )
    with closing(lines):
        assert [next(lines), next(lines)] == STARTUP
        fake.call(lambda c: c.kubelet.write_log("web", "bye", namespace=ns, container="app"))
        assert next(lines) == "bye"
        core.delete_namespaced_pod("web", ns)
        assert list(lines) == []
