"""Watching one object, and waiting on it: `APIObject.watch`, `APIObject.wait`,
`APIObject.scale`.

Waiting is event driven: refresh once, test, then watch the object from that resourceVersion and
test again on each event. The watch is `watch_events`, so a dropped connection resumes and a 410
relists instead of looping (kr8s) or ending the wait silently.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import trio

from kr8s_trio._core._conditions import parse_conditions
from kr8s_trio._core._exceptions import NotFoundError
from kr8s_trio._core._objectedits import scale_patch
from kr8s_trio._core._selectorbuild import field_selector_query
from kr8s_trio._watch import watch_events

if TYPE_CHECKING:
    from kr8s_trio._objects._base import APIObject

__all__ = ["scale_to", "wait_for", "wait_until", "watch_object"]

_O = TypeVar("_O", bound="APIObject")


async def watch_object(obj: _O) -> AsyncGenerator[tuple[str, _O], None]:
    """See `APIObject.watch`."""
    api = await obj._client()
    since = obj.raw.get("metadata", {}).get("resourceVersion") or None
    events = watch_events(
        api,
        version=obj.version,
        plural=obj.endpoint,
        namespace=obj._namespace_for(api),
        field_selector=field_selector_query({"metadata.name": obj.name}),
        since=since,
    )
    async with aclosing(events):
        async for event in events:
            obj._raw = event.object
            yield event.type, obj


def _not_found(obj: APIObject) -> NotFoundError:
    message = f"{obj.kind} {obj.name!r} was deleted"
    return NotFoundError({"code": 404, "reason": "NotFound", "message": message})


async def wait_until(
    obj: APIObject,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    timeout: float | None,  # noqa: ASYNC109 (APIObject.wait's)
    what: str,
    deleted_ok: bool = False,
) -> None:
    """Wait until ``predicate(obj.raw)`` holds (or, with ``deleted_ok``, the object is gone).

    Raises:
        TimeoutError: not within ``timeout`` seconds (None: no limit).
        NotFoundError: the object is gone and ``deleted_ok`` is false.

    Cancellation:
        Safe; the watch is closed.
    """
    with trio.move_on_after(math.inf if timeout is None else timeout):
        try:
            await obj.refresh()
        except NotFoundError:
            if deleted_ok:
                return
            raise
        if predicate(obj.raw):
            return
        async with aclosing(watch_object(obj)) as events:
            async for event_type, _ in events:
                if event_type == "DELETED":
                    if deleted_ok:
                        return
                    raise _not_found(obj)
                if predicate(obj.raw):
                    return
    raise TimeoutError(f"{obj.kind} {obj.name!r}: {what} not met within {timeout} s")


async def wait_for(
    obj: APIObject,
    conditions: str | Sequence[str],
    mode: Literal["any", "all"],
    timeout: float | None,  # noqa: ASYNC109 (APIObject.wait's)
) -> None:
    """See `APIObject.wait`."""
    parsed = parse_conditions(conditions, mode)
    await wait_until(
        obj,
        parsed.check,
        timeout=timeout,
        what=repr(conditions) if isinstance(conditions, str) else repr(list(conditions)),
        deleted_ok=parsed.satisfied_by_deletion,
    )


def _scaled_to(target: int) -> Callable[[dict[str, Any]], bool]:
    def converged(raw: dict[str, Any]) -> bool:
        status = raw.get("status") or {}
        generation = raw.get("metadata", {}).get("generation", 0)
        return bool(
            status.get("observedGeneration", 0) >= generation
            and status.get("replicas", 0) == target
        )

    return converged


async def scale_to(
    obj: APIObject,
    replicas: int | None,
    *,
    wait: bool,
    timeout: float | None,  # noqa: ASYNC109 (APIObject.scale's)
) -> None:
    """See `APIObject.scale`."""
    if not obj.scalable:
        raise NotImplementedError(f"{obj.kind} is not scalable")
    if replicas is not None:
        patch = scale_patch("replicas" if obj.scale_subresource else obj.scalable_spec, replicas)
        await obj.patch(patch, subresource="scale" if obj.scale_subresource else None)
    if not obj.scale_subresource:
        return  # a Job's parallelism: nothing converges to it (its active pods depend on
        # completions too)
    if not wait:
        await obj.refresh()
        return
    if replicas is None:
        await obj.refresh()  # the current count is on the server (raw may not have it)
    target = replicas if replicas is not None else obj.replicas
    await wait_until(obj, _scaled_to(target), timeout=timeout, what=f"{target} replicas")
