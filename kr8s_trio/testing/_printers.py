"""Table printers: which columns and cells each resource type's Table has.

A printer is a column list and a row function. The built-in kinds have kube-apiserver's printers
(``kubectl get deployments`` shows ``READY UP-TO-DATE AVAILABLE AGE``...; the Pod one lives in
`kr8s_trio.testing._podprinter`), custom resources the CRD's ``additionalPrinterColumns``
(evaluated with `kr8s_trio._core._jsonpath`), and everything else ``Name`` / ``Created At``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from kr8s_trio._core._jsonpath import dig, evaluate_jsonpath, go_string
from kr8s_trio.testing._cells import (
    Cell,
    Conditions,
    RowFn,
    condition_true,
    format_labels,
    format_selector,
    int_at,
    list_at,
    object_age,
    object_name,
    selector_string,
    template_cells,
)
from kr8s_trio.testing._clock import Clock, parse_time
from kr8s_trio.testing._columns import AGE_DOC, NAME_COLUMN, Column, parse_columns
from kr8s_trio.testing._podprinter import pod_row
from kr8s_trio.testing._resources import PrinterColumn, ResourceType

__all__ = ["printer_for"]


def printer_for(rt: ResourceType) -> tuple[list[Column], RowFn]:
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

    def cells(obj: Mapping[str, Any], clock: Clock) -> tuple[list[Cell], Conditions]:
        return [object_name(obj), *(_custom_cell(c, obj, clock) for c in columns)], []

    crd_doc = "Custom resource definition column (in JSONPath format): "
    defs = [NAME_COLUMN]
    for c in columns:
        defs.append((c.name, c.type, c.priority, c.description or crd_doc + c.json_path, c.format))
    return defs, cells


def _custom_cell(column: PrinterColumn, obj: Mapping[str, Any], clock: Clock) -> Cell:
    try:
        value = evaluate_jsonpath(obj, column.json_path)
    except ValueError:
        return None
    if value is None:
        return None
    kind = column.type
    if kind == "string":
        return go_string(value)
    if kind == "integer" and isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "date" and isinstance(value, str):
        return clock.since(value) if parse_time(value) else "<invalid>"
    return None


def _simple(fn: Callable[[Mapping[str, Any], Clock], list[Cell]]) -> RowFn:
    def row(obj: Mapping[str, Any], clock: Clock) -> tuple[list[Cell], Conditions]:
        return fn(obj, clock), []

    return row


def _deployment(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
    desired = int_at(o, "spec", "replicas", default=1)
    return [
        object_name(o),
        f"{int_at(o, 'status', 'readyReplicas')}/{desired}",
        int_at(o, "status", "updatedReplicas"),
        int_at(o, "status", "availableReplicas"),
        object_age(o, clock),
        *template_cells(dig(o, "spec", "template", "spec")),
        selector_string(dig(o, "spec", "selector")),
    ]


def _replicas(map_selector: bool) -> RowFn:
    """ReplicaSets (LabelSelector) and ReplicationControllers (a plain label map)."""

    def cells(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
        selector = dig(o, "spec", "selector")
        return [
            object_name(o),
            int_at(o, "spec", "replicas", default=1),
            int_at(o, "status", "replicas"),
            int_at(o, "status", "readyReplicas"),
            object_age(o, clock),
            *template_cells(dig(o, "spec", "template", "spec")),
            format_labels(selector) if map_selector else format_selector(selector),
        ]

    return _simple(cells)


def _stateful_set(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
    ready = f"{int_at(o, 'status', 'readyReplicas')}/{int_at(o, 'spec', 'replicas', default=1)}"
    return [
        object_name(o),
        ready,
        object_age(o, clock),
        *template_cells(dig(o, "spec", "template", "spec")),
    ]


def _daemon_set(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
    counts = ("desiredNumberScheduled", "currentNumberScheduled", "numberReady")
    more = ("updatedNumberScheduled", "numberAvailable")
    return [
        object_name(o),
        *(int_at(o, "status", c) for c in counts + more),
        format_labels(dig(o, "spec", "template", "spec", "nodeSelector")),
        object_age(o, clock),
        *template_cells(dig(o, "spec", "template", "spec")),
        format_selector(dig(o, "spec", "selector")),
    ]


def _job(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
    succeeded = int_at(o, "status", "succeeded")
    completions = dig(o, "spec", "completions")
    if isinstance(completions, int):
        done = f"{succeeded}/{completions}"
    elif int_at(o, "spec", "parallelism") > 1:
        done = f"{succeeded}/1 of {int_at(o, 'spec', 'parallelism')}"
    else:
        done = f"{succeeded}/1"
    start, end = dig(o, "status", "startTime"), dig(o, "status", "completionTime")
    duration = (
        "" if start is None else clock.since(start) if end is None else clock.between(start, end)
    )
    status = o.get("status") or {}
    if condition_true(status, "Complete"):
        state = "Complete"
    elif condition_true(status, "Failed"):
        state = "Failed"
    elif dig(o, "metadata", "deletionTimestamp"):
        state = "Terminating"
    elif condition_true(status, "Suspended"):
        state = "Suspended"
    elif condition_true(status, "FailureTarget"):
        state = "FailureTarget"
    else:
        state = "Running"
    return [
        object_name(o),
        state,
        done,
        duration,
        object_age(o, clock),
        *template_cells(dig(o, "spec", "template", "spec")),
        format_selector(dig(o, "spec", "selector")),
    ]


def _cron_job(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
    last = dig(o, "status", "lastScheduleTime")
    job_spec = dig(o, "spec", "jobTemplate", "spec") or {}
    return [
        object_name(o),
        str(dig(o, "spec", "schedule") or ""),
        str(dig(o, "spec", "timeZone") or "<none>"),
        "True" if dig(o, "spec", "suspend") is True else "False",
        len(list_at(o, "status", "active")),
        clock.since(last) if last else "<none>",
        object_age(o, clock),
        *template_cells(dig(job_spec, "template", "spec")),
        format_selector(job_spec.get("selector")),
    ]


def _service(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
    spec = o.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    external = ",".join(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        ingress = list_at(o, "status", "loadBalancer", "ingress")
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
        object_name(o),
        kind,
        cluster_ips[0] if cluster_ips else "<none>",
        external or "<none>",
        ",".join(ports) or "<none>",
        object_age(o, clock),
        format_labels(spec.get("selector")),
    ]


def _node(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
    ready = [c for c in list_at(o, "status", "conditions") if c.get("type") == "Ready"]
    states = (
        ["Ready" if ready[-1].get("status") == "True" else "NotReady"] if ready else ["Unknown"]
    )
    if dig(o, "spec", "unschedulable") is True:
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (dig(o, "metadata", "labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/":
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    addresses = list_at(o, "status", "addresses")

    def address(kind: str) -> str:
        return next((a.get("address", "") for a in addresses if a.get("type") == kind), "<none>")

    info = dig(o, "status", "nodeInfo") or {}
    return [
        object_name(o),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        object_age(o, clock),
        str(info.get("kubeletVersion", "")),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _event(new_api: bool) -> RowFn:
    """core/v1 Events, or events.k8s.io/v1 ones (same printer, other field names)."""
    return _simple(lambda o, clock: _event_cells(o, clock, new_api))


def _event_cells(o: Mapping[str, Any], clock: Clock, new_api: bool) -> list[Cell]:
    if new_api:
        involved = o.get("regarding") or {}
        first_ts, last_ts = o.get("deprecatedFirstTimestamp"), o.get("deprecatedLastTimestamp")
        count, message = o.get("deprecatedCount") or 0, o.get("note") or ""
        source = o.get("deprecatedSource") or {}
    else:
        involved = o.get("involvedObject") or {}
        first_ts, last_ts = o.get("firstTimestamp"), o.get("lastTimestamp")
        count, message, source = o.get("count") or 0, o.get("message") or "", o.get("source") or {}
    first = clock.since(first_ts) if parse_time(first_ts) else clock.since(o.get("eventTime"))
    last = clock.since(last_ts) if parse_time(last_ts) else first
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
        object_name(o),
    ]


def _access_modes(modes: object) -> str:
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}
    short["ReadWriteOncePod"] = "RWOP"
    present = modes if isinstance(modes, list) else []
    return ",".join(v for k, v in short.items() if k in present)


def _pvc(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
    spec = o.get("spec") or {}
    phase = "Terminating" if dig(o, "metadata", "deletionTimestamp") else dig(o, "status", "phase")
    bound = bool(spec.get("volumeName"))
    annotations = dig(o, "metadata", "annotations") or {}
    storage_class = annotations.get("volume.beta.kubernetes.io/storage-class")
    return [
        object_name(o),
        phase or "",
        spec.get("volumeName") or "",
        str(dig(o, "status", "capacity", "storage") or "") if bound else "",
        _access_modes(dig(o, "status", "accessModes")) if bound else "",
        storage_class or spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or "<unset>",
        object_age(o, clock),
        spec.get("volumeMode") or "<unset>",
    ]


def _data_count(o: Mapping[str, Any]) -> int:
    return len(o.get("data") or {}) + len(o.get("binaryData") or {})


def _row(*parts: Callable[[Mapping[str, Any], Clock], Cell]) -> RowFn:
    """A row of the object's name followed by one cell per function."""
    return _simple(lambda o, clock: [object_name(o), *(p(o, clock) for p in parts)])


def _default_cells(o: Mapping[str, Any], clock: Clock) -> list[Cell]:
    del clock
    created = parse_time(dig(o, "metadata", "creationTimestamp"))
    stamp = (
        created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if created
        else "0001-01-01T00:00:00Z"
    )
    return [object_name(o), stamp]


_DEFAULT: tuple[list[Column], RowFn] = (
    [NAME_COLUMN, ("Created At", "date", 0, AGE_DOC, "")],
    _simple(_default_cells),
)
_TEMPLATE = "Containers*, Images*"
_REPLICAS = f"Name, Desired:integer, Current:integer, Ready:integer, Age, {_TEMPLATE}, Selector*"
_EVENTS = (
    "Last Seen, Type, Reason, Object, Subobject*, Source*, Message, First Seen*, Count*, Name*"
)
_PVC = "Name, Status, Volume, Capacity, Access Modes, StorageClass, VolumeAttributesClass, Age"

_PRINTERS: dict[tuple[str, str], tuple[list[Column], RowFn]] = {
    ("", "Pod"): (
        parse_columns(
            "Name, Ready, Status, Restarts, Age, IP*, Node*, Nominated Node*, Readiness Gates*"
        ),
        pod_row,
    ),
    ("apps", "Deployment"): (
        parse_columns(f"Name, Ready, Up-to-date, Available, Age, {_TEMPLATE}, Selector*"),
        _simple(_deployment),
    ),
    ("apps", "ReplicaSet"): (parse_columns(_REPLICAS), _replicas(map_selector=False)),
    ("", "ReplicationController"): (parse_columns(_REPLICAS), _replicas(map_selector=True)),
    ("apps", "StatefulSet"): (
        parse_columns(f"Name, Ready, Age, {_TEMPLATE}"),
        _simple(_stateful_set),
    ),
    ("apps", "DaemonSet"): (
        parse_columns(
            "Name, Desired:integer, Current:integer, Ready:integer, Up-to-date:integer,"
            f" Available:integer, Node Selector, Age, {_TEMPLATE}, Selector*"
        ),
        _simple(_daemon_set),
    ),
    ("batch", "Job"): (
        parse_columns(f"Name, Status, Completions, Duration, Age, {_TEMPLATE}, Selector*"),
        _simple(_job),
    ),
    ("batch", "CronJob"): (
        parse_columns(
            "Name, Schedule, Timezone, Suspend:boolean, Active:integer, Last Schedule, Age,"
            f" {_TEMPLATE}, Selector*"
        ),
        _simple(_cron_job),
    ),
    ("", "Service"): (
        parse_columns("Name, Type, Cluster-IP, External-IP, Port(s), Age, Selector*"),
        _simple(_service),
    ),
    ("", "Node"): (
        parse_columns(
            "Name, Status, Roles, Age, Version, Internal-IP*, External-IP*, OS-Image*,"
            " Kernel-Version*, Container-Runtime*"
        ),
        _simple(_node),
    ),
    ("", "Namespace"): (
        parse_columns("Name, Status, Age"),
        _row(lambda o, _: dig(o, "status", "phase") or "Active", object_age),
    ),
    ("", "ConfigMap"): (
        parse_columns("Name, Data, Age"),
        _row(lambda o, _: _data_count(o), object_age),
    ),
    ("", "Secret"): (
        parse_columns("Name, Type, Data, Age"),
        _row(
            lambda o, _: o.get("type") or "Opaque",
            lambda o, _: len(o.get("data") or {}),
            object_age,
        ),
    ),
    ("", "ServiceAccount"): (
        parse_columns("Name, Secrets, Age"),
        _row(lambda o, _: len(o.get("secrets") or []), object_age),
    ),
    ("", "PersistentVolumeClaim"): (parse_columns(f"{_PVC}, VolumeMode*"), _simple(_pvc)),
    ("", "Event"): (parse_columns(_EVENTS), _event(new_api=False)),
    ("events.k8s.io", "Event"): (parse_columns(_EVENTS), _event(new_api=True)),
}
