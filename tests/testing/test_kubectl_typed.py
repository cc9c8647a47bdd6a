"""kubectl's typed commands against the fake: the ones that send protobuf request bodies.

``kubectl create namespace|configmap|secret|deployment|serviceaccount|token|...``, ``auth
whoami``, ``auth can-i`` and ``drain``'s evictions go through client-go's generated clientset,
which encodes bodies as ``application/vnd.kubernetes.protobuf`` and does not fall back to JSON
when refused. The module serves ``python -m kr8s_trio fake-cluster`` in a subprocess (kubectl with
a HOME of its own, so its discovery cache belongs to this server); the last test runs the fake in
the test's own process, where authorization rules can be set.

Nothing sleeps: kubectl runs to completion, and every wait has a deadline that fails the test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from kubectl_support import Kubectl, require_kubectl, serve_fake_cluster

from kr8s_trio.testing import open_fake_cluster
from kr8s_trio.testing._auth import Rule

require_kubectl()

pytestmark = pytest.mark.kubectl

#: seconds any single kubectl command may take before the test fails
DEADLINE = 30.0
PROTOBUF = "application/vnd.kubernetes.protobuf"


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    """``python -m kr8s_trio fake-cluster`` in a subprocess, stopped with SIGTERM at the end."""
    home = tmp_path_factory.mktemp("kubectl-typed")
    kubeconfig = home / "kubeconfig"
    with serve_fake_cluster(kubeconfig):
        yield Kubectl(kubeconfig, home, timeout=DEADLINE)


def test_create_namespace_sends_protobuf(kubectl: Kubectl) -> None:
    result = kubectl.run("create", "namespace", "typed", "-v=8")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "namespace/typed created\n"
    # the POST really was protobuf (kubectl -v=8 logs the request headers)
    post = result.stderr[result.stderr.index('verb="POST"') :].splitlines()
    headers = []
    for line in post[1:]:  # the header lines are indented with a tab
        if not line.startswith("\t"):
            break
        headers.append(line.strip())
    assert f"Content-Type: {PROTOBUF}" in headers
    ns = kubectl.json("get", "namespace", "typed")
    assert ns["status"] == {"phase": "Active"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}


def test_create_configmap_from_literals(kubectl: Kubectl) -> None:
    kubectl.ok("create", "namespace", "cm-ns")
    kubectl.ok("create", "configmap", "c", "--from-literal=a=b", "--from-literal=x=", "-n", "cm-ns")
    cm = kubectl.json("get", "configmap", "c", "-n", "cm-ns")
    assert cm["data"] == {"a": "b", "x": ""}
    assert cm["metadata"]["namespace"] == "cm-ns"


def test_create_secrets(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.ok("create", "secret", "generic", "s", "--from-literal=p=q")
    secret = kubectl.json("get", "secret", "s")
    assert secret["data"] == {"p": base64.b64encode(b"q").decode()}
    assert secret["type"] == "Opaque"
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\xff\x10")
    kubectl.ok("create", "secret", "generic", "bin", f"--from-file=blob={binary}")
    assert kubectl.json("get", "secret", "bin")["data"] == {"blob": "AP8Q"}
    kubectl.ok(
        "create",
        "secret",
        "docker-registry",
        "pull",
        "--docker-server=registry.example.com",
        "--docker-username=u",
        "--docker-password=p",
    )
    pull = kubectl.json("get", "secret", "pull")
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(pull["data"][".dockerconfigjson"]))
    assert config["auths"]["registry.example.com"]["username"] == "u"


def test_create_deployment(kubectl: Kubectl) -> None:
    out = kubectl.ok("create", "deployment", "d", "--image=nginx", "--replicas=2", "--port=80")
    assert out == "deployment.apps/d created\n"
    spec = kubectl.json("get", "deployment", "d")["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"] == {"matchLabels": {"app": "d"}}
    assert spec["template"]["metadata"]["labels"] == {"app": "d"}
    (container,) = spec["template"]["spec"]["containers"]
    assert container["name"] == "nginx"
    assert container["image"] == "nginx"
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


def test_autoscale_creates_an_autoscaling_v2_hpa(kubectl: Kubectl) -> None:
    kubectl.ok("create", "deployment", "scaled", "--image=nginx")
    kubectl.ok("autoscale", "deployment", "scaled", "--min=2", "--max=5", "--cpu-percent=60")
    hpa = kubectl.json("get", "horizontalpodautoscalers.v2.autoscaling", "scaled")
    assert hpa["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"},
        "minReplicas": 2,
        "maxReplicas": 5,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 60},
                },
            }
        ],
    }


def test_create_job_and_cronjob(kubectl: Kubectl) -> None:
    kubectl.ok("create", "job", "j", "--image=busybox", "--", "echo", "hi")
    container = kubectl.json("get", "job", "j")["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["echo", "hi"]
    kubectl.ok("create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *", "--", "date")
    spec = kubectl.json("get", "cronjob", "cj")["spec"]
    assert spec["schedule"] == "*/5 * * * *"
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"


def test_create_service_and_ingress(kubectl: Kubectl) -> None:
    kubectl.ok("create", "service", "clusterip", "web", "--tcp=80:8080", "--tcp=443:https")
    spec = kubectl.json("get", "service", "web")["spec"]
    assert [(p["port"], p["targetPort"]) for p in spec["ports"]] == [(80, 8080), (443, "https")]
    assert spec["selector"] == {"app": "web"}
    assert spec["type"] == "ClusterIP"
    kubectl.ok("create", "ingress", "ing", "--rule=foo.com/bar=web:80")
    (rule,) = kubectl.json("get", "ingress", "ing")["spec"]["rules"]
    assert rule["host"] == "foo.com"
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/bar"
    assert path["pathType"] == "Exact"
    assert path["backend"] == {"service": {"name": "web", "port": {"number": 80}}}


def test_create_rbac_and_policy_objects(kubectl: Kubectl) -> None:
    kubectl.ok("create", "role", "reader", "--verb=get,list", "--resource=pods")
    assert kubectl.json("get", "role", "reader")["rules"] == [
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}
    ]
    kubectl.ok("create", "rolebinding", "rb", "--role=reader", "--user=bob")
    binding = kubectl.json("get", "rolebinding", "rb")
    assert binding["subjects"] == [
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"}
    ]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "reader",
    }
    kubectl.ok("create", "clusterrole", "node-reader", "--verb=get", "--resource=nodes")
    kubectl.ok("create", "clusterrolebinding", "crb", "--clusterrole=node-reader", "--group=ops")
    assert kubectl.json("get", "clusterrolebinding", "crb")["subjects"][0]["name"] == "ops"
    kubectl.ok("create", "poddisruptionbudget", "pdb", "--selector=app=x", "--min-available=1")
    assert kubectl.json("get", "pdb", "pdb")["spec"]["minAvailable"] == 1
    kubectl.ok("create", "priorityclass", "high", "--value=1000", "--description=important")
    high = kubectl.json("get", "priorityclass", "high")
    assert (high["value"], high["description"]) == (1000, "important")
    kubectl.ok("create", "quota", "q", "--hard=pods=10,requests.cpu=2")
    assert kubectl.json("get", "quota", "q")["spec"]["hard"] == {"pods": "10", "requests.cpu": "2"}


def test_service_account_token_authenticates(kubectl: Kubectl) -> None:
    kubectl.ok("create", "serviceaccount", "robot")
    assert kubectl.json("get", "serviceaccount", "robot")["metadata"]["name"] == "robot"
    token = kubectl.ok("create", "token", "robot", "--duration=10m").strip()
    assert token
    whoami = json.loads(kubectl.ok("--token", token, "auth", "whoami", "-o", "json"))
    user = whoami["status"]["userInfo"]
    assert user["username"] == "system:serviceaccount:default:robot"
    assert "system:serviceaccounts:default" in user["groups"]


def test_auth_whoami_and_can_i(kubectl: Kubectl) -> None:
    out = kubectl.ok("auth", "whoami")
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert rows["Username"].strip() == "fake-admin"
    assert kubectl.ok("auth", "can-i", "list", "pods") == "yes\n"
    assert kubectl.ok("auth", "can-i", "delete", "deployments.apps", "-n", "kube-system") == "yes\n"


def test_drain_evicts_the_pods_of_a_node(kubectl: Kubectl) -> None:
    kubectl.ok("create", "namespace", "drained")
    docs = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "drain-me"}},
        *(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "drained"},
                "spec": {"nodeName": "drain-me", "containers": [{"name": "c", "image": "nginx"}]},
            }
            for name in ("p1", "p2")
        ),
    ]
    kubectl.apply_ok(*docs, flags=("--validate=false",))
    # the evictions carry DeleteOptions{gracePeriodSeconds: 0}: the pods go at once
    out = kubectl.ok(
        "drain", "drain-me", "--force", "--ignore-daemonsets", "--grace-period=0", "--timeout=20s"
    )
    assert "pod/p1 evicted" in out
    assert "pod/p2 evicted" in out
    assert "node/drain-me drained" in out
    assert kubectl.json("get", "pods", "-n", "drained")["items"] == []
    assert kubectl.json("get", "node", "drain-me")["spec"]["unschedulable"] is True


# -- in the test's process: rules can be set ----------------------------------------------------


async def test_auth_can_i_answers_from_the_rules(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    async with open_fake_cluster(
        kubelet=False, controllers=False, kubeconfig_path=kubeconfig
    ) as cluster:
        token = cluster.add_user("alice")
        cluster.set_rules([Rule(users=("alice",), verbs=("get",), resources=("pods",))])
        kubectl = Kubectl(kubeconfig, tmp_path, timeout=DEADLINE)

        async def can_i(*args: str) -> tuple[int, str]:
            # kubectl runs in a trio task: the cluster is served by this thread
            with trio.fail_after(kubectl.timeout):
                result = await trio.run_process(
                    kubectl.argv("--token", token, "auth", "can-i", *args),
                    env=kubectl.env,
                    capture_stdout=True,
                    capture_stderr=True,
                    check=False,
                )
            return result.returncode, result.stdout.decode()

        assert await can_i("get", "pods") == (0, "yes\n")
        assert await can_i("list", "pods") == (1, "no\n")
        assert await can_i("get", "pods", "-n", "kube-system") == (0, "yes\n")
        assert await can_i("get", "secrets") == (1, "no\n")
        reviews = cluster.requests.filter(resource="selfsubjectaccessreviews")
        assert len(reviews) == 4
        assert {r.content_type for r in reviews} == {PROTOBUF}
        assert {r.status for r in reviews} == {201}
