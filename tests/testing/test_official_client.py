"""Conformance of the fake API server, driven by the official ``kubernetes`` Python client.

Nobody here wrote that client: if it works against the fake unchanged (its generated typed APIs,
its watch helper and its discovery-based dynamic client), the fake speaks real Kubernetes.
Each test asserts what the client observes point by point: CRUD, the exact Status bodies of
``ApiException``, selectors, pagination, watch (start, resume, 410, bookmarks, transitions), the
four patch types, deletion (finalizers, propagation policies, namespaces), CRDs, subresources
and authentication.

One fake cluster, served from a background thread, is shared by the module; every test works in
its own namespace. The client is synchronous, so watches replay history the test wrote first and
end because the test stops them or because the server ends them (an armed fault); nothing sleeps,
and only the periodic-bookmark test waits, for one short server-side bookmark interval.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, dynamic, watch
from kubernetes.client import ApiClient, ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError
from support import JSON, configmap, crd, crd_version, failure, success

from kr8s_trio.testing import FakeClusterThread, Rule, run_fake_cluster_in_thread

#: bookmarks every 0.2 s, so the one test that waits for a periodic BOOKMARK waits that long
BOOKMARK_INTERVAL = 0.2
#: a server-side cap on watches in tests that expect the stream to end for another reason first
WATCH_CAP = 10

_names = itertools.count(1)


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[FakeClusterThread]:
    # the API machinery alone: exact event sequences, no simulated kubelet or controllers
    with run_fake_cluster_in_thread(
        bookmark_interval=BOOKMARK_INTERVAL, kubelet=False, controllers=False
    ) as fake:
        yield fake


def new_client(cluster: FakeClusterThread, *, context: str | None = None) -> ApiClient:
    """A client configured from the cluster's kubeconfig, never from the global default."""
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=str(cluster.kubeconfig_path),
        context=context,
        client_configuration=configuration,
    )
    return ApiClient(configuration)


def client_for_token(cluster: FakeClusterThread, token: str, tmp_path: Path) -> ApiClient:
    """A client whose kubeconfig carries ``token`` instead of the admin's."""
    kubeconfig = cluster.kubeconfig
    for user in kubeconfig["users"]:
        if "token" in user["user"]:
            user["user"]["token"] = token
    path = tmp_path / f"kubeconfig-{next(_names)}"
    path.write_text(yaml.safe_dump(kubeconfig))
    return config.new_client_from_config(config_file=str(path))


@pytest.fixture(scope="module")
def api(cluster: FakeClusterThread) -> Iterator[ApiClient]:
    with new_client(cluster) as api_client:
        yield api_client


@pytest.fixture
def core(api: ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def ns(core: client.CoreV1Api) -> str:
    """A fresh namespace for one test."""
    name = f"oc-{next(_names)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def body_of(exc: pytest.ExceptionInfo[ApiException]) -> JSON:
    body = json.loads(exc.value.body)
    assert isinstance(body, dict)
    return body


def pod(name: str, *containers: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": name}),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name=c, image=f"{c}:1") for c in containers or ("c",)]
        ),
    )


def deployment(name: str, replicas: int = 1) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": name}),
                spec=client.V1PodSpec(
                    containers=[
                        client.V1Container(name="web", image="nginx:1"),
                        client.V1Container(name="sidecar", image="envoy:1"),
                    ]
                ),
            ),
        ),
    )


def list_rv(core: client.CoreV1Api, ns: str) -> str:
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    assert isinstance(rv, str)
    return rv


def owner_ref(obj: Any, *, block: bool = False) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": obj.metadata.name,
        "uid": obj.metadata.uid,
        "blockOwnerDeletion": block,
    }


def names(items: list[Any]) -> list[str]:
    return sorted(item.metadata.name for item in items)


# -- version and discovery --------------------------------------------------------------------


def test_version_get_code_reads_the_version_with_a_trailing_slash(
    cluster: FakeClusterThread, api: ApiClient
) -> None:
    info = client.VersionApi(api).get_code()
    assert (info.major, info.minor, info.git_version) == ("1", "33", "v1.33.1")
    assert info.platform == "linux/amd64"
    record = [r for r in cluster.requests if r.path.startswith("/version")][-1]
    assert record.path == "/version/"
    assert record.status == 200
    assert record.user_agent.startswith("OpenAPI-Generator/")


def test_dynamic_client_discovers_builtins_and_serves_them(
    api: ApiClient, ns: str, tmp_path: Path
) -> None:
    dyn = dynamic.DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert (deployments.name, deployments.namespaced, deployments.group) == (
        "deployments",
        True,
        "apps",
    )
    assert {"status", "scale"} <= set(deployments.subresources)
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    assert {"status", "log", "exec", "eviction"} <= set(pods.subresources)
    assert "po" in pods.short_names
    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    assert namespaces.namespaced is False
    created = deployments.create(
        body=api.sanitize_for_serialization(deployment("dyn")), namespace=ns
    )
    assert created.metadata.generation == 1
    fetched = deployments.get(name="dyn", namespace=ns)
    assert fetched.metadata.uid == created.metadata.uid
    assert [d.metadata.name for d in deployments.get(namespace=ns).items] == ["dyn"]
    with pytest.raises(ResourceNotFoundError):
        dyn.resources.get(api_version="example.com/v1", kind="Nothing")


def test_dynamic_client_patches_and_applies(
    cluster: FakeClusterThread, api: ApiClient, ns: str, tmp_path: Path
) -> None:
    dyn = dynamic.DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    applied = configmaps.server_side_apply(
        body=configmap("cm", a="1"), namespace=ns, field_manager="dyn-alpha"
    )
    assert applied.data.a == "1"
    assert applied.metadata.managedFields[0].manager == "dyn-alpha"
    with pytest.raises(ApiException) as exc:
        configmaps.server_side_apply(
            body=configmap("cm", a="2"), namespace=ns, field_manager="dyn-beta"
        )
    assert exc.value.status == 409
    forced = configmaps.server_side_apply(
        body=configmap("cm", a="2"), namespace=ns, field_manager="dyn-beta", force_conflicts=True
    )
    assert forced.data.a == "2"
    record = cluster.requests.filter(verb="patch", namespace=ns)[-1]
    assert record.query["force"] == ["true"]
    # the dynamic client's default patch is a strategic merge patch
    merged = configmaps.patch(body={"data": {"b": "3"}}, name="cm", namespace=ns)
    assert merged.data.to_dict() == {"a": "2", "b": "3"}
    record = cluster.requests.filter(verb="patch", namespace=ns)[-1]
    assert record.content_type == "application/strategic-merge-patch+json"
    jsonpatched = configmaps.patch(
        body=[{"op": "remove", "path": "/data/a"}],
        name="cm",
        namespace=ns,
        content_type="application/json-patch+json",
    )
    assert jsonpatched.data.to_dict() == {"b": "3"}
    configmaps.delete(name="cm", namespace=ns)
    with pytest.raises(ApiException) as exc:
        configmaps.get(name="cm", namespace=ns)
    assert exc.value.status == 404


def test_dry_run_create_and_delete_persist_nothing(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    rv = list_rv(core, ns)
    dry = core.create_namespaced_config_map(ns, configmap("cm", a="1"), dry_run="All")
    assert dry.metadata.uid
    assert dry.data == {"a": "1"}
    assert core.list_namespaced_config_map(ns).items == []
    core.create_namespaced_config_map(ns, configmap("cm", a="1"))
    core.delete_namespaced_config_map("cm", ns, dry_run="All")
    assert names(core.list_namespaced_config_map(ns).items) == ["cm"]
    record = cluster.requests.filter(verb="delete", namespace=ns)[-1]
    assert record.query["dryRun"] == ["All"]
    # nothing a dry run did reaches watchers
    events = config_map_events(core, ns, 1, resource_version=rv, timeout_seconds=WATCH_CAP)
    assert [e["type"] for e in events] == ["ADDED"]
    assert events[0]["object"].metadata.uid != dry.metadata.uid


# -- CRUD -------------------------------------------------------------------------------------


def test_pods_create_read_replace_delete(core: client.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_pod(ns, pod("p"))
    meta = created.metadata
    assert (meta.name, meta.namespace) == ("p", ns)
    assert meta.uid
    assert int(meta.resource_version) > 0
    assert meta.creation_timestamp is not None
    assert created.spec.containers[0].image == "c:1"
    read = core.read_namespaced_pod("p", ns)
    assert read.metadata.resource_version == meta.resource_version
    read.metadata.labels["tier"] = "web"
    replaced = core.replace_namespaced_pod("p", ns, read)
    assert replaced.metadata.labels == {"app": "p", "tier": "web"}
    assert int(replaced.metadata.resource_version) > int(meta.resource_version)
    assert replaced.metadata.uid == meta.uid
    assert names(core.list_namespaced_pod(ns).items) == ["p"]
    deleted = core.delete_namespaced_pod("p", ns)
    # pods answer a delete with the object (an unscheduled pod goes at once)
    assert isinstance(deleted, client.V1Pod)
    assert deleted.metadata.uid == meta.uid
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod("p", ns)
    assert exc.value.status == 404
    assert core.list_namespaced_pod(ns).items == []


def test_configmaps_create_read_replace_delete(core: client.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_config_map(ns, configmap("cm", a="1"))
    assert created.data == {"a": "1"}
    created.data["b"] = "2"
    replaced = core.replace_namespaced_config_map("cm", ns, created)
    assert replaced.data == {"a": "1", "b": "2"}
    assert core.read_namespaced_config_map("cm", ns).data == {"a": "1", "b": "2"}
    deleted = core.delete_namespaced_config_map("cm", ns)
    # configmaps answer a delete with a Success Status naming what went (the generated
    # method is typed ``object``: the client hands back the decoded JSON)
    assert deleted == success({"name": "cm", "kind": "configmaps", "uid": created.metadata.uid})
    assert core.list_namespaced_config_map(ns).items == []


def test_deployments_create_read_replace_delete(apps: client.AppsV1Api, ns: str) -> None:
    created = apps.create_namespaced_deployment(ns, deployment("web", replicas=2))
    assert created.metadata.generation == 1
    assert created.spec.replicas == 2
    assert [c.name for c in created.spec.template.spec.containers] == ["web", "sidecar"]
    created.spec.replicas = 3
    replaced = apps.replace_namespaced_deployment("web", ns, created)
    assert (replaced.spec.replicas, replaced.metadata.generation) == (3, 2)
    replaced.metadata.labels = {"team": "a"}
    relabelled = apps.replace_namespaced_deployment("web", ns, replaced)
    assert relabelled.metadata.generation == 2  # metadata changes do not bump generation
    assert apps.read_namespaced_deployment("web", ns).metadata.labels == {"team": "a"}
    apps.delete_namespaced_deployment("web", ns)
    assert apps.list_namespaced_deployment(ns).items == []


def test_collections_delete_by_label_selector(core: client.CoreV1Api, ns: str) -> None:
    for i in range(4):
        core.create_namespaced_config_map(ns, configmap(f"cm{i}", {"parity": str(i % 2)}))
    core.delete_collection_namespaced_config_map(ns, label_selector="parity=0")
    assert names(core.list_namespaced_config_map(ns).items) == ["cm1", "cm3"]


# -- exact Status bodies ----------------------------------------------------------------------


def test_errors_404_is_a_not_found_status(core: client.CoreV1Api, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("missing", ns)
    assert exc.value.status == 404
    assert body_of(exc) == failure(
        404, "NotFound", 'configmaps "missing" not found', {"name": "missing", "kind": "configmaps"}
    )
    with pytest.raises(ApiException) as exc:
        client.AppsV1Api(core.api_client).read_namespaced_deployment("missing", ns)
    assert body_of(exc) == failure(
        404,
        "NotFound",
        'deployments.apps "missing" not found',
        {"name": "missing", "group": "apps", "kind": "deployments"},
    )
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map("no-such-namespace", configmap("cm"))
    assert body_of(exc) == failure(
        404,
        "NotFound",
        'namespaces "no-such-namespace" not found',
        {"name": "no-such-namespace", "kind": "namespaces"},
    )


def test_errors_409_already_exists(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, configmap("cm"))
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(ns, configmap("cm"))
    assert exc.value.status == 409
    assert body_of(exc) == failure(
        409, "AlreadyExists", 'configmaps "cm" already exists', {"name": "cm", "kind": "configmaps"}
    )


def test_errors_409_conflict_on_a_stale_replace(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    stale = core.create_namespaced_config_map(ns, configmap("cm", a="1"))
    fresh = core.patch_namespaced_config_map("cm", ns, {"data": {"a": "2"}})
    assert fresh.metadata.resource_version != stale.metadata.resource_version
    stale.data = {"a": "3"}
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("cm", ns, stale)
    assert exc.value.status == 409
    assert body_of(exc) == failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": "cm", "kind": "configmaps"},
    )
    # another writer bumping the resourceVersion behind the client's back has the same effect
    latest = core.read_namespaced_config_map("cm", ns)
    cluster.call(lambda c: c.bump_resource_version("configmaps", "cm", ns))
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("cm", ns, latest)
    assert exc.value.status == 409
    assert core.read_namespaced_config_map("cm", ns).data == {"a": "2"}


def test_errors_422_for_an_invalid_pod(core: client.CoreV1Api, ns: str) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": []},
    }
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod(ns, body)
    assert exc.value.status == 422
    assert body_of(exc) == failure(
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
    with pytest.raises(ApiException):
        core.read_namespaced_pod("p", ns)


def test_errors_400_for_a_bad_label_selector(core: client.CoreV1Api, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(ns, label_selector="a in (b")
    assert exc.value.status == 400
    assert body_of(exc) == failure(
        400, "BadRequest", "unable to parse requirement: found '', expected: ',' or ')'"
    )
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_pod(ns, field_selector="spec.nope=x")
    assert body_of(exc) == failure(400, "BadRequest", "field label not supported: spec.nope")


def test_errors_401_for_a_bad_token(cluster: FakeClusterThread, tmp_path: Path) -> None:
    with (
        client_for_token(cluster, "not-a-token", tmp_path) as api,
        pytest.raises(ApiException) as exc,
    ):
        client.CoreV1Api(api).list_namespace()
    assert exc.value.status == 401
    assert body_of(exc) == failure(401, "Unauthorized", "Unauthorized")


def test_errors_403_for_a_user_the_rules_do_not_allow(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str, tmp_path: Path
) -> None:
    core.create_namespaced_config_map(ns, configmap("cm", a="1"))
    token = cluster.add_user("alice", ("team-a",))
    rules = [Rule(users=("alice",), verbs=("get", "list"), resources=("configmaps",))]
    cluster.call(lambda c: c.set_rules(rules))
    try:
        with client_for_token(cluster, token, tmp_path) as api:
            alice = client.CoreV1Api(api)
            assert alice.read_namespaced_config_map("cm", ns).data == {"a": "1"}
            assert names(alice.list_namespaced_config_map(ns).items) == ["cm"]
            with pytest.raises(ApiException) as exc:
                alice.delete_namespaced_config_map("cm", ns)
            assert exc.value.status == 403
            assert body_of(exc) == failure(
                403,
                "Forbidden",
                f'configmaps "cm" is forbidden: User "alice" cannot delete resource "configmaps" '
                f'in API group "" in the namespace "{ns}"',
                {"name": "cm", "kind": "configmaps"},
            )
            with pytest.raises(ApiException) as exc:
                client.AppsV1Api(api).list_namespaced_deployment(ns)
            assert body_of(exc) == failure(
                403,
                "Forbidden",
                'deployments.apps is forbidden: User "alice" cannot list resource "deployments" '
                f'in API group "apps" in the namespace "{ns}"',
                {"group": "apps", "kind": "deployments"},
            )
            with pytest.raises(ApiException) as exc:
                alice.list_namespace()
            assert body_of(exc)["message"] == (
                'namespaces is forbidden: User "alice" cannot list resource "namespaces" in API '
                'group "" at the cluster scope'
            )
        # the admin (system:masters) is never refused
        assert core.read_namespaced_config_map("cm", ns).data == {"a": "1"}
    finally:
        cluster.call(lambda c: c.set_rules(None))


def test_errors_405_for_a_method_the_route_does_not_serve(api: ApiClient, tmp_path: Path) -> None:
    expected = failure(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )
    dyn = dynamic.DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))
    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    # namespaces cannot be deleted as a collection (the typed API has no such method at all)
    with pytest.raises(ApiException) as exc:
        namespaces.delete(label_selector="doomed=true")
    assert exc.value.status == 405
    assert body_of(exc) == expected
    # reviews are create-only
    with pytest.raises(ApiException) as exc:
        dyn.request("GET", "/apis/authentication.k8s.io/v1/selfsubjectreviews")
    assert body_of(exc) == expected


def test_errors_410_for_an_exact_list_of_a_compacted_resource_version(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    rv = list_rv(core, ns)
    core.create_namespaced_config_map(ns, configmap("cm"))
    exact = core.list_namespaced_config_map(ns, resource_version=rv, resource_version_match="Exact")
    assert exact.items == []
    cluster.call(lambda c: c.compact())
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(ns, resource_version=rv, resource_version_match="Exact")
    assert exc.value.status == 410
    assert body_of(exc) == failure(
        410, "Expired", "The resourceVersion for the provided list is too old."
    )


def test_errors_429_on_a_create_is_plain_text_with_retry_after(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    cluster.call(lambda c: c.faults.fail_next(429, verb="create", namespace=ns))
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(ns, configmap("cm"))
    assert exc.value.status == 429
    assert exc.value.body == "Too many requests, please try again later.\n"
    assert exc.value.headers["Retry-After"] == "1"
    assert exc.value.headers["Content-Type"] == "text/plain; charset=utf-8"
    # POST is not retried: nothing was created, and the next attempt goes through
    assert core.list_namespaced_config_map(ns).items == []
    core.create_namespaced_config_map(ns, configmap("cm"))


def test_errors_429_on_a_read_is_retried_by_urllib3_after_retry_after(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_config_map(ns, configmap("cm"))
    cluster.call(lambda c: c.faults.fail_next(429, retry_after=0, verb="get", namespace=ns))
    assert core.read_namespaced_config_map("cm", ns).metadata.name == "cm"
    statuses = [r.status for r in cluster.requests.filter(verb="get", namespace=ns, name="cm")]
    assert statuses == [429, 200]


# -- list: selectors and pagination -----------------------------------------------------------


@pytest.fixture(scope="module")
def labelled(api: ApiClient) -> str:
    """A namespace with configmaps carrying a spread of labels."""
    core = client.CoreV1Api(api)
    name = f"oc-labels-{next(_names)}"
    core.create_namespace({"metadata": {"name": name}})
    for cm, labels in {
        "a": {"env": "prod", "tier": "web", "size": "3"},
        "b": {"env": "dev", "tier": "web", "size": "10"},
        "c": {"env": "prod", "tier": "db"},
        "d": {"tier": "cache", "size": "1"},
        "e": {},
    }.items():
        core.create_namespaced_config_map(name, configmap(cm, labels))
    return name


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("env=prod", ["a", "c"]),
        ("env==prod", ["a", "c"]),
        ("env!=prod", ["b", "d", "e"]),
        ("env in (dev,prod)", ["a", "b", "c"]),
        ("env notin (prod)", ["b", "d", "e"]),
        ("env", ["a", "b", "c"]),
        ("!env", ["d", "e"]),
        ("size>2", ["a", "b"]),
        ("size<5", ["a", "d"]),
        ("env=prod,tier=web", ["a"]),
        ("tier in (web), !size", []),
        ("env in ()", []),
        ("", ["a", "b", "c", "d", "e"]),
    ],
)
def test_list_label_selector_operator(
    core: client.CoreV1Api, labelled: str, selector: str, expected: list[str]
) -> None:
    found = core.list_namespaced_config_map(labelled, label_selector=selector)
    assert names(found.items) == expected


def test_list_field_selectors(core: client.CoreV1Api, labelled: str) -> None:
    by_name = core.list_namespaced_config_map(labelled, field_selector="metadata.name=b")
    assert names(by_name.items) == ["b"]
    not_name = core.list_namespaced_config_map(
        labelled, field_selector="metadata.name!=b,metadata.name!=c"
    )
    assert names(not_name.items) == ["a", "d", "e"]
    everywhere = core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.namespace={labelled}", label_selector="tier=web"
    )
    assert names(everywhere.items) == ["a", "b"]
    both = core.list_namespaced_config_map(
        labelled, field_selector="metadata.name=a", label_selector="env=dev"
    )
    assert both.items == []


def test_list_pod_field_selectors(core: client.CoreV1Api, ns: str) -> None:
    always = pod("always")
    never = pod("never")
    never.spec.restart_policy = "Never"
    core.create_namespaced_pod(ns, always)
    core.create_namespaced_pod(ns, never)
    found = core.list_namespaced_pod(ns, field_selector="spec.restartPolicy=Never")
    assert names(found.items) == ["never"]
    found = core.list_namespaced_pod(ns, field_selector="spec.restartPolicy!=Never")
    assert names(found.items) == ["always"]


def test_list_pagination_gathers_every_item(core: client.CoreV1Api, ns: str) -> None:
    for i in range(7):
        core.create_namespaced_config_map(ns, configmap(f"cm{i}"))
    seen: list[str] = []
    pages = 0
    token: str | None = None
    while True:
        kwargs: JSON = {"limit": 3}
        if token:
            kwargs["_continue"] = token
        page = core.list_namespaced_config_map(ns, **kwargs)
        pages += 1
        assert len(page.items) <= 3
        seen += [cm.metadata.name for cm in page.items]
        token = page.metadata._continue
        if pages == 1:
            assert page.metadata.remaining_item_count == 4
        if not token:
            break
    assert pages == 3
    assert seen == [f"cm{i}" for i in range(7)]


def test_list_pagination_expired_continue_is_410_with_a_fresh_token(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    for i in range(4):
        core.create_namespaced_config_map(ns, configmap(f"cm{i}"))
    first = core.list_namespaced_config_map(ns, limit=2)
    assert names(first.items) == ["cm0", "cm1"]
    core.create_namespaced_config_map(ns, configmap("cm9"))
    cluster.call(lambda c: c.compact())
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(ns, limit=2, _continue=first.metadata._continue)
    assert exc.value.status == 410
    body = body_of(exc)
    fresh = body["metadata"].pop("continue")
    assert body == failure(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You "
        "can start a new list without the continue parameter, or use the continue token in this "
        "response to retrieve the remainder of the results. Continuing with the provided token "
        "results in an inconsistent list - objects that were created, modified, or deleted "
        "between the time the first chunk was returned and now may show up in the list.",
    )
    assert fresh
    assert fresh != first.metadata._continue
    rest = core.list_namespaced_config_map(ns, _continue=fresh)
    # the remainder comes from the latest state: it includes what was created meanwhile
    assert names(rest.items) == ["cm2", "cm3", "cm9"]


# -- watch ------------------------------------------------------------------------------------


def collect(stream: Iterator[JSON], w: watch.Watch, count: int) -> list[JSON]:
    """The first ``count`` events of ``stream``, stopping ``w`` (its Watch) at the last one."""
    events = []
    for event in stream:
        events.append(event)
        if len(events) == count:
            w.stop()
    return events


def config_map_events(
    core: client.CoreV1Api, ns: str, count: int, w: watch.Watch | None = None, **kwargs: Any
) -> list[JSON]:
    """The first ``count`` events of a watch on the ConfigMaps of ``ns`` (``kwargs`` as for
    ``list_namespaced_config_map``); pass ``w`` to look at the Watch afterwards."""
    if w is None:
        w = watch.Watch()
    return collect(w.stream(core.list_namespaced_config_map, ns, **kwargs), w, count)


def test_watch_streams_added_modified_deleted_in_order(core: client.CoreV1Api, ns: str) -> None:
    rv = list_rv(core, ns)
    created = core.create_namespaced_config_map(ns, configmap("cm", a="1"))
    patched = core.patch_namespaced_config_map("cm", ns, {"data": {"a": "2"}})
    core.delete_namespaced_config_map("cm", ns)
    w = watch.Watch()
    events = config_map_events(core, ns, 3, w, resource_version=rv, timeout_seconds=WATCH_CAP)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert all(isinstance(e["object"], client.V1ConfigMap) for e in events)
    assert [e["object"].data for e in events] == [{"a": "1"}, {"a": "2"}, {"a": "2"}]
    rvs = [int(e["object"].metadata.resource_version) for e in events]
    assert rvs[0] == int(created.metadata.resource_version)
    assert rvs[1] == int(patched.metadata.resource_version)
    assert rvs == sorted(set(rvs))
    assert events[2]["raw_object"]["metadata"]["uid"] == created.metadata.uid
    assert w.resource_version == str(rvs[2])


def test_watch_without_resource_version_starts_with_the_current_state(
    core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_config_map(ns, configmap("x"))
    core.create_namespaced_config_map(ns, configmap("y"))
    events = config_map_events(core, ns, 2, timeout_seconds=WATCH_CAP)
    assert [(e["type"], e["object"].metadata.name) for e in events] == [
        ("ADDED", "x"),
        ("ADDED", "y"),
    ]


def test_watch_resumes_from_a_resource_version(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, configmap("a"))
    middle = core.create_namespaced_config_map(ns, configmap("b"))
    core.create_namespaced_config_map(ns, configmap("c"))
    events = config_map_events(
        core, ns, 1, resource_version=middle.metadata.resource_version, timeout_seconds=WATCH_CAP
    )
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "c")]


def test_watch_reconnects_from_the_last_event_when_the_server_ends_the_stream(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    rv = list_rv(core, ns)
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map(ns, configmap(name))
    # the first watch ends (clean EOF) after one event; without timeout_seconds the client
    # watches again from the resourceVersion of the last event it saw
    cluster.call(lambda c: c.faults.drop_watch(after_events=1, verb="watch", namespace=ns))
    events = config_map_events(core, ns, 3, resource_version=rv, _request_timeout=WATCH_CAP)
    assert [e["object"].metadata.name for e in events] == ["a", "b", "c"]
    watches = cluster.requests.filter(verb="watch", namespace=ns)
    assert [r.query["resourceVersion"] for r in watches] == [
        [rv],
        [events[0]["object"].metadata.resource_version],
    ]


def test_watch_ends_when_the_server_ends_it_and_timeout_seconds_was_given(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_config_map(ns, configmap("a"))
    core.create_namespaced_config_map(ns, configmap("b"))
    cluster.call(lambda c: c.faults.drop_watch(after_events=1, verb="watch", namespace=ns))
    w = watch.Watch()
    events = list(w.stream(core.list_namespaced_config_map, ns, timeout_seconds=WATCH_CAP))
    assert [e["object"].metadata.name for e in events] == ["a"]
    assert len(cluster.requests.filter(verb="watch", namespace=ns)) == 1


def test_watch_label_selector_transitions(core: client.CoreV1Api, ns: str) -> None:
    rv = list_rv(core, ns)
    core.create_namespaced_config_map(ns, configmap("cm", {"app": "a"}, v="1"))
    core.create_namespaced_config_map(ns, configmap("other", {"app": "b"}))
    core.patch_namespaced_config_map(
        "cm", ns, {"metadata": {"labels": {"app": "b"}}, "data": {"v": "2"}}
    )
    core.patch_namespaced_config_map("cm", ns, {"metadata": {"labels": {"app": "a"}}})
    core.delete_namespaced_config_map("cm", ns)
    events = config_map_events(
        core, ns, 4, resource_version=rv, label_selector="app=a", timeout_seconds=WATCH_CAP
    )
    summary = [(e["type"], e["object"].metadata.name, e["object"].data) for e in events]
    assert summary == [
        ("ADDED", "cm", {"v": "1"}),
        ("DELETED", "cm", {"v": "1"}),  # stopped matching: its last matching state
        ("ADDED", "cm", {"v": "2"}),
        ("DELETED", "cm", {"v": "2"}),
    ]
    rvs = [int(e["object"].metadata.resource_version) for e in events]
    assert rvs == sorted(set(rvs))


def test_watch_field_selector_filters_events(core: client.CoreV1Api, ns: str) -> None:
    rv = list_rv(core, ns)
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map(ns, configmap(name))
    core.patch_namespaced_config_map("b", ns, {"data": {"k": "v"}})
    events = config_map_events(
        core,
        ns,
        2,
        resource_version=rv,
        field_selector="metadata.name=b",
        timeout_seconds=WATCH_CAP,
    )
    assert [(e["type"], e["object"].metadata.name) for e in events] == [
        ("ADDED", "b"),
        ("MODIFIED", "b"),
    ]


def test_watch_410_with_timeout_seconds_raises_api_exception(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    rv = list_rv(core, ns)
    core.create_namespaced_config_map(ns, configmap("cm"))
    compacted = cluster.call(lambda c: c.compact())
    w = watch.Watch()
    with pytest.raises(ApiException) as exc:
        list(
            w.stream(
                core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=WATCH_CAP
            )
        )
    assert exc.value.status == 410
    assert exc.value.reason == f"Expired: too old resource version: {rv} ({compacted})"
    assert len(cluster.requests.filter(verb="watch", namespace=ns)) == 1


def test_watch_410_without_timeout_retries_once_then_raises(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    rv = list_rv(core, ns)
    core.create_namespaced_config_map(ns, configmap("cm"))
    cluster.call(lambda c: c.compact())
    w = watch.Watch()
    with pytest.raises(ApiException) as exc:
        list(w.stream(core.list_namespaced_config_map, ns, resource_version=rv))
    assert exc.value.status == 410
    watches = cluster.requests.filter(verb="watch", namespace=ns)
    assert [r.query["resourceVersion"] for r in watches] == [[rv], [rv]]
    assert [r.status for r in watches] == [200, 200]  # the 410 is an ERROR event in the stream


def test_watch_410_once_is_survived_by_watching_again(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    rv = list_rv(core, ns)
    core.create_namespaced_config_map(ns, configmap("cm"))
    cluster.call(lambda c: c.faults.watch_gone(verb="watch", namespace=ns))
    events = config_map_events(core, ns, 1, resource_version=rv, _request_timeout=WATCH_CAP)
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "cm")]
    assert len(cluster.requests.filter(verb="watch", namespace=ns)) == 2


def test_watch_bookmarks_carry_the_resource_version(core: client.CoreV1Api, ns: str) -> None:
    rv = list_rv(core, ns)
    created = core.create_namespaced_config_map(ns, configmap("cm"))
    w = watch.Watch()
    events = config_map_events(
        core, ns, 2, w, resource_version=rv, allow_watch_bookmarks=True, timeout_seconds=WATCH_CAP
    )
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    bookmark = events[1]["raw_object"]
    assert bookmark["kind"] == "ConfigMap"
    assert bookmark["apiVersion"] == "v1"
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(created.metadata.resource_version)
    # the client tracks the bookmark's resourceVersion for its next resume
    assert w.resource_version == bookmark["metadata"]["resourceVersion"]


def test_watch_list_ends_initial_events_with_an_annotated_bookmark(
    core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_config_map(ns, configmap("a"))
    core.create_namespaced_config_map(ns, configmap("b"))
    current = list_rv(core, ns)
    events = config_map_events(
        core,
        ns,
        3,
        send_initial_events=True,
        resource_version_match="NotOlderThan",
        allow_watch_bookmarks=True,
        timeout_seconds=WATCH_CAP,
    )
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    bookmark = events[2]["raw_object"]["metadata"]
    assert bookmark["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["resourceVersion"]) >= int(current)


# -- patches ----------------------------------------------------------------------------------


def test_patch_dict_is_strategic_merge_merging_containers_by_name(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    core.create_namespaced_pod(ns, pod("p", "a", "b"))
    patched = core.patch_namespaced_pod(
        "p", ns, {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}
    )
    assert [(c.name, c.image) for c in patched.spec.containers] == [("a", "a:1"), ("b", "b:2")]
    record = cluster.requests.filter(verb="patch", namespace=ns)[-1]
    assert record.content_type == "application/strategic-merge-patch+json"
    # removing a container from a pod is an update the pod's validation forbids
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_pod(
            "p", ns, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}
        )
    assert exc.value.status == 422
    assert body_of(exc)["details"]["causes"][0]["field"] == "spec"
    # in a deployment's template, $patch: delete removes one element by its merge key
    apps = client.AppsV1Api(core.api_client)
    apps.create_namespaced_deployment(ns, deployment("web"))
    patched_deployment = apps.patch_namespaced_deployment(
        "web",
        ns,
        {
            "metadata": {"labels": {"x": "1"}},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "$patch": "delete"}]}}},
        },
    )
    assert [c.name for c in patched_deployment.spec.template.spec.containers] == ["sidecar"]
    assert patched_deployment.metadata.labels == {"x": "1"}


def test_patch_list_body_is_json_patch(
    cluster: FakeClusterThread, apps: client.AppsV1Api, ns: str
) -> None:
    apps.create_namespaced_deployment(ns, deployment("web"))
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/labels", "value": {"patched": "yes"}},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
    ]
    patched = apps.patch_namespaced_deployment("web", ns, ops)
    assert patched.spec.replicas == 4
    assert patched.metadata.labels == {"patched": "yes"}
    assert [c.name for c in patched.spec.template.spec.containers] == ["web"]
    assert patched.metadata.generation == 2
    record = cluster.requests.filter(verb="patch", namespace=ns)[-1]
    assert record.content_type == "application/json-patch+json"
    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment(
            "web", ns, [{"op": "test", "path": "/spec/replicas", "value": 9}]
        )
    assert exc.value.status == 422
    assert body_of(exc)["reason"] == "Invalid"


def test_patch_merge_patch_replaces_lists_wholesale(
    cluster: FakeClusterThread, apps: client.AppsV1Api, ns: str
) -> None:
    apps.create_namespaced_deployment(ns, deployment("web"))
    patch = {
        "metadata": {"annotations": {"note": "x"}},
        "spec": {"template": {"spec": {"containers": [{"name": "only", "image": "busybox"}]}}},
    }
    patched = apps.patch_namespaced_deployment(
        "web", ns, patch, _content_type="application/merge-patch+json"
    )
    assert [(c.name, c.image) for c in patched.spec.template.spec.containers] == [
        ("only", "busybox")
    ]
    assert patched.metadata.annotations == {"note": "x"}
    record = cluster.requests.filter(verb="patch", namespace=ns)[-1]
    assert record.content_type == "application/merge-patch+json"
    # null deletes a key
    patched = apps.patch_namespaced_deployment(
        "web",
        ns,
        {"metadata": {"annotations": {"note": None}}},
        _content_type="application/merge-patch+json",
    )
    assert not patched.metadata.annotations


def test_patch_server_side_apply_conflicts_and_force(
    cluster: FakeClusterThread, core: client.CoreV1Api, ns: str
) -> None:
    apply = "application/apply-patch+yaml"
    created = core.patch_namespaced_config_map(
        "cm", ns, configmap("cm", a="1", b="2"), field_manager="alpha", _content_type=apply
    )
    assert created.data == {"a": "1", "b": "2"}
    managers = [(m.manager, m.operation) for m in created.metadata.managed_fields]
    assert managers == [("alpha", "Apply")]
    record = cluster.requests.filter(verb="patch", namespace=ns)[-1]
    assert (record.content_type, record.status) == (apply, 201)
    # another manager setting the same fields to other values conflicts, one cause per field
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map(
            "cm", ns, configmap("cm", a="10", b="20"), field_manager="beta", _content_type=apply
        )
    assert exc.value.status == 409
    assert body_of(exc) == failure(
        409,
        "Conflict",
        'Apply failed with 2 conflicts: conflicts with "alpha":\n- .data.a\n- .data.b',
        {
            "causes": [
                {
                    "reason": "FieldManagerConflict",
                    "message": 'conflict with "alpha"',
                    "field": ".data.a",
                },
                {
                    "reason": "FieldManagerConflict",
                    "message": 'conflict with "alpha"',
                    "field": ".data.b",
                },
            ]
        },
    )
    # the same value is shared ownership, not a conflict
    shared = core.patch_namespaced_config_map(
        "cm", ns, configmap("cm", a="1"), field_manager="beta", _content_type=apply
    )
    assert shared.data == {"a": "1", "b": "2"}
    # force takes the field over
    forced = core.patch_namespaced_config_map(
        "cm", ns, configmap("cm", b="20"), field_manager="beta", force=True, _content_type=apply
    )
    assert forced.data == {"a": "1", "b": "20"}
    owned = {
        m.manager: sorted(m.fields_v1.get("f:data", {})) for m in forced.metadata.managed_fields
    }
    # beta's latest apply configuration holds b only: it no longer shares a
    assert owned == {"alpha": ["f:a"], "beta": ["f:b"]}
    # force on a non-apply patch is refused
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map("cm", ns, {"data": {"c": "3"}}, force=True)
    assert exc.value.status == 422
    # fields an applier no longer applies, and nobody else owns, are removed
    dropped = core.patch_namespaced_config_map(
        "cm", ns, configmap("cm"), field_manager="alpha", _content_type=apply
    )
    assert dropped.data == {"b": "20"}


# -- deletion ---------------------------------------------------------------------------------


def test_finalizers_hold_deletion_until_removed(core: client.CoreV1Api, ns: str) -> None:
    body = configmap("cm")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map(ns, body)
    core.delete_namespaced_config_map("cm", ns)
    held = core.read_namespaced_config_map("cm", ns)
    assert held.metadata.deletion_timestamp is not None
    assert held.metadata.finalizers == ["example.com/hold"]
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map(
            "cm", ns, {"metadata": {"finalizers": ["example.com/hold", "example.com/new"]}}
        )
    assert exc.value.status == 422
    core.patch_namespaced_config_map(
        "cm", ns, {"metadata": {"finalizers": None}}, _content_type="application/merge-patch+json"
    )
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("cm", ns)
    assert gone.value.status == 404


def test_delete_background_propagation_removes_dependents(core: client.CoreV1Api, ns: str) -> None:
    owner = core.create_namespaced_config_map(ns, configmap("owner"))
    for name in ("dep1", "dep2"):
        body = configmap(name)
        body["metadata"]["ownerReferences"] = [owner_ref(owner)]
        core.create_namespaced_config_map(ns, body)
    core.create_namespaced_config_map(ns, configmap("unrelated"))
    core.delete_namespaced_config_map(
        "owner", ns, body=client.V1DeleteOptions(propagation_policy="Background")
    )
    assert names(core.list_namespaced_config_map(ns).items) == ["unrelated"]


def test_delete_foreground_propagation_waits_for_blocking_dependents(
    core: client.CoreV1Api, ns: str
) -> None:
    owner = core.create_namespaced_config_map(ns, configmap("owner"))
    body = configmap("dep")
    body["metadata"]["ownerReferences"] = [owner_ref(owner, block=True)]
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map(ns, body)
    core.delete_namespaced_config_map(
        "owner", ns, body=client.V1DeleteOptions(propagation_policy="Foreground")
    )
    waiting = core.read_namespaced_config_map("owner", ns)
    assert waiting.metadata.deletion_timestamp is not None
    assert waiting.metadata.finalizers == ["foregroundDeletion"]
    dep = core.read_namespaced_config_map("dep", ns)
    assert dep.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map(
        "dep", ns, {"metadata": {"finalizers": None}}, _content_type="application/merge-patch+json"
    )
    assert core.list_namespaced_config_map(ns).items == []


def test_delete_orphan_propagation_keeps_dependents_without_the_owner(
    core: client.CoreV1Api, ns: str
) -> None:
    owner = core.create_namespaced_config_map(ns, configmap("owner"))
    other = core.create_namespaced_config_map(ns, configmap("other"))
    body = configmap("dep")
    body["metadata"]["ownerReferences"] = [owner_ref(owner), owner_ref(other)]
    core.create_namespaced_config_map(ns, body)
    body = configmap("only")
    body["metadata"]["ownerReferences"] = [owner_ref(owner)]
    core.create_namespaced_config_map(ns, body)
    core.delete_namespaced_config_map(
        "owner", ns, body=client.V1DeleteOptions(propagation_policy="Orphan")
    )
    assert names(core.list_namespaced_config_map(ns).items) == ["dep", "only", "other"]
    dep = core.read_namespaced_config_map("dep", ns)
    assert [r.name for r in dep.metadata.owner_references] == ["other"]
    assert core.read_namespaced_config_map("only", ns).metadata.owner_references is None


def test_delete_scheduled_pod_is_graceful_unless_grace_period_is_zero(
    core: client.CoreV1Api, ns: str
) -> None:
    scheduled = pod("p")
    scheduled.spec.node_name = "node-1"
    core.create_namespaced_pod(ns, scheduled)
    deleting = core.delete_namespaced_pod("p", ns)
    assert deleting.metadata.deletion_grace_period_seconds == 30
    assert deleting.metadata.deletion_timestamp is not None
    assert names(core.list_namespaced_pod(ns).items) == ["p"]
    core.delete_namespaced_pod("p", ns, grace_period_seconds=0)
    assert core.list_namespaced_pod(ns).items == []


def test_namespace_deletion_is_terminating_then_gone(core: client.CoreV1Api) -> None:
    name = f"oc-doomed-{next(_names)}"
    core.create_namespace({"metadata": {"name": name}})
    body = configmap("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map(name, body)
    core.create_namespaced_config_map(name, configmap("free"))
    core.delete_namespace(name)
    terminating = core.read_namespace(name)
    assert terminating.status.phase == "Terminating"
    assert terminating.metadata.deletion_timestamp is not None
    assert names(core.list_namespaced_config_map(name).items) == ["held"]
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(name, configmap("late"))
    assert exc.value.status == 403
    assert body_of(exc)["message"] == (
        f'configmaps "late" is forbidden: unable to create new content in namespace {name} '
        "because it is being terminated"
    )
    core.patch_namespaced_config_map(
        "held",
        name,
        {"metadata": {"finalizers": None}},
        _content_type="application/merge-patch+json",
    )
    with pytest.raises(ApiException) as gone:
        core.read_namespace(name)
    assert gone.value.status == 404


def test_namespace_finalize_subresource_releases_a_namespace(core: client.CoreV1Api) -> None:
    name = f"oc-finalize-{next(_names)}"
    core.create_namespace(
        {"metadata": {"name": name}, "spec": {"finalizers": ["example.com/custom"]}}
    )
    created = core.read_namespace(name)
    assert sorted(created.spec.finalizers) == ["example.com/custom", "kubernetes"]
    core.create_namespaced_config_map(name, configmap("cm"))
    core.delete_namespace(name)
    # the namespace controller emptied it and dropped its own finalizer; the other one holds
    held = core.read_namespace(name)
    assert held.status.phase == "Terminating"
    assert held.spec.finalizers == ["example.com/custom"]
    assert core.list_namespaced_config_map(name).items == []
    held.spec.finalizers = []
    core.replace_namespace_finalize(name, held)
    with pytest.raises(ApiException) as exc:
        core.read_namespace(name)
    assert exc.value.status == 404


# -- custom resources -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def widgets(api: ApiClient) -> str:
    """A CRD (widgets.example.com, with status and scale subresources) for the module."""
    ext = client.ApiextensionsV1Api(api)
    created = ext.create_custom_resource_definition(
        crd("example.com", "widgets", "Widget", crd_version(status_and_scale=True))
    )
    assert created.metadata.name == "widgets.example.com"
    # the CRD controllers have run by the time the create is answered: no polling needed
    read = ext.read_custom_resource_definition("widgets.example.com")
    conditions = {c.type: c.status for c in read.status.conditions}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert read.status.accepted_names.list_kind == "WidgetList"
    return "widgets"


def widget(name: str, replicas: int = 1) -> JSON:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "colour": "blue"},
    }


def test_custom_objects_create_read_replace_delete(api: ApiClient, widgets: str, ns: str) -> None:
    co = client.CustomObjectsApi(api)
    created = co.create_namespaced_custom_object("example.com", "v1", ns, widgets, widget("w"))
    assert created["metadata"]["generation"] == 1
    assert created["spec"] == {"replicas": 1, "colour": "blue"}
    got = co.get_namespaced_custom_object("example.com", "v1", ns, widgets, "w")
    assert got["metadata"]["uid"] == created["metadata"]["uid"]
    got["spec"]["colour"] = "red"
    replaced = co.replace_namespaced_custom_object("example.com", "v1", ns, widgets, "w", got)
    assert (replaced["spec"]["colour"], replaced["metadata"]["generation"]) == ("red", 2)
    # a custom resource cannot be replaced without a resourceVersion
    del replaced["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as exc:
        co.replace_namespaced_custom_object("example.com", "v1", ns, widgets, "w", replaced)
    assert exc.value.status == 422
    # kube-apiserver names the resource (not the kind) here, as its store.go does
    assert body_of(exc) == failure(
        422,
        "Invalid",
        'widgets.example.com "w" is invalid: metadata.resourceVersion: Invalid value: 0x0: '
        "must be specified for an update",
        {
            "name": "w",
            "group": "example.com",
            "kind": "widgets",
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "message": "Invalid value: 0x0: must be specified for an update",
                    "field": "metadata.resourceVersion",
                }
            ],
        },
    )
    merged = co.patch_namespaced_custom_object(
        "example.com", "v1", ns, widgets, "w", {"spec": {"size": 3}}
    )
    assert merged["spec"] == {"replicas": 1, "colour": "red", "size": 3}
    listed = co.list_namespaced_custom_object("example.com", "v1", ns, widgets)
    assert listed["kind"] == "WidgetList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["w"]
    co.delete_namespaced_custom_object("example.com", "v1", ns, widgets, "w")
    with pytest.raises(ApiException) as exc:
        co.get_namespaced_custom_object("example.com", "v1", ns, widgets, "w")
    assert body_of(exc) == failure(
        404,
        "NotFound",
        'widgets.example.com "w" not found',
        {"name": "w", "group": "example.com", "kind": "widgets"},
    )


def test_errors_415_for_a_strategic_merge_patch_of_a_custom_resource(
    api: ApiClient, widgets: str, ns: str
) -> None:
    co = client.CustomObjectsApi(api)
    co.create_namespaced_custom_object("example.com", "v1", ns, widgets, widget("w"))
    with pytest.raises(ApiException) as exc:
        co.patch_namespaced_custom_object(
            "example.com",
            "v1",
            ns,
            widgets,
            "w",
            {"spec": {"replicas": 2}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert exc.value.status == 415
    assert body_of(exc) == failure(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    )


def test_custom_objects_status_subresource(api: ApiClient, widgets: str, ns: str) -> None:
    co = client.CustomObjectsApi(api)
    co.create_namespaced_custom_object("example.com", "v1", ns, widgets, widget("w"))
    status = co.patch_namespaced_custom_object_status(
        "example.com", "v1", ns, widgets, "w", {"status": {"replicas": 1, "phase": "Ready"}}
    )
    assert status["status"] == {"replicas": 1, "phase": "Ready"}
    assert status["metadata"]["generation"] == 1  # status writes do not bump generation
    # writes to the main resource ignore status; writes to status ignore the rest
    main = co.patch_namespaced_custom_object(
        "example.com", "v1", ns, widgets, "w", {"status": {"phase": "Lost"}}
    )
    assert main["status"]["phase"] == "Ready"
    ignored = co.patch_namespaced_custom_object_status(
        "example.com", "v1", ns, widgets, "w", {"spec": {"colour": "green"}}
    )
    assert ignored["spec"]["colour"] == "blue"
    read = co.get_namespaced_custom_object_status("example.com", "v1", ns, widgets, "w")
    assert read["status"]["phase"] == "Ready"


def test_custom_objects_scale_subresource(api: ApiClient, widgets: str, ns: str) -> None:
    co = client.CustomObjectsApi(api)
    co.create_namespaced_custom_object("example.com", "v1", ns, widgets, widget("w", 2))
    co.patch_namespaced_custom_object_status(
        "example.com", "v1", ns, widgets, "w", {"status": {"replicas": 2, "selector": "app=w"}}
    )
    scale = co.get_namespaced_custom_object_scale("example.com", "v1", ns, widgets, "w")
    assert scale["kind"] == "Scale"
    assert scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": "app=w"}
    scaled = co.patch_namespaced_custom_object_scale(
        "example.com", "v1", ns, widgets, "w", {"spec": {"replicas": 5}}
    )
    assert scaled["spec"] == {"replicas": 5}
    got = co.get_namespaced_custom_object("example.com", "v1", ns, widgets, "w")
    assert got["spec"]["replicas"] == 5
    assert got["metadata"]["generation"] == 2


def test_custom_objects_watch_streams_dict_events(api: ApiClient, widgets: str, ns: str) -> None:
    co = client.CustomObjectsApi(api)
    rv = co.list_namespaced_custom_object("example.com", "v1", ns, widgets)["metadata"][
        "resourceVersion"
    ]
    co.create_namespaced_custom_object("example.com", "v1", ns, widgets, widget("w"))
    co.patch_namespaced_custom_object("example.com", "v1", ns, widgets, "w", {"spec": {"size": 2}})
    co.delete_namespaced_custom_object("example.com", "v1", ns, widgets, "w")
    w = watch.Watch()
    stream = w.stream(
        co.list_namespaced_custom_object,
        "example.com",
        "v1",
        ns,
        widgets,
        resource_version=rv,
        timeout_seconds=WATCH_CAP,
    )
    events = collect(stream, w, 3)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert all(e["object"]["kind"] == "Widget" for e in events)
    assert events[1]["object"]["spec"]["size"] == 2
    # for untyped objects the client tracks the resourceVersion from the dict
    assert w.resource_version == events[2]["object"]["metadata"]["resourceVersion"]


def test_crd_deletion_removes_custom_objects_and_discovery(
    api: ApiClient, ns: str, tmp_path: Path
) -> None:
    ext = client.ApiextensionsV1Api(api)
    co = client.CustomObjectsApi(api)
    ext.create_custom_resource_definition(
        crd("lifecycle.example.com", "gadgets", "Gadget", crd_version(status_and_scale=True))
    )
    dyn = dynamic.DynamicClient(api, cache_file=str(tmp_path / "before.json"))
    gadgets = dyn.resources.get(api_version="lifecycle.example.com/v1", kind="Gadget")
    assert gadgets.name == "gadgets"
    gadgets.create(
        body={
            "apiVersion": "lifecycle.example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": "g1"},
        },
        namespace=ns,
    )
    co.create_namespaced_custom_object(
        "lifecycle.example.com",
        "v1",
        ns,
        "gadgets",
        {"apiVersion": "lifecycle.example.com/v1", "kind": "Gadget", "metadata": {"name": "g2"}},
    )
    listed = co.list_cluster_custom_object("lifecycle.example.com", "v1", "gadgets")
    assert sorted(i["metadata"]["name"] for i in listed["items"]) == ["g1", "g2"]
    ext.delete_custom_resource_definition("gadgets.lifecycle.example.com")
    with pytest.raises(ApiException) as exc:
        ext.read_custom_resource_definition("gadgets.lifecycle.example.com")
    assert exc.value.status == 404
    with pytest.raises(ApiException) as exc:
        co.list_namespaced_custom_object("lifecycle.example.com", "v1", ns, "gadgets")
    assert exc.value.status == 404
    after = dynamic.DynamicClient(api, cache_file=str(tmp_path / "after.json"))
    with pytest.raises(ResourceNotFoundError):
        after.resources.get(api_version="lifecycle.example.com/v1", kind="Gadget")


# -- deployment status and scale --------------------------------------------------------------


def test_deployment_status_subresource(apps: client.AppsV1Api, ns: str) -> None:
    apps.create_namespaced_deployment(ns, deployment("web", 2))
    status = apps.patch_namespaced_deployment_status(
        "web", ns, {"status": {"replicas": 2, "readyReplicas": 1, "observedGeneration": 1}}
    )
    assert (status.status.replicas, status.status.ready_replicas) == (2, 1)
    read = apps.read_namespaced_deployment_status("web", ns)
    assert read.status.observed_generation == 1
    assert read.metadata.generation == 1
    # the main resource ignores status
    main = apps.patch_namespaced_deployment("web", ns, {"status": {"replicas": 9}})
    assert main.status.replicas == 2


def test_deployment_scale_subresource(apps: client.AppsV1Api, ns: str) -> None:
    created = apps.create_namespaced_deployment(ns, deployment("web", 2))
    scale = apps.read_namespaced_deployment_scale("web", ns)
    assert isinstance(scale, client.V1Scale)
    assert scale.spec.replicas == 2
    assert scale.status.selector == "app=web"
    assert scale.metadata.uid == created.metadata.uid
    scaled = apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 5}})
    assert scaled.spec.replicas == 5
    read = apps.read_namespaced_deployment("web", ns)
    assert (read.spec.replicas, read.metadata.generation) == (5, 2)
    scale = apps.read_namespaced_deployment_scale("web", ns)
    scale.spec.replicas = 1
    assert apps.replace_namespaced_deployment_scale("web", ns, scale).spec.replicas == 1
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 1


# -- authentication and authorization ---------------------------------------------------------


def test_auth_token_review_authenticates_tokens(cluster: FakeClusterThread, api: ApiClient) -> None:
    authn = client.AuthenticationV1Api(api)
    token = cluster.add_user("bob", ("devs",))
    review = authn.create_token_review(
        client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token))
    )
    assert review.status.authenticated is True
    assert review.status.user.username == "bob"
    assert review.status.user.groups == ["devs", "system:authenticated"]
    bogus = authn.create_token_review({"spec": {"token": "nope"}})
    assert not bogus.status.authenticated


def test_auth_self_subject_review_names_the_caller(
    cluster: FakeClusterThread, api: ApiClient, tmp_path: Path
) -> None:
    me = client.AuthenticationV1Api(api).create_self_subject_review(client.V1SelfSubjectReview())
    assert me.status.user_info.username == "fake-admin"
    assert "system:masters" in me.status.user_info.groups
    token = cluster.add_user("carol", ("qa",))
    with client_for_token(cluster, token, tmp_path) as carol:
        review = client.AuthenticationV1Api(carol).create_self_subject_review(
            client.V1SelfSubjectReview()
        )
    assert review.status.user_info.username == "carol"
    assert review.status.user_info.groups == ["qa", "system:authenticated"]


def test_auth_client_certificate_context(cluster: FakeClusterThread, ns: str) -> None:
    with new_client(cluster, context="fake-cert") as cert_api:
        assert cert_api.configuration.api_key == {}
        assert cert_api.configuration.cert_file
        review = client.AuthenticationV1Api(cert_api).create_self_subject_review(
            client.V1SelfSubjectReview()
        )
        assert review.status.user_info.username == "fake-cert-admin"
        assert review.status.user_info.groups == ["system:masters", "system:authenticated"]
        core = client.CoreV1Api(cert_api)
        core.create_namespaced_config_map(ns, configmap("by-cert"))
        assert names(core.list_namespaced_config_map(ns).items) == ["by-cert"]
    record = cluster.requests.filter(verb="create", namespace=ns, resource="configmaps")[-1]
    assert record.user == "fake-cert-admin"


def test_auth_self_subject_access_review_follows_the_rules(
    cluster: FakeClusterThread, ns: str, tmp_path: Path
) -> None:
    token = cluster.add_user("dave")
    rules = [
        Rule(users=("dave",), verbs=("get", "list", "watch"), resources=("pods",), namespaces=(ns,))
    ]
    cluster.call(lambda c: c.set_rules(rules))
    try:
        with client_for_token(cluster, token, tmp_path) as dave:
            authz = client.AuthorizationV1Api(dave)

            def can(verb: str, resource: str, namespace: str, group: str = "") -> bool:
                review = authz.create_self_subject_access_review(
                    client.V1SelfSubjectAccessReview(
                        spec=client.V1SelfSubjectAccessReviewSpec(
                            resource_attributes=client.V1ResourceAttributes(
                                verb=verb, group=group, resource=resource, namespace=namespace
                            )
                        )
                    )
                )
                assert isinstance(review.status.allowed, bool)
                return review.status.allowed

            assert can("list", "pods", ns)
            assert can("watch", "pods", ns)
            assert not can("delete", "pods", ns)
            assert not can("list", "pods", "default")
            assert not can("list", "secrets", ns)
            # every authenticated user may ask (system:basic-user), whatever the rules say
            assert can("create", "selfsubjectaccessreviews", "", "authorization.k8s.io")
            assert not can("create", "tokenreviews", "", "authentication.k8s.io")
            rules = authz.create_self_subject_rules_review(
                client.V1SelfSubjectRulesReview(
                    spec=client.V1SelfSubjectRulesReviewSpec(namespace=ns)
                )
            )
            assert rules.status.incomplete is False
            pod_rules = [r for r in rules.status.resource_rules if r.resources == ["pods"]]
            assert [sorted(r.verbs) for r in pod_rules] == [["get", "list", "watch"]]
            # what the review says is what the server enforces
            assert client.CoreV1Api(dave).list_namespaced_pod(ns).items == []
            with pytest.raises(ApiException) as exc:
                client.CoreV1Api(dave).list_namespaced_pod("default")
            assert exc.value.status == 403
    finally:
        cluster.call(lambda c: c.set_rules(None))


def test_auth_revoked_token_gets_401_on_the_next_request(
    cluster: FakeClusterThread, tmp_path: Path
) -> None:
    token = cluster.add_user("erin")
    with client_for_token(cluster, token, tmp_path) as erin:
        core = client.CoreV1Api(erin)
        assert core.list_namespace().items
        cluster.call(lambda c: c.revoke_token(token))
        with pytest.raises(ApiException) as exc:
            core.list_namespace()
    assert exc.value.status == 401
