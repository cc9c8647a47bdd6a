"""From a method and a URL path to what is being asked (kube-apiserver's ``RequestInfo``).

``/api/v1/namespaces/default/pods/web/log`` is verb ``get`` on resource ``pods``,
subresource ``log``, name ``web`` in namespace ``default``. The rules (including the
``namespaces/{name}/status`` special case and the deprecated ``/watch/`` prefix) follow
apiserver's request info factory.
"""

from __future__ import annotations

from urllib.parse import unquote

import attrs

__all__ = ["RequestInfo", "request_info"]

_NAMESPACE_SUBRESOURCES = {"status", "finalize"}


@attrs.frozen
class RequestInfo:
    path: str
    is_resource: bool
    verb: str
    api_prefix: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str | None = None
    name: str | None = None


def request_info(method: str, path: str, watch_param: str | None) -> RequestInfo:
    """Classify a request; non-resource paths get ``is_resource=False``."""
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    verb = method.lower()
    if not parts or parts[0] not in ("api", "apis"):
        return RequestInfo(path, False, verb)
    prefix = parts[0]
    rest = parts[1:]
    if prefix == "api":
        group = ""
        if not rest:
            return RequestInfo(path, False, verb, prefix)
        version, rest = rest[0], rest[1:]
    else:
        if len(rest) < 2:
            return RequestInfo(path, False, verb, prefix, group=rest[0] if rest else "")
        group, version, rest = rest[0], rest[1], rest[2:]
    if not rest:
        return RequestInfo(path, False, verb, prefix, group, version)
    watch_prefix = False
    if rest[0] == "watch":
        watch_prefix = True
        rest = rest[1:]
        if not rest:
            return RequestInfo(path, False, verb, prefix, group, version)
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else ""
    if resource == "namespaces" and name is not None:
        # /api/v1/namespaces/{name}[/status]: the namespace *is* the object
        namespace = name
    watching = watch_prefix or watch_param in ("true", "1")
    match method:
        case "GET" | "HEAD":
            if name is None:
                verb = "watch" if watching else "list"
            else:
                verb = "watch" if watching else "get"
        case "POST":
            verb = "create"
        case "PUT":
            verb = "update"
        case "PATCH":
            verb = "patch"
        case "DELETE":
            verb = "delete" if name is not None else "deletecollection"
    if resource == "namespaces":
        ns_for_info: str | None = None if name is None else name
    else:
        ns_for_info = namespace
    return RequestInfo(
        path, True, verb, prefix, group, version, resource, subresource, ns_for_info, name
    )
