"""What PATCH means: the four patch types, applied with kube-apiserver's rules and errors.

JSON patch, JSON merge patch and strategic merge patch (built-in kinds only) transform the stored
object, then the result goes through the same update path as a PUT (`RestStorage.finish_update`);
a server-side apply merges by field ownership and may create the object. Failures map to the
status codes the real server uses for each patch type.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from kr8s_trio._core._exceptions import PatchError
from kr8s_trio._core._patch import (
    MAX_JSON_PATCH_OPERATIONS,
    apply_json_patch,
    apply_merge_patch,
    parse_json_patch,
)
from kr8s_trio._core._schema import schema_for
from kr8s_trio._core._strategic import apply_strategic_merge_patch
from kr8s_trio.testing._apply import server_side_apply
from kr8s_trio.testing._status import (
    FieldError,
    bad_request,
    internal_error,
    invalid,
    not_found,
    options_invalid,
    stale_conflict,
    status_error,
    unsupported_media_type,
)

if TYPE_CHECKING:
    from kr8s_trio.testing._resources import ResourceType
    from kr8s_trio.testing._rest import RestStorage, WriteContext

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_TYPES",
    "STRATEGIC_PATCH",
    "patch_object",
]

JSONObject = dict[str, Any]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)


def patch_object(
    storage: RestStorage,
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
        return _apply(storage, rt, namespace, name, body, ctx, subresource, bool(force))
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
    old = storage.get(rt, namespace, name)
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
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if meta.get("name") != name:
        raise bad_request(
            f"the name of the object ({meta.get('name') or ''}) does not match the name on "
            f"the URL ({name})"
        )
    rv = meta.get("resourceVersion")
    if rv and rv != old.obj["metadata"]["resourceVersion"]:
        raise stale_conflict(rt.group_resource, name)
    storage.check_uid(rt, name, meta.get("uid"), old)
    return storage.finish_update(rt, old, new, ctx, subresource), 200


def _apply(
    storage: RestStorage,
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
        raise invalid(rt.group, rt.kind, name, errors)
    assert isinstance(meta, dict)
    if meta.get("managedFields") is not None:
        raise bad_request("metadata.managedFields must be nil")
    if meta["name"] != name:
        raise bad_request(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
        )
    storage.check_type(rt, applied)
    old = storage.find(rt, namespace, name)
    schema = schema_for(rt.group, rt.kind)
    now = storage.timestamp()
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
        return storage.create(rt, namespace, created, ctx), 201
    rv = meta.get("resourceVersion")
    if rv and rv != old.obj["metadata"]["resourceVersion"]:
        raise stale_conflict(rt.group_resource, name)
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
    return storage.finish_update(rt, old, new, ctx, subresource), 200


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
