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
first, then by time, manager, apiVersion, subresource). The kubectl specifics of
apimachinery's field manager are kept too: an apply by the ``kubectl`` manager may take over fields
that still hold the values of the client-side ``last-applied-configuration`` annotation, and keeps
that annotation in step with what it applied.

Simplifications: the fake has no OpenAPI types, so it cannot tell which JSON objects are Go
structs (always present, never owned as such) from maps (owned as a whole by whoever creates them,
the ``"."`` entries). Objects named ``metadata``, ``spec``, ``status``, ``template``,
``jobTemplate``, ``strategy`` or ``updateStrategy``, and the ``containers`` list, are treated as
structs; every other object or granular list that an update creates gets its ``"."``. Managers are
not capped at ten ``Update`` entries, and an apply that changes nothing still stamps ``time`` on
an applier's first entry.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence

import attrs

from kr8s_trio._core._exceptions import APIError, PatchError
from kr8s_trio._core._schema import FieldSpec, Schema
from kr8s_trio.testing._fieldset import (
    FieldSet,
    Path,
    SchemaPath,
    diff_objects,
    fieldset_from_object,
    from_fields_v1,
    item_element,
    json_equal,
    render_path,
    to_fields_v1,
)

__all__ = ["LAST_APPLIED_ANNOTATION", "record_update", "select_managed_fields", "server_side_apply"]

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


@attrs.define
class _Entry:
    """One decoded managedFields entry."""

    manager: str
    operation: str
    api_version: str
    time: str | None
    subresource: str | None
    fields: FieldSet

    @property
    def identity(self) -> tuple[str, str, str, str]:
        # apimachinery's BuildManagerIdentifier: appliers are one manager across apiVersions
        version = "" if self.operation == "Apply" else self.api_version
        return (self.manager, self.operation, version, self.subresource or "")

    def identifier(self) -> str:
        """The manager identifier as apimachinery serialises it (conflicts are sorted by it)."""
        out: JSONDict = {"manager": self.manager, "operation": self.operation}
        if self.operation != "Apply":
            out["apiVersion"] = self.api_version
        if self.subresource:
            out["subresource"] = self.subresource
        return json.dumps(out, separators=(",", ":"), ensure_ascii=False)

    def printed(self) -> str:
        """The manager as a conflict message names it (apimachinery ``printManager``)."""
        out = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            out += f" with subresource {json.dumps(self.subresource, ensure_ascii=False)}"
        if self.operation == "Update":
            out += f" using {self.api_version}"
        return out

    def to_json(self) -> JSONDict:
        out: JSONDict = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = to_fields_v1(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def _decode(entries: Sequence[object]) -> dict[tuple[str, str, str, str], _Entry]:
    """Decode managedFields; a later entry with the same identity replaces an earlier one.

    Raises:
        PatchError: an entry is malformed (the message names its index and what is wrong).
    """
    out: dict[tuple[str, str, str, str], _Entry] = {}
    for i, raw in enumerate(entries):
        where = f"metadata.managedFields[{i}]"
        if not isinstance(raw, Mapping):
            raise PatchError(f"{where}: expected an object, got {raw!r}")
        operation = raw.get("operation")
        if operation not in ("Apply", "Update"):
            raise PatchError(f"{where}.operation: must be `Apply` or `Update`, got {operation!r}")
        api_version = raw.get("apiVersion")
        if not isinstance(api_version, str) or not api_version:
            raise PatchError(f"{where}.apiVersion: must not be empty")
        fields_type = raw.get("fieldsType")
        if fields_type != "FieldsV1":
            raise PatchError(f"{where}.fieldsType: must be FieldsV1, got {fields_type!r}")
        manager, time, sub = raw.get("manager", ""), raw.get("time"), raw.get("subresource")
        if not isinstance(manager, str):
            raise PatchError(f"{where}.manager: must be a string, got {manager!r}")
        if time is not None and not isinstance(time, str):
            raise PatchError(f"{where}.time: must be an RFC 3339 string, got {time!r}")
        if sub is not None and not isinstance(sub, str):
            raise PatchError(f"{where}.subresource: must be a string, got {sub!r}")
        try:
            fields = from_fields_v1(raw.get("fieldsV1") or {})
        except PatchError as exc:
            raise PatchError(f"{where}.fieldsV1: {exc}") from None
        entry = _Entry(manager, str(operation), api_version, time, sub or None, fields)
        out[entry.identity] = entry
    return out


def _unix(time: str | None) -> float:
    if not time:
        return 0.0
    try:
        return datetime.datetime.fromisoformat(time).timestamp() // 1
    except ValueError:
        return 0.0


def _encode(entries: Sequence[_Entry]) -> list[JSONDict]:
    """Non-empty entries in kube-apiserver's order (``sortEncodedManagedFields``)."""
    kept = [e for e in entries if e.fields]
    kept.sort(
        key=lambda e: (e.operation, _unix(e.time), e.manager, e.api_version, e.subresource or "")
    )
    return [e.to_json() for e in kept]


def select_managed_fields(
    live: Sequence[object] | None, request: Sequence[object] | None, *, subresource: bool = False
) -> list[JSONDict]:
    """The managedFields an update starts from, given the stored and the sent ones.

    Mirrors apimachinery's ``decodeLiveOrNew``: a request may replace managedFields wholesale
    (``[{}]`` resets them), but one that sends none, or invalid ones, keeps the stored entries, so
    clients unaware of managedFields cannot wipe them. Writes to a subresource always keep the
    stored entries. Invalid stored entries are dropped.

    Args:
        live: ``metadata.managedFields`` of the stored object (``None`` on create).
        request: ``metadata.managedFields`` of the request body.
        subresource: the write targets a subresource (``status``, ``scale``).
    """
    if not subresource and request is not None:
        if len(request) == 1 and request[0] == {}:
            return []
        try:
            if _decode(request):
                return [dict(e) for e in request if isinstance(e, Mapping)]
        except PatchError:
            pass
    try:
        _decode(live or [])
    except PatchError:
        return []
    return [dict(e) for e in live or [] if isinstance(e, Mapping)]


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
    entries = _decode(managed_fields)
    diff = diff_objects(_without_managed_fields(old or {}), _without_managed_fields(new), schema)
    structs = FieldSet(p for p in diff.new_containers if p[-1] in _STRUCT_LIKE)
    taken = diff.changed - structs
    me = _Entry(manager, "Update", api_version, time, subresource or None, FieldSet())
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
    return _encode(list(entries.values()))


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
    entries = _decode(managed_fields)
    base = _without_managed_fields(live or {}, nulls=True)
    config = _without_managed_fields(applied)
    merged = _merge(base, config, (), schema)
    assert isinstance(merged, dict)
    me = _Entry(manager, "Apply", api_version, time, subresource or None, FieldSet())
    me.fields = fieldset_from_object(config, schema)
    previous = entries.pop(me.identity, None)
    if previous is not None:
        protected = me.fields
        for entry in entries.values():
            protected = protected | entry.fields
        _prune(merged, previous.fields - me.fields, protected, schema)
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
    managed = _encode(list(entries.values()))
    meta = merged.setdefault("metadata", {})
    if isinstance(meta, dict):
        if managed:
            meta["managedFields"] = _copy(managed)
        else:
            meta.pop("managedFields", None)
    return merged, managed


# -- conflicts --------------------------------------------------------------------------------


def _conflict_error(conflicts: list[tuple[_Entry, FieldSet]]) -> APIError:
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
    copy = _copy(config)
    assert isinstance(copy, dict)
    _annotations(copy).pop(LAST_APPLIED_ANNOTATION, None)
    return json.dumps(copy, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# -- merging ----------------------------------------------------------------------------------


def _copy(val: object, *, nulls: bool = False) -> object:
    """A deep copy of decoded JSON; ``null`` members are dropped unless ``nulls``.

    An applied configuration's ``null`` means "absent"; a stored object's nulls are kept so that
    an apply changing nothing leaves it byte for byte as it was.
    """
    if isinstance(val, dict):
        return {k: _copy(v, nulls=nulls) for k, v in val.items() if nulls or v is not None}
    if isinstance(val, list):
        return [_copy(v, nulls=nulls) for v in val]
    return val


def _without_managed_fields(obj: Mapping[str, object], *, nulls: bool = False) -> JSONDict:
    out = _copy(dict(obj), nulls=nulls)
    assert isinstance(out, dict)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return out


def _granular_list(spec: FieldSpec | None) -> bool:
    return spec is not None and spec.list_type in ("set", "map")


def _merge(live: object, config: object, spath: SchemaPath, schema: Schema) -> object:
    """``config`` (null-free) written over ``live``, as a fresh copy sharing nothing with either.

    Live keys keep their order (nulls included), new keys follow in ``config``'s order.
    """
    if live is None:
        return _copy(config)
    spec = schema.at(spath) if spath else None
    if isinstance(live, dict) and isinstance(config, dict) and not (spec and spec.atomic):
        out: JSONDict = {}
        for name, child in live.items():
            if name in config:
                out[name] = _merge(child, config[name], (*spath, name), schema)
            else:
                out[name] = _copy(child, nulls=True)
        for name, child in config.items():
            if name not in live:
                out[name] = _copy(child)
        return out
    if isinstance(live, list) and isinstance(config, list) and _granular_list(spec):
        assert spec is not None
        return _merge_lists(live, config, spec, spath, schema)
    return _copy(config)


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
        out.append(_merge(left.get(element), right[element], (*spath, 0), schema))
        done.add(element)

    while li < len(left_order) or ri < len(right_order):
        if li < len(left_order):
            element = left_order[li]
            if element in done:
                li += 1
                continue
            if element not in right:
                out.append(_copy(left[element], nulls=True))
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


def _prune(obj: JSONDict, candidates: FieldSet, protected: FieldSet, schema: Schema) -> None:
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
