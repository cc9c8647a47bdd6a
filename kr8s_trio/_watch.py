"""A raw watch that survives what real clusters do to watches.

`watch_events` is the loop every reliable client ends up writing (client-go's reflector,
kube-rs's watcher): list, then watch from the list's resourceVersion with bookmarks; on a dropped
or ended stream resume from the last resourceVersion seen (no relist, so no duplicates and no
losses); on 410 Gone relist and tell the caller what changed while it was not looking; between
failed attempts wait a jittered exponential backoff (`Backoff`); ask for a randomised
``timeoutSeconds`` so that many watchers do not reconnect in lockstep; and give up on a
connection that has been silent for longer than the server would keep it (a dead peer sends no
FIN).

It yields `WatchEvent`s holding the objects as decoded (dicts, not copied); wrapping them is the
caller's business. To tell what changed across a relist it remembers the last object it yielded
for each ``namespace/name`` (references, not copies: about the memory of a cache of the watched
objects).
"""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

import trio

from kr8s_trio._api import Api
from kr8s_trio._core._backoff import Backoff
from kr8s_trio._core._exceptions import (
    APIError,
    GoneError,
    ProtocolError,
    ServerError,
    TooManyRequestsError,
    TransportError,
)
from kr8s_trio._core._watchdecode import WatchDecoder, WatchEvent
from kr8s_trio._listing import list_pages

__all__ = ["IDLE_MARGIN", "WATCH_TIMEOUT_RANGE", "watch_events"]

#: the range ``timeoutSeconds`` is drawn from for each watch request (client-go's 5-10 min)
WATCH_TIMEOUT_RANGE = (300, 600)

#: how long past ``timeoutSeconds`` a silent stream is given before it counts as dead
IDLE_MARGIN = 30.0

JSONObject = dict[str, Any]

#: errors after which the watch is tried again (after the backoff), rather than raised
_RETRIED = (TransportError, ProtocolError, ServerError, TooManyRequestsError)


def _key(obj: JSONObject) -> str:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return ""
    name = metadata.get("name") or ""
    namespace = metadata.get("namespace") or ""
    return f"{namespace}/{name}"


def _rv(obj: JSONObject) -> str:
    metadata = obj.get("metadata")
    rv = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
    return rv if isinstance(rv, str) else ""


class _Seen:
    """What this watch has told its caller: the last object yielded for each key."""

    def __init__(self) -> None:
        self.objects: dict[str, JSONObject] = {}

    def observe(self, event: WatchEvent) -> None:
        key = _key(event.object)
        if event.type == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = event.object

    def replace(self, items: list[JSONObject]) -> list[WatchEvent]:
        """Take ``items`` (a fresh list) as the new state; the events that lead to it:
        ADDED and MODIFIED in list order, then DELETED (with the last object seen)."""
        old = self.objects
        new: dict[str, JSONObject] = {}
        events: list[WatchEvent] = []
        for item in items:
            key = _key(item)
            new[key] = item
            before = old.get(key)
            if before is None:
                events.append(WatchEvent("ADDED", item))
            elif _rv(before) != _rv(item):
                events.append(WatchEvent("MODIFIED", item))
        events.extend(WatchEvent("DELETED", obj) for key, obj in old.items() if key not in new)
        self.objects = new
        return events


def _item_defaults(kind: str, api_version: str) -> Callable[[JSONObject], None]:
    """List items come without kind and apiVersion (the list has them): fill them in."""
    item_kind = kind.removesuffix("List")

    def fill(item: JSONObject) -> None:
        if item_kind and "kind" not in item:
            item["kind"] = item_kind
        if api_version and "apiVersion" not in item:
            item["apiVersion"] = api_version

    return fill


async def watch_events(
    api: Api,
    *,
    version: str,
    plural: str,
    namespace: str | None,
    label_selector: str = "",
    field_selector: str = "",
    since: str | None = None,
    backoff: Backoff | None = None,
    timeout_seconds: int | None = None,
    idle_timeout: float | None = None,
    page_size: int = 500,
    rand: Callable[[], float] = random.random,
) -> AsyncGenerator[WatchEvent, None]:
    """Watch a resource for ever, resuming and relisting as needed.

    Args:
        api: the client.
        version: the group version (``v1``, ``apps/v1``).
        plural: the resource (``pods``, ``deployments``).
        namespace: the namespace; `ALL` or None for every namespace (or a cluster-scoped kind).
        label_selector, field_selector: only objects matching them; an object that stops
            matching comes as DELETED, one that starts as ADDED.
        since: watch for changes after this resourceVersion. None: list first (consistently,
            ``page_size`` at a time) and yield an ADDED event for every object, then watch from
            the list's resourceVersion.
        backoff: the delays between failed attempts (default: ``Backoff()``, 0.8 s doubling to
            30 s). It is reset whenever a stream delivers an event (bookmarks included).
        timeout_seconds: the ``timeoutSeconds`` of each watch request; None draws one from
            `WATCH_TIMEOUT_RANGE` (5 to 10 minutes) for each request.
        idle_timeout: abandon a stream that sent nothing, not even a bookmark, for this long,
            and resume. None: the request's ``timeoutSeconds`` plus `IDLE_MARGIN`.
        page_size: items per page of the lists.
        rand: the source of jitter (``[0, 1)``), for the backoff and ``timeoutSeconds``.

    Yields:
        ADDED, MODIFIED and DELETED `WatchEvent`s, in the server's order, each change once.
        BOOKMARK events only move the resume point and are not yielded; ERROR events are not
        yielded either (see Raises). After a relist the events are synthetic: ADDED for objects
        this watch has not yielded, MODIFIED for those whose resourceVersion changed, DELETED
        (carrying the last object yielded) for those gone. With ``since`` given, objects that
        existed before it were never yielded, so a relist yields them as ADDED.

    Raises:
        APIError: an error that retrying cannot fix: 401, 403, 404, 400, 422... (before the
            stream or as an ERROR event). (A malformed stream is dropped and resumed like a
            broken connection.)

    Recovery:
        Clean end of the stream (``timeoutSeconds``), dropped or reset connection, malformed
        line, silence past the idle deadline: watch again from the last resourceVersion seen
        (an event's or a bookmark's), at once if the stream delivered something, else after the
        backoff. 410 Gone (an ERROR event or the answer to the request): relist (after the backoff
        unless the stream delivered something first), yield the differences, watch from the
        relist's resourceVersion. Connection errors, 5xx and 429 (before the stream or as an
        ERROR event), a failed list: wait the backoff delay (at least the server's
        Retry-After) and try again, for ever.

    Cancellation:
        Safe at every point: the HTTP stream is closed and nothing is left running. Breaking
        out of ``async for`` leaves the generator suspended with its stream open until it is
        closed or collected; use ``async with contextlib.aclosing(watch_events(...)) as
        events:`` so that breaking out closes the stream at once.
    """
    if backoff is None:
        backoff = Backoff()
    base_params = {"allowWatchBookmarks": "true"}
    list_params: dict[str, str] = {}
    if label_selector:
        base_params["labelSelector"] = list_params["labelSelector"] = label_selector
    if field_selector:
        base_params["fieldSelector"] = list_params["fieldSelector"] = field_selector
    seen = _Seen()
    rv = since
    while True:
        if rv is None:
            # (re)list, consistently; the whole list is read before anything is yielded
            try:
                items: list[JSONObject] = []
                list_rv = ""
                pages = list_pages(
                    api,
                    version=version,
                    plural=plural,
                    namespace=namespace,
                    params=list_params,
                    limit=page_size,
                    consistent=True,
                )
                async with aclosing(pages):
                    async for page in pages:
                        fill = _item_defaults(page.kind, page.api_version)
                        for item in page.items:
                            fill(item)
                        items.extend(page.items)
                        list_rv = list_rv or page.resource_version
            except (GoneError, *_RETRIED) as exc:
                await trio.sleep(_delay(backoff, rand, exc))
                continue
            for event in seen.replace(items):
                yield event
            rv = list_rv
        timeout = timeout_seconds if timeout_seconds is not None else _random_timeout(rand)
        idle = idle_timeout if idle_timeout is not None else timeout + IDLE_MARGIN
        params = {**base_params, "watch": "1", "timeoutSeconds": str(timeout)}
        if rv:
            params["resourceVersion"] = rv
        progressed = False
        failure: BaseException | None = None
        error: APIError | None = None
        try:
            async with api.call_api(
                "GET", version=version, namespace=namespace, url=plural, params=params
            ) as r:
                decoder = WatchDecoder()
                chunks = r.aiter_bytes()
                while error is None:
                    with trio.move_on_after(idle) as idle_scope:
                        chunk = await anext(chunks, None)
                    if idle_scope.cancelled_caught:
                        break  # a dead connection, or a server that forgot us: resume
                    if chunk is None:
                        decoder.close()
                        break
                    for event in decoder.feed(chunk):
                        if event.type == "ERROR":
                            error = event.error()
                            break
                        progressed = True
                        backoff.reset()
                        if event.resource_version:
                            rv = event.resource_version
                        if event.type != "BOOKMARK":
                            seen.observe(event)
                            yield event
        except GoneError as exc:  # the answer to the request
            error = exc
        except _RETRIED as exc:
            failure = exc
        if isinstance(error, GoneError):
            rv = None  # relist: at once after a stream that delivered, else after the backoff
        elif isinstance(error, ServerError | TooManyRequestsError):
            # a 5xx / 429 ERROR event: the server's trouble, not ours: back off, then resume
            # (client-go's reflector retries every watch error the same way)
            await trio.sleep(_delay(backoff, rand, error))
            continue
        elif error is not None:
            raise error
        if not progressed:
            await trio.sleep(_delay(backoff, rand, failure))


def _random_timeout(rand: Callable[[], float]) -> int:
    low, high = WATCH_TIMEOUT_RANGE
    return min(high - 1, low + int(rand() * (high - low)))


def _delay(backoff: Backoff, rand: Callable[[], float], exc: BaseException | None) -> float:
    """The backoff's next delay, stretched to the server's Retry-After if it sent one."""
    delay = backoff.next_delay(rand)
    retry_after = exc.retry_after if isinstance(exc, APIError) else None
    return max(delay, retry_after) if retry_after is not None else delay
