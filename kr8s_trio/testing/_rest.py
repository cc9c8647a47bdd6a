"""What create and update mean: kube-apiserver's generic registry, in memory.

`RestStorage` turns requests into store changes with the server's rules: server-set metadata,
namespace checks, validation and immutability, optimistic concurrency and preconditions, the
spec/status split, generation, managedFields, dry-run and no-op updates. PATCH and DELETE have
their own modules (`_patching`, `_deletion`), built on `finish_update` and the store, and LIST
its paging in `_pagination`. Follow-up work (garbage collection, namespace and CRD lifecycles) is
left to the controllers, which react to the changes this layer commits.
"""

from __future__ import annotations

import datetime
import json
import random
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from kr8s_trio._core._exceptions import APIError
from kr8s_trio._core._schema import schema_for
from kr8s_trio.testing._apply import record_update
from kr8s_trio.testing._deletion import namespace_finalizers
from kr8s_trio.testing._resources import ResourceType
from kr8s_trio.testing._status import (
    FieldError,
    already_exists,
    bad_request,
    conflict,
    forbidden,
    internal_error,
    invalid,
    not_found,
    stale_conflict,
    status_error,
)
from kr8s_trio.testing._store import Store, Stored, copy_json, object_key
from kr8s_trio.testing._strategies import (
    carry_over_on_update,
    default_object,
    validate_name,
    validate_object,
    validate_update,
)

if TYPE_CHECKING:
    from kr8s_trio.testing._resources import ResourceRegistry

__all__ = ["NAME_ALPHABET", "RestStorage", "WriteContext"]

JSONObject = dict[str, Any]


#: metadata fields only the server sets
_SERVER_META = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
)
#: the alphabet of generated names (apimachinery's ``rand`` alphanums: no vowels, no confusable
#: characters): generateName suffixes, and the controllers' template hashes
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@attrs.define
class WriteContext:
    """Who writes and how: resolved once per request."""

    manager: str | None
    dry_run: bool = False
    #: set by the apply path: managedFields computed by server-side apply
    managed_fields: list[JSONObject] | None = None


class RestStorage:
    """The generic registry of the fake: every object write goes through here.

    Args:
        store: the versioned object store.
        registry: served resource types (to find Namespaces and owners).
        rng: randomness for UIDs and generated names (seedable for reproducible tests).
        now: the cluster's wall clock.
        on_commit: called after every public write operation, to let controllers react.
    """

    def __init__(
        self,
        store: Store,
        registry: ResourceRegistry,
        rng: random.Random,
        now: Callable[[], datetime.datetime],
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.rng = rng
        self.now = now
        self.on_commit = on_commit
        self._next_ip = 1
        #: CRD names that are terminating: their resources refuse creates
        self.terminating_crds: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------

    def timestamp(self, delta: float = 0.0) -> str:
        t = self.now() + datetime.timedelta(seconds=delta)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    def new_uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def allocate_cluster_ip(self) -> str:
        n = self._next_ip
        self._next_ip += 1
        return f"10.96.{n // 254}.{n % 254 + 1}"

    @staticmethod
    def key(rt: ResourceType, namespace: str | None, name: str) -> str:
        return object_key(namespace if rt.namespaced else None, name)

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Stored:
        stored = self.store.get(rt.storage_key, self.key(rt, namespace, name))
        if stored is None:
            raise not_found(rt.group_resource, name)
        return stored

    def find(self, rt: ResourceType, namespace: str | None, name: str) -> Stored | None:
        return self.store.get(rt.storage_key, self.key(rt, namespace, name))

    def _namespace_rt(self) -> ResourceType:
        rt = self.registry.get("", "v1", "namespaces")
        assert rt is not None
        return rt

    def _check_namespace_for_create(self, rt: ResourceType, namespace: str, name: str) -> None:
        ns = self.store.get(self._namespace_rt().storage_key, namespace)
        if ns is None:
            raise not_found(self._namespace_rt().group_resource, namespace)
        if ns.obj.get("metadata", {}).get("deletionTimestamp") or (
            ns.obj.get("status", {}).get("phase") == "Terminating"
        ):
            raise forbidden(
                rt.group_resource,
                name,
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )

    def check_type(self, rt: ResourceType, obj: JSONObject) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != rt.api_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({rt.api_version})"
            )
        if kind and kind != rt.kind:
            raise bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {kind}: the object '
                f"kind ({kind}) does not match the expected kind ({rt.kind})"
            )
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind

    def _invalid(self, rt: ResourceType, name: str, errors: list[FieldError]) -> APIError:
        return invalid(rt.group, rt.kind, name, errors)

    # -- reading ------------------------------------------------------------------------------

    # -- create -------------------------------------------------------------------------------

    def create(
        self, rt: ResourceType, namespace: str | None, obj: JSONObject, ctx: WriteContext
    ) -> JSONObject:
        """Create ``obj`` (which becomes owned by the store) and return the stored object."""
        if not rt.namespaced:
            namespace = None
        if rt.crd_name in self.terminating_crds:
            raise status_error(
                405,
                "MethodNotAllowed",
                "create not allowed while custom resource definition is terminating",
                rt.group_resource.details(),
            )
        self.check_type(rt, obj)
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if rt.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and namespace and body_ns != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            namespace = namespace or body_ns
            if not namespace:
                raise bad_request("namespace is required for namespaced resources")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if meta.get("resourceVersion"):
            raise internal_error("resourceVersion should not be set on objects to be created")
        name = meta.get("name")
        if not name:
            prefix = meta.get("generateName")
            if not prefix:
                raise self._invalid(
                    rt,
                    "",
                    [FieldError.required("metadata.name", "name or generateName is required")],
                )
            name = self._generate_name(rt, namespace, str(prefix))
            meta["name"] = name
        if not isinstance(name, str):
            raise self._invalid(
                rt, str(name), [FieldError.invalid_value("metadata.name", name, "must be a string")]
            )
        for field in _SERVER_META:
            meta.pop(field, None)
        meta["uid"] = self.new_uid()
        meta["creationTimestamp"] = self.timestamp()
        if rt.generation:
            meta["generation"] = 1
        if rt.status_subresource:
            obj.pop("status", None)
        default_object(rt.group, rt.kind, obj, allocate_ip=self.allocate_cluster_ip)
        errors = validate_name(rt.group, rt.kind, name) + validate_object(rt.group, rt.kind, obj)
        if errors:
            raise self._invalid(rt, name, errors)
        if rt.namespaced and namespace:
            self._check_namespace_for_create(rt, namespace, name)
        if self.find(rt, namespace, name) is not None:
            raise already_exists(rt.group_resource, name)
        if ctx.managed_fields is not None:
            meta["managedFields"] = ctx.managed_fields
        elif ctx.manager:
            owned = (
                {k: v for k, v in obj.items() if k != "status"} if rt.status_subresource else obj
            )
            meta["managedFields"] = record_update(
                None,
                owned,
                [],
                manager=ctx.manager,
                api_version=rt.api_version,
                time=self.timestamp(),
                schema=schema_for(rt.group, rt.kind),
            )
        if ctx.dry_run:
            return obj
        self.store.put(rt.storage_key, self.key(rt, namespace, name), obj)
        self.on_commit()
        return obj

    def _generate_name(self, rt: ResourceType, namespace: str | None, prefix: str) -> str:
        base = prefix[: 63 - 5] if len(prefix) > 58 else prefix
        for _ in range(8):
            name = base + "".join(self.rng.choice(NAME_ALPHABET) for _ in range(5))
            if self.find(rt, namespace, name) is None:
                return name
        raise status_error(
            409,
            "AlreadyExists",
            f'{rt.group_resource} "{name}" already exists, the server was not able to generate a '
            "unique name for the object",
            {**rt.group_resource.details(name), "retryAfterSeconds": 1},
        )

    # -- update -------------------------------------------------------------------------------

    def update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        obj: JSONObject,
        ctx: WriteContext,
        subresource: str | None = None,
    ) -> JSONObject:
        """PUT: replace an object (or its status)."""
        old = self.get(rt, namespace, name)
        self.check_type(rt, obj)
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        body_name = meta.get("name")
        if body_name and body_name != name:
            raise bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({name})"
            )
        body_ns = meta.get("namespace")
        if rt.namespaced and body_ns and body_ns != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        rv = meta.get("resourceVersion")
        if rv:
            if rv != old.obj["metadata"]["resourceVersion"]:
                raise stale_conflict(rt.group_resource, name)
        elif not rt.allow_unconditional_update:
            # the store's own check: the "kind" is the resource, the value a Go uint64 (%#v)
            raise invalid(
                rt.group,
                rt.plural,
                name,
                [
                    FieldError(
                        "Invalid",
                        "metadata.resourceVersion",
                        "0x0: must be specified for an update",
                    )
                ],
            )
        self.check_uid(rt, name, meta.get("uid"), old)
        return self.finish_update(rt, old, obj, ctx, subresource)

    def check_uid(self, rt: ResourceType, name: str, uid: object, old: Stored) -> None:
        old_uid = old.obj["metadata"].get("uid")
        if uid and uid != old_uid:
            raise conflict(
                rt.group_resource,
                name,
                f"Precondition failed: UID in precondition: {uid}, UID in object meta: {old_uid}",
            )

    def finish_update(
        self,
        rt: ResourceType,
        old_stored: Stored,
        new: JSONObject,
        ctx: WriteContext,
        subresource: str | None = None,
    ) -> JSONObject:
        """Turn a proposed new version of an existing object into the stored one."""
        old = old_stored.obj
        old_meta = old["metadata"]
        new = copy_json(new)
        if subresource == "status":
            status = new.get("status")
            new = copy_json(old)
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
            if ctx.managed_fields is not None:
                new["metadata"]["managedFields"] = ctx.managed_fields
        elif rt.status_subresource:
            if "status" in old:
                new["status"] = copy_json(old["status"])
            else:
                new.pop("status", None)
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            meta = new["metadata"] = {}
        for field in (
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        meta.pop("selfLink", None)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        name = str(meta["name"])
        errors: list[FieldError] = []
        if old_meta.get("deletionTimestamp"):
            added = [
                f
                for f in meta.get("finalizers") or []
                if f not in (old_meta.get("finalizers") or [])
            ]
            if added:
                errors.append(
                    FieldError.forbidden(
                        "metadata.finalizers",
                        "no new finalizers can be added if the object is being deleted, found new "
                        "finalizers []string{" + ", ".join(json.dumps(f) for f in added) + "}",
                    )
                )
        carry_over_on_update(rt.group, rt.kind, new, old)
        errors += validate_object(rt.group, rt.kind, new) + validate_update(
            rt.group, rt.kind, new, old
        )
        if errors:
            raise self._invalid(rt, name, errors)
        if rt.generation and _spec_changed(rt, new, old):
            meta["generation"] = int(old_meta.get("generation") or 0) + 1
        if ctx.managed_fields is not None:
            meta["managedFields"] = ctx.managed_fields
        elif ctx.manager and "managedFields" not in _changed_meta(meta, old_meta):
            meta["managedFields"] = record_update(
                old,
                new,
                list(old_meta.get("managedFields") or []),
                manager=ctx.manager,
                api_version=rt.api_version,
                time=self.timestamp(),
                schema=schema_for(rt.group, rt.kind),
                subresource=subresource if subresource == "status" else None,
            )
        if _same_object(new, old):
            return old
        if ctx.dry_run:
            return new
        key = old_stored.key
        if (
            meta.get("deletionTimestamp")
            and not meta.get("deletionGracePeriodSeconds")
            and not meta.get("finalizers")
            and not namespace_finalizers(rt, new)
        ):
            change = self.store.delete(rt.storage_key, key, new)
            self.on_commit()
            return change.new.obj
        self.store.put(rt.storage_key, key, new)
        self.on_commit()
        return new


def _spec_changed(rt: ResourceType, new: JSONObject, old: JSONObject) -> bool:
    skip = {"metadata", "status"} if rt.status_subresource else {"metadata"}
    keys = (set(new) | set(old)) - skip
    return any(new.get(k) != old.get(k) for k in keys)


def _changed_meta(meta: JSONObject, old_meta: JSONObject) -> set[str]:
    return {k for k in set(meta) | set(old_meta) if meta.get(k) != old_meta.get(k)}


def _strip_for_compare(obj: JSONObject) -> JSONObject:
    meta = {
        k: v
        for k, v in obj.get("metadata", {}).items()
        if k not in ("managedFields", "resourceVersion")
    }
    return {**obj, "metadata": meta}


def _same_object(new: JSONObject, old: JSONObject) -> bool:
    """A no-op update: nothing but managedFields bookkeeping would change."""
    return _strip_for_compare(new) == _strip_for_compare(old)
