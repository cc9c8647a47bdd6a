"""CustomResourceDefinitions: from a CRD object to the resource types it serves.

A CRD is served as soon as it is stored (the real apiserver takes a moment to mark it
Established; here it is immediate, and the status says so). Each served version becomes one
`ResourceType`; all of them share storage in the storage version.
"""

from __future__ import annotations

from typing import Any

from kr8s_trio.testing._resources import (
    STANDARD_VERBS,
    PrinterColumn,
    ResourceType,
    ScaleSpec,
    SubresourceInfo,
    text_field,
)
from kr8s_trio.testing._status import FieldError

__all__ = ["crd_resource_types", "crd_status", "validate_crd"]

JSONObject = dict[str, Any]


def validate_crd(obj: JSONObject) -> list[FieldError]:
    """The checks kube-apiserver makes that users run into."""
    errors: list[FieldError] = []
    spec = obj.get("spec") or {}
    name = (obj.get("metadata") or {}).get("name", "")
    group = spec.get("group")
    names = spec.get("names") or {}
    plural = names.get("plural")
    if not group:
        errors.append(FieldError.required("spec.group"))
    if not plural:
        errors.append(FieldError.required("spec.names.plural"))
    if not names.get("kind"):
        errors.append(FieldError.required("spec.names.kind"))
    if group and plural and name != f"{plural}.{group}":
        errors.append(
            FieldError.invalid_value(
                "metadata.name", name, 'must be spec.names.plural+"."+spec.group'
            )
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errors.append(
            FieldError.not_supported("spec.scope", spec.get("scope"), ["Cluster", "Namespaced"])
        )
    versions = spec.get("versions") or []
    if not versions:
        errors.append(
            FieldError.required(
                "spec.versions", "must have exactly one version marked as storage version"
            )
        )
    elif sum(1 for v in versions if isinstance(v, dict) and v.get("storage")) != 1:
        errors.append(
            FieldError.invalid_value(
                "spec.versions",
                [v.get("name") for v in versions if isinstance(v, dict)],
                "must have exactly one version marked as storage version",
            )
        )
    for i, v in enumerate(versions):
        if isinstance(v, dict) and not v.get("name"):
            errors.append(FieldError.required(f"spec.versions[{i}].name"))
    return errors


def crd_resource_types(obj: JSONObject) -> list[ResourceType]:
    """The resource types a (valid) CRD serves, one per served version."""
    spec = obj["spec"]
    names = spec["names"]
    group = spec["group"]
    versions = [v for v in spec["versions"] if v.get("served", True)]
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    out = []
    for v in versions:
        subs = v.get("subresources") or {}
        subresources: list[SubresourceInfo] = []
        scale = None
        if "scale" in subs:
            s = subs["scale"] or {}
            scale = ScaleSpec(
                spec_replicas=s.get("specReplicasPath", ".spec.replicas"),
                status_replicas=s.get("statusReplicasPath", ".status.replicas"),
                label_selector=s.get("labelSelectorPath"),
            )
            subresources.append(
                SubresourceInfo("scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1")
            )
        if "status" in subs:
            subresources.append(
                SubresourceInfo("status", names["kind"], ("get", "patch", "update"))
            )
        columns = tuple(
            PrinterColumn(
                name=c["name"],
                type=c.get("type", "string"),
                json_path=c.get("jsonPath", ""),
                description=c.get("description", ""),
                format=c.get("format", ""),
                priority=int(c.get("priority", 0)),
            )
            for c in v.get("additionalPrinterColumns") or []
            if isinstance(c, dict) and c.get("name")
        )
        selectable = {
            f["jsonPath"].lstrip("."): text_field(f["jsonPath"])
            for f in v.get("selectableFields") or []
            if isinstance(f, dict) and f.get("jsonPath")
        }
        out.append(
            ResourceType(
                group=group,
                version=v["name"],
                kind=names["kind"],
                plural=names["plural"],
                singular=names.get("singular") or names["kind"].lower(),
                namespaced=spec["scope"] == "Namespaced",
                verbs=STANDARD_VERBS,
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=tuple(subresources),
                field_getters=selectable,
                status_subresource="status" in subs,
                generation=True,
                allow_unconditional_update=False,
                builtin=False,
                scale=scale,
                printer_columns=columns,
                storage_version=storage,
                crd_name=obj["metadata"]["name"],
            )
        )
    return out


def crd_status(obj: JSONObject, now: str) -> JSONObject:
    """The status the CRD controllers would settle on: names accepted, established."""
    spec = obj["spec"]
    names = dict(spec["names"])
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", f"{names['kind']}List")
    stored = list((obj.get("status") or {}).get("storedVersions") or [])
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    if storage not in stored:
        stored.append(storage)
    return {
        "acceptedNames": names,
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": now,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": now,
            },
        ],
        "storedVersions": stored,
    }
