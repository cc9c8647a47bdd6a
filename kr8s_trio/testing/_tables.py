"""Server-side Table output (``meta.k8s.io/v1 Table``), as ``kubectl get`` asks for it.

kubectl prints only what the server puts in a Table: without one it falls back to ``NAME AGE``.
This module decides when a request wants a Table and assembles it from the rows of the resource
type's printer (`kr8s_trio.testing._printers`: the per-kind columns and cell logic of the built-in
kinds, CRD ``additionalPrinterColumns``, and the ``Name`` / ``Created At`` default for everything
else). Cells are computed from a caller-supplied ``now`` so output is deterministic under test.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from kr8s_trio.testing._clock import Clock
from kr8s_trio.testing._columns import column_json
from kr8s_trio.testing._http import Request
from kr8s_trio.testing._printers import printer_for
from kr8s_trio.testing._resources import ResourceType
from kr8s_trio.testing._status import bad_request

__all__ = [
    "TABLE_VERSIONS",
    "TableRequest",
    "partial_object_metadata",
    "table_request",
    "table_row_event",
    "to_table",
]

JSONObject = dict[str, Any]
#: the Table versions served, keyed by the ``v`` parameter of the Accept clause
TABLE_VERSIONS: Final = {"v1": "meta.k8s.io/v1", "v1beta1": "meta.k8s.io/v1beta1"}
_INCLUDE_OBJECT = ("None", "Metadata", "Object")
#: conversions a JSON clause may ask for that are served, but are not Tables
_OTHER_CONVERSIONS = ("PartialObjectMetadata", "PartialObjectMetadataList")


@attrs.frozen
class TableRequest:
    """A request for Table output.

    Attributes:
        api_version: ``meta.k8s.io/v1`` or ``meta.k8s.io/v1beta1``.
        include_object: what ``rows[].object`` holds: ``None``, ``Metadata`` (default) or
            ``Object``.
    """

    api_version: str = TABLE_VERSIONS["v1"]
    include_object: str = "Metadata"


def table_request(request: Request) -> TableRequest | None:
    """The Table the request asks for, or None when the plain object or list should be served.

    Only the first *acceptable* Accept clause counts (kubectl sends Table clauses first and
    ``application/json`` last): a JSON clause without conversion parameters means no Table; a
    clause for a conversion the server does not know, or a media type other than JSON/YAML, is
    skipped.

    Raises:
        APIError: 400 for an ``includeObject`` value other than None, Metadata or Object.
    """
    for clause in request.accept:
        if not (clause.matches_json() or clause.type == "application/yaml"):
            continue
        conversion = {k: clause.params[k] for k in ("as", "g", "v") if k in clause.params}
        if not conversion:
            return None
        kind, group = conversion.get("as"), conversion.get("g")
        if kind == "Table" and group == "meta.k8s.io" and conversion.get("v") in TABLE_VERSIONS:
            include = request.param("includeObject") or "Metadata"
            if include not in _INCLUDE_OBJECT:
                raise bad_request(f"unrecognized includeObject value: {json.dumps(include)}")
            return TableRequest(TABLE_VERSIONS[conversion["v"]], include)
        if kind in _OTHER_CONVERSIONS and group == "meta.k8s.io":
            return None
    return None


def partial_object_metadata(
    obj: Mapping[str, Any], api_version: str = "meta.k8s.io/v1"
) -> JSONObject:
    """``obj`` reduced to its metadata, as a ``PartialObjectMetadata``."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": api_version,
        "metadata": obj.get("metadata") or {},
    }


def to_table(
    rt: ResourceType,
    objects: Sequence[Mapping[str, Any]],
    tr: TableRequest,
    *,
    resource_version: str,
    continue_token: str | None = None,
    remaining: int | None = None,
    now: datetime,
    include_column_definitions: bool = True,
) -> JSONObject:
    """Render objects of one resource type as a Table.

    Args:
        rt: the resource type the objects belong to (selects the printer).
        objects: the objects, in row order.
        tr: the requested Table version and ``includeObject`` policy.
        resource_version: ``metadata.resourceVersion`` of the Table (the list's, or the object's).
        continue_token: ``metadata.continue`` for a paginated list.
        remaining: ``metadata.remainingItemCount`` for a paginated list.
        now: the time ages are computed against.
        include_column_definitions: False for every watch event after the first, as the real
            server does.

    Returns:
        The Table as a JSON-ready dict.
    """
    columns, row_cells = printer_for(rt)
    metadata: JSONObject = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    if remaining is not None:
        metadata["remainingItemCount"] = remaining
    clock = Clock(now if now.tzinfo else now.replace(tzinfo=UTC))
    rows = []
    for obj in objects:
        cells, conditions = row_cells(obj, clock)
        row: JSONObject = {"cells": cells}
        if conditions:
            row["conditions"] = conditions
        if tr.include_object == "Object":
            row["object"] = obj
        elif tr.include_object == "Metadata":
            row["object"] = partial_object_metadata(obj, tr.api_version)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": tr.api_version,
        "metadata": metadata,
        "columnDefinitions": [column_json(c) for c in columns]
        if include_column_definitions
        else [],
        "rows": rows,
    }


def table_row_event(
    rt: ResourceType,
    obj: Mapping[str, Any],
    tr: TableRequest,
    *,
    now: datetime,
    first: bool,
) -> JSONObject:
    """The Table that replaces ``obj`` in a watch event (one row; columns only when ``first``)."""
    rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
    return to_table(rt, [obj], tr, resource_version=rv, now=now, include_column_definitions=first)
