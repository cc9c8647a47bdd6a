"""What the API server serves, fetched once per client and refreshed only on a miss.

Aggregated discovery (``apidiscovery.k8s.io`` v2, then v2beta1: two requests, ``/api`` and
``/apis``) when the server offers it; else the legacy documents (``/api``, ``/apis``, then every
group version, fetched concurrently). Concurrent first users share one fetch. A lookup that
misses refreshes the cache, at most once per `Discovery.refresh_interval`: a kind that does not
exist costs no request in between (a negative cache), one that was just installed (a new CRD) is
found within the interval.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import trio

if TYPE_CHECKING:
    from kr8s_trio._api import Api

__all__ = ["Discovery", "parse_kind"]

JSONObject = dict[str, Any]

_AGGREGATED_KIND: Final = "as=APIGroupDiscoveryList"
_ACCEPT: Final = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)
_VERSION: Final = re.compile(r"v\d+(?:(?:alpha|beta)\d+)?")
#: legacy discovery: group versions fetched at once
_LEGACY_CONCURRENCY: Final = 16


def parse_kind(kind: str) -> tuple[str, str | None, str | None]:
    """``(name, group, version)`` of a kind as users write it; None: any.

    ``pods`` -> ``("pods", None, None)``; ``deploy.apps`` -> ``("deploy", "apps", None)``;
    ``deployment.v1.apps`` and ``deployment.apps/v1`` -> ``("deployment", "apps", "v1")``;
    ``pod.v1`` -> ``("pod", "", "v1")`` (the core group).
    """
    version: str | None = None
    if "/" in kind:
        kind, version = kind.split("/", 1)
    name, dot, group = kind.partition(".")
    if not dot:
        return name.lower(), None, version
    if version is None:
        first, _, rest = group.partition(".")
        if _VERSION.fullmatch(first):
            version, group = first, rest
    return name.lower(), group.lower(), version


def _aggregated(documents: Iterable[JSONObject]) -> tuple[list[JSONObject], list[str]]:
    """Resources (in the legacy form) and group versions of aggregated discovery documents."""
    out: list[JSONObject] = []
    versions: list[str] = []
    for document in documents:
        for item in document.get("items", []):
            group = item.get("metadata", {}).get("name", "")
            for entry in item.get("versions", []):
                group_version = f"{group}/{entry['version']}" if group else entry["version"]
                versions.append(group_version)
                for res in entry.get("resources", []):
                    kind = res.get("responseKind", {}).get("kind", "")
                    converted: JSONObject = {
                        "name": res["resource"],
                        "singularName": res.get("singularResource", ""),
                        "namespaced": res.get("scope") == "Namespaced",
                        "kind": kind,
                        "verbs": list(res.get("verbs", [])),
                    }
                    for field in ("shortNames", "categories"):
                        if field in res:
                            converted[field] = list(res[field])
                    converted["version"] = group_version
                    out.append(converted)
    return out, versions


def _legacy_group_versions(core: JSONObject, groups: JSONObject) -> list[str]:
    """Every group version, the preferred one of each group first."""
    versions: list[str] = list(core.get("versions", []))
    for group in groups.get("groups", []):
        preferred = group.get("preferredVersion", {}).get("groupVersion")
        listed = [v["groupVersion"] for v in group.get("versions", [])]
        versions += [preferred] if preferred in listed else []
        versions += [v for v in listed if v != preferred]
    return versions


class Discovery:
    """The discovery cache of one `Api`.

    Args:
        api: the client to ask.
        refresh_interval: the least time between two refreshes caused by lookup misses.
    """

    def __init__(self, api: Api, refresh_interval: float = 30.0) -> None:
        self._api = api
        self.refresh_interval = refresh_interval
        self._resources: list[JSONObject] | None = None
        self._versions: list[str] = []
        self._fetched_at = -float("inf")
        self._lock = trio.Lock()

    def __repr__(self) -> str:
        count = "not fetched" if self._resources is None else f"{len(self._resources)} resources"
        return f"<Discovery {count}>"

    async def resources(self) -> list[JSONObject]:
        """Every served resource (see `Api.api_resources`), from the cache when it is filled.

        Cancellation:
            Safe; a waiting caller then does the fetch itself.
        """
        if self._resources is None:
            await self._fetch(self._fetched_at)
        assert self._resources is not None
        return self._resources

    async def versions(self) -> list[str]:
        """Every served group version (see `Api.api_versions`).

        Cancellation:
            As `resources`.
        """
        await self.resources()
        return list(self._versions)

    async def refresh(self) -> None:
        """Fetch again now.

        Cancellation:
            As `resources`.
        """
        await self._fetch(self._fetched_at)

    async def lookup_kind(self, kind: str) -> tuple[str, str, bool]:
        """See `Api.lookup_kind`.

        Cancellation:
            As `resources`.
        """
        name, group, version = parse_kind(kind)
        found = _match(await self.resources(), name, group, version)
        if found is None and trio.current_time() - self._fetched_at >= self.refresh_interval:
            await self._fetch(self._fetched_at)
            assert self._resources is not None
            found = _match(self._resources, name, group, version)
        if found is None:
            raise ValueError(f"Kind {kind!r} not found.")
        group_version = found["version"]
        group_name = group_version.rpartition("/")[0]
        singular = found.get("singularName") or found["kind"].lower()
        kind_id = f"{singular}.{group_name}/{group_version.rpartition('/')[2]}"
        if not group_name:
            kind_id = f"{singular}/{group_version}"
        return kind_id, found["name"], bool(found["namespaced"])

    async def _fetch(self, seen: float) -> None:
        """Fetch, unless someone else did since ``seen`` (the fetch time the caller saw)."""
        async with self._lock:
            if self._fetched_at != seen and self._resources is not None:
                return
            core, apis = await self._get_pair(("/api", "/apis"))
            if _AGGREGATED_KIND in core[1] and _AGGREGATED_KIND in apis[1]:
                resources, versions = _aggregated((core[0], apis[0]))
            else:
                versions = _legacy_group_versions(core[0], apis[0])
                resources = await self._legacy_resources(versions)
            self._resources, self._versions = resources, versions
            self._fetched_at = trio.current_time()

    async def _get_pair(self, bases: tuple[str, str]) -> list[tuple[JSONObject, str]]:
        results: list[tuple[JSONObject, str]] = [({}, ""), ({}, "")]

        async def get(index: int) -> None:
            headers = {"Accept": _ACCEPT}
            async with self._api.call_api(
                "GET", base=bases[index], version="", headers=headers
            ) as r:
                results[index] = (await r.json(), r.headers.get("content-type", ""))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(get, 0)
            nursery.start_soon(get, 1)
        return results

    async def _legacy_resources(self, versions: list[str]) -> list[JSONObject]:
        lists: dict[str, list[JSONObject]] = {}
        limiter = trio.CapacityLimiter(_LEGACY_CONCURRENCY)

        async def get(group_version: str) -> None:
            async with limiter:
                base = "/api" if "/" not in group_version else "/apis"
                async with self._api.call_api("GET", base=base, version=group_version) as r:
                    document = await r.json()
            lists[group_version] = [
                {**res, "version": group_version}
                for res in document.get("resources", [])
                if "/" not in res["name"]
            ]

        async with trio.open_nursery() as nursery:
            for group_version in versions:
                nursery.start_soon(get, group_version)
        return [res for gv in versions for res in lists[gv]]


def _match(
    resources: list[JSONObject], name: str, group: str | None, version: str | None
) -> JSONObject | None:
    for res in resources:
        res_group, _, res_version = res["version"].rpartition("/")
        if group is not None and group != res_group:
            continue
        if version is not None and version != res_version:
            continue
        names = {res["name"], res.get("singularName", ""), res["kind"].lower()}
        names.update(res.get("shortNames", ()))
        if name in names:
            return res
    return None
