"""managedFields bookkeeping and server-side apply (kr8s_trio.testing._field* / _apply)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import assume, given, settings, strategies as st

from kr8s_trio._core._exceptions import ConflictError, PatchError
from kr8s_trio._core._schema import Schema, schema_for
from kr8s_trio.testing._apply import LAST_APPLIED_ANNOTATION, record_update, server_side_apply
from kr8s_trio.testing._fielddiff import diff_objects, fieldset_from_object
from kr8s_trio.testing._fieldpath import Path, field, index, key, render_path, value
from kr8s_trio.testing._fieldset import FieldSet, from_fields_v1, to_fields_v1
from kr8s_trio.testing._managedfields import select_managed_fields

T0 = "2025-01-01T00:00:00Z"
T1 = "2025-01-01T00:01:00Z"
T2 = "2025-01-01T00:02:00Z"
POD = schema_for("", "Pod")
DEPLOY = schema_for("apps", "Deployment")
CM = schema_for("", "ConfigMap")
PLAIN = Schema({})

JSON = dict[str, Any]


def pod(**spec: object) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec},
    }


def with_labels(obj: JSON, **labels: str) -> JSON:
    out: JSON = json.loads(json.dumps(obj))
    out["metadata"]["labels"] = labels
    return out


def apply(
    live: JSON | None,
    applied: JSON,
    managed: list[JSON],
    manager: str,
    *,
    force: bool = False,
    schema: Schema = POD,
    time: str = T1,
) -> tuple[JSON, list[JSON]]:
    return server_side_apply(
        live,
        applied,
        managed,
        manager=manager,
        force=force,
        api_version=str(applied["apiVersion"]),
        time=time,
        schema=schema,
    )


def update(
    old: JSON | None,
    new: JSON,
    managed: list[JSON],
    manager: str,
    *,
    schema: Schema = POD,
    time: str = T0,
    subresource: str | None = None,
) -> list[JSON]:
    return record_update(
        old,
        new,
        managed,
        manager=manager,
        api_version=str(new["apiVersion"]),
        time=time,
        schema=schema,
        subresource=subresource,
    )


def entry(managed: list[JSON], manager: str, operation: str | None = None) -> JSON:
    found = [
        e
        for e in managed
        if e["manager"] == manager and (operation is None or e["operation"] == operation)
    ]
    assert len(found) == 1, managed
    return found[0]


def owned(managed: list[JSON], manager: str) -> set[str]:
    return {render_path(p) for p in from_fields_v1(entry(managed, manager)["fieldsV1"])}


def causes(err: ConflictError) -> list[JSON]:
    found = err.details["causes"]
    assert isinstance(found, list)
    return found


def stored(obj: JSON, managed: list[JSON]) -> JSON:
    """What the fake would store: the object with its managedFields."""
    out: JSON = json.loads(json.dumps(obj))
    out["metadata"]["managedFields"] = managed
    return out


# -- FieldsV1 encoding ------------------------------------------------------------------------


def test_fieldset_from_object_apply_shape_of_a_pod() -> None:
    obj = with_labels(pod(), app="web")
    obj["metadata"]["finalizers"] = ["x"]

    fields = to_fields_v1(fieldset_from_object(obj, POD))

    assert fields == {
        "f:metadata": {"f:finalizers": {'v:"x"': {}}, "f:labels": {"f:app": {}}},
        "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}},
    }
    spec = fields["f:spec"]
    assert isinstance(spec, dict)
    item = spec["f:containers"]['k:{"name":"c"}']
    assert list(item) == ["f:image", "f:name", "."]  # "." is written last, like the server


def test_fieldset_from_object_keeps_server_fields_on_request() -> None:
    obj = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "n", "uid": "u"}}

    assert len(fieldset_from_object(obj, PLAIN)) == 0
    assert {
        render_path(p) for p in fieldset_from_object(obj, PLAIN, exclude_server_fields=False)
    } == {
        ".apiVersion",
        ".kind",
        ".metadata.name",
        ".metadata.uid",
    }


def test_fieldset_from_object_atomic_values_and_empty_containers_are_leaves() -> None:
    obj = pod(tolerations=[{"key": "a"}], nodeSelector={}, volumes=[])
    obj["spec"]["containers"][0]["args"] = ["x", "y"]
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}
    deploy["spec"] = {"selector": {"matchLabels": {"app": "a"}}}

    paths = {render_path(p) for p in fieldset_from_object(obj, POD)}
    deploy_paths = {render_path(p) for p in fieldset_from_object(deploy, DEPLOY)}

    assert {".spec.tolerations", ".spec.nodeSelector", ".spec.volumes"} <= paths
    assert '.spec.containers[name="c"].args' in paths
    assert not any(p.startswith(".spec.tolerations[") for p in paths)
    assert deploy_paths == {".spec.selector"}


def test_render_path_prints_every_element_type() -> None:
    path: Path = (
        field("spec"),
        field("containers"),
        key({"name": "c"}),
        field("ports"),
        key({"protocol": "TCP", "containerPort": 80}),
        field("x"),
        value("v"),
        index(2),
    )

    rendered = render_path(path)

    assert (
        rendered == '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].x[="v"][2]'
    )


def test_item_key_defaults_protocol_like_the_apiserver() -> None:
    obj = pod()
    obj["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]

    paths = {render_path(p) for p in fieldset_from_object(obj, POD)}

    assert '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"]' in paths


def test_from_fields_v1_normalises_keys_and_skips_unknown_types() -> None:
    raw = {
        "f:spec": {'k:{ "b": 1, "a": "x" }': {".": {}, "f:n": {}}, "x:future": {}},
        "f:set": {"v:1.0": {}},
    }

    fs = from_fields_v1(raw)

    assert fs == FieldSet(
        {
            ("f:spec", 'k:{"a":"x","b":1}'),
            ("f:spec", 'k:{"a":"x","b":1}', "f:n"),
            ("f:set", "v:1"),
        }
    )


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({"f:a": []}, ".a"),
        ({"f:a": {"k:notjson": {}}}, "k:notjson"),
        ({"f:a": {"k:[1]": {}}}, "key must be a JSON object"),
        ({"i:x": {}}, "index is not an integer"),
        ({"q": {}}, "bad path element 'q'"),
        ("nope", "expected an object"),
    ],
)
def test_from_fields_v1_rejects_malformed_input(raw: object, where: str) -> None:
    with pytest.raises(PatchError, match="invalid"):
        from_fields_v1(raw)
    with pytest.raises(PatchError) as info:
        from_fields_v1(raw)
    assert where in str(info.value)


_NAMES = st.text(min_size=1, max_size=6)
_SCALARS = st.one_of(
    st.integers(-5, 5), st.text(max_size=4), st.booleans(), st.sampled_from(["<&>", "é", "\u2028"])
)
_ELEMENTS = st.one_of(
    _NAMES.map(field),
    st.dictionaries(st.text(max_size=4), _SCALARS, min_size=1, max_size=2).map(key),
    _SCALARS.map(value),
    st.integers(0, 9).map(index),
)


@given(st.sets(st.lists(_ELEMENTS, min_size=1, max_size=4).map(tuple), max_size=12))
def test_fields_v1_round_trips_any_field_set(paths: set[Path]) -> None:
    fs = FieldSet(paths)

    wire = json.loads(json.dumps(to_fields_v1(fs)))

    assert from_fields_v1(wire) == fs
    assert sorted(fs.ordered()) == sorted(fs.paths)
    assert all(not fs.has_descendant(p) for p in fs.leaves())


_JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=3))
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)
_OBJECTS = st.dictionaries(st.sampled_from(["a", "b", "c", "spec", "data"]), _JSON, max_size=4)


@given(_OBJECTS)
def test_fieldset_from_object_round_trips_through_fields_v1(obj: JSON) -> None:
    fs = fieldset_from_object(obj, POD, exclude_server_fields=False)

    assert from_fields_v1(json.loads(json.dumps(to_fields_v1(fs)))) == fs
    assert diff_objects({}, obj, POD).changed >= fs


# -- record_update (create, PUT, PATCH) -------------------------------------------------------


def test_record_update_create_owns_every_field_with_map_markers() -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {"app": "web"}, "uid": "u"},
        "data": {"k": "v"},
    }

    managed = update(None, cm, [], "kubectl-create", schema=CM)

    assert managed == [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": "v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:data": {".": {}, "f:k": {}},
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            },
        }
    ]


def test_record_update_create_treats_spec_as_a_struct() -> None:
    managed = update(None, pod(), [], "kubectl-create")

    assert managed[0]["fieldsV1"] == {
        "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}}
    }


def test_record_update_put_removing_a_label_drops_it_from_every_set() -> None:
    base = with_labels(pod(), app="web", tier="db")
    live, managed = apply(None, base, [], "alice")
    labels_only = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    live, managed = apply(
        stored(live, managed), with_labels(labels_only, app="web"), managed, "bob"
    )
    assert owned(managed, "bob") == {".metadata.labels.app"}
    assert ".metadata.labels.app" in owned(managed, "alice")

    new = with_labels(pod(), tier="db")
    result = update(stored(live, managed), new, managed, "kubectl-edit", time=T2)

    assert [e["manager"] for e in result] == ["alice"]  # bob owned only the removed label
    assert owned(result, "alice") == {
        ".metadata.labels.tier",
        '.spec.containers[name="c"]',
        '.spec.containers[name="c"].image',
        '.spec.containers[name="c"].name',
    }


def test_record_update_takes_changed_fields_from_other_managers() -> None:
    live, managed = apply(None, with_labels(pod(), app="web"), [], "alice")
    changed = with_labels(pod(), app="api")

    result = update(stored(live, managed), changed, managed, "kubectl-edit", time=T2)

    assert owned(result, "kubectl-edit") == {".metadata.labels.app"}
    assert ".metadata.labels.app" not in owned(result, "alice")


def test_record_update_that_changes_nothing_keeps_the_entry_and_its_time() -> None:
    managed = update(None, pod(), [], "kubectl-create", time=T0)

    again = update(pod(), pod(), managed, "kubectl-create", time=T2)
    other = update(pod(), pod(), managed, "someone-else", time=T2)

    assert again == managed
    assert other == managed


def test_record_update_subresource_is_recorded_and_named_in_conflicts() -> None:
    live = pod()
    live["status"] = {"phase": "Pending"}
    running = json.loads(json.dumps(live))
    running["status"]["phase"] = "Running"
    managed = update(live, running, [], "kubelet", subresource="status")
    assert managed[0]["subresource"] == "status"
    applied = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    applied["status"] = {"phase": "Failed"}

    with pytest.raises(ConflictError) as info:
        apply(stored(running, managed), applied, managed, "me")

    assert info.value.message == (
        'Apply failed with 1 conflict: conflict with "kubelet" with subresource "status" '
        "using v1: .status.phase"
    )


def test_record_update_orders_entries_like_the_server() -> None:
    live, managed = apply(None, with_labels(pod(), a="1"), [], "zed", time=T2)
    managed = update(stored(live, managed), with_labels(live, a="1", b="2"), managed, "m2", time=T1)
    live = with_labels(live, a="1", b="2")
    managed = update(live, with_labels(live, a="1", b="2", c="3"), managed, "m1", time=T2)

    assert [(e["operation"], e["manager"]) for e in managed] == [
        ("Apply", "zed"),
        ("Update", "m2"),
        ("Update", "m1"),
    ]


# -- server-side apply ------------------------------------------------------------------------


def test_server_side_apply_create_records_an_apply_entry() -> None:
    applied = with_labels(pod(), app="web")

    obj, managed = apply(None, applied, [], "kubectl", time=T0)

    assert managed == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}
                },
            },
        }
    ]
    assert obj == stored(applied, managed)


def test_server_side_apply_conflicts_with_client_side_apply() -> None:
    live = with_labels(pod(), app="web")
    managed = update(None, live, [], "kubectl-client-side-apply")

    with pytest.raises(ConflictError) as info:
        apply(stored(live, managed), with_labels(pod(), app="api"), managed, "ssa")

    err = info.value
    assert err.code == 409
    assert err.reason == "Conflict"
    assert err.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: '
        ".metadata.labels.app"
    )
    assert err.status["status"] == "Failure"
    assert err.details == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-client-side-apply" using v1',
                "field": ".metadata.labels.app",
            }
        ]
    }


def deployment(replicas: int, team: str, image: str = "nginx") -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"team": team}},
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "c", "image": image}]}},
        },
    }


def test_server_side_apply_lists_conflicts_per_manager() -> None:
    live, managed = apply(None, deployment(1, "a"), [], "alice", schema=DEPLOY, time=T0)
    scaled = json.loads(json.dumps(live))
    scaled["spec"]["replicas"] = 3
    managed = update(live, scaled, managed, "hpa", schema=DEPLOY, time=T1)

    with pytest.raises(ConflictError) as info:
        apply(stored(scaled, managed), deployment(5, "b", "redis"), managed, "bob", schema=DEPLOY)

    assert info.value.message == (
        'Apply failed with 3 conflicts: conflicts with "alice":\n'
        "- .metadata.labels.team\n"
        '- .spec.template.spec.containers[name="c"].image\n'
        'conflicts with "hpa" using apps/v1:\n'
        "- .spec.replicas"
    )
    assert [(c["message"], c["field"]) for c in causes(info.value)] == [
        ('conflict with "alice"', ".metadata.labels.team"),
        ('conflict with "alice"', '.spec.template.spec.containers[name="c"].image'),
        ('conflict with "hpa" using apps/v1', ".spec.replicas"),
    ]


def test_server_side_apply_force_takes_ownership() -> None:
    live = with_labels(pod(), app="web")
    managed = update(None, live, [], "kubectl-client-side-apply")

    obj, result = apply(
        stored(live, managed), with_labels(pod(), app="api"), managed, "ssa", force=True
    )

    assert obj["metadata"]["labels"] == {"app": "api"}
    assert ".metadata.labels.app" in owned(result, "ssa")
    csa = entry(result, "kubectl-client-side-apply")
    assert csa["fieldsV1"]["f:metadata"] == {"f:labels": {}}


def test_server_side_apply_same_value_is_co_owned() -> None:
    live = with_labels(pod(), app="web")
    managed = update(None, live, [], "kubectl-client-side-apply")

    obj, result = apply(stored(live, managed), with_labels(pod(), app="web"), managed, "ssa")

    assert obj["metadata"]["labels"] == {"app": "web"}
    assert ".metadata.labels.app" in owned(result, "ssa")
    assert ".metadata.labels.app" in owned(result, "kubectl-client-side-apply")


def test_server_side_apply_dropping_a_field_removes_it() -> None:
    live, managed = apply(None, with_labels(pod(), app="web", tier="db"), [], "ssa")

    obj, result = apply(stored(live, managed), with_labels(pod(), app="web"), managed, "ssa")

    assert obj["metadata"]["labels"] == {"app": "web"}
    assert ".metadata.labels.tier" not in owned(result, "ssa")


def test_server_side_apply_dropping_the_last_label_prunes_the_map() -> None:
    live, managed = apply(None, with_labels(pod(), app="web"), [], "ssa")

    obj, _ = apply(stored(live, managed), pod(), managed, "ssa")

    assert "labels" not in obj["metadata"]


def test_server_side_apply_dropping_a_co_owned_field_keeps_it() -> None:
    live, managed = apply(None, with_labels(pod(), app="web"), [], "alice")
    live, managed = apply(stored(live, managed), with_labels(pod(), app="web"), managed, "bob")

    obj, result = apply(stored(live, managed), pod(), managed, "alice")

    assert obj["metadata"]["labels"] == {"app": "web"}
    assert ".metadata.labels.app" not in owned(result, "alice")
    assert ".metadata.labels.app" in owned(result, "bob")


def test_server_side_apply_merges_containers_by_name() -> None:
    live, managed = apply(None, pod(), [], "ssa", time=T0)
    with_b = json.loads(json.dumps(live))
    with_b["spec"]["containers"].append({"name": "b", "image": "redis"})
    managed = update(live, with_b, managed, "kubectl-edit", time=T1)

    bumped = pod()
    bumped["spec"]["containers"][0]["image"] = "nginx:2"
    obj, result = apply(stored(with_b, managed), bumped, managed, "ssa", time=T2)

    assert obj["spec"]["containers"] == [
        {"name": "c", "image": "nginx:2"},
        {"name": "b", "image": "redis"},
    ]
    assert not any('name="b"' in p for p in owned(result, "ssa"))
    assert owned(result, "kubectl-edit") == {
        '.spec.containers[name="b"]',
        '.spec.containers[name="b"].image',
        '.spec.containers[name="b"].name',
    }

    only_b = pod()
    only_b["spec"]["containers"] = []
    obj, _ = apply(stored(obj, result), only_b, result, "ssa", time=T2)

    assert obj["spec"]["containers"] == [{"name": "b", "image": "redis"}]


def test_server_side_apply_list_order_follows_structured_merge_diff() -> None:
    live = pod()
    live["spec"]["containers"] = [{"name": "a"}, {"name": "b"}]
    applied = pod()
    applied["spec"]["containers"] = [{"name": "c"}, {"name": "a", "image": "x"}]

    obj, _ = apply(live, applied, [], "ssa")

    names = [c["name"] for c in obj["spec"]["containers"]]
    assert names == ["c", "a", "b"]


def test_server_side_apply_set_list_union_and_removal() -> None:
    live = pod()
    live["metadata"]["finalizers"] = ["x"]
    managed = update(None, live, [], "controller")
    applied = pod()
    applied["metadata"]["finalizers"] = ["y"]

    obj, result = apply(stored(live, managed), applied, managed, "ssa")
    assert obj["metadata"]["finalizers"] == ["x", "y"]
    assert owned(result, "ssa") >= {'.metadata.finalizers[="y"]'}

    obj, result = apply(stored(obj, result), pod(), result, "ssa")
    assert obj["metadata"]["finalizers"] == ["x"]
    assert owned(result, "controller") >= {'.metadata.finalizers[="x"]'}


def test_server_side_apply_replaces_atomic_lists() -> None:
    first = pod(tolerations=[{"key": "a"}, {"key": "b"}])
    first["spec"]["containers"][0]["args"] = ["--one", "--two"]
    live, managed = apply(None, first, [], "ssa")
    second = pod(tolerations=[{"key": "c"}])
    second["spec"]["containers"][0]["args"] = ["--three"]

    obj, result = apply(stored(live, managed), second, managed, "ssa")

    assert obj["spec"]["tolerations"] == [{"key": "c"}]
    assert obj["spec"]["containers"][0]["args"] == ["--three"]
    assert ".spec.tolerations" in owned(result, "ssa")


def test_server_side_apply_atomic_list_owned_by_another_manager_conflicts() -> None:
    live = pod(tolerations=[{"key": "a"}])
    managed = update(None, live, [], "kubectl-client-side-apply")

    with pytest.raises(ConflictError) as info:
        apply(stored(live, managed), pod(tolerations=[{"key": "b"}]), managed, "ssa")

    assert [c["field"] for c in causes(info.value)] == [".spec.tolerations"]


def test_server_side_apply_removal_outside_the_config_leaves_other_sets_consistent() -> None:
    live, managed = apply(None, with_labels(pod(), app="web"), [], "alice", time=T0)
    managed = update(live, with_labels(live, app="web", x="1"), managed, "edit", time=T1)
    live = with_labels(live, app="web", x="1")

    obj, result = apply(stored(live, managed), pod(), managed, "alice", time=T2)

    assert obj["metadata"]["labels"] == {"x": "1"}
    assert owned(result, "edit") == {".metadata.labels.x"}
    assert entry(result, "alice")["time"] == T2  # the prune counts as a change
    assert live["metadata"]["labels"] == {"app": "web", "x": "1"}  # inputs are not mutated


def test_server_side_apply_keeps_live_nulls_and_drops_applied_ones() -> None:
    live, managed = apply(None, pod(), [], "ssa", time=T0)
    live["spec"]["hostname"] = None
    applied = pod(subdomain=None)

    obj, _ = apply(stored(live, managed), applied, managed, "ssa", time=T2)

    assert "hostname" in obj["spec"]
    assert obj["spec"]["hostname"] is None
    assert "subdomain" not in obj["spec"]


def test_server_side_apply_noop_keeps_the_entry_time() -> None:
    live, managed = apply(None, pod(), [], "ssa", time=T0)

    obj, result = apply(stored(live, managed), pod(), managed, "ssa", time=T2)

    assert result == managed
    assert obj == stored(live, managed)


def test_server_side_apply_kubectl_upgrades_client_side_apply() -> None:
    config = with_labels(pod(), app="web")
    live = json.loads(json.dumps(config))
    live["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: json.dumps(config)}
    managed = update(None, live, [], "kubectl-client-side-apply")
    changed = with_labels(pod(), app="api")

    with pytest.raises(ConflictError):
        apply(stored(live, managed), changed, managed, "not-kubectl")
    obj, result = apply(stored(live, managed), changed, managed, "kubectl")

    assert obj["metadata"]["labels"] == {"app": "api"}
    assert ".metadata.labels.app" in owned(result, "kubectl")
    annotation = obj["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
    assert json.loads(annotation) == changed


def test_server_side_apply_rejects_malformed_managed_fields() -> None:
    bad = [{"manager": "m", "operation": "Delete", "apiVersion": "v1", "fieldsType": "FieldsV1"}]

    with pytest.raises(PatchError, match=r"managedFields\[0\]\.operation"):
        apply(pod(), pod(), bad, "ssa")


def test_select_managed_fields_follows_decode_live_or_new() -> None:
    live = update(None, pod(), [], "kubectl-create")
    sent = update(None, with_labels(pod(), a="b"), [], "other")

    assert select_managed_fields(live, None) == live
    assert select_managed_fields(live, []) == live
    assert select_managed_fields(live, [{}]) == []
    assert select_managed_fields(live, [{"operation": "bogus"}]) == live
    assert select_managed_fields(live, sent) == sent
    assert select_managed_fields(live, sent, subresource=True) == live
    assert select_managed_fields([{"bad": 1}], None) == []


_CONFIGS = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _JSON, min_size=1, max_size=4)


@settings(max_examples=150)
@given(_CONFIGS, _CONFIGS)
def test_server_side_apply_sole_applier_gets_exactly_its_config(first: JSON, second: JSON) -> None:
    schema = PLAIN
    assume(fieldset_from_object(first, schema) and fieldset_from_object(second, schema))
    live, managed = apply(None, {"apiVersion": "v1", **first}, [], "ssa", schema=schema)

    obj, result = apply(live, {"apiVersion": "v1", **second}, managed, "ssa", schema=schema)

    expected = json.loads(json.dumps({"apiVersion": "v1", **second}), object_hook=_no_nulls)
    obj.pop("metadata", None)
    expected.pop("metadata", None)
    assert obj == expected
    assert from_fields_v1(result[0]["fieldsV1"]) == fieldset_from_object(second, schema)


def _no_nulls(d: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in d.items() if v is not None}
