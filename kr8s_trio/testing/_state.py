"""Everything one fake cluster holds, wired together, with no I/O: `ClusterState`.

Tests reach it as ``cluster.state`` (or through `FakeCluster`'s helpers) to seed and inspect
objects directly; the ASGI app serves it over HTTP.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Mapping
from typing import Any

import attrs
import trio

from kr8s_trio.testing._auth import Authenticator, Authorizer, UserInfo
from kr8s_trio.testing._builtins import builtin_resources
from kr8s_trio.testing._commands import Commands
from kr8s_trio.testing._controllers import Controllers, Timers
from kr8s_trio.testing._coreutils import BUILTINS
from kr8s_trio.testing._faults import Faults, RequestLog
from kr8s_trio.testing._kubelet import Kubelet
from kr8s_trio.testing._ports import PortRegistry
from kr8s_trio.testing._resources import ResourceRegistry, ResourceType
from kr8s_trio.testing._rest import RestStorage, WriteContext
from kr8s_trio.testing._runtime import Runtime
from kr8s_trio.testing._serviceaccounts import ServiceAccountController
from kr8s_trio.testing._store import Store
from kr8s_trio.testing._workloads import WorkloadControllers

__all__ = ["ClusterConfig", "ClusterState"]

JSONObject = dict[str, Any]

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@attrs.frozen(kw_only=True)
class ClusterConfig:
    """Settings of a fake cluster.

    Attributes:
        version: what ``/version`` reports (``gitVersion``; major/minor derived).
        history_window: seconds of change history kept (watch resume, snapshots); older
            resourceVersions get 410 Gone.
        watch_timeout: server-side watch duration when the client gives no ``timeoutSeconds``
            (None: random 1800-3600 s, as kube-apiserver).
        bookmark_interval: seconds between BOOKMARK events on watches that allow them.
        watch_list: serve ``sendInitialEvents`` (the WatchList feature); False answers 422.
        aggregated_discovery: serve aggregated discovery when asked for it.
        allow_anonymous: requests without credentials are ``system:anonymous`` (else 401).
        kubelet: simulate kubelets: nodes, pods scheduled and run (status, logs, exec, attach,
            port-forward), graceful deletion completed. False: pods stay as written.
        controllers: simulate the workload controllers (Deployments, ReplicaSets,
            ReplicationControllers, StatefulSets, DaemonSets, Jobs).
        nodes: how many nodes the simulated kubelets run (``node-1``...).
        pod_start_delay: seconds (trio time) from scheduling until containers run.
        pod_ready_delay: seconds (trio time) from running until ready.
        seed: seeds UIDs and generated names (None: random).
        start_time: the wall-clock time at trio time zero (None: now).
    """

    version: str = "v1.33.1"
    history_window: float = 300.0
    watch_timeout: float | None = None
    bookmark_interval: float = 60.0
    watch_list: bool = True
    aggregated_discovery: bool = True
    allow_anonymous: bool = False
    kubelet: bool = True
    controllers: bool = True
    nodes: int = 3
    pod_start_delay: float = 0.0
    pod_ready_delay: float = 0.0
    seed: int | None = None
    start_time: datetime.datetime | None = None
    max_body_bytes: int = 3 * 1024 * 1024


class ClusterState:
    """The objects, resource types, users, rules, faults and request log of one fake cluster.

    Must be created and used inside a trio run (time comes from trio's clock).
    """

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        self.rng = random.Random(self.config.seed)
        self._t0 = trio.current_time()
        self._wall0 = self.config.start_time or datetime.datetime.now(datetime.UTC).replace(
            microsecond=0
        )
        self.registry = ResourceRegistry(tuple(builtin_resources()))
        self.store = Store(trio.current_time, self.config.history_window)
        self.timers = Timers()
        self.rest = RestStorage(self.store, self.registry, self.rng, self.now)
        self.controllers = Controllers(self.rest, self.registry, self.store, self.timers)
        self.authn = Authenticator(allow_anonymous=self.config.allow_anonymous)
        self.authz = Authorizer()
        #: the node side of pods the simulated kubelets run (containers, logs)
        self.runtime = Runtime()
        #: who answers on forwarded pod ports (port-forward)
        self.ports = PortRegistry()
        #: what exec runs and attach feeds in simulated containers, and their files
        self.commands = Commands(BUILTINS)
        self.faults = Faults()
        self.requests = RequestLog()
        ctx = WriteContext(manager="kube-apiserver")
        ns_rt = self.resource("namespaces")
        for name in DEFAULT_NAMESPACES:
            self.rest.create(ns_rt, None, {"metadata": {"name": name}}, ctx)
        #: the simulated scheduler and kubelets (nodes, pods run), None when config.kubelet is off
        self.kubelet: Kubelet | None = Kubelet(self) if self.config.kubelet else None
        #: the simulated workload controllers, None when config.controllers is off
        self.workloads: WorkloadControllers | None = (
            WorkloadControllers(self.rest, self.registry, self.store, self.controllers, self.timers)
            if self.config.controllers
            else None
        )
        #: the service-account controller (a ``default`` account per namespace), with the others
        self.serviceaccounts: ServiceAccountController | None = (
            ServiceAccountController(
                self.rest, self.store, self.resource("serviceaccounts"), self.controllers
            )
            if self.config.controllers
            else None
        )

    # -- time ----------------------------------------------------------------------------------

    def now(self) -> datetime.datetime:
        """The cluster's wall clock: driven by trio's clock, so MockClock controls it."""
        return self._wall0 + datetime.timedelta(seconds=trio.current_time() - self._t0)

    # -- resources -----------------------------------------------------------------------------

    def resource(self, what: str) -> ResourceType:
        """A served resource type by plural, singular, short name, Kind, ``plural.group`` or
        ``Kind.group`` (preferred version).

        Raises:
            LookupError: nothing is served under that name.
        """
        name, _, group = what.partition(".")
        candidates = [
            rt
            for rt in self.registry
            if (not group or rt.group == group)
            and (
                name in (rt.plural, rt.singular, rt.kind)
                or name.lower() in (rt.kind.lower(), *rt.short_names)
            )
        ]
        if not candidates:
            raise LookupError(f"the fake cluster serves no resource named {what!r}")
        core_first = sorted(candidates, key=lambda rt: (rt.group != "", rt.group))
        group_of_best = core_first[0].group
        return self.registry.preferred(group_of_best, core_first[0].plural) or core_first[0]

    def resource_for(self, obj: Mapping[str, Any]) -> ResourceType:
        """The resource type of an object, from its apiVersion and kind."""
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        rt = self.registry.find_api_version_kind(str(api_version), str(kind))
        if rt is None:
            raise LookupError(f"the fake cluster serves no kind {kind!r} in {api_version!r}")
        return rt

    # -- users ---------------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        groups: tuple[str, ...] | list[str] = (),
        *,
        token: str | None = None,
        ttl: float | None = None,
        uid: str = "",
    ) -> str:
        """Register a user reachable with a bearer token; returns the token."""
        return self.authn.add_token(UserInfo(username, uid, tuple(groups)), token, ttl=ttl)
