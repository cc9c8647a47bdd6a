"""Strategic merge patch: kube-apiserver's own patch format for built-in kinds.

``application/strategic-merge-patch+json`` is a JSON merge patch whose lists know how to merge:
the Go types of built-in kinds tag some lists with a patch strategy and a merge key (recorded in
`kr8s_trio._core._schema`), and the patch may carry directives. kubectl sends this format for
``kubectl patch`` (the default type) and for client-side ``kubectl apply``, so the fake API server
needs the real algorithm, not an approximation; this module follows apimachinery's
``strategicpatch/patch.go`` (the server side: parallel lists merged, unmatched nulls ignored).

What it does, in short:

* maps merge key by key; ``null`` deletes a key; a value whose type differs from the live one
  replaces it;
* lists whose field merges and has a merge key merge item by item (a patch item is merged into the
  live item with the same key, unknown items are added), lists of scalars with the merge strategy
  are merged as ordered sets, every other list is replaced whole;
* directives: ``$patch: replace`` / ``$patch: delete`` in a map, ``{"<key>": ..., "$patch":
  "delete"}`` and ``{"$patch": "replace"}`` items in a merging list, ``$retainKeys``,
  ``$deleteFromPrimitiveList/<field>`` and ``$setElementOrder/<field>``. Directives never reach the
  result.

Order of a merged list, as apimachinery computes it: the items the patch names keep the patch's
order (or the ``$setElementOrder`` list's), the live-only items keep their live order, and the two
runs are interleaved by their live positions; an item that is not live yet goes before the
remaining live-only items. So a patch that only adds an item puts it first (the behaviour the
Kubernetes documentation shows for ``kubectl patch``), and kubectl's ``$setElementOrder`` lists put
items where the user's manifest has them.

Deliberate differences from the Go code, none reachable by patches kubectl generates: a value
added where nothing was live is cleaned as if merged into an empty value (Go stores it raw and
relies on decoding into a typed struct to drop leftover directives); ``$deleteFromPrimitiveList``
on a list that does not merge as a set of scalars is an error (Go replaces the list with the
deletion list). Keys that start with ``$`` but are not directives (``$ref`` and ``$schema`` in a
CRD's OpenAPI schema) are ordinary fields, as in Go.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from kr8s_trio._core._exceptions import PatchError
from kr8s_trio._core._patch import JSON, copy_json
from kr8s_trio._core._schema import Schema

__all__ = ["apply_strategic_merge_patch"]

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
_SET_ELEMENT_ORDER = "$setElementOrder"

_Path = tuple[str | int, ...]
# What identifies a list item: its merge key's value (maps) or itself (scalars), made hashable.
_Ident = tuple[str, str | int | float | bool | None]


def apply_strategic_merge_patch(
    doc: Mapping[str, object], patch: Mapping[str, object], schema: Schema
) -> dict[str, JSON]:
    """Apply a strategic merge patch to an object.

    Args:
        doc: the live object (decoded JSON; not modified).
        patch: the decoded patch (not modified).
        schema: the merge markers of the object's kind (`kr8s_trio._core._schema.schema_for`).

    Returns:
        The patched object, sharing nothing mutable with ``doc`` or ``patch``.

    Raises:
        PatchError: the patch is malformed (an unknown ``$patch`` value, a directive with the wrong
            shape, a merging-list item without its merge key, a ``$setElementOrder`` list that
            contradicts the patch list, a field outside ``$retainKeys``, a list of lists...). The
            message says what and where (``.spec.template.spec.containers[1]``).
    """
    if not isinstance(doc, Mapping):
        raise PatchError(f"a strategic merge patch applies to an object, not {type(doc).__name__}")
    if not isinstance(patch, Mapping):
        raise PatchError(f"a strategic merge patch must be an object, not {type(patch).__name__}")
    original = copy_json(dict(doc), where="the object")
    patch_copy = copy_json(dict(patch), where="the strategic merge patch")
    assert isinstance(original, dict)
    assert isinstance(patch_copy, dict)
    return _Merger(schema).merge_map(original, patch_copy, ())


class _Merger:
    """One patch application; ``merge_*`` methods update their (already copied) original."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    # ---------------------------------------------------------------------------------- maps

    def merge_map(
        self, original: dict[str, JSON], patch: Mapping[str, JSON], path: _Path
    ) -> dict[str, JSON]:
        if _PATCH in patch:
            directive = patch[_PATCH]
            if directive == "replace":
                rest = {key: value for key, value in patch.items() if key != _PATCH}
                return self.merge_map({}, rest, path)
            if directive == "delete":
                return {}
            raise _error(f"unknown patch type: {_show(directive)} in map: {_show(patch)}", path)

        pending = dict(patch)
        if _RETAIN_KEYS in pending:
            self._retain_keys(original, pending, path)
        for key in [key for key in pending if key.startswith(_SET_ELEMENT_ORDER)]:
            self._set_element_order(original, pending, key, path)

        for key, value in pending.items():
            if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
                field = _directive_field(key, _DELETE_FROM_PRIMITIVE_LIST, path)
                self._delete_from_primitive_list(original, field, value, path)
                continue
            if value is None:
                original.pop(key, None)
                continue
            field_path = (*path, key)
            current = original.get(key)
            if isinstance(value, dict) and isinstance(current, dict):
                spec = self.schema.at(field_path)
                if spec is not None and "replace" in spec.strategy:
                    original[key] = self.fresh(value, field_path)
                else:
                    original[key] = self.merge_map(current, value, field_path)
            elif isinstance(value, list) and isinstance(current, list):
                original[key] = self.merge_list_field(current, value, field_path)
            else:
                original[key] = self.fresh(value, field_path)
        return original

    def fresh(self, value: JSON, path: _Path) -> JSON:
        """A patch value that lands where nothing of its type is live: cleaned of directives."""
        if isinstance(value, dict):
            return self.merge_map({}, value, path)
        if isinstance(value, list):
            spec = self.schema.at(path)
            if (
                spec is not None
                and spec.merges
                and spec.merge_key is not None
                and value
                and all(isinstance(item, dict) for item in value)
            ):
                return self.merge_list([], value, spec.merge_key, path)
        return copy_json(value, where=f"the patch value at {_where(path)}")

    def _retain_keys(
        self, original: dict[str, JSON], pending: dict[str, JSON], path: _Path
    ) -> None:
        retain = pending.pop(_RETAIN_KEYS)
        if not isinstance(retain, list) or not all(isinstance(key, str) for key in retain):
            raise _error(
                "invalid patch format of retainKeys: $retainKeys must be a list of field names",
                path,
            )
        keep = set(retain)
        for key, value in pending.items():
            if value is None or key.startswith((_DELETE_FROM_PRIMITIVE_LIST, _SET_ELEMENT_ORDER)):
                continue
            if key not in keep:
                raise _error(
                    f"invalid patch format of retainKeys: the patch sets {key!r}, "
                    f"which $retainKeys {_show(retain)} does not list",
                    path,
                )
        for key in [key for key in original if key not in keep]:
            del original[key]

    def _set_element_order(
        self, original: dict[str, JSON], pending: dict[str, JSON], key: str, path: _Path
    ) -> None:
        order = pending.pop(key)
        field = _directive_field(key, _SET_ELEMENT_ORDER, path)
        field_path = (*path, field)
        if not isinstance(order, list):
            raise _error(
                f"invalid patch format of setElementOrder list: {key} must be a list", path
            )
        live = original.get(field)
        patch_list = pending.get(field)
        if live is not None and not isinstance(live, list):
            raise _error(f"{key} orders {field!r}, which is not a list", path)
        if patch_list is not None and not isinstance(patch_list, list):
            raise _error(f"{key} orders {field!r}, but the patch sets it to a non-list", path)
        spec = self.schema.at(field_path)
        merge_key = spec.merge_key if spec is not None else None
        kind = _element_kind((live or [], patch_list or []), field_path)
        if kind == "map" and merge_key is None:
            raise _error(f"{key}: cannot order a list of maps without a merge key", path)
        key_of = merge_key if kind == "map" else None
        for item in order:
            _ident(item, key_of, field_path)  # each entry must name an item
        _check_order(patch_list or [], order, key_of, field_path)

        if live is not None and patch_list is not None:
            merged = self.merge_list_field(live, patch_list, field_path)
        elif patch_list is not None:
            fresh = self.fresh(patch_list, field_path)
            assert isinstance(fresh, list)
            merged = fresh
        elif live is not None:
            merged = live
        else:
            return
        pending.pop(field, None)
        ordered, rest = _partition(merged, order, key_of, field_path)
        original[field] = _interleave(ordered, rest, order, live or [], key_of, field_path)

    def _delete_from_primitive_list(
        self, original: dict[str, JSON], field: str, value: JSON, path: _Path
    ) -> None:
        where = f"{_DELETE_FROM_PRIMITIVE_LIST}/{field}"
        if not isinstance(value, list):
            raise _error(f"invalid patch format of primitive list: {where} must be a list", path)
        field_path = (*path, field)
        spec = self.schema.at(field_path)
        if spec is None or not spec.merges or spec.merge_key is not None:
            raise _error(
                f"{where}: {field!r} is not a list of scalars with the merge strategy", path
            )
        current = original.get(field)
        if isinstance(current, list):
            original[field] = self.merge_list(current, value, None, field_path, delete=True)

    # --------------------------------------------------------------------------------- lists

    def merge_list_field(self, current: list[JSON], patch: list[JSON], path: _Path) -> list[JSON]:
        spec = self.schema.at(path)
        if spec is None or not spec.merges:
            replaced = copy_json(patch, where=f"the patch value at {_where(path)}")
            assert isinstance(replaced, list)
            return replaced
        return self.merge_list(current, patch, spec.merge_key, path)

    def merge_list(
        self,
        original: list[JSON],
        patch: list[JSON],
        merge_key: str | None,
        path: _Path,
        *,
        delete: bool = False,
    ) -> list[JSON]:
        if not original and not patch:
            return original
        kind = _element_kind((original, patch), path)
        if kind != "map":
            if delete:
                drop = {_ident(item, None, path) for item in patch}
                return [item for item in original if _ident(item, None, path) not in drop]
            merged: list[JSON] = []
            seen: set[_Ident] = set()
            for item in (*original, *patch):
                ident = _ident(item, None, path)
                if ident not in seen:
                    seen.add(ident)
                    merged.append(copy_json(item))
            patch_items, rest = _partition(merged, patch, None, path)
            return _interleave(patch_items, rest, patch, original, None, path)

        if merge_key is None:
            raise _error("cannot merge lists of maps without a merge key", path)
        if delete:
            raise _error(f"{_DELETE_FROM_PRIMITIVE_LIST} applies to lists of scalars only", path)
        live, items = self._special_items(original, patch, merge_key, path)
        merged = list(live)
        where: dict[_Ident, int] = {}
        for index, candidate in enumerate(merged):
            where.setdefault(_ident(candidate, merge_key, path), index)
        for item in items:
            assert isinstance(item, dict)
            ident = _ident(item, merge_key, path)
            index = where.get(ident, -1)
            if index >= 0:
                candidate = merged[index]
                assert isinstance(candidate, dict)
                merged[index] = self.merge_map(candidate, item, (*path, index))
            else:
                where[ident] = len(merged)
                merged.append(self.fresh(item, (*path, len(merged))))
        patch_items, rest = _partition(merged, items, merge_key, path)
        return _interleave(patch_items, rest, items, live, merge_key, path)

    def _special_items(
        self, original: list[JSON], patch: list[JSON], merge_key: str, path: _Path
    ) -> tuple[list[JSON], list[JSON]]:
        """Apply ``$patch`` items of a merging list: the live list left, and the plain items."""
        plain: list[JSON] = []
        replace = False
        for item in patch:
            assert isinstance(item, dict)
            if _PATCH not in item:
                plain.append(item)
                continue
            directive = item[_PATCH]
            if directive == "delete":
                ident = _ident(item, merge_key, path)
                original = [
                    live
                    for live in original
                    if not (
                        isinstance(live, dict)
                        and merge_key in live
                        and _ident(live, merge_key, path) == ident
                    )
                ]
            elif directive == "replace":
                replace = True
            elif directive == "merge":
                raise _error("merging lists cannot yet be specified in the patch", path)
            else:
                raise _error(f"unknown patch type: {_show(directive)} in map: {_show(item)}", path)
        if replace:
            return [self.fresh(item, (*path, index)) for index, item in enumerate(plain)], []
        return original, plain


# ------------------------------------------------------------------------------------ helpers


def _directive_field(key: str, prefix: str, path: _Path) -> str:
    head, slash, field = key.partition("/")
    if head != prefix or not slash:
        kind = "primitive list" if prefix == _DELETE_FROM_PRIMITIVE_LIST else "setElementOrder list"
        raise _error(f"invalid patch format of {kind}: {key!r} is not {prefix}/<field>", path)
    return field


def _element_kind(lists: Sequence[Sequence[JSON]], path: _Path) -> str | None:
    """The one kind of item the lists hold (``map``, ``string``...), ``None`` if all are empty."""
    kind: str | None = None
    for items in lists:
        for item in items:
            item_kind = _kind(item)
            if item_kind == "list":
                raise _error("lists of lists are not supported", path)
            if kind is None:
                kind = item_kind
            elif kind != item_kind:
                raise _error(f"list element types are not identical: {kind} and {item_kind}", path)
    return kind


def _kind(value: JSON) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null"


def _ident(item: JSON, merge_key: str | None, path: _Path) -> _Ident:
    """What identifies ``item``: its merge key's value, or itself for scalars."""
    if merge_key is not None:
        if not isinstance(item, dict) or merge_key not in item:
            raise _error(
                f"map: {_show(item)} does not contain declared merge key: {merge_key}", path
            )
        item = item[merge_key]
    if item is None or isinstance(item, str):
        return (_kind(item), item)
    if isinstance(item, bool | int | float):
        return (_kind(item), item)
    return ("json", json.dumps(item, sort_keys=True))


def _check_order(patch: list[JSON], order: list[JSON], merge_key: str | None, path: _Path) -> None:
    """The patch list must follow the ``$setElementOrder`` list (deletions aside)."""
    if not patch or not order:
        return
    items = [item for item in patch if merge_key is None or not _is_delete(item)]
    at = seen = 0
    while at < len(items) and seen < len(order):
        if _has_directive(items[at]):
            at += 1
            continue
        if _ident(items[at], merge_key, path) == _ident(order[seen], merge_key, path):
            at += 1
        seen += 1
    if at < len(items):
        raise _error(
            f"The order in patch list:\n{_show(patch)}\n doesn't match "
            f"{_SET_ELEMENT_ORDER} list:\n{_show(order)}\n",
            path,
        )


def _has_directive(item: JSON) -> bool:
    return isinstance(item, dict) and _PATCH in item


def _is_delete(item: JSON) -> bool:
    return isinstance(item, dict) and item.get(_PATCH) == "delete"


def _partition(
    merged: list[JSON], by: Sequence[JSON], merge_key: str | None, path: _Path
) -> tuple[list[JSON], list[JSON]]:
    """Split ``merged`` into the items that ``by`` names and the others, keeping their order."""
    named = {_ident(item, merge_key, path) for item in by}
    inside: list[JSON] = []
    outside: list[JSON] = []
    for item in merged:
        (inside if _ident(item, merge_key, path) in named else outside).append(item)
    return inside, outside


def _interleave(
    patch_items: list[JSON],
    server_only: list[JSON],
    patch_order: Sequence[JSON],
    server_order: Sequence[JSON],
    merge_key: str | None,
    path: _Path,
) -> list[JSON]:
    """apimachinery's ``normalizeElementOrder``: sort both runs, then merge them by live position.

    Patch items are sorted by ``patch_order`` and live-only items by ``server_order``; the two runs
    are then merged, taking the live-only item first only when both items are live and it comes
    first in the live list.
    """
    left = _sorted_by(server_only, server_order, merge_key, path)
    right = _sorted_by(patch_items, patch_order, merge_key, path)
    live_at = _positions(server_order, merge_key, path)
    out: list[JSON] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
        elif i >= len(left):
            out.append(right[j])
            j += 1
        else:
            left_at = live_at.get(_ident(left[i], merge_key, path))
            right_at = live_at.get(_ident(right[j], merge_key, path))
            if left_at is not None and right_at is not None and left_at < right_at:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _sorted_by(
    items: list[JSON], order: Sequence[JSON], merge_key: str | None, path: _Path
) -> list[JSON]:
    at = _positions(order, merge_key, path)
    return sorted(items, key=lambda item: at.get(_ident(item, merge_key, path), len(order)))


def _positions(order: Sequence[JSON], merge_key: str | None, path: _Path) -> dict[_Ident, int]:
    positions: dict[_Ident, int] = {}
    for index, item in enumerate(order):
        positions.setdefault(_ident(item, merge_key, path), index)
    return positions


def _where(path: _Path) -> str:
    if not path:
        return "the top level"
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _error(message: str, path: _Path) -> PatchError:
    return PatchError(f"{message} (at {_where(path)})")


def _show(value: object) -> str:
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."
