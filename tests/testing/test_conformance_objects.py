"""Conformance of the fake API server, over raw httpx: objects and their errors.

CRUD on namespaced and cluster-scoped kinds, server-set metadata, generateName, namespace rules,
optimistic concurrency and preconditions, immutability, dry-run, no-op writes, the exact Status
bodies kube-apiserver answers with, and the status and scale subresources.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from support import (
    APPS,
    CORE,
    JSON,
    MERGE,
    configmap,
    create,
    failure,
    namespace,
    pod,
    success,
    watch,
)

from kr8s_trio.testing import FakeCluster

UA = "conformance-suite/1.2.3 (linux/amd64) objects"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def deployment(name: str, replicas: int = 1) -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"team": "a"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
            },
        },
    }


@pytest.fixture
async def api(api_cluster: FakeCluster) -> AsyncIterator[httpx.AsyncClient]:
    async with api_cluster.http_client(headers={"User-Agent": UA}) as client:
        yield client


async def list_rv(api: httpx.AsyncClient, path: str) -> str:
    r = await api.get(path)
    assert r.status_code == 200, r.text
    return str(r.json()["metadata"]["resourceVersion"])


# -- CRUD --------------------------------------------------------------------------------------


async def test_crud_configmap_create_get_replace_delete(api: httpx.AsyncClient) -> None:
    created = await create(api, f"{CORE}/configmaps", configmap("cm", k="v"))
    assert created["kind"] == "ConfigMap"
    assert created["apiVersion"] == "v1"
    assert created["metadata"]["namespace"] == "default"
    assert created["data"] == {"k": "v"}

    r = await api.get(f"{CORE}/configmaps/cm")
    assert r.status_code == 200
    assert r.json() == created

    body = {**created, "data": {"k": "w"}}
    r = await api.put(f"{CORE}/configmaps/cm", json=body)
    assert r.status_code == 200
    replaced = r.json()
    assert replaced["data"] == {"k": "w"}
    assert int(replaced["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"]
    )
    assert replaced["metadata"]["uid"] == created["metadata"]["uid"]

    r = await api.get(f"{CORE}/configmaps")
    assert r.status_code == 200
    listed = r.json()
    assert (listed["kind"], listed["apiVersion"]) == ("ConfigMapList", "v1")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["cm"]
    assert listed["metadata"]["resourceVersion"] == replaced["metadata"]["resourceVersion"]

    r = await api.delete(f"{CORE}/configmaps/cm")
    assert r.status_code == 200
    assert r.json() == success(
        {"name": "cm", "kind": "configmaps", "uid": created["metadata"]["uid"]}
    )
    r = await api.get(f"{CORE}/configmaps/cm")
    assert r.status_code == 404
    assert r.json() == failure(
        404, "NotFound", 'configmaps "cm" not found', {"name": "cm", "kind": "configmaps"}
    )


async def test_crud_pod_delete_answers_with_the_deleted_object(api: httpx.AsyncClient) -> None:
    created = await create(api, f"{CORE}/pods", pod("p"))
    r = await api.delete(f"{CORE}/pods/p")
    assert r.status_code == 200
    deleted = r.json()
    assert (deleted["kind"], deleted["metadata"]["name"]) == ("Pod", "p")
    assert deleted["metadata"]["uid"] == created["metadata"]["uid"]
    assert (await api.get(f"{CORE}/pods/p")).status_code == 404


async def test_crud_deployment_in_a_named_group(api: httpx.AsyncClient) -> None:
    created = await create(api, f"{APPS}/deployments", deployment("web"))
    assert (created["apiVersion"], created["kind"]) == ("apps/v1", "Deployment")

    r = await api.get(f"{APPS}/deployments")
    assert (r.json()["kind"], r.json()["apiVersion"]) == ("DeploymentList", "apps/v1")
    r = await api.get("/apis/apps/v1/deployments")
    assert [i["metadata"]["name"] for i in r.json()["items"]] == ["web"]

    r = await api.delete(f"{APPS}/deployments/web")
    assert r.status_code == 200
    assert r.json()["status"] == "Success"
    assert r.json()["details"] == {
        "name": "web",
        "group": "apps",
        "kind": "deployments",
        "uid": created["metadata"]["uid"],
    }
    r = await api.get(f"{APPS}/deployments/web")
    assert r.json() == failure(
        404,
        "NotFound",
        'deployments.apps "web" not found',
        {"name": "web", "group": "apps", "kind": "deployments"},
    )


async def test_crud_cluster_scoped_nodes_and_system_clusterroles(api: httpx.AsyncClient) -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "namespace": "x"}}
    created = await create(api, "/api/v1/nodes", node)
    assert "namespace" not in created["metadata"]
    r = await api.get("/api/v1/nodes/n1")
    assert r.json()["metadata"]["uid"] == created["metadata"]["uid"]
    r = await api.get("/api/v1/nodes")
    assert (r.json()["kind"], [i["metadata"]["name"] for i in r.json()["items"]]) == (
        "NodeList",
        ["n1"],
    )

    rbac = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "system:test-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    await create(api, rbac, role)
    r = await api.get(f"{rbac}/system:test-reader")
    assert r.status_code == 200
    assert r.json()["rules"] == role["rules"]
    r = await api.delete(f"{rbac}/system:test-reader")
    assert r.status_code == 200
    r = await api.get(f"{rbac}/system:test-reader")
    assert r.json() == failure(
        404,
        "NotFound",
        'clusterroles.rbac.authorization.k8s.io "system:test-reader" not found',
        {
            "name": "system:test-reader",
            "group": "rbac.authorization.k8s.io",
            "kind": "clusterroles",
        },
    )


async def test_crud_namespace_is_created_active_and_deleted_through_terminating(
    api: httpx.AsyncClient,
) -> None:
    created = await create(api, "/api/v1/namespaces", namespace("team"))
    assert created["spec"] == {"finalizers": ["kubernetes"]}
    assert created["status"] == {"phase": "Active"}
    finalized = configmap("held", metadata={"finalizers": ["x/y"]})
    await create(api, "/api/v1/namespaces/team/configmaps", finalized)

    r = await api.delete("/api/v1/namespaces/team")
    assert r.status_code == 200
    assert r.json()["status"]["phase"] == "Terminating"
    assert TIMESTAMP.match(r.json()["metadata"]["deletionTimestamp"])

    r = await api.post("/api/v1/namespaces/team/configmaps", json=configmap("late"))
    assert r.status_code == 403
    assert r.json() == failure(
        403,
        "Forbidden",
        'configmaps "late" is forbidden: unable to create new content in namespace team '
        "because it is being terminated",
        {"name": "late", "kind": "configmaps"},
    )

    r = await api.patch(
        "/api/v1/namespaces/team/configmaps/held",
        json={"metadata": {"finalizers": None}},
        headers=MERGE,
    )
    assert r.status_code == 200
    assert (await api.get("/api/v1/namespaces/team")).status_code == 404


# -- server-set metadata -------------------------------------------------------------------------


async def test_metadata_is_set_by_the_server(api: httpx.AsyncClient) -> None:
    body = configmap("a")
    body["metadata"].update(uid="client-uid", creationTimestamp="2000-01-01T00:00:00Z")
    a = await create(api, f"{CORE}/configmaps", body)
    node = await create(
        api, "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}
    )
    b = await create(api, f"{CORE}/configmaps", configmap("b"))

    meta = a["metadata"]
    assert uuid.UUID(meta["uid"]).version == 4
    assert meta["uid"] != "client-uid"
    assert meta["creationTimestamp"] != "2000-01-01T00:00:00Z"
    assert TIMESTAMP.match(meta["creationTimestamp"])
    assert "generation" not in meta  # configmaps have no spec
    # one global, monotonically increasing resourceVersion shared by every kind
    rvs = [int(o["metadata"]["resourceVersion"]) for o in (a, node, b)]
    assert rvs == sorted(set(rvs))
    assert await list_rv(api, f"{CORE}/configmaps") == str(rvs[-1])
    assert len({a["metadata"]["uid"], b["metadata"]["uid"], node["metadata"]["uid"]}) == 3


async def test_metadata_generation_counts_spec_changes_only(api: httpx.AsyncClient) -> None:
    d = await create(api, f"{APPS}/deployments", deployment("web"))
    assert d["metadata"]["generation"] == 1

    d["metadata"]["labels"] = {"team": "b"}
    r = await api.put(f"{APPS}/deployments/web", json=d)
    relabelled = r.json()
    assert relabelled["metadata"]["labels"] == {"team": "b"}
    assert relabelled["metadata"]["generation"] == 1
    assert relabelled["metadata"]["resourceVersion"] != d["metadata"]["resourceVersion"]

    r = await api.patch(f"{APPS}/deployments/web", json={"spec": {"replicas": 4}}, headers=MERGE)
    assert r.json()["metadata"]["generation"] == 2

    r = await api.patch(
        f"{APPS}/deployments/web/status",
        json={"status": {"observedGeneration": 2, "replicas": 4}},
        headers=MERGE,
    )
    assert r.status_code == 200
    assert r.json()["metadata"]["generation"] == 2
    assert r.json()["status"] == {"observedGeneration": 2, "replicas": 4}


async def test_metadata_managed_fields_manager_from_field_manager_or_user_agent(
    api: httpx.AsyncClient,
) -> None:
    by_param = await create(api, f"{CORE}/configmaps", configmap("a", k="v"), fieldManager="mine")
    by_agent = await create(api, f"{CORE}/configmaps", configmap("b", k="v"))
    for obj, manager in ((by_param, "mine"), (by_agent, "conformance-suite")):
        (entry,) = obj["metadata"]["managedFields"]
        assert entry["manager"] == manager
        assert entry["operation"] == "Update"
        assert entry["apiVersion"] == "v1"
        assert entry["fieldsType"] == "FieldsV1"
        assert entry["fieldsV1"] == {"f:data": {".": {}, "f:k": {}}}
        assert TIMESTAMP.match(entry["time"])


async def test_metadata_generate_name_appends_five_safe_characters(
    api: httpx.AsyncClient,
) -> None:
    names = set()
    for _ in range(20):
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "web-"}}
        obj = await create(api, f"{CORE}/configmaps", body)
        assert obj["metadata"]["generateName"] == "web-"
        names.add(obj["metadata"]["name"])
    assert len(names) == 20
    for name in names:
        assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{5}", name), name
        assert (await api.get(f"{CORE}/configmaps/{name}")).status_code == 200


async def test_metadata_name_or_generate_name_is_required(api: httpx.AsyncClient) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
    r = await api.post(f"{CORE}/configmaps", json=body)
    assert r.json() == failure(
        422,
        "Invalid",
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
        {
            "kind": "ConfigMap",
            "causes": [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value: name or generateName is required",
                    "field": "metadata.name",
                }
            ],
        },
    )


# -- namespaces on create -----------------------------------------------------------------------


async def test_namespace_defaulted_from_url(api: httpx.AsyncClient) -> None:
    await create(api, "/api/v1/namespaces", {"metadata": {"name": "other"}})
    obj = await create(api, "/api/v1/namespaces/other/configmaps", configmap("x"))
    assert obj["metadata"]["namespace"] == "other"
    assert (await api.get("/api/v1/namespaces/other/configmaps/x")).status_code == 200
    assert (await api.get(f"{CORE}/configmaps/x")).status_code == 404


async def test_namespace_mismatch_between_body_and_url_is_400(api: httpx.AsyncClient) -> None:
    body = configmap("x")
    body["metadata"]["namespace"] = "kube-system"
    r = await api.post(f"{CORE}/configmaps", json=body)
    assert r.status_code == 400
    assert r.json() == failure(
        400,
        "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request",
    )
    created = await create(api, f"{CORE}/configmaps", configmap("y"))
    created["metadata"]["namespace"] = "kube-system"
    r = await api.put(f"{CORE}/configmaps/y", json=created)
    assert r.json() == failure(
        400,
        "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request",
    )


async def test_namespace_missing_on_create_is_404(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/namespaces/nope/configmaps", json=configmap("x"))
    assert r.status_code == 404
    assert r.json() == failure(
        404, "NotFound", 'namespaces "nope" not found', {"name": "nope", "kind": "namespaces"}
    )


# -- concurrency, preconditions, immutability ----------------------------------------------------


async def test_update_with_stale_resource_version_is_409(api: httpx.AsyncClient) -> None:
    first = await create(api, f"{CORE}/configmaps", configmap("cm", k="1"))
    r = await api.put(f"{CORE}/configmaps/cm", json={**first, "data": {"k": "2"}})
    assert r.status_code == 200
    r = await api.put(f"{CORE}/configmaps/cm", json={**first, "data": {"k": "3"}})
    assert r.status_code == 409
    assert r.json() == failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": "cm", "kind": "configmaps"},
    )
    assert (await api.get(f"{CORE}/configmaps/cm")).json()["data"] == {"k": "2"}


async def test_update_without_resource_version_is_unconditional_for_builtins(
    api: httpx.AsyncClient, api_cluster: FakeCluster
) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm", k="1"))
    api_cluster.bump_resource_version("configmaps", "cm")
    r = await api.put(f"{CORE}/configmaps/cm", json=configmap("cm", k="2"))
    assert r.status_code == 200
    assert r.json()["data"] == {"k": "2"}


async def test_update_missing_object_is_404(api: httpx.AsyncClient) -> None:
    r = await api.put(f"{CORE}/configmaps/ghost", json=configmap("ghost"))
    assert r.json() == failure(
        404, "NotFound", 'configmaps "ghost" not found', {"name": "ghost", "kind": "configmaps"}
    )


async def test_create_existing_name_is_409_already_exists(api: httpx.AsyncClient) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm"))
    r = await api.post(f"{CORE}/configmaps", json=configmap("cm"))
    assert r.status_code == 409
    assert r.json() == failure(
        409, "AlreadyExists", 'configmaps "cm" already exists', {"name": "cm", "kind": "configmaps"}
    )


async def test_update_name_differing_from_url_is_400(api: httpx.AsyncClient) -> None:
    created = await create(api, f"{CORE}/configmaps", configmap("a"))
    expected = failure(
        400, "BadRequest", "the name of the object (b) does not match the name on the URL (a)"
    )
    renamed = {**created, "metadata": {**created["metadata"], "name": "b"}}
    r = await api.put(f"{CORE}/configmaps/a", json=renamed)
    assert r.json() == expected
    r = await api.patch(f"{CORE}/configmaps/a", json={"metadata": {"name": "b"}}, headers=MERGE)
    assert r.json() == expected
    assert (await api.get(f"{CORE}/configmaps/b")).status_code == 404


async def test_update_deployment_selector_is_immutable(api: httpx.AsyncClient) -> None:
    await create(api, f"{APPS}/deployments", deployment("web"))
    patch = {
        "spec": {
            "selector": {"matchLabels": {"app": "new"}},
            "template": {"metadata": {"labels": {"app": "new"}}},
        }
    }
    r = await api.patch(f"{APPS}/deployments/web", json=patch, headers=MERGE)
    assert r.status_code == 422
    value = 'Invalid value: {"matchLabels":{"app":"new"}}: field is immutable'
    assert r.json() == failure(
        422,
        "Invalid",
        f'Deployment.apps "web" is invalid: spec.selector: {value}',
        {
            "name": "web",
            "group": "apps",
            "kind": "Deployment",
            "causes": [{"reason": "FieldValueInvalid", "message": value, "field": "spec.selector"}],
        },
    )


async def test_update_pod_spec_is_mostly_immutable(api: httpx.AsyncClient) -> None:
    await create(api, f"{CORE}/pods", pod("p"))
    r = await api.patch(f"{CORE}/pods/p", json={"spec": {"restartPolicy": "Never"}}, headers=MERGE)
    assert r.status_code == 422
    message = (
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
        "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
        "(allow it to be set to 1 if it was previously negative)"
    )
    assert r.json() == failure(
        422,
        "Invalid",
        f'Pod "p" is invalid: spec: {message}',
        {
            "name": "p",
            "kind": "Pod",
            "causes": [{"reason": "FieldValueForbidden", "message": message, "field": "spec"}],
        },
    )
    # the image is one of the mutable fields
    r = await api.patch(
        f"{CORE}/pods/p",
        json={"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert r.status_code == 200
    assert r.json()["spec"]["containers"][0]["image"] == "nginx:2"


async def test_update_with_other_uid_is_a_failed_precondition(api: httpx.AsyncClient) -> None:
    created = await create(api, f"{CORE}/configmaps", configmap("cm"))
    uid = created["metadata"]["uid"]
    created["metadata"]["uid"] = "00000000-0000-4000-8000-000000000000"
    r = await api.put(f"{CORE}/configmaps/cm", json=created)
    assert r.json() == failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on configmaps "cm": Precondition failed: UID in '
        f"precondition: 00000000-0000-4000-8000-000000000000, UID in object meta: {uid}",
        {"name": "cm", "kind": "configmaps"},
    )


async def test_delete_preconditions_uid_and_resource_version(api: httpx.AsyncClient) -> None:
    created = await create(api, f"{CORE}/configmaps", configmap("cm"))
    uid, rv = created["metadata"]["uid"], created["metadata"]["resourceVersion"]
    details = {"name": "cm", "kind": "configmaps"}
    prefix = 'Operation cannot be fulfilled on configmaps "cm": Precondition failed: '

    r = await api.request("DELETE", f"{CORE}/configmaps/cm", json={"preconditions": {"uid": "u"}})
    assert r.json() == failure(
        409, "Conflict", f"{prefix}UID in precondition: u, UID in object meta: {uid}", details
    )
    r = await api.request(
        "DELETE", f"{CORE}/configmaps/cm", json={"preconditions": {"resourceVersion": "1"}}
    )
    assert r.json() == failure(
        409,
        "Conflict",
        f"{prefix}ResourceVersion in precondition: 1, ResourceVersion in object meta: {rv}",
        details,
    )
    assert (await api.get(f"{CORE}/configmaps/cm")).status_code == 200
    r = await api.request(
        "DELETE",
        f"{CORE}/configmaps/cm",
        json={"preconditions": {"uid": uid, "resourceVersion": rv}},
    )
    assert r.status_code == 200
    assert (await api.get(f"{CORE}/configmaps/cm")).status_code == 404


# -- dry run ------------------------------------------------------------------------------------


async def test_dry_run_create_returns_the_object_and_stores_nothing(
    api: httpx.AsyncClient,
) -> None:
    rv = await list_rv(api, f"{CORE}/configmaps")
    r = await api.post(f"{CORE}/configmaps", params={"dryRun": "All"}, json=configmap("dry", k="v"))
    assert r.status_code == 201
    obj = r.json()
    assert obj["metadata"]["name"] == "dry"
    assert obj["data"] == {"k": "v"}
    assert uuid.UUID(obj["metadata"]["uid"])
    assert TIMESTAMP.match(obj["metadata"]["creationTimestamp"])
    assert "resourceVersion" not in obj["metadata"]
    assert (await api.get(f"{CORE}/configmaps/dry")).status_code == 404
    assert await list_rv(api, f"{CORE}/configmaps") == rv


async def test_dry_run_create_of_an_existing_name_is_409(api: httpx.AsyncClient) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm"))
    r = await api.post(f"{CORE}/configmaps", params={"dryRun": "All"}, json=configmap("cm"))
    assert r.json() == failure(
        409, "AlreadyExists", 'configmaps "cm" already exists', {"name": "cm", "kind": "configmaps"}
    )


async def test_dry_run_writes_change_nothing_and_emit_no_event(api: httpx.AsyncClient) -> None:
    cm = await create(api, f"{CORE}/configmaps", configmap("cm", k="1"))
    rv = cm["metadata"]["resourceVersion"]
    dry = {"dryRun": "All"}
    async with watch(api, f"{CORE}/configmaps", resourceVersion=rv, timeoutSeconds="600") as events:
        r = await api.post(f"{CORE}/configmaps", params=dry, json=configmap("new"))
        assert r.status_code == 201

        r = await api.put(f"{CORE}/configmaps/cm", params=dry, json={**cm, "data": {"k": "2"}})
        assert r.status_code == 200
        assert r.json()["data"] == {"k": "2"}
        assert r.json()["metadata"]["resourceVersion"] == rv

        r = await api.patch(
            f"{CORE}/configmaps/cm", params=dry, json={"data": {"k": "3"}}, headers=MERGE
        )
        assert r.status_code == 200
        assert r.json()["data"] == {"k": "3"}
        assert r.json()["metadata"]["resourceVersion"] == rv

        r = await api.delete(f"{CORE}/configmaps/cm", params=dry)
        assert r.status_code == 200
        assert r.json()["status"] == "Success"

        assert (await api.get(f"{CORE}/configmaps/cm")).json() == cm
        assert (await api.get(f"{CORE}/configmaps/new")).status_code == 404
        assert await list_rv(api, f"{CORE}/configmaps") == rv

        real = await create(api, f"{CORE}/configmaps", configmap("real"))
        event = await events.event()
        assert event["type"] == "ADDED"
        assert event["object"]["metadata"]["name"] == "real"
        assert int(real["metadata"]["resourceVersion"]) == int(rv) + 1


@pytest.mark.parametrize(
    ("method", "suffix", "options_kind"),
    [
        ("POST", "", "CreateOptions"),
        ("PUT", "/cm", "UpdateOptions"),
        ("PATCH", "/cm", "PatchOptions"),
        ("DELETE", "/cm", "DeleteOptions"),
    ],
)
async def test_dry_run_other_than_all_is_422(
    api: httpx.AsyncClient, method: str, suffix: str, options_kind: str
) -> None:
    await create(api, f"{CORE}/configmaps", configmap("cm"))
    headers = MERGE if method == "PATCH" else {}
    body = {} if method == "PATCH" else configmap("cm")
    r = await api.request(
        method, f"{CORE}/configmaps{suffix}", params={"dryRun": "Foo"}, json=body, headers=headers
    )
    assert r.status_code == 422
    message = 'Unsupported value: "Foo": supported values: "All"'
    assert r.json() == failure(
        422,
        "Invalid",
        f'{options_kind}.meta.k8s.io "" is invalid: dryRun: {message}',
        {
            "group": "meta.k8s.io",
            "kind": options_kind,
            "causes": [{"reason": "FieldValueNotSupported", "message": message, "field": "dryRun"}],
        },
    )


# -- no-op writes -------------------------------------------------------------------------------


async def test_noop_update_and_patch_keep_the_resource_version_and_emit_nothing(
    api: httpx.AsyncClient,
) -> None:
    cm = await create(api, f"{CORE}/configmaps", configmap("cm", k="v"))
    rv = cm["metadata"]["resourceVersion"]
    async with watch(api, f"{CORE}/configmaps", resourceVersion=rv, timeoutSeconds="600") as events:
        r = await api.put(f"{CORE}/configmaps/cm", json=cm)
        assert r.status_code == 200
        assert r.json() == cm
        r = await api.patch(f"{CORE}/configmaps/cm", json={"data": {"k": "v"}}, headers=MERGE)
        assert r.status_code == 200
        assert r.json()["metadata"]["resourceVersion"] == rv
        assert await list_rv(api, f"{CORE}/configmaps") == rv

        r = await api.patch(f"{CORE}/configmaps/cm", json={"data": {"k": "w"}}, headers=MERGE)
        event = await events.event()
        assert event["type"] == "MODIFIED"
        assert event["object"]["data"] == {"k": "w"}
        assert (
            event["object"]["metadata"]["resourceVersion"]
            == r.json()["metadata"]["resourceVersion"]
        )


# -- error bodies -------------------------------------------------------------------------------


async def test_errors_400_for_bad_selectors(api: httpx.AsyncClient) -> None:
    r = await api.get(f"{CORE}/configmaps", params={"labelSelector": "a b"})
    assert r.json() == failure(
        400,
        "BadRequest",
        "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
    )
    # kinds without their own field conversion answer with the generic meta/v1 message
    r = await api.get(f"{CORE}/configmaps", params={"fieldSelector": "data.k=v"})
    assert r.json() == failure(
        400,
        "BadRequest",
        '"data.k" is not a known field selector: only "metadata.name", "metadata.namespace"',
    )
    r = await api.get(f"{CORE}/pods", params={"fieldSelector": "spec.image=x"})
    assert r.json() == failure(400, "BadRequest", "field label not supported: spec.image")
    r = await api.get("/api/v1/nodes", params={"fieldSelector": "metadata.namespace=x"})
    assert r.json() == failure(400, "BadRequest", "field label not supported: metadata.namespace")


@pytest.mark.parametrize("token", ["", "not-a-token"])
async def test_errors_401_without_valid_credentials(api_cluster: FakeCluster, token: str) -> None:
    async with api_cluster.http_client(token=token) as anonymous:
        r = await anonymous.get(f"{CORE}/configmaps")
    assert r.status_code == 401
    assert r.json() == failure(401, "Unauthorized", "Unauthorized")


async def test_errors_404_for_unknown_paths(api: httpx.AsyncClient) -> None:
    expected = failure(404, "NotFound", "the server could not find the requested resource", {})
    for path in ("/api/v1/widgets", "/apis/example.com/v1/things", "/nothing/here"):
        r = await api.get(path)
        assert r.status_code == 404, path
        assert r.json() == expected, path
    r = await api.get("/api/v1/configmaps/cm")  # a namespaced item without its namespace
    assert r.json() == expected


async def test_errors_405_for_methods_a_route_does_not_serve(api: httpx.AsyncClient) -> None:
    expected = failure(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )
    # create through the all-namespaces collection of a namespaced resource
    r = await api.post("/api/v1/configmaps", json=configmap("cm"))
    assert r.status_code == 405
    assert r.json() == expected
    # replace or patch a whole collection
    r = await api.put(f"{CORE}/configmaps", json=configmap("cm"))
    assert r.json() == expected
    r = await api.patch(f"{CORE}/configmaps", json={}, headers=MERGE)
    assert r.json() == expected
    # namespaces cannot be deleted as a collection
    r = await api.delete("/api/v1/namespaces")
    assert r.json() == expected
    # reviews are create-only
    r = await api.get("/apis/authentication.k8s.io/v1/selfsubjectreviews")
    assert r.json() == expected
    assert (await api.get("/api/v1/namespaces/default")).status_code == 200


async def test_errors_410_for_an_exact_list_of_a_compacted_resource_version(
    api: httpx.AsyncClient, api_cluster: FakeCluster
) -> None:
    rv = await list_rv(api, f"{CORE}/configmaps")
    await create(api, f"{CORE}/configmaps", configmap("cm"))
    params = {"resourceVersion": rv, "resourceVersionMatch": "Exact"}
    r = await api.get(f"{CORE}/configmaps", params=params)
    assert r.status_code == 200
    assert r.json()["items"] == []
    api_cluster.compact()
    r = await api.get(f"{CORE}/configmaps", params=params)
    assert r.status_code == 410
    assert r.json() == failure(
        410, "Expired", "The resourceVersion for the provided list is too old."
    )


async def test_errors_422_for_an_invalid_pod(api: httpx.AsyncClient) -> None:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
    r = await api.post(f"{CORE}/pods", json=body)
    assert r.status_code == 422
    assert r.json() == failure(
        422,
        "Invalid",
        'Pod "p" is invalid: spec.containers: Required value',
        {
            "name": "p",
            "kind": "Pod",
            "causes": [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value",
                    "field": "spec.containers",
                }
            ],
        },
    )
    assert (await api.get(f"{CORE}/pods/p")).status_code == 404


async def test_errors_429_from_a_fault_is_plain_text_with_retry_after(
    api: httpx.AsyncClient, api_cluster: FakeCluster
) -> None:
    api_cluster.faults.fail_next(429)
    r = await api.get(f"{CORE}/configmaps")
    assert r.status_code == 429
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["retry-after"] == "1"
    assert r.text == "Too many requests, please try again later.\n"
    assert (await api.get(f"{CORE}/configmaps")).status_code == 200


# -- status subresource -------------------------------------------------------------------------


async def test_status_subresource_splits_spec_and_status(api: httpx.AsyncClient) -> None:
    body = deployment("web")
    body["status"] = {"replicas": 9}
    created = await create(api, f"{APPS}/deployments", body)
    assert created.get("status", {}).get("replicas") is None

    # writes to the main resource ignore status: here the PUT changes nothing at all
    r = await api.put(f"{APPS}/deployments/web", json={**created, "status": {"replicas": 9}})
    assert r.status_code == 200
    assert r.json()["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert r.json().get("status", {}).get("replicas") is None

    # writes to /status ignore everything but status
    changed = {**created, "status": {"replicas": 3, "readyReplicas": 2}}
    changed["spec"] = {**created["spec"], "replicas": 7}
    changed["metadata"] = {**created["metadata"], "labels": {"team": "z"}}
    r = await api.put(f"{APPS}/deployments/web/status", json=changed)
    assert r.status_code == 200
    after = r.json()
    assert after["status"] == {"replicas": 3, "readyReplicas": 2}
    assert after["spec"] == created["spec"]
    assert after["metadata"]["labels"] == {"team": "a"}
    assert after["metadata"]["generation"] == 1
    assert int(after["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])

    r = await api.get(f"{APPS}/deployments/web/status")
    assert r.status_code == 200
    assert r.json() == after
    assert (await api.get(f"{APPS}/deployments/web")).json() == after


# -- scale subresource --------------------------------------------------------------------------


async def test_scale_get_shape(api: httpx.AsyncClient) -> None:
    created = await create(api, f"{APPS}/deployments", deployment("web", replicas=2))
    meta = created["metadata"]
    r = await api.get(f"{APPS}/deployments/web/scale")
    assert r.status_code == 200
    assert r.json() == {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": 2},
        "status": {"replicas": 0, "selector": "app=web"},
    }


async def test_scale_put_and_patch_change_replicas_and_bump_generation(
    api: httpx.AsyncClient,
) -> None:
    await create(api, f"{APPS}/deployments", deployment("web"))
    scale = (await api.get(f"{APPS}/deployments/web/scale")).json()

    r = await api.put(f"{APPS}/deployments/web/scale", json={**scale, "spec": {"replicas": 3}})
    assert r.status_code == 200
    assert r.json()["spec"] == {"replicas": 3}
    d = (await api.get(f"{APPS}/deployments/web")).json()
    assert (d["spec"]["replicas"], d["metadata"]["generation"]) == (3, 2)
    assert r.json()["metadata"]["resourceVersion"] == d["metadata"]["resourceVersion"]

    r = await api.patch(
        f"{APPS}/deployments/web/scale", json={"spec": {"replicas": 5}}, headers=MERGE
    )
    assert r.status_code == 200
    assert r.json()["spec"] == {"replicas": 5}
    d = (await api.get(f"{APPS}/deployments/web")).json()
    assert (d["spec"]["replicas"], d["metadata"]["generation"]) == (5, 3)

    # a stale resourceVersion in the Scale is a conflict
    r = await api.put(f"{APPS}/deployments/web/scale", json={**scale, "spec": {"replicas": 1}})
    assert r.status_code == 409
    assert r.json() == failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": "web", "group": "apps", "kind": "deployments"},
    )
    d = (await api.get(f"{APPS}/deployments/web")).json()
    assert d["spec"]["replicas"] == 5


async def test_validation_names_and_labels_use_apimachinery_messages(
    api_cluster: FakeCluster,
) -> None:
    subdomain_rule = (
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
        "[a-z0-9])?)*')"
    )
    label_rule = (
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    )
    async with api_cluster.http_client() as http:
        bad_cm = await http.post(
            "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "Bad_Name"}}
        )
        bad_ns = await http.post("/api/v1/namespaces", json={"metadata": {"name": "a.b"}})
        bad_label = await http.post(
            "/api/v1/namespaces/default/configmaps",
            json={"metadata": {"name": "ok", "labels": {"-x": "y"}}},
        )
    assert bad_cm.status_code == 422
    assert bad_cm.json()["message"] == (
        f'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
        f"{subdomain_rule}"
    )
    assert bad_ns.json()["message"] == (
        f'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": {label_rule}'
    )
    assert bad_label.json()["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "-x": name part must consist of alphanumeric characters, '
            "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            "field": "metadata.labels",
        }
    ]


async def test_managed_fields_status_writes_add_a_status_entry(api_cluster: FakeCluster) -> None:
    async with api_cluster.http_client() as http:
        pod = {
            "metadata": {"name": "mf"},
            "spec": {"containers": [{"name": "c", "image": "img"}]},
        }
        created = await http.post(
            "/api/v1/namespaces/default/pods", params={"fieldManager": "kcm"}, json=pod
        )
        patched = await http.patch(
            "/api/v1/namespaces/default/pods/mf/status",
            params={"fieldManager": "kubelet"},
            json={"status": {"phase": "Running"}},
            headers={"content-type": "application/merge-patch+json"},
        )
    assert created.status_code == 201
    assert patched.status_code == 200
    entries = patched.json()["metadata"]["managedFields"]
    assert [(e["manager"], e.get("subresource")) for e in entries] == [
        ("kcm", None),
        ("kubelet", "status"),
    ]
    assert entries[1]["fieldsV1"] == {"f:status": {"f:phase": {}}}
