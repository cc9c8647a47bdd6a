"""RFC 6902 JSON patch and RFC 7386 merge patch, as kube-apiserver applies them."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._exceptions import PatchError
from kr8s_trio._core._patch import (
    JSON,
    MAX_JSON_PATCH_OPERATIONS,
    apply_json_patch,
    apply_merge_patch,
    copy_json,
    json_equal,
    parse_json_patch,
)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values: st.SearchStrategy[JSON] = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=5), json_values, max_size=5)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _at(value: JSON, *path: str | int) -> JSON:
    for part in path:
        if isinstance(part, int):
            assert isinstance(value, list)
            value = value[part]
        else:
            assert isinstance(value, dict)
            value = value[part]
    return value


def _append(value: JSON, *path: str | int) -> None:
    target = _at(value, *path)
    assert isinstance(target, list)
    target.append("mutated")


def _pointer(tokens: list[str | int]) -> str:
    return "".join(f"/{_escape(str(token))}" for token in tokens)


@st.composite
def doc_and_location(draw: st.DrawFn) -> tuple[JSON, list[str | int], JSON]:
    """A document, the tokens of a location inside it, and the value found there."""
    doc = draw(json_values)
    node = doc
    tokens: list[str | int] = []
    while isinstance(node, dict | list) and node and draw(st.booleans()):
        if isinstance(node, dict):
            key = draw(st.sampled_from(sorted(node)))
            tokens.append(key)
            node = node[key]
        else:
            index = draw(st.integers(0, len(node) - 1))
            tokens.append(index)
            node = node[index]
    return doc, tokens, node


# ------------------------------------------------------------------------------------------------
# RFC 6902 appendix A, case by case (own data)


def test_apply_json_patch_adds_object_member() -> None:
    doc = {"kind": "Pod"}
    patch = [{"op": "add", "path": "/apiVersion", "value": "v1"}]
    assert apply_json_patch(doc, patch) == {"kind": "Pod", "apiVersion": "v1"}


def test_apply_json_patch_inserts_array_element_before_index() -> None:
    doc = {"args": ["--a", "--c"]}
    patch = [{"op": "add", "path": "/args/1", "value": "--b"}]
    assert apply_json_patch(doc, patch) == {"args": ["--a", "--b", "--c"]}


def test_apply_json_patch_removes_object_member() -> None:
    doc = {"kind": "Pod", "status": {"phase": "Running"}}
    assert apply_json_patch(doc, [{"op": "remove", "path": "/status"}]) == {"kind": "Pod"}


def test_apply_json_patch_removes_array_element() -> None:
    doc = {"args": ["--a", "--b", "--c"]}
    assert apply_json_patch(doc, [{"op": "remove", "path": "/args/1"}]) == {"args": ["--a", "--c"]}


def test_apply_json_patch_replaces_value() -> None:
    doc = {"spec": {"replicas": 1, "paused": False}}
    patch = [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    assert apply_json_patch(doc, patch) == {"spec": {"replicas": 3, "paused": False}}


def test_apply_json_patch_moves_member_between_objects() -> None:
    doc = {"labels": {"app": "web", "tier": "front"}, "annotations": {"note": "x"}}
    patch = [{"op": "move", "from": "/labels/tier", "path": "/annotations/tier"}]
    assert apply_json_patch(doc, patch) == {
        "labels": {"app": "web"},
        "annotations": {"note": "x", "tier": "front"},
    }


def test_apply_json_patch_moves_array_element_to_later_index() -> None:
    doc = {"order": ["w", "x", "y", "z"]}
    patch = [{"op": "move", "from": "/order/1", "path": "/order/3"}]
    assert apply_json_patch(doc, patch) == {"order": ["w", "y", "z", "x"]}


def test_apply_json_patch_passing_tests_leave_document_unchanged() -> None:
    doc = {"name": "web", "ports": ["http", 80, "tcp"]}
    patch = [
        {"op": "test", "path": "/name", "value": "web"},
        {"op": "test", "path": "/ports/1", "value": 80},
    ]
    assert apply_json_patch(doc, patch) == doc


def test_apply_json_patch_failed_test_names_path_and_operation() -> None:
    doc = {"metadata": {"resourceVersion": "41"}}
    patch = [
        {"op": "add", "path": "/metadata/labels", "value": {}},
        {"op": "test", "path": "/metadata/resourceVersion", "value": "40"},
    ]
    with pytest.raises(PatchError, match=r"testing value /metadata/resourceVersion failed") as info:
        apply_json_patch(doc, patch)
    assert "operation 1" in str(info.value)


def test_apply_json_patch_adds_nested_object() -> None:
    doc = {"kind": "ConfigMap"}
    patch = [{"op": "add", "path": "/data", "value": {"nested": {}}}]
    assert apply_json_patch(doc, patch) == {"kind": "ConfigMap", "data": {"nested": {}}}


def test_apply_json_patch_ignores_unrecognised_operation_members() -> None:
    doc = {"kind": "Pod"}
    patch = [{"op": "add", "path": "/x", "value": 1, "comment": "ignored", "n": 7}]
    assert apply_json_patch(doc, patch) == {"kind": "Pod", "x": 1}


def test_apply_json_patch_add_under_missing_parent_fails() -> None:
    with pytest.raises(
        PatchError, match=r'add operation does not apply: doc is missing path: "/a/b"'
    ):
        apply_json_patch({"c": 1}, [{"op": "add", "path": "/a/b", "value": 1}])


def test_apply_json_patch_unescapes_tilde_before_slash() -> None:
    doc = {"/": 1, "~1": 2}
    assert apply_json_patch(doc, [{"op": "test", "path": "/~01", "value": 2}]) == doc
    assert apply_json_patch(doc, [{"op": "remove", "path": "/~1"}]) == {"~1": 2}


def test_apply_json_patch_test_distinguishes_strings_from_numbers() -> None:
    with pytest.raises(PatchError, match="testing value /~01 failed"):
        apply_json_patch({"~1": 2}, [{"op": "test", "path": "/~01", "value": "2"}])


def test_apply_json_patch_appends_array_value_as_one_element() -> None:
    doc = {"items": ["a"]}
    patch = [{"op": "add", "path": "/items/-", "value": ["b", "c"]}]
    assert apply_json_patch(doc, patch) == {"items": ["a", ["b", "c"]]}


# ------------------------------------------------------------------------------------------------
# More behaviour


def test_apply_json_patch_whole_document_operations() -> None:
    assert apply_json_patch({"a": 1}, [{"op": "replace", "path": "", "value": [1]}]) == [1]
    assert apply_json_patch({"a": 1}, [{"op": "add", "path": "", "value": {"b": 2}}]) == {"b": 2}
    assert apply_json_patch({"a": 1}, [{"op": "test", "path": "", "value": {"a": 1.0}}]) == {"a": 1}
    with pytest.raises(PatchError, match="cannot remove the whole document"):
        apply_json_patch({"a": 1}, [{"op": "remove", "path": ""}])


def test_apply_json_patch_copy_is_independent_of_source() -> None:
    doc = {"a": {"list": [1]}}
    patch = [
        {"op": "copy", "from": "/a", "path": "/b"},
        {"op": "add", "path": "/b/list/-", "value": 2},
    ]
    assert apply_json_patch(doc, patch) == {"a": {"list": [1]}, "b": {"list": [1, 2]}}


def test_apply_json_patch_move_to_same_place_is_noop() -> None:
    doc = {"a": [1, 2]}
    assert apply_json_patch(doc, [{"op": "move", "from": "/a/0", "path": "/a/0"}]) == doc


def test_apply_json_patch_cannot_move_value_into_its_child() -> None:
    with pytest.raises(PatchError, match="cannot move /a into its own child /a/b"):
        apply_json_patch({"a": {}}, [{"op": "move", "from": "/a", "path": "/a/b"}])


def test_apply_json_patch_test_does_not_equate_booleans_and_numbers() -> None:
    with pytest.raises(PatchError, match="testing value /on failed"):
        apply_json_patch({"on": True}, [{"op": "test", "path": "/on", "value": 1}])
    assert apply_json_patch({"n": 1}, [{"op": "test", "path": "/n", "value": 1.0}]) == {"n": 1}


@pytest.mark.parametrize(
    ("doc", "op", "message"),
    [
        (
            {"a": [1]},
            {"op": "remove", "path": "/a/1"},
            r"error in remove for path: '/a/1': Unable to access invalid index: 1",
        ),
        (
            {"a": [1]},
            {"op": "add", "path": "/a/2", "value": 0},
            r"error in add for path: '/a/2': Unable to access invalid index: 2",
        ),
        ({"a": [1]}, {"op": "replace", "path": "/a/-", "value": 0}, r"proper array index: '-'"),
        ({"a": [1]}, {"op": "add", "path": "/a/01", "value": 0}, r"proper array index: '01'"),
        ({"a": [1]}, {"op": "add", "path": "/a/-1", "value": 0}, r"proper array index: '-1'"),
        ({"a": [1]}, {"op": "remove", "path": "/a/x"}, r"proper array index: 'x'"),
        ({}, {"op": "remove", "path": "/gone"}, r"Unable to remove nonexistent key: gone"),
        ({}, {"op": "replace", "path": "/gone", "value": 1}, r"doc is missing key: /gone"),
        ({}, {"op": "test", "path": "/gone", "value": None}, r"is missing path: /gone"),
        ({}, {"op": "move", "from": "/gone", "path": "/b"}, r"doc is missing from path: /gone"),
        ({}, {"op": "copy", "from": "/a/b", "path": "/b"}, r"doc is missing from path: /a/b"),
        ({"a": "s"}, {"op": "add", "path": "/a/b", "value": 1}, r"doc is missing path"),
        ({}, {"op": "frobnicate", "path": "/a"}, r"Unexpected kind: frobnicate"),
        ({}, {"path": "/a", "value": 1}, r"Unexpected kind: unknown"),
        ({}, {"op": "add", "value": 1}, r"add operation failed to decode path: missing value"),
        ({}, {"op": "add", "path": 3, "value": 1}, r"failed to decode path: a number"),
        ({}, {"op": "add", "path": "/a"}, r"add operation is missing its value member"),
        ({}, {"op": "move", "path": "/a"}, r"move operation failed to decode from"),
        ({}, {"op": "add", "path": "a", "value": 1}, r"invalid JSON pointer 'a'"),
        ({}, {"op": "add", "path": "/a~2", "value": 1}, r"'~' must be followed by '0' or '1'"),
    ],
)
def test_apply_json_patch_failures_name_operation_and_path(
    doc: dict[str, JSON], op: dict[str, JSON], message: str
) -> None:
    patch = [{"op": "test", "path": "", "value": doc}, op]
    with pytest.raises(PatchError, match=message) as info:
        apply_json_patch(doc, patch)
    assert "(operation 1: " in str(info.value)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"op": "add"}, "must be an array of operation objects, got an object"),
        ("[]", "must be an array of operation objects, got a string"),
        ([{"op": "add", "path": "", "value": 1}, 5], "operation 1 of the JSON patch is a number"),
        ([{"op": "add", "path": "", "value": (1,)}], "operation 0 of the JSON patch is not JSON"),
    ],
)
def test_apply_json_patch_rejects_malformed_documents(patch: object, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        apply_json_patch({}, patch)


def test_apply_json_patch_limits_operation_count() -> None:
    ops = [{"op": "test", "path": "", "value": {}}] * MAX_JSON_PATCH_OPERATIONS
    assert apply_json_patch({}, ops) == {}
    with pytest.raises(
        PatchError, match=r"The allowed maximum operations in a JSON patch is 10000, got 10001"
    ):
        apply_json_patch({}, [*ops, ops[0]])


def test_parse_json_patch_copies_operations() -> None:
    patch = [{"op": "add", "path": "/a", "value": {"b": [1]}}]
    ops = parse_json_patch(patch)
    assert ops == patch
    ops[0]["value"] = None
    assert patch[0]["value"] == {"b": [1]}


def test_apply_json_patch_does_not_mutate_or_share_inputs() -> None:
    doc = {"spec": {"containers": [{"name": "a", "env": [{"name": "X"}]}]}, "keep": {"k": [1]}}
    patch = [
        {"op": "add", "path": "/spec/containers/0/env/-", "value": {"name": "Y", "v": [1]}},
        {"op": "replace", "path": "/spec/containers/0/name", "value": "b"},
        {"op": "remove", "path": "/spec/containers/0/env/0"},
    ]
    doc_before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    result = apply_json_patch(doc, patch)
    assert doc == doc_before
    assert patch == patch_before
    _append(result, "keep", "k")
    _append(result, "spec", "containers", 0, "env", 0, "v")
    assert doc == doc_before
    assert patch == patch_before


def test_apply_json_patch_failure_leaves_document_untouched() -> None:
    doc = {"a": [1, 2]}
    patch = [{"op": "remove", "path": "/a/0"}, {"op": "remove", "path": "/missing"}]
    with pytest.raises(PatchError):
        apply_json_patch(doc, patch)
    assert doc == {"a": [1, 2]}


@given(json_objects, st.text(), json_values)
def test_apply_json_patch_add_then_remove_of_fresh_key_is_identity(
    doc: dict[str, JSON], key: str, value: JSON
) -> None:
    if key in doc:
        doc = {k: v for k, v in doc.items() if k != key}
    path = "/" + _escape(key)
    added = apply_json_patch(doc, [{"op": "add", "path": path, "value": value}])
    assert isinstance(added, dict)
    assert json_equal(added[key], value)
    assert apply_json_patch(added, [{"op": "remove", "path": path}]) == doc
    both = [{"op": "add", "path": path, "value": value}, {"op": "remove", "path": path}]
    assert apply_json_patch(doc, both) == doc


@given(doc_and_location())
def test_apply_json_patch_test_with_current_value_always_succeeds(
    case: tuple[JSON, list[str | int], JSON],
) -> None:
    doc, tokens, value = case
    assert apply_json_patch(doc, [{"op": "test", "path": _pointer(tokens), "value": value}]) == doc


@given(doc_and_location(), json_values)
def test_apply_json_patch_replace_then_test_sees_new_value(
    case: tuple[JSON, list[str | int], JSON], new: JSON
) -> None:
    doc, tokens, _ = case
    path = _pointer(tokens)
    patch = [
        {"op": "replace", "path": path, "value": new},
        {"op": "test", "path": path, "value": new},
    ]
    before = copy.deepcopy(doc)
    apply_json_patch(doc, patch)
    assert doc == before


@given(st.lists(json_values, max_size=6), st.data())
def test_apply_json_patch_insert_then_remove_at_index_is_identity(
    items: list[JSON], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(items)))
    value = data.draw(json_values)
    patch = [
        {"op": "add", "path": f"/items/{index}", "value": value},
        {"op": "test", "path": f"/items/{index}", "value": value},
        {"op": "remove", "path": f"/items/{index}"},
    ]
    assert apply_json_patch({"items": items}, patch) == {"items": items}


# ------------------------------------------------------------------------------------------------
# RFC 7386 appendix A, case by case (own data)


@pytest.mark.parametrize(
    ("doc", "patch", "expected"),
    [
        ({"x": "1"}, {"x": "2"}, {"x": "2"}),
        ({"x": "1"}, {"y": "2"}, {"x": "1", "y": "2"}),
        ({"x": "1"}, {"x": None}, {}),
        ({"x": "1", "y": "2"}, {"x": None}, {"y": "2"}),
        ({"x": ["1"]}, {"x": "2"}, {"x": "2"}),
        ({"x": "2"}, {"x": ["1"]}, {"x": ["1"]}),
        ({"x": {"y": "1", "z": "2"}}, {"x": {"y": "3", "z": None}}, {"x": {"y": "3"}}),
        ({"x": [{"y": "1"}]}, {"x": [1]}, {"x": [1]}),
        (["x", "y"], ["z"], ["z"]),
        ({"x": "y"}, ["z"], ["z"]),
        ({"x": "y"}, None, None),
        ({"x": "y"}, "text", "text"),
        ({"e": None}, {"x": 1}, {"e": None, "x": 1}),
        ([1, 2], {"x": "y", "z": None}, {"x": "y"}),
        ({}, {"x": {"y": {"z": None}}}, {"x": {"y": {}}}),
        ({"x": "y"}, {"x": {"keep": [None], "drop": None}}, {"x": {"keep": [None]}}),
    ],
)
def test_apply_merge_patch_follows_rfc7386(doc: JSON, patch: JSON, expected: JSON) -> None:
    assert apply_merge_patch(doc, patch) == expected


def test_apply_merge_patch_does_not_mutate_or_share_inputs() -> None:
    doc = {"a": {"b": [1]}, "c": {"d": 1}}
    patch = {"c": {"e": [2]}, "f": {"g": [3]}}
    doc_before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    result = apply_merge_patch(doc, patch)
    assert result == {"a": {"b": [1]}, "c": {"d": 1, "e": [2]}, "f": {"g": [3]}}
    _append(result, "a", "b")
    _append(result, "c", "e")
    _append(result, "f", "g")
    assert doc == doc_before
    assert patch == patch_before


@given(json_objects)
def test_apply_merge_patch_empty_patch_is_identity(doc: dict[str, JSON]) -> None:
    assert apply_merge_patch(doc, {}) == doc


@given(json_values, json_values)
def test_apply_merge_patch_is_idempotent(doc: JSON, patch: JSON) -> None:
    once = apply_merge_patch(doc, patch)
    assert apply_merge_patch(once, patch) == once


@given(json_values, json_objects)
def test_apply_merge_patch_sets_every_non_null_member(doc: JSON, patch: dict[str, JSON]) -> None:
    result = apply_merge_patch(doc, patch)
    assert isinstance(result, dict)
    for key, value in patch.items():
        if value is None:
            assert key not in result
        elif not isinstance(value, dict):
            assert json_equal(result[key], value)


# ------------------------------------------------------------------------------------------------
# helpers


def _container_ids(value: JSON) -> set[int]:
    if isinstance(value, list):
        return {id(value)}.union(*(_container_ids(item) for item in value))
    if isinstance(value, dict):
        return {id(value)}.union(*(_container_ids(item) for item in value.values()))
    return set()


@given(json_values)
def test_copy_json_is_equal_and_detached(value: JSON) -> None:
    copied = copy_json(value)
    assert copied == value
    assert json_equal(copied, value)
    assert not _container_ids(copied) & _container_ids(value)


def test_copy_json_rejects_non_json() -> None:
    with pytest.raises(PatchError, match="not JSON: set"):
        copy_json({"a": [{1}]})
    with pytest.raises(PatchError, match="object key 1 is not a string"):
        copy_json({1: "x"})


def test_json_equal_follows_json_semantics() -> None:
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})
    assert not json_equal(True, 1)
    assert not json_equal(0, False)
    assert not json_equal("1", 1)
    assert not json_equal([1, 2], [2, 1])
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})
    assert not json_equal(None, {})
