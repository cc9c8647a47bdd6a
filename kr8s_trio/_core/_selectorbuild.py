"""Build ``labelSelector``/``fieldSelector`` query strings and label/annotation merge patches.

kr8s takes selectors either as text or as dicts (``{"app": "web"}``); this module turns every
accepted form into the canonical query text, validating it with the parsers of `_selectors` and
`_field_selectors` so that the client rejects early what kube-apiserver would reject. It also
reads kubectl's ``label``/``annotate`` edit syntax (``key=value`` sets, ``key-`` removes) and
produces the JSON merge patch that applies those edits. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, TypeAlias

from ._exceptions import SelectorError
from ._field_selectors import FieldRequirement, FieldSelector
from ._names import label_key_errors, label_value_errors
from ._selectors import LabelRequirement, LabelSelector

__all__ = [
    "LabelEdits",
    "MetadataField",
    "field_selector_query",
    "label_selector_query",
    "merge_patch_for",
    "parse_label_edits",
]

MetadataField: TypeAlias = Literal["labels", "annotations"]
LabelEdits: TypeAlias = dict[str, str | None]

_OBJECT_FIELDS = ("matchLabels", "matchExpressions")


def _scalar(value: object) -> str | None:
    """A str as is, an int (not a bool) as its decimal text, anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _is_selector_object(selector: Mapping[str, object]) -> bool:
    """Whether a mapping is a Kubernetes ``LabelSelector`` object rather than ``{label: value}``.

    A plain label dict may use the (valid) label key ``matchLabels``, but its value is then a
    string or a list of strings; the object form has an object / a list of objects there.
    """
    if not selector or not all(key in _OBJECT_FIELDS for key in selector):
        return False
    labels, exprs = selector.get("matchLabels"), selector.get("matchExpressions")
    return isinstance(labels, Mapping) or (
        isinstance(exprs, list | tuple) and all(isinstance(e, Mapping) for e in exprs)
    )


def _label_requirement(key: object, value: object) -> LabelRequirement:
    if not isinstance(key, str):
        raise SelectorError(f"label selector key {key!r}: a label key must be a string")
    where = f"label selector key {key!r}"
    single = _scalar(value)
    if single is not None:
        values: list[str] = [single]
        operator: Literal["=", "in"] = "="
    elif isinstance(value, list | tuple | set | frozenset):
        values = []
        for item in value:
            text = _scalar(item)
            if text is None:
                raise SelectorError(f"{where}: value {item!r} is not a string")
            values.append(text)
        if not values:
            raise SelectorError(f"{where}: an empty list of values matches nothing")
        operator = "in"
    else:
        raise SelectorError(
            f"{where}: value {value!r} is not a string or a list/tuple/set of strings"
        )
    try:
        return LabelRequirement(key, operator, values)
    except SelectorError as exc:
        raise SelectorError(f"{where}: {exc}") from None


def label_selector_query(selector: str | Mapping[str, object] | None) -> str:
    """The ``labelSelector`` query text for a selector given in any form kr8s accepts.

    Args:
        selector: None (everything); selector text (``"app=web,tier in (a,b)"``), validated and
            normalised; a dict of labels, where a str (or int) value means ``key=value`` and a
            list, tuple or set of values means ``key in (...)``; or a Kubernetes ``LabelSelector``
            object (``{"matchLabels": {...}, "matchExpressions": [...]}``).

    Returns:
        The canonical selector text (requirements and values sorted); ``""`` selects everything.

    Raises:
        SelectorError: the selector is invalid; the message names the key and the reason.
    """
    if selector is None:
        return ""
    if isinstance(selector, str):
        return str(LabelSelector.parse(selector))
    if not isinstance(selector, Mapping):
        raise SelectorError(
            f"label selector: expected a string or a mapping, got {type(selector).__name__}"
        )
    if _is_selector_object(selector):
        return str(LabelSelector.from_label_selector(selector))
    return str(LabelSelector(_label_requirement(k, v) for k, v in selector.items()))


def field_selector_query(selector: str | Mapping[str, object] | None) -> str:
    """The ``fieldSelector`` query text for a selector given as text or as a dict.

    Args:
        selector: None (everything); selector text (``"status.phase=Running"``), validated and
            normalised; or a dict ``{field: value}`` meaning ``field=value`` for every item
            (values are escaped: ``\\``, ``,`` and ``=`` become ``\\\\``, ``\\,``, ``\\=``).

    Returns:
        The canonical selector text, terms sorted; ``""`` selects everything.

    Raises:
        SelectorError: a term is invalid; the message names the field and the reason.
    """
    if selector is None:
        return ""
    if isinstance(selector, str):
        return str(FieldSelector.parse(selector))
    if not isinstance(selector, Mapping):
        raise SelectorError(
            f"field selector: expected a string or a mapping, got {type(selector).__name__}"
        )
    terms: list[FieldRequirement] = []
    for field, value in selector.items():
        if not isinstance(field, str):
            raise SelectorError(f"field selector field {field!r}: a field name must be a string")
        text = _scalar(value)
        if text is None:
            raise SelectorError(f"field selector field {field!r}: value {value!r} is not a string")
        terms.append(FieldRequirement(field, "=", text))
    return str(FieldSelector(terms))


def _add_edit(edits: LabelEdits, key: str, value: str | None, item: object) -> None:
    if key in edits and edits[key] != value:
        raise SelectorError(
            f"label edit {item!r}: conflicting edits of {key!r} "
            f"(cannot set it to two values, or both set and remove it)"
        )
    edits[key] = value


def parse_label_edits(
    args: Iterable[str] | Mapping[str, str | None], *, field: MetadataField = "labels"
) -> LabelEdits:
    """Read kubectl's ``label``/``annotate`` edit arguments.

    Args:
        args: strings ``"key=value"`` (set; the value may be empty) and ``"key-"`` (remove), or
            a mapping ``{key: value}`` where a None value removes the key.
        field: what is being edited, which decides the validation: label keys and values must
            be valid labels; annotation keys must be qualified names (case-insensitively) and
            their values may be any string.

    Returns:
        ``{key: value}``, None marking a removal, in argument order.

    Raises:
        SelectorError: no edits, an argument that is neither form, conflicting edits of one key,
            or an invalid key or value; the message names the offending argument.
    """
    edits: LabelEdits = {}
    if isinstance(args, str):
        raise SelectorError(f"label edits: expected a list of strings, got the string {args!r}")
    if isinstance(args, Mapping):
        for key, value in args.items():
            if not isinstance(key, str) or not (value is None or isinstance(value, str)):
                raise SelectorError(
                    f"label edit {key!r}: {value!r}: keys must be strings and values strings "
                    "or None"
                )
            edits[key] = value
    else:
        for item in args:
            if not isinstance(item, str):
                raise SelectorError(f"label edit {item!r}: expected a string")
            key, sep, value = item.partition("=")
            if sep:
                _add_edit(edits, key, value, item)
            elif item.endswith("-"):
                _add_edit(edits, item[:-1], None, item)
            else:
                raise SelectorError(
                    f"label edit {item!r}: expected 'key=value' to set or 'key-' to remove"
                )
    if not edits:
        raise SelectorError(f"no {field.removesuffix('s')} edits given")
    _validate_edits(edits, field)
    return edits


def _validate_edits(edits: Mapping[str, str | None], field: MetadataField) -> None:
    kind = "label" if field == "labels" else "annotation"
    for key, value in edits.items():
        checked = key if field == "labels" else key.lower()
        if reasons := label_key_errors(checked):
            raise SelectorError(f"{kind} key {key!r}: {'; '.join(reasons)}")
        if field == "labels" and value is not None and (reasons := label_value_errors(value)):
            raise SelectorError(f"label {key!r}: value {value!r}: {'; '.join(reasons)}")


def merge_patch_for(
    edits: Mapping[str, str | None], field: MetadataField
) -> dict[str, dict[str, dict[str, str | None]]]:
    """The JSON merge patch (RFC 7386) applying label or annotation edits.

    Args:
        edits: ``{key: value}``, None removing the key (as `parse_label_edits` returns).
        field: ``"labels"`` or ``"annotations"``.

    Returns:
        ``{"metadata": {field: {key: value_or_None, ...}}}``.

    Raises:
        SelectorError: ``field`` is neither, or a key or value is invalid for it.
    """
    if field not in ("labels", "annotations"):
        raise SelectorError(f"field {field!r}: expected 'labels' or 'annotations'")
    _validate_edits(edits, field)
    return {"metadata": {field: dict(edits)}}
