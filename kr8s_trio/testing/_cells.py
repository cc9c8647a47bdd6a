"""Table cells: the cell type and the accessors and formatters every row printer shares.

Printers read objects that may be partial or malformed (a Table is served for whatever is
stored), so every accessor here tolerates a missing or mistyped field and returns a neutral value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kr8s_trio._core._jsonpath import dig
from kr8s_trio.testing._clock import Clock

__all__ = [
    "Cell",
    "Conditions",
    "RowFn",
    "condition_true",
    "format_labels",
    "format_selector",
    "int_at",
    "list_at",
    "object_age",
    "object_name",
    "selector_string",
    "template_cells",
]

JSONObject = dict[str, Any]
Cell = str | int | float | bool | None
Conditions = list[JSONObject]
RowFn = Callable[[Mapping[str, Any], Clock], tuple[list[Cell], Conditions]]


def list_at(obj: Mapping[str, Any], *path: str) -> list[Any]:
    value = dig(obj, *path)
    return value if isinstance(value, list) else []


def int_at(obj: Mapping[str, Any], *path: str, default: int = 0) -> int:
    value = dig(obj, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def object_name(obj: Mapping[str, Any]) -> str:
    return str(dig(obj, "metadata", "name") or "")


def object_age(obj: Mapping[str, Any], clock: Clock) -> str:
    return clock.since(dig(obj, "metadata", "creationTimestamp"))


def format_labels(labels: object) -> str:
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def selector_string(selector: object) -> str:
    """A LabelSelector in label-selector syntax (empty for nil or match-everything)."""
    if not isinstance(selector, dict):
        return ""
    parts: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        parts.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(sorted(expr.get("values") or []))
        text = {
            "In": f"{key} in ({values})",
            "NotIn": f"{key} notin ({values})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(op, "<invalid>")
        parts.append((key, text))
    return ",".join(text for _, text in sorted(parts, key=lambda p: p[0]))


def format_selector(selector: object) -> str:
    return selector_string(selector) or "<none>"


def template_cells(template_spec: object) -> list[Cell]:
    containers = template_spec.get("containers") if isinstance(template_spec, dict) else None
    containers = containers if isinstance(containers, list) else []
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return [names, images]


def condition_true(status: object, kind: str) -> bool:
    conditions = status.get("conditions") if isinstance(status, dict) else None
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions or [])
