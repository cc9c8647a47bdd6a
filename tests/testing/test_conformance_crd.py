"""Conformance of CustomResourceDefinitions in the fake API server, over raw HTTP.

A CRD with two served versions, status and scale subresources, printer columns and a selectable
field: its status settles on NamesAccepted/Established, both discovery forms serve it, custom
resources are stored once and shown in the version of the URL, and deleting the CRD removes its
objects (watchers see them go) and its discovery entries. Expected bodies follow
kube-apiserver's apiextensions server (contract §2.2, §2.4, §2.5, §3.5).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support import JSON, MERGE, crd, crd_version, create, failure, watch_from_now

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
V1 = "/apis/example.com/v1/namespaces/default/widgets"
V1BETA1 = "/apis/example.com/v1beta1/namespaces/default/widgets"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
HOLD = "example.com/hold"


#: printer columns and a selectable field, the same in both versions
WIDGET_COLUMNS: JSON = {
    "additionalPrinterColumns": [
        {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
    ],
    "selectableFields": [{"jsonPath": ".spec.color"}],
}

WIDGETS_CRD = crd(
    "example.com",
    "widgets",
    "Widget",
    crd_version("v1", status_and_scale=True, **WIDGET_COLUMNS),
    crd_version("v1beta1", storage=False, status_and_scale=True, **WIDGET_COLUMNS),
    shortNames=["wd"],
    categories=["all"],
)

GADGETS_CRD = crd("example.org", "gadgets", "Gadget", scope="Cluster")


def widget(name: str, version: str = "v1", **spec: Any) -> JSON:
    return {
        "apiVersion": f"example.com/{version}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }


@pytest.fixture
async def widgets(client: httpx.AsyncClient) -> JSON:
    """The widgets CRD, created."""
    return await create(client, CRDS, WIDGETS_CRD)


# -- the CRD object -------------------------------------------------------------------------------


async def test_crd_status_names_accepted_and_established(
    client: httpx.AsyncClient, widgets: JSON
) -> None:
    assert widgets["metadata"]["generation"] == 1
    assert "finalizers" not in widgets["metadata"]
    crd = (await client.get(f"{CRDS}/widgets.example.com")).json()
    status = crd["status"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["NamesAccepted"]["status"] == "True"
    assert conditions["NamesAccepted"]["reason"] == "NoConflicts"
    assert conditions["Established"]["status"] == "True"
    assert conditions["Established"]["reason"] == "InitialNamesAccepted"
    assert status["acceptedNames"] == {
        "plural": "widgets",
        "singular": "widget",
        "kind": "Widget",
        "shortNames": ["wd"],
        "categories": ["all"],
        "listKind": "WidgetList",
    }
    assert status["storedVersions"] == ["v1"]


async def test_crd_invalid_name_is_rejected(client: httpx.AsyncClient) -> None:
    bad = json.loads(json.dumps(WIDGETS_CRD))
    bad["metadata"]["name"] = "widgets.example.org"
    r = await client.post(CRDS, json=bad)
    assert r.status_code == 422
    message = 'Invalid value: "widgets.example.org": must be spec.names.plural+"."+spec.group'
    assert r.json() == failure(
        422,
        "Invalid",
        'CustomResourceDefinition.apiextensions.k8s.io "widgets.example.org" is invalid: '
        f"metadata.name: {message}",
        {
            "name": "widgets.example.org",
            "group": "apiextensions.k8s.io",
            "kind": "CustomResourceDefinition",
            "causes": [
                {"reason": "FieldValueInvalid", "message": message, "field": "metadata.name"}
            ],
        },
    )
    assert (await client.get("/apis/example.com/v1")).status_code == 404


# -- discovery ------------------------------------------------------------------------------------


async def test_crd_discovery_legacy(client: httpx.AsyncClient) -> None:
    assert (await client.get("/apis/example.com/v1")).status_code == 404
    await create(client, CRDS, WIDGETS_CRD)
    groups = (await client.get("/apis")).json()["groups"]
    group = next(g for g in groups if g["name"] == "example.com")
    assert group == {
        "name": "example.com",
        "versions": [
            {"groupVersion": "example.com/v1", "version": "v1"},
            {"groupVersion": "example.com/v1beta1", "version": "v1beta1"},
        ],
        "preferredVersion": {"groupVersion": "example.com/v1", "version": "v1"},
    }
    for version in ("v1", "v1beta1"):
        r = await client.get(f"/apis/example.com/{version}")
        assert r.status_code == 200
        body = r.json()
        assert body["kind"] == "APIResourceList"
        assert body["groupVersion"] == f"example.com/{version}"
        by_name = {e["name"]: e for e in body["resources"]}
        assert sorted(by_name) == ["widgets", "widgets/scale", "widgets/status"]
        main = by_name["widgets"]
        assert (main["kind"], main["singularName"], main["namespaced"]) == (
            "Widget",
            "widget",
            True,
        )
        assert main["shortNames"] == ["wd"]
        assert main["categories"] == ["all"]
        assert sorted(main["verbs"]) == sorted(
            ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        )
        scale = by_name["widgets/scale"]
        assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
        assert sorted(scale["verbs"]) == ["get", "patch", "update"]
        assert by_name["widgets/status"]["kind"] == "Widget"


async def test_crd_discovery_aggregated(client: httpx.AsyncClient) -> None:
    before = await client.get("/apis", headers={"Accept": AGGREGATED})
    assert before.headers["content-type"] == AGGREGATED
    etag = before.headers["etag"]
    assert "example.com" not in [i["metadata"]["name"] for i in before.json()["items"]]
    await create(client, CRDS, WIDGETS_CRD)
    # the cached document is stale now: the old ETag no longer matches
    after = await client.get("/apis", headers={"Accept": AGGREGATED, "If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    item = next(i for i in after.json()["items"] if i["metadata"]["name"] == "example.com")
    assert [v["version"] for v in item["versions"]] == ["v1", "v1beta1"]
    for v in item["versions"]:
        assert v["freshness"] == "Current"
        (res,) = v["resources"]
        assert res["resource"] == "widgets"
        assert res["responseKind"] == {
            "group": "example.com",
            "version": v["version"],
            "kind": "Widget",
        }
        assert res["scope"] == "Namespaced"
        assert res["singularResource"] == "widget"
        assert res["shortNames"] == ["wd"]
        assert res["subresources"] == [
            {
                "subresource": "scale",
                "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                "verbs": ["get", "patch", "update"],
            },
            {
                "subresource": "status",
                "responseKind": {"group": "example.com", "version": v["version"], "kind": "Widget"},
                "verbs": ["get", "patch", "update"],
            },
        ]
    same = await client.get(
        "/apis", headers={"Accept": AGGREGATED, "If-None-Match": after.headers["etag"]}
    )
    assert same.status_code == 304


async def test_crd_unserved_version_leaves_discovery(
    client: httpx.AsyncClient, widgets: JSON
) -> None:
    await create(client, V1BETA1, widget("w", "v1beta1"))
    r = await client.patch(
        f"{CRDS}/widgets.example.com",
        content=json.dumps([{"op": "replace", "path": "/spec/versions/1/served", "value": False}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 200
    assert r.json()["metadata"]["generation"] == widgets["metadata"]["generation"] + 1
    assert (await client.get("/apis/example.com/v1beta1")).status_code == 404
    assert (await client.get(f"{V1BETA1}/w")).status_code == 404
    group = (await client.get("/apis/example.com")).json()
    assert [v["version"] for v in group["versions"]] == ["v1"]
    # the objects stay, served in the remaining version
    assert (await client.get(f"{V1}/w")).json()["apiVersion"] == "example.com/v1"


# -- custom resources -----------------------------------------------------------------------------


async def test_cr_versions_share_storage(client: httpx.AsyncClient, widgets: JSON) -> None:
    created = await create(client, V1, widget("w1", color="red", replicas=1))
    assert created["apiVersion"] == "example.com/v1"
    assert created["metadata"]["generation"] == 1
    assert created["metadata"]["namespace"] == "default"
    seen = (await client.get(f"{V1BETA1}/w1")).json()
    assert seen["apiVersion"] == "example.com/v1beta1"
    assert seen["metadata"]["uid"] == created["metadata"]["uid"]
    assert seen["spec"] == {"color": "red", "replicas": 1}

    other = await create(client, V1BETA1, widget("w2", "v1beta1", color="blue"))
    assert other["apiVersion"] == "example.com/v1beta1"
    listed = (await client.get(V1)).json()
    assert listed["kind"] == "WidgetList"
    assert listed["apiVersion"] == "example.com/v1"
    assert [(i["metadata"]["name"], i["apiVersion"]) for i in listed["items"]] == [
        ("w1", "example.com/v1"),
        ("w2", "example.com/v1"),
    ]
    # a mismatching apiVersion in the body is refused
    r = await client.post(V1, json=widget("w3", "v1beta1"))
    assert r.status_code == 400
    assert r.json() == failure(
        400,
        "BadRequest",
        "the API version in the data (example.com/v1beta1) does not match the expected API "
        "version (example.com/v1)",
    )
    # all-namespaces list in the other version
    everywhere = (await client.get("/apis/example.com/v1beta1/widgets")).json()
    assert [i["apiVersion"] for i in everywhere["items"]] == ["example.com/v1beta1"] * 2


async def test_cr_watch_follows_url_version(client: httpx.AsyncClient, widgets: JSON) -> None:
    async with watch_from_now(client, V1BETA1) as watch:
        created = await create(client, V1, widget("w", color="red"))
        kind, obj = await watch.change()
    assert kind == "ADDED"
    assert obj["apiVersion"] == "example.com/v1beta1"
    assert obj["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_cr_status_subresource_split(client: httpx.AsyncClient, widgets: JSON) -> None:
    body = widget("w", color="red", replicas=1)
    body["status"] = {"replicas": 9}
    created = await create(client, V1, body)
    assert "status" not in created

    r = await client.patch(
        f"{V1}/w/status", content=json.dumps({"status": {"replicas": 1}}), headers=MERGE
    )
    assert r.status_code == 200
    after_status = r.json()
    assert after_status["status"] == {"replicas": 1}
    assert after_status["metadata"]["generation"] == 1

    # a status write ignores everything else ...
    r = await client.patch(
        f"{V1}/w/status",
        content=json.dumps({"spec": {"color": "blue"}, "status": {"replicas": 2}}),
        headers=MERGE,
    )
    assert r.json()["spec"]["color"] == "red"
    assert r.json()["status"] == {"replicas": 2}
    assert r.json()["metadata"]["generation"] == 1

    # ... and a main-resource write ignores the status, bumping generation on spec changes
    current = r.json()
    current["spec"]["color"] = "green"
    current["status"] = {"replicas": 7}
    r = await client.put(f"{V1}/w", json=current)
    assert r.status_code == 200
    assert r.json()["spec"]["color"] == "green"
    assert r.json()["status"] == {"replicas": 2}
    assert r.json()["metadata"]["generation"] == 2

    got = (await client.get(f"{V1BETA1}/w/status")).json()
    assert got["apiVersion"] == "example.com/v1beta1"
    assert got["status"] == {"replicas": 2}


async def test_cr_scale_subresource(client: httpx.AsyncClient, widgets: JSON) -> None:
    created = await create(client, V1, widget("w", replicas=2))
    await client.patch(
        f"{V1}/w/status",
        content=json.dumps({"status": {"replicas": 2, "selector": "app=w"}}),
        headers=MERGE,
    )
    r = await client.get(f"{V1}/w/scale")
    assert r.status_code == 200
    scale = r.json()
    assert scale["kind"] == "Scale"
    assert scale["apiVersion"] == "autoscaling/v1"
    assert scale["metadata"]["name"] == "w"
    assert scale["metadata"]["namespace"] == "default"
    assert scale["metadata"]["uid"] == created["metadata"]["uid"]
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": "app=w"}

    async with watch_from_now(client, V1) as watch:
        scale["spec"]["replicas"] = 5
        r = await client.put(f"{V1}/w/scale", json=scale)
        assert r.status_code == 200
        assert r.json()["spec"] == {"replicas": 5}
        kind, obj = await watch.change()
    assert kind == "MODIFIED"
    assert obj["spec"]["replicas"] == 5
    assert obj["metadata"]["generation"] == 2

    # a stale resourceVersion conflicts
    r = await client.put(f"{V1}/w/scale", json=scale)
    assert r.status_code == 409
    assert r.json() == failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on widgets.example.com "w": the object has been '
        "modified; please apply your changes to the latest version and try again",
        {"name": "w", "group": "example.com", "kind": "widgets"},
    )
    r = await client.patch(
        f"{V1}/w/scale", content=json.dumps({"spec": {"replicas": 1}}), headers=MERGE
    )
    assert r.status_code == 200
    assert (await client.get(f"{V1}/w")).json()["spec"]["replicas"] == 1


async def test_cr_field_selector_on_selectable_field(
    client: httpx.AsyncClient, widgets: JSON
) -> None:
    await create(client, V1, widget("a", color="red"))
    await create(client, V1, widget("b", color="blue"))
    await create(client, V1, widget("c", color="red"))
    r = await client.get(V1, params={"fieldSelector": "spec.color=red"})
    assert [i["metadata"]["name"] for i in r.json()["items"]] == ["a", "c"]
    r = await client.get(V1BETA1, params={"fieldSelector": "spec.color!=red,metadata.name!=x"})
    assert [i["metadata"]["name"] for i in r.json()["items"]] == ["b"]
    r = await client.get(V1, params={"fieldSelector": "spec.size=1"})
    assert r.status_code == 400
    assert r.json() == failure(400, "BadRequest", "field label not supported: spec.size")


async def test_cr_table_shows_printer_columns(client: httpx.AsyncClient, widgets: JSON) -> None:
    await create(client, V1, widget("a", color="red", replicas=3))
    r = await client.get(V1, headers={"Accept": TABLE})
    assert r.status_code == 200
    table = r.json()
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    names = [(c["name"], c["type"]) for c in table["columnDefinitions"]]
    assert names == [("Name", "string"), ("Color", "string"), ("Replicas", "integer")]
    (row,) = table["rows"]
    assert row["cells"] == ["a", "red", 3]
    assert row["object"]["metadata"]["name"] == "a"


async def test_cr_strategic_merge_patch_is_unsupported(
    client: httpx.AsyncClient, widgets: JSON
) -> None:
    await create(client, V1, widget("w", color="red"))
    r = await client.patch(
        f"{V1}/w",
        content=json.dumps({"spec": {"color": "blue"}}),
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert r.status_code == 415
    assert r.json() == failure(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    )
    r = await client.patch(
        f"{V1}/w",
        content=json.dumps([{"op": "replace", "path": "/spec/color", "value": "blue"}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 200
    assert r.json()["spec"]["color"] == "blue"


async def test_cr_put_requires_resource_version(client: httpx.AsyncClient, widgets: JSON) -> None:
    created = await create(client, V1, widget("w", color="red"))
    body = widget("w", color="blue")
    r = await client.put(f"{V1}/w", json=body)
    assert r.status_code == 422
    message = "Invalid value: 0x0: must be specified for an update"
    assert r.json() == failure(
        422,
        "Invalid",
        f'widgets.example.com "w" is invalid: metadata.resourceVersion: {message}',
        {
            "name": "w",
            "group": "example.com",
            "kind": "widgets",
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "message": message,
                    "field": "metadata.resourceVersion",
                }
            ],
        },
    )
    assert (await client.get(f"{V1}/w")).json()["spec"]["color"] == "red"
    body["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    r = await client.put(f"{V1}/w", json=body)
    assert r.status_code == 200
    assert r.json()["spec"]["color"] == "blue"

    # built-ins allow the unconditional update
    r = await client.post(
        "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "cm"}}
    )
    r = await client.put(
        "/api/v1/namespaces/default/configmaps/cm",
        json={"metadata": {"name": "cm"}, "data": {"a": "b"}},
    )
    assert r.status_code == 200
    assert r.json()["data"] == {"a": "b"}


async def test_cr_cluster_scoped(client: httpx.AsyncClient) -> None:
    await create(client, CRDS, GADGETS_CRD)
    path = "/apis/example.org/v1/gadgets"
    gadget = {"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    created = await create(client, path, gadget)
    assert "namespace" not in created["metadata"]
    got = (await client.get(f"{path}/g")).json()
    assert got["metadata"]["uid"] == created["metadata"]["uid"]
    resources = (await client.get("/apis/example.org/v1")).json()["resources"]
    assert [(r["name"], r["namespaced"]) for r in resources] == [("gadgets", False)]
    # there is no namespaced URL for it
    r = await client.get("/apis/example.org/v1/namespaces/default/gadgets/g")
    assert r.status_code == 404
    r = await client.delete(f"{path}/g")
    assert r.status_code == 200
    assert r.json()["details"] == {
        "name": "g",
        "group": "example.org",
        "kind": "gadgets",
        "uid": created["metadata"]["uid"],
    }


# -- deleting the CRD -----------------------------------------------------------------------------


async def test_crd_delete_removes_objects_and_discovery(client: httpx.AsyncClient) -> None:
    await create(client, CRDS, WIDGETS_CRD)
    await create(client, V1, widget("a"))
    await create(client, V1, widget("b"))
    etag = (await client.get("/apis", headers={"Accept": AGGREGATED})).headers["etag"]
    async with watch_from_now(client, V1) as watch:
        r = await client.delete(f"{CRDS}/widgets.example.com")
        assert r.status_code == 200
        marked = r.json()
        assert marked["kind"] == "CustomResourceDefinition"
        assert marked["metadata"]["deletionTimestamp"]
        assert marked["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
        terminating = next(c for c in marked["status"]["conditions"] if c["type"] == "Terminating")
        assert (terminating["status"], terminating["reason"]) == (
            "True",
            "InstanceDeletionPending",
        )
        events = [await watch.change(), await watch.change()]
    assert [(k, o["metadata"]["name"]) for k, o in events] == [("DELETED", "a"), ("DELETED", "b")]
    assert (await client.get(f"{CRDS}/widgets.example.com")).status_code == 404
    for version in ("v1", "v1beta1"):
        r = await client.get(f"/apis/example.com/{version}")
        assert r.status_code == 404
        assert r.json() == failure(
            404, "NotFound", "the server could not find the requested resource", {}
        )
    r = await client.get(V1)
    assert r.status_code == 404
    groups = [g["name"] for g in (await client.get("/apis")).json()["groups"]]
    assert "example.com" not in groups
    after = await client.get("/apis", headers={"Accept": AGGREGATED, "If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert "example.com" not in [i["metadata"]["name"] for i in after.json()["items"]]


async def test_crd_terminating_refuses_new_resources(client: httpx.AsyncClient) -> None:
    await create(client, CRDS, WIDGETS_CRD)
    held = widget("held")
    held["metadata"]["finalizers"] = [HOLD]
    await create(client, V1, held)
    r = await client.delete(f"{CRDS}/widgets.example.com")
    assert r.status_code == 200

    # the held resource keeps the CRD (and its endpoints) alive
    crd = (await client.get(f"{CRDS}/widgets.example.com")).json()
    assert crd["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    still = (await client.get(f"{V1}/held")).json()
    assert still["metadata"]["deletionTimestamp"]

    r = await client.post(V1, json=widget("late"))
    assert r.status_code == 405
    assert r.json() == failure(
        405,
        "MethodNotAllowed",
        "create not allowed while custom resource definition is terminating",
        {"group": "example.com", "kind": "widgets"},
    )

    r = await client.patch(
        f"{V1}/held", content=json.dumps({"metadata": {"finalizers": None}}), headers=MERGE
    )
    assert r.status_code == 200
    assert (await client.get(f"{CRDS}/widgets.example.com")).status_code == 404
    assert (await client.get("/apis/example.com/v1")).status_code == 404

    # the same CRD can be created again, empty
    await create(client, CRDS, WIDGETS_CRD)
    assert (await client.get(V1)).json()["items"] == []
