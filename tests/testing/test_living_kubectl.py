"""kubectl's everyday commands against a living fake cluster: kubelets and controllers on.

Nothing here plays a pod by hand: the scheduler places what kubectl creates, the simulated
kubelets run it (status, logs, exec) and the workload controllers turn Deployments into
ReplicaSets and pods. One cluster (`run_fake_cluster_in_thread`, its defaults) serves the module;
kubectl gets a HOME of its own, so its discovery cache belongs to this server, and each test works
in a namespace of its own. The test steers containers through the kubelet's hooks
(``fake.call(lambda c: c.kubelet...)``) or the ``kr8s-trio.dev/*`` pod annotations.

Nothing sleeps: kubectl itself waits (``wait``, ``rollout status``, ``logs -f``), background
processes are read line by line, and every wait has a deadline that fails the test instead of
hanging it. Skipped when kubectl is absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubectl_support import JSONObject, Kubectl, require_kubectl, table

from kr8s_trio.testing import FakeClusterThread, run_fake_cluster_in_thread

pytestmark = pytest.mark.kubectl

#: seconds one kubectl command may run before the test fails
COMMAND_DEADLINE = 60.0


def pod(
    name: str,
    *containers: str,
    annotations: dict[str, str] | None = None,
    restart_policy: str | None = None,
) -> JSONObject:
    """A bare pod; its containers run busybox."""
    metadata: JSONObject = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    spec: JSONObject = {"containers": [{"name": c, "image": "busybox"} for c in containers]}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def deployment(
    name: str, replicas: int, *, pod_annotations: dict[str, str] | None = None
) -> JSONObject:
    """A Deployment of nginx pods labelled ``app=<name>``, container ``web`` on port 80."""
    template_metadata: JSONObject = {"labels": {"app": name}}
    if pod_annotations:
        template_metadata["annotations"] = pod_annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": template_metadata,
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }


def startup_log(container: str, image: str, *ports: int) -> list[str]:
    """The lines the simulated kubelet's container writes when it starts."""
    return [
        f'starting container "{container}" (image {image})',
        *(f"listening on port {port}/TCP" for port in ports),
        f'container "{container}" is running',
    ]


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeClusterThread]:
    """A living cluster: simulated kubelets and workload controllers on (the defaults)."""
    require_kubectl()
    with run_fake_cluster_in_thread() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def kubectl_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kubectl's HOME for the module: a discovery cache of this cluster's own."""
    return tmp_path_factory.mktemp("kubectl-home")


@pytest.fixture
def ns(fake: FakeClusterThread, request: pytest.FixtureRequest) -> str:
    """A namespace for this test alone."""
    name = request.node.name.removeprefix("test_").replace("_", "-")[:50].rstrip("-")
    fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


@pytest.fixture
def kubectl(fake: FakeClusterThread, kubectl_home: Path, ns: str) -> Iterator[Kubectl]:
    """kubectl in the test's namespace; background processes it started are stopped after it."""
    runner = Kubectl(fake.kubeconfig_path, kubectl_home, namespace=ns, timeout=COMMAND_DEADLINE)
    try:
        yield runner
    finally:
        runner.close()


# -- apply and rollout status --------------------------------------------------------------------


def test_apply_validated_deployment_and_pod_then_rollout_status(kubectl: Kubectl) -> None:
    manifests = (deployment("web", 2), pod("solo", "main"))
    done = kubectl.apply(*manifests)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "deployment.apps/web created\npod/solo created\n",
        "",
    )
    done = kubectl.run("rollout", "status", "deployment/web", "--timeout=30s")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == 'deployment "web" successfully rolled out'
    out = kubectl.ok("wait", "--for=condition=Ready", "pod/solo", "--timeout=30s")
    assert out == "pod/solo condition met\n"
    # the kubelet and the controllers wrote status meanwhile: the manifests themselves are as
    # applied, so applying them again changes nothing
    done = kubectl.apply(*manifests)
    assert (done.returncode, done.stdout) == (
        0,
        "deployment.apps/web unchanged\npod/solo unchanged\n",
    )


def test_rollout_status_waits_until_the_pods_are_ready(kubectl: Kubectl) -> None:
    held = deployment("slow", 2, pod_annotations={"kr8s-trio.dev/ready": "false"})
    assert kubectl.apply(held).returncode == 0
    rollout = kubectl.background("rollout", "status", "deployment/slow", "--timeout=30s")
    rollout.stdout.expect(
        r'^Waiting for deployment "slow" rollout to finish: 0 of 2 updated replicas are available'
    )
    header, *rows = table(kubectl.ok("get", "deploy", "slow"))
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert [row[:4] for row in rows] == [["slow", "0/2", "2", "0"]]
    first, second = kubectl.ok("get", "pods", "-l", "app=slow", "-o", "name").split()
    kubectl.ok("annotate", first, "kr8s-trio.dev/ready-")
    rollout.stdout.expect(r"1 of 2 updated replicas are available")
    kubectl.ok("annotate", second, "kr8s-trio.dev/ready-")
    rollout.stdout.expect(r'^deployment "slow" successfully rolled out$')
    assert rollout.wait() == 0


# -- get -----------------------------------------------------------------------------------------


def test_get_pods_and_deployments_show_running_ready_pods(kubectl: Kubectl) -> None:
    assert kubectl.apply(deployment("web", 2), pod("solo", "main")).returncode == 0
    kubectl.ok("wait", "--for=condition=Ready", "pod/solo", "--timeout=30s")
    kubectl.ok("wait", "--for=condition=Ready", "pod", "-l", "app=web", "--timeout=30s")

    header, *rows = table(kubectl.ok("get", "pods"))
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(rows) == 3
    for row in rows:
        assert re.fullmatch(r"solo|web-[0-9a-f]+-[0-9a-z]{5}", row[0]), row
        assert row[1:4] == ["1/1", "Running", "0"], row
        assert re.fullmatch(r"\d+s", row[4]), row

    header, *rows = table(kubectl.ok("get", "pods", "-o", "wide"))
    assert header == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ]
    placed = kubectl.ok(
        "get",
        "pods",
        "-o",
        r'jsonpath={range .items[*]}{.metadata.name} {.status.podIP} {.spec.nodeName}{"\n"}{end}',
    )
    assert {row[0]: row[5:] for row in rows} == {
        name: [ip, node, "<none>", "<none>"]
        for name, ip, node in (line.split() for line in placed.splitlines())
    }
    for row in rows:
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", row[5]), row
        assert re.fullmatch(r"node-\d+", row[6]), row

    header, *rows = table(kubectl.ok("get", "deploy"))
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert [row[:4] for row in rows] == [["web", "2/2", "2", "2"]]


def test_get_pods_counts_restarts_of_a_container_that_exited(
    kubectl: Kubectl, fake: FakeClusterThread, ns: str
) -> None:
    assert kubectl.apply(pod("crash", "main")).returncode == 0
    kubectl.ok("wait", "--for=condition=Ready", "pod/crash", "--timeout=30s")
    fake.call(lambda c: c.kubelet.exit_container("crash", 2, namespace=ns))
    # restartPolicy Always: the kubelet starts the container again
    [row] = table(kubectl.ok("get", "pod", "crash"))[1:]
    assert row[:3] == ["crash", "1/1", "Running"]
    assert re.fullmatch(r"1 \(\d+s ago\)", row[3]), row
    last = "jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}"
    assert kubectl.ok("get", "pod", "crash", "-o", last) == "2"

    # the annotation from another process: every instance exits 1 at once, a crash loop
    crashing = pod("loop", "main", annotations={"kr8s-trio.dev/exit-code": "1"})
    assert kubectl.apply(crashing).returncode == 0
    reason = "{.status.containerStatuses[0].state.waiting.reason}"
    kubectl.ok("wait", f"--for=jsonpath={reason}=CrashLoopBackOff", "pod/loop", "--timeout=30s")
    [row] = table(kubectl.ok("get", "pod", "loop"))[1:]
    assert row[:3] == ["loop", "0/1", "CrashLoopBackOff"]
    restarts = re.fullmatch(r"(\d+) \(\d+s ago\)", row[3])
    assert restarts is not None, row
    assert int(restarts[1]) >= 1


# -- explain -------------------------------------------------------------------------------------


def test_explain_pods_spec_lists_the_fields_of_podspec(kubectl: Kubectl) -> None:
    out = kubectl.ok("explain", "pods.spec")
    assert re.search(r"^KIND:\s+Pod$", out, re.M)
    assert re.search(r"^VERSION:\s+v1$", out, re.M)
    assert re.search(r"^FIELD: spec <PodSpec>$", out, re.M)
    assert re.search(r"^FIELDS:$", out, re.M)
    assert re.search(r"^  containers\t<\[\]Container> -required-$", out, re.M)
    assert re.search(r"^  restartPolicy\t<string>$", out, re.M)


# -- logs ----------------------------------------------------------------------------------------


def test_logs_prints_the_container_log(kubectl: Kubectl, fake: FakeClusterThread, ns: str) -> None:
    talk = deployment("talk", 1)["spec"]["template"]
    talk = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "talk"}, "spec": talk["spec"]}
    assert kubectl.apply(talk, pod("duo", "main", "side")).returncode == 0
    kubectl.ok("wait", "--for=condition=Ready", "pod/talk", "pod/duo", "--timeout=30s")
    fake.call(lambda c: c.kubelet.write_log("talk", "hello\nworld", namespace=ns))

    startup = startup_log("web", "nginx:1.27", 80)
    assert kubectl.ok("logs", "talk").splitlines() == [*startup, "hello", "world"]
    assert kubectl.ok("logs", "talk", "--tail=1") == "world\n"
    assert kubectl.ok("logs", "talk", "-c", "web", "--tail=2") == "hello\nworld\n"

    fake.call(lambda c: c.kubelet.write_log("duo", "from side", namespace=ns, container="side"))
    done = kubectl.run("logs", "duo", "-c", "side")
    assert (done.returncode, done.stdout.splitlines(), done.stderr) == (
        0,
        [*startup_log("side", "busybox"), "from side"],
        "",
    )
    # without -c, kubectl picks the first container and says so (as against a real cluster)
    done = kubectl.run("logs", "duo")
    assert (done.returncode, done.stdout.splitlines(), done.stderr) == (
        0,
        startup_log("main", "busybox"),
        'Defaulted container "main" out of: main, side\n',
    )


def test_logs_follow_prints_new_lines_and_exits_when_the_container_stops(
    kubectl: Kubectl, fake: FakeClusterThread, ns: str
) -> None:
    assert kubectl.apply(pod("tail", "main", restart_policy="Never")).returncode == 0
    kubectl.ok("wait", "--for=condition=Ready", "pod/tail", "--timeout=30s")
    follow = kubectl.background("logs", "-f", "tail")
    # the log so far comes through the follow stream: once it is printed, the stream is open
    follow.stdout.expect(r'^container "main" is running$')
    fake.call(lambda c: c.kubelet.write_log("tail", "first\nsecond", namespace=ns))
    follow.stdout.expect(r"^second$")
    fake.call(lambda c: c.kubelet.write_log("tail", "third", namespace=ns))
    follow.stdout.expect(r"^third$")
    fake.call(lambda c: c.kubelet.exit_container("tail", 0, namespace=ns))
    assert follow.wait() == 0
    assert follow.stdout.rest() == [*startup_log("main", "busybox"), "first", "second", "third"]
    assert follow.stderr.rest() == []
    [row] = table(kubectl.ok("get", "pod", "tail"))[1:]
    assert row[:4] == ["tail", "0/1", "Completed", "0"]


# -- exec ----------------------------------------------------------------------------------------


def test_exec_runs_commands_in_a_pod_the_kubelet_started(kubectl: Kubectl) -> None:
    assert kubectl.apply(pod("shell", "main")).returncode == 0
    kubectl.ok("wait", "--for=condition=Ready", "pod/shell", "--timeout=30s")
    done = kubectl.run("exec", "shell", "--", "echo", "hi")
    assert (done.returncode, done.stdout, done.stderr) == (0, "hi\n", "")
    done = kubectl.run("exec", "-i", "shell", "--", "cat", input="piped\nstdin\n")
    assert (done.returncode, done.stdout, done.stderr) == (0, "piped\nstdin\n", "")
    done = kubectl.run("exec", "shell", "--", "sh", "-c", "exit 3")
    assert (done.returncode, done.stdout, done.stderr) == (
        3,
        "",
        "command terminated with exit code 3\n",
    )


def test_port_forward_to_a_deployment_reaches_its_pod(kubectl: Kubectl, ns: str) -> None:
    """kubectl port-forward (SPDY in a WebSocket) to a pod the controllers made and the kubelet
    runs: its declared port answers with the fake's HTTP responder."""
    kubectl.apply_ok(deployment("fwd", 1))
    kubectl.ok("rollout", "status", "deployment/fwd", "--timeout=30s")
    (name,) = kubectl.ok("get", "pods", "-l", "app=fwd", "-o", "name").split()
    proc = kubectl.background("port-forward", "deployment/fwd", ":80")
    try:
        local = int(proc.stdout.expect(r"^Forwarding from 127\.0\.0\.1:(\d+) -> 80$")[1])
        with httpx.Client(base_url=f"http://127.0.0.1:{local}", timeout=COMMAND_DEADLINE) as http:
            response = http.get("/ping")
        assert response.status_code == 200
        pod_name = name.removeprefix("pod/")
        assert response.text == f"fake pod {ns}/{pod_name} port 80: GET /ping\n"
        assert proc.running
    finally:
        proc.close()


# -- create and auth -----------------------------------------------------------------------------


def test_create_commands_and_auth(kubectl: Kubectl) -> None:
    assert (
        kubectl.ok("create", "namespace", "made-by-kubectl")
        == "namespace/made-by-kubectl created\n"
    )
    team = ("--namespace", "made-by-kubectl")
    out = kubectl.ok("create", "configmap", "settings", "--from-literal=a=b", *team)
    assert out == "configmap/settings created\n"
    assert kubectl.ok("get", "configmap", "settings", "-o", "jsonpath={.data}", *team) == (
        '{"a":"b"}'
    )
    out = kubectl.ok("create", "deployment", "web", "--image=nginx", "--replicas=2", *team)
    assert out == "deployment.apps/web created\n"
    out = kubectl.ok("rollout", "status", "deployment/web", "--timeout=30s", *team)
    assert out.splitlines()[-1] == 'deployment "web" successfully rolled out'
    [row] = table(kubectl.ok("get", "deploy", "web", *team))[1:]
    assert row[:4] == ["web", "2/2", "2", "2"]

    whoami = table(kubectl.ok("auth", "whoami"))
    assert whoami[:2] == [["ATTRIBUTE", "VALUE"], ["Username", "fake-admin"]]
    assert kubectl.ok("auth", "can-i", "create", "pods") == "yes\n"


# -- scale, delete -------------------------------------------------------------------------------


def test_scale_then_delete_a_deployment(kubectl: Kubectl, ns: str) -> None:
    kubectl.ok("create", "deployment", "web", "--image=nginx", "--replicas=2")
    kubectl.ok("rollout", "status", "deployment/web", "--timeout=30s")
    assert kubectl.ok("scale", "deployment/web", "--replicas=3") == "deployment.apps/web scaled\n"
    out = kubectl.ok(
        "wait", "--for=jsonpath={.status.readyReplicas}=3", "deployment/web", "--timeout=30s"
    )
    assert out == "deployment.apps/web condition met\n"
    rows = table(kubectl.ok("get", "pods", "-l", "app=web"))[1:]
    assert [row[1:4] for row in rows] == [["1/1", "Running", "0"]] * 3

    # the containers take a second to stop, so the pods outlive their Deployment for a while
    kubectl.ok("annotate", "pods", "-l", "app=web", "kr8s-trio.dev/stop-seconds=1")
    assert kubectl.ok("delete", "deployment", "web") == 'deployment.apps "web" deleted\n'
    kubectl.ok("wait", "--for=delete", "pod", "-l", "app=web", "--timeout=30s")
    done = kubectl.run("get", "pods", "-l", "app=web")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "",
        f"No resources found in {ns} namespace.\n",
    )


# -- set image, rollout undo ---------------------------------------------------------------------


def test_set_image_rolls_out_and_undo_rolls_back(kubectl: Kubectl) -> None:
    kubectl.ok("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2")
    kubectl.ok("rollout", "status", "deployment/web", "--timeout=30s")
    out = kubectl.ok("set", "image", "deployment/web", "nginx=nginx:1.28")
    assert out == "deployment.apps/web image updated\n"
    out = kubectl.ok("rollout", "status", "deployment/web", "--timeout=30s")
    assert out.splitlines()[-1] == 'deployment "web" successfully rolled out'
    history = table(kubectl.ok("rollout", "history", "deployment/web"))
    assert history[1:] == [["REVISION", "CHANGE-CAUSE"], ["1", "<none>"], ["2", "<none>"]]
    assert kubectl.ok("rollout", "undo", "deployment/web") == "deployment.apps/web rolled back\n"
    kubectl.ok("rollout", "status", "deployment/web", "--timeout=30s")
    image = "jsonpath={.spec.template.spec.containers[0].image}"
    assert kubectl.ok("get", "deployment", "web", "-o", image) == "nginx:1.27"
    rows = table(kubectl.ok("get", "rs", "-l", "app=web"))
    assert rows[0] == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert sorted(row[1:4] for row in rows[1:]) == [["0", "0", "0"], ["2", "2", "2"]]
