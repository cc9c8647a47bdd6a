"""Field paths: the path elements of managedFields, their order and how conflicts print them.

A path is a tuple of path elements, each kept in its serialized FieldsV1 form so that sets are
plain hashable tuples and encoding is a tree walk:

* ``f:<name>``: a field of a struct or a key of a map;
* ``k:{"name":"c"}``: an item of an associative (``map``) list, by its key fields (sorted, compact
  JSON, like Go's encoder);
* ``v:"x"``: an item of a ``set`` list, by its value;
* ``i:3``: an item by position, only for ``map`` list items that carry none of their keys.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from typing import Literal

from kr8s_trio._core._channel_status import go_html_escape
from kr8s_trio._core._exceptions import PatchError
from kr8s_trio._core._schema import FieldSpec

__all__ = [
    "Path",
    "SchemaPath",
    "canonical_element",
    "element_order",
    "field",
    "index",
    "item_element",
    "key",
    "render_path",
    "value",
]

#: One path: serialized path elements from the object's root.
Path = tuple[str, ...]
#: The same position for `Schema.at`: field names, and ints for list items.
SchemaPath = tuple[str | int, ...]

#: Defaults kube-apiserver fills into list-map keys before apply sees them.
_KEY_DEFAULTS: Mapping[str, object] = {"protocol": "TCP"}


def _go_json(val: object) -> str:
    """Compact JSON the way Go's encoding/json writes it (sorted keys, HTML-safe, UTF-8)."""
    text = json.dumps(
        _go_numbers(val), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return go_html_escape(text)


def _go_numbers(val: object) -> object:
    if isinstance(val, float) and math.isfinite(val) and val.is_integer() and abs(val) < 1e21:
        return int(val)
    if isinstance(val, dict):
        return {k: _go_numbers(v) for k, v in val.items()}
    if isinstance(val, list):
        return [_go_numbers(v) for v in val]
    return val


def field(name: str) -> str:
    """The path element of field ``name`` (``f:name``)."""
    return "f:" + name


def key(fields: Mapping[str, object]) -> str:
    """The path element of the ``map`` list item whose key fields are ``fields``."""
    return "k:" + _go_json(dict(fields))


def value(val: object) -> str:
    """The path element of the ``set`` list item ``val``."""
    return "v:" + _go_json(val)


def index(position: int) -> str:
    """The path element of the list item at ``position``."""
    return f"i:{position}"


def item_element(item: object, spec: FieldSpec | None, position: int) -> str:
    """The path element that addresses ``item`` (at ``position``) in a list with markers ``spec``.

    ``map`` list items are addressed by their key fields (a missing ``protocol`` defaults to
    ``"TCP"`` as kube-apiserver's defaulting would have made it), ``set`` items by value; an item
    without any key field, or an item of an atomic list, falls back to its position.
    """
    if spec is not None and spec.list_type == "set":
        return value(item)
    if spec is not None and spec.list_type == "map" and isinstance(item, dict):
        fields: dict[str, object] = {}
        for name in spec.map_keys:
            if item.get(name) is not None:
                fields[name] = item[name]
            elif name in _KEY_DEFAULTS:
                fields[name] = _KEY_DEFAULTS[name]
        if any(item.get(name) is not None for name in spec.map_keys):
            return key(fields)
    return index(position)


@functools.lru_cache(maxsize=4096)
def _parse(element: str) -> tuple[Literal["f", "k", "v", "i"], object]:
    """Split a serialized element into its type and payload; raises PatchError when malformed."""
    if len(element) < 2 or element[1] != ":":
        raise PatchError(f"invalid path element {element!r}: expected <type>:<content>")
    kind, body = element[0], element[2:]
    if kind == "f":
        return "f", body
    if kind == "i":
        try:
            return "i", int(body)
        except ValueError:
            raise PatchError(f"invalid path element {element!r}: index is not an integer") from None
    if kind in ("k", "v"):
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise PatchError(f"invalid path element {element!r}: {exc}") from None
        if kind == "k":
            if not isinstance(payload, dict):
                raise PatchError(f"invalid path element {element!r}: key must be a JSON object")
            return "k", payload
        return "v", payload
    raise PatchError(f"invalid path element {element!r}: unknown type {kind!r}")


def canonical_element(element: str) -> str:
    kind, payload = _parse(element)
    if kind == "k":
        assert isinstance(payload, dict)
        return key(payload)
    if kind == "v":
        return value(payload)
    if kind == "i":
        return index(int(str(payload)))
    return element


def _value_order(val: object) -> tuple[object, ...]:
    # structured-merge-diff's value.Compare: numbers < strings < bools < lists < maps < null
    if isinstance(val, bool):
        return (2, int(val))
    if isinstance(val, int | float):
        return (0, float(val))
    if isinstance(val, str):
        return (1, val)
    if isinstance(val, list):
        return (3, tuple(_value_order(v) for v in val))
    if isinstance(val, dict):
        return (4, tuple((k, _value_order(val[k])) for k in sorted(val)))
    return (5,)


@functools.lru_cache(maxsize=4096)
def element_order(element: str) -> tuple[object, ...]:
    """Sort key of a path element: fields < keys < values < indices, then by content."""
    kind, payload = _parse(element)
    if kind == "f":
        return (0, payload)
    if kind == "k":
        assert isinstance(payload, dict)
        return (1, tuple((k, _value_order(payload[k])) for k in sorted(payload)))
    if kind == "v":
        return (2, _value_order(payload))
    return (3, payload)


def _go_string(val: object) -> str:
    if isinstance(val, str):
        return json.dumps(val, ensure_ascii=False)
    if isinstance(val, bool):
        return "true" if val else "false"
    if val is None:
        return "null"
    if isinstance(val, list):
        return "[" + ",".join(_go_string(v) for v in val) + "]"
    if isinstance(val, dict):
        return "{" + ",".join(f"{k}={_go_string(v)}" for k, v in val.items()) + "}"
    return str(_go_numbers(val))


def render_path(path: Path) -> str:
    """A path as kube-apiserver prints it in conflicts: ``.spec.containers[name="c"].image``."""
    out: list[str] = []
    for element in path:
        kind, payload = _parse(element)
        if kind == "f":
            out.append(f".{payload}")
        elif kind == "k":
            assert isinstance(payload, dict)
            out.append(
                "[" + ",".join(f"{k}={_go_string(payload[k])}" for k in sorted(payload)) + "]"
            )
        elif kind == "v":
            out.append(f"[={_go_string(payload)}]")
        else:
            out.append(f"[{payload}]")
    return "".join(out)
