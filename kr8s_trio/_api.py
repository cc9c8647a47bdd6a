"""`Api`: one client of one cluster, as one user.

Construction is synchronous and does no I/O; the kubeconfig is read and the ``httpx.AsyncClient``
built on first use (or on ``async with Api(bypass_factory=True) as api``). Everything goes
through `Api.call_api`, an async context manager that sends one request (rate limited and
retried before it yields, see `kr8s_trio._transport`) and yields its streamed `Response`
exactly once.

URLs are built as kr8s builds them (`kr8s_trio._core._requests.api_path`); `ALL` as the
namespace means every namespace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, NoReturn, Self

import httpx
import trio

from kr8s_trio._auth import build_auth
from kr8s_trio._config import KubeconfigSource, load_client_config
from kr8s_trio._core._clientconfig import ClientConfig, TokenSpec
from kr8s_trio._core._exceptions import APIError, MethodNotAllowedError, NotFoundError
from kr8s_trio._core._requests import ALL, api_path, error_status, redact_url, url_repr
from kr8s_trio._discovery import Discovery
from kr8s_trio._renewing import _RenewingAuth
from kr8s_trio._response import Response
from kr8s_trio._transport import (
    DEFAULT_TIMEOUT,
    RetryPolicy,
    TokenBucket,
    build_http_client,
    map_httpx_errors,
    parse_retry_after,
    send,
    without_read_timeout,
)

__all__ = ["ALL", "Api", "KubeconfigArg"]

#: what ``kubeconfig=`` accepts: a path, or the kubeconfig itself as a dict
KubeconfigArg = KubeconfigSource


async def _raise_for_status(response: httpx.Response) -> NoReturn:
    with map_httpx_errors():
        body = await response.aread()
    raise APIError.from_status(
        error_status(response.status_code, response.reason_phrase, body),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def _is_watch(params: Any) -> bool:
    """Whether httpx ``params`` (a mapping, pairs or a query string) ask for a watch."""
    if params is None:
        return False
    try:
        watch = httpx.QueryParams(params).get("watch", "")
    except TypeError:
        return False
    return str(watch).lower() in ("true", "1")


def _as_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)


class Api:
    """A client of one Kubernetes cluster.

    Get one with ``await kr8s_trio.api(...)`` (cached), or make an uncached one with
    ``async with Api(bypass_factory=True, ...) as api``.

    Args:
        url: the API server's URL (overrides the kubeconfig's server).
        kubeconfig: a kubeconfig path or dict (default: ``$KUBECONFIG``, ``~/.kube/config``).
        serviceaccount: the service-account directory to use in a pod.
        namespace: the default namespace (default: the context's).
        context: the kubeconfig context (default: the current one).
        bypass_factory: must be True to construct an `Api` directly (not cached).
        timeout: the default timeouts (connect 10 s, read 30 s); a number sets them all.
        retry: how failed requests are retried.
        qps: a client-side rate limit (requests a second), watches exempt; None: no limit.
        burst: the rate limiter's burst (default: ``max(1, int(qps))``).
        max_connections: the connection pool's size.
        http2: offer HTTP/2 (default: when the ``h2`` package is installed).
    """

    def __init__(
        self,
        url: str | None = None,
        kubeconfig: KubeconfigArg | None = None,
        serviceaccount: str | None = None,
        namespace: str | None = None,
        context: str | None = None,
        bypass_factory: bool = False,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        qps: float | None = None,
        burst: int | None = None,
        max_connections: int = 100,
        http2: bool | None = None,
        _factory: bool = False,
    ) -> None:
        if not bypass_factory and not _factory:
            raise ValueError(
                "Use `await kr8s_trio.api(...)` for a cached client, or "
                "`Api(bypass_factory=True, ...)` for one of your own"
            )
        self._url = url
        self._kubeconfig = kubeconfig
        self._serviceaccount = serviceaccount
        self._namespace = namespace
        self._context = context
        self._timeout = _as_timeout(timeout)
        self._retry = retry or RetryPolicy()
        self._limiter = (
            None if qps is None else TokenBucket(qps, burst if burst else max(1, int(qps)))
        )
        self._max_connections = max_connections
        self._http2 = http2
        self._config: ClientConfig | None = None
        self._auth: httpx.Auth | None = None
        self._auth_ready = False
        self._http: httpx.AsyncClient | None = None
        #: the HTTP/1.1 client WebSocket upgrades go through (built by kr8s_trio._ws)
        self._upgrade_http: httpx.AsyncClient | None = None
        self._closed = False
        self._lock = trio.Lock()
        self._discovery: Discovery | None = None
        self._sni: dict[str, Any] | None = None

    @classmethod
    def _from_config(cls, config: ClientConfig, auth: httpx.Auth | None, **options: Any) -> Api:
        """An uncached client for an already-loaded config and auth flow (no kubeconfig read)."""
        self = cls(bypass_factory=True, **options)
        self._config = config
        self._auth = auth
        self._auth_ready = True
        return self

    def __repr__(self) -> str:
        state = "closed" if self._closed else "connected" if self._http else "not connected"
        if self._config is not None:
            where = f"{redact_url(self._config.server)} context={self._config.context!r}"
        else:
            where = f"url={url_repr(self._url)} context={self._context!r}"
        return f"<Api {where} namespace={self.namespace!r} {state}>"

    # -- lifecycle ------------------------------------------------------------------------------

    async def _ensure_client(self) -> httpx.AsyncClient:
        """The httpx client, built on first use (reads the kubeconfig, sets up auth).

        Raises:
            RuntimeError: the client was closed.
            ConfigError, AuthError: the configuration is unusable.
        """
        if self._http is not None:
            return self._http
        async with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed; make a new client")
            if self._http is None:
                if self._config is None:
                    self._config = await self._load_config()
                if not self._auth_ready:
                    self._auth = build_auth(self._config.auth)
                    self._auth_ready = True
                if self._config.tls_server_name:
                    self._sni = {"sni_hostname": self._config.tls_server_name}
                if self._closed:  # closed while the configuration was loading
                    raise RuntimeError(f"{self!r} is closed; make a new client")
                self._http = build_http_client(
                    self._config,
                    self._auth,
                    timeout=self._timeout,
                    max_connections=self._max_connections,
                    http2=self._http2,
                )
            return self._http

    async def _load_config(self) -> ClientConfig:
        return await load_client_config(
            url=self._url,
            kubeconfig=self._kubeconfig,
            serviceaccount=self._serviceaccount,
            namespace=self._namespace,
            context=self._context,
        )

    async def aclose(self) -> None:
        """Close the connections; the client cannot be used afterwards.

        Cancellation:
            Closing finishes (shielded, at most a few seconds) even when cancelled.
        """
        self._closed = True
        http, self._http = self._http, None
        upgrade_http, self._upgrade_http = self._upgrade_http, None
        for client in (http, upgrade_http):
            if client is not None:
                with trio.CancelScope(shield=True), trio.move_on_after(5):
                    await client.aclose()

    close = aclose

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> Self:
        await self._ensure_client()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- settings -------------------------------------------------------------------------------

    @property
    def config(self) -> ClientConfig | None:
        """The loaded configuration (None until the client is first used)."""
        return self._config

    @property
    def namespace(self) -> str:
        """The default namespace: the one given, else the context's (``default`` until the
        configuration is loaded)."""
        if self._namespace is not None:
            return self._namespace
        return self._config.namespace if self._config is not None else "default"

    @namespace.setter
    def namespace(self, value: str) -> None:
        self._namespace = value

    @property
    def timeout(self) -> httpx.Timeout:
        """The default timeouts of requests (streams have no read timeout)."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | httpx.Timeout | None) -> None:
        self._timeout = _as_timeout(value)
        if self._http is not None:
            self._http.timeout = self._timeout

    # -- requests -------------------------------------------------------------------------------

    @asynccontextmanager
    async def call_api(
        self,
        method: str = "GET",
        version: str = "v1",
        base: str = "",
        namespace: str | None = None,
        url: str = "",
        raise_for_status: bool = True,
        *,
        streaming: bool = False,
        **httpx_kwargs: Any,
    ) -> AsyncIterator[Response]:
        """Send one request and yield its streamed `Response`.

        Args:
            method: the HTTP method.
            version, base, namespace, url: build the path (see the module docstring).
            raise_for_status: raise the `APIError` matching an error answer's Status (its body
                is read for that); with False the response is yielded unread whatever its status.
            streaming: a long-lived stream (watch, log follow): no read timeout and not rate
                limited (``params={"watch": "true"}`` implies it).
            httpx_kwargs: passed to ``httpx.AsyncClient.build_request`` (``params``,
                ``headers``, ``json``, ``content``, ``timeout``, ``extensions``...).

        Yields:
            The response, headers read, body not. It is closed when the block exits.

        Raises:
            APIError: (subclass per status) the server answered with an error.
            TransportError, APITimeoutError: no answer (after the retries).
            RuntimeError: the client is closed.

        Cancellation:
            Safe at every phase (waiting for the rate limiter or a retry, connecting, waiting
            for headers, reading the body); the connection is released.
        """
        client = self._http if self._http is not None else await self._ensure_client()
        path = api_path(version, base, namespace, url)
        streaming = streaming or _is_watch(httpx_kwargs.get("params"))
        if streaming and "timeout" not in httpx_kwargs:
            httpx_kwargs["timeout"] = without_read_timeout(self._timeout)
        if self._sni is not None:
            httpx_kwargs["extensions"] = {**self._sni, **httpx_kwargs.get("extensions", {})}
        content = httpx_kwargs.get("content")
        response = await send(
            client,
            lambda: client.build_request(method, path, **httpx_kwargs),
            retry=self._retry,
            limiter=None if streaming else self._limiter,
            replayable=content is None or isinstance(content, bytes | str),
        )
        wrapped = Response(response)
        try:
            if raise_for_status and response.status_code >= 400:
                await _raise_for_status(response)
            yield wrapped
        finally:
            await wrapped._aclose()

    # -- basics ---------------------------------------------------------------------------------

    async def _get_json(self, **call: Any) -> Any:
        async with self.call_api("GET", **call) as r:
            return await r.json()

    async def _post_json(self, body: Mapping[str, Any], **call: Any) -> Any:
        async with self.call_api("POST", json=body, **call) as r:
            return await r.json()

    async def version(self) -> dict[str, Any]:
        """The server's version (``GET /version``): ``major``, ``minor``, ``gitVersion``...

        Cancellation:
            Safe; nothing is left behind.
        """
        result: dict[str, Any] = await self._get_json(base="/version", version="")
        return result

    async def whoami(self) -> str | None:
        """The name the server knows us by.

        Asks with a SelfSubjectReview (Kubernetes 1.28+); on an older server, with a TokenReview
        of our bearer token, else answers with the client certificate's common name. None when
        none of these can tell.

        Cancellation:
            Safe; nothing is left behind.
        """
        group = "authentication.k8s.io/v1"
        try:
            review = await self._post_json(
                {"apiVersion": group, "kind": "SelfSubjectReview"},
                version=group,
                url="selfsubjectreviews",
            )
        except (NotFoundError, MethodNotAllowedError):
            pass
        else:
            username = review.get("status", {}).get("userInfo", {}).get("username")
            return username if isinstance(username, str) else None
        token = self._bearer_token()
        if token is None:
            return self._config.certificate_user if self._config is not None else None
        review = await self._post_json(
            {"apiVersion": group, "kind": "TokenReview", "spec": {"token": token}},
            version=group,
            url="tokenreviews",
        )
        username = review.get("status", {}).get("user", {}).get("username")
        return username if isinstance(username, str) else None

    def _bearer_token(self) -> str | None:
        """The bearer token requests carry now: a static one, or the one a renewing flow (token
        file, exec plugin, OIDC) last obtained."""
        if isinstance(self._auth, _RenewingAuth):
            return self._auth.current_token()
        auth = self._config.auth if self._config is not None else None
        return auth.token if isinstance(auth, TokenSpec) else None

    # -- discovery ------------------------------------------------------------------------------

    @property
    def discovery(self) -> Discovery:
        """This client's discovery cache."""
        if self._discovery is None:
            self._discovery = Discovery(self)
        return self._discovery

    async def api_resources(self) -> list[dict[str, Any]]:
        """Every resource the server serves (subresources left out): each an APIResource dict
        (``name``, ``singularName``, ``namespaced``, ``kind``, ``verbs``, ``shortNames``...)
        plus ``version``, its group version. Cached; see `Discovery`.

        Cancellation:
            Safe; another caller waiting for the same fetch then fetches itself.
        """
        return await self.discovery.resources()

    async def api_versions(self) -> list[str]:
        """Every group version served (``v1``, ``apps/v1``...), preferred versions first.

        Cancellation:
            As `api_resources`.
        """
        return await self.discovery.versions()

    async def lookup_kind(self, kind: str) -> tuple[str, str, bool]:
        """Resolve a kind as kubectl does: short name, singular, plural or Kind, optionally
        qualified as ``kind.group``, ``kind.version.group`` or ``kind.group/version``.

        Returns:
            ``(kind_id, plural, namespaced)``, e.g. ``("pod/v1", "pods", True)`` or
            ``("deployment.apps/v1", "deployments", True)``.

        Raises:
            ValueError: no served resource matches (after at most one refresh of discovery).

        Cancellation:
            As `api_resources`.
        """
        return await self.discovery.lookup_kind(kind)

    # -- kubectl's verbs, through this client (kr8s's Api.get / Api.watch / Api.create) ---------

    def get(self, kind: Any, *names: str, **kwargs: Any) -> AsyncIterator[Any]:
        """`kr8s_trio.get` through this client.

        Cancellation:
            As `kr8s_trio.get`.
        """
        from kr8s_trio._verbs import get

        return get(kind, *names, api=self, **kwargs)

    def watch(self, kind: Any, **kwargs: Any) -> AsyncIterator[tuple[str, Any]]:
        """`kr8s_trio.watch` through this client.

        Cancellation:
            As `kr8s_trio.watch`.
        """
        from kr8s_trio._verbs import watch

        return watch(kind, api=self, **kwargs)

    async def create(self, resources: Iterable[Any]) -> list[Any]:
        """`kr8s_trio.create` through this client (for objects with no client of their own).

        Cancellation:
            Some objects may have been created.
        """
        from kr8s_trio._verbs import create

        return await create(resources, api=self)

    async def apply(self, resources: Iterable[Any], **kwargs: Any) -> list[Any]:
        """`kr8s_trio.apply` through this client.

        Cancellation:
            Some objects may have been applied.
        """
        from kr8s_trio._verbs import apply

        return await apply(resources, api=self, **kwargs)
