"""Field sets derived from objects: the fields an object sets, and what changed between two.

Server-side apply counts the fields an applied configuration sets (`fieldset_from_object`), and
every write hands its manager the fields it changed (`diff_objects`, structured-merge-diff's
Comparison). Both walk decoded JSON with the list types and atomic structs of the kind's `Schema`.

Without OpenAPI types the fake cannot tell a Go struct from a map: every JSON object is treated as
granular (owned key by key) unless `Schema` marks it atomic, and lists are atomic unless `Schema`
gives them a list type. Empty objects and lists are owned as a whole, like structured-merge-diff
treats them when comparing.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from kr8s_trio._core._schema import FieldSpec, Schema
from kr8s_trio.testing._fieldpath import Path, SchemaPath, field, item_element
from kr8s_trio.testing._fieldset import FieldSet

__all__ = ["FieldDiff", "diff_objects", "fieldset_from_object", "json_equal"]

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
