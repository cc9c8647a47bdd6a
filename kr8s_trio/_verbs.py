"""The kubectl-style top-level verbs: `get`, `watch`, `create`, `apply`.

```python
async for pod in kr8s_trio.get("pods", namespace=kr8s_trio.ALL):
    print(pod.name)
async for event, pod in kr8s_trio.watch("pods", label_selector={"app": "web"}):
    print(event, pod.name, pod.status.phase)
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import trio

from kr8s_trio._core._groups import unwrap_single_exception
from kr8s_trio._objects._base import FIELD_MANAGER, APIObject
from kr8s_trio._objects._query import get, list_namespace, selector_params
from kr8s_trio._objects._resolve import resolve_kind
from kr8s_trio._registry import api as _default_api
from kr8s_trio._watch import watch_events

if TYPE_CHECKING:
    from kr8s_trio._api import Api

__all__ = ["apply", "create", "get", "watch"]


async def watch(
    kind: str | type[APIObject],
    namespace: str | None = None,
    label_selector: str | Mapping[str, Any] | None = None,
    field_selector: str | Mapping[str, Any] | None = None,
    since: str | None = None,
    api: Api | None = None,
    *,
    raw: bool = False,
) -> AsyncIterator[tuple[str, Any]]:
    """Watch objects: ``async for event, obj in watch("pods"):`` yields ``("ADDED", pod)``,
    ``("MODIFIED", pod)``, ``("DELETED", pod)`` for ever.

    Args:
        kind, namespace, label_selector, field_selector, api: as for `get`.
        since: a resourceVersion: changes after it. None: first an ADDED event for every
            existing object (from a list), then the changes.
        raw: yield dicts instead of objects.

    Raises:
        APIError: an error retrying cannot fix (401, 403, 404...).

    Recovery:
        Resumes from the last resourceVersion when the stream ends or the connection drops (no
        duplicate or lost events); asks for bookmarks, which move the resume point; on 410 Gone
        relists and yields what changed meanwhile; jittered exponential backoff (0.8 s to 30 s)
        between failed attempts. kr8s stops at the first end of stream and loops on a 410.

    Cancellation:
        Safe; leaving the loop (or cancelling it) closes the watch.
    """
    if api is None:
        api = await _default_api()
    cls = await resolve_kind(kind, api)
    params = selector_params(label_selector, field_selector)
    events = watch_events(
        api,
        version=cls.version,
        plural=cls.endpoint,
        namespace=list_namespace(cls, namespace, api),
        label_selector=params.get("labelSelector", ""),
        field_selector=params.get("fieldSelector", ""),
        since=since,
    )
    async with aclosing(events):
        async for event in events:
            yield event.type, (event.object if raw else cls._wrap(event.object, api))


async def _each(objects: Iterable[APIObject], verb: str, *args: Any) -> list[APIObject]:
    """Run ``await obj.<verb>(*args)`` for every object concurrently; the objects in order."""
    resources = list(objects)
    with unwrap_single_exception():
        async with trio.open_nursery() as nursery:
            for obj in resources:
                nursery.start_soon(getattr(obj, verb), *args)
    return resources


async def create(resources: Iterable[APIObject], api: Api | None = None) -> list[APIObject]:
    """Create objects concurrently (in a nursery); each ``raw`` becomes the created object.

    Args:
        resources: the objects.
        api: bind objects that have no client to this one.

    Returns:
        The objects, in the order given.

    Raises:
        APIError: one creation failed (the others were cancelled or finished); an
            ExceptionGroup when several failed.

    Cancellation:
        Some objects may have been created.
    """
    objects = _bound(resources, api)
    return await _each(objects, "create")


async def apply(
    resources: Iterable[APIObject],
    api: Api | None = None,
    *,
    field_manager: str = FIELD_MANAGER,
    force: bool = False,
) -> list[APIObject]:
    """Server-side apply objects concurrently (created when missing); see `APIObject.apply`.

    Raises:
        ConflictError: another field manager owns a field (and not ``force``); as `create`
            for several failures.

    Cancellation:
        Some objects may have been applied.
    """
    objects = _bound(resources, api)
    return await _each(objects, "apply", field_manager, force)


def _bound(resources: Iterable[APIObject], api: Api | None) -> list[APIObject]:
    objects = list(resources)
    if api is not None:
        for obj in objects:
            if obj.api is None:
                obj.api = api
    return objects
