"""kubectl's JSONPath subset (`_core._jsonpath`): what `find_jsonpath` selects, relaxed paths.

Printer-column behaviour (`evaluate_jsonpath`, first match) is covered in
tests/testing/test_tables.py; this file covers the rest.
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._jsonpath import (
    dig_dotted,
    evaluate_jsonpath,
    find_jsonpath,
    go_string,
    relaxed_jsonpath,
)

OBJ: dict[str, object] = {
    "metadata": {"name": "web", "labels": {"b": "2", "a": "1"}},
    "spec": {"items": [{"n": 1}, {"n": 2}, {"n": 3, "x": None}, {"m": 0}]},
    "status": {
        "conditions": [
            {"type": "Synced", "status": "False", "observedGeneration": 1},
            {"type": "Ready", "status": "True", "observedGeneration": 2},
        ],
        "flags": [True, False],
    },
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".spec.items[*].n", [1, 2, 3]),
        ("{.spec.items[0:2].n}", [1, 2]),
        (".spec.items[::2].n", [1, 3]),
        (".spec.items[-2:].n", [3]),
        (".metadata.labels.*", ["1", "2"]),
        (".metadata.labels[*]", ["1", "2"]),
        ("$.metadata.name", ["web"]),
        ("{.}", [OBJ]),
        (".spec.items[?(@.n>=2)].n", [2, 3]),
        (".spec.items[?(@.n<2)].n", [1]),
        (".spec.items[?(@.n==2.0)].n", [2]),
        (".spec.items[?(@.n!=2)].n", [1, 3]),
        (".spec.items[?(@.x)].n", [3]),
        (".status.flags[?(@==true)]", [True]),
        (".status.conditions[?(@.observedGeneration>1)].type", ["Ready"]),
        ('.status.conditions[?(@.type=="Ready")].status', ["True"]),
        (".status.conditions[?(@.type>'S')].type", ["Synced"]),
        (".spec.items[2].x", [None]),
        (".spec.items[9].n", []),
        (".spec.nothing[*]", []),
    ],
)
def test_find_jsonpath_selects(path: str, expected: list[object]) -> None:
    assert find_jsonpath(OBJ, path) == expected


def test_find_jsonpath_filter_skips_items_missing_the_key() -> None:
    # Go's jsonpath skips items where the compared key is missing, even for !=.
    assert find_jsonpath(OBJ, ".spec.items[?(@.n!=1)].n") == [2, 3]
    assert len(find_jsonpath(OBJ, ".spec.items[?(@.n!=1)]")) == 2


def test_find_jsonpath_filter_type_mismatch_never_orders() -> None:
    assert find_jsonpath(OBJ, ".status.conditions[?(@.type>1)]") == []
    assert find_jsonpath(OBJ, ".status.flags[?(@>0)]") == []
    assert find_jsonpath(OBJ, ".spec.items[?(@.n==true)]") == []


@pytest.mark.parametrize("path", ["", "{}", ".spec..items", ".spec.items[::0]", ".a[?(@.b=x)]"])
def test_find_jsonpath_rejects_unsupported(path: str) -> None:
    with pytest.raises(ValueError, match="unsupported JSONPath"):
        find_jsonpath(OBJ, path)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("status.phase", "{.status.phase}"),
        (".status.phase", "{.status.phase}"),
        ("{status.phase}", "{.status.phase}"),
        ("{.status.phase}", "{.status.phase}"),
        (" {.a[0]} ", "{.a[0]}"),
        ("{.}", "{.}"),
    ],
)
def test_relaxed_jsonpath_normalises(expression: str, expected: str) -> None:
    assert relaxed_jsonpath(expression) == expected


@pytest.mark.parametrize("expression", ["", "{.a}{.b}", "{{.a}}", ".a..b"])
def test_relaxed_jsonpath_rejects(expression: str) -> None:
    with pytest.raises(ValueError, match="JSONPath"):
        relaxed_jsonpath(expression)


@pytest.mark.parametrize(
    ("value", "text"),
    [("x", "x"), (True, "true"), (3, "3"), (3.0, "3"), (2.5, "2.5"), ({"a": 1}, '{"a":1}')],
)
def test_go_string_prints_like_go(value: object, text: str) -> None:
    assert go_string(value) == text


_keys = st.text(alphabet="abcdefgh", min_size=1, max_size=5)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))


@given(st.lists(_keys, min_size=1, max_size=4), _scalars)
def test_find_jsonpath_dotted_path_matches_dig(keys: list[str], leaf: object) -> None:
    obj: object = leaf
    for key in reversed(keys):
        obj = {key: obj}
    assert isinstance(obj, dict)
    path = "." + ".".join(keys)
    assert find_jsonpath(obj, path) == [leaf]
    assert evaluate_jsonpath(obj, "{" + path + "}") == leaf
    assert dig_dotted(obj, path) == leaf
    assert find_jsonpath(obj, path + ".deeper") == []


@given(st.lists(st.integers(-5, 5), max_size=8), st.integers(-10, 10), st.integers(-10, 10))
def test_find_jsonpath_slices_like_python(items: list[int], start: int, stop: int) -> None:
    obj = {"a": items}
    assert find_jsonpath(obj, f".a[{start}:{stop}]") == items[start:stop]
    assert find_jsonpath(obj, f".a[?(@>={start})]") == [i for i in items if i >= start]
