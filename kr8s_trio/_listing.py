"""Paginated LIST, as kubectl and client-go's pager do it.

`list_pages` asks for ``limit`` items at a time (kubectl's chunk size, 500) and follows
``metadata.continue`` until the server has no more. Every page of one list is served from the
snapshot the first page was read at, so the pages share one resourceVersion, until the continue
token expires (etcd compacted that snapshot away): the server then answers 410 Gone with a
fresh token in the Status's ``metadata.continue`` that continues from the latest state. Who
needs a consistent snapshot (a watcher about to watch from the list's resourceVersion) passes
``consistent=True`` and restarts on `GoneError`; who just wants every object continues with
that token, as the Kubernetes API documentation allows.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any

import attrs

from kr8s_trio._api import Api
from kr8s_trio._core._exceptions import GoneError, RemoteProtocolError

__all__ = ["DEFAULT_PAGE_SIZE", "ListPage", "ListPager", "list_pages"]

#: items asked for per page (kubectl's ``--chunk-size`` and client-go's pager default)
DEFAULT_PAGE_SIZE = 500

#: query parameters that may not be sent along with ``continue`` (400 from the server)
_FIRST_PAGE_ONLY = ("resourceVersion", "resourceVersionMatch", "continue", "limit")


@attrs.frozen(slots=True)
class ListPage:
    """One page of a LIST.

    Attributes:
        items: the decoded list's items (not copied; the caller may keep or change them).
        resource_version: the list's ``metadata.resourceVersion``: the snapshot this page was
            read at (the same for every page of a consistent list).
        kind: the list's kind (``PodList``...).
        api_version: the list's apiVersion (``v1``, ``apps/v1``...).
        continue_token: the token of the next page, ``None`` on the last one.
        remaining_item_count: how many items the server says are left, if it says.
        inconsistent: this page was read after an expired continue token, from a newer snapshot
            than the pages before it.
    """

    items: list[dict[str, Any]] = attrs.field(repr=lambda items: f"<{len(items)} items>")
    resource_version: str
    kind: str = ""
    api_version: str = ""
    continue_token: str | None = None
    remaining_item_count: int | None = None
    inconsistent: bool = False


def _page(body: Any, *, inconsistent: bool) -> ListPage:
    if not isinstance(body, dict):
        raise RemoteProtocolError(f"a list answer is not a JSON object: {type(body).__name__}")
    metadata = body.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    items = body.get("items")
    if items is None:  # an empty list may come as "items": null
        items = []
    if not isinstance(items, list):
        raise RemoteProtocolError(f"a list's items are not a JSON array: {type(items).__name__}")
    rv = metadata.get("resourceVersion")
    token = metadata.get("continue")
    remaining = metadata.get("remainingItemCount")
    kind = body.get("kind")
    api_version = body.get("apiVersion")
    return ListPage(
        items=items,
        resource_version=rv if isinstance(rv, str) else "",
        kind=kind if isinstance(kind, str) else "",
        api_version=api_version if isinstance(api_version, str) else "",
        continue_token=token if isinstance(token, str) and token else None,
        remaining_item_count=remaining if isinstance(remaining, int) else None,
        inconsistent=inconsistent,
    )


def _fresh_token(error: GoneError) -> str | None:
    """The continue token a 410 for an expired token carries (``metadata.continue``)."""
    metadata = error.status.get("metadata")
    if isinstance(metadata, dict):
        token = metadata.get("continue")
        if isinstance(token, str) and token:
            return token
    return None


async def list_pages(
    api: Api,
    *,
    version: str,
    plural: str,
    namespace: str | None,
    params: Mapping[str, str] | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    consistent: bool = False,
) -> AsyncGenerator[ListPage, None]:
    """List a resource page by page.

    Args:
        api: the client.
        version: the group version (``v1``, ``apps/v1``).
        plural: the resource (``pods``, ``deployments``).
        namespace: the namespace; `ALL` or None for every namespace (or a cluster-scoped kind).
        params: more query parameters (``labelSelector``, ``fieldSelector``,
            ``resourceVersion``...); ``resourceVersion`` and ``resourceVersionMatch`` go with the
            first request only (the server refuses them along with ``continue``).
        limit: items per page; 0 asks for everything in one request.
        consistent: raise `GoneError` when a continue token expires (the caller restarts the
            list) instead of continuing from a newer snapshot.

    Yields:
        `ListPage` after `ListPage`; the last one has ``continue_token`` None. An empty list is
        one page with no items.

    Raises:
        GoneError: a continue token expired and ``consistent`` is set; or the server cannot
            serve the ``resourceVersion`` asked for.
        APIError: any other error answer (after the transport's retries).
        TransportError, APITimeoutError: the server could not be reached.
        RemoteProtocolError: the answer is not a list.

    Cancellation:
        Safe at every point: the request in flight is abandoned and its connection released;
        the pages already yielded stay valid. The generator holds no connection between pages,
        so breaking out of it early leaves nothing open.
    """
    pager = ListPager(
        api,
        version=version,
        plural=plural,
        namespace=namespace,
        params=params,
        limit=limit,
        consistent=consistent,
    )
    while (page := await pager.next_page()) is not None:
        yield page  # no I/O is pending while the caller holds the page


class ListPager:
    """The pages of one LIST, fetched one `next_page` call at a time (the state machine behind
    `list_pages`, for iterators that are classes rather than async generators: an abandoned
    pager holds nothing open and needs no finalizer). Arguments as `list_pages`."""

    __slots__ = (
        "_api",
        "_consistent",
        "_inconsistent",
        "_namespace",
        "_plural",
        "_query",
        "_rest",
        "_version",
    )

    def __init__(
        self,
        api: Api,
        *,
        version: str,
        plural: str,
        namespace: str | None,
        params: Mapping[str, str] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        consistent: bool = False,
    ) -> None:
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        first: dict[str, str] = {k: v for k, v in (params or {}).items() if k != "continue"}
        self._rest = {k: v for k, v in first.items() if k not in _FIRST_PAGE_ONLY}
        if limit:
            first["limit"] = self._rest["limit"] = str(limit)
        self._query: dict[str, str] | None = first
        self._api, self._version, self._plural = api, version, plural
        self._namespace, self._consistent = namespace, consistent
        self._inconsistent = False

    async def next_page(self) -> ListPage | None:
        """The next page, or None after the last one. Raises as `list_pages`.

        Cancellation:
            Safe: the request in flight is abandoned; calling again asks for the same page.
        """
        while self._query is not None:
            query = self._query
            try:
                async with self._api.call_api(
                    "GET",
                    version=self._version,
                    namespace=self._namespace,
                    url=self._plural,
                    params=query,
                ) as r:
                    body = await r.json()
            except GoneError as exc:
                token = _fresh_token(exc)
                if self._consistent or "continue" not in query or token is None:
                    raise
                self._query = {**self._rest, "continue": token}
                self._inconsistent = True
                continue
            page = _page(body, inconsistent=self._inconsistent)
            token = page.continue_token
            self._query = None if token is None else {**self._rest, "continue": token}
            return page
        return None
