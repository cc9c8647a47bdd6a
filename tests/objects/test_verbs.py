"""`APIObject` verbs against the fake API server over TLS (inventory 1.4 and 1.5): get, list,
exists, create, delete, refresh, patch, replace, apply, scale, labels and annotations, owners,
watch and wait.

``cluster`` has no kubelet and no controllers, so objects stay as written unless a test changes
them on the cluster handle; ``living_cluster`` runs pods and rolls Deployments. Time only passes
on trio's MockClock (``autojump_clock``).
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest
import trio
import trio.testing
from crds import crd

from kr8s_trio import ALL, AlreadyExistsError, Api, ConflictError, NotFoundError
from kr8s_trio.objects import (
    ConfigMap,
    Deployment,
    Job,
    Namespace,
    Pod,
    new_class,
)
from kr8s_trio.testing import FakeCluster

JSON = dict[str, Any]


def configmap(name: str, namespace: str = "default", **labels: str) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"k": name},
    }


def pod(name: str, *containers: JSON, **metadata: Any) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **metadata},
        "spec": {"containers": list(containers) or [{"name": "main", "image": "nginx:1.27"}]},
    }


def deployment(name: str, replicas: int = 1, *containers: JSON) -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": list(containers) or [{"name": "main", "image": "nginx:1.27"}]
                },
            },
        },
    }


def job(name: str, parallelism: int = 1) -> JSON:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "parallelism": parallelism,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox"}],
                }
            },
        },
    }


GIZMO_CRD: JSON = crd("verbs.example.com", "gizmos", "Gizmo")


def running_pod(cluster: FakeCluster, name: str) -> None:
    """Create pod ``name`` bound to a node and running (as a kubelet would make it), so that
    deleting it is graceful."""
    body = pod(name)
    body["spec"]["nodeName"] = "node-1"
    cluster.create(body)
    cluster.patch_status("pods", name, {"phase": "Running"})


# -- get ------------------------------------------------------------------------------------------


def namespace(cluster: FakeCluster, name: str) -> None:
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


async def test_get_by_name(cluster: FakeCluster, api: Api) -> None:
    namespace(cluster, "other")
    cluster.create(configmap("a"))
    cluster.create(configmap("a", "other"))
    cm = await ConfigMap.get("a")
    assert cm.name == "a"
    assert cm.namespace == "default"
    assert cm.raw["data"] == {"k": "a"}
    assert cm.api is api
    other = await ConfigMap.get("a", namespace="other")
    assert other.namespace == "other"
    assert other != cm


async def test_get_by_label_selector(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("a", app="web"))
    cluster.create(configmap("b", app="db"))
    assert (await ConfigMap.get(label_selector={"app": "db"})).name == "b"
    assert (await ConfigMap.get(label_selector="app=web")).name == "a"


async def test_get_by_label_selector_object(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("a", app="web", tier="front"))
    cluster.create(configmap("b", app="web", tier="back"))
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}],
    }
    assert (await ConfigMap.get(label_selector=selector)).name == "b"


async def test_get_by_field_selector(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("a"))
    cluster.create(configmap("b"))
    found = await ConfigMap.get(field_selector={"metadata.name": "b"})
    assert found.name == "b"


async def test_get_name_and_selector_must_both_match(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("a", app="web"))
    assert (await ConfigMap.get("a", label_selector={"app": "web"})).name == "a"
    with pytest.raises(NotFoundError):
        await ConfigMap.get("a", label_selector={"app": "db"})


async def test_get_several_matches_is_value_error(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("a", app="web"))
    cluster.create(configmap("b", app="web"))
    with pytest.raises(ValueError, match="expected exactly one"):
        await ConfigMap.get(label_selector={"app": "web"})


async def test_get_missing_is_not_found(cluster: FakeCluster, api: Api) -> None:
    with pytest.raises(NotFoundError):
        await ConfigMap.get("nope")
    with pytest.raises(NotFoundError):
        await ConfigMap.get(label_selector={"app": "nope"})


async def test_get_name_with_all_namespaces_is_value_error(cluster: FakeCluster, api: Api) -> None:
    cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    with pytest.raises(ValueError, match="needs a namespace"):
        await ConfigMap.get("x", namespace=ALL)


async def test_get_neither_name_nor_selector_is_value_error(api: Api) -> None:
    with pytest.raises(ValueError, match="name or a label or field selector"):
        await ConfigMap.get()


async def test_get_default_timeout_does_not_wait(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    start = trio.current_time()
    with pytest.raises(NotFoundError):
        await ConfigMap.get("late")
    assert trio.current_time() == start
    assert len(cluster.requests.filter(resource="configmaps", name="late")) == 1


async def test_get_timeout_waits_for_object_created_later(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    async def create_later() -> None:
        await trio.sleep(1.5)
        cluster.create(configmap("late"))

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(create_later)
        found = await ConfigMap.get("late", timeout=10)
    assert found.name == "late"
    assert 1.5 <= trio.current_time() - start < 10
    assert len(cluster.requests.filter(resource="configmaps", name="late")) > 1


async def test_get_timeout_expires_with_not_found(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    start = trio.current_time()
    with pytest.raises(NotFoundError):
        await ConfigMap.get("never", timeout=3)
    assert trio.current_time() - start == pytest.approx(3)


# -- list / exists --------------------------------------------------------------------------------


async def test_list_yields_objects_of_namespace(cluster: FakeCluster, api: Api) -> None:
    namespace(cluster, "other")
    cluster.create(configmap("a", app="web"))
    cluster.create(configmap("b"))
    cluster.create(configmap("c", "other"))
    names = sorted([cm.name async for cm in ConfigMap.list()])
    assert names == ["a", "b"]
    selected = [cm.name async for cm in ConfigMap.list(label_selector={"app": "web"})]
    assert selected == ["a"]
    other = [cm async for cm in ConfigMap.list(namespace="other")]
    assert [cm.name for cm in other] == ["c"]
    assert all(isinstance(cm, ConfigMap) for cm in other)


async def test_exists_true_false_and_ensure(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("here"))
    assert await ConfigMap("here").exists() is True
    missing = ConfigMap("gone")
    assert await missing.exists() is False
    with pytest.raises(NotFoundError):
        await missing.exists(ensure=True)
    assert await ConfigMap("here").exists(ensure=True) is True


# -- create ---------------------------------------------------------------------------------------


async def test_create_replaces_raw_with_server_object(cluster: FakeCluster, api: Api) -> None:
    cm = ConfigMap(configmap("new"))
    await cm.create()
    assert cm.metadata.uid
    assert cm.metadata.resourceVersion
    assert cluster.get("configmaps", "new")["data"] == {"k": "new"}


async def test_create_resolves_generate_name(cluster: FakeCluster, api: Api) -> None:
    cm = ConfigMap({"metadata": {"generateName": "gen-"}, "data": {"x": "1"}})
    await cm.create()
    assert cm.name.startswith("gen-")
    assert len(cm.name) > len("gen-")
    assert cluster.get("configmaps", cm.name)["data"] == {"x": "1"}


async def test_create_existing_is_already_exists(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("dup"))
    with pytest.raises(AlreadyExistsError):
        await ConfigMap(configmap("dup")).create()


async def test_create_sends_template_not_server_fields(cluster: FakeCluster, api: Api) -> None:
    cm = ConfigMap(configmap("copy"))
    await cm.create()
    twin = ConfigMap(cm.to_dict())
    twin.name = "copy2"
    await twin.create()  # resourceVersion/uid of the first were left out
    assert twin.metadata.uid != cm.metadata.uid


# -- delete ---------------------------------------------------------------------------------------


async def test_delete_removes_object(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("bye"))
    await ConfigMap("bye").delete()
    assert cluster.list("configmaps", "default", field_selector="metadata.name=bye") == []


async def test_delete_missing_is_not_found(api: Api) -> None:
    with pytest.raises(NotFoundError):
        await ConfigMap("nope").delete()


def dependent_of(owner: JSON, name: str) -> JSON:
    body = configmap(name)
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
        }
    ]
    return body


async def test_delete_orphan_keeps_dependents(cluster: FakeCluster, api: Api) -> None:
    owner = cluster.create(configmap("owner"))
    cluster.create(dependent_of(owner, "dependent"))
    cm = ConfigMap("owner")
    await cm.delete(propagation_policy="Orphan")
    assert "orphan" in cm.raw["metadata"]["finalizers"]  # raw took the answer
    assert cm.raw["metadata"]["deletionTimestamp"]
    names = [c["metadata"]["name"] for c in cluster.list("configmaps", "default")]
    assert names == ["dependent"]
    assert not cluster.get("configmaps", "dependent")["metadata"].get("ownerReferences")


@pytest.mark.parametrize("policy", ["Foreground", "Background", None])
async def test_delete_propagating_policy_deletes_dependents(
    cluster: FakeCluster, api: Api, policy: Any
) -> None:
    owner = cluster.create(configmap("owner"))
    cluster.create(dependent_of(owner, "dependent"))
    cm = ConfigMap("owner")
    await cm.delete(propagation_policy=policy)
    if policy == "Foreground":
        assert "foregroundDeletion" in cm.raw["metadata"]["finalizers"]
    assert cluster.list("configmaps", "default") == []


async def test_delete_grace_period_sent(cluster: FakeCluster, api: Api) -> None:
    running_pod(cluster, "slow")
    await Pod("slow").delete(grace_period=7)
    stored = cluster.get("pods", "slow")
    assert stored["metadata"]["deletionGracePeriodSeconds"] == 7


async def test_delete_force_is_immediate(cluster: FakeCluster, api: Api) -> None:
    running_pod(cluster, "slow")
    await Pod("slow").delete(force=True)
    assert cluster.list("pods", "default") == []


async def test_delete_force_and_grace_period_is_value_error(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("keep"))
    with pytest.raises(ValueError, match="not both"):
        await ConfigMap("keep").delete(grace_period=5, force=True)
    assert cluster.get("configmaps", "keep")


async def test_delete_precondition_mismatch_is_conflict(cluster: FakeCluster, api: Api) -> None:
    created = cluster.create(configmap("pre"))
    with pytest.raises(ConflictError):
        await ConfigMap("pre").delete(preconditions={"uid": "not-the-uid"})
    with pytest.raises(ConflictError):
        await ConfigMap("pre").delete(preconditions={"resourceVersion": "1"})
    assert cluster.get("configmaps", "pre")
    await ConfigMap("pre").delete(preconditions={"uid": created["metadata"]["uid"]})
    assert cluster.list("configmaps", "default", field_selector="metadata.name=pre") == []


# -- refresh --------------------------------------------------------------------------------------


async def test_refresh_reads_server_changes(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("r"))
    cm = await ConfigMap.get("r")
    cluster.patch("configmaps", "r", {"data": {"k": "changed"}})
    await cm.refresh()
    assert cm.raw["data"] == {"k": "changed"}


async def test_refresh_deleted_is_not_found(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("r"))
    cm = await ConfigMap.get("r")
    cluster.delete("configmaps", "r")
    with pytest.raises(NotFoundError):
        await cm.refresh()
    assert cm.raw["data"] == {"k": "r"}  # unchanged


# -- patch ----------------------------------------------------------------------------------------


async def test_patch_merge_by_default(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("p"))
    cm = await ConfigMap.get("p")
    await cm.patch({"data": {"extra": "1"}})
    assert cm.raw["data"] == {"k": "p", "extra": "1"}
    assert cluster.get("configmaps", "p")["data"] == {"k": "p", "extra": "1"}
    (record,) = cluster.requests.filter(verb="patch", name="p")
    assert record.content_type.startswith("application/merge-patch+json")


async def test_patch_json_list(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("p"))
    cm = ConfigMap("p")
    await cm.patch(
        [{"op": "add", "path": "/data/x", "value": "y"}, {"op": "remove", "path": "/data/k"}],
        type="json",
    )
    assert cm.raw["data"] == {"x": "y"}


async def test_patch_strategic_merges_containers_by_name(cluster: FakeCluster, api: Api) -> None:
    cluster.create(
        deployment("web", 1, {"name": "main", "image": "nginx:1"}, {"name": "side", "image": "s:1"})
    )
    d = Deployment("web")
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:2"}]}}}}
    await d.patch(patch, type="strategic")
    containers = cluster.get("deploy", "web")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("main", "nginx:2"), ("side", "s:1")]


async def test_patch_merge_replaces_lists(cluster: FakeCluster, api: Api) -> None:
    cluster.create(
        deployment("web", 1, {"name": "main", "image": "nginx:1"}, {"name": "side", "image": "s:1"})
    )
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:2"}]}}}}
    d = Deployment("web")
    await d.patch(patch)
    assert [c["name"] for c in d.spec.template.spec.containers] == ["main"]


async def test_patch_strategic_on_custom_resource_is_value_error(api: Api) -> None:
    Thing = new_class("Thing.verbs.example.com/v1", namespaced=True, plural="things")
    with pytest.raises(ValueError, match="strategic"):
        await Thing("t").patch({"spec": {}}, type="strategic")


async def test_patch_force_without_apply_is_value_error(cluster: FakeCluster, api: Api) -> None:
    cluster.requests.clear()
    with pytest.raises(ValueError, match="force=True"):
        await ConfigMap("x").patch({"data": {}}, force=True)
    assert not cluster.requests.filter(verb="patch")  # refused before sending


async def test_patch_unknown_type_is_value_error(api: Api) -> None:
    with pytest.raises(ValueError, match="patch type"):
        await ConfigMap("x").patch({}, type="bogus")  # type: ignore[arg-type]


async def test_patch_apply_with_field_manager(cluster: FakeCluster, api: Api) -> None:
    cm = ConfigMap("applied")
    await cm.patch(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "applied"},
            "data": {"a": "b"},
        },
        type="apply",
        field_manager="me",
    )
    stored = cluster.get("configmaps", "applied")
    assert stored["data"] == {"a": "b"}
    managers = {(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]}
    assert ("me", "Apply") in managers
    (record,) = cluster.requests.filter(verb="patch", name="applied")
    assert record.query.get("fieldManager") == ["me"]


async def test_patch_field_manager_on_merge(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("fm"))
    await ConfigMap("fm").patch({"data": {"z": "1"}}, field_manager="editor")
    stored = cluster.get("configmaps", "fm")
    assert "editor" in {m["manager"] for m in stored["metadata"]["managedFields"]}


async def test_patch_status_subresource(cluster: FakeCluster, api: Api) -> None:
    cluster.create(pod("st"))
    p = Pod("st")
    await p.patch({"status": {"phase": "Running"}}, subresource="status")
    assert p.status.phase == "Running"
    assert cluster.get("pods", "st")["status"]["phase"] == "Running"
    (record,) = cluster.requests.filter(verb="patch", name="st")
    assert record.subresource == "status"


async def test_patch_missing_is_not_found(api: Api) -> None:
    with pytest.raises(NotFoundError):
        await ConfigMap("nope").patch({"data": {}})


# -- replace --------------------------------------------------------------------------------------


async def test_replace_writes_raw(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("rep"))
    cm = await ConfigMap.get("rep")
    cm.raw["data"] = {"only": "this"}
    await cm.replace()
    assert cluster.get("configmaps", "rep")["data"] == {"only": "this"}
    assert cm.raw["data"] == {"only": "this"}


async def test_replace_stale_resource_version_is_conflict(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("rep"))
    cm = await ConfigMap.get("rep")
    cluster.bump_resource_version("configmaps", "rep")
    cm.raw["data"] = {"lost": "update"}
    with pytest.raises(ConflictError):
        await cm.replace()
    assert cluster.get("configmaps", "rep")["data"] == {"k": "rep"}


async def test_replace_unknown_fields_survive_round_trip(cluster: FakeCluster, api: Api) -> None:
    cluster.create(GIZMO_CRD)
    Gizmo = new_class("Gizmo.verbs.example.com/v1", namespaced=True, plural="gizmos")
    cluster.create(
        {
            "apiVersion": "verbs.example.com/v1",
            "kind": "Gizmo",
            "metadata": {"name": "g"},
            "spec": {"nested": {"deep": [1, {"x": "y"}]}, "futureField": True},
        }
    )
    g = await Gizmo.get("g")
    await g.patch({"spec": {"added": 1}})
    g.raw["spec"]["replaced"] = "yes"
    await g.replace()
    stored = cluster.get("gizmos.verbs.example.com", "g")
    assert stored["spec"] == {
        "nested": {"deep": [1, {"x": "y"}]},
        "futureField": True,
        "added": 1,
        "replaced": "yes",
    }


# -- apply ----------------------------------------------------------------------------------------


async def test_apply_creates_missing(cluster: FakeCluster, api: Api) -> None:
    cm = ConfigMap(configmap("ssa"))
    await cm.apply()
    assert cm.metadata.uid
    stored = cluster.get("configmaps", "ssa")
    assert stored["data"] == {"k": "ssa"}
    assert ("kr8s_trio", "Apply") in {
        (m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]
    }


async def test_apply_conflict_unless_forced(cluster: FakeCluster, api: Api) -> None:
    first = ConfigMap(configmap("ssa"))
    await first.apply(field_manager="alice")
    second = ConfigMap({"metadata": {"name": "ssa"}, "data": {"k": "bob's"}})
    with pytest.raises(ConflictError):
        await second.apply(field_manager="bob")
    assert cluster.get("configmaps", "ssa")["data"] == {"k": "ssa"}
    await second.apply(field_manager="bob", force=True)
    assert cluster.get("configmaps", "ssa")["data"] == {"k": "bob's"}
    assert second.raw["data"] == {"k": "bob's"}


async def test_apply_leaves_server_fields_out(cluster: FakeCluster, api: Api) -> None:
    cm = ConfigMap(configmap("ssa"))
    await cm.apply()
    cluster.bump_resource_version("configmaps", "ssa")
    cm.raw["data"] = {"k": "v2"}
    await cm.apply()  # the stale resourceVersion in raw is not sent
    assert cluster.get("configmaps", "ssa")["data"] == {"k": "v2"}


# -- scale ----------------------------------------------------------------------------------------


async def test_scale_deployment_converges_on_living_cluster(
    living_cluster: FakeCluster, living_api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    living_cluster.create(deployment("web", 1))
    d = await Deployment.get("web")
    await d.scale(3, timeout=120)
    assert d.replicas == 3
    assert d.status.replicas == 3
    assert living_cluster.get("deploy", "web")["status"]["replicas"] == 3


async def test_scale_without_controllers_times_out(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(deployment("web", 1))
    d = Deployment("web")
    start = trio.current_time()
    with pytest.raises(TimeoutError):
        await d.scale(4, timeout=5)
    assert trio.current_time() - start == pytest.approx(5)
    assert cluster.get("deploy", "web")["spec"]["replicas"] == 4  # the request went through
    (record,) = cluster.requests.filter(verb="patch", name="web")
    assert record.subresource == "scale"


async def test_scale_no_wait_returns_after_setting(cluster: FakeCluster, api: Api) -> None:
    cluster.create(deployment("web", 1))
    d = Deployment("web")
    await d.scale(2, wait=False)
    assert d.replicas == 2
    assert cluster.get("deploy", "web")["spec"]["replicas"] == 2


async def test_scale_job_sets_parallelism(cluster: FakeCluster, api: Api) -> None:
    cluster.create(job("batch", 1))
    j = Job("batch")
    await j.scale(3)
    assert j.replicas == 3
    assert cluster.get("jobs", "batch")["spec"]["parallelism"] == 3


async def test_scale_not_scalable_is_not_implemented(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("x"))
    with pytest.raises(NotImplementedError):
        await ConfigMap("x").scale(2)
    assert cluster.requests.filter(verb="patch") == []


@pytest.mark.parametrize("bad", [-1, "3", 2.5, True])
async def test_scale_bad_replicas_is_value_error(cluster: FakeCluster, api: Api, bad: Any) -> None:
    cluster.create(deployment("web", 1))
    with pytest.raises(ValueError, match="replicas"):
        await Deployment("web").scale(bad)
    assert cluster.get("deploy", "web")["spec"]["replicas"] == 1


# -- labels / annotations -------------------------------------------------------------------------


async def test_label_dict_kwargs_and_strings(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("l", old="1", gone="x"))
    cm = ConfigMap("l")
    await cm.label({"app": "web"})
    await cm.label(tier="front")
    await cm.label("env=prod", "gone-")
    labels = cluster.get("configmaps", "l")["metadata"]["labels"]
    assert labels == {"old": "1", "app": "web", "tier": "front", "env": "prod"}
    assert dict(cm.labels) == labels


async def test_label_empty_is_value_error(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("l"))
    with pytest.raises(ValueError, match="no label edits"):
        await ConfigMap("l").label()
    with pytest.raises(ValueError, match="no label edits"):
        await ConfigMap("l").label({})
    assert cluster.requests.filter(verb="patch") == []


async def test_label_invalid_value_is_value_error(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("l"))
    with pytest.raises(ValueError, match="has spaces"):
        await ConfigMap("l").label({"app": "has spaces"})
    assert cluster.requests.filter(verb="patch") == []


async def test_remove_label(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("l", a="1", b="2", c="3"))
    cm = ConfigMap("l")
    await cm.remove_label("a", "c", "missing")
    assert cluster.get("configmaps", "l")["metadata"]["labels"] == {"b": "2"}


async def test_remove_label_nothing_is_value_error(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("l", a="1"))
    with pytest.raises(ValueError, match="no label edits"):
        await ConfigMap("l").remove_label()
    assert cluster.get("configmaps", "l")["metadata"]["labels"] == {"a": "1"}


async def test_annotate_dict_kwargs_and_strings(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("an"))
    cm = ConfigMap("an")
    await cm.annotate({"example.com/note": "hello world"})
    await cm.annotate(owner="team-a")
    await cm.annotate("build=42")
    await cm.annotate(["release=r1", "owner-"])
    annotations = cluster.get("configmaps", "an")["metadata"]["annotations"]
    assert annotations == {"example.com/note": "hello world", "build": "42", "release": "r1"}


async def test_annotate_empty_is_value_error(cluster: FakeCluster, api: Api) -> None:
    cluster.create(configmap("an"))
    with pytest.raises(ValueError, match="no annotation edits"):
        await ConfigMap("an").annotate()
    with pytest.raises(ValueError, match="no annotation edits"):
        await ConfigMap("an").annotate({})


# -- owners ---------------------------------------------------------------------------------------


async def test_set_owner_appends_reference(cluster: FakeCluster, api: Api) -> None:
    first = cluster.create(configmap("owner-1"))
    cluster.create(
        {
            **configmap("child"),
            "metadata": {
                "name": "child",
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "owner-1",
                        "uid": first["metadata"]["uid"],
                    }
                ],
            },
        }
    )
    owner = ConfigMap(configmap("owner-2"))
    await owner.create()
    child = await ConfigMap.get("child")
    await child.set_owner(owner)
    refs = cluster.get("configmaps", "child")["metadata"]["ownerReferences"]
    assert [r["name"] for r in refs] == ["owner-1", "owner-2"]
    assert refs[1]["uid"] == owner.metadata.uid
    assert refs[1]["controller"] is True
    assert refs[1]["blockOwnerDeletion"] is True
    assert child.raw["metadata"]["ownerReferences"] == refs


async def test_set_owner_without_uid_is_value_error(api: Api) -> None:
    with pytest.raises(ValueError, match="uid"):
        await ConfigMap("child").set_owner(ConfigMap("not-created"))


async def test_adopt_sets_owner_on_child(cluster: FakeCluster, api: Api) -> None:
    owner = ConfigMap(configmap("parent"))
    await owner.create()
    cluster.create(configmap("kid"))
    kid = ConfigMap("kid")
    await owner.adopt(kid)
    refs = cluster.get("configmaps", "kid")["metadata"]["ownerReferences"]
    assert [(r["kind"], r["name"], r["uid"]) for r in refs] == [
        ("ConfigMap", "parent", owner.metadata.uid)
    ]


async def test_set_owner_retries_after_conflict(cluster: FakeCluster, api: Api) -> None:
    owner = ConfigMap(configmap("parent"))
    await owner.create()
    cluster.create(configmap("kid"))
    kid = await ConfigMap.get("kid")
    cluster.patch("configmaps", "kid", {"metadata": {"labels": {"touched": "yes"}}})
    await kid.set_owner(owner)  # the stale resourceVersion conflicts once, then refreshes
    stored = cluster.get("configmaps", "kid")
    assert stored["metadata"]["labels"] == {"touched": "yes"}
    assert [r["name"] for r in stored["metadata"]["ownerReferences"]] == ["parent"]


# -- watch ----------------------------------------------------------------------------------------


async def test_watch_yields_only_this_objects_events(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(configmap("w"))
    cluster.create(configmap("other"))
    cm = await ConfigMap.get("w")
    seen: list[tuple[str, str, Any]] = []
    async with trio.open_nursery() as nursery:

        async def consume() -> None:
            async with aclosing(cm.watch()) as events:
                async for event, obj in events:
                    assert obj is cm
                    seen.append((event, obj.name, dict(obj.raw.get("data", {}))))
                    if event == "DELETED":
                        return

        nursery.start_soon(consume)
        await trio.testing.wait_all_tasks_blocked()
        cluster.patch("configmaps", "other", {"data": {"k": "noise"}})
        cluster.patch("configmaps", "w", {"data": {"k": "v2"}})
        await trio.testing.wait_all_tasks_blocked()
        assert cm.raw["data"] == {"k": "v2"}  # raw updated in place
        cluster.delete("configmaps", "w")
    assert seen == [("MODIFIED", "w", {"k": "v2"}), ("DELETED", "w", {"k": "v2"})]


# -- wait -----------------------------------------------------------------------------------------


async def test_wait_condition_ready_on_living_pod(
    living_cluster: FakeCluster, living_api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    p = Pod(pod("live"))
    await p.create()
    await p.wait("condition=Ready", timeout=120)
    ready = [c for c in p.status.conditions if c["type"] == "Ready"]
    assert ready[0]["status"] == "True"


async def test_wait_condition_false(cluster: FakeCluster, api: Api) -> None:
    cluster.create(pod("p"))
    cluster.patch_status("pods", "p", {"conditions": [{"type": "Ready", "status": "False"}]})
    p = Pod("p")
    await p.wait("condition=Ready=false", timeout=1)
    await p.wait("condition=Ready=False", timeout=1)


async def test_wait_condition_met_later(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(pod("p"))

    async def become_ready() -> None:
        await trio.sleep(3)
        cluster.patch_status("pods", "p", {"conditions": [{"type": "Ready", "status": "True"}]})

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(become_ready)
        p = Pod("p")
        await p.wait("condition=Ready", timeout=60)
    assert trio.current_time() - start == pytest.approx(3)
    assert p.status.conditions[0]["status"] == "True"


async def test_wait_delete_concurrent(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(configmap("d"))

    async def delete_later() -> None:
        await trio.sleep(2)
        cluster.delete("configmaps", "d")

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(delete_later)
        await ConfigMap("d").wait("delete", timeout=30)
    assert trio.current_time() - start == pytest.approx(2)


async def test_wait_delete_already_gone_returns_at_once(
    api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    start = trio.current_time()
    await ConfigMap("never-was").wait("delete", timeout=30)
    assert trio.current_time() == start


async def test_wait_jsonpath(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(pod("jp"))

    async def run_later() -> None:
        await trio.sleep(1)
        cluster.patch_status("pods", "jp", {"phase": "Pending"})
        await trio.sleep(1)
        cluster.patch_status("pods", "jp", {"phase": "Running"})

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_later)
        await Pod("jp").wait("jsonpath='{.status.phase}'=Running", timeout=30)
    assert trio.current_time() - start == pytest.approx(2)


async def test_wait_mode_any_and_all(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(pod("m"))
    cluster.patch_status("pods", "m", {"phase": "Running"})
    conditions = ["jsonpath='{.status.phase}'=Running", "condition=Ready"]
    await Pod("m").wait(conditions, mode="any", timeout=5)
    with pytest.raises(TimeoutError):
        await Pod("m").wait(conditions, mode="all", timeout=5)
    cluster.patch_status("pods", "m", {"conditions": [{"type": "Ready", "status": "True"}]})
    await Pod("m").wait(conditions, mode="all", timeout=5)


@pytest.mark.parametrize(
    ("conditions", "mode", "message"),
    [
        ("bogus", "any", "unknown condition"),
        ("condition=", "any", "condition type is empty"),
        ("jsonpath='{.status.phase'=Running", "any", "unterminated"),
        ("condition=Ready", "some", "invalid wait mode"),
        ([], "any", "no wait conditions"),
    ],
)
async def test_wait_bad_condition_or_mode_is_value_error(
    cluster: FakeCluster, api: Api, conditions: Any, mode: Any, message: str
) -> None:
    cluster.create(pod("p"))
    with pytest.raises(ValueError, match=message):
        await Pod("p").wait(conditions, mode=mode, timeout=1)
    assert cluster.requests.filter(resource="pods", name="p") == []


async def test_wait_timeout(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(pod("t"))
    start = trio.current_time()
    with pytest.raises(TimeoutError):
        await Pod("t").wait("condition=Ready", timeout=4)
    assert trio.current_time() - start == pytest.approx(4)


async def test_wait_deleted_object_for_other_condition_is_not_found(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    with pytest.raises(NotFoundError):
        await Pod("absent").wait("condition=Ready", timeout=10)

    cluster.create(pod("doomed"))
    start = trio.current_time()

    async def delete_later() -> None:
        await trio.sleep(1)
        cluster.delete("pods", "doomed")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(delete_later)
        with pytest.raises(NotFoundError):
            await Pod("doomed").wait("condition=Ready", timeout=10)
    assert trio.current_time() - start == pytest.approx(1)


async def test_wait_delete_or_condition_any(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    # deletion satisfies ["delete", ...] in any mode
    await Pod("absent").wait(["condition=Ready", "delete"], timeout=10)


# -- objects across namespaces --------------------------------------------------------------------


async def test_cluster_scoped_verbs(cluster: FakeCluster, api: Api) -> None:
    ns = Namespace("team-x")
    await ns.create()
    assert ns.namespace is None
    assert (await Namespace.get("team-x")).metadata.uid == ns.metadata.uid
    await ns.label(owner="me")
    assert cluster.get("namespaces", "team-x", None)["metadata"]["labels"]["owner"] == "me"


async def test_verbs_use_object_namespace(cluster: FakeCluster, api: Api) -> None:
    namespace(cluster, "team")
    cm = ConfigMap(configmap("n", "team"))
    await cm.create()
    assert cluster.get("configmaps", "n", "team")
    await cm.patch({"data": {"k": "patched"}})
    assert cluster.get("configmaps", "n", "team")["data"] == {"k": "patched"}
    await cm.delete()
    assert cluster.list("configmaps", "team") == []


async def test_list_all_namespaces(cluster: FakeCluster, api: Api) -> None:
    namespace(cluster, "other")
    cluster.create(configmap("a"))
    cluster.create(configmap("b", "other"))
    found = {(cm.namespace, cm.name) async for cm in ConfigMap.list(namespace=ALL)}
    assert {("default", "a"), ("other", "b")} <= found


# -- identity of bound objects --------------------------------------------------------------------


async def test_identity_bound_object_equals_fetched(cluster: FakeCluster, api: Api) -> None:
    # Pod("web") bound to a client whose namespace is "default" names the same resource as the
    # pod fetched from "default"
    cluster.create(pod("web"))
    fetched = await Pod.get("web")
    mine = await Pod("web")
    assert mine.namespace == "default"
    assert mine == fetched
    assert mine in {fetched}


# -- owners of objects not fetched ----------------------------------------------------------------


async def test_set_owner_on_unfetched_object_keeps_server_refs(
    cluster: FakeCluster, api: Api
) -> None:
    first = cluster.create(configmap("owner-1"))
    cluster.create(dependent_of(first, "child"))
    owner = ConfigMap(configmap("owner-2"))
    await owner.create()
    child = ConfigMap("child")  # by name only: raw has no ownerReferences
    await child.set_owner(owner)
    refs = cluster.get("configmaps", "child")["metadata"]["ownerReferences"]
    assert [r["name"] for r in refs] == ["owner-1", "owner-2"]


# -- scale with no count --------------------------------------------------------------------------


async def test_scale_none_waits_for_current_count(
    living_cluster: FakeCluster, living_api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    living_cluster.create(deployment("web", 2))
    d = Deployment("web")  # by name only: raw has no spec yet
    await d.scale(timeout=120)
    assert d.status.replicas == 2
