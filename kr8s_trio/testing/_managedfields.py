"""The ``metadata.managedFields`` list: its entries, their wire form and order.

Each entry says which fields (a `FieldSet`, in FieldsV1) one manager owns, how it wrote them
(``Apply`` or ``Update``), through which apiVersion and subresource, and when. This module decodes
and validates the list as kube-apiserver does, encodes it back in the server's order (``Apply``
entries first, then by time, manager, apiVersion, subresource), and chooses the list an update
starts from (`select_managed_fields`). `kr8s_trio.testing._apply` changes the entries on writes.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence

import attrs

from kr8s_trio._core._exceptions import PatchError
from kr8s_trio.testing._fieldset import FieldSet, from_fields_v1, to_fields_v1

__all__ = ["ManagedFieldsEntry", "decode_entries", "encode_entries", "select_managed_fields"]

JSONDict = dict[str, object]


@attrs.define
class ManagedFieldsEntry:
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


def decode_entries(
    entries: Sequence[object],
) -> dict[tuple[str, str, str, str], ManagedFieldsEntry]:
    """Decode managedFields; a later entry with the same identity replaces an earlier one.

    Raises:
        PatchError: an entry is malformed (the message names its index and what is wrong).
    """
    out: dict[tuple[str, str, str, str], ManagedFieldsEntry] = {}
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
        entry = ManagedFieldsEntry(manager, str(operation), api_version, time, sub or None, fields)
        out[entry.identity] = entry
    return out


def _unix(time: str | None) -> float:
    if not time:
        return 0.0
    try:
        return datetime.datetime.fromisoformat(time).timestamp() // 1
    except ValueError:
        return 0.0


def encode_entries(entries: Sequence[ManagedFieldsEntry]) -> list[JSONDict]:
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
            if decode_entries(request):
                return [dict(e) for e in request if isinstance(e, Mapping)]
        except PatchError:
            pass
    try:
        decode_entries(live or [])
    except PatchError:
        return []
    return [dict(e) for e in live or [] if isinstance(e, Mapping)]
