"""Lazy attribute views over raw JSON dicts: access paths, write-through, identity, errors."""

from __future__ import annotations

import copy
import json
import pickle
import sys
from typing import Any

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._views import ListView, View, unwrap


def _pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}, "x-unknown": {"kept": True}},
        "spec": {
            "containers": [
                {"name": "c", "image": "nginx", "imagePullPolicy": "Always", "args": ["-v"]},
                {"name": "d", "image": "busybox"},
            ],
            "volumes": [{"name": "cfg", "configMap": {"name": "cm", "items": [{"key": "k"}]}}],
        },
        "status": {"phase": "Running"},
    }


# access paths ---------------------------------------------------------------------------------


def test_views_attribute_access_returns_nested_values() -> None:
    raw = _pod()
    pod = View(raw)
    assert pod.metadata.name == "web"
    assert pod.kind == "Pod"
    assert pod.spec.containers[0].imagePullPolicy == "Always"
    assert pod.spec.containers[-1].image == "busybox"
    assert isinstance(pod.metadata, View)
    assert isinstance(pod.spec.containers, ListView)
    assert isinstance(pod.spec.containers[0], View)
    assert pod.status.phase == "Running"


def test_views_no_snake_case_fallback() -> None:
    # kr8s uses Box(value) with python-box's defaults: camel_killer_box is off.
    pod = View(_pod())
    assert not hasattr(pod.spec.containers[0], "image_pull_policy")


def test_views_item_access_and_mapping_protocol() -> None:
    raw = _pod()
    pod = View(raw)
    assert pod["metadata"]["name"] == "web"
    assert isinstance(pod["spec"], View)
    assert "metadata" in pod
    assert "nope" not in pod
    assert pod.get("nope") is None
    assert pod.get("nope", 5) == 5
    assert isinstance(pod.get("spec"), View)
    assert pod.get("kind") == "Pod"
    assert pod.keys() == raw.keys()
    assert list(pod) == list(raw)
    assert len(pod) == len(raw)
    items = dict(pod.items())
    assert isinstance(items["metadata"], View)
    assert items == raw
    assert list(pod.values()) == list(raw.values())
    assert dict(pod) == raw
    with pytest.raises(KeyError):
        pod["nope"]


def test_views_equality_compares_underlying_data() -> None:
    raw = _pod()
    assert View(raw) == raw
    assert raw == View(raw)
    assert View(raw) == View(copy.deepcopy(raw))
    assert View(raw) != {"kind": "Pod"}
    assert View(raw) != 3
    assert View(raw).spec.containers == raw["spec"]["containers"]
    assert raw["spec"]["containers"] == View(raw).spec.containers
    assert View(raw).spec.containers == ListView(copy.deepcopy(raw["spec"]["containers"]))
    assert View(raw).spec.containers != ()
    with pytest.raises(TypeError):
        hash(View(raw))
    with pytest.raises(TypeError):
        hash(View(raw).spec.containers)


def test_views_listview_behaviour() -> None:
    raw = _pod()
    containers = View(raw).spec.containers
    assert len(containers) == 2
    assert [c.name for c in containers] == ["c", "d"]
    assert all(isinstance(c, View) for c in containers)
    assert containers[0].args == ["-v"]
    assert containers[0].args[0] == "-v"
    sliced = containers[1:]
    assert isinstance(sliced, ListView)
    assert sliced == [raw["spec"]["containers"][1]]
    assert sliced[0].to_dict() is raw["spec"]["containers"][1]
    assert raw["spec"]["containers"][0] in containers
    assert View(raw["spec"]["containers"][0]) in containers
    assert containers.index(raw["spec"]["containers"][1]) == 1
    assert next(reversed(containers)).name == "d"
    with pytest.raises(IndexError):
        containers[5]
    # nested lists come back as ListViews too
    grid = View({"m": [[{"a": 1}], [2]]})
    assert grid.m[0][0].a == 1
    assert grid.m[1] == [2]


def test_views_method_names_win_over_keys() -> None:
    # As for dict (and kr8s's Box, a dict subclass): `.items` is the method; use ["items"].
    pod_list = View({"kind": "PodList", "items": [{"metadata": {"name": "a"}}], "values": [1]})
    assert callable(pod_list.items)
    assert callable(pod_list.values)
    assert pod_list["items"][0].metadata.name == "a"
    assert pod_list["values"] == [1]
    volume = View(_pod()).spec.volumes[0]
    assert volume.configMap["items"][0].key == "k"
    # keys that are not method names are attributes, e.g. "copy"
    assert View({"copy": 1}).copy == 1
    with pytest.raises(AttributeError, match=r"view\['items'\]"):
        pod_list.items = []
    with pytest.raises(AttributeError):
        pod_list.to_dict = 1


def test_views_dir_lists_identifier_keys() -> None:
    names = dir(View(_pod()).metadata)
    assert "name" in names
    assert "labels" in names
    assert "to_dict" in names
    assert "x-unknown" not in names


def test_views_rejects_non_json_containers() -> None:
    with pytest.raises(TypeError, match="View wraps a dict"):
        View([1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ListView wraps a list"):
        ListView({})  # type: ignore[arg-type]


# writes go through ----------------------------------------------------------------------------


def test_views_writes_go_through_to_raw_dict() -> None:
    raw = _pod()
    pod = View(raw)
    pod.metadata.labels["a"] = "b"
    pod.spec.replicas = 3
    pod["status"]["phase"] = "Succeeded"
    pod.spec.containers[0].image = "nginx:2"
    pod.spec.containers[1] = {"name": "e"}
    pod.spec.containers.append({"name": "f"})
    pod.spec.containers.insert(0, {"name": "z"})
    assert raw["metadata"]["labels"] == {"app": "web", "a": "b"}
    assert raw["spec"]["replicas"] == 3
    assert raw["status"]["phase"] == "Succeeded"
    assert [c["name"] for c in raw["spec"]["containers"]] == ["z", "c", "e", "f"]
    assert raw["spec"]["containers"][1]["image"] == "nginx:2"
    del pod.spec.replicas
    del pod["status"]
    del pod.spec.containers[0]
    pod.spec.containers[0:1] = [View({"name": "y"})]
    assert "replicas" not in raw["spec"]
    assert "status" not in raw
    assert [c["name"] for c in raw["spec"]["containers"]] == ["y", "e", "f"]
    pod.spec.containers.extend([{"name": "g"}])
    pod.metadata.labels.update(tier="front")
    assert raw["spec"]["containers"][-1] == {"name": "g"}
    assert raw["metadata"]["labels"]["tier"] == "front"
    with pytest.raises(AttributeError, match=r"'spec\.nope'"):
        del pod.spec.nope
    with pytest.raises(TypeError, match="iterable"):
        pod.spec.containers[0:1] = 5


def test_views_assigning_views_stores_plain_data() -> None:
    raw = _pod()
    other = {"a": [1, 2]}
    pod = View(raw)
    pod.spec.extra = View(other)
    pod["more"] = ListView(other["a"])
    pod.spec.containers[0] = View({"name": "q"})
    pod.spec.containers.append(View({"name": "r"}))
    assert raw["spec"]["extra"] is other
    assert raw["more"] is other["a"]
    assert type(raw["spec"]["containers"][0]) is dict
    assert type(raw["spec"]["containers"][-1]) is dict
    json.dumps(raw)  # still plain JSON


def test_views_unknown_fields_survive() -> None:
    raw = _pod()
    pod = View(raw)
    assert pod.metadata["x-unknown"].kept is True
    pod.metadata.name = "other"
    assert raw["metadata"]["x-unknown"] == {"kept": True}


# identity: no copies -------------------------------------------------------------------------


def test_views_no_copies() -> None:
    raw = _pod()
    pod = View(raw)
    assert pod.to_dict() is raw
    assert pod.spec.to_dict() is raw["spec"]
    assert pod["metadata"].to_dict() is raw["metadata"]
    assert pod.spec.containers.to_list() is raw["spec"]["containers"]
    assert pod.spec.containers[0].to_dict() is raw["spec"]["containers"][0]
    assert next(iter(pod.spec.containers)).to_dict() is raw["spec"]["containers"][0]
    assert View(pod).to_dict() is raw
    assert ListView(pod.spec.containers).to_list() is raw["spec"]["containers"]
    assert unwrap(pod.spec) is raw["spec"]
    assert unwrap(5) == 5


def test_views_are_small() -> None:
    view = View(_pod())
    assert not hasattr(view, "__dict__")
    assert sys.getsizeof(view) <= 64
    assert sys.getsizeof(view.spec.containers) <= 64


# errors name the path ------------------------------------------------------------------------


def test_views_missing_key_names_key_and_path() -> None:
    pod = View(_pod())
    with pytest.raises(AttributeError, match=r"'podIP' at 'status\.podIP'") as info:
        _ = pod.status.podIP
    assert info.value.name == "podIP"
    with pytest.raises(AttributeError, match=r"'spec\.containers\[1\]\.ports'"):
        _ = pod.spec.containers[1].ports
    with pytest.raises(AttributeError, match=r"metadata\['x-unknown'\]\.gone"):
        _ = pod.metadata["x-unknown"].gone
    with pytest.raises(AttributeError, match=r"'spec\.containers\[1:\]\[0\]\.x'"):
        _ = pod.spec.containers[1:][0].x
    with pytest.raises(AttributeError, match=r"at 'nope'"):
        _ = pod.nope
    assert getattr(pod.status, "podIP", None) is None
    assert not hasattr(pod.status, "podIP")
    assert hasattr(pod.status, "phase")


def test_views_dunder_probes_are_not_answered_by_data() -> None:
    view = View({"__deepcopy__": 1, "__len__": 2, "__": 3, "_x": 4})
    assert view["__deepcopy__"] == 1
    assert view.__ == 3
    assert view._x == 4
    with pytest.raises(AttributeError):
        view.__array__  # noqa: B018
    clone = copy.deepcopy(view)
    assert clone == view
    assert clone.to_dict() is not view.to_dict()


def test_views_copy_and_pickle_copy_the_data_on_request_only() -> None:
    raw = _pod()
    spec = View(raw).spec
    shallow = copy.copy(spec)
    assert shallow == spec
    assert shallow.to_dict() is not raw["spec"]
    assert shallow.containers.to_list() is raw["spec"]["containers"]
    deep = copy.deepcopy(spec)
    assert deep == spec
    assert deep.containers.to_list() is not raw["spec"]["containers"]
    assert pickle.loads(pickle.dumps(spec)) == spec
    containers = spec.containers
    assert copy.copy(containers).to_list() is not raw["spec"]["containers"]
    assert copy.deepcopy(containers)[0].to_dict() is not raw["spec"]["containers"][0]
    assert pickle.loads(pickle.dumps(containers)) == containers


def test_views_repr_is_short() -> None:
    raw = _pod()
    raw["metadata"]["annotations"] = {str(i): "x" * 1000 for i in range(1000)}
    text = repr(View(raw))
    assert text.startswith("View({")
    assert "..." in text
    assert len(text) < 300
    assert repr(View({"name": "x"})) == "View({'name': 'x'})"
    assert repr(View(raw).spec.containers).startswith("ListView([")


# properties ---------------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
_objects = st.dictionaries(st.text(max_size=8), _json, max_size=5)


def _paths(
    value: object, path: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], object]]:
    found: list[tuple[tuple[str | int, ...], object]] = [(path, value)]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


_METHODS = set(dir(View))


def _attribute_reachable(key: str) -> bool:
    dunder = len(key) > 4 and key.startswith("__") and key.endswith("__")
    return key.isidentifier() and key not in _METHODS and not dunder


@given(_objects)
def test_views_every_path_reachable_with_same_value(raw: dict[str, object]) -> None:
    view = View(raw)
    assert view == raw
    for path, expected in _paths(raw):
        by_item: Any = view
        by_attr: Any = view
        for step in path:
            by_item = by_item[step]
            if isinstance(step, str) and _attribute_reachable(step):
                by_attr = getattr(by_attr, step)
            else:
                by_attr = by_attr[step]
        assert by_item == expected
        assert by_attr == expected
        assert unwrap(by_item) is expected or not isinstance(expected, dict | list)
