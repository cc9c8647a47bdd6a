"""The object side of server-side apply: merging a configuration in, pruning what it dropped.

The applied configuration is merged over the live object (maps key by key, ``map`` lists by key,
``set`` lists by value, atomic values whole, in structured-merge-diff's order), and the fields the
applier stopped applying are removed when nobody else owns them. Which fields those are, and who
owns what, is decided in `kr8s_trio.testing._apply`.
"""

from __future__ import annotations

from kr8s_trio._core._schema import FieldSpec, Schema
from kr8s_trio.testing._fieldpath import Path, SchemaPath, item_element
from kr8s_trio.testing._fieldset import FieldSet

__all__ = ["copy_value", "merge_config", "prune"]

JSONDict = dict[str, object]


# -- merging ----------------------------------------------------------------------------------


def copy_value(val: object, *, nulls: bool = False) -> object:
    """A deep copy of decoded JSON; ``null`` members are dropped unless ``nulls``.

    An applied configuration's ``null`` means "absent"; a stored object's nulls are kept so that
    an apply changing nothing leaves it byte for byte as it was.
    """
    if isinstance(val, dict):
        return {k: copy_value(v, nulls=nulls) for k, v in val.items() if nulls or v is not None}
    if isinstance(val, list):
        return [copy_value(v, nulls=nulls) for v in val]
    return val


def _granular_list(spec: FieldSpec | None) -> bool:
    return spec is not None and spec.list_type in ("set", "map")


def merge_config(live: object, config: object, spath: SchemaPath, schema: Schema) -> object:
    """``config`` (null-free) written over ``live``, as a fresh copy sharing nothing with either.

    Live keys keep their order (nulls included), new keys follow in ``config``'s order.
    """
    if live is None:
        return copy_value(config)
    spec = schema.at(spath) if spath else None
    if isinstance(live, dict) and isinstance(config, dict) and not (spec and spec.atomic):
        out: JSONDict = {}
        for name, child in live.items():
            if name in config:
                out[name] = merge_config(child, config[name], (*spath, name), schema)
            else:
                out[name] = copy_value(child, nulls=True)
        for name, child in config.items():
            if name not in live:
                out[name] = copy_value(child)
        return out
    if isinstance(live, list) and isinstance(config, list) and _granular_list(spec):
        assert spec is not None
        return _merge_lists(live, config, spec, spath, schema)
    return copy_value(config)


def _merge_lists(
    live: list[object], config: list[object], spec: FieldSpec, spath: SchemaPath, schema: Schema
) -> list[object]:
    """Merge two granular lists item by item, in structured-merge-diff's order.

    Items only in ``live`` keep their place; items of ``config`` come in ``config``'s order, shared
    ones where ``config`` puts them. Repeated items count once (the first).
    """
    left = _items(live, spec)
    right = _items(config, spec)
    left_order, right_order = list(left), list(right)
    shared = [e for e in right_order if e in left]
    out: list[object] = []
    done: set[str] = set()
    li = ri = 0

    def merge_item(element: str) -> None:
        out.append(merge_config(left.get(element), right[element], (*spath, 0), schema))
        done.add(element)

    while li < len(left_order) or ri < len(right_order):
        if li < len(left_order):
            element = left_order[li]
            if element in done:
                li += 1
                continue
            if element not in right:
                out.append(copy_value(left[element], nulls=True))
                li += 1
                continue
            if ri < len(right_order) and right_order[ri] == element:
                merge_item(element)
                li += 1
                ri += 1
                continue
            if next((e for e in shared if e not in done), None) != element:
                li += 1  # shared, but config wants it later: it is placed when config reaches it
                continue
        if ri < len(right_order):
            merge_item(right_order[ri])
            ri += 1
        else:
            li += 1
    return out


def _items(items: list[object], spec: FieldSpec) -> dict[str, object]:
    out: dict[str, object] = {}
    for i, item in enumerate(items):
        out.setdefault(item_element(item, spec, i), item)
    return out


# -- pruning ----------------------------------------------------------------------------------


_Slot = tuple[JSONDict, str] | tuple[list[object], int]


def _locate(root: JSONDict, path: Path, schema: Schema) -> tuple[_Slot, SchemaPath] | None:
    """Where ``path``'s value sits (its container and key or index), and its schema path."""
    container: object = root
    spath: SchemaPath = ()
    slot: _Slot | None = None
    for element in path:
        if slot is not None:
            container = _get(slot)
        if element.startswith("f:"):
            name = element[2:]
            if not isinstance(container, dict) or name not in container:
                return None
            slot, spath = (container, name), (*spath, name)
        else:
            if not isinstance(container, list):
                return None
            spec = schema.at(spath)
            found = [i for i, it in enumerate(container) if item_element(it, spec, i) == element]
            if not found:
                return None
            slot, spath = (container, found[0]), (*spath, found[0])
    return None if slot is None else (slot, spath)


def _get(slot: _Slot) -> object:
    if isinstance(slot[0], dict):
        return slot[0][slot[1]]
    return slot[0][slot[1]]


def prune(obj: JSONDict, candidates: FieldSet, protected: FieldSet, schema: Schema) -> None:
    """Remove the fields the applier dropped that nobody else owns, then what they leave empty.

    A candidate stays when another manager (or the applier's new configuration) owns it, owns
    something below it, or owns an atomic value around it. The key fields of a list item that
    stays are never removed. Objects and lists left empty by a removal go too, and so does a
    ``map`` list item left with only its keys, unless someone owns them.
    """
    emptied: set[Path] = set()
    for path in sorted(candidates, key=len, reverse=True):
        if path in protected or protected.has_descendant(path):
            continue
        if _is_key_field(obj, path, schema) or _atomic_owner(obj, path, protected, schema):
            continue
        if _remove(obj, path, schema):
            emptied.add(path[:-1])
    while emptied:
        path = max(emptied, key=len)
        emptied.discard(path)
        if not path or path in protected or protected.has_descendant(path):
            continue
        found = _locate(obj, path, schema)
        if found is not None and _hollow(_get(found[0]), path, found[1], schema):
            _remove(obj, path, schema)
            emptied.add(path[:-1])


def _atomic_owner(obj: JSONDict, path: Path, protected: FieldSet, schema: Schema) -> bool:
    """Someone owns an atomic struct around ``path`` (an owned empty object protects nothing)."""
    for n in range(1, len(path)):
        if path[:n] in protected:
            found = _locate(obj, path[:n], schema)
            spec = schema.at(found[1]) if found is not None else None
            if spec is not None and spec.atomic:
                return True
    return False


def _is_key_field(obj: JSONDict, path: Path, schema: Schema) -> bool:
    if len(path) < 2 or not path[-1].startswith("f:") or path[-2].startswith("f:"):
        return False
    found = _locate(obj, path[:-2], schema)
    spec = schema.at(found[1]) if found is not None else None
    return spec is not None and spec.list_type == "map" and path[-1][2:] in spec.map_keys


def _hollow(val: object, path: Path, spath: SchemaPath, schema: Schema) -> bool:
    if val in ({}, []):
        return True
    if isinstance(val, dict) and not path[-1].startswith("f:"):
        spec = schema.at(spath[:-1])
        return spec is not None and spec.list_type == "map" and set(val) <= set(spec.map_keys)
    return False


def _remove(obj: JSONDict, path: Path, schema: Schema) -> bool:
    found = _locate(obj, path, schema)
    if found is None:
        return False
    slot = found[0]
    if isinstance(slot[0], dict):
        del slot[0][slot[1]]
    else:
        del slot[0][slot[1]]
    return True
