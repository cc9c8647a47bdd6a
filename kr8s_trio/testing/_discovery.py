"""Discovery documents of the fake API server: ``/version``, ``/api``, ``/apis`` and below.

Every client starts by asking the server what it serves, and each asks differently: kubectl wants
aggregated discovery (``apidiscovery.k8s.io/v2``) and recognises it *only* by the parameters of the
response Content-Type, while the Python clients walk the legacy documents group by group. Both forms
are derived here from the `ResourceRegistry`, and cached until the registry's generation changes
(CRDs added or removed), so a repeated discovery request costs one dict lookup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._http import MediaRange, Request, Response, dumps
from kr8s_trio.testing._resources import ResourceRegistry, ResourceType, SubresourceInfo
from kr8s_trio.testing._status import not_acceptable, path_not_found

__all__ = ["AGGREGATED_VERSIONS", "Discovery", "discovery_format", "error_response"]

JSONObject = dict[str, Any]

_DISCOVERY_GROUP = "apidiscovery.k8s.io"
_DISCOVERY_KIND = "APIGroupDiscoveryList"
#: the aggregated discovery versions served, in the server's preference order
AGGREGATED_VERSIONS = ("v2", "v2beta1")
_LEGACY = "legacy"
_SERVABLE = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")

#: the order kube-apiserver lists its built-in groups in (APIService priorities); others follow
#: alphabetically
_GROUP_ORDER = (
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "resource.k8s.io",
)


def discovery_format(accept: Sequence[MediaRange], *, aggregated: bool = True) -> str | None:
    """Which discovery form the first acceptable Accept clause asks for.

    Mirrors kube-apiserver's negotiation for ``/api`` and ``/apis``: clauses are tried in the
    client's order; a clause without ``g``/``v``/``as`` parameters selects the legacy document, one
    asking for ``APIGroupDiscoveryList`` in ``apidiscovery.k8s.io`` ``v2`` or ``v2beta1`` selects
    that aggregated version (extra parameters such as ``profile=nopeer`` do not matter), and any
    other conversion (``as=Table``...) makes the clause unacceptable.

    Args:
        accept: the parsed Accept header.
        aggregated: whether aggregated discovery is served at all.

    Returns:
        ``"legacy"``, ``"v2"`` or ``"v2beta1"``; None when no clause is acceptable (406).
    """
    for clause in accept:
        if not clause.matches_json():
            continue
        conversion = {k: clause.params[k] for k in ("as", "g", "v") if k in clause.params}
        if not conversion:
            return _LEGACY
        if (
            aggregated
            and conversion.get("g") == _DISCOVERY_GROUP
            and conversion.get("as") == _DISCOVERY_KIND
            and conversion.get("v") in AGGREGATED_VERSIONS
        ):
            return conversion["v"]
    return None


def error_response(exc: APIError) -> Response:
    """The HTTP answer for an error Status."""
    return Response(status=exc.code, body=dumps(exc.status))


@attrs.frozen
class _Document:
    body: bytes
    etag: str  # quoted


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha512(body).hexdigest().upper() + '"'


def _group_sort_key(group: str) -> tuple[int, str]:
    try:
        return (_GROUP_ORDER.index(group), group)
    except ValueError:
        return (len(_GROUP_ORDER), group)


class Discovery:
    """Answers the discovery endpoints from a `ResourceRegistry`.

    Args:
        registry: the served resource types.
        version_info: the body of ``GET /version`` (``major``, ``minor``, ``gitVersion``...).
        server_address: ``host:port`` advertised in ``serverAddressByClientCIDRs``.
        aggregated: serve aggregated discovery when asked (False imitates an old server).
    """

    def __init__(
        self,
        registry: ResourceRegistry,
        *,
        version_info: dict[str, str],
        server_address: str,
        aggregated: bool = True,
    ) -> None:
        self._registry = registry
        self._version_info = dict(version_info)
        self._server_address = server_address
        self._aggregated = aggregated
        self._generation = -1
        self._versions: dict[str, list[str]] = {}
        self._cache: dict[tuple[str, ...], _Document] = {}

    def set_server_address(self, server_address: str) -> None:
        """Change the ``host:port`` advertised by ``GET /api`` (known once the socket is bound)."""
        self._server_address = server_address
        self._cache.pop(("api",), None)

    def handle(self, request: Request) -> Response | None:
        """Answer a discovery request, or return None when the path is not a discovery path.

        ``GET /version``, ``/api``, ``/api/{v}``, ``/apis``, ``/apis/{g}``, ``/apis/{g}/{v}`` are
        answered (a trailing slash is tolerated); an unknown version or group gets kube-apiserver's
        404 Status. Anything else, and any method other than GET, is left to the caller.
        """
        if request.method != "GET":
            return None
        stripped = request.path.strip("/")
        parts = stripped.split("/") if stripped else []
        if parts == ["version"]:
            return Response(body=dumps(self._version_info))
        if not parts or parts[0] not in ("api", "apis") or len(parts) > 3:
            return None
        if parts[0] == "api" and len(parts) > 2:
            return None
        try:
            return self._answer(request, parts)
        except APIError as exc:
            return error_response(exc)

    def _answer(self, request: Request, parts: list[str]) -> Response:
        versions = self._group_versions()
        if parts == ["api"] or parts == ["apis"]:
            fmt = discovery_format(request.accept, aggregated=self._aggregated)
            if fmt is None:
                raise not_acceptable(_SERVABLE)
            if fmt == _LEGACY:
                build = self._api_versions if parts == ["api"] else self._group_list
                return Response(body=self._document((parts[0],), build).body)
            return self._aggregated_response(request, parts[0], fmt)
        if parts[0] == "api":
            version = parts[1]
            if version not in versions.get("", []):
                raise path_not_found()
            doc = self._document(("api", version), lambda: self._resource_list("", version))
            return Response(body=doc.body)
        group = parts[1]
        if group == "" or group not in versions:
            raise path_not_found()
        if len(parts) == 2:
            doc = self._document(("apis", group), lambda: self._api_group(group))
            return Response(body=doc.body)
        version = parts[2]
        if version not in versions[group]:
            raise path_not_found()
        doc = self._document(("apis", group, version), lambda: self._resource_list(group, version))
        return Response(body=doc.body)

    # -- caching ----------------------------------------------------------------------------

    def _group_versions(self) -> dict[str, list[str]]:
        if self._registry.generation != self._generation:
            self._cache.clear()
            self._versions = self._registry.group_versions()
            self._generation = self._registry.generation
        return self._versions

    def _document(self, key: tuple[str, ...], build: Callable[[], JSONObject]) -> _Document:
        doc = self._cache.get(key)
        if doc is None:
            body = dumps(build())
            doc = self._cache[key] = _Document(body, _etag(body))
        return doc

    # -- legacy documents -------------------------------------------------------------------

    def _api_versions(self) -> JSONObject:
        return {
            "kind": "APIVersions",
            "versions": self._group_versions().get("", []),
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": self._server_address}
            ],
        }

    def _groups(self) -> list[str]:
        return sorted((g for g in self._group_versions() if g), key=_group_sort_key)

    def _group_entry(self, group: str) -> JSONObject:
        versions = [
            {"groupVersion": f"{group}/{v}", "version": v} for v in self._group_versions()[group]
        ]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    def _group_list(self) -> JSONObject:
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [self._group_entry(g) for g in self._groups()],
        }

    def _api_group(self, group: str) -> JSONObject:
        return {"kind": "APIGroup", "apiVersion": "v1", **self._group_entry(group)}

    def _resource_list(self, group: str, version: str) -> JSONObject:
        entries: list[JSONObject] = []
        for rt in self._registry.in_group_version(group, version):
            entries.append(_legacy_resource(rt))
            entries.extend(_legacy_subresource(rt, sub) for sub in rt.subresources)
        entries.sort(key=lambda e: str(e["name"]))
        out: JSONObject = {"kind": "APIResourceList"}
        if group:  # kube-apiserver leaves apiVersion out of /api/v1, not of /apis/{g}/{v}
            out["apiVersion"] = "v1"
        out["groupVersion"] = f"{group}/{version}" if group else version
        out["resources"] = entries
        return out

    # -- aggregated documents ---------------------------------------------------------------

    def _aggregated_response(self, request: Request, root: str, version: str) -> Response:
        doc = self._document((root, version), lambda: self._aggregated_list(root, version))
        headers = [("ETag", doc.etag), ("Vary", "Accept"), ("Cache-Control", "public")]
        if _if_none_match(request, doc.etag):
            return Response(status=304, body=b"", content_type="", headers=headers)
        content_type = f"application/json;g={_DISCOVERY_GROUP};v={version};as={_DISCOVERY_KIND}"
        return Response(body=doc.body, content_type=content_type, headers=headers)

    def _aggregated_list(self, root: str, version: str) -> JSONObject:
        if root == "api":
            items = [self._group_discovery("")] if "" in self._group_versions() else []
        else:
            items = [self._group_discovery(g) for g in self._groups()]
        return {
            "kind": _DISCOVERY_KIND,
            "apiVersion": f"{_DISCOVERY_GROUP}/{version}",
            "metadata": {},
            "items": items,
        }

    def _group_discovery(self, group: str) -> JSONObject:
        versions = []
        for version in self._group_versions()[group]:
            types = sorted(
                self._registry.in_group_version(group, version), key=lambda rt: rt.plural
            )
            versions.append(
                {
                    "version": version,
                    "resources": [_aggregated_resource(rt) for rt in types],
                    "freshness": "Current",
                }
            )
        metadata: JSONObject = {"name": group} if group else {}
        return {"metadata": metadata, "versions": versions}


def _if_none_match(request: Request, etag: str) -> bool:
    header = request.header("if-none-match")
    return bool(header) and (header == etag or etag in (t.strip() for t in header.split(",")))


def _legacy_resource(rt: ResourceType) -> JSONObject:
    entry: JSONObject = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": sorted(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def _legacy_subresource(rt: ResourceType, sub: SubresourceInfo) -> JSONObject:
    entry: JSONObject = {
        "name": f"{rt.plural}/{sub.name}",
        "singularName": "",
        "namespaced": rt.namespaced,
    }
    if sub.group is not None:
        entry["group"] = sub.group
    if sub.version is not None:
        entry["version"] = sub.version
    entry["kind"] = sub.kind
    entry["verbs"] = sorted(sub.verbs)
    return entry


def _aggregated_resource(rt: ResourceType) -> JSONObject:
    entry: JSONObject = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": sorted(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    if rt.subresources:
        entry["subresources"] = [
            {
                "subresource": sub.name,
                "responseKind": {
                    "group": rt.group if sub.group is None else sub.group,
                    "version": sub.version or rt.version,
                    "kind": sub.kind,
                },
                "verbs": sorted(sub.verbs),
            }
            for sub in sorted(rt.subresources, key=lambda s: s.name)
        ]
    return entry
