"""Strategic merge patch, checked against what apimachinery's strategicpatch does on the server."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._exceptions import PatchError
from kr8s_trio._core._patch import JSON, apply_merge_patch
from kr8s_trio._core._schema import Schema, schema_for
from kr8s_trio._core._strategic import apply_strategic_merge_patch

DEPLOYMENT = schema_for("apps", "Deployment")
POD = schema_for("", "Pod")
PLAIN = Schema({})


def _deployment() -> dict[str, JSON]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web"},
            "finalizers": ["example.com/a", "example.com/b"],
        },
        "spec": {
            "replicas": 2,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "app:1",
                            "args": ["--port", "8080"],
                            "env": [{"name": "MODE", "value": "prod"}],
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        },
                        {"name": "sidecar", "image": "proxy:1"},
                    ],
                    "tolerations": [
                        {"key": "dedicated", "value": "web", "effect": "NoSchedule"},
                        {"key": "spot", "operator": "Exists"},
                    ],
                },
            },
        },
    }


def _pod_spec(obj: dict[str, JSON]) -> dict[str, JSON]:
    spec = obj["spec"]
    assert isinstance(spec, dict)
    template = spec["template"]
    assert isinstance(template, dict)
    pod_spec = template["spec"]
    assert isinstance(pod_spec, dict)
    return pod_spec


def _containers(obj: dict[str, JSON]) -> list[JSON]:
    containers = _pod_spec(obj)["containers"]
    assert isinstance(containers, list)
    return containers


def _names(items: JSON, key: str = "name") -> list[JSON]:
    assert isinstance(items, list)
    out: list[JSON] = []
    for item in items:
        assert isinstance(item, dict)
        out.append(item[key])
    return out


def _at(value: JSON, *path: str) -> JSON:
    for part in path:
        assert isinstance(value, dict)
        value = value[part]
    return value


def _metadata(obj: dict[str, JSON]) -> dict[str, JSON]:
    metadata = obj["metadata"]
    assert isinstance(metadata, dict)
    return metadata


def _directives(value: JSON) -> list[str]:
    """Every ``$``-prefixed key anywhere in ``value``."""
    if isinstance(value, dict):
        found = [key for key in value if key.startswith("$")]
        for item in value.values():
            found += _directives(item)
        return found
    if isinstance(value, list):
        return [key for item in value for key in _directives(item)]
    return []


def _template_patch(pod_spec: dict[str, JSON]) -> dict[str, JSON]:
    return {"spec": {"template": {"spec": pod_spec}}}


# ------------------------------------------------------------------------------------------------
# maps


def test_apply_strategic_merge_patch_merges_maps_and_null_deletes() -> None:
    live = _deployment()
    patch: dict[str, JSON] = {
        "metadata": {"labels": {"tier": "front", "app": None}, "annotations": {"a": "1"}},
        "spec": {"replicas": 5, "paused": None},
    }
    result = apply_strategic_merge_patch(live, patch, DEPLOYMENT)
    assert _metadata(result)["labels"] == {"tier": "front"}
    assert _metadata(result)["annotations"] == {"a": "1"}
    spec = result["spec"]
    assert isinstance(spec, dict)
    assert spec["replicas"] == 5
    assert "paused" not in spec
    assert spec["strategy"] == _at(_deployment(), "spec", "strategy")


def test_apply_strategic_merge_patch_value_of_other_type_replaces() -> None:
    result = apply_strategic_merge_patch(
        {"a": {"b": 1}, "c": [1], "d": "x"},
        {"a": [1, {"x": None}], "c": {"k": None, "v": 1}, "d": {"e": 1}},
        PLAIN,
    )
    assert result == {"a": [1, {"x": None}], "c": {"v": 1}, "d": {"e": 1}}


def test_apply_strategic_merge_patch_replace_directive_in_map() -> None:
    live = _deployment()
    patch: dict[str, JSON] = {"metadata": {"labels": {"$patch": "replace", "team": "x"}}}
    result = apply_strategic_merge_patch(live, patch, DEPLOYMENT)
    assert _metadata(result)["labels"] == {"team": "x"}
    assert _metadata(result)["name"] == "web"


def test_apply_strategic_merge_patch_delete_directive_in_map_empties_it() -> None:
    result = apply_strategic_merge_patch(
        _deployment(), {"metadata": {"labels": {"$patch": "delete"}}}, DEPLOYMENT
    )
    assert _metadata(result)["labels"] == {}


def test_apply_strategic_merge_patch_retain_keys_switches_deployment_strategy() -> None:
    patch: dict[str, JSON] = {
        "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}},
    }
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    spec = result["spec"]
    assert isinstance(spec, dict)
    assert spec["strategy"] == {"type": "Recreate"}
    assert spec["replicas"] == 2


def test_apply_strategic_merge_patch_retain_keys_keeps_listed_live_fields() -> None:
    patch: dict[str, JSON] = {
        "spec": {
            "strategy": {
                "$retainKeys": ["type", "rollingUpdate"],
                "rollingUpdate": {"maxSurge": 1},
            }
        }
    }
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _at(result, "spec", "strategy") == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"},
    }


def test_apply_strategic_merge_patch_retain_keys_must_list_patched_fields() -> None:
    patch: dict[str, JSON] = {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}
    with pytest.raises(PatchError, match=r"invalid patch format of retainKeys.*\(at \.spec\.strat"):
        apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)


# ------------------------------------------------------------------------------------------------
# merging lists of maps


def test_apply_strategic_merge_patch_client_side_apply_patch() -> None:
    """What ``kubectl apply`` sends after the user changed one image and added an env var."""
    patch: dict[str, JSON] = {
        "metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
        },
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                    "containers": [
                        {
                            "$setElementOrder/env": [{"name": "MODE"}, {"name": "LOG"}],
                            "env": [{"name": "LOG", "value": "debug"}],
                            "image": "app:2",
                            "name": "app",
                        }
                    ],
                }
            }
        },
    }
    live = _deployment()
    result = apply_strategic_merge_patch(live, patch, DEPLOYMENT)
    app, sidecar = _containers(result)
    assert app == {
        "name": "app",
        "image": "app:2",
        "args": ["--port", "8080"],
        "env": [{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "debug"}],
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
    }
    assert sidecar == {"name": "sidecar", "image": "proxy:1"}
    assert _pod_spec(result)["tolerations"] == _pod_spec(live)["tolerations"]
    assert _directives(result) == []


def test_apply_strategic_merge_patch_set_element_order_reorders() -> None:
    patch = _template_patch({"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]})
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _names(_containers(result)) == ["sidecar", "app"]
    assert _directives(result) == []


def test_apply_strategic_merge_patch_set_element_order_keeps_server_only_items() -> None:
    live = _deployment()
    _pod_spec(live)["containers"] = [
        {"name": "injected", "image": "mesh:1"},
        {"name": "app", "image": "app:1"},
        {"name": "sidecar", "image": "proxy:1"},
    ]
    patch = _template_patch(
        {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}, {"name": "new"}],
            "containers": [{"name": "new", "image": "new:1"}],
        }
    )
    result = apply_strategic_merge_patch(live, patch, DEPLOYMENT)
    assert _names(_containers(result)) == ["injected", "app", "sidecar", "new"]


def test_apply_strategic_merge_patch_interleaves_server_only_items_by_live_position() -> None:
    # apimachinery's mergeSortedSlice: live C B D A E, order A B -> C D A B E
    live: dict[str, JSON] = {"spec": {"containers": [{"name": n} for n in "CBDAE"]}}
    patch: dict[str, JSON] = {
        "spec": {
            "$setElementOrder/containers": [{"name": "A"}, {"name": "B"}],
            "containers": [{"name": "A", "image": "a"}, {"name": "B", "image": "b"}],
        }
    }
    result = apply_strategic_merge_patch(live, patch, POD)
    assert _names(_at(result, "spec", "containers")) == ["C", "D", "A", "B", "E"]


def test_apply_strategic_merge_patch_new_item_without_order_goes_first() -> None:
    # The Kubernetes "kubectl patch" task shows the added redis container before nginx.
    patch = _template_patch({"containers": [{"name": "cache", "image": "redis"}]})
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _names(_containers(result)) == ["cache", "app", "sidecar"]


def test_apply_strategic_merge_patch_merged_item_keeps_its_place() -> None:
    patch = _template_patch({"containers": [{"name": "sidecar", "image": "proxy:2"}]})
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _names(_containers(result)) == ["app", "sidecar"]
    assert _containers(result)[1] == {"name": "sidecar", "image": "proxy:2"}


def test_apply_strategic_merge_patch_deletes_container_by_merge_key() -> None:
    patch = _template_patch(
        {
            "$setElementOrder/containers": [{"name": "app"}],
            "containers": [{"$patch": "delete", "name": "sidecar"}],
        }
    )
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _names(_containers(result)) == ["app"]
    assert _directives(result) == []


def test_apply_strategic_merge_patch_delete_of_absent_item_is_noop() -> None:
    patch = _template_patch({"containers": [{"$patch": "delete", "name": "ghost"}]})
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _containers(result) == _containers(_deployment())


def test_apply_strategic_merge_patch_replace_directive_in_list_replaces_whole_list() -> None:
    patch = _template_patch(
        {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x", "env": None}]}
    )
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _containers(result) == [{"name": "only", "image": "x"}]


def test_apply_strategic_merge_patch_nested_merge_lists_use_their_own_keys() -> None:
    patch = _template_patch(
        {
            "containers": [
                {
                    "name": "app",
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "env": [{"name": "MODE", "value": None, "valueFrom": {"x": 1}}],
                }
            ]
        }
    )
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    app = _containers(result)[0]
    assert isinstance(app, dict)
    assert app["ports"] == [{"containerPort": 8080, "protocol": "TCP", "name": "http"}]
    assert app["env"] == [{"name": "MODE", "valueFrom": {"x": 1}}]


def test_apply_strategic_merge_patch_tolerations_are_replaced_atomically() -> None:
    patch = _template_patch({"tolerations": [{"key": "spot", "operator": "Exists"}]})
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _pod_spec(result)["tolerations"] == [{"key": "spot", "operator": "Exists"}]


def test_apply_strategic_merge_patch_args_are_replaced_atomically() -> None:
    patch = _template_patch({"containers": [{"name": "app", "args": ["--debug"]}]})
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    app = _containers(result)[0]
    assert isinstance(app, dict)
    assert app["args"] == ["--debug"]


def test_apply_strategic_merge_patch_new_list_is_cleaned_of_directives() -> None:
    live: dict[str, JSON] = {"metadata": {"name": "p"}}
    patch: dict[str, JSON] = {
        "spec": {
            "containers": [
                {"name": "a", "image": "a", "env": [{"name": "X", "$patch": "delete"}]},
                {"name": "gone", "$patch": "delete"},
            ],
            "volumes": [{"name": "v", "emptyDir": {}, "secret": None}],
        }
    }
    result = apply_strategic_merge_patch(live, patch, POD)
    assert result["spec"] == {
        "containers": [{"name": "a", "image": "a", "env": []}],
        "volumes": [{"name": "v", "emptyDir": {}}],
    }


def test_apply_strategic_merge_patch_volume_source_switch_with_retain_keys() -> None:
    live: dict[str, JSON] = {
        "spec": {"volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {}}]}
    }
    patch: dict[str, JSON] = {
        "spec": {
            "volumes": [
                {"$retainKeys": ["name", "hostPath"], "name": "data", "hostPath": {"path": "/d"}}
            ]
        }
    }
    result = apply_strategic_merge_patch(live, patch, POD)
    assert result["spec"] == {
        "volumes": [{"name": "data", "hostPath": {"path": "/d"}}, {"name": "cfg", "configMap": {}}]
    }


def test_apply_strategic_merge_patch_status_conditions_merge_by_type() -> None:
    live: dict[str, JSON] = {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "False"},
                {"type": "PodScheduled", "status": "True"},
            ]
        }
    }
    patch: dict[str, JSON] = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    result = apply_strategic_merge_patch(live, patch, POD)
    assert result["status"] == {
        "conditions": [
            {"type": "Ready", "status": "True"},
            {"type": "PodScheduled", "status": "True"},
        ]
    }


# ------------------------------------------------------------------------------------------------
# lists of scalars


def test_apply_strategic_merge_patch_finalizers_union() -> None:
    patch: dict[str, JSON] = {"metadata": {"finalizers": ["example.com/b", "example.com/c"]}}
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _metadata(result)["finalizers"] == ["example.com/a", "example.com/b", "example.com/c"]


def test_apply_strategic_merge_patch_finalizer_only_new_goes_first() -> None:
    patch: dict[str, JSON] = {"metadata": {"finalizers": ["example.com/c", "example.com/a"]}}
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _metadata(result)["finalizers"] == ["example.com/c", "example.com/a", "example.com/b"]


def test_apply_strategic_merge_patch_finalizers_set_element_order() -> None:
    patch: dict[str, JSON] = {
        "metadata": {
            "$setElementOrder/finalizers": ["example.com/b", "example.com/a", "example.com/c"],
            "finalizers": ["example.com/c"],
        }
    }
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _metadata(result)["finalizers"] == ["example.com/b", "example.com/a", "example.com/c"]


def test_apply_strategic_merge_patch_delete_from_primitive_list() -> None:
    patch: dict[str, JSON] = {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a", "example.com/z"]}
    }
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _metadata(result)["finalizers"] == ["example.com/b"]
    assert _directives(result) == []


def test_apply_strategic_merge_patch_delete_and_add_in_one_patch() -> None:
    patch: dict[str, JSON] = {
        "metadata": {
            "$setElementOrder/finalizers": ["example.com/b", "example.com/c"],
            "$deleteFromPrimitiveList/finalizers": ["example.com/a"],
            "finalizers": ["example.com/c"],
        }
    }
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _metadata(result)["finalizers"] == ["example.com/b", "example.com/c"]


def test_apply_strategic_merge_patch_atomic_scalar_list_keeps_duplicates() -> None:
    patch = _template_patch({"containers": [{"name": "app", "args": ["-v", "-v"]}]})
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    app = _containers(result)[0]
    assert isinstance(app, dict)
    assert app["args"] == ["-v", "-v"]


# ------------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"metadata": {"$patch": "merge"}}, r"unknown patch type: \"merge\".*\(at \.metadata\)"),
        ({"metadata": {"labels": {"$patch": "nope"}}}, r"unknown patch type: \"nope\""),
        (
            _template_patch({"containers": [{"name": "app", "$patch": "merge"}]}),
            r"merging lists cannot yet be specified in the patch",
        ),
        (
            _template_patch({"containers": [{"image": "x"}]}),
            r"does not contain declared merge key: name "
            r"\(at \.spec\.template\.spec\.containers\)",
        ),
        (
            _template_patch({"containers": [{"name": "app", "env": [{"value": "1"}]}]}),
            r"declared merge key: name \(at \.spec\.template\.spec\.containers\[0\]\.env\)",
        ),
        (
            _template_patch(
                {
                    "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                    "containers": [{"name": "sidecar"}, {"name": "app"}],
                }
            ),
            r"(?s)The order in patch list:.*doesn't match \$setElementOrder list",
        ),
        (
            _template_patch({"$setElementOrder/containers": {"name": "app"}}),
            r"invalid patch format of setElementOrder list",
        ),
        ({"metadata": {"$setElementOrder": []}}, r"invalid patch format of setElementOrder list"),
        ({"metadata": {"$deleteFromPrimitiveList": []}}, r"invalid patch format of primitive list"),
        (
            {"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}},
            r"invalid patch format of primitive list",
        ),
        (
            {"metadata": {"$deleteFromPrimitiveList/labels": ["a"]}},
            r"'labels' is not a list of scalars with the merge strategy",
        ),
        ({"spec": {"strategy": {"$retainKeys": "type"}}}, r"invalid patch format of retainKeys"),
        (
            {"metadata": {"finalizers": [["nested"]]}},
            r"lists of lists are not supported \(at \.metadata\.finalizers\)",
        ),
        (
            {"metadata": {"finalizers": [1]}},
            r"list element types are not identical: string and number",
        ),
    ],
)
def test_apply_strategic_merge_patch_rejects_malformed_patches(
    patch: dict[str, JSON], message: str
) -> None:
    with pytest.raises(PatchError, match=message):
        apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)


def test_apply_strategic_merge_patch_rejects_non_objects() -> None:
    with pytest.raises(PatchError, match="must be an object"):
        apply_strategic_merge_patch({}, [], PLAIN)  # type: ignore[arg-type]
    with pytest.raises(PatchError, match="applies to an object"):
        apply_strategic_merge_patch("x", {}, PLAIN)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# purity and laws


def test_apply_strategic_merge_patch_does_not_mutate_or_share_inputs() -> None:
    live = _deployment()
    patch = _template_patch(
        {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}, {"name": "x"}],
            "containers": [
                {"name": "app", "env": [{"name": "NEW", "value": "1"}]},
                {"name": "x", "image": "x", "args": ["a"]},
            ],
            "tolerations": [{"key": "k"}],
        }
    )
    live_before, patch_before = copy.deepcopy(live), copy.deepcopy(patch)
    result = apply_strategic_merge_patch(live, patch, DEPLOYMENT)
    assert live == live_before
    assert patch == patch_before
    for container in _containers(result):
        assert isinstance(container, dict)
        container["mutated"] = True
        for value in container.values():
            if isinstance(value, list):
                value.append("mutated")
    tolerations = _pod_spec(result)["tolerations"]
    assert isinstance(tolerations, list)
    tolerations.append("mutated")
    _metadata(result)["labels"] = None
    assert live == live_before
    assert patch == patch_before


keys = st.text(alphabet="abcxyz", min_size=1, max_size=3)
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=3)
plain_values: st.SearchStrategy[JSON] = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=10,
)
plain_objects = st.dictionaries(keys, plain_values, max_size=4)


@given(plain_objects, plain_objects)
def test_apply_strategic_merge_patch_without_markers_is_a_merge_patch(
    doc: dict[str, JSON], patch: dict[str, JSON]
) -> None:
    assert apply_strategic_merge_patch(doc, patch, PLAIN) == apply_merge_patch(doc, patch)


@given(plain_objects)
def test_apply_strategic_merge_patch_empty_patch_is_identity(doc: dict[str, JSON]) -> None:
    assert apply_strategic_merge_patch(doc, {}, PLAIN) == doc
    assert apply_strategic_merge_patch(_deployment(), {}, DEPLOYMENT) == _deployment()


@st.composite
def container_patches(draw: st.DrawFn) -> list[JSON]:
    """Patch items for ``containers``: distinct names, maybe an image, maybe env changes."""
    names = draw(st.lists(st.sampled_from(["app", "sidecar", "init", "cache"]), unique=True))
    items: list[JSON] = []
    for name in names:
        item: dict[str, JSON] = {"name": name}
        if draw(st.booleans()):
            item["image"] = draw(st.sampled_from(["img:1", "img:2"]))
        if draw(st.booleans()):
            env: list[JSON] = []
            for env_name in draw(st.lists(st.sampled_from(["A", "B", "C"]), unique=True)):
                var: dict[str, JSON] = {"name": env_name}
                if draw(st.booleans()):
                    var["value"] = draw(st.sampled_from(["1", "2"]))
                env.append(var)
            item["env"] = env
        items.append(item)
    return items


finalizer_lists = st.lists(st.sampled_from(["f/a", "f/b", "f/c", "f/d"]), max_size=4, unique=True)


@given(container_patches(), finalizer_lists)
def test_apply_strategic_merge_patch_is_idempotent_for_merging_lists(
    containers: list[JSON], finalizers: list[JSON]
) -> None:
    patch: dict[str, JSON] = {
        "metadata": {"finalizers": finalizers},
        "spec": {"template": {"spec": {"containers": containers}}},
    }
    once = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert apply_strategic_merge_patch(once, patch, DEPLOYMENT) == once
    names = _names(_containers(once))
    assert len(names) == len(set(names))
    assert set(names) == {"app", "sidecar"} | set(_names(containers))
    live_finalizers = _metadata(once)["finalizers"]
    assert isinstance(live_finalizers, list)
    assert set(map(str, live_finalizers)) == {
        "example.com/a",
        "example.com/b",
        *map(str, finalizers),
    }


@given(container_patches())
def test_apply_strategic_merge_patch_set_element_order_is_respected(
    containers: list[JSON],
) -> None:
    names = list(dict.fromkeys(["sidecar", "app", *_names(containers)]))
    # the patch list has to follow the order list
    patch_list = sorted(containers, key=lambda item: names.index(_names([item])[0]))
    order: list[JSON] = [{"name": name} for name in names]
    patch = _template_patch({"$setElementOrder/containers": order, "containers": patch_list})
    result = apply_strategic_merge_patch(_deployment(), patch, DEPLOYMENT)
    assert _names(_containers(result)) == names
