"""Field sets: which fields of an object a manager owns, and their FieldsV1 wire form.

kube-apiserver records, per field manager, the set of fields that manager owns in
``metadata.managedFields[].fieldsV1``. Server-side apply decides conflicts and removals with those
sets, so the fake needs the same data structure (structured-merge-diff's ``fieldpath.Set``) and the
exact JSON encoding clients see. This module holds both; the paths are those of
`kr8s_trio.testing._fieldpath`, and `kr8s_trio.testing._fielddiff` derives sets from objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from kr8s_trio._core._exceptions import PatchError
from kr8s_trio.testing._fieldpath import Path, canonical_element, element_order, render_path

__all__ = ["FieldSet", "from_fields_v1", "to_fields_v1"]


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
    names = sorted(node.children, key=element_order)
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
    for element in sorted(node.children, key=element_order):
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
        path = (*prefix, canonical_element(name))
        if _read(child, path, out):
            out.add(path)
    return is_member
