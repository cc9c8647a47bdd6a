"""How the fields of built-in kinds merge: list types, merge keys, patch strategies.

Kubernetes' Go types carry two families of markers that decide how a write combines with what is
stored:

* strategic merge patch (``patchStrategy`` / ``patchMergeKey`` struct tags): a list with strategy
  ``merge`` and a merge key is merged item by item; a list of scalars with strategy ``merge`` is
  merged as a set; ``retainKeys`` clears the fields the patch does not mention; every other list is
  replaced whole.
* server-side apply (``+listType`` / ``+listMapKey`` / ``+structType`` markers): ``map`` lists are
  owned item by item (addressed by their keys), ``set`` lists value by value, ``atomic`` lists and
  structs as one unit.

This module records those markers for the fields where they matter, keyed by path pattern, so that
the patch engines stay generic. A path pattern is a tuple of field names where ``"*"`` stands for
"each item of the list". Fields that are not listed here are plain: maps merge key by key and lists
are atomic (both engines agree on that default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import attrs

__all__ = ["FieldSpec", "Schema", "schema_for"]

ListType = Literal["atomic", "set", "map"]


@attrs.frozen
class FieldSpec:
    """Merge markers of one field.

    Attributes:
        list_type: server-side apply list type (``None`` for a non-list field).
        map_keys: server-side apply keys of a ``map`` list (``+listMapKey``).
        merge_key: strategic merge patch ``patchMergeKey`` (``None`` for a list of scalars).
        strategy: strategic merge patch ``patchStrategy`` parts: ``"merge"``, ``"retainKeys"``,
            ``"replace"``.
        atomic: the field (a struct or map) is one unit for server-side apply.
    """

    list_type: ListType | None = None
    map_keys: tuple[str, ...] = ()
    merge_key: str | None = None
    strategy: frozenset[str] = frozenset()
    atomic: bool = False

    @property
    def merges(self) -> bool:
        """Strategic merge patch merges this list (instead of replacing it)."""
        return "merge" in self.strategy

    @property
    def retains_keys(self) -> bool:
        return "retainKeys" in self.strategy


@attrs.frozen
class Schema:
    """The merge markers of one kind, looked up by concrete path."""

    fields: Mapping[tuple[str, ...], FieldSpec]

    def at(self, path: Sequence[str | int]) -> FieldSpec | None:
        """Markers of the field at ``path`` (list indices as ints), or ``None`` when plain."""
        key = tuple("*" if isinstance(part, int) else part for part in path)
        return self.fields.get(key)

    def child(self, path: Sequence[str | int], name: str) -> FieldSpec | None:
        """Markers of field ``name`` under ``path``."""
        return self.at((*path, name))


def _merge_list(key: str | None, *ssa_keys: str, retain: bool = False) -> FieldSpec:
    strategy = frozenset({"merge", "retainKeys"} if retain else {"merge"})
    if key is None:
        return FieldSpec(list_type="set", strategy=strategy)
    return FieldSpec(list_type="map", map_keys=ssa_keys or (key,), merge_key=key, strategy=strategy)


_ATOMIC_LIST = FieldSpec(list_type="atomic")
_ATOMIC_STRUCT = FieldSpec(atomic=True)
_CONDITIONS = _merge_list("type")


def _at(
    prefix: tuple[str, ...], entries: Mapping[str, FieldSpec]
) -> dict[tuple[str, ...], FieldSpec]:
    return {(*prefix, *name.split(".")): spec for name, spec in entries.items()}


_METADATA = _at(
    ("metadata",),
    {
        "finalizers": _merge_list(None),
        "ownerReferences": _merge_list("uid"),
        "managedFields": _ATOMIC_LIST,
    },
)

_CONTAINER = {
    "ports": _merge_list("containerPort", "containerPort", "protocol"),
    "env": _merge_list("name"),
    "volumeMounts": _merge_list("mountPath"),
    "volumeDevices": _merge_list("devicePath"),
    "command": _ATOMIC_LIST,
    "args": _ATOMIC_LIST,
    "envFrom": _ATOMIC_LIST,
    "resizePolicy": _ATOMIC_LIST,
}


def _pod_spec(prefix: tuple[str, ...]) -> dict[tuple[str, ...], FieldSpec]:
    out = _at(
        prefix,
        {
            "volumes": _merge_list("name", retain=True),
            "containers": _merge_list("name"),
            "initContainers": _merge_list("name"),
            "ephemeralContainers": _merge_list("name"),
            "imagePullSecrets": _merge_list("name"),
            "hostAliases": _merge_list("ip"),
            "topologySpreadConstraints": _merge_list(
                "topologyKey", "topologyKey", "whenUnsatisfiable"
            ),
            "schedulingGates": _merge_list("name"),
            "resourceClaims": _merge_list("name", retain=True),
            "tolerations": _ATOMIC_LIST,
            "readinessGates": _ATOMIC_LIST,
        },
    )
    for containers in ("containers", "initContainers", "ephemeralContainers"):
        out.update(_at((*prefix, containers, "*"), _CONTAINER))
    return out


def _pod_status(prefix: tuple[str, ...]) -> dict[tuple[str, ...], FieldSpec]:
    return _at(
        prefix,
        {
            "conditions": _CONDITIONS,
            "podIPs": _merge_list("ip"),
            "hostIPs": _merge_list("ip"),
            "containerStatuses": _ATOMIC_LIST,
            "initContainerStatuses": _ATOMIC_LIST,
            "ephemeralContainerStatuses": _ATOMIC_LIST,
            "resourceClaimStatuses": _merge_list("name", retain=True),
        },
    )


_STATUS_CONDITIONS = _at(("status",), {"conditions": _CONDITIONS})
_TEMPLATE = ("spec", "template", "spec")
_WORKLOAD = {
    **_pod_spec(_TEMPLATE),
    **_STATUS_CONDITIONS,
    ("spec", "selector"): _ATOMIC_STRUCT,
}

_BY_KIND: dict[tuple[str, str], dict[tuple[str, ...], FieldSpec]] = {
    ("", "Pod"): {**_pod_spec(("spec",)), **_pod_status(("status",))},
    ("", "PodTemplate"): _pod_spec(("template", "spec")),
    ("", "ReplicationController"): {**_pod_spec(_TEMPLATE), **_STATUS_CONDITIONS},
    ("", "Node"): _at(
        ("status",),
        {"conditions": _CONDITIONS, "addresses": _merge_list("type"), "images": _ATOMIC_LIST},
    )
    | _at(("spec",), {"taints": _ATOMIC_LIST, "podCIDRs": _merge_list(None)}),
    ("", "Namespace"): _STATUS_CONDITIONS,
    ("", "Service"): _at(
        ("spec",),
        {
            "ports": _merge_list("port", "port", "protocol"),
            "externalIPs": _ATOMIC_LIST,
            "clusterIPs": _ATOMIC_LIST,
            "ipFamilies": _ATOMIC_LIST,
        },
    )
    | _STATUS_CONDITIONS,
    ("", "PersistentVolumeClaim"): _STATUS_CONDITIONS,
    ("", "ServiceAccount"): _at((), {"secrets": _merge_list("name")}),
    ("apps", "Deployment"): {
        **_WORKLOAD,
        ("spec", "strategy"): FieldSpec(strategy=frozenset({"retainKeys"})),
    },
    ("apps", "ReplicaSet"): _WORKLOAD,
    ("apps", "StatefulSet"): {
        **_WORKLOAD,
        ("spec", "volumeClaimTemplates"): _ATOMIC_LIST,
    },
    ("apps", "DaemonSet"): _WORKLOAD,
    ("batch", "Job"): {**_pod_spec(_TEMPLATE), **_STATUS_CONDITIONS},
    ("batch", "CronJob"): _pod_spec(("spec", "jobTemplate", "spec", "template", "spec")),
    ("policy", "PodDisruptionBudget"): {
        **_STATUS_CONDITIONS,
        ("spec", "selector"): _ATOMIC_STRUCT,
    },
    ("autoscaling", "HorizontalPodAutoscaler"): _STATUS_CONDITIONS,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _STATUS_CONDITIONS,
}

_METADATA_ONLY = Schema(_METADATA)
_SCHEMAS: dict[tuple[str, str], Schema] = {
    key: Schema({**_METADATA, **fields}) for key, fields in _BY_KIND.items()
}


def schema_for(group: str, kind: str) -> Schema:
    """Merge markers for a kind; kinds without special fields get the ObjectMeta markers only."""
    return _SCHEMAS.get((group, kind), _METADATA_ONLY)


def known_kinds() -> Iterable[tuple[str, str]]:
    """(group, kind) pairs that have markers beyond ObjectMeta."""
    return _SCHEMAS.keys()
