"""The client registry: where `api` finds and caches clients, and who closes them.

``async with open_registry() as registry:`` opens a scope owning a nursery; clients made by
``await api(...)`` inside it (in this task or any task started within, which inherit the
current registry through a ContextVar) are cached under their normalised arguments and closed
when the scope exits. Without an explicit scope, `api` uses the default registry of the current
``trio.run``: a RunVar, hosted by a system task that closes its clients when the run ends. Two
``trio.run`` calls never share a client.

A cached lookup does no I/O. Concurrent ``api()`` calls with equal arguments get the same
instance: the first builds it (reads the kubeconfig, sets up auth), the others wait for it.
``api()`` with no arguments returns the registry's first client, or makes the default one.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import AsyncIterator, Hashable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import trio

from kr8s_trio._api import Api, KubeconfigArg, _as_timeout
from kr8s_trio._config import absolute_path
from kr8s_trio._core._exceptions import ConfigError
from kr8s_trio._core._groups import unwrap_single_exception
from kr8s_trio._core._kubecontext import normalize_server

__all__ = [
    "Registry",
    "api",
    "api_resources",
    "api_versions",
    "current_registry",
    "open_registry",
    "version",
    "whoami",
]

_Key = tuple[Hashable, ...]
#: url, kubeconfig, serviceaccount, namespace, context
_Args = tuple[str | None, KubeconfigArg | None, str | None, str | None, str | None]
_ARG_NAMES = ("url", "kubeconfig", "serviceaccount", "namespace", "context")
_NO_ARGS: _Key = (None, None, None, None, None)


def _normalise_path(value: object) -> Hashable:
    """A path as the config layer will read it (absolute, ``~`` expanded, normalised: string
    work, no file is touched); a kubeconfig dict as canonical JSON."""
    if isinstance(value, str | os.PathLike):
        return absolute_path(value)
    return _normalise(value)


def _normalise_url(url: str) -> str:
    """``url`` as the client will use it (``https://`` added, no trailing slash); a URL that
    does not parse is kept as given (the client's construction reports it)."""
    try:
        return normalize_server(url, where="url")
    except ConfigError:
        return url


def _normalise(value: object) -> Hashable:
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, default=str)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


#: `Api`'s options and their defaults: an option passed with its default value makes no
#: different client
_OPTION_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(Api.__init__).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not name.startswith("_")
}


def _options_key(options: Mapping[str, Any]) -> _Key:
    key: list[tuple[str, Hashable]] = []
    for name, value in sorted(options.items()):
        if name == "timeout":
            value = _as_timeout(value)
        if name in _OPTION_DEFAULTS and value == _OPTION_DEFAULTS[name]:
            continue
        key.append((name, _normalise(value)))
    return tuple(key)


class Registry:
    """The clients of one scope (see the module docstring). Made by `open_registry`."""

    def __init__(self) -> None:
        self._clients: dict[_Key, Api] = {}
        self._pending: dict[_Key, trio.Event] = {}
        self._closed = False
        self._nursery: trio.Nursery | None = None

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._clients)} clients"
        return f"<Registry {state}>"

    @property
    def clients(self) -> list[Api]:
        """The cached clients, oldest first."""
        return list(self._clients.values())

    @property
    def nursery(self) -> trio.Nursery:
        """The scope's nursery, for tasks that live as long as its clients."""
        if self._nursery is None:
            raise RuntimeError(f"{self!r} has no nursery (not open)")
        return self._nursery

    async def api(self, **kwargs: Any) -> Api:
        """`api` in this registry rather than the current one (same arguments).

        Cancellation:
            As `api`.
        """
        args = tuple(kwargs.pop(name, None) for name in _ARG_NAMES)
        return await self._get(args, kwargs)

    async def _get(self, args: _Args, options: dict[str, Any]) -> Api:
        url, kubeconfig, serviceaccount, namespace, context = args
        key: _Key = (
            _normalise_url(url) if url else None,
            _normalise_path(kubeconfig),
            _normalise_path(serviceaccount),
            namespace,
            context,
        )
        if options:
            key += _options_key(options)
        while True:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            client = self._clients.get(key)
            if client is not None:
                return client
            if key == _NO_ARGS:
                if self._clients:
                    return next(iter(self._clients.values()))
                if self._pending:
                    # someone is making the first client: that one is the default
                    await next(iter(self._pending.values())).wait()
                    continue
            pending = self._pending.get(key)
            if pending is not None:
                await pending.wait()
                continue
            return await self._create(key, args, options)

    async def _create(self, key: _Key, args: _Args, options: dict[str, Any]) -> Api:
        done = self._pending[key] = trio.Event()
        client = Api(*args, _factory=True, **options)
        try:
            await client._ensure_client()
        except BaseException:
            await client.aclose()
            raise
        else:
            if self._closed:  # closed while we connected
                await client.aclose()
                raise RuntimeError(f"{self!r} is closed")
            self._clients[key] = client
            return client
        finally:
            del self._pending[key]
            done.set()

    async def aclose(self) -> None:
        """Close every client; `api` on this registry fails afterwards.

        Cancellation:
            Closing finishes (shielded) even when cancelled.
        """
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


_current: ContextVar[Registry | None] = ContextVar("kr8s_trio_registry", default=None)
_default: trio.lowlevel.RunVar[Registry] = trio.lowlevel.RunVar("kr8s_trio_default_registry")


@asynccontextmanager
async def open_registry() -> AsyncIterator[Registry]:
    """A registry scope: `api` inside it (and in tasks started inside it) caches clients here;
    they are closed when the block exits.

    An exception raised in the block comes out as itself, not wrapped in an
    ``ExceptionGroup`` by the registry's nursery.

    Cancellation:
        Cancelling the block closes the clients (shielded) and the registry's tasks.
    """
    registry = Registry()
    with unwrap_single_exception():
        try:
            async with trio.open_nursery() as nursery:
                registry._nursery = nursery
                token = _current.set(registry)
                try:
                    yield registry
                finally:
                    _current.reset(token)
                    nursery.cancel_scope.cancel()  # the tasks first, while their clients work
        finally:
            await registry.aclose()


async def _host_default(registry: Registry, started: trio.Event) -> None:
    try:
        async with trio.open_nursery() as nursery:
            registry._nursery = nursery
            started.set()
            await trio.sleep_forever()
    finally:
        await registry.aclose()


async def _default_registry() -> Registry:
    try:
        registry = _default.get()
    except LookupError:
        registry = Registry()
        _default.set(registry)
        started = trio.Event()
        trio.lowlevel.spawn_system_task(
            _host_default, registry, started, name="kr8s_trio default registry"
        )
        await started.wait()
    return registry


def current_registry() -> Registry | None:
    """The registry of the innermost `open_registry` around the caller, or None (then `api`
    uses the run's default registry)."""
    return _current.get()


async def api(
    url: str | None = None,
    kubeconfig: KubeconfigArg | None = None,
    serviceaccount: str | None = None,
    namespace: str | None = None,
    context: str | None = None,
    **options: Any,
) -> Api:
    """The client for a cluster, cached in the current registry.

    Equal arguments give the same client; with no arguments, the registry's first client (or a
    new one from the default kubeconfig). A cached call does no I/O; the first one reads the
    configuration and sets up authentication (no request is sent to the server).

    Args:
        url, kubeconfig, serviceaccount, namespace, context: as `Api`.
        options: `Api`'s keyword options (``timeout``, ``retry``, ``qps``, ``burst``...), part
            of the cache key.

    Raises:
        ConfigError, AuthError: no usable configuration.

    Cancellation:
        Safe; a concurrent call waiting for the same client then makes it itself.
    """
    registry = _current.get()
    if registry is None:
        registry = await _default_registry()
    return await registry._get((url, kubeconfig, serviceaccount, namespace, context), options)


async def _resolve(client: Api | None) -> Api:
    return client if client is not None else await api()


async def version(api: Api | None = None) -> dict[str, Any]:
    """The server's version (`Api.version`) through ``api`` or the default client.

    Cancellation:
        Safe; nothing is left behind.
    """
    return await (await _resolve(api)).version()


async def whoami(api: Api | None = None) -> str | None:
    """Who the server thinks we are (`Api.whoami`).

    Cancellation:
        Safe; nothing is left behind.
    """
    return await (await _resolve(api)).whoami()


async def api_resources(api: Api | None = None) -> list[dict[str, Any]]:
    """Every resource the server serves (`Api.api_resources`).

    Cancellation:
        Safe.
    """
    return await (await _resolve(api)).api_resources()


async def api_versions(api: Api | None = None) -> list[str]:
    """Every group version the server serves (`Api.api_versions`).

    Cancellation:
        Safe.
    """
    return await (await _resolve(api)).api_versions()
