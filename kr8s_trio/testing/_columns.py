"""Table column definitions: titles, types, priorities and descriptions, as printers declare them.

kube-apiserver's printers declare their columns once (``Name``, ``Ready``, ``IP`` shown only with
``-o wide``...); this module holds the shared descriptions, a compact way to write a column list
(``"Name, Ready, Restarts:integer, IP*"``) and the ``columnDefinitions`` JSON of a Table.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AGE_DOC", "NAME_COLUMN", "Column", "column_json", "parse_columns"]

JSONObject = dict[str, Any]
Column = tuple[str, str, int, str, str]  # name, type, priority, description, format

NAME_COLUMN: Column = ("Name", "string", 0, "The name of the object, unique per namespace.", "name")
AGE_DOC = "When the object was created (metadata.creationTimestamp)."
#: column descriptions, by column title
_DOCS = {
    "Ready": "Ready members out of the desired number.",
    "Status": "The aggregate status of the object.",
    "Restarts": "Container restarts, and how long ago the last one was.",
    "Age": AGE_DOC,
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


def parse_columns(spec: str) -> list[Column]:
    """Columns from ``"Name, Ready, Restarts:integer, IP*"`` (``*``: priority 1, wide only)."""
    out: list[Column] = []
    for entry in spec.split(", "):
        priority = 1 if entry.endswith("*") else 0
        title, _, type_ = entry.rstrip("*").partition(":")
        if title == "Name":
            out.append((*NAME_COLUMN[:2], priority, *NAME_COLUMN[3:]))
        else:
            out.append((title, type_ or "string", priority, _DOCS.get(title, ""), ""))
    return out


def column_json(c: Column) -> JSONObject:
    return {"name": c[0], "type": c[1], "format": c[4], "description": c[3], "priority": c[2]}
