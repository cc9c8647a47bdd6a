"""Conformance of the fake API server, over raw httpx: the four patch types.

JSON patch (RFC 6902, a failed ``test`` is 422), JSON merge patch (RFC 7386, null deletes, lists
replaced), strategic merge patch (merge keys and directives; custom resources refuse it with
415) and server-side apply (create-if-missing, ownership in managedFields, conflicts with one
cause per field, force, co-ownership, removal of fields the applier stopped owning), plus the
errors of the patch options.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from support import APPS, CORE, JSON, MERGE, configmap, crd, create, deployment, failure, patch

from kr8s_trio.testing import FakeCluster

JSON_PATCH = {"Content-Type": "application/json-patch+json"}
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
APPLY = {"Content-Type": "application/apply-patch+yaml"}

#: the 409 for a write to ConfigMap "cm" that names a stale resourceVersion
CM_CONFLICT = failure(
    409,
    "Conflict",
    'Operation cannot be fulfilled on configmaps "cm": the object has been modified; '
    "please apply your changes to the latest version and try again",
    {"name": "cm", "kind": "configmaps"},
)


def containers(obj: JSON) -> list[tuple[str, str]]:
    return [(c["name"], c["image"]) for c in obj["spec"]["template"]["spec"]["containers"]]


def managers(obj: JSON) -> dict[str, JSON]:
    """managedFields by manager name: {manager: fieldsV1}."""
    return {e["manager"]: e["fieldsV1"] for e in obj["metadata"].get("managedFields", [])}


@pytest.fixture
async def api(api_cluster: FakeCluster) -> AsyncIterator[httpx.AsyncClient]:
    async with api_cluster.http_client(headers={"User-Agent": "patcher/0.1"}) as client:
        yield client


async def apply_cm(
    api: httpx.AsyncClient, body: object, manager: str, expect: int = 200, **params: str
) -> JSON:
    """Server-side apply ``body`` to ConfigMap "cm" as ``manager``, which must answer ``expect``;
    the body of the answer."""
    return await patch(
        api, f"{CORE}/configmaps/cm", body, APPLY, expect, fieldManager=manager, **params
    )


# -- JSON patch ---------------------------------------------------------------------------------


async def test_json_patch_applies_operations_in_order(api: httpx.AsyncClient) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm", {"a": "1"}, x="1", y="2"))
    ops = [
        {"op": "test", "path": "/data/x", "value": "1"},
        {"op": "add", "path": "/metadata/labels/b", "value": "2"},
        {"op": "replace", "path": "/data/x", "value": "10"},
        {"op": "remove", "path": "/data/y"},
        {"op": "copy", "from": "/data/x", "path": "/data/z"},
        {"op": "move", "from": "/metadata/labels/a", "path": "/metadata/labels/c"},
    ]
    obj = await patch(api, f"{CORE}/configmaps/cm", ops, JSON_PATCH)
    assert obj["data"] == {"x": "10", "z": "10"}
    assert obj["metadata"]["labels"] == {"b": "2", "c": "1"}
    assert (await api.get(f"{CORE}/configmaps/cm")).json() == obj


async def test_json_patch_failed_test_is_422_and_changes_nothing(api: httpx.AsyncClient) -> None:
    before = await create(api, f"{CORE}/configmaps", configmap("cm", x="1"))
    ops = [
        {"op": "replace", "path": "/data/x", "value": "2"},
        {"op": "test", "path": "/data/x", "value": "1"},
    ]
    body = await patch(api, f"{CORE}/configmaps/cm", ops, JSON_PATCH, expect=422)
    assert body == failure(
        422, "Invalid", "the server rejected our request due to an error in our request", {}
    )
    assert (await api.get(f"{CORE}/configmaps/cm")).json() == before


async def test_json_patch_that_is_not_a_list_is_400(api: httpx.AsyncClient) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm"))
    body = await patch(api, f"{CORE}/configmaps/cm", {"op": "add"}, JSON_PATCH, expect=400)
    assert (body["status"], body["reason"], body["code"]) == ("Failure", "BadRequest", 400)


# -- JSON merge patch ---------------------------------------------------------------------------


async def test_merge_patch_null_deletes_and_maps_merge(api: httpx.AsyncClient) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm", {"a": "1", "b": "2"}, x="1", y="2"))
    obj = await patch(
        api,
        f"{CORE}/configmaps/cm",
        {"metadata": {"labels": {"a": None, "c": "3"}}, "data": {"y": None, "z": "3"}},
        MERGE,
    )
    assert obj["metadata"]["labels"] == {"b": "2", "c": "3"}
    assert obj["data"] == {"x": "1", "z": "3"}


async def test_merge_patch_replaces_lists_wholesale(api: httpx.AsyncClient) -> None:
    await create(api, f"{APPS}/deployments", deployment("web", "a", "b"))
    patched = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "c:1"}]}}}}
    obj = await patch(api, f"{APPS}/deployments/web", patched, MERGE)
    assert containers(obj) == [("c", "c:1")]


async def test_merge_patch_with_stale_resource_version_is_409(
    api: httpx.AsyncClient, api_cluster: FakeCluster
) -> None:
    cm = await create(api, f"{CORE}/configmaps", configmap("cm", x="1"))
    stale = cm["metadata"]["resourceVersion"]
    api_cluster.bump_resource_version("configmaps", "cm")
    body = await patch(
        api,
        f"{CORE}/configmaps/cm",
        {"metadata": {"resourceVersion": stale}, "data": {"x": "2"}},
        MERGE,
        expect=409,
    )
    assert body == CM_CONFLICT
    assert (await api.get(f"{CORE}/configmaps/cm")).json()["data"] == {"x": "1"}
    current = (await api.get(f"{CORE}/configmaps/cm")).json()["metadata"]["resourceVersion"]
    obj = await patch(
        api,
        f"{CORE}/configmaps/cm",
        {"metadata": {"resourceVersion": current}, "data": {"x": "2"}},
        MERGE,
    )
    assert obj["data"] == {"x": "2"}


# -- strategic merge patch ----------------------------------------------------------------------


async def test_strategic_merge_patch_merges_containers_by_name(api: httpx.AsyncClient) -> None:
    await create(api, f"{APPS}/deployments", deployment("web", "a", "b"))
    body = {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}}
    obj = await patch(api, f"{APPS}/deployments/web", body, STRATEGIC)
    assert containers(obj) == [("a", "a:1"), ("b", "b:2")]
    body = {"spec": {"template": {"spec": {"containers": [{"name": "z", "image": "z:1"}]}}}}
    obj = await patch(api, f"{APPS}/deployments/web", body, STRATEGIC)
    # without $setElementOrder, items new to the list go first (strategicpatch mergeSortedSlice)
    assert containers(obj) == [("z", "z:1"), ("a", "a:1"), ("b", "b:2")]


async def test_strategic_merge_patch_delete_directive_removes_an_item(
    api: httpx.AsyncClient,
) -> None:
    await create(api, f"{APPS}/deployments", deployment("web", "a", "b"))
    body = {"spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}}
    obj = await patch(api, f"{APPS}/deployments/web", body, STRATEGIC)
    assert containers(obj) == [("b", "b:1")]


async def test_strategic_merge_patch_set_element_order(api: httpx.AsyncClient) -> None:
    await create(api, f"{APPS}/deployments", deployment("web", "a", "b"))
    body = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                    "containers": [{"name": "a", "image": "a:2"}],
                }
            }
        }
    }
    obj = await patch(api, f"{APPS}/deployments/web", body, STRATEGIC)
    assert containers(obj) == [("b", "b:1"), ("a", "a:2")]


async def test_strategic_merge_patch_retain_keys_drops_other_fields(
    api: httpx.AsyncClient,
) -> None:
    created = await create(api, f"{APPS}/deployments", deployment("web", "a"))
    assert created["spec"]["strategy"]["type"] == "RollingUpdate"
    assert "rollingUpdate" in created["spec"]["strategy"]
    body = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    obj = await patch(api, f"{APPS}/deployments/web", body, STRATEGIC)
    assert obj["spec"]["strategy"] == {"type": "Recreate"}
    assert obj["metadata"]["generation"] == 2


async def test_strategic_merge_patch_on_a_custom_resource_is_415(api: httpx.AsyncClient) -> None:
    gadgets = crd("example.com", "gadgets", "Gadget")
    await create(api, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", gadgets)
    path = "/apis/example.com/v1/namespaces/default/gadgets"
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    await create(api, path, {**gadget, "spec": {"size": 1}})

    body = await patch(api, f"{path}/g", {"spec": {"size": 2}}, STRATEGIC, expect=415)
    assert body == failure(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    )
    obj = await patch(api, f"{path}/g", {"spec": {"size": 2}}, MERGE)
    assert obj["spec"] == {"size": 2}


async def test_patch_with_an_unknown_content_type_is_415(api: httpx.AsyncClient) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm"))
    body = await patch(
        api, f"{CORE}/configmaps/cm", {}, {"Content-Type": "application/xml"}, expect=415
    )
    assert body == failure(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml",
    )


async def test_patch_of_a_missing_object_is_404(api: httpx.AsyncClient) -> None:
    body = await patch(api, f"{CORE}/configmaps/ghost", {"data": {}}, MERGE, expect=404)
    assert body == failure(
        404, "NotFound", 'configmaps "ghost" not found', {"name": "ghost", "kind": "configmaps"}
    )


# -- patch options ------------------------------------------------------------------------------


async def test_patch_force_on_a_non_apply_patch_is_422(api: httpx.AsyncClient) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm"))
    body = await patch(
        api, f"{CORE}/configmaps/cm", {"data": {"x": "1"}}, MERGE, expect=422, force="true"
    )
    assert body == failure(
        422,
        "Invalid",
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for '
        "non-apply patch",
        {
            "group": "meta.k8s.io",
            "kind": "PatchOptions",
            "causes": [
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: may not be specified for non-apply patch",
                    "field": "force",
                }
            ],
        },
    )


async def test_apply_without_field_manager_is_422_even_with_a_user_agent(
    api: httpx.AsyncClient,
) -> None:
    body = await patch(api, f"{CORE}/configmaps/cm", configmap("cm", x="1"), APPLY, expect=422)
    assert body == failure(
        422,
        "Invalid",
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
        "for apply patch",
        {
            "group": "meta.k8s.io",
            "kind": "PatchOptions",
            "causes": [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value: is required for apply patch",
                    "field": "fieldManager",
                }
            ],
        },
    )
    assert (await api.get(f"{CORE}/configmaps/cm")).status_code == 404


# -- server-side apply --------------------------------------------------------------------------


async def test_apply_creates_a_missing_object_with_an_apply_entry(api: httpx.AsyncClient) -> None:
    r = await api.patch(
        f"{CORE}/configmaps/cm",
        content=json.dumps(configmap("cm", {"app": "x"}, k="v")),
        headers=APPLY,
        params={"fieldManager": "deployer"},
    )
    assert r.status_code == 201
    obj = r.json()
    assert obj["data"] == {"k": "v"}
    (entry,) = obj["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"], entry["apiVersion"]) == (
        "deployer",
        "Apply",
        "v1",
    )
    assert entry["fieldsV1"] == {
        "f:data": {"f:k": {}},
        "f:metadata": {"f:labels": {"f:app": {}}},
    }
    # applying the same configuration again changes nothing
    again = await apply_cm(api, configmap("cm", {"app": "x"}, k="v"), "deployer")
    assert again["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


async def test_apply_yaml_body_is_accepted(api: httpx.AsyncClient) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n"
    r = await api.patch(
        f"{CORE}/configmaps/cm", content=manifest, headers=APPLY, params={"fieldManager": "y"}
    )
    assert r.status_code == 201
    assert r.json()["data"] == {"k": "v"}


async def test_apply_conflicts_with_another_manager_one_cause_per_field(
    api: httpx.AsyncClient,
) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm", a="1", b="2"), fieldManager="editor")
    body = await apply_cm(api, configmap("cm", a="10", b="20"), "deployer", 409)
    cause = 'conflict with "editor" using v1'
    assert body == failure(
        409,
        "Conflict",
        'Apply failed with 2 conflicts: conflicts with "editor" using v1:\n- .data.a\n- .data.b',
        {
            "causes": [
                {"reason": "FieldManagerConflict", "message": cause, "field": ".data.a"},
                {"reason": "FieldManagerConflict", "message": cause, "field": ".data.b"},
            ]
        },
    )
    body = await apply_cm(api, configmap("cm", a="10"), "deployer", 409)
    assert body == failure(
        409,
        "Conflict",
        'Apply failed with 1 conflict: conflict with "editor" using v1: .data.a',
        {"causes": [{"reason": "FieldManagerConflict", "message": cause, "field": ".data.a"}]},
    )
    assert (await api.get(f"{CORE}/configmaps/cm")).json()["data"] == {"a": "1", "b": "2"}


async def test_apply_force_takes_ownership(api: httpx.AsyncClient) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm", a="1", b="2"), fieldManager="editor")
    obj = await apply_cm(api, configmap("cm", a="10"), "deployer", force="true")
    assert obj["data"] == {"a": "10", "b": "2"}
    owners = managers(obj)
    assert owners["deployer"] == {"f:data": {"f:a": {}}}
    assert owners["editor"] == {"f:data": {".": {}, "f:b": {}}}
    # the editor lost .data.a: changing it back is now the deployer's to conflict over
    body = await apply_cm(api, configmap("cm", a="1"), "editor-apply", 409)
    assert body["message"] == 'Apply failed with 1 conflict: conflict with "deployer": .data.a'


async def test_apply_same_value_is_co_owned_and_survives_one_owner_leaving(
    api: httpx.AsyncClient,
) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm", a="1"), fieldManager="editor")
    obj = await apply_cm(api, configmap("cm", a="1", b="2"), "deployer")
    owners = managers(obj)
    assert owners["deployer"] == {"f:data": {"f:a": {}, "f:b": {}}}
    assert "f:a" in owners["editor"]["f:data"]

    # the deployer stops applying both fields: b (only its own) goes, a (co-owned) stays
    obj = await apply_cm(
        api, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}, "deployer"
    )
    assert obj["data"] == {"a": "1"}


async def test_apply_removes_fields_the_applier_stopped_owning(api: httpx.AsyncClient) -> None:
    first = configmap("cm", {"keep": "1", "drop": "2"}, x="1", y="2")
    await apply_cm(api, first, "deployer", 201)
    obj = await apply_cm(api, configmap("cm", {"keep": "1"}, x="1"), "deployer")
    assert obj["data"] == {"x": "1"}
    assert obj["metadata"]["labels"] == {"keep": "1"}
    assert managers(obj)["deployer"] == {
        "f:data": {"f:x": {}},
        "f:metadata": {"f:labels": {"f:keep": {}}},
    }


async def test_apply_with_stale_resource_version_is_409(
    api: httpx.AsyncClient, api_cluster: FakeCluster
) -> None:
    obj = await apply_cm(api, configmap("cm", x="1"), "m", 201)
    api_cluster.bump_resource_version("configmaps", "cm")
    body = configmap("cm", x="2")
    body["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
    status = await apply_cm(api, body, "m", 409)
    assert status == CM_CONFLICT
    assert (await api.get(f"{CORE}/configmaps/cm")).json()["data"] == {"x": "1"}


async def test_apply_to_a_deployment_merges_containers_by_name(api: httpx.AsyncClient) -> None:
    await create(api, f"{APPS}/deployments", deployment("web", "a"), fieldManager="creator")
    applied = deployment("web", "b")
    obj = await patch(
        api, f"{APPS}/deployments/web", applied, APPLY, fieldManager="sidecar", force="true"
    )
    assert sorted(containers(obj)) == [("a", "a:1"), ("b", "b:1")]
    assert obj["metadata"]["generation"] == 2
