"""Container logs: ``GET pods/{name}/log`` as an async iterator of lines.

`log_params` maps kr8s's ``Pod.logs`` arguments to the query; `LogLines` is the iterator
(a class, not an async generator: see its docstring for when the request is closed);
`pick_pod` and `pod_sort_key` choose the pod ``kubectl logs deploy/x`` would.

Lines are the body split on ``\\n`` (a trailing ``\\r`` is dropped), decoded as UTF-8 with
U+FFFD for invalid bytes; a last line without a newline (cut by ``limit_bytes``, or a container
that stopped mid-line) is yielded too.
"""

from __future__ import annotations

import codecs
import datetime
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import trio

if TYPE_CHECKING:
    from kr8s_trio._objects._base import APIObject
    from kr8s_trio._response import Response

__all__ = [
    "DEFAULT_CONTAINER_ANNOTATION",
    "LogLines",
    "default_container",
    "format_since_time",
    "log_params",
    "pod_sort_key",
]

#: the annotation naming the container ``kubectl logs`` and ``kubectl exec`` use by default
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"

#: how long closing a log stream may take (shielded from cancellation)
_CLOSE_BOUND = 5.0

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def format_since_time(since_time: datetime.datetime | str) -> str:
    """``sinceTime`` as RFC 3339 in UTC (``2025-01-01T00:00:00Z``, fractional seconds kept when
    there are any); a string is passed on as it is (the server validates it).

    Raises:
        ValueError: a naive datetime (its time zone would be a guess).
    """
    if isinstance(since_time, str):
        return since_time
    if since_time.tzinfo is None or since_time.utcoffset() is None:
        raise ValueError("since_time must be timezone-aware (e.g. datetime.now(UTC))")
    t = since_time.astimezone(datetime.UTC)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}"
    return text + "Z"


def log_params(
    *,
    container: str | None = None,
    pretty: bool | str | None = None,
    previous: bool = False,
    since_seconds: float | datetime.timedelta | None = None,
    since_time: datetime.datetime | str | None = None,
    timestamps: bool = False,
    tail_lines: int | None = None,
    limit_bytes: int | None = None,
    follow: bool = False,
) -> dict[str, str]:
    """The query of a log request, as kr8s builds it: ``sinceSeconds`` only when ``since_time``
    is unset; flags only when true. ``since_seconds`` is rounded up to whole seconds (as kubectl
    rounds ``--since``)."""
    params: dict[str, str] = {}
    if follow:
        params["follow"] = "true"
    if container is not None:
        params["container"] = container
    if pretty is not None:
        params["pretty"] = ("true" if pretty else "false") if isinstance(pretty, bool) else pretty
    if previous:
        params["previous"] = "true"
    if since_time is not None:
        params["sinceTime"] = format_since_time(since_time)
    elif since_seconds is not None:
        seconds = (
            since_seconds.total_seconds()
            if isinstance(since_seconds, datetime.timedelta)
            else since_seconds
        )
        params["sinceSeconds"] = str(math.ceil(seconds))
    if timestamps:
        params["timestamps"] = "true"
    if tail_lines is not None:
        params["tailLines"] = str(int(tail_lines))
    if limit_bytes is not None:
        params["limitBytes"] = str(int(limit_bytes))
    return params


class _LineSplitter:
    """Bytes in, complete lines out (UTF-8, invalid bytes replaced, ``\\r\\n`` or ``\\n``)."""

    __slots__ = ("_decoder", "_partial")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def feed(self, data: bytes, final: bool = False) -> list[str]:
        text = self._partial + self._decoder.decode(data, final)
        parts = text.split("\n")
        self._partial = parts.pop()
        if final and self._partial:
            parts.append(self._partial)
            self._partial = ""
        return [p[:-1] if p.endswith("\r") else p for p in parts]


class LogLines:
    """The lines of one container's log, as they arrive: what `Pod.logs` returns.

    ``async for line in pod.logs(follow=True): ...``. The request is sent on the first
    ``__anext__`` (so errors such as `NotFoundError` and `BadRequestError` come from there) and
    closed:

    - when the log ends (the container stopped while following, or the whole log was read);
    - when an idle ``timeout`` passes with no data (the iteration then ends quietly, after a
      partial line received so far);
    - when ``__anext__`` is cancelled or fails (the iterator is then finished);
    - on `aclose` (``async with contextlib.aclosing(pod.logs(...)) as lines:``);
    - when the iterator is dropped unfinished, e.g. after ``break`` in ``async for``: a trio
      system task closes it right away (no ResourceWarning, unlike an abandoned async
      generator). Prefer ``async with pod.open_logs(...)`` or ``aclosing`` to close it at a
      known point.
    """

    __slots__ = (
        "_call",
        "_done",
        "_idle",
        "_kwargs",
        "_obj",
        "_pending",
        "_response",
        "_splitter",
        "_stream",
        "_token",
    )

    def __init__(
        self,
        obj: APIObject,
        params: Mapping[str, str],
        *,
        idle_timeout: float | None = None,
    ) -> None:
        self._obj = obj
        self._kwargs: dict[str, Any] = {
            "params": dict(params),
            "streaming": params.get("follow") == "true",
        }
        self._idle = idle_timeout
        self._call: AbstractAsyncContextManager[Response] | None = None
        self._response: Response | None = None
        self._stream: AsyncIterator[bytes] | None = None
        self._splitter = _LineSplitter()
        self._pending: list[str] = []  # reversed: the next line last
        self._done = False
        self._token: trio.lowlevel.TrioToken | None = None

    def __repr__(self) -> str:
        state = "done" if self._done else "open" if self._call is not None else "not started"
        return f"<LogLines {self._obj.kind} {self._obj.name!r} {state}>"

    @property
    def params(self) -> dict[str, str]:
        """The query the request carries."""
        return dict(self._kwargs["params"])

    def __aiter__(self) -> Self:
        return self

    async def open(self) -> None:
        """Send the request now (`Pod.open_logs` does), instead of on the first line.

        Raises:
            NotFoundError: no such pod; BadRequestError: no such container, or it has not
            started, or no previous instance (``previous``); InvalidError: bad options.

        Cancellation:
            Safe; nothing is left open (the iterator is then finished).
        """
        if self._call is not None or self._done:
            return
        try:
            obj = self._obj
            api = await obj._client()
            call = api.call_api(
                "GET",
                version=obj.version,
                namespace=obj._namespace_for(api),
                url=f"{obj.endpoint}/{obj.name}/log",
                **self._kwargs,
            )
            response = await call.__aenter__()
        except BaseException:
            self._done = True
            raise
        self._call, self._response = call, response
        self._stream = response.aiter_bytes()
        self._token = trio.lowlevel.current_trio_token()

    async def __anext__(self) -> str:
        """The next line.

        Raises:
            StopAsyncIteration: the log ended, or the idle timeout passed.
            APIError: as `open`, on the first line; TransportError: the connection failed.

        Cancellation:
            The request is closed and the iterator finished.
        """
        if self._pending:
            return self._pending.pop()
        if self._done:
            raise StopAsyncIteration
        try:
            await self.open()
            assert self._stream is not None
            while not self._pending:
                chunk: bytes | None = None
                with trio.move_on_after(math.inf if self._idle is None else self._idle):
                    chunk = await anext(self._stream, None)
                    if chunk is None:  # the server ended the log
                        self._pending = self._splitter.feed(b"", final=True)
                        self._pending.reverse()
                        await self._finish()
                        break
                if chunk is None:  # the idle timeout passed: a partial line is all there is
                    self._pending = self._splitter.feed(b"", final=True)
                    self._pending.reverse()
                    await self._finish()
                    break
                self._pending = self._splitter.feed(chunk)
                self._pending.reverse()
        except BaseException:
            self._pending = []
            await self._finish()
            raise
        if self._pending:
            return self._pending.pop()
        raise StopAsyncIteration

    async def _finish(self) -> None:
        self._done = True
        call, self._call, self._stream, self._response = self._call, None, None, None
        if call is not None:
            with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_BOUND):
                await call.__aexit__(None, None, None)

    async def aclose(self) -> None:
        """Close the request (if open); the iteration is over.

        Cancellation:
            Closing finishes (shielded, bounded) even when cancelled.
        """
        self._pending = []
        await self._finish()

    async def __aenter__(self) -> Self:
        """`open`, then the iterator itself; `aclose` on exit.

        Cancellation:
            As `open`.
        """
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        call, token = getattr(self, "_call", None), getattr(self, "_token", None)
        if call is None or token is None:
            return
        self._call = None

        async def close() -> None:
            with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_BOUND):
                await call.__aexit__(None, None, None)

        with suppress(trio.RunFinishedError):
            token.run_sync_soon(trio.lowlevel.spawn_system_task, close)


def default_container(pod: Mapping[str, Any]) -> str | None:
    """The container ``kubectl logs`` uses for a pod when none is named: the one the
    ``kubectl.kubernetes.io/default-container`` annotation names (when it exists), else the
    first of ``spec.containers``; None when the pod has no spec."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    named = annotations.get(DEFAULT_CONTAINER_ANNOTATION)
    if named and named in containers:
        return str(named)
    return str(containers[0]) if containers else None


def _condition(pod: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c  # type: ignore[no-any-return]
    return None


def _time(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    try:
        t = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=datetime.UTC)


def pod_sort_key(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """A key sorting pods most active first, as kubectl's ``sort.Reverse(ActivePods)`` (its
    ``GetFirstPod`` for ``kubectl logs deploy/x`` and ``job/x``): assigned to a node before
    unassigned; Running, then Unknown, then Pending (and finished phases); ready before not
    ready; ready for longer first; fewer container restarts first; older first. Ties keep the
    list's order (by name) where kubectl's unstable sort leaves it open."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(str(status.get("phase")), 0)
    ready_cond = _condition(pod, "Ready")
    ready = ready_cond is not None and ready_cond.get("status") == "True"
    ready_since = _time(ready_cond.get("lastTransitionTime")) if ready and ready_cond else None
    restarts = max(
        (int(s.get("restartCount") or 0) for s in status.get("containerStatuses") or []),
        default=0,
    )
    created = _time((pod.get("metadata") or {}).get("creationTimestamp"))
    # kubectl: zero times count as "after" everything; here earlier (smaller) sorts first
    far = datetime.datetime.max.replace(tzinfo=datetime.UTC)
    return (
        0 if spec.get("nodeName") else 1,
        -phase_rank,
        0 if ready else 1,
        ready_since or far if ready else _EPOCH,
        restarts,
        created or far,
    )
