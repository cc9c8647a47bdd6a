"""Listing objects: `get` (re-exported as `kr8s_trio.get`, and behind `APIObject.list`), and
`get_one` behind `APIObject.get`.

Pages come from `list_pages` (``limit=500`` per request like kubectl, decoded with the cyclic GC
paused); each item is wrapped without a copy (`ObjectData._wrap`), or yielded as the dict itself
with ``raw=True``. Named objects are fetched concurrently and yielded in the order named.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from kr8s_trio._core._exceptions import NotFoundError
from kr8s_trio._core._groups import unwrap_single_exception
from kr8s_trio._core._requests import ALL
from kr8s_trio._core._selectorbuild import field_selector_query, label_selector_query
from kr8s_trio._listing import ListPager, list_pages
from kr8s_trio._objects._resolve import resolve_kind
from kr8s_trio._registry import api as _default_api

if TYPE_CHECKING:
    from kr8s_trio._api import Api
    from kr8s_trio._objects._base import APIObject

__all__ = ["get", "get_one", "list_namespace", "poll", "selector_params"]

_O = TypeVar("_O", bound="APIObject")
_T = TypeVar("_T")

#: backoff bounds while `get_one` waits for an object to appear (seconds)
_POLL_FIRST, _POLL_MAX = 0.1, 1.0


def list_namespace(cls: type[APIObject], namespace: str | None, api: Api) -> str | None:
    """The namespace segment for listing ``cls``: None for cluster-scoped kinds and `ALL`."""
    if not cls.namespaced or namespace is ALL:
        return None
    return namespace or api.namespace


def selector_params(
    label_selector: str | Mapping[str, Any] | None,
    field_selector: str | Mapping[str, Any] | None,
    name: str | None = None,
) -> dict[str, str]:
    """``labelSelector`` / ``fieldSelector`` query parameters (validated; see `_selectorbuild`);
    ``name`` adds ``metadata.name=<name>`` to the field selector."""
    params: dict[str, str] = {}
    if labels := label_selector_query(label_selector):
        params["labelSelector"] = labels
    fields = field_selector_query(field_selector)
    if name is not None:
        by_name = field_selector_query({"metadata.name": name})
        fields = f"{by_name},{fields}" if fields else by_name
    if fields:
        params["fieldSelector"] = fields
    return params


def _as_header(cls: type[APIObject]) -> str:
    group, _, version = cls.version.rpartition("/")
    return f"application/json;as={cls.kind};v={version};g={group},application/json"


class ObjectIterator:
    """What `kr8s_trio.get` returns: an async iterator that fetches a page when it runs out.

    A class rather than an async generator: between pages it holds no connection and no
    suspended frame, so leaving ``async for`` early leaves nothing to finalize (an abandoned
    async generator would be closed by trio's finalizer, with a ResourceWarning).
    """

    __slots__ = ("_batch", "_index", "_source")

    def __init__(self, source: _Listing | None) -> None:
        self._source = source
        self._batch: list[Any] = []
        self._index = 0

    def __aiter__(self) -> ObjectIterator:
        return self

    async def __anext__(self) -> Any:
        """The next object (a page is fetched when the last one is used up).

        Cancellation:
            Safe: the page request is abandoned; iterating again asks for it again.
        """
        while self._index >= len(self._batch):
            if self._source is None:
                raise StopAsyncIteration
            batch = await self._source.next_batch()
            if batch is None:
                self._source = None
                raise StopAsyncIteration
            self._batch, self._index = batch, 0
        item = self._batch[self._index]
        self._index += 1
        return item

    async def aclose(self) -> None:
        """Stop: no more pages are fetched (nothing is open between pages anyway).

        Cancellation:
            Nothing to cancel.
        """
        self._source, self._batch, self._index = None, [], 0
        await trio.lowlevel.checkpoint()


def get(
    kind: str | type[_O],
    *names: str,
    namespace: str | None = None,
    label_selector: str | Mapping[str, Any] | None = None,
    field_selector: str | Mapping[str, Any] | None = None,
    as_object: type[APIObject] | None = None,
    allow_unknown_type: bool = True,
    raw: bool = False,
    api: Api | None = None,
    params: Mapping[str, str] | None = None,
    limit: int = 500,
) -> ObjectIterator:
    """List objects: ``async for pod in get("pods", namespace=ALL): ...``.

    Args:
        kind: a class, or any spelling kubectl accepts (``"pods"``, ``"po"``, ``"Pod"``,
            ``"deploy.apps"``, ``"deployment.v1.apps"``, ``"widgets.example.com"``); kinds no
            class knows are looked up in discovery.
        names: fetch these objects (concurrently; yielded in this order, missing ones skipped).
        namespace: a namespace, `ALL` for every namespace, None for the client's; ignored for
            cluster-scoped kinds.
        label_selector: ``"app=web,tier in (a,b)"`` or ``{"app": "web", "tier": ["a", "b"]}``
            or a LabelSelector object (``matchLabels`` / ``matchExpressions``).
        field_selector: ``"status.phase=Running"`` or ``{"status.phase": "Running"}``.
        as_object: a class the server converts the list to, e.g. `Table` (one per page).
        allow_unknown_type: make classes for kinds only discovery knows (else KeyError).
        raw: yield the decoded dicts instead of objects (no wrapping at all).
        api: the client (default: the cached default client).
        params: more query parameters for the list requests.
        limit: objects per request (kubectl's 500); 0: everything in one request.

    Yields:
        Objects of the kind's class (dicts with ``raw``), page by page as they arrive.

    Raises:
        KeyError: an unknown kind. SelectorError: a selector does not parse.
        APIError: the server refused the list.

    Cancellation:
        Safe between objects and while a page is fetched; the request is closed.
    """
    return ObjectIterator(
        _Listing(
            kind,
            names,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            as_object=as_object,
            allow_unknown_type=allow_unknown_type,
            raw=raw,
            api=api,
            params=params,
            limit=limit,
        )
    )


class _Listing:
    """The batches of one `kr8s_trio.get`: the named objects (one batch, fetched
    concurrently), the server-converted pages (``as_object``: one object per page, per name),
    or the list's pages, wrapped."""

    def __init__(
        self,
        kind: str | type[APIObject],
        names: Sequence[str],
        *,
        namespace: str | None,
        label_selector: str | Mapping[str, Any] | None,
        field_selector: str | Mapping[str, Any] | None,
        as_object: type[APIObject] | None,
        allow_unknown_type: bool,
        raw: bool,
        api: Api | None,
        params: Mapping[str, str] | None,
        limit: int,
    ) -> None:
        self._kind, self._names, self._namespace = kind, tuple(names), namespace
        self._labels, self._fields = label_selector, field_selector
        self._as_object, self._allow_unknown = as_object, allow_unknown_type
        self._raw, self._api, self._limit = raw, api, limit
        self._extra = dict(params or {})
        self._started = False
        self._pager: ListPager | None = None
        self._named_done = False
        self._tables: list[dict[str, str]] = []  # queries of the conversions still to fetch

    async def _start(self) -> tuple[Api, type[APIObject]]:
        api = self._api if self._api is not None else await _default_api()
        cls = await resolve_kind(self._kind, api, allow_unknown_type=self._allow_unknown)
        self._api, self._kind = api, cls
        self._namespace = list_namespace(cls, self._namespace, api)
        if self._as_object is not None:
            for name in self._names or (None,):
                query = {**self._extra, **selector_params(self._labels, self._fields, name)}
                if self._limit:
                    query["limit"] = str(self._limit)
                self._tables.append(query)
        elif not self._names:
            query = {**self._extra, **selector_params(self._labels, self._fields)}
            self._pager = ListPager(
                api,
                version=cls.version,
                plural=cls.endpoint,
                namespace=self._namespace,
                params=query,
                limit=self._limit,
            )
        self._started = True
        return api, cls

    async def next_batch(self) -> list[Any] | None:
        """The next batch of objects (or dicts), None when there are no more.

        Cancellation:
            Safe; the batch is asked for again on the next call.
        """
        if not self._started:
            api, cls = await self._start()
        else:
            assert self._api is not None
            assert not isinstance(self._kind, str)
            api, cls = self._api, self._kind
        if self._as_object is not None:
            return await self._next_table(api, cls, self._as_object)
        if self._names:
            if self._named_done:
                return None
            found = await _fetch_named(
                cls, self._names, api, self._namespace, self._labels, self._fields, self._extra
            )
            self._named_done = True
            items = [item for items in found for item in items]
        else:
            assert self._pager is not None
            page = await self._pager.next_page()
            if page is None:
                return None
            items = page.items
            kind_name, api_version = cls.kind, cls.version
            for item in items:
                item.setdefault("kind", kind_name)
                item.setdefault("apiVersion", api_version)
        if self._raw:
            return items
        wrap = cls._wrap
        return [wrap(item, api) for item in items]

    async def _next_table(
        self, api: Api, cls: type[APIObject], as_object: type[APIObject]
    ) -> list[Any] | None:
        if not self._tables:
            return None
        query = self._tables[0]
        async with api.call_api(
            "GET",
            version=cls.version,
            namespace=self._namespace,
            url=cls.endpoint,
            params=query,
            headers={"Accept": _as_header(as_object)},
        ) as r:
            body = await r.json()
        token = body.get("metadata", {}).get("continue")
        if token:
            self._tables[0] = {**query, "continue": token}
        else:
            self._tables.pop(0)
        return [as_object._wrap(body, api)]


async def _fetch_named(
    cls: type[APIObject],
    names: Sequence[str],
    api: Api,
    namespace: str | None,
    label_selector: str | Mapping[str, Any] | None,
    field_selector: str | Mapping[str, Any] | None,
    extra: Mapping[str, str],
) -> list[list[dict[str, Any]]]:
    """The items for each name (empty when it does not exist or does not match), concurrently."""
    results: list[list[dict[str, Any]]] = [[] for _ in names]

    async def fetch(index: int, name: str) -> None:
        query = {**extra, **selector_params(label_selector, field_selector, name)}
        found: list[dict[str, Any]] = []
        async for page in list_pages(
            api, version=cls.version, plural=cls.endpoint, namespace=namespace, params=query
        ):
            found.extend(i for i in page.items if i.get("metadata", {}).get("name") == name)
        for item in found:
            item.setdefault("kind", cls.kind)
            item.setdefault("apiVersion", cls.version)
        results[index] = found

    selector_params(label_selector, field_selector)  # a bad selector fails once, up front
    with unwrap_single_exception():  # one failed fetch raises its own error
        async with trio.open_nursery() as nursery:
            for index, name in enumerate(names):
                nursery.start_soon(fetch, index, name)
    return results


async def get_one(
    cls: type[_O],
    *,
    name: str | None,
    namespace: str | None,
    api: Api | None,
    label_selector: str | Mapping[str, Any] | None,
    field_selector: str | Mapping[str, Any] | None,
    timeout: float,  # noqa: ASYNC109 (APIObject.get's)
    **kwargs: Any,
) -> _O:
    """See `APIObject.get`."""
    if name is None and not label_selector and not field_selector:
        raise ValueError(f"{cls.kind}.get: give a name or a label or field selector")
    if name is not None and namespace is ALL and cls.namespaced:
        raise ValueError(f"{cls.kind}.get({name!r}): a name needs a namespace, not ALL")
    if api is None:
        api = await _default_api()

    async def fetch() -> list[_O] | None:
        found = await _find(cls, name, namespace, api, label_selector, field_selector, kwargs)
        if len(found) > 1:
            raise ValueError(
                f"{len(found)} {cls.plural} match ({', '.join(map(str, found[:5]))}"
                f"{'...' if len(found) > 5 else ''}); expected exactly one"
            )
        return found or None

    found = await poll(fetch, timeout)
    if found is None:
        what = repr(name) if name is not None else "matching the selectors"
        raise NotFoundError(
            {"code": 404, "reason": "NotFound", "message": f"{cls.kind} {what} not found"}
        )
    return found[0]


async def poll(
    fetch: Callable[[], Awaitable[_T | None]],
    timeout: float,  # noqa: ASYNC109 (a polling budget: fetch runs at least once)
) -> _T | None:
    """``await fetch()`` until it returns something else than None, backing off from 0.1 s to
    1 s, for at most ``timeout`` seconds (at least once); None if it never did.

    Cancellation:
        Safe.
    """
    deadline = trio.current_time() + max(timeout, 0)
    delay = _POLL_FIRST
    while (found := await fetch()) is None:
        left = deadline - trio.current_time()
        if left <= 0:
            return None
        await trio.sleep(min(delay, left))
        delay = min(delay * 2, _POLL_MAX)
    return found


async def _find(
    cls: type[_O],
    name: str | None,
    namespace: str | None,
    api: Api,
    label_selector: str | Mapping[str, Any] | None,
    field_selector: str | Mapping[str, Any] | None,
    kwargs: Mapping[str, Any],
) -> list[_O]:
    if name is not None and not label_selector and not field_selector:
        if cls.discover:
            await resolve_kind(cls, api)
        url = f"{cls.endpoint}/{name}"
        ns = list_namespace(cls, namespace, api)
        try:
            async with api.call_api(
                "GET", version=cls.version, namespace=ns, url=url, **kwargs
            ) as r:
                item = await r.json()
        except NotFoundError:
            return []
        return [cls._wrap(item, api)]
    names = (name,) if name is not None else ()
    return [
        obj
        async for obj in get(
            cls,
            *names,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            api=api,
        )
    ]
