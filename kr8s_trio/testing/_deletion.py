"""What DELETE means: preconditions, finalizers, propagation policies and graceful deletion.

An object without finalizers goes at once (DELETED); otherwise, and for pods still running on a
node (graceful deletion), it gets a ``deletionTimestamp`` and stays until its finalizers are
removed or its grace period ends. Propagation policies add the garbage collector's finalizers
(``orphan``, ``foregroundDeletion``); namespaces and CRDs get their registries' special
treatment. The controllers do the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._pagination import ListOptions, list_page
from kr8s_trio.testing._status import conflict, status_error, success_status
from kr8s_trio.testing._store import copy_json
from kr8s_trio.testing._strategies import CRD_FINALIZER

if TYPE_CHECKING:
    from kr8s_trio._core._field_selectors import FieldSelector
    from kr8s_trio._core._selectors import LabelSelector
    from kr8s_trio.testing._resources import ResourceType
    from kr8s_trio.testing._rest import RestStorage, WriteContext

__all__ = ["delete_collection", "delete_object", "namespace_finalizers"]

JSONObject = dict[str, Any]


def delete_object(
    storage: RestStorage,
    rt: ResourceType,
    namespace: str | None,
    name: str,
    options: JSONObject,
    ctx: WriteContext,
) -> tuple[JSONObject, int]:
    """DELETE one object; returns (object or Status, HTTP status)."""
    old = storage.get(rt, namespace, name)
    obj = old.obj
    meta = obj["metadata"]
    pre = options.get("preconditions") or {}
    if pre.get("uid") and pre["uid"] != meta.get("uid"):
        raise conflict(
            rt.group_resource,
            name,
            f"Precondition failed: UID in precondition: {pre['uid']}, "
            f"UID in object meta: {meta.get('uid')}",
        )
    if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
        raise conflict(
            rt.group_resource,
            name,
            f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
        )
    policy = options.get("propagationPolicy")
    if policy is None and options.get("orphanDependents") is not None:
        policy = "Orphan" if options["orphanDependents"] else "Background"
    if policy not in (None, "Orphan", "Background", "Foreground"):
        raise status_error(
            422,
            "Invalid",
            f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
            f'"{policy}": supported values: "Foreground", "Background", "Orphan", "nil"',
            {"group": "meta.k8s.io", "kind": "DeleteOptions"},
        )
    extra = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}.get(policy or "")
    finalizers = list(meta.get("finalizers") or [])
    if extra and extra not in finalizers:
        finalizers.append(extra)
    if policy in ("Background", "Foreground"):
        finalizers = [
            f
            for f in finalizers
            if f != ("orphan" if policy == "Foreground" else "foregroundDeletion")
        ]
        if policy == "Background":
            finalizers = [f for f in finalizers if f != "orphan"]
    is_crd = (rt.group, rt.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition")
    if is_crd and CRD_FINALIZER not in finalizers:
        finalizers.append(CRD_FINALIZER)  # the CRD registry adds it on DELETE

    grace = _grace_period(rt, obj, options)
    if finalizers or grace or namespace_finalizers(rt, obj):
        new = copy_json(obj)
        new_meta = new["metadata"]
        if not new_meta.get("deletionTimestamp"):
            new_meta["deletionTimestamp"] = storage.timestamp(grace or 0)
            # the namespace and CRD registries only stamp the time (no grace, no generation)
            if is_crd:
                _set_crd_terminating(new, storage.timestamp())
            elif (rt.group, rt.kind) != ("", "Namespace"):
                new_meta["deletionGracePeriodSeconds"] = grace or 0
                if new_meta.get("generation"):  # BeforeDelete: deletion starting is a change
                    new_meta["generation"] = int(new_meta["generation"]) + 1
        elif grace is not None and grace < int(new_meta.get("deletionGracePeriodSeconds") or 0):
            new_meta["deletionTimestamp"] = storage.timestamp(grace)
            new_meta["deletionGracePeriodSeconds"] = grace
        if finalizers:
            new_meta["finalizers"] = finalizers
        if (rt.group, rt.kind) == ("", "Namespace"):
            new.setdefault("status", {})["phase"] = "Terminating"
        if new == obj:
            return obj, 200
        if ctx.dry_run:
            return new, 200
        storage.store.put(rt.storage_key, old.key, new)
        storage.on_commit()
        return new, 200
    if ctx.dry_run:
        return (obj if rt.return_deleted_object else _deleted_status(rt, obj)), 200
    change = storage.store.delete(rt.storage_key, old.key)
    storage.on_commit()
    if rt.return_deleted_object:
        return change.new.obj, 200
    return _deleted_status(rt, obj), 200


def _grace_period(rt: ResourceType, obj: JSONObject, options: JSONObject) -> int | None:
    """Seconds of graceful deletion for pods (None: not graceful)."""
    if (rt.group, rt.kind) != ("", "Pod"):
        return None
    requested = options.get("gracePeriodSeconds")
    spec = obj.get("spec") or {}
    grace = (
        requested if isinstance(requested, int) else spec.get("terminationGracePeriodSeconds", 30)
    )
    phase = (obj.get("status") or {}).get("phase")
    if not spec.get("nodeName") or phase in ("Succeeded", "Failed") or not grace or grace < 0:
        return None
    return int(grace)


def _deleted_status(rt: ResourceType, obj: JSONObject) -> JSONObject:
    details = rt.group_resource.details(obj["metadata"]["name"])
    details["uid"] = obj["metadata"].get("uid")
    return success_status(details)


def delete_collection(
    storage: RestStorage,
    rt: ResourceType,
    namespace: str | None,
    labels: LabelSelector,
    fields: FieldSelector,
    options: JSONObject,
    ctx: WriteContext,
) -> JSONObject:
    """DELETE on a collection: delete every matching object; answer with their list."""
    page = list_page(
        storage.store, rt, namespace, ListOptions(0, None, None, False), labels, fields
    )
    deleted: list[JSONObject] = []
    for stored in page.items:
        meta = stored.obj["metadata"]
        try:
            delete_object(storage, rt, meta.get("namespace"), meta["name"], options, ctx)
        except APIError as exc:
            if exc.code == 404:
                continue
            raise
        deleted.append(stored.obj)  # the store answers with the items as listed, before deletion
    return {
        "kind": rt.list_kind,
        "apiVersion": rt.api_version,
        "metadata": {"resourceVersion": str(storage.store.revision)},
        "items": deleted,
    }


def _set_crd_terminating(crd: JSONObject, now: str) -> None:
    status = crd.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "Terminating"]
    conditions.append(
        {
            "type": "Terminating",
            "status": "True",
            "lastTransitionTime": now,
            "reason": "InstanceDeletionPending",
            "message": "CustomResourceDefinition marked for deletion; CustomResource deletion "
            "will begin soon",
        }
    )
    status["conditions"] = conditions


def namespace_finalizers(rt: ResourceType, obj: JSONObject) -> bool:
    return (rt.group, rt.kind) == ("", "Namespace") and bool(
        (obj.get("spec") or {}).get("finalizers")
    )
