"""Manifest files parsed sans-IO: YAML streams, JSON, Lists, and errors that never leak values."""

from __future__ import annotations

import codecs
import json

import pytest
import yaml
from hypothesis import given, strategies as st

from kr8s_trio._core._exceptions import ConfigError, Kr8sError
from kr8s_trio._core._manifests import (
    MANIFEST_SUFFIXES,
    ManifestError,
    decode_manifest,
    parse_manifests,
)

SECRET_VALUE = "c3VwZXJzZWNyZXQtdG9rZW4tZG8tbm90LWxlYWs="  # a token-like value


def pod(name: str, **extra: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, **extra}


def parse(text: str) -> list[dict[str, object]]:
    return parse_manifests(text, source="test.yaml")


def error_of(text: str, source: str = "test.yaml") -> ManifestError:
    with pytest.raises(ManifestError) as info:
        parse_manifests(text, source=source)
    return info.value


def test_manifests_suffixes() -> None:
    assert MANIFEST_SUFFIXES == (".yaml", ".yml", ".json")


# --- YAML ------------------------------------------------------------------------------------


def test_manifests_single_yaml_document() -> None:
    assert parse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n") == [pod("a")]


def test_manifests_multi_document_in_order() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
        "---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n"
        "---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: c}\n"
    )
    assert [(o["kind"], o["metadata"]) for o in parse(text)] == [
        ("Pod", {"name": "a"}),
        ("Deployment", {"name": "b"}),
        ("Pod", {"name": "c"}),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "# just a comment\n",
        "---\n",
        "---\n---\n",
        "null\n",
        "---\n~\n---\n# nothing\n",
    ],
)
def test_manifests_empty_and_null_documents_are_skipped(text: str) -> None:
    assert parse(text) == []


def test_manifests_empty_documents_between_objects() -> None:
    text = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n---\n# c\n---\n" + (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n---\n"
    )
    assert parse(text) == [pod("a"), pod("b")]


def test_manifests_timestamps_stay_strings() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
        "  creationTimestamp: 2024-01-02T03:04:05Z\n"
        "data:\n  day: 2024-01-02\n  flag: true\n  n: 3\n"
    )
    (obj,) = parse(text)
    assert obj["metadata"] == {"name": "a", "creationTimestamp": "2024-01-02T03:04:05Z"}
    assert obj["data"] == {"day": "2024-01-02", "flag": True, "n": 3}
    json.dumps(obj)  # everything is JSON-serialisable


def test_manifests_anchors_and_aliases() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: &l {app: web}\n"
        "  annotations: *l\n"
    )
    (obj,) = parse(text)
    assert obj["metadata"] == {"name": "a", "labels": {"app": "web"}, "annotations": {"app": "web"}}


# --- JSON ------------------------------------------------------------------------------------


def test_manifests_single_json_object() -> None:
    assert parse(json.dumps(pod("a"))) == [pod("a")]


def test_manifests_json_with_tab_indentation() -> None:
    # YAML 1.1 rejects tabs there; JSON does not
    text = json.dumps(pod("a", spec={"containers": [{"name": "c"}]}), indent="\t")
    assert "\t" in text
    assert parse(text) == [pod("a", spec={"containers": [{"name": "c"}]})]


def test_manifests_json_stream_of_objects() -> None:
    text = json.dumps(pod("a")) + "\n" + json.dumps(pod("b"), indent=2) + json.dumps(pod("c"))
    assert parse(text) == [pod("a"), pod("b"), pod("c")]


def test_manifests_json_documents_separated_by_yaml_markers() -> None:
    text = json.dumps(pod("a")) + "\n---\n" + json.dumps(pod("b")) + "\n"
    assert parse(text) == [pod("a"), pod("b")]


def test_manifests_yaml_flow_mapping_that_is_not_json() -> None:
    assert parse("{apiVersion: v1, kind: Pod, metadata: {name: a}}") == [pod("a")]


def test_manifests_json_with_bom_and_leading_space() -> None:
    assert parse("\ufeff \n" + json.dumps(pod("a"))) == [pod("a")]


# --- Lists -----------------------------------------------------------------------------------


def test_manifests_list_is_expanded() -> None:
    doc = {"apiVersion": "v1", "kind": "List", "items": [pod("a"), pod("b")]}
    assert parse(json.dumps(doc)) == [pod("a"), pod("b")]
    assert parse(yaml.safe_dump(doc)) == [pod("a"), pod("b")]


def test_manifests_typed_list_is_expanded() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "PodList",
        "metadata": {"resourceVersion": "7"},
        "items": [pod("a")],
    }
    assert parse(json.dumps(doc)) == [pod("a")]


def test_manifests_nested_lists_are_flattened() -> None:
    inner = {"apiVersion": "v1", "kind": "List", "items": [pod("b"), pod("c")]}
    doc = {"apiVersion": "v1", "kind": "List", "items": [pod("a"), inner]}
    assert parse(json.dumps(doc)) == [pod("a"), pod("b"), pod("c")]


@pytest.mark.parametrize("items", ["[]", "null", "~"])
def test_manifests_empty_list(items: str) -> None:
    assert parse(f"apiVersion: v1\nkind: List\nitems: {items}\n") == []


def test_manifests_list_between_documents() -> None:
    text = (
        yaml.safe_dump(pod("a"))
        + "---\n"
        + yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [pod("b")]})
        + "---\n"
        + yaml.safe_dump(pod("c"))
    )
    assert parse(text) == [pod("a"), pod("b"), pod("c")]


def test_manifests_list_kind_without_items_is_an_object() -> None:
    doc = {"apiVersion": "example.com/v1", "kind": "AllowList", "spec": {"cidrs": []}}
    assert parse(json.dumps(doc)) == [doc]


# --- errors ----------------------------------------------------------------------------------


def secret(**extra: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "data": {"token": SECRET_VALUE},
        **extra,
    }


def test_manifests_error_type() -> None:
    exc = error_of("kind: Pod\n")
    assert isinstance(exc, ConfigError)
    assert isinstance(exc, Kr8sError)
    assert isinstance(exc, ValueError)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"kind": "Secret", "data": {"token": SECRET_VALUE}}, "'apiVersion' is missing"),
        ({"apiVersion": "v1", "data": {"token": SECRET_VALUE}}, "'kind' is missing"),
        ({"apiVersion": "v1", "kind": "", "token": SECRET_VALUE}, "'kind' is empty"),
        (
            {"apiVersion": ["v1", SECRET_VALUE], "kind": "Secret"},
            "'apiVersion' is a sequence, not a string",
        ),
        ({"apiVersion": "v1", "kind": 3, "t": SECRET_VALUE}, "'kind' is a number, not a string"),
        (
            {"apiVersion": "v1", "kind": {"t": SECRET_VALUE}},
            "'kind' is a mapping, not a string",
        ),
        ([SECRET_VALUE], "expected a Kubernetes object (a mapping), got a sequence"),
        (SECRET_VALUE, "expected a Kubernetes object (a mapping), got a string"),
        (
            {"apiVersion": "v1", "kind": "List", "items": {"t": SECRET_VALUE}},
            "'items' of a List is a mapping, not a sequence",
        ),
    ],
)
@pytest.mark.parametrize("dump", ["yaml", "json"])
def test_manifests_invalid_document_names_file_and_number(
    document: object, reason: str, dump: str
) -> None:
    docs = [secret(), None, document]
    lines = [json.dumps(d) for d in docs]
    text = yaml.safe_dump_all(docs) if dump == "yaml" else "\n".join(lines)
    exc = error_of(text, source="manifests/creds.yaml")
    assert str(exc) == f"manifests/creds.yaml, document 3: {reason}"
    assert SECRET_VALUE not in str(exc)
    assert SECRET_VALUE not in repr(exc)
    assert (exc.source, exc.document, exc.item, exc.line, exc.reason) == (
        "manifests/creds.yaml",
        3,
        None,
        None,
        reason,
    )
    assert exc.__cause__ is None
    assert exc.__context__ is None or SECRET_VALUE not in str(exc.__context__)


def test_manifests_invalid_list_item_names_the_item() -> None:
    items = [secret(), {"kind": "Secret", "data": {"token": SECRET_VALUE}}]
    doc = {"apiVersion": "v1", "kind": "SecretList", "items": items}
    exc = error_of(yaml.safe_dump(pod("a")) + "---\n" + yaml.safe_dump(doc), source="s.yaml")
    assert str(exc) == "s.yaml, document 2, item 2: 'apiVersion' is missing"
    assert exc.item == 2
    assert SECRET_VALUE not in str(exc)


def test_manifests_yaml_syntax_error_line_and_column() -> None:
    text = (
        yaml.safe_dump(secret())  # 6 lines
        + "---\n"  # line 7
        + "apiVersion: v1\n"  # 8
        + "kind: Secret\n"  # 9
        + "data:\n"  # 10
        + f"  token: [{SECRET_VALUE}\n"  # 11: unclosed flow sequence
        + "  other: x\n"  # 12
    )
    exc = error_of(text, source="bad.yaml")
    assert exc.document == 2
    assert exc.line == 12
    assert exc.column is not None
    assert str(exc).startswith("bad.yaml, document 2, line 12, column ")
    assert "invalid YAML" in str(exc)
    assert SECRET_VALUE not in str(exc)
    assert exc.__cause__ is None
    assert exc.__context__ is None


def test_manifests_yaml_mapping_error_position() -> None:
    text = "apiVersion: v1\nkind: Secret\ndata:\n  token: a: b\n"
    exc = error_of(text)
    assert (exc.document, exc.line, exc.column) == (1, 4, 11)
    # (libyaml says "...not allowed in this context", PyYAML "...not allowed here")
    assert str(exc).startswith(
        "test.yaml, document 1, line 4, column 11: invalid YAML: mapping values are not allowed"
    )


def test_manifests_yaml_error_in_first_document_after_separator() -> None:
    exc = error_of("---\nkey: [\n")
    assert exc.document == 1
    assert exc.line is not None


def test_manifests_yaml_unknown_tag_is_an_error() -> None:
    exc = error_of("apiVersion: v1\nkind: Pod\nx: !!python/object:os.system {}\n")
    assert exc.document == 1
    assert exc.line == 3
    assert "could not determine a constructor" in str(exc)


def test_manifests_control_character_is_an_error() -> None:
    exc = error_of(f"apiVersion: v1\nkind: Secret\ndata: {SECRET_VALUE}\x01\n")
    assert exc.document == 1
    assert exc.line == 3
    assert "#x0001" in str(exc)
    assert SECRET_VALUE not in str(exc)


def test_manifests_json_syntax_error_line_and_column() -> None:
    text = json.dumps(pod("a")) + "\n" + '{\n\t"apiVersion": "v1",\n\t"kind" "Secret"\n}\n'
    exc = error_of(text, source="x.json")
    assert (exc.document, exc.line, exc.column) == (2, 4, 9)
    assert str(exc) == "x.json, document 2, line 4, column 9: invalid JSON: Expecting ':' delimiter"


def test_manifests_json_unterminated_string_does_not_leak() -> None:
    text = '{"apiVersion": "v1", "kind": "Secret", "data": {"token": "' + SECRET_VALUE
    exc = error_of(text, source="x.json")
    assert exc.document == 1
    assert exc.line == 1
    assert SECRET_VALUE not in str(exc)


# --- decoding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"kind: Pod\n",
        codecs.BOM_UTF8 + b"kind: Pod\n",
        "kind: Pod\n".encode("utf-16"),
        codecs.BOM_UTF16_BE + "kind: Pod\n".encode("utf-16-be"),
    ],
)
def test_manifests_decode(data: bytes) -> None:
    assert decode_manifest(data, source="x") == "kind: Pod\n"


def test_manifests_decode_error_names_file_and_line() -> None:
    with pytest.raises(ManifestError) as info:
        decode_manifest(b"a: 1\nb: \xff" + SECRET_VALUE.encode(), source="bin.yaml")
    exc = info.value
    assert str(exc) == "bin.yaml, line 2: not valid utf-8-sig text"
    assert exc.__context__ is None


# --- round trips -----------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
kinds = st.text(min_size=1, max_size=12).filter(lambda k: not k.endswith("List"))
manifests = st.builds(
    lambda api_version, kind, rest: {**rest, "apiVersion": api_version, "kind": kind},
    st.text(min_size=1, max_size=12),
    kinds,
    st.dictionaries(st.text(max_size=10), values, max_size=4),
)


@given(st.lists(manifests, max_size=5))
def test_manifests_yaml_round_trip(objects: list[dict[str, object]]) -> None:
    assert parse(yaml.safe_dump_all(objects)) == objects


@given(st.lists(manifests, max_size=5))
def test_manifests_json_round_trip(objects: list[dict[str, object]]) -> None:
    as_list = {"apiVersion": "v1", "kind": "List", "items": objects}
    assert parse(json.dumps(as_list)) == objects
    assert parse(json.dumps(as_list, indent=2)) == objects
    assert parse("\n".join(json.dumps(o) for o in objects)) == objects


@given(manifests)
def test_manifests_single_json_round_trip(obj: dict[str, object]) -> None:
    assert parse(json.dumps(obj)) == [obj]


# --- loader ----------------------------------------------------------------------------------


def test_manifests_loader_leaves_yaml_safe_load_alone() -> None:
    parse("apiVersion: v1\nkind: Pod\nx: 2024-01-02\n")
    assert not isinstance(yaml.safe_load("x: 2024-01-02")["x"], str)


class _PurePythonLoader(yaml.SafeLoader):
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith(":timestamp")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


@pytest.mark.parametrize(
    ("text", "position"),
    [
        (f"apiVersion: v1\nkind: Secret\ndata:\n  token: {SECRET_VALUE}: b\n", (4, 50)),
        (f"apiVersion: v1\nkind: Secret\ndata: [{SECRET_VALUE}\nb: 1\n", (4, 2)),
    ],
)
def test_manifests_pure_python_loader_errors_do_not_quote(
    monkeypatch: pytest.MonkeyPatch, text: str, position: tuple[int, int]
) -> None:
    # PyYAML's own messages carry a snippet of the line; ours must not
    from kr8s_trio._core import _manifests

    monkeypatch.setattr(_manifests, "_ManifestLoader", _PurePythonLoader)
    assert parse("apiVersion: v1\nkind: Pod\nx: 2024-01-02\n")[0]["x"] == "2024-01-02"
    exc = error_of(text)
    assert (exc.document, exc.line, exc.column) == (1, *position)
    assert SECRET_VALUE not in str(exc)
