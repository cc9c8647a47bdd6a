"""Discovery (legacy and aggregated) and OpenAPI v3 documents of the fake API server.

The handlers are pure functions of a request, so these tests call them directly with the headers
real clients send (kubectl's Accept from the contract's §1.1) and check the documents' shapes,
content negotiation, caching (ETag/304, hash URLs) and how they follow the registry as CRDs come
and go.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kr8s_trio.testing._builtins import builtin_resources
from kr8s_trio.testing._discovery import Discovery, discovery_format
from kr8s_trio.testing._http import Request, Response, parse_accept
from kr8s_trio.testing._openapi import OpenAPI
from kr8s_trio.testing._openapi_document import gv_path, schema_name
from kr8s_trio.testing._resources import (
    PrinterColumn,
    ResourceRegistry,
    ResourceType,
    SubresourceInfo,
)

KUBECTL_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)
V2_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
VERSION_INFO = {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"}
NOT_FOUND = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "the server could not find the requested resource",
    "reason": "NotFound",
    "details": {},
    "code": 404,
}


def widget(version: str = "v1") -> ResourceType:
    return ResourceType(
        group="example.com",
        version=version,
        kind="Widget",
        plural="widgets",
        singular="widget",
        namespaced=True,
        short_names=("wd",),
        categories=("all",),
        subresources=(SubresourceInfo("status", "Widget", ("get", "patch", "update")),),
        builtin=False,
        allow_unconditional_update=False,
        printer_columns=(PrinterColumn(name="Size", type="integer", json_path=".spec.size"),),
        crd_name="widgets.example.com",
    )


@pytest.fixture
def registry() -> ResourceRegistry:
    return ResourceRegistry(tuple(builtin_resources()))


@pytest.fixture
def discovery(registry: ResourceRegistry) -> Discovery:
    return Discovery(registry, version_info=VERSION_INFO, server_address="127.0.0.1:6443")


def get(handler: Discovery | OpenAPI, path: str, accept: str = "", **headers: str) -> Response:
    path, _, query = path.partition("?")
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    if accept:
        hdrs["accept"] = accept
    response = handler.handle(Request("GET", path, query, hdrs))
    assert response is not None, path
    return response


def body(response: Response) -> Any:
    return json.loads(response.body)


def header(response: Response, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name.lower()), None)


def by_name(entries: list[dict[str, Any]], key: str, value: object) -> dict[str, Any]:
    return next(e for e in entries if e[key] == value)


# -- legacy discovery ---------------------------------------------------------------------------


def test_discovery_version_and_api_versions(discovery: Discovery) -> None:
    assert body(get(discovery, "/version")) == VERSION_INFO
    assert body(get(discovery, "/version/")) == VERSION_INFO
    api = get(discovery, "/api/", "application/json")
    assert api.content_type == "application/json"
    assert body(api) == {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
        ],
    }


def test_discovery_server_address_can_change(discovery: Discovery) -> None:
    get(discovery, "/api", "application/json")  # cached with the first address
    discovery.set_server_address("[::1]:40123")
    cidrs = body(get(discovery, "/api", "application/json"))["serverAddressByClientCIDRs"]
    assert cidrs == [{"clientCIDR": "0.0.0.0/0", "serverAddress": "[::1]:40123"}]


def test_discovery_legacy_core_resource_list(discovery: Discovery) -> None:
    doc = body(get(discovery, "/api/v1", "application/json, */*"))
    assert "apiVersion" not in doc  # kube-apiserver's quirk for the core group
    assert (doc["kind"], doc["groupVersion"]) == ("APIResourceList", "v1")
    names = [r["name"] for r in doc["resources"]]
    assert names == sorted(names)
    pods = by_name(doc["resources"], "name", "pods")
    assert pods == {
        "name": "pods",
        "singularName": "pod",
        "namespaced": True,
        "kind": "Pod",
        "verbs": [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ],
        "shortNames": ["po"],
        "categories": ["all"],
    }
    assert by_name(doc["resources"], "name", "pods/log") == {
        "name": "pods/log",
        "singularName": "",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["get"],
    }
    eviction = by_name(doc["resources"], "name", "pods/eviction")
    assert (eviction["group"], eviction["version"], eviction["kind"]) == (
        "policy",
        "v1",
        "Eviction",
    )
    assert eviction["verbs"] == ["create"]
    namespaces = by_name(doc["resources"], "name", "namespaces")
    assert namespaces["namespaced"] is False
    assert "deletecollection" not in namespaces["verbs"]


def test_discovery_legacy_groups(discovery: Discovery) -> None:
    groups = body(get(discovery, "/apis/", "application/json"))
    assert (groups["kind"], groups["apiVersion"]) == ("APIGroupList", "v1")
    names = [g["name"] for g in groups["groups"]]
    assert "" not in names
    assert names.index("apps") < names.index("batch") < names.index("apiextensions.k8s.io")
    autoscaling = by_name(groups["groups"], "name", "autoscaling")
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
    assert autoscaling["preferredVersion"] == {"groupVersion": "autoscaling/v2", "version": "v2"}
    apps = body(get(discovery, "/apis/apps"))
    assert apps == {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": "apps",
        "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
    }


def test_discovery_legacy_group_version_with_scale(discovery: Discovery) -> None:
    doc = body(get(discovery, "/apis/apps/v1/", "application/json"))
    assert (doc["kind"], doc["apiVersion"], doc["groupVersion"]) == (
        "APIResourceList",
        "v1",
        "apps/v1",
    )
    scale = by_name(doc["resources"], "name", "deployments/scale")
    assert scale == {
        "name": "deployments/scale",
        "singularName": "",
        "namespaced": True,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": ["get", "patch", "update"],
    }
    reviews = body(get(discovery, "/apis/authentication.k8s.io/v1"))
    assert by_name(reviews["resources"], "name", "tokenreviews")["verbs"] == ["create"]


@pytest.mark.parametrize(
    "path", ["/apis/nope", "/apis/nope/v1", "/apis/apps/v9", "/api/v2", "/apis/apps/v2/"]
)
def test_discovery_unknown_group_or_version_is_the_real_404(
    discovery: Discovery, path: str
) -> None:
    response = get(discovery, path, KUBECTL_ACCEPT)
    assert response.status == 404
    assert body(response) == NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/pods"),
        ("GET", "/api/v1/namespaces/default/pods"),
        ("GET", "/apis/apps/v1/deployments"),
        ("GET", "/healthz"),
        ("GET", "/"),
        ("POST", "/api"),
        ("POST", "/version"),
    ],
)
def test_discovery_leaves_other_requests_alone(
    discovery: Discovery, method: str, path: str
) -> None:
    assert discovery.handle(Request(method, path, "", {})) is None


# -- aggregated discovery -----------------------------------------------------------------------


def test_discovery_aggregated_core_shape(discovery: Discovery) -> None:
    response = get(discovery, "/api", KUBECTL_ACCEPT)
    assert response.status == 200
    assert response.content_type == V2_CONTENT_TYPE
    assert header(response, "Vary") == "Accept"
    doc = body(response)
    assert (doc["kind"], doc["apiVersion"], doc["metadata"]) == (
        "APIGroupDiscoveryList",
        "apidiscovery.k8s.io/v2",
        {},
    )
    [core] = doc["items"]
    assert core["metadata"] == {}
    [v1] = core["versions"]
    assert (v1["version"], v1["freshness"]) == ("v1", "Current")
    pods = by_name(v1["resources"], "resource", "pods")
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert (pods["scope"], pods["singularResource"]) == ("Namespaced", "pod")
    assert (pods["shortNames"], pods["categories"]) == (["po"], ["all"])
    assert "watch" in pods["verbs"]
    eviction = by_name(pods["subresources"], "subresource", "eviction")
    assert eviction == {
        "subresource": "eviction",
        "responseKind": {"group": "policy", "version": "v1", "kind": "Eviction"},
        "verbs": ["create"],
    }
    log = by_name(pods["subresources"], "subresource", "log")
    assert log["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    nodes = by_name(v1["resources"], "resource", "nodes")
    assert nodes["scope"] == "Cluster"
    configmaps = by_name(v1["resources"], "resource", "configmaps")
    assert "subresources" not in configmaps
    assert "categories" not in configmaps


def test_discovery_aggregated_groups_shape(discovery: Discovery) -> None:
    doc = body(get(discovery, "/apis", KUBECTL_ACCEPT))
    names = [item["metadata"]["name"] for item in doc["items"]]
    assert "apps" in names
    assert all(item["metadata"] for item in doc["items"])
    apps = doc["items"][names.index("apps")]
    deployments = by_name(apps["versions"][0]["resources"], "resource", "deployments")
    scale = by_name(deployments["subresources"], "subresource", "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert scale["verbs"] == ["get", "patch", "update"]
    autoscaling = doc["items"][names.index("autoscaling")]
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
    authn = doc["items"][names.index("authentication.k8s.io")]
    reviews = by_name(authn["versions"][0]["resources"], "resource", "tokenreviews")
    assert reviews["verbs"] == ["create"]
    assert reviews["scope"] == "Cluster"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (KUBECTL_ACCEPT, "v2"),
        (
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer,"
            + KUBECTL_ACCEPT,
            "v2",
        ),
        ("application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io", "v2beta1"),
        ("application/json", "legacy"),
        ("*/*", "legacy"),
        ("application/json, */*", "legacy"),
        ("application/json;profile=nopeer", "legacy"),
        ("application/json;as=Table;g=meta.k8s.io;v=v1,application/json", "legacy"),
        (
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            "application/json",
            "legacy",
        ),
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList", None),
        ("text/plain", None),
    ],
)
def test_discovery_format_negotiation(accept: str, expected: str | None) -> None:
    assert discovery_format(parse_accept(accept)) == expected


def test_discovery_content_type_follows_negotiation(discovery: Discovery) -> None:
    nopeer = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer"
    assert get(discovery, "/apis", nopeer).content_type == V2_CONTENT_TYPE
    beta = get(
        discovery,
        "/apis",
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
    )
    assert beta.content_type == (
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    )
    assert body(beta)["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    legacy = get(discovery, "/apis", "application/json")
    assert (legacy.content_type, body(legacy)["kind"]) == ("application/json", "APIGroupList")
    assert header(legacy, "ETag") is None
    refused = get(discovery, "/api", "text/plain")
    assert refused.status == 406
    assert body(refused)["reason"] == "NotAcceptable"


def test_discovery_aggregation_can_be_switched_off(registry: ResourceRegistry) -> None:
    old = Discovery(registry, version_info=VERSION_INFO, server_address="x:1", aggregated=False)
    response = get(old, "/apis", KUBECTL_ACCEPT)
    assert (response.content_type, body(response)["kind"]) == ("application/json", "APIGroupList")


def test_discovery_etag_and_not_modified(discovery: Discovery) -> None:
    first = get(discovery, "/apis", KUBECTL_ACCEPT)
    etag = header(first, "ETag")
    assert etag is not None
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert len(etag) == 2 + 128  # sha512, hex
    again = get(discovery, "/apis", KUBECTL_ACCEPT)
    assert header(again, "ETag") == etag
    assert again.body == first.body
    assert header(get(discovery, "/api", KUBECTL_ACCEPT), "ETag") != etag
    cached = get(discovery, "/apis", KUBECTL_ACCEPT, if_none_match=etag)
    assert (cached.status, cached.body) == (304, b"")
    assert header(cached, "ETag") == etag
    assert header(cached, "Vary") == "Accept"
    stale = get(discovery, "/apis", KUBECTL_ACCEPT, if_none_match='"0123"')
    assert stale.status == 200


def test_discovery_follows_registry_changes(
    registry: ResourceRegistry, discovery: Discovery
) -> None:
    before = header(get(discovery, "/apis", KUBECTL_ACCEPT), "ETag")
    assert get(discovery, "/apis/example.com/v1").status == 404
    registry.add(widget())
    after = get(discovery, "/apis", KUBECTL_ACCEPT, if_none_match=before or "")
    assert after.status == 200
    assert header(after, "ETag") != before
    item = by_name(body(after)["items"], "metadata", {"name": "example.com"})
    widgets = item["versions"][0]["resources"][0]
    assert widgets["responseKind"] == {"group": "example.com", "version": "v1", "kind": "Widget"}
    assert [s["subresource"] for s in widgets["subresources"]] == ["status"]
    legacy = body(get(discovery, "/apis/example.com/v1", "application/json"))
    assert [r["name"] for r in legacy["resources"]] == ["widgets", "widgets/status"]
    registry.remove_crd("widgets.example.com")
    assert get(discovery, "/apis/example.com").status == 404
    assert header(get(discovery, "/apis", KUBECTL_ACCEPT), "ETag") == before


# -- OpenAPI v3 ---------------------------------------------------------------------------------

WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A widget.",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {"size": {"type": "integer", "description": "How big."}},
        }
    },
}


@pytest.fixture
def openapi(registry: ResourceRegistry) -> OpenAPI:
    return OpenAPI(registry, lambda rt: WIDGET_SCHEMA if rt.kind == "Widget" else None)


def index(openapi: OpenAPI) -> dict[str, str]:
    paths = body(get(openapi, "/openapi/v3"))["paths"]
    return {k: v["serverRelativeURL"] for k, v in paths.items()}


def document(openapi: OpenAPI, key: str) -> dict[str, Any]:
    response = get(openapi, index(openapi)[key], "application/json")
    assert response.status == 200
    return body(response)  # type: ignore[no-any-return]


def patch_ops(doc: dict[str, Any], gvk: dict[str, str]) -> list[dict[str, Any]]:
    """What kubectl's query-param verifier looks at: PATCH operations tagged with the GVK."""
    return [
        item["patch"]
        for item in doc["paths"].values()
        if "patch" in item and item["patch"].get("x-kubernetes-group-version-kind") == gvk
    ]


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def test_openapi_index_lists_every_group_version(
    registry: ResourceRegistry, openapi: OpenAPI
) -> None:
    urls = index(openapi)
    expected = {
        gv_path(g, v) for g, versions in registry.group_versions().items() for v in versions
    }
    assert set(urls) == expected
    assert {"api/v1", "apis/apps/v1", "apis/autoscaling/v1", "apis/autoscaling/v2"} <= set(urls)
    for key, url in urls.items():
        path, _, query = url.partition("?")
        assert path == f"/openapi/v3/{key}"
        assert query.startswith("hash=")
        assert len(query) == 5 + 128


def test_openapi_patch_operations_carry_field_validation_and_gvk(openapi: OpenAPI) -> None:
    for key in index(openapi):
        doc = document(openapi, key)
        assert doc["openapi"].startswith("3.0")
        for path, item in doc["paths"].items():
            if "patch" not in item:
                continue
            op = item["patch"]
            names = [p["name"] for p in op["parameters"]]
            assert "fieldValidation" in names, path
            gvk = op["x-kubernetes-group-version-kind"]
            assert set(gvk) == {"group", "version", "kind"}, path
    core = document(openapi, "api/v1")
    pod_patches = patch_ops(core, {"group": "", "version": "v1", "kind": "Pod"})
    assert len(pod_patches) >= 2  # the pod itself, status, ephemeralcontainers, resize
    for op in pod_patches:
        assert "application/strategic-merge-patch+json" in op["requestBody"]["content"]


def test_openapi_document_paths_and_operations(openapi: OpenAPI) -> None:
    doc = document(openapi, "apis/apps/v1")
    paths = doc["paths"]
    collection = paths["/apis/apps/v1/namespaces/{namespace}/deployments"]
    assert set(collection) == {"get", "post", "delete", "parameters"}
    assert collection["get"]["x-kubernetes-group-version-kind"]["kind"] == "DeploymentList"
    assert "watch" in [p["name"] for p in collection["get"]["parameters"]]
    item = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert set(item) == {"get", "put", "patch", "delete", "parameters"}
    assert [p["name"] for p in item["parameters"]] == ["name", "namespace", "pretty"]
    assert "/apis/apps/v1/deployments" in paths  # all namespaces
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling",
        "kind": "Scale",
        "version": "v1",
    }
    assert "io.k8s.api.autoscaling.v1.Scale" in doc["components"]["schemas"]
    namespaces = document(openapi, "api/v1")["paths"]
    assert "/api/v1/namespaces/{name}" in namespaces
    assert "delete" not in namespaces["/api/v1/namespaces"]  # no deletecollection verb
    reviews = document(openapi, "apis/authentication.k8s.io/v1")["paths"]
    assert set(reviews["/apis/authentication.k8s.io/v1/tokenreviews"]) == {"post", "parameters"}


def test_openapi_schemas_for_explain(openapi: OpenAPI) -> None:
    doc = document(openapi, "api/v1")
    schemas = doc["components"]["schemas"]
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert {"apiVersion", "kind", "metadata", "spec", "status"} <= set(pod["properties"])
    assert pod["description"]
    pod_spec = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]
    for field in ("containers", "volumes", "nodeName", "restartPolicy", "tolerations"):
        assert pod_spec[field]["description"], field
    containers = pod_spec["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    container = schemas["io.k8s.api.core.v1.Container"]["properties"]
    for field in ("name", "image", "command", "args", "env", "ports", "resources", "volumeMounts"):
        assert field in container, field
    assert schemas["io.k8s.api.core.v1.ConfigMap"]["properties"]["data"]["type"] == "object"
    service_ports = schemas["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"]
    assert service_ports["x-kubernetes-list-map-keys"] == ["port", "protocol"]
    lists = schemas["io.k8s.api.core.v1.PodList"]
    assert lists["x-kubernetes-group-version-kind"][0]["kind"] == "PodList"
    # kinds not modelled field by field still explain and keep unknown fields
    account = schemas["io.k8s.api.core.v1.ServiceAccount"]
    assert account["x-kubernetes-preserve-unknown-fields"] is True
    # every reference resolves inside the same document
    for ref in refs(doc):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    apps = document(openapi, "apis/apps/v1")
    strategy = apps["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]
    assert {"replicas", "selector", "template", "strategy"} <= set(strategy)
    for ref in refs(apps):
        assert ref.removeprefix("#/components/schemas/") in apps["components"]["schemas"], ref


def test_openapi_hash_protocol(openapi: OpenAPI) -> None:
    url = index(openapi)["api/v1"]
    current = url.partition("hash=")[2]
    fresh = get(openapi, url, "application/json")
    assert header(fresh, "Cache-Control") == "public, immutable"
    assert header(fresh, "Expires")
    assert header(fresh, "ETag") == f'"{current}"'
    unhashed = get(openapi, "/openapi/v3/api/v1", "application/json")
    assert unhashed.status == 200
    assert header(unhashed, "Cache-Control") is None
    assert unhashed.body == fresh.body
    stale = get(openapi, "/openapi/v3/api/v1?hash=ABC123", "application/json")
    assert stale.status == 301
    assert header(stale, "Location") == url
    revalidated = get(openapi, url, "application/json", if_none_match=f'"{current}"')
    assert (revalidated.status, revalidated.body) == (304, b"")
    protobuf_only = get(openapi, url, "application/com.github.proto-openapi.spec.v3.v1.0+protobuf")
    assert protobuf_only.status == 406


def test_openapi_other_paths(openapi: OpenAPI) -> None:
    v2 = get(openapi, "/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
    assert (v2.status, body(v2)) == (404, NOT_FOUND)
    assert get(openapi, "/openapi/v3/apis/nope/v1").status == 404
    assert openapi.handle(Request("GET", "/api/v1", "", {})) is None
    assert openapi.handle(Request("POST", "/openapi/v3", "", {})) is None


def test_openapi_custom_resources(registry: ResourceRegistry, openapi: OpenAPI) -> None:
    before = index(openapi)
    assert "apis/example.com/v1" not in before
    registry.add(widget())
    after = index(openapi)
    assert set(after) == set(before) | {"apis/example.com/v1"}
    assert after["api/v1"] == before["api/v1"]  # unchanged documents keep their hash
    doc = document(openapi, "apis/example.com/v1")
    name = schema_name("example.com", "v1", "Widget", builtin=False)
    assert name == "com.example.v1.Widget"
    schema = doc["components"]["schemas"][name]
    assert schema["properties"]["spec"]["properties"]["size"]["type"] == "integer"
    assert schema["properties"]["metadata"]["allOf"][0]["$ref"].endswith(".ObjectMeta")
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "kind": "Widget", "version": "v1"}
    ]
    assert "com.example.v1.WidgetList" in doc["components"]["schemas"]
    gvk = {"group": "example.com", "version": "v1", "kind": "Widget"}
    ops = patch_ops(doc, gvk)
    assert len(ops) == 2  # the widget and its status
    for op in ops:
        assert "fieldValidation" in [p["name"] for p in op["parameters"]]
        assert "application/strategic-merge-patch+json" not in op["requestBody"]["content"]
        assert "application/merge-patch+json" in op["requestBody"]["content"]
    assert WIDGET_SCHEMA["properties"]["spec"] == schema["properties"]["spec"]
    assert "metadata" not in WIDGET_SCHEMA["properties"]  # the caller's schema is not mutated
    registry.remove_crd("widgets.example.com")
    assert set(index(openapi)) == set(before)


def test_openapi_invalidate_picks_up_schema_changes(registry: ResourceRegistry) -> None:
    schemas: dict[str, Any] = {"Widget": WIDGET_SCHEMA}
    openapi = OpenAPI(registry, lambda rt: schemas.get(rt.kind))
    registry.add(widget())
    first = index(openapi)["apis/example.com/v1"]
    schemas["Widget"] = {"type": "object", "properties": {"size": {"type": "string"}}}
    assert index(openapi)["apis/example.com/v1"] == first  # same registry generation: cached
    openapi.invalidate()
    second = index(openapi)["apis/example.com/v1"]
    assert second != first
    widget_schema = document(openapi, "apis/example.com/v1")["components"]["schemas"]
    assert widget_schema["com.example.v1.Widget"]["properties"]["size"] == {"type": "string"}


def test_openapi_custom_resource_without_schema(registry: ResourceRegistry) -> None:
    registry.add(widget("v2alpha1"))
    openapi = OpenAPI(registry)
    doc = document(openapi, "apis/example.com/v2alpha1")
    schema = doc["components"]["schemas"]["com.example.v2alpha1.Widget"]
    assert schema["x-kubernetes-preserve-unknown-fields"] is True
    assert schema["x-kubernetes-group-version-kind"][0]["version"] == "v2alpha1"


def test_openapi_schema_names() -> None:
    assert schema_name("", "v1", "Pod") == "io.k8s.api.core.v1.Pod"
    assert schema_name("networking.k8s.io", "v1", "Ingress") == "io.k8s.api.networking.v1.Ingress"
    assert schema_name("rbac.authorization.k8s.io", "v1", "Role") == "io.k8s.api.rbac.v1.Role"
    assert schema_name("apiextensions.k8s.io", "v1", "CustomResourceDefinition") == (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"
    )
    assert schema_name("stable.example.com", "v1", "CronTab", builtin=False) == (
        "com.example.stable.v1.CronTab"
    )
