"""The core group's kinds (``v1``) and their helpers: `Pod`, `Node`, `Service`, `ConfigMap`,
`Secret`... Pod logs, exec and port-forward are the streams' business (not here yet)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

import httpx

from kr8s_trio._core._objectedits import (
    decode_secret_data,
    pod_is_ready,
    service_is_ready,
    taints_after,
    toleration,
    tolerations_with,
    workload_is_ready,
)
from kr8s_trio._core._podgen import pod_manifest
from kr8s_trio._core._views import ListView, View
from kr8s_trio._objects._base import APIObject
from kr8s_trio._objects._podcopy import PodCopy
from kr8s_trio._objects._podexec import PodExec, ReadyPodExec
from kr8s_trio._objects._podforward import PodPortForward, ReadyPodPortForward
from kr8s_trio._objects._podlogs import PodLogs

__all__ = [
    "Binding",
    "ComponentStatus",
    "ConfigMap",
    "Endpoints",
    "Event",
    "LimitRange",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "ResourceQuota",
    "Secret",
    "Service",
    "ServiceAccount",
    "pods_selected_by",
]


class _Core(APIObject):
    """Base of the core group's kinds (``v1``)."""

    __slots__ = ()
    builtin: ClassVar[bool] = True


class Binding(_Core):
    """Binds a pod to a node (what a scheduler posts)."""

    kind = "Binding"
    plural = "bindings"
    namespaced = True


class ComponentStatus(_Core):
    """Health of the control plane's components (deprecated by Kubernetes)."""

    kind = "ComponentStatus"
    plural = "componentstatuses"
    short_names = ("cs",)


class ConfigMap(_Core):
    """Configuration data as string keys and values."""

    kind = "ConfigMap"
    plural = "configmaps"
    short_names = ("cm",)
    namespaced = True

    @property
    def data(self) -> View:
        """``data`` as a view (empty when missing; writes go to ``raw``)."""
        return View(self._raw.setdefault("data", {}))

    @data.setter
    def data(self, value: Mapping[str, str]) -> None:
        self._raw["data"] = dict(value)


class Endpoints(_Core):
    kind = "Endpoints"
    plural = "endpoints"
    short_names = ("ep",)
    namespaced = True


class Event(_Core):
    kind = "Event"
    plural = "events"
    short_names = ("ev",)
    namespaced = True


class LimitRange(_Core):
    kind = "LimitRange"
    plural = "limitranges"
    short_names = ("limits",)
    namespaced = True


class Namespace(_Core):
    kind = "Namespace"
    plural = "namespaces"
    short_names = ("ns",)


class Node(_Core):
    """A node, with kubectl's cordon / uncordon / taint."""

    kind = "Node"
    plural = "nodes"
    short_names = ("no",)

    @property
    def unschedulable(self) -> bool:
        """``spec.unschedulable`` (cordoned)."""
        return bool(self._raw.get("spec", {}).get("unschedulable", False))

    @property
    def taints(self) -> ListView:
        """``spec.taints`` (empty when there are none)."""
        return ListView(self._raw.get("spec", {}).get("taints") or [])

    async def cordon(self) -> None:
        """Mark the node unschedulable (``kubectl cordon``).

        Cancellation:
            The change may or may not have been made.
        """
        await self.patch({"spec": {"unschedulable": True}})

    async def uncordon(self) -> None:
        """Mark the node schedulable again (``kubectl uncordon``).

        Cancellation:
            The change may or may not have been made.
        """
        await self.patch({"spec": {"unschedulable": False}})

    async def taint(self, key: str, value: str | None = None, *, effect: str) -> None:
        """Add a taint, or remove one with kubectl's syntax: ``effect="NoSchedule-"`` removes
        ``key``'s NoSchedule taint, ``effect="-"`` all of ``key``'s taints.

        Raises:
            ValueError: an invalid effect. LookupError: nothing to remove.

        Cancellation:
            The change may or may not have been made.
        """
        await self.refresh()
        taints = taints_after(
            list(self._raw.get("spec", {}).get("taints") or []), key, value, effect
        )
        version = self._raw.get("metadata", {}).get("resourceVersion")
        await self.patch(
            {"metadata": {"resourceVersion": version}, "spec": {"taints": taints or None}}
        )


class PersistentVolume(_Core):
    kind = "PersistentVolume"
    plural = "persistentvolumes"
    short_names = ("pv",)


class PersistentVolumeClaim(_Core):
    kind = "PersistentVolumeClaim"
    plural = "persistentvolumeclaims"
    short_names = ("pvc",)
    namespaced = True


class Pod(PodExec, PodLogs, PodCopy, PodPortForward, _Core):
    """A pod, with `ready`, `tolerate` and `gen`."""

    kind = "Pod"
    plural = "pods"
    short_names = ("po",)
    namespaced = True

    async def ready(self) -> bool:
        """Refresh, then whether the Ready and ContainersReady conditions are both True.

        Cancellation:
            Safe.
        """
        await self.refresh()
        return pod_is_ready(self._raw)

    @property
    def tolerations(self) -> ListView:
        """``spec.tolerations`` (empty when there are none)."""
        return ListView(self._raw.get("spec", {}).get("tolerations") or [])

    async def tolerate(
        self,
        key: str,
        *,
        operator: Literal["Exists", "Equal"],
        effect: str,
        value: str | None = None,
        toleration_seconds: int | None = None,
    ) -> None:
        """Add a toleration to the pod.

        Raises:
            ValueError: an invalid toleration (checked as the API server does).

        Cancellation:
            The change may or may not have been made.
        """
        added = toleration(
            key,
            operator=operator,
            effect=effect,
            value=value,
            toleration_seconds=toleration_seconds,
        )
        await self.refresh()
        tolerations = tolerations_with(self._raw.get("spec", {}).get("tolerations"), added)
        version = self._raw.get("metadata", {}).get("resourceVersion")
        await self.patch(
            {"metadata": {"resourceVersion": version}, "spec": {"tolerations": tolerations}}
        )

    @classmethod
    def gen(cls, *args: Any, **kwargs: Any) -> Self:
        """A new (not yet created) Pod from kr8s's arguments: ``name`` or ``generate_name``,
        ``image``, ``namespace``, ``labels``, ``annotations``, ``command``, ``env``,
        ``resources``, ``image_pull_policy``, ``ports``, ``restart``. Call `create` on it."""
        if args:
            raise TypeError("Pod.gen takes keyword arguments only")
        return cls(pod_manifest(**kwargs))


class PodTemplate(_Core):
    kind = "PodTemplate"
    plural = "podtemplates"
    namespaced = True


class ReplicationController(_Core):
    kind = "ReplicationController"
    plural = "replicationcontrollers"
    short_names = ("rc",)
    namespaced = True
    scalable = True
    scale_subresource = True

    async def ready(self) -> bool:
        """Refresh, then whether the generation is observed and all replicas are ready.

        Cancellation:
            Safe.
        """
        await self.refresh()
        return workload_is_ready(self._raw)


class ResourceQuota(_Core):
    kind = "ResourceQuota"
    plural = "resourcequotas"
    short_names = ("quota",)
    namespaced = True


class Secret(_Core):
    """A secret. ``data`` holds base64 text as the server sends it; `decoded` the bytes."""

    kind = "Secret"
    plural = "secrets"
    namespaced = True

    @property
    def data(self) -> View:
        """``data`` as a view of base64 strings (empty when missing; writes go to ``raw``)."""
        return View(self._raw.setdefault("data", {}))

    @data.setter
    def data(self, value: Mapping[str, str]) -> None:
        self._raw["data"] = dict(value)

    @property
    def decoded(self) -> dict[str, bytes]:
        """``data`` decoded from base64 (a new dict).

        Raises:
            ValueError: a value is not base64 (the error names the key, never the value).
        """
        return decode_secret_data(self._raw.get("data") or {})


class ServiceAccount(_Core):
    kind = "ServiceAccount"
    plural = "serviceaccounts"
    short_names = ("sa",)
    namespaced = True


async def pods_selected_by(obj: APIObject, selector: Mapping[str, Any] | None) -> list[Pod]:
    """The pods in ``obj``'s namespace that a label selector (``matchLabels`` and
    ``matchExpressions``, or a Service's plain ``{key: value}``) selects; none for an empty or
    missing selector (the API server's rule for Services).

    Cancellation:
        Safe.
    """
    from kr8s_trio._objects._query import get

    if not selector:
        return []
    api = await obj._client()
    return [
        pod
        async for pod in get(
            Pod, namespace=obj._namespace_for(api), label_selector=dict(selector), api=api
        )
    ]


class Service(ReadyPodExec, ReadyPodPortForward, _Core):
    """A service, with the API server's HTTP proxy and its ready pods."""

    kind = "Service"
    plural = "services"
    short_names = ("svc",)
    namespaced = True

    async def proxy_http_request(
        self, method: str, path: str, port: int | str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send an HTTP request to the service through the API server's proxy
        (``services/<name>:<port>/proxy/<path>``) and return the whole response.

        Args:
            port: the service port (name or number); default: the first one.
            kwargs: passed to `Api.call_api` (``params``, ``json``, ``content``, ``headers``).

        Raises:
            APIError: the proxy answered with an error status.

        Cancellation:
            Safe; the request is abandoned.
        """
        if port is None:
            port = self._raw["spec"]["ports"][0]["port"]
        api = await self._client()
        url = f"{self.endpoint}/{self.name}:{port}/proxy/{path.lstrip('/')}"
        async with api.call_api(
            method, version=self.version, namespace=self._namespace_for(api), url=url, **kwargs
        ) as r:
            await r.read()
            return r._response

    async def proxy_http_get(
        self, path: str, port: int | str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """GET through the proxy (`proxy_http_request`).

        Cancellation:
            As `proxy_http_request`.
        """
        return await self.proxy_http_request("GET", path, port, **kwargs)

    async def proxy_http_post(
        self, path: str, port: int | str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """POST through the proxy; returns the response (kr8s's async version returns None).

        Cancellation:
            As `proxy_http_request`.
        """
        return await self.proxy_http_request("POST", path, port, **kwargs)

    async def proxy_http_put(
        self, path: str, port: int | str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """PUT through the proxy.

        Cancellation:
            As `proxy_http_request`.
        """
        return await self.proxy_http_request("PUT", path, port, **kwargs)

    async def proxy_http_delete(
        self, path: str, port: int | str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """DELETE through the proxy.

        Cancellation:
            As `proxy_http_request`.
        """
        return await self.proxy_http_request("DELETE", path, port, **kwargs)

    async def ready_pods(self) -> list[Pod]:
        """The ready pods the service selects.

        Cancellation:
            Safe.
        """
        pods = await pods_selected_by(self, self._raw.get("spec", {}).get("selector"))
        return [pod for pod in pods if pod_is_ready(pod.raw)]

    async def ready(self) -> bool:
        """Refresh, then whether the service has a ready pod (and, for a LoadBalancer, an
        ingress address).

        Cancellation:
            Safe.
        """
        await self.refresh()
        return service_is_ready(self._raw, len(await self.ready_pods()))
