"""What create, update, patch and delete mean: kube-apiserver's generic registry, in memory.

`RestStorage` turns requests into store changes with the server's rules: server-set metadata,
namespace checks, validation and immutability, optimistic concurrency and preconditions, the
spec/status split, generation, managedFields, dry-run, no-op updates, finalizers, graceful pod
deletion and propagation policies. Follow-up work (garbage collection, namespace and CRD
lifecycles) is left to the controllers, which react to the changes this layer commits.
"""

from __future__ import annotations

import datetime
import json
import random
import string
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import yaml

from kr8s_trio._core._exceptions import APIError, PatchError
from kr8s_trio._core._field_selectors import FieldSelector
from kr8s_trio._core._patch import (
    MAX_JSON_PATCH_OPERATIONS,
    apply_json_patch,
    apply_merge_patch,
    parse_json_patch,
)
from kr8s_trio._core._schema import schema_for
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio._core._strategic import apply_strategic_merge_patch
from kr8s_trio.testing._apply import record_update, server_side_apply
from kr8s_trio.testing._pagination import ListOptions, encode_continue
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
    options_invalid,
    resource_expired,
    status_error,
    success_status,
    timeout,
    unsupported_media_type,
)
from kr8s_trio.testing._store import Store, Stored, copy_json, object_key
from kr8s_trio.testing._strategies import (
    CRD_FINALIZER,
    carry_over_on_update,
    default_object,
    validate_name,
    validate_object,
    validate_update,
)

if TYPE_CHECKING:
    from kr8s_trio.testing._resources import ResourceRegistry

__all__ = ["ListPage", "RestStorage", "WriteContext"]

JSONObject = dict[str, Any]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)

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
#: the alphabet of generateName suffixes (no vowels, no confusable characters)
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@attrs.define
class WriteContext:
    """Who writes and how: resolved once per request."""

    manager: str | None
    dry_run: bool = False
    #: set by the apply path: managedFields computed by server-side apply
    managed_fields: list[JSONObject] | None = None


@attrs.frozen
class ListPage:
    items: list[Stored]
    resource_version: int
    continue_token: str | None = None
    remaining: int | None = None


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

    def _check_type(self, rt: ResourceType, obj: JSONObject) -> None:
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

    def list(
        self,
        rt: ResourceType,
        namespace: str | None,
        options: ListOptions,
        labels: LabelSelector,
        fields: FieldSelector,
    ) -> ListPage:
        """One page of a LIST with kube-apiserver's resourceVersion and pagination rules."""
        store = self.store
        start = ""
        if options.continue_token is not None:
            token = options.continue_token
            rv = None if token.rv < 0 else token.rv  # negative: continue from the latest
            if rv is not None and rv < store.compacted:
                raise _expired_continue(token.start, namespace)
            start = token.start
        elif options.resource_version and options.exact:
            rv = options.resource_version
            if rv > store.revision:
                raise _too_large(rv, store.revision)
            if rv < store.compacted:
                raise resource_expired("The resourceVersion for the provided list is too old.")
        else:
            if options.resource_version and options.resource_version > store.revision:
                raise _too_large(options.resource_version, store.revision)
            rv = None
        items, list_rv = store.snapshot(rt.storage_key, rv)
        prefix = f"{namespace}/" if namespace and rt.namespaced else ""
        lo = _bisect_items(items, max(prefix, start))
        selecting = not labels.empty or bool(fields.requirements)
        out: list[Stored] = []
        i = lo
        n = len(items)
        while i < n:
            stored = items[i]
            if prefix and not stored.key.startswith(prefix):
                break
            i += 1
            if selecting and not _matches(rt, stored.obj, labels, fields):
                continue
            out.append(stored)
            if options.limit and len(out) >= options.limit:
                break
        more = i < n and (not prefix or items[i].key.startswith(prefix))
        token_out = None
        remaining = None
        if options.limit and len(out) >= options.limit and more:
            token_out = encode_continue(list_rv, out[-1].key + "\x00")
            if not selecting:
                end = n if not prefix else _bisect_items(items, prefix[:-1] + "0")
                remaining = end - i
        return ListPage(out, list_rv, token_out, remaining)

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
        self._check_type(rt, obj)
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
            name = base + "".join(self.rng.choice(_NAME_ALPHABET) for _ in range(5))
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
        self._check_type(rt, obj)
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
                raise conflict(rt.group_resource, name, MODIFIED)
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
        self._check_uid(rt, name, meta.get("uid"), old)
        return self.finish_update(rt, old, obj, ctx, subresource)

    def _check_uid(self, rt: ResourceType, name: str, uid: object, old: Stored) -> None:
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
            if ctx.managed_fields is None:
                new["metadata"].pop("managedFields", None)
            else:
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
            and not _namespace_finalizers(rt, new)
        ):
            change = self.store.delete(rt.storage_key, key, new)
            self.on_commit()
            return change.new.obj
        self.store.put(rt.storage_key, key, new)
        self.on_commit()
        return new

    # -- patch --------------------------------------------------------------------------------

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: bytes,
        content_type: str,
        ctx: WriteContext,
        *,
        subresource: str | None = None,
        force: bool | None = None,
    ) -> tuple[JSONObject, int]:
        """PATCH with any of the four patch types; returns (object, HTTP status)."""
        if content_type == APPLY_PATCH:
            return self._apply(rt, namespace, name, body, ctx, subresource, bool(force))
        if force is not None:
            raise options_invalid(
                "PatchOptions",
                FieldError.forbidden("force", "may not be specified for non-apply patch"),
            )
        if content_type not in PATCH_TYPES or (content_type == STRATEGIC_PATCH and not rt.builtin):
            accepted = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
            if rt.builtin:
                accepted.insert(2, STRATEGIC_PATCH)
            raise unsupported_media_type(content_type, accepted)
        old = self.get(rt, namespace, name)
        try:
            patch = json.loads(body or b"null")
        except ValueError as exc:
            raise bad_request(f"error decoding patch: {exc}") from None
        new = _apply_patch(rt, old.obj, patch, content_type)
        if not isinstance(new, dict):
            raise bad_request("the patch did not produce an object")
        meta = new.get("metadata") if isinstance(new.get("metadata"), dict) else {}
        assert isinstance(meta, dict)
        # patch.go applyPatch: the patched object must keep the namespace and name of the URL
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        if meta.get("name") != name:
            raise bad_request(
                f"the name of the object ({meta.get('name') or ''}) does not match the name on "
                f"the URL ({name})"
            )
        rv = meta.get("resourceVersion")
        if rv and rv != old.obj["metadata"]["resourceVersion"]:
            raise conflict(rt.group_resource, name, MODIFIED)
        self._check_uid(rt, name, meta.get("uid"), old)
        return self.finish_update(rt, old, new, ctx, subresource), 200

    def _apply(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: bytes,
        ctx: WriteContext,
        subresource: str | None,
        force: bool,
    ) -> tuple[JSONObject, int]:
        if not ctx.manager:
            raise options_invalid(
                "PatchOptions", FieldError.required("fieldManager", "is required for apply patch")
            )
        try:
            applied = yaml.safe_load(body.decode() or "null")
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise bad_request(f"error decoding YAML: {exc}") from None
        if not isinstance(applied, dict):
            raise bad_request("apply patch must be a YAML or JSON object")
        errors: list[FieldError] = []
        if not applied.get("apiVersion"):
            errors.append(FieldError.required("apiVersion"))
        if not applied.get("kind"):
            errors.append(FieldError.required("kind"))
        meta = applied.get("metadata")
        if not isinstance(meta, dict) or not meta.get("name"):
            errors.append(FieldError.required("metadata.name"))
        if errors:
            raise self._invalid(rt, name, errors)
        assert isinstance(meta, dict)
        if meta.get("managedFields") is not None:
            raise bad_request("metadata.managedFields must be nil")
        if meta["name"] != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        self._check_type(rt, applied)
        old = self.find(rt, namespace, name)
        schema = schema_for(rt.group, rt.kind)
        now = self.timestamp()
        sub = subresource if subresource == "status" else None
        if old is None:
            if subresource:
                raise not_found(rt.group_resource, name)
            created, managed = server_side_apply(
                None,
                applied,
                [],
                manager=ctx.manager,
                force=force,
                api_version=rt.api_version,
                time=now,
                schema=schema,
            )
            ctx.managed_fields = managed
            return self.create(rt, namespace, created, ctx), 201
        rv = meta.get("resourceVersion")
        if rv and rv != old.obj["metadata"]["resourceVersion"]:
            raise conflict(rt.group_resource, name, MODIFIED)
        new, managed = server_side_apply(
            old.obj,
            applied,
            list(old.obj["metadata"].get("managedFields") or []),
            manager=ctx.manager,
            force=force,
            api_version=rt.api_version,
            time=now,
            schema=schema,
            subresource=sub,
        )
        ctx.managed_fields = managed
        return self.finish_update(rt, old, new, ctx, subresource), 200

    # -- delete -------------------------------------------------------------------------------

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        options: JSONObject,
        ctx: WriteContext,
    ) -> tuple[JSONObject, int]:
        """DELETE one object; returns (object or Status, HTTP status)."""
        old = self.get(rt, namespace, name)
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

        grace = self._grace_period(rt, obj, options)
        if finalizers or grace or _namespace_finalizers(rt, obj):
            new = copy_json(obj)
            new_meta = new["metadata"]
            if not new_meta.get("deletionTimestamp"):
                new_meta["deletionTimestamp"] = self.timestamp(grace or 0)
                # the namespace and CRD registries only stamp the time (no grace, no generation)
                if is_crd:
                    _set_crd_terminating(new, self.timestamp())
                elif (rt.group, rt.kind) != ("", "Namespace"):
                    new_meta["deletionGracePeriodSeconds"] = grace or 0
                    if rt.generation and not grace:
                        new_meta["generation"] = int(new_meta.get("generation") or 0) + 1
            elif grace is not None and grace < int(new_meta.get("deletionGracePeriodSeconds") or 0):
                new_meta["deletionTimestamp"] = self.timestamp(grace)
                new_meta["deletionGracePeriodSeconds"] = grace
            if finalizers:
                new_meta["finalizers"] = finalizers
            if (rt.group, rt.kind) == ("", "Namespace"):
                new.setdefault("status", {})["phase"] = "Terminating"
            if new == obj:
                return obj, 200
            if ctx.dry_run:
                return new, 200
            self.store.put(rt.storage_key, old.key, new)
            self.on_commit()
            return new, 200
        if ctx.dry_run:
            return (obj if rt.return_deleted_object else self._deleted_status(rt, obj)), 200
        change = self.store.delete(rt.storage_key, old.key)
        self.on_commit()
        if rt.return_deleted_object:
            return change.new.obj, 200
        return self._deleted_status(rt, obj), 200

    def _grace_period(self, rt: ResourceType, obj: JSONObject, options: JSONObject) -> int | None:
        """Seconds of graceful deletion for pods (None: not graceful)."""
        if (rt.group, rt.kind) != ("", "Pod"):
            return None
        requested = options.get("gracePeriodSeconds")
        spec = obj.get("spec") or {}
        grace = (
            requested
            if isinstance(requested, int)
            else spec.get("terminationGracePeriodSeconds", 30)
        )
        phase = (obj.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed") or not grace or grace < 0:
            return None
        return int(grace)

    @staticmethod
    def _deleted_status(rt: ResourceType, obj: JSONObject) -> JSONObject:
        details = rt.group_resource.details(obj["metadata"]["name"])
        details["uid"] = obj["metadata"].get("uid")
        return success_status(details)

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        options: JSONObject,
        ctx: WriteContext,
    ) -> JSONObject:
        """DELETE on a collection: delete every matching object; answer with their list."""
        page = self.list(rt, namespace, ListOptions(0, None, None, False), labels, fields)
        deleted: list[JSONObject] = []
        for stored in page.items:
            meta = stored.obj["metadata"]
            try:
                obj, _ = self.delete(rt, meta.get("namespace"), meta["name"], options, ctx)
            except APIError as exc:
                if exc.code == 404:
                    continue
                raise
            deleted.append(obj if obj.get("kind") == rt.kind else stored.obj)
        return {
            "kind": rt.list_kind,
            "apiVersion": rt.api_version,
            "metadata": {"resourceVersion": str(self.store.revision)},
            "items": deleted,
        }


def _apply_patch(rt: ResourceType, doc: JSONObject, patch: object, content_type: str) -> object:
    """Apply a non-apply patch, mapping failures to kube-apiserver's status codes."""
    if content_type == JSON_PATCH:
        try:
            ops = parse_json_patch(patch)
        except PatchError as exc:
            raise bad_request(str(exc)) from None
        if len(ops) > MAX_JSON_PATCH_OPERATIONS:
            raise status_error(
                413,
                "RequestEntityTooLarge",
                "The allowed maximum operations in a JSON patch is "
                f"{MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}",
            )
        try:
            return apply_json_patch(doc, ops)
        except PatchError:
            # NewGenericServerResponse(422, ...) drops the patch error: no causes, empty details
            raise status_error(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
                {},
            ) from None
    if content_type == MERGE_PATCH:
        if patch is None:
            raise bad_request("JSON merge patch must not be null")
        return apply_merge_patch(doc, patch)
    if not isinstance(patch, dict):
        raise bad_request(f"invalid patch format of the patch: {json.dumps(patch)[:100]}")
    try:
        return apply_strategic_merge_patch(doc, patch, schema_for(rt.group, rt.kind))
    except PatchError as exc:
        message = str(exc)
        if message.startswith("invalid patch format"):
            raise bad_request(message) from None
        if "lists of lists" in message:
            raise status_error(422, "Invalid", message) from None
        raise internal_error(message) from None


MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def _too_large(rv: int, current: int) -> APIError:
    err = timeout(f"Timeout: Too large resource version: {rv}, current: {current}")
    err.status["details"] = {
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
        "retryAfterSeconds": 1,
    }
    return err


def _expired_continue(start: str, namespace: str | None) -> APIError:
    err = resource_expired(
        "The provided continue parameter is too old to display a consistent list result. You can "
        "start a new list without the continue parameter, or use the continue token in this "
        "response to retrieve the remainder of the results. Continuing with the provided token "
        "results in an inconsistent list - objects that were created, modified, or deleted "
        "between the time the first chunk was returned and now may show up in the list."
    )
    del namespace
    err.status["metadata"] = {"continue": encode_continue(-1, start)}
    return err


def _bisect_items(items: list[Stored], key: str) -> int:
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid].key < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _matches(
    rt: ResourceType, obj: JSONObject, labels: LabelSelector, fields: FieldSelector
) -> bool:
    if not labels.empty and not labels.matches(obj.get("metadata", {}).get("labels") or {}):
        return False
    return not fields.requirements or fields.matches(rt.field_values(obj))


def matches(
    rt: ResourceType, obj: JSONObject, labels: LabelSelector, fields: FieldSelector
) -> bool:
    """Whether ``obj`` is selected by both selectors."""
    return _matches(rt, obj, labels, fields)


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


def _namespace_finalizers(rt: ResourceType, obj: JSONObject) -> bool:
    return (rt.group, rt.kind) == ("", "Namespace") and bool(
        (obj.get("spec") or {}).get("finalizers")
    )


def random_token(rng: random.Random, n: int = 32) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))
