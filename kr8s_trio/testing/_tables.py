"""Server-side Table output (``meta.k8s.io/v1 Table``), as ``kubectl get`` asks for it.

kubectl prints only what the server puts in a Table: without one it falls back to ``NAME AGE``.
This module decides when a request wants a Table and renders objects the way kube-apiserver's
printers do: the per-kind columns and cell logic of the built-in kinds (pod status reasons,
``1/2`` readiness, ``3 (5m ago)`` restarts...), CRD ``additionalPrinterColumns`` through a small
JSONPath evaluator, and the ``Name`` / ``Created At`` default for everything else. Cells are
computed from a caller-supplied ``now`` so output is deterministic under test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from kr8s_trio.testing._http import Request
from kr8s_trio.testing._resources import PrinterColumn, ResourceType
from kr8s_trio.testing._status import bad_request

__all__ = [
    "TABLE_VERSIONS",
    "TableRequest",
    "evaluate_jsonpath",
    "human_duration",
    "partial_object_metadata",
    "table_request",
    "table_row_event",
    "to_table",
]

JSONObject = dict[str, Any]
Cell = str | int | float | bool | None
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


def human_duration(seconds: float) -> str:
    """A duration the way kubectl prints ages: ``45s``, ``3m2s``, ``17m``, ``5h10m``, ``2d3h``.

    Follows apimachinery's ``duration.HumanDuration``: about two significant units, ``0s`` for a
    slightly negative duration (clock skew) and ``<invalid>`` below -1 s.
    """
    if int(seconds) < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    whole = int(seconds)
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, (hours // 24) % 365
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{hours // 24 // 365}y"


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
    columns, row_cells = _printer(rt)
    metadata: JSONObject = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    if remaining is not None:
        metadata["remainingItemCount"] = remaining
    clock = _Clock(now if now.tzinfo else now.replace(tzinfo=UTC))
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
        "columnDefinitions": [_column_json(c) for c in columns]
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


# -- time -------------------------------------------------------------------------------------


@attrs.frozen
class _Clock:
    now: datetime

    def since(self, timestamp: object) -> str:
        """``translateTimestampSince``: the age of an RFC 3339 timestamp, ``<unknown>`` if unset."""
        when = _parse_time(timestamp)
        if when is None:
            return "<unknown>"
        return human_duration((self.now - when).total_seconds())

    def between(self, start: object, end: object) -> str:
        a, b = _parse_time(start), _parse_time(end)
        if a is None or b is None:
            return ""
        return human_duration((b - a).total_seconds())


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- JSONPath for printer columns -------------------------------------------------------------

_MISSING: Final = object()
_STEP = re.compile(
    r"""\.(?P<field>(?:\\.|[^.\[\\])+)"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\[(?P<quote>['"])(?P<key>.*?)(?P=quote)\]"""
    r"""|\[(?P<star>\*)\]"""
    r"""|\[\?\(@(?P<fpath>(?:\.[\w-]+)+)\s*(?P<op>==|!=)\s*(?P<fq>['"])(?P<fval>.*?)(?P=fq)\)\]"""
)


def evaluate_jsonpath(obj: Any, path: str) -> Any:
    """The first value ``path`` selects in ``obj``, or None when it selects nothing.

    Supports what printer columns use: ``.a.b``, ``.a[0].b``, ``['a.b']``, ``\\.`` escapes in
    field names, ``[*]`` and filters like ``[?(@.type=="Ready")]``; a ``{...}`` wrapper is allowed.

    Raises:
        ValueError: for a path outside that subset.
    """
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    candidates: list[Any] = [obj]
    pos = 0
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise ValueError(f"unsupported JSONPath {path!r} at offset {pos}")
        pos = m.end()
        candidates = [v for c in candidates for v in _step(c, m) if v is not _MISSING]
    return candidates[0] if candidates else None


def _step(value: Any, m: re.Match[str]) -> list[Any]:
    if m.group("field") is not None or m.group("key") is not None:
        name = m.group("key") if m.group("key") is not None else m.group("field")
        name = name if m.group("key") is not None else re.sub(r"\\(.)", r"\1", name)
        return [value.get(name, _MISSING)] if isinstance(value, dict) else []
    if not isinstance(value, list):
        return []
    if m.group("index") is not None:
        i = int(m.group("index"))
        return [value[i]] if -len(value) <= i < len(value) else []
    if m.group("star"):
        return list(value)
    want, equal = m.group("fval"), m.group("op") == "=="
    out = []
    for item in value:
        got = evaluate_jsonpath(item, m.group("fpath"))
        if (got is not None and _go_string(got) == want) == equal:
            out.append(item)
    return out


def _go_string(value: Any) -> str:
    """How Go's jsonpath prints a value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _custom_cell(column: PrinterColumn, obj: Mapping[str, Any], clock: _Clock) -> Cell:
    try:
        value = evaluate_jsonpath(obj, column.json_path)
    except ValueError:
        return None
    if value is None:
        return None
    kind = column.type
    if kind == "string":
        return _go_string(value)
    if kind == "integer" and isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "date" and isinstance(value, str):
        return clock.since(value) if _parse_time(value) else "<invalid>"
    return None


# -- columns and printers ---------------------------------------------------------------------

_Column = tuple[str, str, int, str, str]  # name, type, priority, description, format
_Conditions = list[JSONObject]
_RowFn = Callable[[Mapping[str, Any], _Clock], tuple[list[Cell], _Conditions]]

_NAME: _Column = ("Name", "string", 0, "The name of the object, unique per namespace.", "name")
_AGE_DOC = "When the object was created (metadata.creationTimestamp)."
#: column descriptions, by column title
_DOCS = {
    "Ready": "Ready members out of the desired number.",
    "Status": "The aggregate status of the object.",
    "Restarts": "Container restarts, and how long ago the last one was.",
    "Age": _AGE_DOC,
    "IP": "The pod's IP address.",
    "Node": "The node the pod is bound to.",
    "Nominated Node": "The node nominated by preemption.",
    "Readiness Gates": "Readiness gates that are satisfied.",
    "Containers": "Names of the template's containers.",
    "Images": "Images of the template's containers.",
    "Selector": "The label selector of the object.",
    "Up-to-date": "Members running the latest template.",
    "Available": "Members available to serve.",
    "Desired": "The number of members wanted.",
    "Current": "The number of members that exist.",
    "Node Selector": "The template's node selector.",
    "Completions": "Succeeded pods out of the completions wanted.",
    "Duration": "How long the job ran, or has been running.",
    "Schedule": "The cron schedule.",
    "Timezone": "The time zone of the schedule.",
    "Suspend": "Whether new runs are suspended.",
    "Active": "Jobs currently running.",
    "Last Schedule": "When a job was last scheduled.",
    "Type": "The type of the object.",
    "Cluster-IP": "The service's cluster IP address.",
    "External-IP": "Addresses reachable from outside the cluster.",
    "Port(s)": "The ports the service exposes.",
    "Roles": "The roles of the node.",
    "Version": "The kubelet version.",
    "Internal-IP": "The node's internal address.",
    "OS-Image": "The operating system image.",
    "Kernel-Version": "The kernel version.",
    "Container-Runtime": "The container runtime version.",
    "Data": "The number of data keys.",
    "Secrets": "The number of secrets listed.",
    "Volume": "The bound volume.",
    "Capacity": "The capacity of the bound volume.",
    "Access Modes": "The access modes of the bound volume.",
    "StorageClass": "The storage class of the claim.",
    "VolumeAttributesClass": "The volume attributes class of the claim.",
    "VolumeMode": "Filesystem or Block.",
    "Last Seen": "When the event was last seen.",
    "Reason": "Why the event happened, in CamelCase.",
    "Object": "The object the event is about.",
    "Subobject": "The part of the object the event is about.",
    "Source": "The component that reported the event.",
    "Message": "A human-readable description.",
    "First Seen": "When the event was first seen.",
    "Count": "How many times the event happened.",
}


def _columns(spec: str) -> list[_Column]:
    """Columns from ``"Name, Ready, Restarts:integer, IP*"`` (``*``: priority 1, wide only)."""
    out: list[_Column] = []
    for entry in spec.split(", "):
        priority = 1 if entry.endswith("*") else 0
        title, _, type_ = entry.rstrip("*").partition(":")
        if title == "Name":
            out.append((*_NAME[:2], priority, *_NAME[3:]))
        else:
            out.append((title, type_ or "string", priority, _DOCS.get(title, ""), ""))
    return out


def _column_json(c: _Column) -> JSONObject:
    return {"name": c[0], "type": c[1], "format": c[4], "description": c[3], "priority": c[2]}


def _printer(rt: ResourceType) -> tuple[list[_Column], _RowFn]:
    """Built-in printer, else CRD columns (an Age column when none), else Name/Created At."""
    if rt.crd_name is None:
        printer = _PRINTERS.get((rt.group, rt.kind))
        if printer is not None:
            return printer
        if not rt.printer_columns:
            return _DEFAULT
    columns = list(rt.printer_columns) or [
        PrinterColumn(name="Age", type="date", json_path=".metadata.creationTimestamp")
    ]

    def cells(obj: Mapping[str, Any], clock: _Clock) -> tuple[list[Cell], _Conditions]:
        return [_name(obj), *(_custom_cell(c, obj, clock) for c in columns)], []

    crd_doc = "Custom resource definition column (in JSONPath format): "
    defs = [_NAME]
    for c in columns:
        defs.append((c.name, c.type, c.priority, c.description or crd_doc + c.json_path, c.format))
    return defs, cells


def _d(obj: Mapping[str, Any], *path: str) -> Any:
    cur: Any = obj
    for part in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _list(obj: Mapping[str, Any], *path: str) -> list[Any]:
    value = _d(obj, *path)
    return value if isinstance(value, list) else []


def _int(obj: Mapping[str, Any], *path: str, default: int = 0) -> int:
    value = _d(obj, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _name(obj: Mapping[str, Any]) -> str:
    return str(_d(obj, "metadata", "name") or "")


def _age(obj: Mapping[str, Any], clock: _Clock) -> str:
    return clock.since(_d(obj, "metadata", "creationTimestamp"))


def _format_labels(labels: object) -> str:
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _selector_string(selector: object) -> str:
    """A LabelSelector in label-selector syntax (empty for nil or match-everything)."""
    if not isinstance(selector, dict):
        return ""
    parts: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        parts.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(sorted(expr.get("values") or []))
        text = {
            "In": f"{key} in ({values})",
            "NotIn": f"{key} notin ({values})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(op, "<invalid>")
        parts.append((key, text))
    return ",".join(text for _, text in sorted(parts, key=lambda p: p[0]))


def _format_selector(selector: object) -> str:
    return _selector_string(selector) or "<none>"


def _template_cells(template_spec: object) -> list[Cell]:
    containers = template_spec.get("containers") if isinstance(template_spec, dict) else None
    containers = containers if isinstance(containers, list) else []
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return [names, images]


def _condition_true(status: object, kind: str) -> bool:
    conditions = status.get("conditions") if isinstance(status, dict) else None
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions or [])


def _later(a: datetime | None, b: object) -> datetime | None:
    t = _parse_time(b)
    if t is None:
        return a
    return t if a is None or t > a else a


def _pod(pod: Mapping[str, Any], clock: _Clock) -> tuple[list[Cell], _Conditions]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}

    def sidecar(name: object) -> bool:
        return (init_specs.get(name) or {}).get("restartPolicy") == "Always"

    total = len(spec.get("containers") or []) + sum(1 for n in init_specs if sidecar(n))
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    ready = restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        count = cs.get("restartCount") or 0
        finished = _d(cs, "lastState", "terminated", "finishedAt")
        restarts += count
        last_restart = _later(last_restart, finished)
        if sidecar(cs.get("name")):
            sidecar_restarts += count
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if sidecar(cs.get("name")) and cs.get("started") is True:
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            reason = "Init:" + _terminated_reason(terminated)
        elif waiting is not None and waiting.get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing or _condition_true(status, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount") or 0
            last_restart = _later(last_restart, _d(cs, "lastState", "terminated", "finishedAt"))
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated)
            elif cs.get("ready") and state.get("running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"
    if _d(pod, "metadata", "deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    restart_cell = str(restarts)
    if restarts and last_restart is not None:
        restart_cell = (
            f"{restarts} ({human_duration((clock.now - last_restart).total_seconds())} ago)"
        )
    ips = status.get("podIPs") or []
    ip = (ips[0].get("ip") if ips else None) or status.get("podIP") or "<none>"
    gates = spec.get("readinessGates") or []
    gate_cell = "<none>"
    if gates:
        passed = sum(1 for g in gates if _condition_true(status, g.get("conditionType")))
        gate_cell = f"{passed}/{len(gates)}"
    cells: list[Cell] = [
        _name(pod),
        f"{ready}/{total}",
        reason,
        restart_cell,
        _age(pod, clock),
        ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gate_cell,
    ]
    conditions: _Conditions = []
    if phase in ("Succeeded", "Failed"):
        message = (
            "The pod has completed successfully." if phase == "Succeeded" else "The pod failed."
        )
        conditions.append(
            {"type": "Completed", "status": "True", "reason": phase, "message": message}
        )
    return cells, conditions


def _terminated_reason(terminated: Mapping[str, Any]) -> str:
    if terminated.get("reason"):
        return str(terminated["reason"])
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode', 0)}"


def _simple(fn: Callable[[Mapping[str, Any], _Clock], list[Cell]]) -> _RowFn:
    def row(obj: Mapping[str, Any], clock: _Clock) -> tuple[list[Cell], _Conditions]:
        return fn(obj, clock), []

    return row


def _deployment(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
    desired = _int(o, "spec", "replicas", default=1)
    return [
        _name(o),
        f"{_int(o, 'status', 'readyReplicas')}/{desired}",
        _int(o, "status", "updatedReplicas"),
        _int(o, "status", "availableReplicas"),
        _age(o, clock),
        *_template_cells(_d(o, "spec", "template", "spec")),
        _selector_string(_d(o, "spec", "selector")),
    ]


def _replicas(map_selector: bool) -> _RowFn:
    """ReplicaSets (LabelSelector) and ReplicationControllers (a plain label map)."""

    def cells(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
        selector = _d(o, "spec", "selector")
        return [
            _name(o),
            _int(o, "spec", "replicas", default=1),
            _int(o, "status", "replicas"),
            _int(o, "status", "readyReplicas"),
            _age(o, clock),
            *_template_cells(_d(o, "spec", "template", "spec")),
            _format_labels(selector) if map_selector else _format_selector(selector),
        ]

    return _simple(cells)


def _stateful_set(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
    ready = f"{_int(o, 'status', 'readyReplicas')}/{_int(o, 'spec', 'replicas', default=1)}"
    return [_name(o), ready, _age(o, clock), *_template_cells(_d(o, "spec", "template", "spec"))]


def _daemon_set(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
    counts = ("desiredNumberScheduled", "currentNumberScheduled", "numberReady")
    more = ("updatedNumberScheduled", "numberAvailable")
    return [
        _name(o),
        *(_int(o, "status", c) for c in counts + more),
        _format_labels(_d(o, "spec", "template", "spec", "nodeSelector")),
        _age(o, clock),
        *_template_cells(_d(o, "spec", "template", "spec")),
        _format_selector(_d(o, "spec", "selector")),
    ]


def _job(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
    succeeded = _int(o, "status", "succeeded")
    completions = _d(o, "spec", "completions")
    if isinstance(completions, int):
        done = f"{succeeded}/{completions}"
    elif _int(o, "spec", "parallelism") > 1:
        done = f"{succeeded}/1 of {_int(o, 'spec', 'parallelism')}"
    else:
        done = f"{succeeded}/1"
    start, end = _d(o, "status", "startTime"), _d(o, "status", "completionTime")
    duration = (
        "" if start is None else clock.since(start) if end is None else clock.between(start, end)
    )
    status = o.get("status") or {}
    if _condition_true(status, "Complete"):
        state = "Complete"
    elif _condition_true(status, "Failed"):
        state = "Failed"
    elif _d(o, "metadata", "deletionTimestamp"):
        state = "Terminating"
    elif _condition_true(status, "Suspended"):
        state = "Suspended"
    elif _condition_true(status, "FailureTarget"):
        state = "FailureTarget"
    else:
        state = "Running"
    return [
        _name(o),
        state,
        done,
        duration,
        _age(o, clock),
        *_template_cells(_d(o, "spec", "template", "spec")),
        _format_selector(_d(o, "spec", "selector")),
    ]


def _cron_job(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
    last = _d(o, "status", "lastScheduleTime")
    job_spec = _d(o, "spec", "jobTemplate", "spec") or {}
    return [
        _name(o),
        str(_d(o, "spec", "schedule") or ""),
        str(_d(o, "spec", "timeZone") or "<none>"),
        "True" if _d(o, "spec", "suspend") is True else "False",
        len(_list(o, "status", "active")),
        clock.since(last) if last else "<none>",
        _age(o, clock),
        *_template_cells(_d(job_spec, "template", "spec")),
        _format_selector(job_spec.get("selector")),
    ]


def _service(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
    spec = o.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    external = ",".join(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        ingress = _list(o, "status", "loadBalancer", "ingress")
        lb = sorted(
            {i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")}
        )
        external = ",".join([*lb, *(spec.get("externalIPs") or [])]) or "<pending>"
    elif kind == "ExternalName":
        external = str(spec.get("externalName") or "")
    elif kind not in ("ClusterIP", "NodePort"):
        external = "<unknown>"
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol") or "TCP"
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        ports.append(f"{p.get('port')}{node}/{proto}")
    return [
        _name(o),
        kind,
        cluster_ips[0] if cluster_ips else "<none>",
        external or "<none>",
        ",".join(ports) or "<none>",
        _age(o, clock),
        _format_labels(spec.get("selector")),
    ]


def _node(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
    ready = [c for c in _list(o, "status", "conditions") if c.get("type") == "Ready"]
    states = (
        ["Ready" if ready[-1].get("status") == "True" else "NotReady"] if ready else ["Unknown"]
    )
    if _d(o, "spec", "unschedulable") is True:
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (_d(o, "metadata", "labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/":
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    addresses = _list(o, "status", "addresses")

    def address(kind: str) -> str:
        return next((a.get("address", "") for a in addresses if a.get("type") == kind), "<none>")

    info = _d(o, "status", "nodeInfo") or {}
    return [
        _name(o),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        _age(o, clock),
        str(info.get("kubeletVersion", "")),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _event(new_api: bool) -> _RowFn:
    """core/v1 Events, or events.k8s.io/v1 ones (same printer, other field names)."""
    return _simple(lambda o, clock: _event_cells(o, clock, new_api))


def _event_cells(o: Mapping[str, Any], clock: _Clock, new_api: bool) -> list[Cell]:
    if new_api:
        involved = o.get("regarding") or {}
        first_ts, last_ts = o.get("deprecatedFirstTimestamp"), o.get("deprecatedLastTimestamp")
        count, message = o.get("deprecatedCount") or 0, o.get("note") or ""
        source = o.get("deprecatedSource") or {}
    else:
        involved = o.get("involvedObject") or {}
        first_ts, last_ts = o.get("firstTimestamp"), o.get("lastTimestamp")
        count, message, source = o.get("count") or 0, o.get("message") or "", o.get("source") or {}
    first = clock.since(first_ts) if _parse_time(first_ts) else clock.since(o.get("eventTime"))
    last = clock.since(last_ts) if _parse_time(last_ts) else first
    series = o.get("series")
    if isinstance(series, dict):
        last, count = clock.since(series.get("lastObservedTime")), series.get("count") or 0
    elif not count:
        count = 1
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    component = source.get("component") or o.get("reportingController") or ""
    host = source.get("host") or o.get("reportingInstance") or ""
    return [
        last,
        o.get("type") or "",
        o.get("reason") or "",
        target,
        involved.get("fieldPath") or "",
        f"{component}, {host}" if host else component,
        str(message).strip(),
        first,
        count,
        _name(o),
    ]


def _access_modes(modes: object) -> str:
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}
    short["ReadWriteOncePod"] = "RWOP"
    present = modes if isinstance(modes, list) else []
    return ",".join(v for k, v in short.items() if k in present)


def _pvc(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
    spec = o.get("spec") or {}
    phase = "Terminating" if _d(o, "metadata", "deletionTimestamp") else _d(o, "status", "phase")
    bound = bool(spec.get("volumeName"))
    annotations = _d(o, "metadata", "annotations") or {}
    storage_class = annotations.get("volume.beta.kubernetes.io/storage-class")
    return [
        _name(o),
        phase or "",
        spec.get("volumeName") or "",
        str(_d(o, "status", "capacity", "storage") or "") if bound else "",
        _access_modes(_d(o, "status", "accessModes")) if bound else "",
        storage_class or spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(o, clock),
        spec.get("volumeMode") or "<unset>",
    ]


def _data_count(o: Mapping[str, Any]) -> int:
    return len(o.get("data") or {}) + len(o.get("binaryData") or {})


def _row(*parts: Callable[[Mapping[str, Any], _Clock], Cell]) -> _RowFn:
    """A row of the object's name followed by one cell per function."""
    return _simple(lambda o, clock: [_name(o), *(p(o, clock) for p in parts)])


def _default_cells(o: Mapping[str, Any], clock: _Clock) -> list[Cell]:
    del clock
    created = _parse_time(_d(o, "metadata", "creationTimestamp"))
    stamp = (
        created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if created
        else "0001-01-01T00:00:00Z"
    )
    return [_name(o), stamp]


_DEFAULT: tuple[list[_Column], _RowFn] = (
    [_NAME, ("Created At", "date", 0, _AGE_DOC, "")],
    _simple(_default_cells),
)
_TEMPLATE = "Containers*, Images*"
_REPLICAS = f"Name, Desired:integer, Current:integer, Ready:integer, Age, {_TEMPLATE}, Selector*"
_EVENTS = (
    "Last Seen, Type, Reason, Object, Subobject*, Source*, Message, First Seen*, Count*, Name*"
)
_PVC = "Name, Status, Volume, Capacity, Access Modes, StorageClass, VolumeAttributesClass, Age"

_PRINTERS: dict[tuple[str, str], tuple[list[_Column], _RowFn]] = {
    ("", "Pod"): (
        _columns(
            "Name, Ready, Status, Restarts, Age, IP*, Node*, Nominated Node*, Readiness Gates*"
        ),
        _pod,
    ),
    ("apps", "Deployment"): (
        _columns(f"Name, Ready, Up-to-date, Available, Age, {_TEMPLATE}, Selector*"),
        _simple(_deployment),
    ),
    ("apps", "ReplicaSet"): (_columns(_REPLICAS), _replicas(map_selector=False)),
    ("", "ReplicationController"): (_columns(_REPLICAS), _replicas(map_selector=True)),
    ("apps", "StatefulSet"): (_columns(f"Name, Ready, Age, {_TEMPLATE}"), _simple(_stateful_set)),
    ("apps", "DaemonSet"): (
        _columns(
            "Name, Desired:integer, Current:integer, Ready:integer, Up-to-date:integer,"
            f" Available:integer, Node Selector, Age, {_TEMPLATE}, Selector*"
        ),
        _simple(_daemon_set),
    ),
    ("batch", "Job"): (
        _columns(f"Name, Status, Completions, Duration, Age, {_TEMPLATE}, Selector*"),
        _simple(_job),
    ),
    ("batch", "CronJob"): (
        _columns(
            "Name, Schedule, Timezone, Suspend:boolean, Active:integer, Last Schedule, Age,"
            f" {_TEMPLATE}, Selector*"
        ),
        _simple(_cron_job),
    ),
    ("", "Service"): (
        _columns("Name, Type, Cluster-IP, External-IP, Port(s), Age, Selector*"),
        _simple(_service),
    ),
    ("", "Node"): (
        _columns(
            "Name, Status, Roles, Age, Version, Internal-IP*, External-IP*, OS-Image*,"
            " Kernel-Version*, Container-Runtime*"
        ),
        _simple(_node),
    ),
    ("", "Namespace"): (
        _columns("Name, Status, Age"),
        _row(lambda o, _: _d(o, "status", "phase") or "Active", _age),
    ),
    ("", "ConfigMap"): (_columns("Name, Data, Age"), _row(lambda o, _: _data_count(o), _age)),
    ("", "Secret"): (
        _columns("Name, Type, Data, Age"),
        _row(lambda o, _: o.get("type") or "Opaque", lambda o, _: len(o.get("data") or {}), _age),
    ),
    ("", "ServiceAccount"): (
        _columns("Name, Secrets, Age"),
        _row(lambda o, _: len(o.get("secrets") or []), _age),
    ),
    ("", "PersistentVolumeClaim"): (_columns(f"{_PVC}, VolumeMode*"), _simple(_pvc)),
    ("", "Event"): (_columns(_EVENTS), _event(new_api=False)),
    ("events.k8s.io", "Event"): (_columns(_EVENTS), _event(new_api=True)),
}
