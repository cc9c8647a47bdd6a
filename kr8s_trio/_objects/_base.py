"""`APIObject`: a Kubernetes object (`ObjectData`) and the verbs that act on it on the server.

Every verb sends its request through the object's client (`APIObject.api`; when None, the
cached default client of the current registry, ``await kr8s_trio.api()``), replaces ``raw``
with what the server answers, and raises the typed `APIError` for an error Status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from kr8s_trio._core._exceptions import NotFoundError
from kr8s_trio._objects._metadata import MetadataVerbs
from kr8s_trio._objects._resolve import ensure_discovered
from kr8s_trio._registry import api as _default_api

if TYPE_CHECKING:
    from kr8s_trio._api import Api

__all__ = ["APIObject", "PatchType"]

PatchType = Literal["merge", "json", "strategic", "apply"]

_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}

#: field manager for `APIObject.apply` (server-side apply) unless one is given
FIELD_MANAGER = "kr8s_trio"


class APIObject(MetadataVerbs):
    """A Kubernetes object: the raw dict (``raw``) with views and verbs.

    ``pod.metadata.name``, ``pod.spec.containers[0].image`` read through lazy views of the raw
    dict; the verbs (`get`, `create`, `patch`, `delete`, `wait`...) talk to the server.
    """

    __slots__ = ()

    #: a class made by `new_class` whose plural/scope should be confirmed by discovery
    discover: ClassVar[bool] = False

    def __await__(self) -> Any:
        """``obj = await Pod(...)`` binds the default client now (kr8s's spelling); the verbs
        do it on first use anyway."""

        async def bind() -> APIObject:
            await self._client()
            return self

        return bind().__await__()

    @property
    def api(self) -> Api | None:
        """The client this object's verbs use (None until first needed: the cached default)."""
        return self._api

    @api.setter
    def api(self, value: Api | None) -> None:
        self._api = value

    async def _client(self) -> Api:
        if self._api is None:
            self._api = await _default_api()
        if type(self).discover:
            await ensure_discovered(type(self), self._api)
        return self._api

    def _namespace_for(self, api: Api) -> str | None:
        if not self.namespaced:
            return None
        namespace = self._raw.get("metadata", {}).get("namespace")
        return str(namespace) if namespace else api.namespace

    async def _request(
        self,
        method: str,
        *,
        subresource: str | None = None,
        collection: bool = False,
        **kwargs: Any,
    ) -> Any:
        api = await self._client()
        url = self.endpoint if collection else f"{self.endpoint}/{self.name}"
        if subresource:
            url = f"{url}/{subresource}"
        async with api.call_api(
            method, version=self.version, namespace=self._namespace_for(api), url=url, **kwargs
        ) as r:
            return await r.json()

    def _take(self, answer: Any) -> None:
        """Keep the server's answer as ``raw`` when it is this object (not a Status or Scale)."""
        if isinstance(answer, dict) and answer.get("kind") == self.kind:
            self._raw = answer

    # -- reading ----------------------------------------------------------------------------

    @classmethod
    async def get(
        cls,
        name: str | None = None,
        namespace: str | None = None,
        api: Api | None = None,
        label_selector: str | Mapping[str, Any] | None = None,
        field_selector: str | Mapping[str, Any] | None = None,
        timeout: float = 0,  # noqa: ASYNC109 (kr8s's signature)
        **kwargs: Any,
    ) -> Self:
        """Fetch exactly one object, by name or by selectors.

        Args:
            name: the object's name.
            namespace: its namespace (default: the client's).
            api: the client (default: the cached default client).
            label_selector, field_selector: select instead of (or as well as) naming; text or
                dicts as for `kr8s_trio.get`.
            timeout: keep looking this long (seconds, backing off from 0.1 s to 1 s) while
                nothing matches, for an object still being created. kr8s waits 2 s by
                default; we do not wait unless asked.

        Raises:
            NotFoundError: nothing matched (within ``timeout``).
            ValueError: neither a name nor a selector; or several objects matched.

        Cancellation:
            Safe; nothing is left behind.
        """
        from kr8s_trio._objects._query import get_one

        return await get_one(
            cls,
            name=name,
            namespace=namespace,
            api=api,
            label_selector=label_selector,
            field_selector=field_selector,
            timeout=timeout,
            **kwargs,
        )

    @classmethod
    def list(cls, **kwargs: Any) -> AsyncIterator[Self]:
        """Every object of this kind: ``async for pod in Pod.list(namespace=ALL)``; the
        arguments of `kr8s_trio.get` (``namespace``, ``label_selector``, ``field_selector``,
        ``api``...).

        Cancellation:
            Safe between objects and while a page is fetched; the request is closed.
        """
        from kr8s_trio._objects._query import get as list_objects

        return list_objects(cls, **kwargs)

    async def exists(self, ensure: bool = False) -> bool:
        """Whether the object exists on the server.

        Raises:
            NotFoundError: it does not and ``ensure`` is true.

        Cancellation:
            Safe.
        """
        try:
            await self._request("GET")
        except NotFoundError:
            pass
        else:
            return True
        if ensure:
            message = f"{self.kind} {self.name!r} not found"
            raise NotFoundError({"code": 404, "reason": "NotFound", "message": message})
        return False

    async def refresh(self) -> None:
        """Fetch the object again and replace ``raw``.

        Raises:
            NotFoundError: it no longer exists.

        Cancellation:
            Safe; ``raw`` is unchanged.
        """
        self._take(await self._request("GET"))

    # -- writing ----------------------------------------------------------------------------

    async def create(self) -> None:
        """Create the object (``raw_template``: server-set fields left out); ``raw`` becomes
        the created object (with its generated name, uid, resourceVersion).

        Raises:
            AlreadyExistsError: an object with that name exists.
            InvalidError: the server refused the object (the causes are in ``.details``).

        Cancellation:
            The object may or may not have been created.
        """
        self._take(await self._request("POST", collection=True, json=self.raw_template))

    async def delete(
        self,
        propagation_policy: Literal["Foreground", "Background", "Orphan"] | None = None,
        grace_period: int | None = None,
        force: bool = False,
        *,
        preconditions: Mapping[str, str] | None = None,
    ) -> None:
        """Delete the object.

        Args:
            propagation_policy: what happens to dependents: ``"Foreground"``,
                ``"Background"`` (the default for most kinds) or ``"Orphan"``.
            grace_period: seconds to let a pod stop (``gracePeriodSeconds``).
            force: delete immediately (grace period 0).
            preconditions: ``{"uid": ..., "resourceVersion": ...}``: delete only that version.

        Raises:
            ValueError: both ``grace_period`` and ``force``.
            NotFoundError: it does not exist.
            ConflictError: a precondition failed.

        Cancellation:
            The deletion may or may not have been requested.
        """
        if force and grace_period is not None:
            raise ValueError("pass grace_period or force, not both")
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation_policy is not None:
            body["propagationPolicy"] = propagation_policy
        if force:
            grace_period = 0
        if grace_period is not None:
            body["gracePeriodSeconds"] = grace_period
        if preconditions:
            body["preconditions"] = dict(preconditions)
        self._take(await self._request("DELETE", json=body))

    async def patch(
        self,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        subresource: str | None = None,
        type: PatchType | None = None,
        field_manager: str | None = None,
        force: bool = False,
    ) -> None:
        """Patch the object; ``raw`` becomes the patched object.

        Args:
            patch: a JSON merge patch (the default), a list of JSON patch operations
                (``type="json"``), a strategic merge patch (``type="strategic"``, built-in kinds
                only), or an apply configuration (``type="apply"``: server-side apply).
            subresource: ``"status"``, ``"scale"``...
            type: ``"merge"`` (default), ``"json"``, ``"strategic"`` or ``"apply"``.
            field_manager: the field manager (required by the server for ``"apply"``; default
                ``"kr8s_trio"`` then).
            force: with ``"apply"``, take over fields other managers own.

        Raises:
            ValueError: an unknown ``type``, ``"strategic"`` on a custom resource, or ``force``
                without ``"apply"``.
            ConflictError: an apply conflict, or a stale ``resourceVersion`` in the patch.

        Cancellation:
            The patch may or may not have been applied.
        """
        kind = type or "merge"
        if kind not in _CONTENT_TYPES:
            raise ValueError(f"patch type {type!r}: expected one of {sorted(_CONTENT_TYPES)}")
        if kind == "strategic" and not self.builtin:
            raise ValueError(
                f"{self.kind} is a custom resource: strategic merge patches work only on "
                "built-in kinds (use a merge, JSON or apply patch)"
            )
        if force and kind != "apply":
            raise ValueError(f"force=True applies to type='apply' patches only, not {kind!r}")
        params: dict[str, str] = {}
        if kind == "apply" or field_manager is not None:
            params["fieldManager"] = field_manager or FIELD_MANAGER
        if force:
            params["force"] = "true"
        answer = await self._request(
            "PATCH",
            subresource=subresource,
            json=patch,
            params=params,
            headers={"Content-Type": _CONTENT_TYPES[kind]},
        )
        self._take(answer)

    async def replace(self) -> None:
        """Replace the object with ``raw`` (PUT). ``raw``'s ``metadata.resourceVersion`` makes
        it conditional: a concurrent change makes it fail instead of being overwritten.

        Raises:
            ConflictError: the object changed since ``raw`` was read.

        Cancellation:
            The object may or may not have been replaced.
        """
        self._take(await self._request("PUT", json=self._raw))

    async def apply(self, field_manager: str = FIELD_MANAGER, force: bool = False) -> None:
        """Server-side apply ``raw`` (created when missing); ``raw`` becomes the result.

        Args:
            field_manager: who owns the fields set here.
            force: take over fields another manager owns instead of failing with a conflict.

        Raises:
            ConflictError: another manager owns a field set here (and not ``force``).

        Cancellation:
            The object may or may not have been applied.
        """
        await self.patch(self.raw_template, type="apply", field_manager=field_manager, force=force)

    # -- watching and waiting ---------------------------------------------------------------

    def watch(self) -> AsyncIterator[tuple[str, Self]]:
        """Watch this object: ``async for event, obj in pod.watch():`` yields ``("MODIFIED",
        self)`` etc. with ``raw`` updated, from the object's current resourceVersion on,
        resuming after dropped connections (see `kr8s_trio.watch`).

        Cancellation:
            Safe; leaving the loop closes the watch.

        Recovery:
            As `kr8s_trio.watch`: resumes, relists on 410, backs off on failures.
        """
        from kr8s_trio._objects._waiting import watch_object

        return watch_object(self)

    async def wait(
        self,
        conditions: str | Sequence[str],
        mode: Literal["any", "all"] = "any",
        timeout: float | None = None,  # noqa: ASYNC109 (kr8s's signature)
    ) -> None:
        """Wait until the object meets ``conditions`` (kubectl's ``wait --for`` syntax):
        ``"condition=Ready"``, ``"condition=Ready=false"``, ``"delete"``,
        ``"jsonpath='{.status.phase}'=Running"``; with several, any (``mode="any"``) or all.

        Raises:
            TimeoutError: not met within ``timeout`` seconds.
            ValueError: a condition does not parse, or ``mode`` is neither.
            NotFoundError: the object is deleted while waiting for something else.

        Cancellation:
            Safe; the watch is closed.

        Recovery:
            The watch resumes after dropped connections and relists on 410 (kr8s loops on a
            410 and returns silently when the server closes the watch).
        """
        from kr8s_trio._objects._waiting import wait_for

        await wait_for(self, conditions, mode, timeout)

    async def scale(
        self,
        replicas: int | None = None,
        *,
        wait: bool = True,
        timeout: float | None = 60.0,  # noqa: ASYNC109 (kr8s's wait/get take timeouts too)
    ) -> None:
        """Set the replica count (through the ``scale`` subresource when the kind has one, else
        ``spec.<scalable_spec>``: a Job's ``parallelism``) and wait until the controller has
        converged on it (``status.replicas`` equal, generation observed).

        Args:
            replicas: the new count (None: the current one, i.e. wait for convergence only).
            wait: wait for convergence.
            timeout: seconds to wait (None: no limit; kr8s has none and can hang for ever).

        Raises:
            NotImplementedError: the kind is not scalable.
            TimeoutError: not converged within ``timeout``.

        Cancellation:
            The new count may or may not have been set.
        """
        from kr8s_trio._objects._waiting import scale_to

        await scale_to(self, replicas, wait=wait, timeout=timeout)

    @classmethod
    def gen(cls, *args: Any, **kwargs: Any) -> Self:
        """Build an object of this kind from arguments (only `Pod.gen` exists)."""
        raise NotImplementedError(f"{cls.kind or cls.__name__}.gen is not implemented")
