"""JSON patch (RFC 6902) and JSON merge patch (RFC 7386) applied to decoded JSON documents.

Both the client (to preview a patch locally) and the fake API server (to implement ``PATCH`` with
``application/json-patch+json`` and ``application/merge-patch+json``) need to apply patches exactly
the way kube-apiserver does, without any I/O. kube-apiserver applies JSON patches with
evanphx/json-patch and reports a failed operation as the ``causes[0].message`` of a 422 Status;
the messages raised here follow that library's wording (``testing value /a failed: test failed``,
``add operation does not apply: doc is missing path: "/a/b": missing value``...) and add the index
of the failing operation, so the fake server's answers read like the real ones.

Both functions are pure: they never mutate their arguments and return a document that shares no
mutable container with them (callers may freely modify the result). `copy_json` is the one deep
copy used here and by the strategic merge patch engine.

Where RFC 6902 and evanphx/json-patch disagree, the RFC wins (a ``replace`` or ``test`` of a
missing member fails, negative and zero-padded array indices are rejected, a value may not be moved
into one of its own children).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TypeAlias

from kr8s_trio._core._exceptions import PatchError

__all__ = [
    "JSON",
    "MAX_JSON_PATCH_OPERATIONS",
    "apply_json_patch",
    "apply_merge_patch",
    "copy_json",
    "json_equal",
    "parse_json_patch",
]

#: A decoded JSON value.
JSON: TypeAlias = bool | int | float | str | list["JSON"] | dict[str, "JSON"] | None

#: kube-apiserver refuses JSON patches with more operations than this (413 RequestEntityTooLarge).
MAX_JSON_PATCH_OPERATIONS = 10000

_BAD_ESCAPE = re.compile(r"~(?![01])")
_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})


def copy_json(value: object, *, where: str = "value") -> JSON:
    """Deep-copy a decoded JSON value, checking that it only holds JSON types.

    Args:
        value: ``None``, ``bool``, ``int``, ``float``, ``str``, or lists / string-keyed dicts of
            those, nested to any depth.
        where: how to name ``value`` in an error message.

    Returns:
        An equal value that shares no list or dict with ``value``.

    Raises:
        PatchError: ``value`` holds something that JSON cannot represent (a tuple, a set, a dict
            with a non-string key...).
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [copy_json(item, where=where) for item in value]
    if isinstance(value, dict):
        out: dict[str, JSON] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise PatchError(f"{where} is not JSON: object key {key!r} is not a string")
            out[key] = copy_json(item, where=where)
        return out
    raise PatchError(f"{where} is not JSON: {type(value).__name__} {value!r}")


def json_equal(left: object, right: object) -> bool:
    """Compare two decoded JSON values the way JSON sees them.

    Unlike ``==``, ``true`` is not equal to ``1``; numbers compare by value (``1 == 1.0``), objects
    ignore member order, arrays do not.
    """
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, str) or left is None:
        return type(left) is type(right) and left == right
    if isinstance(left, list):
        return (
            isinstance(right, list)
            and len(left) == len(right)
            and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
        )
    if isinstance(left, dict):
        return (
            isinstance(right, dict)
            and left.keys() == right.keys()
            and all(json_equal(value, right[key]) for key, value in left.items())
        )
    return False


# --------------------------------------------------------------------------------------------
# RFC 7386 JSON merge patch


def apply_merge_patch(doc: object, patch: object) -> JSON:
    """Apply an RFC 7386 JSON merge patch.

    Objects in the patch are merged member by member into the document (recursively); a ``null``
    member deletes that member; any other patch value (array, string, number...) replaces the
    target wholesale, so arrays are never merged. A non-object target under an object patch is
    treated as ``{}``.

    Args:
        doc: the document to patch (a decoded JSON value; not modified).
        patch: the merge patch (a decoded JSON value; not modified).

    Returns:
        The patched document, sharing nothing mutable with ``doc`` or ``patch``.

    Raises:
        PatchError: ``doc`` or ``patch`` holds something JSON cannot represent.
    """
    return _merge(copy_json(doc, where="the document"), copy_json(patch, where="the merge patch"))


def _merge(doc: JSON, patch: JSON) -> JSON:
    """RFC 7386 ``MergePatch`` on private copies (``doc`` is updated in place)."""
    if not isinstance(patch, dict):
        return patch
    target = doc if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge(target.get(key), value)
    return target


# --------------------------------------------------------------------------------------------
# RFC 6902 JSON patch


def parse_json_patch(patch: object) -> list[dict[str, JSON]]:
    """Check the outer shape of a JSON patch document: an array of objects.

    kube-apiserver answers 400 when the body does not decode as such an array, 413 when it has
    more than `MAX_JSON_PATCH_OPERATIONS` operations (check ``len()`` of the result), and 422 when
    an operation is malformed or fails, which `apply_json_patch` reports.

    Args:
        patch: the decoded request body.

    Returns:
        The operations, copied.

    Raises:
        PatchError: ``patch`` is not a list of objects.
    """
    if not isinstance(patch, list):
        raise PatchError(
            f"a JSON patch must be an array of operation objects, got {_json_type(patch)}"
        )
    ops: list[dict[str, JSON]] = []
    for index, op in enumerate(patch):
        if not isinstance(op, dict):
            raise PatchError(
                f"operation {index} of the JSON patch is {_json_type(op)}, not an object"
            )
        where = f"operation {index} of the JSON patch"
        copied: dict[str, JSON] = {}
        for key, value in op.items():
            if not isinstance(key, str):
                raise PatchError(f"{where} is not JSON: object key {key!r} is not a string")
            copied[key] = copy_json(value, where=where)
        ops.append(copied)
    return ops


def apply_json_patch(doc: object, patch: object) -> JSON:
    """Apply an RFC 6902 JSON patch.

    Operations ``add``, ``remove``, ``replace``, ``move``, ``copy`` and ``test`` are applied in
    order; JSON pointers use ``~0`` for ``~`` and ``~1`` for ``/``; ``-`` appends to an array. If
    any operation fails, no change is made.

    Args:
        doc: the document to patch (a decoded JSON value; not modified).
        patch: the decoded patch document (a list of operation objects).

    Returns:
        The patched document, sharing nothing mutable with ``doc`` or ``patch``.

    Raises:
        PatchError: ``doc`` or ``patch`` holds something JSON cannot represent; the patch is not
            a list of objects, has more than
            `MAX_JSON_PATCH_OPERATIONS` operations, an operation is malformed (missing or unknown
            ``op``, ``path`` not a string, missing ``value`` or ``from``), or an operation does not
            apply (missing path, failed ``test``, index out of range). The message names the
            operation's index and path.
    """
    ops = parse_json_patch(patch)
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, "
            f"got {len(ops)}"
        )
    box = _Box(copy_json(doc, where="the document"))
    for index, op in enumerate(ops):
        try:
            _apply_op(box, op)
        except _OpFailed as exc:
            raise PatchError(f"{exc} (operation {index}: {_describe(op)})") from None
    return box.doc


class _OpFailed(Exception):
    """One operation did not apply; `apply_json_patch` adds which one."""


class _Box:
    """The document being patched (the root itself can be replaced)."""

    def __init__(self, doc: JSON) -> None:
        self.doc = doc


def _apply_op(box: _Box, op: dict[str, JSON]) -> None:
    kind = op.get("op")
    if not isinstance(kind, str) or kind not in _OPS:
        raise _OpFailed(f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}")
    path = _member(op, kind, "path")
    tokens = _parse_pointer(kind, path)
    if kind == "add":
        _add(box, kind, path, tokens, _value(op, kind))
    elif kind == "remove":
        _remove(box, kind, path, tokens)
    elif kind == "replace":
        value = _value(op, kind)
        if not tokens:
            box.doc = value
            return
        container, key = _parent(box, kind, path, tokens)
        if isinstance(container, dict):
            if key not in container:
                raise _OpFailed(
                    f"replace operation does not apply: doc is missing key: {path}: missing value"
                )
            container[key] = value
        else:
            container[_index(kind, path, key, len(container))] = value
    elif kind == "test":
        expected = _value(op, kind)
        actual = _get(box, kind, path, tokens, missing="test operation does not apply: is missing")
        if not json_equal(actual, expected):
            raise _OpFailed(f"testing value {path} failed: test failed")
    else:  # move, copy
        source = _member(op, kind, "from")
        source_tokens = _parse_pointer(kind, source)
        value = _get(
            box,
            kind,
            source,
            source_tokens,
            missing=f"{kind} operation does not apply: doc is missing from",
        )
        if kind == "copy":
            _add(box, kind, path, tokens, copy_json(value))
            return
        if source_tokens == tokens:
            return
        if tokens[: len(source_tokens)] == source_tokens:
            raise _OpFailed(
                f"move operation does not apply: cannot move {source} into its own child {path}"
            )
        _remove(box, kind, source, source_tokens)
        _add(box, kind, path, tokens, value)


def _member(op: dict[str, JSON], kind: str, name: str) -> str:
    value = op.get(name)
    if name not in op:
        raise _OpFailed(f"{kind} operation failed to decode {name}: missing value")
    if not isinstance(value, str):
        raise _OpFailed(
            f"{kind} operation failed to decode {name}: {_json_type(value)} is not a JSON pointer"
        )
    return value


def _value(op: dict[str, JSON], kind: str) -> JSON:
    if "value" not in op:
        raise _OpFailed(f"{kind} operation is missing its value member")
    return op["value"]


def _parse_pointer(kind: str, pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise _OpFailed(
            f"{kind} operation does not apply: invalid JSON pointer {pointer!r} "
            "(it must be empty or start with '/')"
        )
    tokens = pointer[1:].split("/")
    for token in tokens:
        if _BAD_ESCAPE.search(token):
            raise _OpFailed(
                f"{kind} operation does not apply: invalid JSON pointer {pointer!r} "
                "('~' must be followed by '0' or '1')"
            )
    return [token.replace("~1", "/").replace("~0", "~") for token in tokens]


def _index(kind: str, path: str, token: str, size: int, *, allow_end: bool = False) -> int:
    """Array index named by ``token``; ``allow_end`` admits ``size`` itself (insertion point)."""
    if token == "-" and allow_end:
        return size
    if not token.isdigit() or not token.isascii() or (len(token) > 1 and token[0] == "0"):
        raise _OpFailed(
            f"error in {kind} for path: '{path}': value was not a proper array index: '{token}'"
        )
    index = int(token)
    if index > size or (index == size and not allow_end):
        raise _OpFailed(
            f"error in {kind} for path: '{path}': Unable to access invalid index: {index}: "
            "invalid index referenced"
        )
    return index


def _parent(
    box: _Box, kind: str, path: str, tokens: Sequence[str]
) -> tuple[list[JSON] | dict[str, JSON], str]:
    """The container holding the last token of ``tokens``, and that token."""
    node = box.doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and _is_index(token, len(node)):
            node = node[int(token)]
        else:
            node = None
            break
    if not isinstance(node, dict | list):
        raise _OpFailed(
            f'{kind} operation does not apply: doc is missing path: "{path}": missing value'
        )
    return node, tokens[-1]


def _is_index(token: str, size: int) -> bool:
    return (
        token.isdigit()
        and token.isascii()
        and (len(token) == 1 or token[0] != "0")
        and int(token) < size
    )


def _get(box: _Box, kind: str, path: str, tokens: Sequence[str], *, missing: str) -> JSON:
    node = box.doc
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and _is_index(token, len(node)):
            node = node[int(token)]
        else:
            raise _OpFailed(f"{missing} path: {path}: missing value")
    return node


def _add(box: _Box, kind: str, path: str, tokens: Sequence[str], value: JSON) -> None:
    if not tokens:
        box.doc = value
        return
    container, key = _parent(box, kind, path, tokens)
    if isinstance(container, dict):
        container[key] = value
    else:
        container.insert(_index(kind, path, key, len(container), allow_end=True), value)


def _remove(box: _Box, kind: str, path: str, tokens: Sequence[str]) -> None:
    if not tokens:
        raise _OpFailed(f"{kind} operation does not apply: cannot remove the whole document")
    container, key = _parent(box, kind, path, tokens)
    if isinstance(container, dict):
        if key not in container:
            raise _OpFailed(
                f"error in {kind} for path: '{path}': Unable to remove nonexistent key: {key}: "
                "missing value"
            )
        del container[key]
    else:
        del container[_index(kind, path, key, len(container))]


def _describe(op: dict[str, JSON]) -> str:
    text = json.dumps(op, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 200 else text[:197] + "..."


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
