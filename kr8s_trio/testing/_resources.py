"""What the fake serves: resource types (built-in and from CRDs) and the registry that holds them.

A `ResourceType` is one resource in one served group-version, with everything the rest of the fake
needs to know about it: scope, verbs and names for discovery, the subresources it has, which
fields can be selected, whether it has a spec/status split, how deletion behaves. The
`ResourceRegistry` indexes them for routing and discovery and changes when CRDs come and go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from kr8s_trio._core._jsonpath import dig
from kr8s_trio.testing._status import GroupResource

__all__ = [
    "STANDARD_VERBS",
    "FieldGetter",
    "PrinterColumn",
    "ResourceRegistry",
    "ResourceType",
    "ScaleSpec",
    "SubresourceInfo",
    "flag_field",
    "number_field",
    "text_field",
]

JSONObject = dict[str, Any]
FieldGetter = Callable[[JSONObject], str]


def text_field(path: str) -> FieldGetter:
    """A selectable field read as text (booleans as ``true``/``false``, absent as ``""``)."""
    parts = path.strip(".").split(".")

    def get(obj: JSONObject) -> str:
        value = dig(obj, *parts)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return get


def flag_field(path: str) -> FieldGetter:
    """A boolean selectable field (absent means ``false``)."""
    parts = path.split(".")
    return lambda obj: "true" if dig(obj, *parts) is True else "false"


def number_field(path: str) -> FieldGetter:
    """An integer selectable field (absent means ``0``)."""
    parts = path.split(".")

    def get(obj: JSONObject) -> str:
        value = dig(obj, *parts)
        return str(value) if isinstance(value, int) else "0"

    return get


STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@attrs.frozen
class SubresourceInfo:
    """A subresource as discovery shows it (``pods/log``, ``deployments/scale``)."""

    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None  # when the response kind is from another group (Scale, Eviction)
    version: str | None = None


@attrs.frozen
class ScaleSpec:
    """Where a scalable resource keeps its replica counts (``specReplicasPath`` etc.)."""

    spec_replicas: str = ".spec.replicas"
    status_replicas: str = ".status.replicas"
    label_selector: str | None = ".status.selector"


@attrs.frozen
class PrinterColumn:
    """A Table column (CRD ``additionalPrinterColumns`` shape)."""

    name: str
    type: str
    json_path: str
    description: str = ""
    format: str = ""
    priority: int = 0


@attrs.frozen(kw_only=True)
class ResourceType:
    """One resource in one served group-version."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    verbs: tuple[str, ...] = STANDARD_VERBS
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[SubresourceInfo, ...] = ()
    #: selectable fields beyond metadata.name / metadata.namespace: field -> value getter
    field_getters: Mapping[str, FieldGetter] = attrs.field(factory=dict)
    #: writes to the main resource ignore .status, writes to /status only change .status
    status_subresource: bool = False
    #: metadata.generation is maintained (1 on create, +1 on spec changes)
    generation: bool = False
    #: DELETE answers with the deleted object (else with a Success Status)
    return_deleted_object: bool = False
    #: PUT without metadata.resourceVersion is allowed (false for custom resources)
    allow_unconditional_update: bool = True
    #: built into the server (strategic merge patch allowed, protobuf known)
    builtin: bool = True
    #: served but not stored: only POST (reviews)
    virtual: bool = False
    scale: ScaleSpec | None = None
    printer_columns: tuple[PrinterColumn, ...] = ()
    #: the version objects are stored in (all served versions of a CRD share storage)
    storage_version: str = ""
    #: name of the CRD that defines this resource, if any
    crd_name: str | None = None

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> GroupResource:
        return GroupResource(self.group, self.plural)

    @property
    def storage_key(self) -> tuple[str, str]:
        """Objects of every served version of a resource live under one key."""
        return (self.group, self.plural)

    def has_subresource(self, name: str) -> bool:
        return any(s.name == name for s in self.subresources)

    def selectable_fields(self) -> frozenset[str]:
        base = {"metadata.name", "metadata.namespace"} if self.namespaced else {"metadata.name"}
        return frozenset(base | set(self.field_getters))

    def field_values(self, obj: JSONObject) -> dict[str, str]:
        """The values of every selectable field of ``obj`` (for field selectors)."""
        meta = obj.get("metadata") or {}
        out = {"metadata.name": str(meta.get("name", ""))}
        if self.namespaced:
            out["metadata.namespace"] = str(meta.get("namespace", ""))
        for name, getter in self.field_getters.items():
            out[name] = getter(obj)
        return out


class ResourceRegistry:
    """Every served resource type, indexed for routing and discovery.

    The registry is mutable only through `add` / `remove_crd`, which bump `generation` so that
    discovery documents (and their ETags) can be cached between changes.
    """

    def __init__(self, types: Iterator[ResourceType] | tuple[ResourceType, ...] = ()) -> None:
        self._by_gvr: dict[tuple[str, str, str], ResourceType] = {}
        self.generation = 0
        for rt in types:
            self.add(rt)

    def add(self, rt: ResourceType) -> None:
        self._by_gvr[(rt.group, rt.version, rt.plural)] = rt
        self.generation += 1

    def remove_crd(self, crd_name: str) -> list[ResourceType]:
        removed = [rt for rt in self._by_gvr.values() if rt.crd_name == crd_name]
        for rt in removed:
            del self._by_gvr[(rt.group, rt.version, rt.plural)]
        if removed:
            self.generation += 1
        return removed

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_gvr.get((group, version, plural))

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(self._by_gvr.values())

    def group_versions(self) -> dict[str, list[str]]:
        """Group name -> served versions, preferred first (core group is ``""``)."""
        out: dict[str, list[str]] = {}
        for rt in self._by_gvr.values():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        for versions in out.values():
            versions.sort(key=_version_priority)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self._by_gvr.values() if rt.group == group and rt.version == version]

    def preferred(self, group: str, plural: str) -> ResourceType | None:
        """The preferred served version of a resource."""
        candidates = [
            rt for rt in self._by_gvr.values() if rt.group == group and rt.plural == plural
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda rt: _version_priority(rt.version))

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        candidates = [rt for rt in self._by_gvr.values() if rt.group == group and rt.kind == kind]
        if not candidates:
            return None
        return min(candidates, key=lambda rt: _version_priority(rt.version))

    def find_api_version_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        for rt in self._by_gvr.values():
            if rt.group == group and rt.version == version and rt.kind == kind:
                return rt
        return None


def _version_priority(version: str) -> tuple[int, int, int, str]:
    """Kubernetes version priority: GA > beta > alpha, higher numbers first, then the rest."""
    import re

    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (3, 0, 0, version)
    major = int(m.group(1))
    stage = {"alpha": 2, "beta": 1, None: 0}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor, version)


def version_priority(version: str) -> tuple[int, int, int, str]:
    return _version_priority(version)
