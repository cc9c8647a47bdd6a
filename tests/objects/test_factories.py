"""The object factories against the fake API server: `object_from_spec`,
`object_from_name_type` and `objects_from_files` (files, directories, Lists), with the objects
they make created and fetched for real."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from crds import crd

import kr8s_trio
from kr8s_trio import Api, ConfigError, NotFoundError
from kr8s_trio.objects import (
    ConfigMap,
    CustomResourceDefinition,
    Deployment,
    Pod,
    Secret,
    Service,
    get_class,
    object_from_name_type,
    object_from_spec,
    objects_from_files,
)
from kr8s_trio.testing import FakeCluster

JSON = dict[str, Any]


def configmap(name: str, namespace: str | None = None, **data: str) -> JSON:
    metadata: JSON = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def deployment(name: str) -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


def gadget_crd(scope: str = "Cluster") -> JSON:
    """Gadgets (irregular plural ``gadgetry``) of example.org."""
    result: JSON = crd("example.org", "gadgetry", "Gadget", scope)
    return result


# -- object_from_spec ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        (configmap("a"), ConfigMap),
        (deployment("d"), Deployment),
        ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}, Secret),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}, Pod),
    ],
)
def test_object_from_spec_known_kind_wraps_same_dict(spec: JSON, cls: type) -> None:
    obj = object_from_spec(spec)
    assert type(obj) is cls
    assert obj.raw is spec
    assert obj.name == spec["metadata"]["name"]
    assert obj.api is None


async def test_object_from_spec_binds_api_and_creates(cluster: FakeCluster, api: Api) -> None:
    spec = configmap("made", k="v")
    obj = object_from_spec(spec, api=api)
    assert obj.api is api
    await obj.create()
    assert cluster.get("configmaps", "made")["data"] == {"k": "v"}
    assert obj.metadata.uid  # raw is now the server's answer
    assert "uid" not in spec["metadata"]


def test_object_from_spec_accepts_a_mapping() -> None:
    spec = types.MappingProxyType(configmap("ro"))
    obj = object_from_spec(spec)
    assert type(obj) is ConfigMap
    assert obj.name == "ro"


def test_object_from_spec_version_must_match_a_class() -> None:
    with pytest.raises(KeyError):
        object_from_spec({"apiVersion": "apps/v2", "kind": "Deployment", "metadata": {}})
    with pytest.raises(KeyError):
        object_from_spec({"apiVersion": "v1", "kind": "Deployment", "metadata": {}})


def test_object_from_spec_unknown_kind() -> None:
    spec = {"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    with pytest.raises(KeyError, match="Gadget"):
        object_from_spec(spec)
    obj = object_from_spec(spec, allow_unknown_type=True)
    cls = type(obj)
    assert (cls.kind, cls.version, cls.discover) == ("Gadget", "example.org/v1", True)
    assert obj.raw is spec
    # the class is registered: the same kind again gets the same class
    assert type(object_from_spec(dict(spec), allow_unknown_type=True)) is cls
    assert get_class("gadget.example.org") is cls


@pytest.mark.parametrize(
    "spec",
    [
        {"apiVersion": "v1", "metadata": {"name": "x"}},
        {"kind": "ConfigMap", "metadata": {"name": "x"}},
        {"apiVersion": "", "kind": "ConfigMap"},
        {"apiVersion": "v1", "kind": ""},
        {"apiVersion": "v1", "kind": 3},
        {},
    ],
)
def test_object_from_spec_missing_kind_or_api_version_raises(spec: JSON) -> None:
    with pytest.raises(ValueError, match="kind"):
        object_from_spec(spec, allow_unknown_type=True)


async def test_object_from_spec_cluster_scoped_custom_resource_end_to_end(
    cluster: FakeCluster, api: Api
) -> None:
    # kr8s makes every unknown kind namespaced with plural kind + "s": this one is neither
    await CustomResourceDefinition(gadget_crd()).create()
    obj = object_from_spec(
        {"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "x": 1},
        allow_unknown_type=True,
    )
    await obj.create()
    cls = type(obj)
    assert (cls.plural, cls.namespaced) == ("gadgetry", False)
    assert obj.namespace is None
    assert cluster.get("gadgetry.example.org", "g1", namespace=None)["x"] == 1
    got = await cls.get("g1")
    assert got == obj
    assert got.raw["x"] == 1
    await obj.patch({"x": 2})
    assert cluster.get("gadgetry.example.org", "g1", namespace=None)["x"] == 2
    await obj.delete()
    assert not await obj.exists()


# -- object_from_name_type ----------------------------------------------------------------------


@pytest.fixture
async def seeded(cluster: FakeCluster, api: Api) -> FakeCluster:
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
    )
    cluster.create(deployment("web"))
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    cluster.create(configmap("there", namespace="other", k="v"))
    return cluster


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("pod/web", Pod),
        ("po/web", Pod),
        ("pods/web", Pod),
        ("Pod/web", Pod),
        ("pod.v1/web", Pod),
        ("deploy/web", Deployment),
        ("deploy.apps/web", Deployment),
        ("deployments.apps/web", Deployment),
        ("deployment.v1.apps/web", Deployment),
        ("deployment.apps/v1/web", Deployment),
    ],
)
async def test_object_from_name_type_spellings(seeded: FakeCluster, name: str, cls: type) -> None:
    obj = await object_from_name_type(name)
    assert type(obj) is cls
    assert obj.name == "web"
    assert obj.namespace == "default"
    assert obj.metadata.uid == seeded.get(cls.plural, "web")["metadata"]["uid"]


async def test_object_from_name_type_namespace_and_api(seeded: FakeCluster, api: Api) -> None:
    obj = await object_from_name_type("cm/there", namespace="other", api=api)
    assert type(obj) is ConfigMap
    assert obj.api is api
    assert obj.data == {"k": "v"}
    with pytest.raises(NotFoundError):
        await object_from_name_type("cm/there")  # not in the default namespace


@pytest.mark.parametrize("name", ["web", "pod/", "/web", "", "pod"])
async def test_object_from_name_type_bad_form_raises_value_error(
    seeded: FakeCluster, name: str
) -> None:
    seeded.requests.clear()
    with pytest.raises(ValueError, match="<kind>/<name>"):
        await object_from_name_type(name)
    assert not [r for r in seeded.requests if r.verb == "get"]


async def test_object_from_name_type_missing_object_and_unknown_kind(seeded: FakeCluster) -> None:
    with pytest.raises(NotFoundError):
        await object_from_name_type("pod/nope")
    with pytest.raises(NotFoundError):
        await object_from_name_type("svc/web")
    with pytest.raises(KeyError):
        await object_from_name_type("squid/web")


async def test_object_from_name_type_custom_resource(seeded: FakeCluster) -> None:
    await CustomResourceDefinition(gadget_crd()).create()
    seeded.create({"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": {"name": "g"}})
    obj = await object_from_name_type("gadgetry.example.org/g")
    assert type(obj).kind == "Gadget"
    assert type(obj).namespaced is False
    assert obj.name == "g"
    obj2 = await object_from_name_type("gadget/g", namespace="other")  # ignored: cluster-scoped
    assert obj2 == obj


# -- objects_from_files -------------------------------------------------------------------------


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    """A directory of manifests in every form kubectl reads, plus files it ignores."""
    (tmp_path / "multi.yaml").write_text(
        "---\n"
        + yaml.safe_dump(configmap("multi-a", k="a"))
        + "---\n"
        + "# a comment-only document is skipped\n"
        + "---\n"
        + yaml.safe_dump(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "multi-s"}, "data": {}}
        )
    )
    (tmp_path / "one.yml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "svc"},
                "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}},
            }
        )
    )
    (tmp_path / "three.json").write_text(json.dumps(deployment("dep")))
    (tmp_path / "list.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [configmap("list-a"), configmap("list-b")],
            }
        )
    )
    (tmp_path / "notes.txt").write_text("kind: ConfigMap\n")
    (tmp_path / "upper.YAML").write_text(yaml.safe_dump(configmap("upper")))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "deep.yaml").write_text(yaml.safe_dump(configmap("deep")))
    return tmp_path


def _names(objs: list[Any]) -> list[tuple[str, str]]:
    return [(type(o).__name__, o.name) for o in objs]


async def test_objects_from_files_multi_document_yaml(manifests: Path) -> None:
    objs = await objects_from_files(manifests / "multi.yaml")
    assert _names(objs) == [("ConfigMap", "multi-a"), ("Secret", "multi-s")]
    assert objs[0].data == {"k": "a"}


async def test_objects_from_files_yml_json_and_list(manifests: Path) -> None:
    assert _names(await objects_from_files(manifests / "one.yml")) == [("Service", "svc")]
    assert _names(await objects_from_files(str(manifests / "three.json"))) == [
        ("Deployment", "dep")
    ]
    assert _names(await objects_from_files(manifests / "list.yaml")) == [
        ("ConfigMap", "list-a"),
        ("ConfigMap", "list-b"),
    ]
    # a file named explicitly is read whatever its name
    assert _names(await objects_from_files(manifests / "upper.YAML")) == [("ConfigMap", "upper")]


async def test_objects_from_files_directory_not_recursive(manifests: Path) -> None:
    objs = await objects_from_files(manifests)
    assert _names(objs) == [
        ("ConfigMap", "list-a"),
        ("ConfigMap", "list-b"),
        ("ConfigMap", "multi-a"),
        ("Secret", "multi-s"),
        ("Service", "svc"),
        ("Deployment", "dep"),
    ]


async def test_objects_from_files_directory_recursive(manifests: Path) -> None:
    objs = await objects_from_files(manifests, recursive=True)
    assert _names(objs) == [
        ("ConfigMap", "list-a"),
        ("ConfigMap", "list-b"),
        ("ConfigMap", "multi-a"),
        ("Secret", "multi-s"),
        ("Service", "svc"),
        ("ConfigMap", "deep"),  # sub/ sorts between one.yml and three.json
        ("Deployment", "dep"),
    ]


async def test_objects_from_files_then_create(
    manifests: Path, cluster: FakeCluster, api: Api
) -> None:
    objs = await objects_from_files(manifests, api=api, recursive=True)
    assert all(o.api is api for o in objs)
    created = await kr8s_trio.create(objs)
    assert created == objs
    for obj in objs:
        assert obj.metadata.uid
        assert await obj.exists()
    assert {c["metadata"]["name"] for c in cluster.list("configmaps", "default")} >= {
        "list-a",
        "list-b",
        "multi-a",
        "deep",
    }
    assert cluster.get("deployments", "dep")["spec"]["replicas"] == 1
    assert cluster.get("services", "svc")["spec"]["ports"][0]["port"] == 80
    assert isinstance(objs[4], Service)


async def test_objects_from_files_unknown_kind_gets_discovered_class(
    tmp_path: Path, cluster: FakeCluster, api: Api
) -> None:
    await CustomResourceDefinition(gadget_crd()).create()
    path = tmp_path / "gadgets.yaml"
    path.write_text(
        yaml.safe_dump_all(
            [
                {"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": {"name": "g1"}},
                {"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": {"name": "g2"}},
            ]
        )
    )
    objs = await objects_from_files(path)
    assert len({type(o) for o in objs}) == 1
    await kr8s_trio.create(objs)
    names = {g["metadata"]["name"] for g in cluster.list("gadgetry.example.org")}
    assert names == {"g1", "g2"}
    assert type(objs[0]).namespaced is False


async def test_objects_from_files_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await objects_from_files(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\ndata: {password: hunter2\n")
    with pytest.raises(ConfigError) as info:
        await objects_from_files(bad)
    assert isinstance(info.value, ValueError)
    assert "bad.yaml" in str(info.value)
    assert "hunter2" not in str(info.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert await objects_from_files(empty) == []


def test_object_from_spec_other_group_kind_does_not_hijack_builtin_names() -> None:
    from kr8s_trio.objects import Event

    spec = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"}}
    other = type(object_from_spec(spec, allow_unknown_type=True))
    assert other.version == "events.k8s.io/v1"
    assert get_class("ev") is Event
    assert get_class("event") is Event
    assert get_class("events") is Event
    assert get_class("events.events.k8s.io") is other
