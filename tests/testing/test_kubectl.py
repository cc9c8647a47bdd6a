"""The real kubectl against ``python -m kr8s_trio fake-cluster``: the commands people type.

One fake-cluster process serves the whole module (once per server version below); kubectl runs
with a HOME of its own, so its discovery cache belongs to that server, and each test works in a
namespace of its own. Nothing
sleeps: background kubectl processes are read line by line (with ``-v=6`` kubectl logs every
response, so "its watch is open" is a line on stderr), and every wait has a deadline that fails
the test instead of hanging it.

kubectl here may be Google Cloud SDK's "dispatcher", which asks ``/version`` first and then runs
the kubectl release matching the server's minor version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_support import (
    JSONObject,
    Kubectl as _Kubectl,
    require_kubectl,
    serve_fake_cluster,
    table,
)

from kr8s_trio.testing import ClusterConfig

require_kubectl()

pytestmark = pytest.mark.kubectl

#: seconds any single kubectl command may take before the test fails
DEADLINE = 20.0
#: kubectl -v=6 logs the response to its watch request once the headers arrive
WATCH_OPEN = r"watch=true.*200 OK"


class Kubectl(_Kubectl):
    """kubectl against the module's fake-cluster process, which serves ``server_version``;
    ``apply`` skips client-side validation unless given flags."""

    def __init__(self, kubeconfig: Path, home: Path, server_version: str) -> None:
        super().__init__(kubeconfig, home, timeout=DEADLINE, apply_flags=("--validate=false",))
        self.server_version = server_version


def pod(
    name: str,
    namespace: str,
    *,
    labels: dict[str, str] | None = None,
    finalizers: list[str] | None = None,
    containers: tuple[str, ...] = ("c",),
    **spec: Any,
) -> JSONObject:
    metadata: JSONObject = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    if finalizers:
        metadata["finalizers"] = finalizers
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": c, "image": f"img-{c}:1"} for c in containers], **spec},
    }


#: the server versions to run the module against: the fake's default, and the kubectl release the
#: contract was observed with (a dispatcher kubectl runs the matching release for each)
SERVER_VERSIONS = sorted({ClusterConfig().version, "v1.32.4"}, reverse=True)


@pytest.fixture(scope="module", params=SERVER_VERSIONS)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Kubectl]:
    """``python -m kr8s_trio fake-cluster`` in a subprocess, stopped with SIGTERM at the end."""
    version: str = request.param
    home = tmp_path_factory.mktemp("kubectl-home")
    kubeconfig = home / "kubeconfig"
    # these are the API machinery's kubectl tests: no simulated kubelet or controllers
    with serve_fake_cluster(kubeconfig, "--version", version, "--no-kubelet", "--no-controllers"):
        yield Kubectl(kubeconfig, home, version)


@pytest.fixture
def kubectl(cluster: Kubectl) -> Iterator[Kubectl]:
    """The module's kubectl; background processes a test started are stopped after it."""
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def ns(kubectl: Kubectl, request: pytest.FixtureRequest) -> str:
    """A namespace for this test alone."""
    name = "t-" + request.node.originalname.removeprefix("test_kubectl_").replace("_", "-")[:50]
    name = name.rstrip("-")
    assert kubectl.apply_ok({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


# -- discovery -----------------------------------------------------------------------------------


def test_kubectl_version_reports_the_fake_server(kubectl: Kubectl) -> None:
    info = json.loads(kubectl.ok("version", "-o", "json"))
    assert info["serverVersion"]["gitVersion"] == kubectl.server_version
    assert info["serverVersion"]["platform"] == "linux/amd64"
    assert info["clientVersion"]["gitVersion"].startswith("v1.")


def test_kubectl_api_resources_lists_served_kinds(kubectl: Kubectl) -> None:
    rows = {row[0]: row for row in table(kubectl.ok("api-resources", "-o", "wide"))}
    assert rows["NAME"][:5] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert rows["pods"][1:5] == ["po", "v1", "true", "Pod"]
    assert set(rows["pods"][5].split(",")) >= {"create", "delete", "get", "list", "watch"}
    assert rows["pods"][6] == "all"
    assert rows["deployments"][1:5] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["namespaces"][1:5] == ["ns", "v1", "false", "Namespace"]
    cluster_scoped = kubectl.ok("api-resources", "--namespaced=false", "-o", "name").split()
    assert "namespaces" in cluster_scoped
    assert "nodes" in cluster_scoped
    assert "pods" not in cluster_scoped
    apps = kubectl.ok("api-resources", "--api-group=apps", "-o", "name").split()
    assert "deployments.apps" in apps
    assert "pods" not in apps


# -- get -------------------------------------------------------------------------------------------


def test_kubectl_get_pods_all_namespaces(kubectl: Kubectl, ns: str) -> None:
    other = f"{ns}-b"
    kubectl.apply_ok(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}},
        pod("idle", ns),
        pod("busy", other),
    )
    status = {
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "c",
                    "ready": True,
                    "restartCount": 2,
                    "image": "img-c:1",
                    "imageID": "",
                    "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}},
                }
            ],
        }
    }
    kubectl.ok(
        "patch",
        "pod",
        "busy",
        "-n",
        other,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(status),
    )
    rows = table(kubectl.ok("get", "pods", "-A"))
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    mine = {row[0]: row[1:5] for row in rows[1:] if row[0] in (ns, other)}
    assert mine == {ns: ["idle", "0/1", "Pending", "0"], other: ["busy", "1/1", "Running", "2"]}


def test_kubectl_get_pods_wide_shows_ip_and_node(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply_ok(pod("placed", ns, nodeName="node-7"))
    kubectl.ok(
        "patch",
        "pod",
        "placed",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"podIP":"10.1.2.3","podIPs":[{"ip":"10.1.2.3"}]}}',
    )
    header, *rows = table(kubectl.ok("get", "pods", "-n", ns, "-o", "wide"))
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
    [row] = rows
    assert row[0] == "placed"
    assert row[5:] == ["10.1.2.3", "node-7", "<none>", "<none>"]


def test_kubectl_get_pods_watch_sees_added_then_modified(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply_ok(pod("anchor", ns, labels={"suite": "watch"}))
    watcher = kubectl.background(
        "get", "pods", "-n", ns, "-l", "suite=watch", "-w", "--output-watch-events"
    )
    # the initial listing is printed as ADDED; the watch then resumes from the list's
    # resourceVersion, so nothing done from here on can be missed
    watcher.stdout.expect(r"^ADDED\s+anchor\s")
    kubectl.apply_ok(pod("other", ns))
    kubectl.apply_ok(pod("fresh", ns, labels={"suite": "watch"}))
    watcher.stdout.expect(r"^ADDED\s+fresh\s+0/1\s+Pending\s")
    kubectl.ok("label", "pod", "fresh", "-n", ns, "touched=yes")
    watcher.stdout.expect(r"^MODIFIED\s+fresh\s")
    assert watcher.stdout.seen[0].split() == [
        "EVENT",
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
    ]
    assert not [line for line in watcher.stdout.seen if "other" in line]
    assert watcher.running


def test_kubectl_get_deployments(kubectl: Kubectl, ns: str) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
            },
        },
    }
    assert kubectl.apply_ok(deployment).strip() == "deployment.apps/web created"
    header, row = table(kubectl.ok("get", "deploy", "-n", ns))
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert row[0] == "web"
    assert re.fullmatch(r"\d/2", row[1])
    header, row = table(kubectl.ok("get", "deployments.apps", "-n", ns, "-o", "wide"))
    assert header[5:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert row[5:] == ["c", "nginx:1.27", "app=web"]


# -- apply -----------------------------------------------------------------------------------------


def test_kubectl_apply_client_side_creates_then_configures(kubectl: Kubectl, ns: str) -> None:
    manifest = pod("csa", ns, labels={"app": "web"})
    assert kubectl.apply_ok(manifest).strip() == "pod/csa created"
    assert kubectl.apply_ok(manifest).strip() == "pod/csa unchanged"
    manifest["metadata"]["labels"] = {"tier": "front"}  # app is dropped, tier added
    assert kubectl.apply_ok(manifest).strip() == "pod/csa configured"
    obj = kubectl.json("get", "pod", "csa", "-n", ns, "--show-managed-fields")
    assert obj["metadata"]["labels"] == {"tier": "front"}
    last = json.loads(
        obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    )
    assert last["metadata"]["labels"] == {"tier": "front"}
    managers = {m["manager"]: m["operation"] for m in obj["metadata"]["managedFields"]}
    assert managers == {"kubectl-client-side-apply": "Update"}


def test_kubectl_apply_with_validation_uses_openapi(kubectl: Kubectl, ns: str) -> None:
    """Default ``--validate=strict`` first downloads /openapi/v3; without it kubectl aborts."""
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "validated", "namespace": ns},
        "data": {"k": "v"},
    }
    assert kubectl.apply_ok(config_map, flags=()).strip() == "configmap/validated created"
    assert kubectl.json("get", "configmap", "validated", "-n", ns)["data"] == {"k": "v"}


def test_kubectl_apply_server_side_owns_fields_and_reports_conflicts(
    kubectl: Kubectl, ns: str
) -> None:
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ssa", "namespace": ns, "labels": {"owner": "apply"}},
        "data": {"k": "v1"},
    }
    flags = ("--server-side",)
    assert kubectl.apply_ok(config_map, flags=flags).strip() == "configmap/ssa serverside-applied"
    config_map["data"] = {"k": "v2"}
    assert kubectl.apply_ok(config_map, flags=flags).strip() == "configmap/ssa serverside-applied"
    obj = kubectl.json("get", "configmap", "ssa", "-n", ns, "--show-managed-fields")
    assert obj["data"] == {"k": "v2"}
    [entry] = obj["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("kubectl", "Apply")
    assert "f:k" in entry["fieldsV1"]["f:data"]
    # another manager takes the label; applying our value again conflicts until forced
    kubectl.ok("label", "configmap", "ssa", "-n", ns, "owner=label", "--overwrite")
    conflict = kubectl.run("apply", "--server-side", "-f", "-", input=yaml.safe_dump(config_map))
    assert conflict.returncode == 1
    assert 'conflict with "kubectl-label"' in conflict.stderr
    assert ".metadata.labels.owner" in conflict.stderr
    kubectl.apply_ok(config_map, flags=(*flags, "--force-conflicts"))
    obj = kubectl.json("get", "configmap", "ssa", "-n", ns)
    assert obj["metadata"]["labels"] == {"owner": "apply"}


# -- label and patch ------------------------------------------------------------------------------


def test_kubectl_label_adds_overwrites_and_removes(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply_ok(pod("lab", ns))
    assert kubectl.ok("label", "pod", "lab", "-n", ns, "a=1").strip() == "pod/lab labeled"
    refused = kubectl.run("label", "pod", "lab", "-n", ns, "a=2")
    assert refused.returncode == 1
    assert "--overwrite is false" in refused.stderr
    kubectl.ok("label", "pod", "lab", "-n", ns, "a=2", "b=3", "--overwrite")
    assert kubectl.json("get", "pod", "lab", "-n", ns)["metadata"]["labels"] == {"a": "2", "b": "3"}
    assert kubectl.ok("label", "pod", "lab", "-n", ns, "a-").strip() == "pod/lab unlabeled"
    obj = kubectl.json("get", "pod", "lab", "-n", ns, "--show-managed-fields")
    assert obj["metadata"]["labels"] == {"b": "3"}
    assert "kubectl-label" in {m["manager"] for m in obj["metadata"]["managedFields"]}
    # the label selector sees the result
    assert kubectl.ok("get", "pods", "-n", ns, "-l", "b=3", "-o", "name").split() == ["pod/lab"]
    assert kubectl.ok("get", "pods", "-n", ns, "-l", "a", "-o", "name").split() == []


def test_kubectl_patch_strategic_merges_containers_by_name(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply_ok(pod("sm", ns, containers=("app", "sidecar")))
    patch = {
        "metadata": {"annotations": {"note": "patched"}},
        "spec": {"containers": [{"name": "sidecar", "image": "img-sidecar:2"}]},
    }
    out = kubectl.ok("patch", "pod", "sm", "-n", ns, "-p", json.dumps(patch))
    assert out.strip() == "pod/sm patched"
    obj = kubectl.json("get", "pod", "sm", "-n", ns, "--show-managed-fields")
    # a merge patch would have replaced the list; the strategic one merges on the "name" key
    assert [(c["name"], c["image"]) for c in obj["spec"]["containers"]] == [
        ("app", "img-app:1"),
        ("sidecar", "img-sidecar:2"),
    ]
    assert obj["metadata"]["annotations"]["note"] == "patched"
    assert "kubectl-patch" in {m["manager"] for m in obj["metadata"]["managedFields"]}
    again = kubectl.ok("patch", "pod", "sm", "-n", ns, "-p", json.dumps(patch))
    assert again.strip() == "pod/sm patched (no change)"


def test_kubectl_patch_json_applies_operations_in_order(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply_ok(pod("jp", ns, labels={"keep": "1"}))
    ops = [
        {"op": "add", "path": "/metadata/labels/new", "value": "x"},
        {"op": "copy", "from": "/metadata/labels/new", "path": "/metadata/labels/copied"},
        {"op": "remove", "path": "/metadata/labels/keep"},
        {"op": "replace", "path": "/spec/containers/0/image", "value": "img-c:9"},
    ]
    out = kubectl.ok("patch", "pod", "jp", "-n", ns, "--type=json", "-p", json.dumps(ops))
    assert out.strip() == "pod/jp patched"
    obj = kubectl.json("get", "pod", "jp", "-n", ns)
    assert obj["metadata"]["labels"] == {"new": "x", "copied": "x"}
    assert obj["spec"]["containers"][0]["image"] == "img-c:9"
    failing = [
        {"op": "add", "path": "/metadata/labels/never", "value": "x"},
        {"op": "test", "path": "/metadata/labels/new", "value": "y"},
    ]
    refused = kubectl.run("patch", "pod", "jp", "-n", ns, "--type=json", "-p", json.dumps(failing))
    assert refused.returncode == 1
    # kube-apiserver answers a failed JSON patch with a bare 422 (the patch error is not echoed)
    assert "the server rejected our request due to an error in our request" in refused.stderr
    after = kubectl.json("get", "pod", "jp", "-n", ns)
    assert after["metadata"]["labels"] == {"new": "x", "copied": "x"}
    assert after["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


# -- delete and wait ------------------------------------------------------------------------------


def _remove_finalizers(kubectl: Kubectl, name: str, ns: str) -> None:
    ops = '[{"op":"remove","path":"/metadata/finalizers"}]'
    kubectl.ok("patch", "pod", name, "-n", ns, "--type=json", "-p", ops)


def test_kubectl_delete_returns_once_gone_and_watch_sees_deleted(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply_ok(pod("victim", ns, finalizers=["example.com/hold"]))
    watcher = kubectl.background("get", "pod", "victim", "-n", ns, "-w", "--output-watch-events")
    watcher.stdout.expect(r"^ADDED\s+victim\s")
    deleter = kubectl.background("delete", "pod", "victim", "-n", ns, "--timeout=20s", "-v=6")
    # the finalizer holds the pod: kubectl waits on a list+watch with a name field selector
    deleter.stderr.expect(r"fieldSelector=metadata\.name%3Dvictim.*" + WATCH_OPEN)
    watcher.stdout.expect(r"^MODIFIED\s+victim\s+\S+\s+Terminating\s")
    assert deleter.running
    _remove_finalizers(kubectl, "victim", ns)
    assert deleter.wait() == 0
    assert 'pod "victim" deleted' in deleter.stdout.rest()
    watcher.stdout.expect(r"^DELETED\s+victim\s")
    gone = kubectl.run("get", "pod", "victim", "-n", ns)
    assert gone.returncode == 1
    assert "NotFound" in gone.stderr
    # without a finalizer the pod goes at once and delete returns straight away
    kubectl.apply_ok(pod("quick", ns))
    assert kubectl.ok("delete", "pod", "quick", "-n", ns).strip() == 'pod "quick" deleted'
    assert kubectl.ok("get", "pods", "-n", ns, "-o", "name").split() == []


def test_kubectl_wait_for_condition_ready_after_status_patch(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply_ok(pod("slow", ns))
    waiter = kubectl.background(
        "wait", "--for=condition=Ready", "pod/slow", "-n", ns, "--timeout=20s", "-v=6"
    )
    waiter.stderr.expect(WATCH_OPEN)
    assert waiter.running
    status = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    kubectl.ok(
        "patch",
        "pod",
        "slow",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(status),
    )
    assert waiter.wait() == 0
    assert "pod/slow condition met" in waiter.stdout.rest()
    obj = kubectl.json("get", "pod", "slow", "-n", ns)
    assert {"type": "Ready", "status": "True"}.items() <= obj["status"]["conditions"][0].items()


def test_kubectl_wait_for_delete_returns_when_finalizer_removed(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply_ok(pod("doomed", ns, finalizers=["example.com/hold"]))
    out = kubectl.ok("delete", "pod", "doomed", "-n", ns, "--wait=false")
    assert out.strip() == 'pod "doomed" deleted'
    assert kubectl.json("get", "pod", "doomed", "-n", ns)["metadata"]["deletionTimestamp"]
    waiter = kubectl.background(
        "wait", "--for=delete", "pod/doomed", "-n", ns, "--timeout=20s", "-v=6"
    )
    waiter.stderr.expect(WATCH_OPEN)
    assert waiter.running
    _remove_finalizers(kubectl, "doomed", ns)
    assert waiter.wait() == 0
    assert "pod/doomed condition met" in waiter.stdout.rest()


def test_kubectl_delete_namespace_removes_its_objects(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply_ok(
        pod("tenant", ns),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns}},
    )
    out = kubectl.ok("delete", "namespace", ns, "--timeout=20s")
    assert out.strip() == f'namespace "{ns}" deleted'
    gone = kubectl.run("get", "namespace", ns)
    assert gone.returncode == 1
    assert "NotFound" in gone.stderr
    rows = table(kubectl.ok("get", "pods,configmaps", "-A"))
    assert not [row for row in rows if row[0] == ns]


# -- explain --------------------------------------------------------------------------------------


def test_kubectl_explain_walks_openapi_v3(kubectl: Kubectl) -> None:
    out = kubectl.ok("explain", "pods.spec")
    assert re.search(r"^KIND:\s+Pod$", out, re.M)
    assert re.search(r"^VERSION:\s+v1$", out, re.M)
    assert re.search(r"^FIELD: spec <PodSpec>$", out, re.M)
    assert re.search(r"^  containers\t<\[\]Container> -required-$", out, re.M)
    assert re.search(r"^  nodeName\t<string>$", out, re.M)
    out = kubectl.ok("explain", "deployments.spec.replicas")
    assert re.search(r"^GROUP:\s+apps$", out, re.M)
    assert re.search(r"^FIELD: replicas <integer>$", out, re.M)
    missing = kubectl.run("explain", "pods.spec.nosuchfield")
    assert missing.returncode == 1
    assert "nosuchfield" in missing.stderr
