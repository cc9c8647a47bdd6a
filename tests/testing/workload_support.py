"""Helpers of the workload controller tests: object bodies, and a test playing the kubelet.

The controller tests run the fake with its simulated kubelet off (``kubelet=False``), so the
controllers are judged alone: the test itself binds pods to nodes and writes their status
(Running and Ready, or finished with an exit code) through the status subresource, as the
kubelet would, and creates Node objects when it needs them. Expected values are spelled out in
the tests, never computed with the code under test.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from kr8s_trio.testing import FakeCluster, open_fake_cluster
from kr8s_trio.testing._store import copy_json

JSON = dict[str, Any]

#: the characters of generated name suffixes and template hashes
SAFE = "bcdfghjklmnpqrstvwxz2456789"
HASH = re.compile(f"^[{SAFE}]{{1,10}}$")


def suffix_of(name: str, prefix: str) -> str:
    """The generated part of ``name`` after ``prefix``, checked to be 5 safe characters."""
    assert name.startswith(prefix), (name, prefix)
    rest = name[len(prefix) :]
    assert re.fullmatch(f"[{SAFE}]{{5}}", rest), name
    return rest


@asynccontextmanager
async def controllers_only(**settings: Any) -> AsyncIterator[FakeCluster]:
    """A fake cluster with the workload controllers and no simulated kubelet."""
    async with open_fake_cluster(kubelet=False, **settings) as cluster:
        yield cluster


# -- bodies ------------------------------------------------------------------------------------


def template(app: str, image: str = "nginx:1.27", **spec: Any) -> JSON:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": image}], **spec},
    }


def workload(
    kind: str,
    name: str,
    *,
    replicas: int | None = 1,
    image: str = "nginx:1.27",
    api_version: str = "apps/v1",
    **spec: Any,
) -> JSON:
    body: JSON = {"selector": {"matchLabels": {"app": name}}, "template": template(name, image)}
    if replicas is not None:
        body["replicas"] = replicas
    body.update(spec)
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": body}


def job(name: str, **spec: Any) -> JSON:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "work", "image": "busybox"}],
                    "restartPolicy": "Never",
                }
            },
            **spec,
        },
    }


def node(name: str, labels: dict[str, str] | None = None, taints: list[JSON] | None = None) -> JSON:
    body: JSON = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}}
    if labels:
        body["metadata"]["labels"] = labels
    if taints:
        body["spec"]["taints"] = taints
    return body


# -- reading -------------------------------------------------------------------------------------


def pods(cluster: FakeCluster, selector: str = "", *, deleting: bool = False) -> list[JSON]:
    """Pods of the default namespace (sorted by name), without those being deleted unless
    ``deleting``."""
    found = cluster.list("pods", "default", label_selector=selector)
    return [p for p in found if deleting or not p["metadata"].get("deletionTimestamp")]


def names(objs: list[JSON]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


def writes(cluster: FakeCluster) -> int:
    """The store revision: goes up by one for every committed change."""
    return cluster.state.store.revision


def owner(obj: JSON) -> JSON:
    (ref,) = obj["metadata"]["ownerReferences"]
    return dict(ref)


# -- playing the kubelet ------------------------------------------------------------------------


def bind(cluster: FakeCluster, name: str, node_name: str) -> None:
    """Schedule a pod as the binding subresource does (spec.nodeName, PodScheduled)."""
    state = cluster.state
    rt = state.resource("pods")
    stored = state.rest.get(rt, "default", name)
    new = copy_json(stored.obj)
    new["spec"]["nodeName"] = node_name
    state.store.put(rt.storage_key, stored.key, new)
    state.controllers.drain()


def run_pod(cluster: FakeCluster, name: str, *, ready: bool = True) -> JSON:
    """Report a pod Running (and Ready unless told), as its kubelet would."""
    now = cluster.state.rest.timestamp()
    pod = cluster.get("pods", name)
    image = pod["spec"]["containers"][0]["image"]
    flag = "True" if ready else "False"
    status = {
        "phase": "Running",
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": flag, "lastTransitionTime": now},
            {"type": "ContainersReady", "status": flag, "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
        ],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": image,
                "ready": ready,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": now}},
            }
            for c in pod["spec"]["containers"]
        ],
        "podIP": "10.244.0.10",
        "startTime": now,
    }
    return cluster.patch_status("pods", name, status)


def finish_pod(cluster: FakeCluster, name: str, exit_code: int = 0) -> JSON:
    """Report a pod's containers exited with ``exit_code`` (Succeeded or Failed)."""
    now = cluster.state.rest.timestamp()
    pod = cluster.get("pods", name)
    status = {
        "phase": "Succeeded" if exit_code == 0 else "Failed",
        "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": now}],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c["image"],
                "ready": False,
                "restartCount": 0,
                "state": {
                    "terminated": {
                        "exitCode": exit_code,
                        "reason": "Completed" if exit_code == 0 else "Error",
                        "startedAt": now,
                        "finishedAt": now,
                    }
                },
            }
            for c in pod["spec"]["containers"]
        ],
    }
    return cluster.patch_status("pods", name, status)


def run_pending(cluster: FakeCluster, selector: str = "", *, node_name: str | None = None) -> int:
    """Run every Pending pod (binding it to ``node_name`` or to its pinned node when given);
    returns how many were started."""
    started = 0
    for pod in pods(cluster, selector):
        if pod.get("status", {}).get("phase") != "Pending":
            continue
        target = node_name or _pinned_node(pod)
        if target is not None and not pod["spec"].get("nodeName"):
            bind(cluster, pod["metadata"]["name"], target)
        run_pod(cluster, pod["metadata"]["name"])
        started += 1
    return started


def settle(cluster: FakeCluster, selector: str = "", *, node_name: str | None = None) -> int:
    """Run pending pods until no new ones appear (ordered starts, rollouts); returns how many
    were started in all."""
    total = 0
    for _ in range(100):
        started = run_pending(cluster, selector, node_name=node_name)
        if not started:
            return total
        total += started
    raise AssertionError("pods keep appearing")


def _pinned_node(pod: JSON) -> str | None:
    terms = (
        pod["spec"]
        .get("affinity", {})
        .get("nodeAffinity", {})
        .get("requiredDuringSchedulingIgnoredDuringExecution", {})
        .get("nodeSelectorTerms", [])
    )
    for term in terms:
        for field in term.get("matchFields", []):
            if field["key"] == "metadata.name":
                return str(field["values"][0])
    return None


def rollout_done(deploy: JSON) -> tuple[bool, str]:
    """kubectl's ``rollout status`` verdict for a Deployment (its DeploymentStatusViewer)."""
    name, status = deploy["metadata"]["name"], deploy.get("status", {})
    if deploy["metadata"].get("generation", 0) > status.get("observedGeneration", 0):
        return False, "Waiting for deployment spec update to be observed..."
    for cond in status.get("conditions", []):
        if cond["type"] == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return False, f'deployment "{name}" exceeded its progress deadline'
    want, updated = deploy["spec"]["replicas"], status.get("updatedReplicas", 0)
    if updated < want:
        return False, f"{updated} out of {want} new replicas have been updated..."
    if status.get("replicas", 0) > updated:
        return False, f"{status['replicas'] - updated} old replicas are pending termination..."
    if status.get("availableReplicas", 0) < updated:
        return (
            False,
            f"{status.get('availableReplicas', 0)} of {updated} updated replicas are available...",
        )
    return True, f'deployment "{name}" successfully rolled out'
