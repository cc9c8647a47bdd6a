"""Pure APIObject helpers (`_core._objectedits`): owner refs, readiness, taints, tolerations,
scale patches and Secret data."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import assume, given, strategies as st

from kr8s_trio._core._exceptions import SelectorError
from kr8s_trio._core._objectedits import (
    decode_secret_data,
    dotted_merge_patch,
    encode_secret_data,
    get_dotted,
    owner_reference,
    owner_references_patch,
    owner_references_with,
    pod_is_ready,
    pod_selector_query,
    scale_patch,
    selector_query_from_label_selector,
    service_is_ready,
    taints_after,
    toleration,
    tolerations_with,
    workload_is_ready,
)
from kr8s_trio._core._patch import apply_merge_patch


def _owner(uid: str = "u1", name: str = "dep") -> dict[str, object]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "uid": uid}}


def _child(*refs: Mapping[str, object], rv: str | None = "7") -> dict[str, object]:
    metadata: dict[str, object] = {"name": "c", "ownerReferences": [dict(r) for r in refs]}
    if rv is not None:
        metadata["resourceVersion"] = rv
    return {"metadata": metadata}


# --- owner references ---------------------------------------------------------------------------


def test_owner_reference_builds_controller_ref() -> None:
    assert owner_reference(_owner()) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "dep",
        "uid": "u1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    ref = owner_reference(_owner(), controller=False, block_owner_deletion=False)
    assert ref["controller"] is False
    assert ref["blockOwnerDeletion"] is False


@pytest.mark.parametrize(
    ("drop", "where"),
    [("apiVersion", "apiVersion"), ("kind", "kind"), ("name", "metadata.name"), ("uid", "uid")],
)
def test_owner_reference_names_missing_field(drop: str, where: str) -> None:
    owner: dict[str, Any] = _owner()
    if drop in owner:
        del owner[drop]
    else:
        del owner["metadata"][drop]
    with pytest.raises(ValueError, match=f"owner has no .*{where}"):
        owner_reference(owner)


def test_owner_references_with_appends_instead_of_replacing() -> None:
    other = owner_reference(_owner("u0", "cm"), controller=False)
    refs = owner_references_with(_child(other), owner_reference(_owner()))
    assert [r["uid"] for r in refs] == ["u0", "u1"]


def test_owner_references_with_replaces_same_uid_in_place() -> None:
    old = owner_reference(_owner("u1"), controller=False)
    other = owner_reference(_owner("u2", "b"), controller=False)
    refs = owner_references_with(_child(old, other), owner_reference(_owner("u1")))
    assert [(r["uid"], r["controller"]) for r in refs] == [("u1", True), ("u2", False)]


def test_owner_references_with_refuses_second_controller() -> None:
    child = _child(owner_reference(_owner("u0", "rs")))
    with pytest.raises(ValueError, match="Deployment/rs already controls"):
        owner_references_with(child, owner_reference(_owner("u1")))
    # A non-controller reference is fine, and so is re-adding the same controller.
    assert len(owner_references_with(child, owner_reference(_owner("u1"), controller=False))) == 2
    assert len(owner_references_with(child, owner_reference(_owner("u0", "rs")))) == 1


def test_owner_references_with_does_not_mutate_child() -> None:
    child = _child(owner_reference(_owner("u0"), controller=False))
    refs = owner_references_with(child, owner_reference(_owner("u1")))
    refs[0]["name"] = "changed"
    assert child["metadata"]["ownerReferences"][0]["name"] == "dep"  # type: ignore[index]
    assert len(child["metadata"]["ownerReferences"]) == 1  # type: ignore[index]


def test_owner_references_patch_guards_with_resource_version() -> None:
    patch = owner_references_patch(_child(), owner_reference(_owner()))
    assert patch["metadata"]["resourceVersion"] == "7"  # type: ignore[index]
    assert (
        "resourceVersion"
        not in owner_references_patch(  # type: ignore[operator]
            _child(rv=None), owner_reference(_owner())
        )["metadata"]
    )


_uids = st.sampled_from(["a", "b", "c", "d", "e"])
_refs = st.lists(
    st.builds(lambda u: owner_reference(_owner(u, "n" + u), controller=False), _uids),
    unique_by=lambda r: r["uid"],
)


@given(_refs, _uids, st.booleans())
def test_owner_references_with_never_loses_existing_refs(
    existing: list[dict[str, object]], uid: str, controller: bool
) -> None:
    ref = owner_reference(_owner(uid, "new"), controller=controller)
    child = _child(*existing)
    refs = owner_references_with(child, ref)
    assert [r["uid"] for r in refs if r["uid"] != uid] == [
        r["uid"] for r in existing if r["uid"] != uid
    ]
    assert [r for r in refs if r["uid"] == uid] == [ref]
    patched = apply_merge_patch(child, owner_references_patch(child, ref))
    assert patched["metadata"]["ownerReferences"] == refs  # type: ignore[index, call-overload]


# --- readiness ----------------------------------------------------------------------------------


def _conds(**statuses: str) -> dict[str, object]:
    return {"status": {"conditions": [{"type": t, "status": s} for t, s in statuses.items()]}}


@pytest.mark.parametrize(
    ("raw", "ready"),
    [
        (_conds(Ready="True", ContainersReady="True"), True),
        (_conds(Ready="True", ContainersReady="False"), False),
        (_conds(Ready="True"), False),
        (_conds(ContainersReady="True"), False),
        ({}, False),
    ],
)
def test_pod_is_ready(raw: dict[str, object], ready: bool) -> None:
    assert pod_is_ready(raw) is ready


@pytest.mark.parametrize(
    ("generation", "observed", "replicas", "ready_replicas", "ready"),
    [
        (2, 2, 3, 3, True),
        (2, 1, 3, 3, False),  # the controller has not seen the new spec
        (2, 3, 3, 3, True),
        (1, 1, 3, 2, False),
        (1, 1, None, 1, True),  # replicas defaults to 1
        (1, 1, None, None, False),
        (1, 1, 0, None, True),  # readyReplicas defaults to 0
        (None, None, 0, None, True),
        (1, None, 0, None, False),
    ],
)
def test_workload_is_ready(
    generation: int | None,
    observed: int | None,
    replicas: int | None,
    ready_replicas: int | None,
    ready: bool,
) -> None:
    def some(**kv: object) -> dict[str, object]:
        return {k: v for k, v in kv.items() if v is not None}

    raw = {
        "metadata": some(generation=generation),
        "spec": some(replicas=replicas),
        "status": some(observedGeneration=observed, readyReplicas=ready_replicas),
    }
    assert workload_is_ready(raw) is ready


@pytest.mark.parametrize(
    ("raw", "pods", "ready"),
    [
        ({"spec": {"type": "ClusterIP"}}, 1, True),
        ({"spec": {"type": "ClusterIP"}}, 0, False),
        ({"spec": {"type": "LoadBalancer"}}, 2, False),
        ({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": []}}}, 2, False),
        (
            {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{}]}}},
            1,
            True,
        ),
    ],
)
def test_service_is_ready(raw: dict[str, object], pods: int, ready: bool) -> None:
    assert service_is_ready(raw, pods) is ready


def test_selector_query_from_label_selector_ands_labels_and_expressions() -> None:
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["b", "a"]},
            {"key": "env", "operator": "NotIn", "values": ["dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "team", "operator": "Exists"},
        ],
    }
    assert (
        selector_query_from_label_selector(selector)
        == "app=web,!canary,env notin (dev),team,tier in (a,b)"
    )
    assert selector_query_from_label_selector({}) == ""
    with pytest.raises(SelectorError, match="matchExpressions"):
        selector_query_from_label_selector({"matchExpressions": [{"key": "a", "operator": "Is"}]})


@pytest.mark.parametrize(
    ("raw", "query"),
    [
        ({"kind": "Service", "spec": {"selector": {"app": "web"}}}, "app=web"),
        ({"kind": "Service", "spec": {}}, None),
        ({"kind": "Service", "spec": {"selector": {}}}, None),
        ({"kind": "Deployment", "spec": {"selector": {"matchLabels": {"app": "w"}}}}, "app=w"),
        ({"kind": "Deployment", "spec": {"selector": {"matchLabels": {}}}}, None),
        # A Service label literally named matchLabels is still a plain label.
        ({"kind": "Service", "spec": {"selector": {"matchLabels": "x"}}}, "matchLabels=x"),
    ],
)
def test_pod_selector_query(raw: dict[str, object], query: str | None) -> None:
    assert pod_selector_query(raw) == query


# --- tolerations and taints ---------------------------------------------------------------------


def test_toleration_builds_fields() -> None:
    assert toleration("gpu", operator="Equal", value="yes", effect="NoSchedule") == {
        "key": "gpu",
        "operator": "Equal",
        "value": "yes",
        "effect": "NoSchedule",
    }
    assert toleration("", operator="Exists", effect="") == {"operator": "Exists"}
    assert toleration("n", operator="Exists", effect="NoExecute", toleration_seconds=30) == {
        "key": "n",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 30,
    }


@pytest.mark.parametrize(
    ("key", "kwargs", "message"),
    [
        ("k", {"operator": "Is", "effect": ""}, "operator: 'Is' is not supported"),
        ("", {"operator": "Equal", "effect": ""}, "must be Exists when key is empty"),
        ("k", {"operator": "Exists", "effect": "", "value": "v"}, "value: must be empty"),
        ("k", {"operator": "Equal", "effect": "Never"}, "effect: 'Never' is not one of"),
        ("k", {"operator": "Exists", "effect": "NoSchedule", "toleration_seconds": 5}, "NoExec"),
        ("bad key!", {"operator": "Exists", "effect": ""}, "key: "),
        ("k", {"operator": "Equal", "effect": "", "value": "bad value!"}, "value: "),
    ],
)
def test_toleration_rejects_like_apiserver(key: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        toleration(key, **kwargs)


def test_tolerations_with_appends_once() -> None:
    tol = toleration("gpu", operator="Exists", effect="NoSchedule")
    once = tolerations_with(None, tol)
    assert once == [tol]
    assert tolerations_with(once, tol) == [tol]
    other = toleration("x", operator="Exists", effect="")
    assert tolerations_with(once, other) == [tol, other]


TAINTS = [
    {"key": "a", "value": "1", "effect": "NoSchedule"},
    {"key": "a", "effect": "NoExecute"},
    {"key": "b", "value": "2", "effect": "NoSchedule"},
]


def test_taints_after_adds_and_replaces_value() -> None:
    added = taints_after(TAINTS, "c", "3", "PreferNoSchedule")
    assert added == [*TAINTS, {"key": "c", "value": "3", "effect": "PreferNoSchedule"}]
    replaced = taints_after(TAINTS, "a", "9", "NoSchedule")
    assert replaced[0] == {"key": "a", "value": "9", "effect": "NoSchedule"}
    assert replaced[1:] == TAINTS[1:]
    assert taints_after(None, "k", None, "NoExecute") == [{"key": "k", "effect": "NoExecute"}]


def test_taints_after_removes_by_key_and_effect() -> None:
    assert taints_after(TAINTS, "a", None, "NoSchedule-") == TAINTS[1:]
    assert taints_after(TAINTS, "a", "ignored", "-") == TAINTS[2:]
    with pytest.raises(LookupError, match="taint 'b:NoExecute' not found"):
        taints_after(TAINTS, "b", None, "NoExecute-")
    with pytest.raises(LookupError, match="taint 'z' not found"):
        taints_after(TAINTS, "z", None, "-")


@pytest.mark.parametrize(
    ("key", "value", "effect", "message"),
    [
        ("a", "1", "Sometimes", "effect: 'Sometimes'"),
        ("a", "1", "", "effect: ''"),
        ("a", None, "Bogus-", "taint effect 'Bogus'"),
        ("bad key", "1", "NoSchedule", "key: "),
        ("a", "bad value", "NoSchedule", "value: "),
    ],
)
def test_taints_after_rejects_invalid(
    key: str, value: str | None, effect: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        taints_after(TAINTS, key, value, effect)


_taint_key = st.sampled_from(["a", "b", "c"])
_effect = st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"])
_taint = st.builds(
    lambda k, v, e: {"key": k, "value": v, "effect": e},
    _taint_key,
    st.sampled_from(["1", "2"]),
    _effect,
)


@given(st.lists(_taint, unique_by=lambda t: (t["key"], t["effect"])), _taint_key, _effect)
def test_taints_after_add_then_remove_invariants(
    current: list[dict[str, object]], key: str, effect: str
) -> None:
    added = taints_after(current, key, "v", effect)
    same = [t for t in added if (t["key"], t["effect"]) == (key, effect)]
    assert same == [{"key": key, "value": "v", "effect": effect}]
    assert len(added) == len(current) + (
        0 if any((t["key"], t["effect"]) == (key, effect) for t in current) else 1
    )
    removed = taints_after(added, key, None, effect + "-")
    assert removed == [t for t in current if (t["key"], t["effect"]) != (key, effect)]
    without_key = taints_after(added, key, None, "-")
    assert without_key == [t for t in current if t["key"] != key]


# --- dotted paths and scaling -------------------------------------------------------------------


def test_get_dotted_and_default() -> None:
    raw = {"spec": {"replicas": 0, "template": None}}
    assert get_dotted(raw, "spec.replicas") == 0
    assert get_dotted(raw, "spec.parallelism", 1) == 1
    assert get_dotted(raw, "spec.template.spec", "d") == "d"


def test_dotted_merge_patch_nests() -> None:
    assert dotted_merge_patch("spec.parallelism", 3) == {"spec": {"parallelism": 3}}
    assert dotted_merge_patch("a", None) == {"a": None}
    with pytest.raises(ValueError, match="segments must be non-empty"):
        dotted_merge_patch("spec..x", 1)
    with pytest.raises(ValueError, match="segments must be non-empty"):
        dotted_merge_patch("", 1)


def test_scale_patch_validates_replicas() -> None:
    assert scale_patch("replicas", 2) == {"spec": {"replicas": 2}}
    assert scale_patch("parallelism", 0) == {"spec": {"parallelism": 0}}
    for bad in (-1, True, 1.5, "3"):
        with pytest.raises(ValueError, match="non-negative integer"):
            scale_patch("replicas", bad)  # type: ignore[arg-type]


@given(
    st.lists(st.text(alphabet="abc", min_size=1, max_size=3), min_size=1, max_size=4), st.integers()
)
def test_dotted_merge_patch_round_trips_with_get_dotted(parts: list[str], value: int) -> None:
    path = ".".join(parts)
    patched = apply_merge_patch({"other": 1}, dotted_merge_patch(path, value))
    assert isinstance(patched, dict)
    assert get_dotted(patched, path) == value
    assert patched["other"] == 1


# --- Secret data --------------------------------------------------------------------------------


def test_decode_secret_data() -> None:
    data = {"a": base64.b64encode(b"\x00\xffhi").decode(), "b": "", "c": "aGk="}
    assert decode_secret_data(data) == {"a": b"\x00\xffhi", "b": b"", "c": b"hi"}
    assert decode_secret_data({"wrapped": "aGVs\nbG8="}) == {"wrapped": b"hello"}
    assert decode_secret_data(None) == {}


@pytest.mark.parametrize("value", ["not base64!", "abcde", "aGk", "é===", "aGk=aGk="])
def test_decode_secret_data_error_names_key_not_value(value: str) -> None:
    with pytest.raises(ValueError, match="secret data key 'token'") as info:
        decode_secret_data({"token": value})
    assert value not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_decode_secret_data_type_error() -> None:
    with pytest.raises(TypeError, match="secret data key 'k'"):
        decode_secret_data({"k": 5})  # type: ignore[dict-item]


def test_encode_secret_data() -> None:
    assert encode_secret_data({"a": b"\x00", "b": "hé"}) == {"a": "AA==", "b": "aMOp"}
    for key in ("", ".", "..", "a/b", "x" * 254):
        with pytest.raises(ValueError, match="valid Secret key"):
            encode_secret_data({key: b""})
    with pytest.raises(TypeError, match="secret data key 'k'"):
        encode_secret_data({"k": 5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="value not shown") as info:
        encode_secret_data({"k": "\udcff-secret"})
    assert "secret" not in str(info.value).replace("secret data", "")


_secret_key = st.text(alphabet="abcXYZ019-._", min_size=1, max_size=20).filter(
    lambda k: k not in (".", "..")
)


@given(st.dictionaries(_secret_key, st.one_of(st.binary(max_size=64), st.text(max_size=20))))
def test_secret_data_round_trips(data: dict[str, bytes | str]) -> None:
    decoded = decode_secret_data(encode_secret_data(data))
    assert decoded == {k: v.encode() if isinstance(v, str) else v for k, v in data.items()}


_b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@given(
    _secret_key,
    st.one_of(
        # invalid lengths (4n+1) of base64 characters, and text with a non-base64 character
        st.text(alphabet=_b64, min_size=13, max_size=41).filter(lambda v: len(v) % 4 == 1),
        st.tuples(st.text(alphabet=_b64, min_size=4), st.sampled_from("%$!é ")).map("".join),
    ),
)
def test_decode_secret_data_errors_never_contain_value(key: str, value: str) -> None:
    assume(value not in key)
    with pytest.raises(ValueError, match="secret data key") as info:
        decode_secret_data({key: value})
    assert value not in str(info.value)
    assert value not in repr(info.value)
