"""managedFields bookkeeping and server-side apply, as kube-apiserver does them.

Every write to the fake goes through one of two operations of structured-merge-diff's
``merge.Updater``:

* `record_update` for create, PUT and non-apply PATCH: the writer's ``Update`` entry takes every
  field it changed, other managers lose those fields, nothing ever conflicts;
* `server_side_apply` for ``application/apply-patch+yaml``: the applied configuration is merged
  over the live object (maps key by key, ``map`` lists by key, ``set`` lists by value, atomic
  values whole), changing a field another manager owns is a conflict unless forced, and fields the
  applier stops applying are removed when nobody else owns them.

Both return the new ``metadata.managedFields`` list in the server's order (``Apply`` entries
first, then by time, manager, apiVersion, subresource; see `kr8s_trio.testing._managedfields`);
the object side of an apply, merging and pruning, is `kr8s_trio.testing._applymerge`. The kubectl
specifics of apimachinery's field manager are kept too: an apply by the ``kubectl`` manager may
take over fields that still hold the values of the client-side ``last-applied-configuration``
annotation, and keeps that annotation in step with what it applied.

Simplifications: the fake has no OpenAPI types, so it cannot tell which JSON objects are Go
structs (always present, never owned as such) from maps (owned as a whole by whoever creates them,
the ``"."`` entries). Objects named ``metadata``, ``spec``, ``status``, ``template``,
``jobTemplate``, ``strategy`` or ``updateStrategy``, and the ``containers`` list, are treated as
structs; every other object or granular list that an update creates gets its ``"."``. Managers are
not capped at ten ``Update`` entries, and an apply that changes nothing still stamps ``time`` on
an applier's first entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from kr8s_trio._core._exceptions import APIError
from kr8s_trio._core._schema import Schema
from kr8s_trio.testing._applymerge import copy_value, merge_config, prune
from kr8s_trio.testing._fielddiff import diff_objects, fieldset_from_object, json_equal
from kr8s_trio.testing._fieldpath import render_path
from kr8s_trio.testing._fieldset import FieldSet
from kr8s_trio.testing._managedfields import (
    ManagedFieldsEntry,
    decode_entries,
    encode_entries,
)

__all__ = ["LAST_APPLIED_ANNOTATION", "record_update", "server_side_apply"]

#: kubectl's client-side apply annotation.
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
#: The field manager whose applies upgrade client-side apply (apimachinery ``lastappliedmanager``).
_KUBECTL = "kubectl"
_STRUCT_LIKE = frozenset(
    {
        "f:metadata",
        "f:spec",
        "f:status",
        "f:template",
        "f:jobTemplate",
        "f:strategy",
        "f:updateStrategy",
        "f:containers",
    }
)

JSONDict = dict[str, object]


def record_update(
    old: Mapping[str, object] | None,
    new: Mapping[str, object],
    managed_fields: Sequence[object],
    *,
    manager: str,
    api_version: str,
    time: str,
    schema: Schema,
    subresource: str | None = None,
) -> list[JSONDict]:
    """The managedFields after a non-apply write (create, PUT, merge/JSON/strategic PATCH).

    ``manager`` takes every field whose value the write added or changed (all of ``new`` for a
    create); other managers lose them (updates never conflict); fields the write removed leave
    every set; managers left with nothing are dropped. The writer's entry gets ``time`` only when
    it took something, as kube-apiserver does.

    Args:
        old: the stored object, or ``None`` for a create.
        new: the object about to be stored.
        managed_fields: the managedFields to start from (see `select_managed_fields`).
        manager: the field manager (``fieldManager`` or the User-Agent prefix).
        api_version: the apiVersion the write used (``v1``, ``apps/v1``).
        time: the write's time, RFC 3339.
        schema: list types and atomic structs of the kind.
        subresource: the subresource written (``status``), recorded on the entry.

    Raises:
        PatchError: ``managed_fields`` is malformed.
    """
    entries = decode_entries(managed_fields)
    diff = diff_objects(_without_managed_fields(old or {}), _without_managed_fields(new), schema)
    structs = FieldSet(p for p in diff.new_containers if p[-1] in _STRUCT_LIKE)
    taken = diff.changed - structs
    me = ManagedFieldsEntry(manager, "Update", api_version, time, subresource or None, FieldSet())
    previous = entries.pop(me.identity, None)
    for entry in entries.values():
        entry.fields = entry.fields - diff.changed - diff.removed
    if previous is not None:
        previous.fields = previous.fields - diff.changed - diff.removed
    if taken:
        me.fields = taken | (previous.fields if previous is not None else FieldSet())
        entries[me.identity] = me
    elif previous is not None:
        entries[me.identity] = previous
    return encode_entries(list(entries.values()))


def server_side_apply(
    live: Mapping[str, object] | None,
    applied: Mapping[str, object],
    managed_fields: Sequence[object],
    *,
    manager: str,
    force: bool,
    api_version: str,
    time: str,
    schema: Schema,
    subresource: str | None = None,
) -> tuple[JSONDict, list[JSONDict]]:
    """Apply a configuration: merge it over the live object and update field ownership.

    The returned object carries the new managedFields in ``metadata.managedFields`` too; server
    fields in the configuration (``uid``, ``resourceVersion``, ...) are merged like any other, so
    the caller resets them as for any write.

    Args:
        live: the stored object, or ``None`` when the apply creates it.
        applied: the applied configuration (decoded YAML/JSON); ``null`` values count as absent.
        managed_fields: the stored managedFields.
        manager: the field manager (required for apply).
        force: take fields owned by other managers instead of failing.
        api_version: the apiVersion of the applied configuration.
        time: the write's time, RFC 3339.
        schema: list types and atomic structs of the kind.
        subresource: the subresource applied to (``status``).

    Returns:
        ``(new object, new managedFields)``.

    Raises:
        ConflictError: the configuration changes fields other managers own and ``force`` is false
            (409, reason Conflict, one ``FieldManagerConflict`` cause per field, message exactly
            like kube-apiserver's).
        PatchError: ``managed_fields`` is malformed.
    """
    entries = decode_entries(managed_fields)
    base = _without_managed_fields(live or {}, nulls=True)
    config = _without_managed_fields(applied)
    merged = merge_config(base, config, (), schema)
    assert isinstance(merged, dict)
    me = ManagedFieldsEntry(manager, "Apply", api_version, time, subresource or None, FieldSet())
    me.fields = fieldset_from_object(config, schema)
    previous = entries.pop(me.identity, None)
    if previous is not None:
        protected = me.fields
        for entry in entries.values():
            protected = protected | entry.fields
        prune(merged, previous.fields - me.fields, protected, schema)
    diff = diff_objects(base, merged, schema)
    conflicts = [(e, e.fields & diff.changed) for e in entries.values() if e.fields & diff.changed]
    if conflicts and not force:
        allowed = _allowed_by_last_applied(base, schema) if manager == _KUBECTL else FieldSet()
        denied = [(e, paths - allowed) for e, paths in conflicts if paths - allowed]
        if denied:
            raise _conflict_error(denied)
    for entry in entries.values():
        entry.fields = entry.fields - diff.changed - diff.removed
    if previous is not None and json_equal(base, merged):
        me.time = previous.time
    entries[me.identity] = me
    if manager == _KUBECTL and LAST_APPLIED_ANNOTATION in _annotations(merged):
        _annotations(merged)[LAST_APPLIED_ANNOTATION] = _last_applied(config)
    managed = encode_entries(list(entries.values()))
    meta = merged.setdefault("metadata", {})
    if isinstance(meta, dict):
        if managed:
            meta["managedFields"] = copy_value(managed)
        else:
            meta.pop("managedFields", None)
    return merged, managed


def _without_managed_fields(obj: Mapping[str, object], *, nulls: bool = False) -> JSONDict:
    out = copy_value(dict(obj), nulls=nulls)
    assert isinstance(out, dict)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return out


# -- conflicts --------------------------------------------------------------------------------


def _conflict_error(conflicts: list[tuple[ManagedFieldsEntry, FieldSet]]) -> APIError:
    conflicts = sorted(conflicts, key=lambda c: c[0].identifier())
    causes: list[JSONDict] = []
    lines: list[str] = []
    for entry, paths in conflicts:
        lines.append(f"conflicts with {entry.printed()}:")
        for path in paths.ordered():
            rendered = render_path(path)
            lines.append(f"- {rendered}")
            causes.append(
                {
                    "reason": "FieldManagerConflict",
                    "message": f"conflict with {entry.printed()}",
                    "field": rendered,
                }
            )
    if len(causes) == 1:
        message = f"Apply failed with 1 conflict: {causes[0]['message']}: {causes[0]['field']}"
    else:
        message = f"Apply failed with {len(causes)} conflicts: " + "\n".join(lines)
    return APIError.from_status(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "Conflict",
            "details": {"causes": causes},
            "code": 409,
        }
    )


def _annotations(obj: JSONDict) -> JSONDict:
    """The object's annotations (the live dict), or a throwaway ``{}`` when it has none."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def _allowed_by_last_applied(live: JSONDict, schema: Schema) -> FieldSet:
    """Fields client-side apply last set that still hold the values it set."""
    raw = _annotations(live).get(LAST_APPLIED_ANNOTATION)
    try:
        last = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        last = None
    if not isinstance(last, dict):
        return FieldSet()
    last = _without_managed_fields(last)
    return fieldset_from_object(last, schema) - diff_objects(last, live, schema).modified


def _last_applied(config: JSONDict) -> str:
    copy = copy_value(config)
    assert isinstance(copy, dict)
    _annotations(copy).pop(LAST_APPLIED_ANNOTATION, None)
    return json.dumps(copy, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
