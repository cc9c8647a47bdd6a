"""The JSONPath subset kubectl uses (printer columns, ``kubectl wait --for=jsonpath=...``).

Paths are evaluated like Go's ``k8s.io/client-go/util/jsonpath`` with missing keys allowed:
``.a.b``, ``['a.b']``, ``\\.`` escapes in field names, indices ``[0]`` / ``[-1]``, slices
``[1:3]`` / ``[::2]``, wildcards ``[*]`` / ``.*`` (on lists and on maps, map values in key
order), and filters ``[?(@.type=="Ready")]``, ``[?(@.n>=2)]``, ``[?(@.flag==true)]``,
``[?(@.key)]`` (the key exists); a ``{...}`` wrapper and a leading ``$`` are allowed. Recursive
descent (``..``), unions and ``range`` templates are not supported and raise `ValueError`.

`go_string` prints a value the way Go's jsonpath prints it. Pure functions, no I/O.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any, Final, TypeAlias, TypeVar

import attrs

__all__ = [
    "dig",
    "dig_dotted",
    "evaluate_jsonpath",
    "find_jsonpath",
    "go_string",
    "relaxed_jsonpath",
]

_MISSING: Final = object()
_T = TypeVar("_T", str, float)


def dig(obj: Mapping[str, object], *path: str) -> Any:  # type: ignore[explicit-any]
    """``obj[path[0]][path[1]]...``, or None as soon as a step is missing or not an object."""
    cur: object = obj
    for part in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def dig_dotted(obj: Mapping[str, object], path: str) -> Any:  # type: ignore[explicit-any]
    """`dig` with a dotted path (``spec.replicas`` or ``.spec.replicas``)."""
    return dig(obj, *path.strip(".").split("."))


_LITERAL = r"""'[^']*'|"[^"]*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false"""
_STEP = re.compile(
    r"""\.(?P<field>(?:\\.|[^.\[\\])+)"""
    r"""|\.(?=\[)"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\[(?P<slice>-?\d*:-?\d*(?::-?\d*)?)\]"""
    r"""|\[(?P<quote>['"])(?P<key>.*?)(?P=quote)\]"""
    r"""|\[(?P<star>\*)\]"""
    r"""|\[\?\(\s*@(?P<fpath>(?:\.[\w-]+|\[-?\d+\]|\['[^']*'\]|\["[^"]*"\])*)\s*"""
    rf"""(?:(?P<op>==|!=|<=|>=|<|>)\s*(?P<lit>{_LITERAL}))?\s*\)\]"""
)


@attrs.frozen
class _Field:
    name: str


@attrs.frozen
class _Wild:
    pass


@attrs.frozen
class _Index:
    index: int


@attrs.frozen
class _Slice:
    start: int | None
    stop: int | None
    step: int | None


_Literal: TypeAlias = str | int | float | bool | None


@attrs.frozen
class _Filter:
    inner: tuple[_Step, ...]
    op: str | None  # None: the key exists
    literal: _Literal


_Step: TypeAlias = _Field | _Wild | _Index | _Slice | _Filter


@functools.lru_cache(maxsize=256)
def _compile(path: str) -> tuple[_Step, ...]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if not text:
        raise ValueError(f"unsupported JSONPath {path!r}: the path is empty")
    text = text.removeprefix("$")
    if text in ("", "."):
        return ()  # the root object
    steps: list[_Step] = []
    pos = 0
    while pos < len(text):
        m = _STEP.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"unsupported JSONPath {path!r} at offset {pos}")
        pos = m.end()
        step = _compile_step(path, m)
        if step is not None:
            steps.append(step)
    return tuple(steps)


def _compile_step(path: str, m: re.Match[str]) -> _Step | None:
    if m.group("key") is not None:
        return _Field(m.group("key"))
    if m.group("field") is not None:
        name = m.group("field")
        return _Wild() if name == "*" else _Field(re.sub(r"\\(.)", r"\1", name))
    if m.group("index") is not None:
        return _Index(int(m.group("index")))
    if m.group("slice") is not None:
        parts = [int(p) if p else None for p in m.group("slice").split(":")]
        step = parts[2] if len(parts) == 3 else None
        if step is not None and step <= 0:
            raise ValueError(f"unsupported JSONPath {path!r}: a slice step must be > 0")
        return _Slice(parts[0], parts[1], step)
    if m.group("star"):
        return _Wild()
    if m.group("fpath") is not None:
        inner = _compile(m.group("fpath")) if m.group("fpath") else ()
        return _Filter(inner, m.group("op"), _literal(m.group("lit")))
    return None  # the "." before a bracket


def _literal(text: str | None) -> _Literal:
    if text is None:
        return None
    if text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


def find_jsonpath(obj: object, path: str) -> list[object]:
    """Every value ``path`` selects in ``obj``, in document order (``[]`` when none).

    A key present with a JSON null value counts as selected (the list holds None).

    Raises:
        ValueError: for a path outside the supported subset (see the module docstring).
    """
    return _run(obj, _compile(path))


def _run(obj: object, steps: tuple[_Step, ...]) -> list[object]:
    candidates: list[object] = [obj]
    for step in steps:
        candidates = [v for c in candidates for v in _step(c, step)]
        if not candidates:
            break
    return candidates


def evaluate_jsonpath(obj: object, path: str) -> Any:  # type: ignore[explicit-any]
    """The first value ``path`` selects in ``obj``, or None when it selects nothing.

    Raises:
        ValueError: for a path outside the supported subset (see the module docstring).
    """
    found = find_jsonpath(obj, path)
    return found[0] if found else None


def _step(value: object, step: _Step) -> list[object]:
    if isinstance(step, _Field):
        got = value.get(step.name, _MISSING) if isinstance(value, dict) else _MISSING
        return [] if got is _MISSING else [got]
    if isinstance(step, _Wild):
        if isinstance(value, dict):
            return [value[k] for k in sorted(value)]
        return list(value) if isinstance(value, list) else []
    if not isinstance(value, list):
        return []
    if isinstance(step, _Index):
        return [value[step.index]] if -len(value) <= step.index < len(value) else []
    if isinstance(step, _Slice):
        return value[step.start : step.stop : step.step]
    out: list[object] = []
    for item in value:
        found = _run(item, step.inner)
        if step.op is None:
            if found:
                out.append(item)
        elif found and _compare(found[0], step.op, step.literal):
            out.append(item)
    return out


def _compare(left: object, op: str, right: _Literal) -> bool:
    """Go's filter comparison; values of different types are never equal nor ordered."""
    if op in ("==", "!="):
        if isinstance(right, str):
            equal = left is not None and go_string(left) == right
        elif isinstance(right, bool) or isinstance(left, bool):
            equal = left is right
        else:
            equal = isinstance(left, int | float) and left == right
        return equal == (op == "==")
    if isinstance(left, str) and isinstance(right, str):
        return _ordered(left, op, right)
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if isinstance(left, int | float) and isinstance(right, int | float):
        return _ordered(float(left), op, float(right))
    return False


def _ordered(a: _T, op: str, b: _T) -> bool:
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")


def relaxed_jsonpath(expression: str) -> str:
    """kubectl's ``RelaxedJSONPathExpression``: ``a.b``, ``.a.b``, ``{a.b}`` -> ``{.a.b}``.

    Raises:
        ValueError: the expression is empty, has nested braces, or is not a supported path.
    """
    m = _RELAXED.match(expression.strip())
    if m is None:
        raise ValueError(
            f"unexpected JSONPath {expression!r}: expected 'name1.name2', '.name1.name2', "
            "'{name1.name2}' or '{.name1.name2}'"
        )
    spec = (m.group(1) or m.group(2)).strip()
    result = "{.}" if spec == "." else "{." + spec + "}"
    _compile(result)
    return result


def go_string(value: object) -> str:
    """How Go's jsonpath prints a value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, separators=(",", ":"))
