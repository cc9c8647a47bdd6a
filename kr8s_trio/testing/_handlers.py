"""HTTP handlers for resources: the REST verbs on top of `RestStorage`.

Each handler reads the query and body the way kube-apiserver does (``fieldManager``, ``dryRun``,
``force``, list options, selectors, DeleteOptions in the body), calls the registry and encodes the
answer, as a Table when the client asked for one. Watches return a `StreamingResponse`.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import attrs
import yaml

from kr8s_trio._core._exceptions import SelectorError
from kr8s_trio._core._field_selectors import FieldSelector
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._deletion import delete_collection, delete_object
from kr8s_trio.testing._faults import expired_status
from kr8s_trio.testing._http import JSON_TYPE, Request, Response, dumps, json_response
from kr8s_trio.testing._pagination import list_page, parse_list_options, parse_resource_version
from kr8s_trio.testing._patching import patch_object
from kr8s_trio.testing._protobuf import PROTOBUF, decode_protobuf_body
from kr8s_trio.testing._rest import WriteContext
from kr8s_trio.testing._status import (
    FieldError,
    bad_request,
    method_not_supported,
    not_acceptable,
    options_invalid,
    timeout,
    unsupported_media_type,
)
from kr8s_trio.testing._store import object_key
from kr8s_trio.testing._tables import table_request, to_table
from kr8s_trio.testing._watch import WatchOptions, WatchStream, table_encoder

if TYPE_CHECKING:
    from kr8s_trio.testing._faults import RequestRecord
    from kr8s_trio.testing._requestinfo import RequestInfo
    from kr8s_trio.testing._resources import ResourceType
    from kr8s_trio.testing._state import ClusterState

__all__ = ["StreamingResponse", "decode_body", "handle_resource"]

JSONObject = dict[str, Any]

_ACCEPTED_BODIES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
_SERVED_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")


@attrs.define
class StreamingResponse:
    """A response whose body is produced over time (watches); each item is flushed as it comes."""

    body: AsyncIterator[bytes]
    status: int = 200
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = attrs.field(factory=list)
    on_close: Any = None


def decode_body(request: Request, rt: ResourceType | None = None) -> JSONObject:
    """The request body as an object (JSON, YAML, or protobuf for the kinds `_protoschemas` has).

    ``rt`` is the resource the body is for, when it is that resource's own kind: it words decode
    errors and refuses protobuf for custom resources.

    Raises:
        APIError: 415 for other media types (CBOR, text...), 400 when malformed.
    """
    ctype = request.content_type or "application/json"
    if ctype == PROTOBUF:
        return decode_protobuf_body(request.body, rt)
    if ctype not in ("application/json", "application/yaml"):
        custom = rt is not None and rt.crd_name is not None
        accepted = _ACCEPTED_BODIES[:2] if custom else _ACCEPTED_BODIES
        raise unsupported_media_type(ctype, list(accepted))
    try:
        if ctype == "application/yaml":
            data = yaml.safe_load(request.body.decode() or "null")
        else:
            data = json.loads(request.body or b"null")
    except (ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise bad_request(f"error decoding request body: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request("the request body must be a JSON or YAML object")
    return data


def _check_accept(request: Request) -> None:
    """406 unless the client accepts JSON (the fake answers JSON even when YAML or protobuf come
    first: clients decode by Content-Type, and client-go always offers JSON after protobuf)."""
    for r in request.accept:
        if r.matches_json() or r.type == "application/yaml":
            return
    raise not_acceptable(_SERVED_TYPES)


def _selectors(rt: ResourceType, request: Request) -> tuple[LabelSelector, FieldSelector]:
    try:
        labels = LabelSelector.parse(request.param("labelSelector") or "")
    except SelectorError as exc:
        raise bad_request(str(exc)) from None
    try:
        fields = FieldSelector.parse(request.param("fieldSelector") or "")
    except SelectorError as exc:
        raise bad_request(str(exc)) from None
    supported = rt.selectable_fields()
    # kinds without their own field label conversion get apimachinery's default one, which knows
    # metadata.namespace even for cluster-scoped kinds and words its refusal differently
    default_conversion = not rt.field_getters and rt.crd_name is None
    for field in sorted(fields.fields):
        if field in supported or (default_conversion and field == "metadata.namespace"):
            continue
        if default_conversion:
            raise bad_request(
                f'"{field}" is not a known field selector: only "metadata.name", '
                '"metadata.namespace"'
            )
        raise bad_request(f"field label not supported: {field}")
    return labels, fields


#: the options kube-apiserver validates a write's query as, by method
_OPTIONS_KINDS = {
    "POST": "CreateOptions",
    "PUT": "UpdateOptions",
    "PATCH": "PatchOptions",
    "DELETE": "DeleteOptions",
}


def _write_context(request: Request) -> WriteContext:
    options_kind = _OPTIONS_KINDS.get(request.method, "CreateOptions")
    manager = request.param("fieldManager")
    if manager is None:
        # apply never falls back to the User-Agent (its missing fieldManager is a 422)
        is_apply = request.content_type == "application/apply-patch+yaml"
        agent = "" if is_apply else request.header("user-agent")
        manager = agent.split("/", 1)[0] if agent else None
    elif len(manager) > 128:
        raise options_invalid(
            options_kind,
            FieldError(
                "TooLong", "fieldManager", "may not be more than 128 characters", manager, True
            ),
        )
    dry_run = request.params("dryRun")
    for value in dry_run:
        if value != "All":
            raise options_invalid(options_kind, FieldError.not_supported("dryRun", value, ["All"]))
    validation = request.param("fieldValidation")
    if validation not in (None, "", "Ignore", "Warn", "Strict"):
        raise bad_request(f"fieldValidation parameter unsupported: {validation}")
    return WriteContext(manager=manager or None, dry_run=bool(dry_run))


def _present(rt: ResourceType, obj: JSONObject) -> JSONObject:
    """An object as the requested version shows it."""
    if obj.get("apiVersion") != rt.api_version:
        return {**obj, "apiVersion": rt.api_version}
    return obj


def _object_response(
    state: ClusterState, rt: ResourceType, request: Request, obj: JSONObject, status: int = 200
) -> Response:
    tr = table_request(request)
    if tr is not None:
        rv = str(obj.get("metadata", {}).get("resourceVersion", ""))
        return json_response(to_table(rt, [obj], tr, resource_version=rv, now=state.now()), status)
    meta = obj.get("metadata") or {}
    stored = state.store.get(
        rt.storage_key,
        object_key(meta.get("namespace") if rt.namespaced else None, meta.get("name", "")),
    )
    if stored is not None and stored.obj is obj and obj.get("apiVersion") == rt.api_version:
        # the stored version: encode it once, for this answer, the lists and every watcher
        return Response(status=status, body=stored.json)
    return json_response(_present(rt, obj), status)


async def handle_resource(
    state: ClusterState,
    request: Request,
    info: RequestInfo,
    rt: ResourceType,
    record: RequestRecord,
) -> Response | StreamingResponse:
    """Serve one request on a resource (no subresource)."""
    verb = info.verb
    if verb not in rt.verbs:
        raise method_not_supported(rt.group_resource, verb)
    namespace = info.namespace if rt.namespaced else None
    _check_accept(request)
    match verb:
        case "get":
            stored = state.rest.get(rt, namespace, info.name or "")
            return _object_response(state, rt, request, stored.obj)
        case "list":
            return _list(state, request, rt, namespace)
        case "watch":
            return _watch(state, request, rt, namespace, record)
        case "create":
            if rt.namespaced and not info.namespace:
                raise method_not_supported(rt.group_resource, "create")
            ctx = _write_context(request)
            obj = state.rest.create(rt, namespace, decode_body(request, rt), ctx)
            return _object_response(state, rt, request, obj, 201)
        case "update":
            ctx = _write_context(request)
            obj = state.rest.update(rt, namespace, info.name or "", decode_body(request, rt), ctx)
            return _object_response(state, rt, request, obj)
        case "patch":
            ctx = _write_context(request)
            obj, status = patch_object(
                state.rest,
                rt,
                namespace,
                info.name or "",
                request.body,
                request.content_type,
                ctx,
                force=_force(request),
            )
            return _object_response(state, rt, request, obj, status)
        case "delete":
            ctx = _write_context(request)
            obj, status = delete_object(
                state.rest, rt, namespace, info.name or "", _delete_options(request), ctx
            )
            if obj.get("kind") == "Status":
                return json_response(obj, status)
            return _object_response(state, rt, request, obj, status)
        case "deletecollection":
            ctx = _write_context(request)
            labels, fields = _selectors(rt, request)
            result = delete_collection(
                state.rest, rt, namespace, labels, fields, _delete_options(request), ctx
            )
            return json_response(result)
    raise method_not_supported(rt.group_resource, verb)


def _force(request: Request) -> bool | None:
    value = request.param("force")
    if value is None:
        return None
    if value not in ("true", "false", "1", "0", "True", "False"):
        raise bad_request(f'invalid value for force: "{value}"')
    return value in ("true", "1", "True")


def _delete_options(request: Request) -> JSONObject:
    options: JSONObject = {}
    if request.body.strip():
        options = decode_body(request)
    grace = request.param("gracePeriodSeconds")
    if grace is not None:
        try:
            options["gracePeriodSeconds"] = int(grace)
        except ValueError:
            raise bad_request(f'invalid gracePeriodSeconds "{grace}"') from None
    policy = request.param("propagationPolicy")
    if policy is not None:
        options["propagationPolicy"] = policy
    orphan = request.param("orphanDependents")
    if orphan is not None:
        options["orphanDependents"] = orphan in ("true", "1")
    return options


def _list(
    state: ClusterState, request: Request, rt: ResourceType, namespace: str | None
) -> Response:
    if request.param("sendInitialEvents") is not None:
        raise options_invalid(
            "ListOptions",
            FieldError.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"),
        )
    options = parse_list_options(
        limit=request.param("limit"),
        continue_=request.param("continue"),
        resource_version=request.param("resourceVersion"),
        match=request.param("resourceVersionMatch"),
    )
    labels, fields = _selectors(rt, request)
    page = list_page(state.store, rt, namespace, options, labels, fields)
    tr = table_request(request)
    if tr is not None:
        table = to_table(
            rt,
            [_present(rt, s.obj) for s in page.items],
            tr,
            resource_version=str(page.resource_version),
            continue_token=page.continue_token,
            remaining=page.remaining,
            now=state.now(),
        )
        return json_response(table)
    meta: JSONObject = {"resourceVersion": str(page.resource_version)}
    if page.continue_token:
        meta["continue"] = page.continue_token
    if page.remaining is not None:
        meta["remainingItemCount"] = page.remaining
    head = dumps({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta})[:-1]
    if any(s.obj.get("apiVersion") != rt.api_version for s in page.items):
        items = [dumps(_present(rt, s.obj)) for s in page.items]
    else:
        items = [s.json for s in page.items]
    # One join copies the body once (10,000 pods are ~60 MB): the head goes onto the first item
    # and the tail onto the last, rather than concatenating the big parts afterwards.
    prefix = head + b',"items":['
    if not items:
        return Response(body=prefix + b"]}")
    items[0] = prefix + items[0]
    items[-1] = items[-1] + b"]}"
    return Response(body=b",".join(items))


def _watch(
    state: ClusterState,
    request: Request,
    rt: ResourceType,
    namespace: str | None,
    record: RequestRecord,
) -> StreamingResponse:
    config = state.config
    store = state.store
    send_initial_param = request.param("sendInitialEvents")
    match = request.param("resourceVersionMatch")
    rv_text = request.param("resourceVersion") or ""
    bookmarks = request.param("allowWatchBookmarks") in ("true", "1")
    if send_initial_param is not None:
        if not config.watch_list:
            raise options_invalid(
                "ListOptions",
                FieldError.forbidden(
                    "sendInitialEvents",
                    "sendInitialEvents is forbidden for watch unless the WatchList feature "
                    "gate is enabled",
                ),
            )
        if match != "NotOlderThan":
            raise options_invalid(
                "ListOptions",
                FieldError.forbidden(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ),
            )
    elif match:
        raise options_invalid(
            "ListOptions",
            FieldError.forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ),
        )
    rv = parse_resource_version(rv_text) if rv_text else None
    if rv is not None and rv > store.revision:
        err = timeout(f"Timeout: Too large resource version: {rv}, current: {store.revision}")
        err.status["details"] = {
            "causes": [
                {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
            ],
            "retryAfterSeconds": 1,
        }
        raise err
    labels, fields = _selectors(rt, request)
    timeout_param = request.param("timeoutSeconds")
    requested = 0.0
    if timeout_param:
        try:
            requested = float(int(timeout_param))
        except ValueError:
            raise bad_request(f'invalid timeoutSeconds "{timeout_param}"') from None
    if requested:  # timeoutSeconds=0 means "unset", as in kube-apiserver
        watch_timeout = requested
    elif config.watch_timeout is not None:
        watch_timeout = config.watch_timeout
    else:
        watch_timeout = random.Random(state.rng.random()).uniform(1800, 3600)
    options = WatchOptions(
        namespace=namespace,
        labels=labels,
        fields=fields,
        bookmarks=bookmarks,
        timeout=watch_timeout,
        bookmark_interval=config.bookmark_interval,
    )
    tr = table_request(request)
    table = table_encoder(to_table, tr, state.now) if tr is not None else None
    stream = WatchStream(rt, options, table=table)
    send_initial = send_initial_param == "true" or (send_initial_param is None and not rv)
    faults = state.faults
    gone = faults.take("watch_gone", record)
    drop = faults.take("watch_drop", record)
    if drop is not None:
        stream.drop_after = drop.after_events
        stream.drop_mode = drop.mode
    if faults.take("watch_stall", record) is not None:
        stream.stalled = True
    bucket = store.bucket(rt.storage_key)
    if gone is not None:
        stream.push_error(
            expired_status(f"too old resource version: {rv or 0} ({store.compacted})")
        )
    elif send_initial:
        items, snapshot_rv = store.snapshot(rt.storage_key)
        stream.prime_initial(items)
        if send_initial_param == "true" and bookmarks:
            stream.push_bookmark(snapshot_rv, initial_events_end=True)
        bucket.watchers.add(stream)
    else:
        if not rv:  # sendInitialEvents=false without a resourceVersion: start at the most recent
            rv = store.revision
        if rv < store.compacted:
            stream.push_error(expired_status(f"too old resource version: {rv} ({store.compacted})"))
        else:
            stream.prime_history(store.changes_since(rt.storage_key, rv))
            bucket.watchers.add(stream)
    faults.register_watch(stream, record)

    async def body() -> AsyncIterator[bytes]:
        try:
            # aclosing: a response closed mid-send must finalize the line generator too
            async with contextlib.aclosing(stream.lines(store)) as lines:  # type: ignore[type-var]
                async for line in lines:
                    yield line
        finally:
            bucket.watchers.discard(stream)
            stream.close()
            faults.unregister_watch(stream)

    return StreamingResponse(body())
