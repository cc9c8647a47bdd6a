"""Selector query building and label/annotation edit parsing (`_core._selectorbuild`)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._exceptions import SelectorError
from kr8s_trio._core._field_selectors import FieldSelector
from kr8s_trio._core._patch import apply_merge_patch
from kr8s_trio._core._selectorbuild import (
    MetadataField,
    field_selector_query,
    label_selector_query,
    merge_patch_for,
    parse_label_edits,
)
from kr8s_trio._core._selectors import LabelSelector

# --- label selectors: unit tests ----------------------------------------------------------------


@pytest.mark.parametrize("selector", [None, "", {}, {"matchLabels": {}}])
def test_label_selector_query_empty(selector: str | Mapping[str, object] | None) -> None:
    assert label_selector_query(selector) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app=web", "app=web"),
        ("app == web", "app=web"),
        ("tier in (b, a, a),app=web", "app=web,tier in (a,b)"),
        ("!legacy, version>2", "!legacy,version>2"),
        ("example.com/x notin (1)", "example.com/x notin (1)"),
        ("exists", "exists"),
        ("app=", "app="),
    ],
)
def test_label_selector_query_text_is_normalised(text: str, expected: str) -> None:
    assert label_selector_query(text) == expected


@pytest.mark.parametrize("text", ["app in", "=x", "app=we b", "a/b/c=x", "app=-x", "a,"])
def test_label_selector_query_text_invalid(text: str) -> None:
    with pytest.raises(SelectorError):
        label_selector_query(text)


def test_label_selector_query_dict() -> None:
    assert label_selector_query({"tier": ["b", "a"], "app": "web"}) == "app=web,tier in (a,b)"
    assert label_selector_query({"t": ("x",), "u": {"z", "y"}}) == "t in (x),u in (y,z)"
    assert label_selector_query({"t": frozenset({"x"})}) == "t in (x)"
    assert label_selector_query({"version": 2, "empty": ""}) == "empty=,version=2"


def test_label_selector_query_dict_key_named_matchlabels() -> None:
    # A plain label dict may use the label key "matchLabels" with a string value.
    assert label_selector_query({"matchLabels": "x"}) == "matchLabels=x"


@pytest.mark.parametrize(
    ("selector", "fragment"),
    [
        ({"a b": "x"}, "'a b'"),
        ({"app": "web site"}, "'app'"),
        ({"app": "-x"}, "'app'"),
        ({"app": ["ok", "not ok"]}, "'app'"),
        ({"app": []}, "empty list"),
        ({"app": None}, "not a string"),
        ({"app": True}, "not a string"),
        ({"app": [1.5]}, "not a string"),
        ({"app": {"x": "y"}}, "'app'"),
        ({1: "x"}, "must be a string"),
        ({"a/b/c": "x"}, "'a/b/c'"),
        ({"x" * 64: "v"}, "63"),
    ],
)
def test_label_selector_query_dict_invalid(selector: Mapping[str, object], fragment: str) -> None:
    with pytest.raises(SelectorError, match="label selector key") as info:
        label_selector_query(selector)
    assert fragment in str(info.value)


def test_label_selector_query_not_a_mapping() -> None:
    with pytest.raises(SelectorError, match="expected a string or a mapping"):
        label_selector_query(["app=web"])  # type: ignore[arg-type]


def test_label_selector_query_selector_object() -> None:
    obj = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["b", "a"]},
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
            {"key": "canary", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist", "values": []},
        ],
    }
    expected = "app=web,canary,env notin (prod),!legacy,tier in (a,b)"
    assert label_selector_query(obj) == expected
    parsed = LabelSelector.parse(label_selector_query(obj))
    assert parsed == LabelSelector.from_label_selector(obj)
    assert parsed.matches({"app": "web", "tier": "a", "canary": ""})
    assert not parsed.matches({"app": "web", "tier": "a", "canary": "", "legacy": "1"})
    assert not parsed.matches({"app": "web", "tier": "a", "canary": "", "env": "prod"})


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, "operator"),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "values: Required value"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "Forbidden"),
        ({"matchExpressions": [{"key": "a b", "operator": "Exists"}]}, "matchExpressions[0].key"),
        ({"matchLabels": {"app": "we b"}}, "matchLabels"),
        ({"matchLabels": {}, "matchExpressions": [{"operator": "Exists"}]}, "key"),
    ],
)
def test_label_selector_query_selector_object_invalid(
    obj: Mapping[str, object], fragment: str
) -> None:
    with pytest.raises(SelectorError) as info:
        label_selector_query(obj)
    assert fragment in str(info.value)


# --- label selectors: properties ----------------------------------------------------------------

_name_chars = st.sampled_from("abcxyz019-_.")
_names = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from("abxz09"),
    st.text(_name_chars, max_size=4),
    st.sampled_from("abxz09"),
) | st.sampled_from("ab")
_keys = _names | st.builds(
    lambda p, n: f"{p}/{n}", st.sampled_from(["example.com", "k8s.io"]), _names
)
_small_keys = st.sampled_from(["a", "b", "example.com/a", "k8s.io/c"])
_values = st.sampled_from(["", "x", "y", "z", "1", "a.b-c_d"])
_label_sets = st.dictionaries(_small_keys, _values, max_size=4)


def _eval_dict(selector: Mapping[str, object], labels: Mapping[str, str]) -> bool:
    for key, want in selector.items():
        if key not in labels:
            return False
        if isinstance(want, str):
            if labels[key] != want:
                return False
        else:
            assert isinstance(want, list | tuple | set | frozenset)
            if labels[key] not in want:
                return False
    return True


_plain_dicts = st.dictionaries(
    _small_keys,
    _values | st.lists(_values, min_size=1, max_size=3) | st.frozensets(_values, min_size=1),
    max_size=4,
)


@given(_plain_dicts, st.lists(_label_sets, max_size=8))
def test_label_dict_round_trip_matches_direct_evaluation(
    selector: dict[str, object], label_sets: list[dict[str, str]]
) -> None:
    parsed = LabelSelector.parse(label_selector_query(selector))
    assert label_selector_query(str(parsed)) == str(parsed)
    for labels in [*label_sets, {k: v if isinstance(v, str) else "" for k, v in selector.items()}]:
        assert parsed.matches(labels) == _eval_dict(selector, labels)


@given(st.dictionaries(_keys, _values, max_size=5))
def test_label_dict_round_trip_requirements(labels: dict[str, str]) -> None:
    parsed = LabelSelector.parse(label_selector_query(labels))
    assert parsed == LabelSelector.from_labels(labels)
    assert parsed.matches(labels)


_expressions: st.SearchStrategy[dict[str, object]] = st.one_of(
    st.fixed_dictionaries(
        {
            "key": _small_keys,
            "operator": st.sampled_from(["In", "NotIn"]),
            "values": st.lists(_values, min_size=1, max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {"key": _small_keys, "operator": st.sampled_from(["Exists", "DoesNotExist"])},
        optional={"values": st.just([])},
    ),
)
_selector_objects = st.fixed_dictionaries(
    {},
    optional={
        "matchLabels": st.dictionaries(_small_keys, _values, max_size=3),
        "matchExpressions": st.lists(_expressions, max_size=4),
    },
)


def _eval_object(obj: Mapping[str, object], labels: Mapping[str, str]) -> bool:
    match_labels = obj.get("matchLabels", {})
    assert isinstance(match_labels, dict)
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    exprs = obj.get("matchExpressions", [])
    assert isinstance(exprs, list)
    for expr in exprs:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[op]
        if not ok:
            return False
    return True


@given(_selector_objects, st.lists(_label_sets, max_size=8))
def test_label_selector_object_round_trip_matches_direct_evaluation(
    obj: dict[str, object], label_sets: list[dict[str, str]]
) -> None:
    if not obj.get("matchLabels") and not obj.get("matchExpressions"):
        # ({} and {"matchLabels": {}} are a plain empty dict / "everything" either way)
        assert label_selector_query(obj) == ""
        return
    parsed = LabelSelector.parse(label_selector_query(obj))
    assert parsed == LabelSelector.from_label_selector(obj)
    for labels in label_sets:
        assert parsed.matches(labels) == _eval_object(obj, labels)


# --- field selectors ----------------------------------------------------------------------------


@pytest.mark.parametrize("selector", [None, "", {}])
def test_field_selector_query_empty(selector: str | Mapping[str, object] | None) -> None:
    assert field_selector_query(selector) == ""


def test_field_selector_query_dict() -> None:
    query = field_selector_query({"status.phase": "Running", "metadata.name": "x"})
    assert query == "metadata.name=x,status.phase=Running"


def test_field_selector_query_escapes() -> None:
    query = field_selector_query({"metadata.name": "a,b=c\\d"})
    assert query == "metadata.name=a\\,b\\=c\\\\d"
    assert FieldSelector.parse(query) == FieldSelector.from_mapping({"metadata.name": "a,b=c\\d"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status.phase==Running,metadata.name=x", "metadata.name=x,status.phase=Running"),
        ("spec.nodeName!=n1", "spec.nodeName!=n1"),
        ("metadata.name=a\\,b", "metadata.name=a\\,b"),
        ("=", ""),
    ],
)
def test_field_selector_query_text(text: str, expected: str) -> None:
    assert field_selector_query(text) == expected


@pytest.mark.parametrize("text", ["metadata.name", "metadata.name=a,b", "x=a\\q", "x=a\\"])
def test_field_selector_query_text_invalid(text: str) -> None:
    with pytest.raises(SelectorError):
        field_selector_query(text)


@pytest.mark.parametrize(
    ("selector", "fragment"),
    [
        ({"a=b": "x"}, "'a=b'"),
        ({"a,b": "x"}, "'a,b'"),
        ({"a!": "x"}, "'a!'"),
        ({"": ""}, "both empty"),
        ({"a": None}, "field 'a'"),
        ({"a": ["x"]}, "field 'a'"),
        ({1: "x"}, "must be a string"),
    ],
)
def test_field_selector_query_dict_invalid(selector: Mapping[str, object], fragment: str) -> None:
    with pytest.raises(SelectorError) as info:
        field_selector_query(selector)
    assert fragment in str(info.value)


def test_field_selector_query_not_a_mapping() -> None:
    with pytest.raises(SelectorError, match="expected a string or a mapping"):
        field_selector_query(3)  # type: ignore[arg-type]


_field_names = st.text(st.sampled_from("abcxyz.-_0123/"), min_size=1, max_size=12)
_field_values = st.text(st.sampled_from("ab ,=\\!()x1é-"), max_size=10)


@given(st.dictionaries(_field_names, _field_values, max_size=5))
def test_field_dict_round_trip(fields: dict[str, str]) -> None:
    query = field_selector_query(fields)
    parsed = FieldSelector.parse(query)
    assert {(r.field, r.operator, r.value) for r in parsed.requirements} == {
        (k, "=", v) for k, v in fields.items()
    }
    assert len(parsed.requirements) == len(fields)
    assert field_selector_query(query) == query


# --- label / annotation edits -------------------------------------------------------------------


def test_parse_label_edits_strings() -> None:
    assert parse_label_edits(["a=b", "c-", "example.com/d=", "e=1"]) == {
        "a": "b",
        "c": None,
        "example.com/d": "",
        "e": "1",
    }
    assert parse_label_edits(("a=b", "a=b")) == {"a": "b"}


def test_parse_label_edits_mapping() -> None:
    assert parse_label_edits({"a": "b", "c": None}) == {"a": "b", "c": None}


def test_parse_label_edits_annotations() -> None:
    edits = parse_label_edits(["Note=hello, world = yes", "Example.com/x-"], field="annotations")
    assert edits == {"Note": "hello, world = yes", "Example.com/x": None}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "no label edits"),
        ({}, "no label edits"),
        (["a"], "'a'"),
        (["a=b", "a-"], "conflicting"),
        (["a=b", "a=c"], "conflicting"),
        (["a b=c"], "label key 'a b'"),
        (["-"], "label key ''"),
        (["a=b c"], "label 'a': value 'b c'"),
        (["a=b-"], "label 'a': value 'b-'"),
        (["Example.com/a=b"], "label key 'Example.com/a'"),
        ({"a": 1}, "'a'"),
        ([3], "expected a string"),
    ],
)
def test_parse_label_edits_invalid(args: object, fragment: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_label_edits(args)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_parse_label_edits_rejects_a_bare_string() -> None:
    with pytest.raises(ValueError, match="got the string"):
        parse_label_edits("a=b")


def test_parse_label_edits_invalid_annotation_key() -> None:
    with pytest.raises(SelectorError, match="annotation key 'a b'"):
        parse_label_edits(["a b=x"], field="annotations")


def test_merge_patch_for() -> None:
    edits = parse_label_edits(["a=b", "c-"])
    assert merge_patch_for(edits, "labels") == {"metadata": {"labels": {"a": "b", "c": None}}}
    assert merge_patch_for({"x": "any value!"}, "annotations") == {
        "metadata": {"annotations": {"x": "any value!"}}
    }


def test_merge_patch_for_validates() -> None:
    with pytest.raises(SelectorError, match="label 'a': value 'b c'"):
        merge_patch_for({"a": "b c"}, "labels")
    with pytest.raises(SelectorError, match="expected 'labels' or 'annotations'"):
        merge_patch_for({"a": "b"}, "spec")  # type: ignore[arg-type]


_edit_keys = st.sampled_from(["a", "b", "c", "example.com/d", "k8s.io/e"])
_edits = st.dictionaries(_edit_keys, st.none() | _values, min_size=1)
_metadata = st.fixed_dictionaries(
    {"name": st.just("obj")},
    optional={
        "labels": st.dictionaries(_edit_keys, _values),
        "annotations": st.dictionaries(_edit_keys, st.text(max_size=5)),
    },
)


def _as_args(edits: Mapping[str, str | None]) -> list[str]:
    return [f"{k}-" if v is None else f"{k}={v}" for k, v in edits.items()]


@given(_metadata, _edits, st.sampled_from(["labels", "annotations"]), st.booleans())
def test_edits_merge_patch_applies(
    metadata: dict[str, object], edits: dict[str, str | None], field: str, as_strings: bool
) -> None:
    assert field in ("labels", "annotations")
    kind: MetadataField = "labels" if field == "labels" else "annotations"
    parsed = parse_label_edits(_as_args(edits) if as_strings else edits, field=kind)
    assert parsed == edits
    before = metadata.get(kind, {})
    assert isinstance(before, dict)
    expected = {k: v for k, v in {**before, **edits}.items() if v is not None}
    doc = {"kind": "Pod", "metadata": metadata}
    patched = apply_merge_patch(doc, merge_patch_for(parsed, kind))
    assert isinstance(patched, dict)
    new_metadata = patched["metadata"]
    assert isinstance(new_metadata, dict)
    assert new_metadata.get(kind, {}) == expected
    other = "annotations" if kind == "labels" else "labels"
    assert new_metadata.get(other) == metadata.get(other)
    assert new_metadata["name"] == "obj"
