"""`open_fake_cluster`: a fake Kubernetes API server on loopback, and the handle tests hold.

The handle (`FakeCluster`) gives what a test needs to point clients at the server (URL, CA,
token, client certificate, a kubeconfig) and to seed, inspect and perturb it directly (objects,
users and rules, faults, the request log). Seeding goes through the same registry as HTTP
requests, so objects made directly look exactly like objects made by a client, and watchers see
them.
"""

from __future__ import annotations

import functools
import os
import shutil
import ssl
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import httpx
import trio

from kr8s_trio._core._field_selectors import FieldSelector
from kr8s_trio._core._groups import unwrap_single_exception
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._app import FakeAPIServerApp
from kr8s_trio.testing._auth import Rule
from kr8s_trio.testing._commands import ArgvPattern, AttachHandler, CommandHandler, Commands
from kr8s_trio.testing._deletion import delete_object
from kr8s_trio.testing._discovery import Discovery
from kr8s_trio.testing._fakefs import FakeFS
from kr8s_trio.testing._faults import Faults, RequestLog
from kr8s_trio.testing._kubeconfig import build_kubeconfig, write_kubeconfig
from kr8s_trio.testing._kubelet import Kubelet
from kr8s_trio.testing._openapi import OpenAPI
from kr8s_trio.testing._pagination import ListOptions, list_page
from kr8s_trio.testing._patching import JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, patch_object
from kr8s_trio.testing._ports import PortRegistry
from kr8s_trio.testing._rest import WriteContext
from kr8s_trio.testing._server import serve_asgi
from kr8s_trio.testing._state import ClusterConfig, ClusterState
from kr8s_trio.testing._store import copy_json
from kr8s_trio.testing._tls import ClientCert, ClusterPKI

__all__ = ["FakeCluster", "open_fake_cluster"]

JSONObject = dict[str, Any]

#: the users every fake cluster has
ADMIN_USER = "fake-admin"
CERT_ADMIN_USER = "fake-cert-admin"

_PATCH_TYPES = {"merge": MERGE_PATCH, "json": JSON_PATCH, "strategic": STRATEGIC_PATCH}


def _version_info(git_version: str) -> dict[str, str]:
    major, _, rest = git_version.lstrip("v").partition(".")
    minor = rest.partition(".")[0]
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(max(int(minor or 0) - 1, 0)),
        "gitVersion": git_version,
        "gitCommit": "0" * 40,
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _crd_schema(state: ClusterState) -> Any:
    def schema(rt: Any) -> JSONObject | None:
        if rt.crd_name is None:
            return None
        crd = state.store.get(("apiextensions.k8s.io", "customresourcedefinitions"), rt.crd_name)
        if crd is None:
            return None
        for version in crd.obj.get("spec", {}).get("versions", []):
            if version.get("name") == rt.version:
                found = (version.get("schema") or {}).get("openAPIV3Schema")
                return found if isinstance(found, dict) else None
        return None

    return schema


class FakeCluster:
    """A running fake cluster. Use it from the trio run that opened it."""

    def __init__(
        self,
        state: ClusterState,
        pki: ClusterPKI,
        url: str,
        token: str,
        client_cert: ClientCert,
    ) -> None:
        self.state = state
        self.pki = pki
        self.url = url
        self.token = token
        self.client_cert = client_cert
        self._kubeconfig_path: Path | None = None
        self._tempdir: str | None = None

    def __repr__(self) -> str:
        return f"<FakeCluster {self.url}>"

    # -- connecting ---------------------------------------------------------------------------

    @property
    def ca_pem(self) -> bytes:
        return self.pki.ca_pem

    @property
    def kubeconfig(self) -> JSONObject:
        """A kubeconfig: contexts ``fake`` (token user, current) and ``fake-cert``."""
        return build_kubeconfig(
            self.url, self.ca_pem, token=self.token, client_cert=self.client_cert
        )

    @property
    def kubeconfig_path(self) -> Path:
        """A kubeconfig file for this cluster, written (0600, private directory) on first use and
        removed when the cluster closes."""
        if self._kubeconfig_path is None:
            self._tempdir = tempfile.mkdtemp(prefix="kr8s-trio-fake-")
            path = Path(self._tempdir) / "kubeconfig"
            write_kubeconfig(path, self.kubeconfig)
            self._kubeconfig_path = path
        return self._kubeconfig_path

    def write_kubeconfig(self, path: str | os.PathLike[str]) -> None:
        """Write this cluster's kubeconfig to ``path`` (mode 0600)."""
        write_kubeconfig(path, self.kubeconfig)

    def ssl_context(self, *, client_cert: ClientCert | None = None) -> ssl.SSLContext:
        """A client SSLContext trusting this cluster (optionally presenting a certificate)."""
        return self.pki.client_ssl_context(client_cert)

    def http_client(
        self, *, token: str | None = None, http2: bool = False, **kwargs: Any
    ) -> httpx.AsyncClient:
        """A raw httpx client for this cluster, authenticated as ``token`` (default: admin)."""
        headers = dict(kwargs.pop("headers", {}))
        if token != "":
            headers.setdefault("Authorization", f"Bearer {token or self.token}")
        return httpx.AsyncClient(
            base_url=self.url, verify=self.ssl_context(), headers=headers, http2=http2, **kwargs
        )

    # -- handles ------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self.state.faults

    @property
    def requests(self) -> RequestLog:
        return self.state.requests

    @property
    def kubelet(self) -> Kubelet:
        """The simulated scheduler and kubelets: readiness, container exits, logs of pods.

        Raises:
            RuntimeError: the cluster runs without them (``kubelet=False``).
        """
        if self.state.kubelet is None:
            raise RuntimeError("this fake cluster runs no simulated kubelet (kubelet=False)")
        return self.state.kubelet

    @property
    def ports(self) -> PortRegistry:
        """Who answers on forwarded pod ports: ``ports.register(namespace, pod, port, handler)``
        with an async handler receiving each connection as a trio stream, or ``(host, port)``
        to proxy to."""
        return self.state.ports

    @property
    def commands(self) -> Commands:
        """What exec runs and attach feeds in simulated containers, and their files."""
        return self.state.commands

    def register_command(
        self,
        argv: ArgvPattern,
        handler: CommandHandler,
        *,
        pod: str | None = None,
        container: str | None = None,
        namespace: str | None = None,
    ) -> Callable[[], None]:
        """Answer exec of commands matching ``argv`` (an exact argv list, an ``argv[0]`` str, a
        predicate, or None for any) with ``handler``, an async function of an `ExecContext`
        returning the exit code, in the given pods, containers and namespace (None: any).
        Returns a function that unregisters it."""
        return self.state.commands.register(
            argv, handler, pod=pod, container=container, namespace=namespace
        )

    def register_attach(
        self,
        handler: AttachHandler,
        *,
        pod: str | None = None,
        container: str | None = None,
        namespace: str | None = None,
    ) -> Callable[[], None]:
        """Give the stdin of attach sessions to ``handler`` (an async function of an
        `AttachContext`) instead of echoing it into the log. Returns an unregister function."""
        return self.state.commands.register_attach(
            handler, pod=pod, container=container, namespace=namespace
        )

    def container_fs(self, pod: str, container: str, namespace: str = "default") -> FakeFS:
        """The files exec sessions see in one container (write some before ``cat``)."""
        return self.state.commands.filesystem(namespace, pod, container)

    def add_user(
        self,
        username: str,
        groups: Iterable[str] = (),
        *,
        token: str | None = None,
        ttl: float | None = None,
    ) -> str:
        """Register a token user; returns the token."""
        return self.state.add_user(username, tuple(groups), token=token, ttl=ttl)

    def issue_client_cert(self, username: str, groups: Iterable[str] = ()) -> ClientCert:
        """A client certificate for ``username`` (CN) in ``groups`` (O), signed by the CA."""
        return self.pki.issue_client_cert(username, list(groups))

    def set_rules(self, rules: Iterable[Rule] | None) -> None:
        """Authorize only what ``rules`` allow (``system:masters`` always may); None: allow all."""
        self.state.authz.set_rules(rules)

    def revoke_token(self, token: str) -> None:
        self.state.authn.revoke(token)

    def expire_token(self, token: str) -> None:
        self.state.authn.expire(token)

    def compact(self) -> int:
        """Compact history now, as etcd does: every resourceVersion handed out so far becomes too
        old, so resuming a watch from one gets a 410 ERROR event and an Exact list gets 410.
        Returns the new compaction point."""
        return self.state.store.compact()

    def expire_continue_tokens(self) -> int:
        """Make every continue token handed out so far expire: the next page gets 410 Gone with
        a fresh token. On a real cluster that happens when etcd compacts, and so it does here
        (this is `compact`)."""
        return self.compact()

    # -- objects ------------------------------------------------------------------------------

    def _ctx(self, manager: str, dry_run: bool = False) -> WriteContext:
        return WriteContext(manager=manager, dry_run=dry_run)

    def create(
        self,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        manager: str = "kr8s-trio-testing",
    ) -> JSONObject:
        """Create an object as a client would (defaults, validation, events); returns a copy."""
        rt = self.state.resource_for(obj)
        body = copy_json(dict(obj))
        ns = (
            namespace
            or body.get("metadata", {}).get("namespace")
            or ("default" if rt.namespaced else None)
        )
        return copy_json(self.state.rest.create(rt, ns, body, self._ctx(manager)))

    def get(self, resource: str, name: str, namespace: str | None = "default") -> JSONObject:
        """An object by resource (``"pods"``, ``"deploy"``, ``"Widget.example.com"``) and name.

        Raises:
            NotFoundError: it does not exist.
        """
        rt = self.state.resource(resource)
        return copy_json(self.state.rest.get(rt, namespace, name).obj)

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
    ) -> list[JSONObject]:
        """Objects of a resource (all namespaces when ``namespace`` is None)."""
        rt = self.state.resource(resource)
        page = list_page(
            self.state.store,
            rt,
            namespace,
            ListOptions(0, None, None, False),
            LabelSelector.parse(label_selector),
            FieldSelector.parse(field_selector),
        )
        return [copy_json(s.obj) for s in page.items]

    def patch(
        self,
        resource: str,
        name: str,
        patch: object,
        *,
        namespace: str | None = "default",
        type: Literal["merge", "json", "strategic"] = "merge",
        subresource: str | None = None,
        manager: str = "kr8s-trio-testing",
    ) -> JSONObject:
        """Patch an object (or its status with ``subresource="status"``); returns a copy."""
        import json

        rt = self.state.resource(resource)
        obj, _ = patch_object(
            self.state.rest,
            rt,
            namespace,
            name,
            json.dumps(patch).encode(),
            _PATCH_TYPES[type],
            self._ctx(manager),
            subresource=subresource,
        )
        return copy_json(obj)

    def patch_status(
        self,
        resource: str,
        name: str,
        status: Mapping[str, Any],
        *,
        namespace: str | None = "default",
    ) -> JSONObject:
        """Merge ``status`` into an object's status, through the status subresource."""
        return self.patch(
            resource, name, {"status": dict(status)}, namespace=namespace, subresource="status"
        )

    def delete(
        self,
        resource: str,
        name: str,
        namespace: str | None = "default",
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> JSONObject:
        """Delete an object; returns the object (or Status) the API would answer."""
        rt = self.state.resource(resource)
        options: JSONObject = {}
        if propagation_policy is not None:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        obj, _ = delete_object(
            self.state.rest, rt, namespace, name, options, self._ctx("kr8s-trio-testing")
        )
        return copy_json(obj)

    def bump_resource_version(
        self, resource: str, name: str, namespace: str | None = "default"
    ) -> str:
        """Store an object again unchanged under a new resourceVersion (as another writer would),
        so a client's next conditional write conflicts; returns the new resourceVersion."""
        rt = self.state.resource(resource)
        stored = self.state.rest.get(rt, namespace, name)
        change = self.state.store.put(rt.storage_key, stored.key, copy_json(stored.obj))
        self.state.controllers.drain()
        return str(change.rv)

    def _close(self) -> None:
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None
            self._kubeconfig_path = None


@asynccontextmanager
async def open_fake_cluster(
    config: ClusterConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    kubeconfig_path: str | os.PathLike[str] | None = None,
    **settings: Any,
) -> AsyncIterator[FakeCluster]:
    """Run a fake Kubernetes API server on loopback for the duration of the block.

    Args:
        config: cluster settings (`ClusterConfig`); or pass its fields as keyword arguments.
        host: address to listen on (``127.0.0.1`` or ``::1``).
        port: port to listen on (0: any free port).
        kubeconfig_path: also write the cluster's kubeconfig there (it is not removed).

    Yields:
        The `FakeCluster` handle.

    An exception raised in the block comes out as itself, not wrapped in an
    ``ExceptionGroup`` by the server's nursery.

    Cancellation:
        Cancelling the enclosing scope stops the server; open connections are closed, no task,
        thread or file is left behind.
    """
    if config is None:
        config = ClusterConfig(**settings)
    elif settings:
        raise TypeError("pass either config= or ClusterConfig fields, not both")
    state = ClusterState(config)
    pki = ClusterPKI()
    token = state.add_user(ADMIN_USER, ("system:masters",))
    client_cert = pki.issue_client_cert(CERT_ADMIN_USER, ["system:masters"])
    discovery = Discovery(
        state.registry,
        version_info=_version_info(config.version),
        server_address=f"{host}:{port}",
        aggregated=config.aggregated_discovery,
    )
    openapi = OpenAPI(state.registry, _crd_schema(state))
    app = FakeAPIServerApp(state, discovery, openapi)
    cluster: FakeCluster | None = None
    with unwrap_single_exception():
        async with trio.open_nursery() as nursery:
            await nursery.start(state.timers.run)
            bound_host, bound_port = await nursery.start(
                functools.partial(serve_asgi, app, pki.server_ssl_context(), host=host, port=port)
            )
            netloc = (
                f"[{bound_host}]:{bound_port}"
                if ":" in bound_host
                else f"{bound_host}:{bound_port}"
            )
            discovery.set_server_address(netloc)
            cluster = FakeCluster(state, pki, f"https://{netloc}", token, client_cert)
            if kubeconfig_path is not None:
                cluster.write_kubeconfig(kubeconfig_path)
            try:
                yield cluster
            finally:
                cluster._close()
                nursery.cancel_scope.cancel()
