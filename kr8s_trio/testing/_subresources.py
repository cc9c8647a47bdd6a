"""Subresources (status, scale, eviction, binding, finalize, token) and virtual review resources.

These are the endpoints that are not plain object storage: ``/status`` writes only the status,
``/scale`` reads and writes replica counts through an ``autoscaling/v1`` Scale, ``/eviction``
deletes a pod unless a PodDisruptionBudget forbids it (429), and the review resources
(TokenReview, SelfSubjectReview, SelfSubjectAccessReview, ...) answer from the authenticator and
the rule table without storing anything.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, cast

from kr8s_trio._core._exceptions import PatchError, SelectorError
from kr8s_trio._core._jsonpath import dig_dotted
from kr8s_trio._core._patch import apply_json_patch, apply_merge_patch
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._auth import RequestAttributes, UserInfo
from kr8s_trio.testing._deletion import delete_object
from kr8s_trio.testing._exec import refuse_without_websocket
from kr8s_trio.testing._handlers import StreamingResponse, _present, _write_context, decode_body
from kr8s_trio.testing._http import Request, Response, json_response
from kr8s_trio.testing._logs import pod_log
from kr8s_trio.testing._patching import APPLY_PATCH, JSON_PATCH, STRATEGIC_PATCH, patch_object
from kr8s_trio.testing._status import (
    FieldError,
    GroupResource,
    bad_request,
    conflict,
    invalid,
    method_not_supported,
    not_found,
    path_not_found,
    stale_conflict,
    status_error,
    success_status,
    unsupported_media_type,
)
from kr8s_trio.testing._store import copy_json

if TYPE_CHECKING:
    from kr8s_trio.testing._requestinfo import RequestInfo
    from kr8s_trio.testing._resources import ResourceType
    from kr8s_trio.testing._state import ClusterState

__all__ = ["handle_subresource", "handle_virtual"]

JSONObject = dict[str, Any]


def _set(obj: JSONObject, path: str, value: Any) -> None:
    parts = path.strip(".").split(".")
    cur = obj
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
    cur[parts[-1]] = value


async def handle_subresource(
    state: ClusterState, request: Request, info: RequestInfo, rt: ResourceType, user: UserInfo
) -> Response | StreamingResponse:
    """Serve ``…/{name}/{subresource}`` for the subresources part 1 implements, and logs."""
    sub = info.subresource
    if not rt.has_subresource(sub):
        raise path_not_found()
    namespace = info.namespace if rt.namespaced else None
    name = info.name or ""
    match sub, info.verb:
        case "status", "get":
            return json_response(_present(rt, state.rest.get(rt, namespace, name).obj))
        case "status", "update":
            ctx = _write_context(request)
            return json_response(
                _present(
                    rt,
                    state.rest.update(rt, namespace, name, decode_body(request, rt), ctx, "status"),
                )
            )
        case "status", "patch":
            ctx = _write_context(request)
            obj, code = patch_object(
                state.rest,
                rt,
                namespace,
                name,
                request.body,
                request.content_type,
                ctx,
                subresource="status",
                force=_force(request),
            )
            return json_response(_present(rt, obj), code)
        case "scale", ("get" | "update" | "patch"):
            return _scale(state, request, info, rt, namespace, name)
        case "finalize", "update":
            return _finalize(state, request, rt, name)
        case "eviction", "create":
            return _evict(state, request, rt, namespace, name)
        case "binding", "create":
            return _bind(state, request, rt, namespace, name)
        case "token", "create":
            return _token(state, request, namespace, name)
        case "log", "get":
            return pod_log(state, request, rt, namespace, name)
        case "exec" | "attach", "get" | "create":
            refuse_without_websocket(state, request, namespace, name)
    if any(s.name == sub and info.verb in s.verbs for s in rt.subresources):
        raise status_error(
            503,
            "ServiceUnavailable",
            f"{rt.plural}/{sub} is not served by the fake cluster's API machinery (see the "
            "simulated kubelet)",
        )
    raise method_not_supported(rt.group_resource, info.verb)


def _force(request: Request) -> bool | None:
    value = request.param("force")
    return None if value is None else value in ("true", "1", "True")


# -- scale ---------------------------------------------------------------------------------------


def _scale_of(rt: ResourceType, obj: JSONObject) -> JSONObject:
    assert rt.scale is not None
    meta = obj["metadata"]
    selector = ""
    if rt.scale.label_selector is not None:
        raw = dig_dotted(obj, rt.scale.label_selector)
        if isinstance(raw, str):
            selector = raw
    if not selector:
        spec_selector = dig_dotted(obj, "spec.selector")
        if rt.kind == "ReplicationController" and isinstance(spec_selector, dict):
            selector = ",".join(f"{k}={v}" for k, v in sorted(spec_selector.items()))
        elif isinstance(spec_selector, dict):
            try:
                selector = str(LabelSelector.from_label_selector(spec_selector))
            except SelectorError:
                selector = ""
    status: JSONObject = {"replicas": dig_dotted(obj, rt.scale.status_replicas) or 0}
    if selector:
        status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        # autoscaling/v1 ScaleSpec.replicas is omitempty: zero replicas is an empty spec
        "spec": {"replicas": replicas}
        if (replicas := dig_dotted(obj, rt.scale.spec_replicas))
        else {},
        "status": status,
    }


def _scale(
    state: ClusterState,
    request: Request,
    info: RequestInfo,
    rt: ResourceType,
    namespace: str | None,
    name: str,
) -> Response:
    if rt.scale is None:
        raise path_not_found()
    stored = state.rest.get(rt, namespace, name)
    scale = _scale_of(rt, stored.obj)
    if info.verb == "get":
        return json_response(scale)
    ctx = _write_context(request)
    if info.verb == "update":
        new_scale = decode_body(request)
    else:
        ctype = request.content_type
        try:
            patch = json.loads(request.body or b"null")
        except ValueError as exc:
            raise bad_request(f"error decoding patch: {exc}") from None
        try:
            if ctype == JSON_PATCH:
                new_scale = cast("JSONObject", apply_json_patch(scale, patch))
            elif ctype in ("application/merge-patch+json", STRATEGIC_PATCH, APPLY_PATCH):
                new_scale = cast("JSONObject", apply_merge_patch(scale, patch))
            else:
                raise unsupported_media_type(
                    ctype, [JSON_PATCH, "application/merge-patch+json", STRATEGIC_PATCH]
                )
        except PatchError as exc:
            raise status_error(422, "Invalid", str(exc)) from None
    if not isinstance(new_scale, dict):
        raise bad_request("scale must be an object")
    rv = (new_scale.get("metadata") or {}).get("resourceVersion")
    if rv and rv != stored.obj["metadata"]["resourceVersion"]:
        raise stale_conflict(rt.group_resource, name)
    replicas = (new_scale.get("spec") or {}).get("replicas", 0)  # omitted: zero
    if not isinstance(replicas, int) or replicas < 0:
        error = FieldError.invalid_value(
            "spec.replicas", replicas, "must be greater than or equal to 0"
        )
        raise invalid("autoscaling", "Scale", name, [error])
    new = copy_json(stored.obj)
    assert rt.scale is not None
    _set(new, rt.scale.spec_replicas, replicas)
    updated = state.rest.finish_update(rt, stored, new, ctx)
    return json_response(_scale_of(rt, updated))


# -- namespaces, pods, service accounts ------------------------------------------------------------


def _finalize(state: ClusterState, request: Request, rt: ResourceType, name: str) -> Response:
    body = decode_body(request)
    stored = state.rest.get(rt, None, name)
    new = copy_json(stored.obj)
    new.setdefault("spec", {})["finalizers"] = list(
        (body.get("spec") or {}).get("finalizers") or []
    )
    return json_response(state.rest.finish_update(rt, stored, new, _write_context(request)))


def _pod_ready(pod: JSONObject) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def _pdb_allows(pdb: JSONObject, pods: list[JSONObject]) -> tuple[bool, int, int]:
    """(eviction allowed, healthy needed, healthy now) for one budget."""
    spec = pdb.get("spec") or {}
    status = pdb.get("status") or {}
    expected = len(pods)
    healthy = sum(1 for p in pods if _pod_ready(p))
    if "disruptionsAllowed" in status and status.get("observedGeneration"):
        allowed = int(status["disruptionsAllowed"])
        return allowed > 0, int(status.get("desiredHealthy", healthy - allowed)), healthy

    def resolve(value: Any) -> int:
        if isinstance(value, str) and value.endswith("%"):
            return math.ceil(expected * int(value[:-1]) / 100)
        return int(value)

    if "minAvailable" in spec:
        desired = resolve(spec["minAvailable"])
    elif "maxUnavailable" in spec:
        desired = expected - resolve(spec["maxUnavailable"])
    else:
        desired = 0
    return healthy - desired > 0, desired, healthy


def _evict(
    state: ClusterState, request: Request, rt: ResourceType, namespace: str | None, name: str
) -> Response:
    body = decode_body(request)
    pod = state.rest.get(rt, namespace, name).obj
    labels = (pod.get("metadata") or {}).get("labels") or {}
    pdb_rt = state.registry.preferred("policy", "poddisruptionbudgets")
    pods_rt = rt
    if pdb_rt is not None and not pod["metadata"].get("deletionTimestamp"):
        for pdb in state.controllers.all_in(pdb_rt, namespace):
            try:
                selector = LabelSelector.from_label_selector(
                    (pdb.get("spec") or {}).get("selector")
                )
            except SelectorError:
                continue
            if selector.empty or not selector.matches(labels):
                continue
            covered = [
                p
                for p in state.controllers.all_in(pods_rt, namespace)
                if selector.matches((p.get("metadata") or {}).get("labels") or {})
            ]
            allowed, desired, healthy = _pdb_allows(pdb, covered)
            if not allowed:
                pdb_name = pdb["metadata"]["name"]
                raise status_error(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    {
                        "causes": [
                            {
                                "reason": "DisruptionBudget",
                                "message": f"The disruption budget {pdb_name} needs "
                                f"{desired} healthy pods and has {healthy} currently",
                            }
                        ]
                    },
                    retry_after=None,
                )
    options = body.get("deleteOptions") or {}
    delete_object(state.rest, rt, namespace, name, options, _write_context(request))
    return json_response(success_status(), 201)


def _bind(
    state: ClusterState, request: Request, rt: ResourceType, namespace: str | None, name: str
) -> Response:
    body = decode_body(request)
    target = body.get("target") or {}
    node = target.get("name")
    if not node:
        raise bad_request("binding target name is required")
    stored = state.rest.get(rt, namespace, name)
    current = (stored.obj.get("spec") or {}).get("nodeName")
    if current:
        raise conflict(  # kube-apiserver names the subresource here
            GroupResource("", "pods/binding"),
            name,
            f'pod {name} is already assigned to node "{current}"',
        )
    new = copy_json(stored.obj)
    new["spec"]["nodeName"] = node
    conditions = [
        c
        for c in (new.get("status") or {}).get("conditions") or []
        if c.get("type") != "PodScheduled"
    ]
    conditions.append(
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": state.rest.timestamp(),
        }
    )
    new.setdefault("status", {})["conditions"] = conditions
    # a binding bypasses pod spec immutability: write through the store like the binding REST does
    state.store.put(rt.storage_key, stored.key, new)
    state.controllers.drain()
    return json_response(success_status(), 201)


def _token(state: ClusterState, request: Request, namespace: str | None, name: str) -> Response:
    sa_rt = state.registry.get("", "v1", "serviceaccounts")
    assert sa_rt is not None
    sa = state.rest.get(sa_rt, namespace, name).obj
    body = decode_body(request)
    spec = dict(body.get("spec") or {})
    seconds = int(spec.get("expirationSeconds") or 3600)
    user = UserInfo(
        f"system:serviceaccount:{namespace}:{name}",
        uid=sa["metadata"].get("uid", ""),
        groups=("system:serviceaccounts", f"system:serviceaccounts:{namespace}"),
    )
    token = state.authn.add_token(user, ttl=float(seconds))
    spec.setdefault("audiences", ["https://kubernetes.default.svc.cluster.local"])
    spec["expirationSeconds"] = seconds
    return json_response(
        {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
            "spec": spec,
            "status": {"token": token, "expirationTimestamp": state.rest.timestamp(seconds)},
        },
        201,
    )


# -- virtual resources --------------------------------------------------------------------------


def handle_virtual(
    state: ClusterState, request: Request, rt: ResourceType, user: UserInfo
) -> Response:
    """POST to a review resource: answer, store nothing."""
    body = decode_body(request, rt)
    spec = body.get("spec") or {}
    out: JSONObject = {
        "kind": rt.kind,
        "apiVersion": rt.api_version,
        "metadata": {"creationTimestamp": None},
    }
    match rt.kind:
        case "TokenReview":
            token = spec.get("token") or ""
            reviewed = state.authn.user_for_token(token) if token else None
            out["spec"] = spec
            out["status"] = (
                {
                    "authenticated": True,
                    "user": reviewed.to_json(),
                    "audiences": spec.get("audiences") or [],
                }
                if reviewed is not None
                else {"user": {}, "error": "invalid bearer token"}
            )
        case "SelfSubjectReview":
            out["status"] = {"userInfo": user.to_json()}
        case "SelfSubjectAccessReview" | "SubjectAccessReview":
            subject = user
            if rt.kind == "SubjectAccessReview":
                subject = UserInfo(
                    str(spec.get("user") or ""),
                    str(spec.get("uid") or ""),
                    tuple(spec.get("groups") or ()),
                )
            out["spec"] = spec
            out["status"] = _access_review(state, subject, spec)
        case "SelfSubjectRulesReview":
            out["spec"] = spec
            out["status"] = _rules_review(state, user, str(spec.get("namespace") or ""))
        case _:
            raise not_found(rt.group_resource, "")
    return json_response(out, 201)


def _access_review(state: ClusterState, user: UserInfo, spec: JSONObject) -> JSONObject:
    attrs_ = spec.get("resourceAttributes")
    if isinstance(attrs_, dict):
        request = RequestAttributes(
            verb=str(attrs_.get("verb") or ""),
            group=str(attrs_.get("group") or ""),
            resource=str(attrs_.get("resource") or ""),
            subresource=str(attrs_.get("subresource") or ""),
            namespace=attrs_.get("namespace") or None,
            name=attrs_.get("name") or None,
        )
        allowed = state.authz.allowed(user, request)
    else:
        allowed = state.authz.rules is None or "system:masters" in user.groups
    status: JSONObject = {"allowed": allowed}
    if allowed and state.authz.rules is None:
        status["reason"] = "the fake cluster allows everything (no rules set)"
    return status


def _rules_review(state: ClusterState, user: UserInfo, namespace: str) -> JSONObject:
    rules = state.authz.rules
    if rules is None or "system:masters" in user.groups:
        resource_rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
    else:
        resource_rules = [
            {
                "verbs": list(r.verbs) or ["*"],
                "apiGroups": list(r.api_groups) or ["*"],
                "resources": list(r.resources) or ["*"],
                **({"resourceNames": list(r.names)} if r.names else {}),
            }
            for r in rules
            if (
                (not r.users and not r.groups)
                or user.username in r.users
                or set(r.groups) & set(user.groups)
            )
            and (not r.namespaces or namespace in r.namespaces or "*" in r.namespaces)
        ]
    return {"resourceRules": resource_rules, "nonResourceRules": [], "incomplete": False}
