"""Conformance of the fake API server's subresources and virtual resources, over raw HTTP.

``/status`` (the spec/status split of every built-in kind that has one), ``/scale`` of the four
scalable workloads (an ``autoscaling/v1`` Scale with the selector as a string), pod
``/eviction`` (deletes the pod, or 429 when a PodDisruptionBudget forbids it) and
``/binding`` (assigns the node once). Expected bodies follow kube-apiserver (contract §2.5,
§3.5).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support import APPS, CORE, JSON, create, failure, patch, pod, success, watch_from_now

CONTAINERS = [{"name": "c", "image": "busybox"}]
TEMPLATE = {"metadata": {"labels": {"app": "x", "tier": "a"}}, "spec": {"containers": CONTAINERS}}


def workload(kind: str, api_version: str = "apps/v1", **spec: Any) -> JSON:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": {"replicas": 1, "template": TEMPLATE, **spec},
    }


# -- status ---------------------------------------------------------------------------------------

#: (collection path, object, a status the server must keep apart)
STATUS_KINDS: dict[str, tuple[str, JSON, JSON]] = {
    "deployments": (
        APPS + "/deployments",
        workload("Deployment", selector={"matchLabels": {"app": "x"}}),
        {"replicas": 3, "observedGeneration": 1},
    ),
    "replicasets": (
        APPS + "/replicasets",
        workload("ReplicaSet", selector={"matchLabels": {"app": "x"}}),
        {"replicas": 3},
    ),
    "statefulsets": (
        APPS + "/statefulsets",
        workload("StatefulSet", selector={"matchLabels": {"app": "x"}}, serviceName="x"),
        {"replicas": 3},
    ),
    "daemonsets": (
        APPS + "/daemonsets",
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "x"},
            "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": TEMPLATE},
        },
        {"numberReady": 2, "desiredNumberScheduled": 2},
    ),
    "replicationcontrollers": (
        CORE + "/replicationcontrollers",
        workload("ReplicationController", "v1", selector={"app": "x"}),
        {"replicas": 3},
    ),
    "jobs": (
        "/apis/batch/v1/namespaces/default/jobs",
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "x"},
            "spec": {
                "template": {
                    "spec": {"containers": CONTAINERS, "restartPolicy": "Never"},
                }
            },
        },
        {"active": 1},
    ),
    "poddisruptionbudgets": (
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "x"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "x"}}},
        },
        {"currentHealthy": 4, "desiredHealthy": 1},
    ),
    "services": (
        CORE + "/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "x"},
            "spec": {"ports": [{"port": 80}]},
        },
        {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}},
    ),
    "pods": (CORE + "/pods", pod("x"), {"podIP": "10.0.0.9", "phase": "Running"}),
    "nodes": (
        "/api/v1/nodes",
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "x"}},
        {"capacity": {"cpu": "4"}},
    ),
}


@pytest.mark.parametrize("resource", sorted(STATUS_KINDS))
async def test_status_split_for_builtin_kinds(client: httpx.AsyncClient, resource: str) -> None:
    path, obj, status = STATUS_KINDS[resource]
    body = json.loads(json.dumps(obj))
    body["status"] = status
    created = await create(client, path, body)
    for key, value in status.items():
        assert (created.get("status") or {}).get(key) != value, key
    generation = created["metadata"].get("generation")

    # a status write changes the status only
    item = f"{path}/x/status"
    updated = await patch(client, item, {"status": status, "metadata": {"labels": {"s": "1"}}})
    for key, value in status.items():
        assert updated["status"][key] == value
    assert updated["spec"] == created["spec"] if "spec" in created else "spec" not in updated
    assert updated["metadata"].get("generation") == generation
    if resource not in ("pods", "nodes", "services"):  # their status strategies keep labels
        assert "s" not in (updated["metadata"].get("labels") or {})
    assert (await client.get(item)).json()["status"] == updated["status"]

    # a write to the object leaves the status alone
    main = await patch(client, f"{path}/x", {"metadata": {"labels": {"m": "1"}}, "status": {}})
    assert main["metadata"]["labels"]["m"] == "1"
    assert main["status"] == updated["status"]
    current = (await client.get(f"{path}/x")).json()
    current["status"] = {}
    put = await client.put(f"{path}/x", json=current)
    assert put.status_code == 200
    assert put.json()["status"] == updated["status"]


async def test_status_put_conflicts_on_stale_resource_version(client: httpx.AsyncClient) -> None:
    path, obj, status = STATUS_KINDS["deployments"]
    created = await create(client, path, obj)
    await patch(client, f"{path}/x", {"metadata": {"labels": {"b": "1"}}})
    created["status"] = status
    r = await client.put(f"{path}/x/status", json=created)
    assert r.status_code == 409
    assert r.json() == failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on deployments.apps "x": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": "x", "group": "apps", "kind": "deployments"},
    )


async def test_status_unknown_subresource_is_not_found(client: httpx.AsyncClient) -> None:
    await create(client, f"{CORE}/configmaps", {"metadata": {"name": "cm"}})
    r = await client.get(f"{CORE}/configmaps/cm/status")
    assert r.status_code == 404
    assert r.json() == failure(
        404, "NotFound", "the server could not find the requested resource", {}
    )


# -- scale ----------------------------------------------------------------------------------------

SELECTOR = {
    "matchLabels": {"app": "x"},
    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}],
}

#: (collection path, object, the Scale's selector string)
SCALE_KINDS: dict[str, tuple[str, JSON, str]] = {
    "deployments": (
        APPS + "/deployments",
        workload("Deployment", selector=SELECTOR),
        "app=x,tier in (a,b)",
    ),
    "replicasets": (
        APPS + "/replicasets",
        workload("ReplicaSet", selector={"matchLabels": {"app": "x", "tier": "a"}}),
        "app=x,tier=a",
    ),
    "statefulsets": (
        APPS + "/statefulsets",
        workload("StatefulSet", selector=SELECTOR, serviceName="x"),
        "app=x,tier in (a,b)",
    ),
    "replicationcontrollers": (
        CORE + "/replicationcontrollers",
        workload("ReplicationController", "v1", selector={"tier": "a", "app": "x"}),
        "app=x,tier=a",
    ),
}


@pytest.mark.parametrize("resource", sorted(SCALE_KINDS))
async def test_scale_get_and_put(client: httpx.AsyncClient, resource: str) -> None:
    path, obj, selector = SCALE_KINDS[resource]
    created = await create(client, path, obj)
    await patch(client, f"{path}/x/status", {"status": {"replicas": 1}})
    r = await client.get(f"{path}/x/scale")
    assert r.status_code == 200
    scale = r.json()
    meta = created["metadata"]
    assert scale["kind"] == "Scale"
    assert scale["apiVersion"] == "autoscaling/v1"
    assert scale["metadata"]["name"] == "x"
    assert scale["metadata"]["namespace"] == "default"
    assert scale["metadata"]["uid"] == meta["uid"]
    assert scale["metadata"]["creationTimestamp"] == meta["creationTimestamp"]
    assert scale["spec"] == {"replicas": 1}
    assert scale["status"] == {"replicas": 1, "selector": selector}

    async with watch_from_now(client, path) as watch:
        scale["spec"]["replicas"] = 4
        r = await client.put(f"{path}/x/scale", json=scale)
        assert r.status_code == 200
        assert r.json()["spec"] == {"replicas": 4}
        assert r.json()["status"] == {"replicas": 1, "selector": selector}
        kind, seen = await watch.change()
    assert kind == "MODIFIED"
    assert seen["spec"]["replicas"] == 4
    assert seen["metadata"]["generation"] == meta["generation"] + 1
    assert r.json()["metadata"]["resourceVersion"] == seen["metadata"]["resourceVersion"]

    # scaled to zero: autoscaling/v1 leaves the zero out
    zero = await patch(client, f"{path}/x/scale", {"spec": {"replicas": 0}})
    assert zero["spec"] == {}
    assert (await client.get(f"{path}/x")).json()["spec"]["replicas"] == 0


async def test_scale_rejects_negative_replicas(client: httpx.AsyncClient) -> None:
    path, obj, _ = SCALE_KINDS["deployments"]
    await create(client, path, obj)
    scale = (await client.get(f"{path}/x/scale")).json()
    scale["spec"]["replicas"] = -1
    r = await client.put(f"{path}/x/scale", json=scale)
    assert r.status_code == 422
    message = "Invalid value: -1: must be greater than or equal to 0"
    assert r.json() == failure(
        422,
        "Invalid",
        f'Scale.autoscaling "x" is invalid: spec.replicas: {message}',
        {
            "name": "x",
            "group": "autoscaling",
            "kind": "Scale",
            "causes": [
                {"reason": "FieldValueInvalid", "message": message, "field": "spec.replicas"}
            ],
        },
    )
    assert (await client.get(f"{path}/x")).json()["spec"]["replicas"] == 1


async def test_scale_is_not_served_for_unscalable_kinds(client: httpx.AsyncClient) -> None:
    path, obj, _ = STATUS_KINDS["daemonsets"]
    await create(client, path, obj)
    r = await client.get(f"{path}/x/scale")
    assert r.status_code == 404
    missing = await client.get(f"{APPS}/deployments/nope/scale")
    assert missing.status_code == 404
    assert missing.json() == failure(
        404,
        "NotFound",
        'deployments.apps "nope" not found',
        {"name": "nope", "group": "apps", "kind": "deployments"},
    )


# -- eviction -------------------------------------------------------------------------------------


def eviction(name: str, **delete_options: Any) -> JSON:
    body: JSON = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": "default"},
    }
    if delete_options:
        body["deleteOptions"] = delete_options
    return body


async def ready_pod(client: httpx.AsyncClient, name: str) -> None:
    await create(client, f"{CORE}/pods", pod(name, labels={"app": "db"}))
    ready = {"type": "Ready", "status": "True"}
    await patch(client, f"{CORE}/pods/{name}/status", {"status": {"conditions": [ready]}})


async def test_eviction_without_budget_deletes_pod(client: httpx.AsyncClient) -> None:
    created = await create(client, f"{CORE}/pods", pod("p"))
    async with watch_from_now(client, f"{CORE}/pods") as watch:
        r = await client.post(f"{CORE}/pods/p/eviction", json=eviction("p"))
        assert r.status_code == 201
        assert r.json() == success()
        kind, last = await watch.change()
    assert kind == "DELETED"
    assert last["metadata"]["uid"] == created["metadata"]["uid"]
    assert (await client.get(f"{CORE}/pods/p")).status_code == 404

    missing = await client.post(f"{CORE}/pods/p/eviction", json=eviction("p"))
    assert missing.status_code == 404
    assert missing.json() == failure(
        404, "NotFound", 'pods "p" not found', {"name": "p", "kind": "pods"}
    )


async def test_eviction_honours_delete_options(client: httpx.AsyncClient) -> None:
    await create(client, f"{CORE}/pods", pod("p", node="n"))
    r = await client.post(f"{CORE}/pods/p/eviction", json=eviction("p", gracePeriodSeconds=7))
    assert r.status_code == 201
    terminating = (await client.get(f"{CORE}/pods/p")).json()
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 7


async def test_eviction_blocked_by_disruption_budget(client: httpx.AsyncClient) -> None:
    await ready_pod(client, "db-0")
    await ready_pod(client, "db-1")
    pdb_path = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"
    await create(
        client,
        pdb_path,
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "db-pdb"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
        },
    )
    r = await client.post(f"{CORE}/pods/db-0/eviction", json=eviction("db-0"))
    assert r.status_code == 429
    assert "retry-after" not in r.headers
    assert r.json() == failure(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
        {
            "causes": [
                {
                    "reason": "DisruptionBudget",
                    "message": "The disruption budget db-pdb needs 2 healthy pods and has 2 "
                    "currently",
                }
            ]
        },
    )
    assert (await client.get(f"{CORE}/pods/db-0")).status_code == 200

    # a pod outside the budget's selector is evicted regardless
    await create(client, f"{CORE}/pods", pod("free", labels={"app": "web"}))
    r = await client.post(f"{CORE}/pods/free/eviction", json=eviction("free"))
    assert r.status_code == 201

    # with room in the budget, the eviction goes through
    await patch(client, f"{pdb_path}/db-pdb", {"spec": {"minAvailable": 1}})
    r = await client.post(f"{CORE}/pods/db-0/eviction", json=eviction("db-0"))
    assert r.status_code == 201
    assert r.json() == success()
    assert (await client.get(f"{CORE}/pods/db-0")).status_code == 404
    # now db-1 is the last healthy pod the budget needs
    r = await client.post(f"{CORE}/pods/db-1/eviction", json=eviction("db-1"))
    assert r.status_code == 429
    assert r.json()["details"]["causes"][0]["message"] == (
        "The disruption budget db-pdb needs 1 healthy pods and has 1 currently"
    )


# -- binding --------------------------------------------------------------------------------------


async def test_binding_assigns_node_once(client: httpx.AsyncClient) -> None:
    await create(client, f"{CORE}/pods", pod("p"))
    binding: JSON = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"},
    }
    async with watch_from_now(client, f"{CORE}/pods") as watch:
        r = await client.post(f"{CORE}/pods/p/binding", json=binding)
        assert r.status_code == 201
        assert r.json() == success()
        kind, seen = await watch.change()
    assert kind == "MODIFIED"
    assert seen["spec"]["nodeName"] == "node-1"
    scheduled = [c for c in seen["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert [(c["status"]) for c in scheduled] == ["True"]
    listed = await client.get(f"{CORE}/pods", params={"fieldSelector": "spec.nodeName=node-1"})
    assert [p["metadata"]["name"] for p in listed.json()["items"]] == ["p"]

    binding["target"]["name"] = "node-2"
    r = await client.post(f"{CORE}/pods/p/binding", json=binding)
    assert r.status_code == 409
    assert r.json() == failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node '
        '"node-1"',
        {"name": "p", "kind": "pods/binding"},
    )
    assert (await client.get(f"{CORE}/pods/p")).json()["spec"]["nodeName"] == "node-1"
