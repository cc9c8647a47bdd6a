"""The small JSONPath subset of CRD ``additionalPrinterColumns``, evaluated like Go's jsonpath.

Printer columns name a value by a JSONPath (``.status.conditions[?(@.type=="Ready")].status``);
this module finds the first value such a path selects, and prints values the way Go's jsonpath
package does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["dig", "dig_dotted", "evaluate_jsonpath", "go_string"]

_MISSING: Final = object()


def dig(obj: Mapping[str, Any], *path: str) -> Any:
    """``obj[path[0]][path[1]]...``, or None as soon as a step is missing or not an object."""
    cur: Any = obj
    for part in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def dig_dotted(obj: Mapping[str, Any], path: str) -> Any:
    """`dig` with a dotted path (``spec.replicas`` or ``.spec.replicas``)."""
    return dig(obj, *path.strip(".").split("."))


_STEP = re.compile(
    r"""\.(?P<field>(?:\\.|[^.\[\\])+)"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\[(?P<quote>['"])(?P<key>.*?)(?P=quote)\]"""
    r"""|\[(?P<star>\*)\]"""
    r"""|\[\?\(@(?P<fpath>(?:\.[\w-]+)+)\s*(?P<op>==|!=)\s*(?P<fq>['"])(?P<fval>.*?)(?P=fq)\)\]"""
)


def evaluate_jsonpath(obj: Any, path: str) -> Any:
    """The first value ``path`` selects in ``obj``, or None when it selects nothing.

    Supports what printer columns use: ``.a.b``, ``.a[0].b``, ``['a.b']``, ``\\.`` escapes in
    field names, ``[*]`` and filters like ``[?(@.type=="Ready")]``; a ``{...}`` wrapper is allowed.

    Raises:
        ValueError: for a path outside that subset.
    """
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    candidates: list[Any] = [obj]
    pos = 0
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise ValueError(f"unsupported JSONPath {path!r} at offset {pos}")
        pos = m.end()
        candidates = [v for c in candidates for v in _step(c, m) if v is not _MISSING]
    return candidates[0] if candidates else None


def _step(value: Any, m: re.Match[str]) -> list[Any]:
    if m.group("field") is not None or m.group("key") is not None:
        name = m.group("key") if m.group("key") is not None else m.group("field")
        name = name if m.group("key") is not None else re.sub(r"\\(.)", r"\1", name)
        return [value.get(name, _MISSING)] if isinstance(value, dict) else []
    if not isinstance(value, list):
        return []
    if m.group("index") is not None:
        i = int(m.group("index"))
        return [value[i]] if -len(value) <= i < len(value) else []
    if m.group("star"):
        return list(value)
    want, equal = m.group("fval"), m.group("op") == "=="
    out = []
    for item in value:
        got = evaluate_jsonpath(item, m.group("fpath"))
        if (got is not None and go_string(got) == want) == equal:
            out.append(item)
    return out


def go_string(value: Any) -> str:
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
