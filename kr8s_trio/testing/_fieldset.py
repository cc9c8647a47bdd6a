"""Field sets: which fields of an object a manager owns, and their FieldsV1 wire form.

kube-apiserver records, per field manager, the set of fields that manager owns in
``metadata.managedFields[].fieldsV1``. Server-side apply decides conflicts and removals with those
sets, so the fake needs the same data structure (structured-merge-diff's ``fieldpath.Set``) and the
exact JSON encoding clients see. This module holds both, plus the two ways a set is derived from
objects: the fields an applied configuration sets (`fieldset_from_object`) and what changed between
two versions of an object (`diff_objects`).

A path is a tuple of path elements, each kept in its serialized FieldsV1 form so that sets are
plain hashable tuples and encoding is a tree walk:

* ``f:<name>``: a field of a struct or a key of a map;
* ``k:{"name":"c"}``: an item of an associative (``map``) list, by its key fields (sorted, compact
  JSON, like Go's encoder);
* ``v:"x"``: an item of a ``set`` list, by its value;
* ``i:3``: an item by position, only for ``map`` list items that carry none of their keys.

Without OpenAPI types the fake cannot tell a Go struct from a map: every JSON object is treated as
granular (owned key by key) unless `Schema` marks it atomic, and lists are atomic unless `Schema`
gives them a list type. Empty objects and lists are owned as a whole, like structured-merge-diff
treats them when comparing.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Literal

import attrs

from kr8s_trio._core._exceptions import PatchError
from kr8s_trio._core._schema import FieldSpec, Schema

__all__ = [
    "FieldDiff",
    "FieldSet",
    "Path",
    "SchemaPath",
    "diff_objects",
    "field",
    "fieldset_from_object",
    "from_fields_v1",
    "index",
    "item_element",
    "json_equal",
    "key",
    "render_path",
    "to_fields_v1",
    "value",
]

#: One path: serialized path elements from the object's root.
Path = tuple[str, ...]
#: The same position for `Schema.at`: field names, and ints for list items.
SchemaPath = tuple[str | int, ...]

#: Paths kube-apiserver never records in managedFields (apimachinery ``stripmeta.go``), plus the
#: deletion fields, which only DELETE sets (and DELETE bypasses field management).
_STRIPPED: frozenset[Path] = frozenset(
    {
        ("f:apiVersion",),
        ("f:kind",),
        ("f:metadata",),
        *(
            ("f:metadata", f"f:{name}")
            for name in (
                "name",
                "namespace",
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "managedFields",
                "selfLink",
                "clusterName",
            )
        ),
    }
)
_MANAGED_FIELDS: Path = ("f:metadata", "f:managedFields")

#: Defaults kube-apiserver fills into list-map keys before apply sees them.
_KEY_DEFAULTS: Mapping[str, object] = {"protocol": "TCP"}


# -- path elements ----------------------------------------------------------------------------


def _go_json(val: object) -> str:
    """Compact JSON the way Go's encoding/json writes it (sorted keys, HTML-safe, UTF-8)."""
    text = json.dumps(
        _go_numbers(val), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


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


def _canonical(element: str) -> str:
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
def _order(element: str) -> tuple[object, ...]:
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


# -- sets -------------------------------------------------------------------------------------


class FieldSet:
    """An immutable set of paths, with the operations field management needs.

    Supports ``|``, ``&``, ``-``, ``<=``, ``>=``, ``in``, ``len``, equality and iteration
    (unordered; `ordered` and `leaves` give kube-apiserver's order).
    """

    __slots__ = ("_paths",)

    def __init__(self, paths: Iterable[Path] = ()) -> None:
        frozen = frozenset(paths)
        if () in frozen:
            raise PatchError("a field set cannot contain the empty path (the object itself)")
        self._paths = frozen

    @property
    def paths(self) -> frozenset[Path]:
        """The member paths."""
        return self._paths

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def __iter__(self) -> Iterator[Path]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __bool__(self) -> bool:
        return bool(self._paths)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSet) and self._paths == other._paths

    def __hash__(self) -> int:
        return hash(self._paths)

    def __repr__(self) -> str:
        return f"FieldSet({sorted(self._paths)!r})"

    def __or__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self._paths | other._paths)

    def __and__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self._paths & other._paths)

    def __sub__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self._paths - other._paths)

    def __le__(self, other: FieldSet) -> bool:
        return self._paths <= other._paths

    def __ge__(self, other: FieldSet) -> bool:
        return self._paths >= other._paths

    def has_descendant(self, path: Path) -> bool:
        """Some member lies strictly below ``path``."""
        n = len(path)
        return any(len(p) > n and p[:n] == path for p in self._paths)

    def has_ancestor(self, path: Path) -> bool:
        """Some member is a strict prefix of ``path`` (an atomic value containing it)."""
        return any(path[:i] in self._paths for i in range(1, len(path)))

    def with_prefix(self, prefix: Path) -> FieldSet:
        """Members under ``prefix``, with the prefix removed."""
        n = len(prefix)
        return FieldSet(p[n:] for p in self._paths if len(p) > n and p[:n] == prefix)

    def ordered(self) -> list[Path]:
        """Every member in structured-merge-diff's iteration order.

        At each level the members come first (sorted), then the subtrees (sorted), depth first.
        """
        out: list[Path] = []
        _walk_ordered(_trie(self._paths), (), out)
        return out

    def leaves(self) -> list[Path]:
        """Members with no member below them, in `ordered` order."""
        return [p for p in self.ordered() if not self.has_descendant(p)]


@attrs.define
class _Node:
    children: dict[str, _Node] = attrs.field(factory=dict)
    member: bool = False


def _trie(paths: Iterable[Path]) -> _Node:
    root = _Node()
    for path in paths:
        node = root
        for element in path:
            node = node.children.setdefault(element, _Node())
        node.member = True
    return root


def _walk_ordered(node: _Node, prefix: Path, out: list[Path]) -> None:
    names = sorted(node.children, key=_order)
    out.extend((*prefix, e) for e in names if node.children[e].member)
    for e in names:
        if node.children[e].children:
            _walk_ordered(node.children[e], (*prefix, e), out)


# -- FieldsV1 ---------------------------------------------------------------------------------


def to_fields_v1(fs: FieldSet) -> dict[str, object]:
    """Encode a set as FieldsV1 JSON (a dict), byte-compatible in key order with kube-apiserver.

    A member with nothing below it is ``{}``; a member that also has members below it carries a
    ``"."`` entry (written last, as structured-merge-diff writes it).
    """
    return _emit(_trie(fs.paths), include_self=False)


def _emit(node: _Node, *, include_self: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    for element in sorted(node.children, key=_order):
        child = node.children[element]
        out[element] = _emit(child, include_self=True) if child.children else {}
    if include_self and node.member and node.children:
        out["."] = {}
    return out


def from_fields_v1(fields: object) -> FieldSet:
    """Decode FieldsV1 JSON (as a dict) into a set.

    ``k:`` and ``v:`` elements are normalised (sorted keys, compact JSON); element types this
    version does not know are skipped, as kube-apiserver does.

    Raises:
        PatchError: ``fields`` is not FieldsV1 (the message names the offending path).
    """
    out: set[Path] = set()
    _read(fields, (), out)
    return FieldSet(out)


def _read(node: object, prefix: Path, out: set[Path]) -> bool:
    """Collect the members below ``prefix``; returns whether ``prefix`` itself is a member."""
    where = render_path(prefix) or "."
    if not isinstance(node, dict):
        raise PatchError(f"invalid FieldsV1 at {where}: expected an object, got {node!r}")
    is_member = not node
    for name, child in node.items():
        if name == ".":
            is_member = True
            continue
        if not isinstance(name, str) or len(name) < 2 or name[1] != ":":
            raise PatchError(f"invalid FieldsV1 at {where}: bad path element {name!r}")
        if name[0] not in "fkvi":
            continue
        path = (*prefix, _canonical(name))
        if _read(child, path, out):
            out.add(path)
    return is_member


# -- deriving sets from objects ---------------------------------------------------------------


def _strip(paths: set[Path]) -> set[Path]:
    n = len(_MANAGED_FIELDS)
    return {p for p in paths if p not in _STRIPPED and p[:n] != _MANAGED_FIELDS}


def fieldset_from_object(
    obj: Mapping[str, object], schema: Schema, *, exclude_server_fields: bool = True
) -> FieldSet:
    """The fields ``obj`` sets, as server-side apply counts them for the applier.

    Every leaf value, every ``map`` list item (its own path, so its ``"."`` is owned) and every
    ``set`` list value; an atomic list or struct, or an empty object or list, is one leaf. ``null``
    values count as absent.

    Args:
        obj: the object or applied configuration.
        schema: list types and atomic structs of the kind.
        exclude_server_fields: leave out ``apiVersion``, ``kind`` and the server-managed metadata
            (name, namespace, uid, resourceVersion, ...) like kube-apiserver does.
    """
    out: set[Path] = set()
    for name, child in obj.items():
        if child is not None:
            _collect(child, (field(name),), (name,), schema, out)
    return FieldSet(_strip(out) if exclude_server_fields else out)


def _collect(val: object, path: Path, spath: SchemaPath, schema: Schema, out: set[Path]) -> None:
    spec = schema.at(spath)
    if isinstance(val, dict) and _has_values(val) and not (spec is not None and spec.atomic):
        for name, child in val.items():
            if child is not None:
                _collect(child, (*path, field(name)), (*spath, name), schema, out)
        return
    if isinstance(val, list) and val and spec is not None and spec.list_type in ("set", "map"):
        for i, item in enumerate(val):
            item_path = (*path, item_element(item, spec, i))
            out.add(item_path)
            if spec.list_type == "map" and isinstance(item, dict):
                for name, child in item.items():
                    if child is not None:
                        _collect(child, (*item_path, field(name)), (*spath, i, name), schema, out)
        return
    out.add(path)


def _has_values(obj: Mapping[str, object]) -> bool:
    return any(v is not None for v in obj.values())


@attrs.frozen
class FieldDiff:
    """What changed between two versions of an object (structured-merge-diff's Comparison).

    Attributes:
        added: paths present only in the new version: leaves, and the path of every non-empty
            object, list or list item that is new (the ``"."`` an Update manager gets).
        modified: leaves present in both versions whose values differ.
        removed: paths present only in the old version (leaves and containers).
        new_containers: the members of ``added`` that hold other members (non-empty objects,
            granular lists, ``map`` list items) rather than being leaves.
    """

    added: FieldSet
    modified: FieldSet
    removed: FieldSet
    new_containers: FieldSet

    @property
    def changed(self) -> FieldSet:
        """``added | modified``: the paths whose value the new version sets differently."""
        return self.added | self.modified


def diff_objects(
    old: Mapping[str, object],
    new: Mapping[str, object],
    schema: Schema,
    *,
    exclude_server_fields: bool = True,
) -> FieldDiff:
    """Compare two versions of an object field by field.

    Args:
        old: the previous version (``{}`` for a create).
        new: the new version.
        schema: list types and atomic structs of the kind.
        exclude_server_fields: leave out the paths kube-apiserver never records in managedFields.
    """
    acc = _DiffAcc()
    acc.maps(old, new, (), (), schema)
    if exclude_server_fields:
        return FieldDiff(
            FieldSet(_strip(acc.added)),
            FieldSet(_strip(acc.modified)),
            FieldSet(_strip(acc.removed)),
            FieldSet(_strip(acc.containers)),
        )
    return FieldDiff(
        FieldSet(acc.added), FieldSet(acc.modified), FieldSet(acc.removed), FieldSet(acc.containers)
    )


def json_equal(a: object, b: object) -> bool:
    """Equality of decoded JSON values (``true`` is not ``1``; ``1`` is ``1.0``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return a == b


@attrs.define
class _DiffAcc:
    added: set[Path] = attrs.field(factory=set)
    modified: set[Path] = attrs.field(factory=set)
    removed: set[Path] = attrs.field(factory=set)
    containers: set[Path] = attrs.field(factory=set)

    def maps(
        self,
        old: Mapping[str, object],
        new: Mapping[str, object],
        path: Path,
        spath: SchemaPath,
        schema: Schema,
    ) -> None:
        for name in (*old, *(k for k in new if k not in old)):
            self.values(old.get(name), new.get(name), (*path, field(name)), (*spath, name), schema)

    def values(self, a: object, b: object, path: Path, spath: SchemaPath, schema: Schema) -> None:
        if a is None and b is None:
            return
        if a is None:
            self.add(b, path, spath, schema, include_self=True)
            return
        if b is None:
            self.removed |= _subtree(a, path, spath, schema)[0]
            return
        spec = schema.at(spath)
        atomic = spec is not None and spec.atomic
        if isinstance(a, dict) and isinstance(b, dict) and (a or b) and not atomic:
            self.maps(a, b, path, spath, schema)
            return
        granular = spec is not None and spec.list_type in ("set", "map")
        if isinstance(a, list) and isinstance(b, list) and (a or b) and granular:
            assert spec is not None
            self.lists(a, b, spec, path, spath, schema)
            return
        if json_equal(a, b):
            return
        # a leaf changed; if its shape changed too, what lay below the old value is gone
        self.modified.add(path)
        self.removed |= _subtree(a, path, spath, schema)[0] - {path}
        self.add(b, path, spath, schema, include_self=False)

    def lists(
        self,
        a: list[object],
        b: list[object],
        spec: FieldSpec,
        path: Path,
        spath: SchemaPath,
        schema: Schema,
    ) -> None:
        old_items = _index_items(a, spec)
        new_items = _index_items(b, spec)
        for element, (i, old_item) in old_items.items():
            if element not in new_items:
                self.removed |= _subtree(old_item, (*path, element), (*spath, i), schema)[0]
        for element, (i, new_item) in new_items.items():
            item_path, item_spath = (*path, element), (*spath, i)
            if element not in old_items:
                self.add(new_item, item_path, item_spath, schema, include_self=True)
                continue
            old_item = old_items[element][1]
            if (
                spec.list_type == "map"
                and isinstance(old_item, dict)
                and isinstance(new_item, dict)
            ):
                self.maps(old_item, new_item, item_path, item_spath, schema)
            elif not json_equal(old_item, new_item):
                self.modified.add(item_path)

    def add(
        self, val: object, path: Path, spath: SchemaPath, schema: Schema, *, include_self: bool
    ) -> None:
        paths, containers = _subtree(val, path, spath, schema)
        if not include_self:
            paths.discard(path)
            containers.discard(path)
        self.added |= paths
        self.containers |= containers


def _index_items(items: list[object], spec: FieldSpec) -> dict[str, tuple[int, object]]:
    """Items by path element; a repeated element keeps its first occurrence."""
    out: dict[str, tuple[int, object]] = {}
    for i, item in enumerate(items):
        out.setdefault(item_element(item, spec, i), (i, item))
    return out


def _subtree(
    val: object, path: Path, spath: SchemaPath, schema: Schema
) -> tuple[set[Path], set[Path]]:
    """``path`` and every path below it in ``val``; and which of them are containers.

    Containers are the non-empty objects (``map`` list items included) and granular lists.
    """
    paths: set[Path] = {path}
    containers: set[Path] = set()
    spec = schema.at(spath)
    if isinstance(val, dict) and _has_values(val) and not (spec is not None and spec.atomic):
        containers.add(path)
        for name, child in val.items():
            if child is not None:
                sub = _subtree(child, (*path, field(name)), (*spath, name), schema)
                paths |= sub[0]
                containers |= sub[1]
    elif isinstance(val, list) and val and spec is not None and spec.list_type in ("set", "map"):
        containers.add(path)
        for i, item in enumerate(val):
            sub = _subtree(item, (*path, item_element(item, spec, i)), (*spath, i), schema)
            paths |= sub[0]
            containers |= sub[1]
    return paths, containers
