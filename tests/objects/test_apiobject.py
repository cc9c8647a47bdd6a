"""`APIObject` as data (inventory 1.4): construction from every accepted form, views over the raw
dict, the name/namespace/replicas properties, identity (hash/eq), dict-like access and
conversions; plus ``await Obj(...)`` binding the default client of the fake cluster."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, Mapping
from typing import Any

import kubernetes.client
import pytest
import yaml

from kr8s_trio import Api
from kr8s_trio.objects import (
    APIObject,
    ConfigMap,
    Deployment,
    Job,
    Namespace,
    Node,
    Pod,
    Secret,
    new_class,
)


def pod_dict(name: str = "web", namespace: str | None = "default") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "main", "image": "nginx:1.25"}]},
    }


class LabelsLike:
    """Mapping-like without being a Mapping: only ``keys`` and ``__getitem__``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def keys(self) -> Iterator[str]:
        return iter(self._data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]


class FrozenMapping(Mapping[str, Any]):
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class PykubeLike:
    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj = obj


# -- construction --------------------------------------------------------------------------------


def test_init_dict_is_kept_not_copied() -> None:
    d = pod_dict()
    pod = Pod(d)
    assert pod.raw is d
    d["metadata"]["labels"] = {"a": "b"}
    assert pod.labels["a"] == "b"


def test_init_name_str_builds_metadata_and_type_fields() -> None:
    cm = ConfigMap("settings")
    assert cm.raw == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}
    assert Deployment("web").raw["apiVersion"] == "apps/v1"


def test_init_mapping_is_converted_to_dict() -> None:
    cm = ConfigMap(FrozenMapping({"metadata": {"name": "m"}, "data": {"k": "v"}}))
    assert isinstance(cm.raw, dict)
    assert cm.name == "m"
    assert cm.raw["data"] == {"k": "v"}


def test_init_keys_getitem_object_is_converted() -> None:
    cm = ConfigMap(LabelsLike({"metadata": {"name": "like"}}))
    assert cm.name == "like"
    assert cm.raw["kind"] == "ConfigMap"


def test_init_kubernetes_model_to_dict() -> None:
    model = kubernetes.client.V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=kubernetes.client.V1ObjectMeta(name="from-model", namespace="team"),
        spec=kubernetes.client.V1PodSpec(
            containers=[kubernetes.client.V1Container(name="c", image="busybox")]
        ),
    )
    pod = Pod(model)
    assert pod.name == "from-model"
    assert pod.namespace == "team"
    assert pod.spec.containers[0].image == "busybox"


def test_init_pykube_obj_is_kept_not_copied() -> None:
    d = pod_dict("pk")
    pod = Pod(PykubeLike(d))
    assert pod.raw is d


def test_init_other_object_is_type_error() -> None:
    with pytest.raises(TypeError, match="int"):
        Pod(42)


def test_init_namespace_argument_sets_metadata_namespace() -> None:
    pod = Pod(pod_dict(namespace="a"), namespace="b")
    assert pod.raw["metadata"]["namespace"] == "b"
    assert Pod("x", namespace="ns1").namespace == "ns1"


def test_init_keeps_existing_kind_and_api_version() -> None:
    d = {"apiVersion": "v1beta1", "kind": "Odd", "metadata": {"name": "x"}}
    assert Pod(d).raw["apiVersion"] == "v1beta1"


# -- views ----------------------------------------------------------------------------------------


def test_views_read_nested_fields() -> None:
    pod = Pod(pod_dict())
    assert pod.metadata.name == "web"
    assert pod.spec.containers[0].image == "nginx:1.25"
    assert pod.spec.containers[0]["name"] == "main"


def test_views_writes_go_through_to_raw() -> None:
    d = pod_dict()
    pod = Pod(d)
    pod.spec.containers[0].image = "nginx:1.27"
    pod.metadata.labels = {"app": "web"}
    assert d["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert d["metadata"]["labels"] == {"app": "web"}


def test_views_setters_replace_sections() -> None:
    pod = Pod(pod_dict())
    pod.spec = {"containers": []}
    pod.status = {"phase": "Pending"}
    assert pod.raw["spec"] == {"containers": []}
    assert pod.status.phase == "Pending"


@pytest.mark.parametrize("section", ["metadata", "spec", "status"])
def test_views_missing_section_is_key_error(section: str) -> None:
    pod = Pod({})
    with pytest.raises(KeyError):
        getattr(pod, section)


def test_labels_annotations_empty_views_when_missing() -> None:
    pod = Pod({})
    assert dict(pod.labels) == {}
    assert len(pod.annotations) == 0
    assert "metadata" not in pod.raw  # reading did not write


def test_labels_annotations_read_and_set() -> None:
    pod = Pod(pod_dict())
    pod.labels = {"app": "web"}
    pod.annotations = {"note": "x"}
    assert pod.labels["app"] == "web"
    assert pod.raw["metadata"]["annotations"] == {"note": "x"}


# -- name / namespace -----------------------------------------------------------------------------


def test_name_reads_and_sets() -> None:
    pod = Pod(pod_dict("a"))
    assert pod.name == "a"
    pod.name = "b"
    assert pod.raw["metadata"]["name"] == "b"


def test_name_generate_name_only_is_value_error() -> None:
    pod = Pod({"metadata": {"generateName": "web-"}})
    with pytest.raises(ValueError, match="generateName"):
        _ = pod.name


def test_name_missing_is_value_error() -> None:
    with pytest.raises(ValueError, match=r"no metadata\.name"):
        _ = Pod({}).name


def test_namespace_cluster_scoped_is_none() -> None:
    assert Node("n1").namespace is None
    assert Namespace("team", namespace="ignored").namespace is None


async def test_namespace_falls_back_to_client_namespace(api: Api) -> None:
    pod = Pod("x")
    assert pod.namespace is None  # no namespace, no client yet
    pod.api = api
    assert pod.namespace == api.namespace == "default"
    pod.namespace = "other"
    assert pod.namespace == "other"


# -- replicas -------------------------------------------------------------------------------------


def test_replicas_scalable_reads_spec() -> None:
    assert Deployment({"metadata": {"name": "d"}, "spec": {"replicas": 3}}).replicas == 3
    assert Deployment("d").replicas is None


def test_replicas_job_reads_parallelism() -> None:
    assert Job({"metadata": {"name": "j"}, "spec": {"parallelism": 4}}).replicas == 4


def test_replicas_not_scalable_is_not_implemented() -> None:
    with pytest.raises(NotImplementedError, match="Pod is not scalable"):
        _ = Pod("p").replicas


# -- identity -------------------------------------------------------------------------------------


def test_identity_equal_objects_hash_equal_and_dedup() -> None:
    a = Pod(pod_dict("web"))
    b = Pod({"metadata": {"name": "web", "namespace": "default"}, "spec": {"other": 1}})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, Pod(pod_dict("web"))}) == 1


def test_identity_different_namespace_differs() -> None:
    a = Pod(pod_dict("web", "a"))
    b = Pod(pod_dict("web", "b"))
    assert a != b
    assert len({a, b}) == 2


def test_identity_same_name_different_kind_differs() -> None:
    assert ConfigMap("x", namespace="default") != Secret("x", namespace="default")
    assert Deployment("x", namespace="default") != ConfigMap("x", namespace="default")
    assert len({ConfigMap("x"), Secret("x")}) == 2


def test_identity_unnamed_objects_equal_only_themselves() -> None:
    a = Pod({"metadata": {"generateName": "w-"}})
    b = Pod({"metadata": {"generateName": "w-"}})
    assert a == a
    assert a != b


def test_identity_not_equal_to_dict() -> None:
    d = pod_dict()
    assert Pod(d) != d


# -- repr / str -----------------------------------------------------------------------------------


def test_repr_and_str() -> None:
    pod = Pod(pod_dict("web", "team"))
    assert repr(pod) == "<Pod web namespace=team>"
    assert str(pod) == "web"
    assert repr(Node("n1")) == "<Node n1>"
    assert repr(Pod({"metadata": {"generateName": "w-"}})) == "<Pod generateName(w-)>"
    assert str(Pod({})) == ""


# -- dict-like access -----------------------------------------------------------------------------


def test_dict_like_keys_getitem_setitem() -> None:
    d = pod_dict()
    pod = Pod(d)
    assert set(pod.keys()) == {"apiVersion", "kind", "metadata", "spec"}
    assert pod["kind"] == "Pod"
    pod["status"] = {"phase": "Running"}
    assert d["status"] == {"phase": "Running"}
    assert "status" in pod
    assert dict(pod) == d


def test_setitem_unwraps_views() -> None:
    src = Pod(pod_dict("src"))
    dst = Pod(pod_dict("dst"))
    dst["spec"] = src.spec
    assert type(dst.raw["spec"]) is dict
    assert dst.raw["spec"] is src.raw["spec"]


# -- conversions ----------------------------------------------------------------------------------


def test_to_dict_is_deep_copy() -> None:
    pod = Pod(pod_dict())
    copy = pod.to_dict()
    assert copy == pod.raw
    copy["spec"]["containers"][0]["image"] = "changed"
    assert pod.spec.containers[0].image == "nginx:1.25"


def test_to_yaml_round_trips() -> None:
    d = pod_dict()
    d["metadata"]["annotations"] = {"multi": "line\nvalue", "num": "1"}
    text = Pod(d).to_yaml()
    assert yaml.safe_load(text) == d
    assert text.startswith("apiVersion: v1\nkind: Pod\n")  # server order, not sorted


def test_raw_template_strips_server_fields() -> None:
    d = pod_dict()
    d["metadata"].update(
        resourceVersion="12",
        uid="u-1",
        creationTimestamp="2024-01-01T00:00:00Z",
        managedFields=[{"manager": "x"}],
        generation=2,
        labels={"keep": "me"},
    )
    d["status"] = {"phase": "Running"}
    template = Pod(d).raw_template
    assert template["metadata"] == {"name": "web", "namespace": "default", "labels": {"keep": "me"}}
    assert "status" not in template
    assert template["spec"] == d["spec"]
    assert d["metadata"]["resourceVersion"] == "12"  # the object is untouched
    assert d["status"] == {"phase": "Running"}


def test_raw_setter_accepts_forms() -> None:
    pod = Pod("x")
    d = pod_dict("y")
    pod.raw = d
    assert pod.raw is d
    pod.raw = PykubeLike(pod_dict("z"))
    assert pod.name == "z"


# -- await binds the default client ---------------------------------------------------------------


async def test_await_binds_default_client(api: Api) -> None:
    pod = Pod(pod_dict())
    assert pod.api is None
    same = await pod
    assert same is pod
    assert pod.api is api


async def test_await_keeps_explicit_client(api: Api, cluster: Any) -> None:
    async with Api(kubeconfig=str(cluster.kubeconfig_path), bypass_factory=True) as other:
        pod = await Pod(pod_dict(), api=other)
        assert pod.api is other
        assert pod.api is not api


def test_apiobject_subclass_is_apiobject() -> None:
    assert isinstance(Pod("x"), APIObject)


# -- conversions to other clients' objects and printing ------------------------------------------


def test_pprint_prints_the_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    Pod(pod_dict()).pprint(use_rich=False)
    assert yaml.safe_load(capsys.readouterr().out)["metadata"]["name"] == "web"


def test_to_lightkube_and_to_pykube_say_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lightkube.codecs", None)
    monkeypatch.setitem(sys.modules, "pykube.objects", None)
    with pytest.raises(ImportError, match="pip install lightkube"):
        Pod(pod_dict()).to_lightkube()
    with pytest.raises(ImportError, match="pip install pykube-ng"):
        Pod(pod_dict()).to_pykube(object())


def test_to_lightkube_converts_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    codecs = types.ModuleType("lightkube.codecs")
    codecs.from_dict = lambda d: ("lightkube", d)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lightkube.codecs", codecs)
    raw = pod_dict()
    tag, converted = Pod(raw).to_lightkube()
    assert tag == "lightkube"
    assert converted == raw
    assert converted is not raw


def test_to_pykube_uses_pykube_class_or_makes_one(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeAPIObject:
        def __init__(self, api: object, obj: dict[str, Any]) -> None:
            self.api, self.obj = api, obj

    class FakeNamespaced(FakeAPIObject):
        pass

    class FakePod(FakeNamespaced):
        pass

    objects = types.ModuleType("pykube.objects")
    objects.APIObject = FakeAPIObject  # type: ignore[attr-defined]
    objects.NamespacedAPIObject = FakeNamespaced  # type: ignore[attr-defined]
    objects.Pod = FakePod  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pykube.objects", objects)
    client = object()
    pod = Pod(pod_dict()).to_pykube(client)
    assert type(pod) is FakePod
    assert pod.api is client
    assert pod.obj["metadata"]["name"] == "web"
    widget_cls = new_class("Widget.convert.example.com/v1", namespaced=False, plural="widgets")
    widget = widget_cls({"metadata": {"name": "w"}}).to_pykube(client)
    assert isinstance(widget, FakeAPIObject)
    assert not isinstance(widget, FakeNamespaced)
    assert (type(widget).endpoint, type(widget).version) == ("widgets", "convert.example.com/v1")
