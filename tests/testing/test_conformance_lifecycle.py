"""Conformance of the fake API server's deletion machinery, over raw HTTP.

Finalizers and deletionTimestamp, graceful pod deletion on trio's clock, the three propagation
policies with the garbage collector (dangling owners, several owners, chains), deletecollection
and the namespace lifecycle; every step is also observed on a watch, as a controller would see
it. Expected bodies follow kube-apiserver (contract §3.2, §3.4, §3.5).
"""

from __future__ import annotations

import datetime
import json

import httpx
import pytest
import trio
import trio.testing
from support import (
    APPS,
    CORE,
    JSON,
    MERGE,
    configmap,
    create,
    deployment,
    failure,
    pod,
    success,
    watch_from_now,
    workload,
)

HOLD = "example.com/hold"


def parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def owner_ref(owner: JSON, *, block: bool | None = None) -> JSON:
    ref = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if block is not None:
        ref["blockOwnerDeletion"] = block
    return ref


async def deployment_and_replicaset(client: httpx.AsyncClient, replicas: int | None) -> JSON:
    """Deployment "web" and the ReplicaSet "web-1" it owns (blocking its deletion), created; the
    ReplicaSet."""
    d = await create(client, f"{APPS}/deployments", deployment("web"))
    owned = [owner_ref(d, block=True)]
    rs = workload("ReplicaSet", "web-1", app="web", replicas=replicas, ownerReferences=owned)
    return await create(client, f"{APPS}/replicasets", rs)


async def gone(client: httpx.AsyncClient, path: str) -> bool:
    r = await client.get(path)
    assert r.status_code in (200, 404), r.text
    return r.status_code == 404


async def delete_with_policy(
    client: httpx.AsyncClient, path: str, policy: str, expect: int = 200
) -> JSON:
    """DELETE ``path`` with ``propagationPolicy`` in the body, which must answer ``expect``; the
    body of the answer."""
    r = await client.request("DELETE", path, json={"propagationPolicy": policy})
    assert r.status_code == expect, r.text
    return dict(r.json())


# -- finalizers -----------------------------------------------------------------------------------


async def test_finalizer_delete_marks_object_then_last_removal_deletes(
    client: httpx.AsyncClient,
) -> None:
    cm = await create(
        client, f"{CORE}/configmaps", configmap("held", metadata={"finalizers": [HOLD]})
    )
    async with watch_from_now(client, f"{CORE}/configmaps") as watch:
        r = await client.delete(f"{CORE}/configmaps/held")
        assert r.status_code == 200
        marked = r.json()
        assert marked["kind"] == "ConfigMap"
        assert marked["metadata"]["uid"] == cm["metadata"]["uid"]
        assert marked["metadata"]["deletionGracePeriodSeconds"] == 0
        assert marked["metadata"]["deletionTimestamp"] == cm["metadata"]["creationTimestamp"]
        assert marked["metadata"]["finalizers"] == [HOLD]
        assert int(marked["metadata"]["resourceVersion"]) > int(cm["metadata"]["resourceVersion"])
        kind, seen = await watch.change()
        assert (kind, seen) == ("MODIFIED", marked)

        # a second DELETE changes nothing
        again = await client.delete(f"{CORE}/configmaps/held")
        assert again.status_code == 200
        assert again.json() == marked

        added = await client.patch(
            f"{CORE}/configmaps/held",
            content=json.dumps({"metadata": {"finalizers": [HOLD, "example.com/other"]}}),
            headers=MERGE,
        )
        assert added.status_code == 422
        message = (
            "no new finalizers can be added if the object is being deleted, found new "
            'finalizers []string{"example.com/other"}'
        )
        assert added.json() == failure(
            422,
            "Invalid",
            f'ConfigMap "held" is invalid: metadata.finalizers: Forbidden: {message}',
            {
                "name": "held",
                "kind": "ConfigMap",
                "causes": [
                    {
                        "reason": "FieldValueForbidden",
                        "message": f"Forbidden: {message}",
                        "field": "metadata.finalizers",
                    }
                ],
            },
        )
        assert not await gone(client, f"{CORE}/configmaps/held")

        removed = await client.patch(
            f"{CORE}/configmaps/held",
            content=json.dumps({"metadata": {"finalizers": None}}),
            headers=MERGE,
        )
        assert removed.status_code == 200
        assert "finalizers" not in removed.json()["metadata"]
        kind, last = await watch.change()
        assert kind == "DELETED"
        assert last["metadata"]["uid"] == cm["metadata"]["uid"]
        assert "finalizers" not in last["metadata"]
        assert int(last["metadata"]["resourceVersion"]) > int(marked["metadata"]["resourceVersion"])
    assert await gone(client, f"{CORE}/configmaps/held")


async def test_finalizer_kept_while_other_finalizers_remain(client: httpx.AsyncClient) -> None:
    await create(
        client, f"{CORE}/configmaps", configmap("two", metadata={"finalizers": [HOLD, "b.io/x"]})
    )
    await client.delete(f"{CORE}/configmaps/two")
    r = await client.patch(
        f"{CORE}/configmaps/two",
        content=json.dumps({"metadata": {"finalizers": ["b.io/x"]}}),
        headers=MERGE,
    )
    assert r.status_code == 200
    assert r.json()["metadata"]["finalizers"] == ["b.io/x"]
    assert r.json()["metadata"]["deletionTimestamp"]
    assert not await gone(client, f"{CORE}/configmaps/two")


async def test_finalizer_delete_bumps_generation(client: httpx.AsyncClient) -> None:
    body = deployment("held")
    body["metadata"]["finalizers"] = [HOLD]
    created = await create(client, f"{APPS}/deployments", body)
    assert created["metadata"]["generation"] == 1
    r = await client.delete(f"{APPS}/deployments/held")
    assert r.status_code == 200
    marked = r.json()
    assert marked["kind"] == "Deployment"
    assert marked["metadata"]["generation"] == 2
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 0


async def test_delete_response_shapes(client: httpx.AsyncClient) -> None:
    p = await create(client, f"{CORE}/pods", pod("plain"))
    r = await client.delete(f"{CORE}/pods/plain")
    assert r.status_code == 200
    body = r.json()
    assert (body["kind"], body["apiVersion"]) == ("Pod", "v1")
    assert body["metadata"]["uid"] == p["metadata"]["uid"]
    assert int(body["metadata"]["resourceVersion"]) > int(p["metadata"]["resourceVersion"])

    d = await create(client, f"{APPS}/deployments", deployment("web"))
    r = await client.delete(f"{APPS}/deployments/web")
    assert r.status_code == 200
    assert r.json() == success(
        {"name": "web", "group": "apps", "kind": "deployments", "uid": d["metadata"]["uid"]}
    )

    cm = await create(client, f"{CORE}/configmaps", configmap("plain"))
    r = await client.delete(f"{CORE}/configmaps/plain")
    assert r.status_code == 200
    assert r.json() == success(
        {"name": "plain", "kind": "configmaps", "uid": cm["metadata"]["uid"]}
    )

    missing = await client.delete(f"{APPS}/deployments/web")
    assert missing.status_code == 404
    assert missing.json() == failure(
        404,
        "NotFound",
        'deployments.apps "web" not found',
        {"name": "web", "group": "apps", "kind": "deployments"},
    )


async def test_delete_preconditions_conflict(client: httpx.AsyncClient) -> None:
    cm = await create(client, f"{CORE}/configmaps", configmap("pre"))
    r = await client.request(
        "DELETE",
        f"{CORE}/configmaps/pre",
        json={"preconditions": {"uid": "not-the-uid"}},
    )
    assert r.status_code == 409
    assert r.json() == failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on configmaps "pre": Precondition failed: UID in '
        f"precondition: not-the-uid, UID in object meta: {cm['metadata']['uid']}",
        {"name": "pre", "kind": "configmaps"},
    )
    r = await client.request(
        "DELETE",
        f"{CORE}/configmaps/pre",
        json={"preconditions": {"resourceVersion": cm["metadata"]["resourceVersion"]}},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "Success"


# -- graceful pod deletion ------------------------------------------------------------------------


async def test_pod_graceful_delete_waits_for_grace_period(
    client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    created = await create(client, f"{CORE}/pods", pod("bound", node="node-1"))
    async with watch_from_now(client, f"{CORE}/pods") as watch:
        r = await client.delete(f"{CORE}/pods/bound")
        assert r.status_code == 200
        terminating = r.json()
        meta = terminating["metadata"]
        assert meta["deletionGracePeriodSeconds"] == 30
        assert parse_time(meta["deletionTimestamp"]) - parse_time(
            created["metadata"]["creationTimestamp"]
        ) == datetime.timedelta(seconds=30)
        assert await watch.change() == ("MODIFIED", terminating)

        mock_clock.jump(29)
        await trio.testing.wait_all_tasks_blocked()
        assert not await gone(client, f"{CORE}/pods/bound")

        mock_clock.jump(1)
        await trio.testing.wait_all_tasks_blocked()
        kind, last = await watch.change()
        assert kind == "DELETED"
        assert last["metadata"]["uid"] == created["metadata"]["uid"]
    assert await gone(client, f"{CORE}/pods/bound")


async def test_pod_graceful_delete_honours_grace_period_seconds(
    client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    await create(client, f"{CORE}/pods", pod("short", node="node-1"))
    r = await client.request("DELETE", f"{CORE}/pods/short", json={"gracePeriodSeconds": 5})
    assert r.status_code == 200
    assert r.json()["metadata"]["deletionGracePeriodSeconds"] == 5
    # a second DELETE may shorten the grace period, never lengthen it
    longer = await client.delete(f"{CORE}/pods/short", params={"gracePeriodSeconds": "20"})
    assert longer.json()["metadata"]["deletionGracePeriodSeconds"] == 5
    shorter = await client.delete(f"{CORE}/pods/short", params={"gracePeriodSeconds": "2"})
    assert shorter.json()["metadata"]["deletionGracePeriodSeconds"] == 2
    mock_clock.jump(2)
    await trio.testing.wait_all_tasks_blocked()
    assert await gone(client, f"{CORE}/pods/short")


async def test_pod_delete_immediate_when_unbound_or_forced(
    client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    await create(client, f"{CORE}/pods", pod("unbound"))
    await create(client, f"{CORE}/pods", pod("forced", node="node-1"))
    async with watch_from_now(client, f"{CORE}/pods") as watch:
        r = await client.delete(f"{CORE}/pods/unbound")
        assert r.status_code == 200
        assert "deletionTimestamp" not in r.json()["metadata"]
        assert await watch.take(1) == [("DELETED", "unbound")]
        r = await client.request("DELETE", f"{CORE}/pods/forced", json={"gracePeriodSeconds": 0})
        assert r.status_code == 200
        assert await watch.take(1) == [("DELETED", "forced")]
    assert await gone(client, f"{CORE}/pods/forced")
    assert mock_clock.current_time() == 0


# -- propagation policies -------------------------------------------------------------------------


async def family(
    client: httpx.AsyncClient, *, block: bool | None = None, held: str | None = None
) -> tuple[JSON, JSON, JSON]:
    """A ConfigMap ``owner`` with dependents ``dep-a`` and ``dep-b`` (``held`` has HOLD)."""
    owner = await create(client, f"{CORE}/configmaps", configmap("owner"))
    deps = []
    for name in ("dep-a", "dep-b"):
        meta: JSON = {"ownerReferences": [owner_ref(owner, block=block)]}
        if name == held:
            meta["finalizers"] = [HOLD]
        deps.append(await create(client, f"{CORE}/configmaps", configmap(name, metadata=meta)))
    return owner, deps[0], deps[1]


async def test_propagation_background_deletes_owner_then_dependents(
    client: httpx.AsyncClient,
) -> None:
    owner, _, _ = await family(client)
    async with watch_from_now(client, f"{CORE}/configmaps") as watch:
        deleted = await delete_with_policy(client, f"{CORE}/configmaps/owner", "Background")
        assert deleted["details"] == {
            "name": "owner",
            "kind": "configmaps",
            "uid": owner["metadata"]["uid"],
        }
        assert await watch.take(3) == [
            ("DELETED", "owner"),
            ("DELETED", "dep-a"),
            ("DELETED", "dep-b"),
        ]
    for name in ("owner", "dep-a", "dep-b"):
        assert await gone(client, f"{CORE}/configmaps/{name}")


async def test_propagation_default_for_configmaps_is_background(
    client: httpx.AsyncClient,
) -> None:
    await family(client)
    r = await client.delete(f"{CORE}/configmaps/owner")
    assert r.status_code == 200
    assert await gone(client, f"{CORE}/configmaps/dep-a")
    assert await gone(client, f"{CORE}/configmaps/dep-b")


async def test_propagation_foreground_waits_for_blocking_dependents(
    client: httpx.AsyncClient,
) -> None:
    _, _, dep_b = await family(client, block=True, held="dep-b")
    async with watch_from_now(client, f"{CORE}/configmaps") as watch:
        marked = await delete_with_policy(client, f"{CORE}/configmaps/owner", "Foreground")
        assert marked["kind"] == "ConfigMap"
        assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]
        assert marked["metadata"]["deletionTimestamp"]
        assert marked["metadata"]["deletionGracePeriodSeconds"] == 0
        kind, seen = await watch.change()
        assert (kind, seen["metadata"]["name"]) == ("MODIFIED", "owner")
        assert seen["metadata"]["finalizers"] == ["foregroundDeletion"]
        assert await watch.take(1) == [("DELETED", "dep-a")]
        kind, seen = await watch.change()
        assert (kind, seen["metadata"]["name"]) == ("MODIFIED", "dep-b")
        assert seen["metadata"]["deletionTimestamp"]
        assert seen["metadata"]["finalizers"] == [HOLD]  # deleted in the background

        # the owner waits for dep-b, which blocks its deletion
        still = (await client.get(f"{CORE}/configmaps/owner")).json()
        assert still["metadata"]["finalizers"] == ["foregroundDeletion"]
        assert (await client.get(f"{CORE}/configmaps/dep-b")).json()["metadata"][
            "ownerReferences"
        ] == dep_b["metadata"]["ownerReferences"]

        r = await client.patch(
            f"{CORE}/configmaps/dep-b",
            content=json.dumps({"metadata": {"finalizers": None}}),
            headers=MERGE,
        )
        assert r.status_code == 200
        events = await watch.take(2)
        assert events == [("DELETED", "dep-b"), ("DELETED", "owner")]
    assert await gone(client, f"{CORE}/configmaps/owner")


async def test_propagation_foreground_does_not_wait_for_non_blocking_dependents(
    client: httpx.AsyncClient,
) -> None:
    await family(client, block=False, held="dep-b")
    await delete_with_policy(client, f"{CORE}/configmaps/owner", "Foreground")
    assert await gone(client, f"{CORE}/configmaps/owner")
    assert await gone(client, f"{CORE}/configmaps/dep-a")
    held = (await client.get(f"{CORE}/configmaps/dep-b")).json()
    assert held["metadata"]["deletionTimestamp"]
    assert held["metadata"]["finalizers"] == [HOLD]


async def test_propagation_orphan_strips_owner_references(client: httpx.AsyncClient) -> None:
    _, dep_a, _ = await family(client)
    async with watch_from_now(client, f"{CORE}/configmaps") as watch:
        marked = await delete_with_policy(client, f"{CORE}/configmaps/owner", "Orphan")
        assert marked["kind"] == "ConfigMap"
        assert marked["metadata"]["finalizers"] == ["orphan"]
        assert marked["metadata"]["deletionTimestamp"]
        events = []
        for _ in range(4):
            kind, obj = await watch.change()
            events.append((kind, obj["metadata"]["name"]))
            if obj["metadata"]["name"].startswith("dep-"):
                assert "ownerReferences" not in obj["metadata"]
        assert events == [
            ("MODIFIED", "owner"),
            ("MODIFIED", "dep-a"),
            ("MODIFIED", "dep-b"),
            ("DELETED", "owner"),
        ]
    assert await gone(client, f"{CORE}/configmaps/owner")
    survivor = (await client.get(f"{CORE}/configmaps/dep-a")).json()
    assert survivor["metadata"]["uid"] == dep_a["metadata"]["uid"]
    assert "ownerReferences" not in survivor["metadata"]


@pytest.mark.parametrize("where", ["body", "query"])
async def test_propagation_legacy_orphan_dependents(client: httpx.AsyncClient, where: str) -> None:
    await family(client)
    if where == "body":
        r = await client.request(
            "DELETE", f"{CORE}/configmaps/owner", json={"orphanDependents": True}
        )
    else:
        r = await client.delete(f"{CORE}/configmaps/owner", params={"orphanDependents": "true"})
    assert r.status_code == 200
    assert r.json()["metadata"]["finalizers"] == ["orphan"]
    assert await gone(client, f"{CORE}/configmaps/owner")
    for name in ("dep-a", "dep-b"):
        dep = (await client.get(f"{CORE}/configmaps/{name}")).json()
        assert "ownerReferences" not in dep["metadata"]


async def test_propagation_invalid_policy_is_rejected(client: httpx.AsyncClient) -> None:
    await create(client, f"{CORE}/configmaps", configmap("x"))
    refused = await delete_with_policy(client, f"{CORE}/configmaps/x", "Sideways", 422)
    assert refused == failure(
        422,
        "Invalid",
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
        '"Sideways": supported values: "Foreground", "Background", "Orphan", "nil"',
        {"group": "meta.k8s.io", "kind": "DeleteOptions"},
    )
    assert not await gone(client, f"{CORE}/configmaps/x")


async def test_gc_collects_dependent_of_dangling_owner(client: httpx.AsyncClient) -> None:
    ghost = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "ghost",
        "uid": "00000000-0000-4000-8000-000000000000",
    }
    async with watch_from_now(client, f"{CORE}/configmaps") as watch:
        created = await create(
            client,
            f"{CORE}/configmaps",
            configmap("orphaned", metadata={"ownerReferences": [ghost]}),
        )
        assert created["metadata"]["ownerReferences"] == [ghost]
        assert await watch.take(2) == [("ADDED", "orphaned"), ("DELETED", "orphaned")]
    assert await gone(client, f"{CORE}/configmaps/orphaned")


async def test_gc_keeps_dependent_with_a_remaining_owner(client: httpx.AsyncClient) -> None:
    first = await create(client, f"{CORE}/configmaps", configmap("first"))
    second = await create(client, f"{CORE}/configmaps", configmap("second"))
    refs = [owner_ref(first), owner_ref(second)]
    await create(
        client, f"{CORE}/configmaps", configmap("shared", metadata={"ownerReferences": refs})
    )
    async with watch_from_now(client, f"{CORE}/configmaps") as watch:
        r = await client.delete(f"{CORE}/configmaps/first")
        assert r.status_code == 200
        assert await watch.take(2) == [("DELETED", "first"), ("MODIFIED", "shared")]
    shared = (await client.get(f"{CORE}/configmaps/shared")).json()
    assert shared["metadata"]["ownerReferences"] == [owner_ref(second)]
    # the last owner going away takes the dependent with it
    await client.delete(f"{CORE}/configmaps/second")
    assert await gone(client, f"{CORE}/configmaps/shared")


async def test_gc_foreground_keeps_dependent_with_another_owner(
    client: httpx.AsyncClient,
) -> None:
    first = await create(client, f"{CORE}/configmaps", configmap("first"))
    second = await create(client, f"{CORE}/configmaps", configmap("second"))
    refs = [owner_ref(first, block=True), owner_ref(second)]
    await create(
        client, f"{CORE}/configmaps", configmap("shared", metadata={"ownerReferences": refs})
    )
    await delete_with_policy(client, f"{CORE}/configmaps/first", "Foreground")
    assert await gone(client, f"{CORE}/configmaps/first")
    shared = (await client.get(f"{CORE}/configmaps/shared")).json()
    assert "deletionTimestamp" not in shared["metadata"]
    assert shared["metadata"]["ownerReferences"] == [owner_ref(second)]


async def test_gc_background_cascades_down_a_chain(client: httpx.AsyncClient) -> None:
    rs = await deployment_and_replicaset(client, replicas=2)
    for name in ("web-1-a", "web-1-b"):
        await create(
            client,
            f"{CORE}/pods",
            pod(name, labels={"app": "web"}, ownerReferences=[owner_ref(rs, block=True)]),
        )
    await create(client, f"{CORE}/pods", pod("bystander", labels={"app": "web"}))
    async with (
        watch_from_now(client, f"{APPS}/deployments") as deployments,
        watch_from_now(client, f"{APPS}/replicasets") as replicasets,
        watch_from_now(client, f"{CORE}/pods") as pods,
    ):
        await delete_with_policy(client, f"{APPS}/deployments/web", "Background")
        d_kind, d_last = await deployments.change()
        rs_kind, rs_last = await replicasets.change()
        pod_events = [await pods.change(), await pods.change()]
    assert (d_kind, rs_kind) == ("DELETED", "DELETED")
    assert [(k, o["metadata"]["name"]) for k, o in pod_events] == [
        ("DELETED", "web-1-a"),
        ("DELETED", "web-1-b"),
    ]
    rvs = [int(o["metadata"]["resourceVersion"]) for o in (d_last, rs_last)] + [
        int(o["metadata"]["resourceVersion"]) for _, o in pod_events
    ]
    assert rvs == sorted(rvs)
    listed = (await client.get(f"{CORE}/pods")).json()
    assert [p["metadata"]["name"] for p in listed["items"]] == ["bystander"]


async def test_gc_foreground_cascades_down_a_chain(client: httpx.AsyncClient) -> None:
    rs = await deployment_and_replicaset(client, replicas=None)
    refs = [owner_ref(rs, block=True)]
    await create(client, f"{CORE}/pods", pod("web-1-a", ownerReferences=refs))
    await create(client, f"{CORE}/pods", pod("web-1-b", ownerReferences=refs, finalizers=[HOLD]))
    async with watch_from_now(client, f"{CORE}/pods") as pods:
        await delete_with_policy(client, f"{APPS}/deployments/web", "Foreground")
        assert await pods.take(2) == [("DELETED", "web-1-a"), ("MODIFIED", "web-1-b")]
        # the replicaset has dependents of its own: it is deleted in the foreground too
        waiting_rs = (await client.get(f"{APPS}/replicasets/web-1")).json()
        assert waiting_rs["metadata"]["finalizers"] == ["foregroundDeletion"]
        waiting_d = (await client.get(f"{APPS}/deployments/web")).json()
        assert waiting_d["metadata"]["finalizers"] == ["foregroundDeletion"]

        async with (
            watch_from_now(client, f"{APPS}/deployments") as deployments,
            watch_from_now(client, f"{APPS}/replicasets") as replicasets,
        ):
            await client.patch(
                f"{CORE}/pods/web-1-b",
                content=json.dumps({"metadata": {"finalizers": None}}),
                headers=MERGE,
            )
            pod_kind, pod_last = await pods.change()
            rs_kind, rs_last = await replicasets.change()
            d_kind, d_last = await deployments.change()
    assert (pod_kind, rs_kind, d_kind) == ("DELETED", "DELETED", "DELETED")
    rvs = [int(o["metadata"]["resourceVersion"]) for o in (pod_last, rs_last, d_last)]
    assert rvs == sorted(rvs)


# -- deletecollection -----------------------------------------------------------------------------


async def test_deletecollection_label_selector(client: httpx.AsyncClient) -> None:
    a = await create(client, f"{CORE}/configmaps", configmap("a", labels={"app": "x", "n": "1"}))
    b = await create(client, f"{CORE}/configmaps", configmap("b", labels={"app": "x", "n": "2"}))
    await create(client, f"{CORE}/configmaps", configmap("c", labels={"app": "y"}))
    async with watch_from_now(client, f"{CORE}/configmaps") as watch:
        r = await client.delete(f"{CORE}/configmaps", params={"labelSelector": "app=x"})
        assert r.status_code == 200
        body = r.json()
        assert (body["kind"], body["apiVersion"]) == ("ConfigMapList", "v1")
        assert int(body["metadata"]["resourceVersion"]) > int(b["metadata"]["resourceVersion"])
        assert [i["metadata"]["uid"] for i in body["items"]] == [
            a["metadata"]["uid"],
            b["metadata"]["uid"],
        ]
        assert await watch.take(2) == [("DELETED", "a"), ("DELETED", "b")]
    left = (await client.get(f"{CORE}/configmaps")).json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["c"]


async def test_deletecollection_field_selector(client: httpx.AsyncClient) -> None:
    await create(client, f"{CORE}/pods", pod("p1"))
    await create(client, f"{CORE}/pods", pod("p2"))
    await create(client, f"{CORE}/pods", pod("p3"))
    r = await client.delete(f"{CORE}/pods", params={"fieldSelector": "metadata.name!=p2"})
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "PodList"
    assert [i["metadata"]["name"] for i in body["items"]] == ["p1", "p3"]
    left = (await client.get(f"{CORE}/pods")).json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["p2"]

    bad = await client.delete(f"{CORE}/pods", params={"fieldSelector": "spec.nope=1"})
    assert bad.status_code == 400
    assert bad.json() == failure(400, "BadRequest", "field label not supported: spec.nope")
    assert len((await client.get(f"{CORE}/pods")).json()["items"]) == 1


async def test_deletecollection_is_namespaced(client: httpx.AsyncClient) -> None:
    await create(client, "/api/v1/namespaces", {"metadata": {"name": "other"}})
    await create(client, "/api/v1/namespaces/other/configmaps", configmap("keep"))
    await create(client, f"{CORE}/configmaps", configmap("drop"))
    r = await client.delete(f"{CORE}/configmaps")
    assert [i["metadata"]["name"] for i in r.json()["items"]] == ["drop"]
    assert not await gone(client, "/api/v1/namespaces/other/configmaps/keep")


# -- namespaces -----------------------------------------------------------------------------------


async def test_namespace_delete_terminates_then_disappears(client: httpx.AsyncClient) -> None:
    ns = await create(client, "/api/v1/namespaces", {"metadata": {"name": "doomed"}})
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    base = "/api/v1/namespaces/doomed"
    await create(client, f"{base}/configmaps", configmap("cm"))
    await create(client, f"{base}/pods", pod("held", finalizers=[HOLD]))
    async with (
        watch_from_now(client, "/api/v1/namespaces", fieldSelector="metadata.name=doomed") as nsw,
        watch_from_now(client, f"{base}/configmaps") as cmw,
    ):
        r = await client.delete(base)
        assert r.status_code == 200
        terminating = r.json()
        assert terminating["kind"] == "Namespace"
        assert terminating["status"]["phase"] == "Terminating"
        assert terminating["metadata"]["deletionTimestamp"]
        assert "deletionGracePeriodSeconds" not in terminating["metadata"]
        assert terminating["spec"] == {"finalizers": ["kubernetes"]}
        assert await cmw.take(1) == [("DELETED", "cm")]
        kind, seen = await nsw.change()
        assert kind == "MODIFIED"
        assert seen["status"]["phase"] == "Terminating"

        refused = await client.post(f"{base}/configmaps", json=configmap("late"))
        assert refused.status_code == 403
        assert refused.json() == failure(
            403,
            "Forbidden",
            'configmaps "late" is forbidden: unable to create new content in namespace doomed '
            "because it is being terminated",
            {"name": "late", "kind": "configmaps"},
        )

        # the pod's finalizer holds the namespace
        held = (await client.get(f"{base}/pods/held")).json()
        assert held["metadata"]["deletionTimestamp"]
        assert (await client.get(base)).json()["status"]["phase"] == "Terminating"

        r = await client.patch(
            f"{base}/pods/held",
            content=json.dumps({"metadata": {"finalizers": None}}),
            headers=MERGE,
        )
        assert r.status_code == 200
        rest = [await nsw.change()]
        while rest[-1][0] != "DELETED":
            rest.append(await nsw.change())
        assert [k for k, _ in rest][-1] == "DELETED"
        assert all(k == "MODIFIED" for k, _ in rest[:-1])
    assert await gone(client, base)
    missing = await client.post(f"{base}/configmaps", json=configmap("after"))
    assert missing.status_code == 404
    assert missing.json() == failure(
        404, "NotFound", 'namespaces "doomed" not found', {"name": "doomed", "kind": "namespaces"}
    )


async def test_namespace_finalize_subresource(client: httpx.AsyncClient) -> None:
    await create(client, "/api/v1/namespaces", {"metadata": {"name": "fin"}})
    ns = (await client.get("/api/v1/namespaces/fin")).json()
    ns["spec"]["finalizers"] = ["example.com/extra", "kubernetes"]
    r = await client.put("/api/v1/namespaces/fin/finalize", json=ns)
    assert r.status_code == 200
    assert r.json()["spec"]["finalizers"] == ["example.com/extra", "kubernetes"]

    r = await client.delete("/api/v1/namespaces/fin")
    assert r.status_code == 200
    # the namespace controller only removes its own finalizer; the extra one keeps it
    after = (await client.get("/api/v1/namespaces/fin")).json()
    assert after["status"]["phase"] == "Terminating"
    assert after["spec"]["finalizers"] == ["example.com/extra"]

    async with watch_from_now(
        client, "/api/v1/namespaces", fieldSelector="metadata.name=fin"
    ) as watch:
        after["spec"]["finalizers"] = []
        r = await client.put("/api/v1/namespaces/fin/finalize", json=after)
        assert r.status_code == 200
        kind, _ = await watch.change()
        assert kind == "DELETED"
    assert await gone(client, "/api/v1/namespaces/fin")
