"""Streams on objects: `PodLogs` (``Pod.logs`` / ``Pod.open_logs``) and `WorkloadLogs`
(``Deployment.logs`` / ``Job.logs`` and their ``open_logs``) over the pod kubectl would pick.

``kubectl logs deploy/x`` and ``kubectl logs job/x`` read the log of one pod: the first of the
pods the workload's selector matches, sorted most active first (kubectl's
``sort.Reverse(ActivePods)``; see `kr8s_trio._logs.pod_sort_key`), waiting up to
``--pod-running-timeout`` (20 s) for one to exist. ``all_pods=True`` reads them all, each line
prefixed ``[pod/<pod>/<container>] `` as ``kubectl logs --all-pods --prefix`` does.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import trio

from kr8s_trio._core._exceptions import NotFoundError
from kr8s_trio._core._groups import unwrap_single_exception
from kr8s_trio._logs import LogLines, default_container, log_params, pod_sort_key
from kr8s_trio._objects._base import APIObject

if TYPE_CHECKING:
    from kr8s_trio._objects._core_v1 import Pod

__all__ = ["PodLogs", "WorkloadLogs"]

#: kubectl's ``--pod-running-timeout`` default: how long a workload's logs wait for a pod
POD_TIMEOUT = 20.0


class PodLogs(APIObject):
    """``Pod.logs`` and ``Pod.open_logs``."""

    __slots__ = ()

    def logs(
        self,
        container: str | None = None,
        pretty: bool | str | None = None,
        previous: bool = False,
        since_seconds: float | datetime.timedelta | None = None,
        since_time: datetime.datetime | str | None = None,
        timestamps: bool = False,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
        follow: bool = False,
        timeout: float | None = None,
    ) -> LogLines:
        """The container's log, line by line (``str`` without the newline):
        ``async for line in pod.logs(follow=True):``.

        Args:
            container: the container (required by the server when the pod has several).
            pretty: passed on as ``pretty``.
            previous: the log of the previous instance (before the last restart).
            since_seconds: only lines from this many seconds ago on (rounded up); ignored when
                ``since_time`` is given (as kr8s does).
            since_time: only lines from then on: an aware datetime or an RFC 3339 string.
            timestamps: prefix each line with its RFC 3339 time (nanoseconds).
            tail_lines: only the last lines.
            limit_bytes: at most this many bytes (the last line may be cut).
            follow: keep streaming new lines until the container stops (the server ends the
                stream) or the caller stops.
            timeout: an idle timeout in seconds: when no data arrives for this long, the
                iteration ends quietly (kr8s raises APITimeoutError). None: no limit.

        Returns:
            A `LogLines` iterator; the request is sent on the first line. Leaving the loop
            early closes it at once; ``async with pod.open_logs(...) as lines`` (or
            ``contextlib.aclosing``) closes it at a known point.

        Raises:
            ValueError: a naive ``since_time``.
            NotFoundError: (iterating) no such pod.
            BadRequestError: (iterating) no such container, none named for a pod with several,
                not started yet, or no previous instance.
            InvalidError: (iterating) options the server refuses (``tail_lines=-1``...).

        Cancellation:
            Iterating is safe: a cancelled ``__anext__`` closes the request and ends the
            iteration.
        """
        params = log_params(
            container=container,
            pretty=pretty,
            previous=previous,
            since_seconds=since_seconds,
            since_time=since_time,
            timestamps=timestamps,
            tail_lines=tail_lines,
            limit_bytes=limit_bytes,
            follow=follow,
        )
        return LogLines(self, params, idle_timeout=timeout)

    @asynccontextmanager
    async def open_logs(self, **kwargs: Any) -> AsyncIterator[LogLines]:
        """``async with pod.open_logs(follow=True) as lines: async for line in lines:``: the
        arguments of `logs`; the request is sent on entry (so its errors are raised there) and
        closed on exit.

        Cancellation:
            Safe at every phase; the request is closed.
        """
        async with self.logs(**kwargs) as lines:
            yield lines


class _PrefixedLines:
    """The lines of several pods' logs one after the other, prefixed (non-follow ``all_pods``)."""

    __slots__ = ("_current", "_prefix", "_rest")

    def __init__(self, parts: list[tuple[str, LogLines]]) -> None:
        self._rest = parts[::-1]
        self._current: LogLines | None = None
        self._prefix = ""

    def __aiter__(self) -> _PrefixedLines:
        return self

    async def __anext__(self) -> str:
        while True:
            if self._current is None:
                if not self._rest:
                    raise StopAsyncIteration
                self._prefix, self._current = self._rest.pop()
            try:
                line = await anext(self._current)
            except StopAsyncIteration:
                self._current = None
                continue
            except BaseException:
                await self.aclose()
                raise
            return self._prefix + line

    async def aclose(self) -> None:
        """Close every pod's stream.

        Cancellation:
            Each close is shielded and bounded.
        """
        current, rest = self._current, self._rest
        self._current, self._rest = None, []
        for _, lines in ([("", current)] if current else []) + rest:
            await lines.aclose()


class _WorkloadLines:
    """What `WorkloadLogs.logs` returns: picks the pod(s) on the first line, then reads."""

    __slots__ = ("_inner", "_make")

    def __init__(self, make: Any) -> None:
        self._make = make
        self._inner: LogLines | _PrefixedLines | None = None

    def __aiter__(self) -> _WorkloadLines:
        return self

    async def __anext__(self) -> str:
        if self._inner is None:
            if self._make is None:
                raise StopAsyncIteration
            make, self._make = self._make, None
            self._inner = await make()
        return await anext(self._inner)

    async def aclose(self) -> None:
        """Stop: close the stream if one is open.

        Cancellation:
            As `LogLines.aclose`.
        """
        self._make = None
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()


class WorkloadLogs(APIObject):
    """``Deployment.logs`` / ``Job.logs`` (and ``open_logs``): the logs of the pod kubectl picks,
    or of every pod."""

    __slots__ = ()

    async def _log_pods(self, pod_timeout: float) -> list[Pod]:
        """The workload's pods, most active first (waits for one, up to ``pod_timeout``)."""
        from kr8s_trio._objects._core_v1 import pods_selected_by
        from kr8s_trio._objects._query import poll

        if not (self._raw.get("spec") or {}).get("selector"):
            await self.refresh()
        selector = (self._raw.get("spec") or {}).get("selector")

        async def fetch() -> list[Pod] | None:
            return await pods_selected_by(self, selector) or None

        pods = await poll(fetch, pod_timeout)
        if pods is not None:
            return sorted(pods, key=lambda p: pod_sort_key(p.raw))
        message = f"no pods of {self.kind} {self.name!r} appeared within {pod_timeout:g} s"
        raise NotFoundError({"code": 404, "reason": "NotFound", "message": message})

    def _pod_lines(
        self, pod: Pod, container: str | None, timeout: float | None, kwargs: dict[str, Any]
    ) -> tuple[str, LogLines]:
        name = container if container is not None else default_container(pod.raw)
        prefix = f"[pod/{pod.name}/{name}] "
        return prefix, pod.logs(container=name, timeout=timeout, **kwargs)

    def logs(
        self,
        container: str | None = None,
        pretty: bool | str | None = None,
        previous: bool = False,
        since_seconds: float | datetime.timedelta | None = None,
        since_time: datetime.datetime | str | None = None,
        timestamps: bool = False,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
        follow: bool = False,
        timeout: float | None = None,
        *,
        all_pods: bool = False,
        pod_timeout: float = POD_TIMEOUT,
    ) -> AsyncIterator[str]:
        """The log of the pod ``kubectl logs <kind>/<name>`` picks, line by line.

        The pod: the first of the pods ``spec.selector`` matches, most active first as kubectl
        sorts them (on a node; Running; ready; ready longest; fewest restarts; oldest). The
        container: ``container``, else the pod's ``kubectl.kubernetes.io/default-container``,
        else its first (kubectl's default).

        Args:
            container ... timeout: as `Pod.logs` (applied to each pod).
            all_pods: every pod instead, one after the other, each line prefixed
                ``[pod/<pod>/<container>] ``. With ``follow``, use `open_logs` (the pods are
                read concurrently there).
            pod_timeout: how long to wait for a pod to exist (kubectl's
                ``--pod-running-timeout``, 20 s).

        Raises:
            ValueError: ``all_pods`` with ``follow`` (use `open_logs`).
            NotFoundError: (iterating) no pod appeared within ``pod_timeout``.
            APIError: (iterating) as `Pod.logs`.

        Cancellation:
            As `Pod.logs`; while waiting for a pod, nothing is left behind.
        """
        if all_pods and follow:
            raise ValueError("all_pods with follow reads pods concurrently: use open_logs")
        kwargs: dict[str, Any] = {
            "pretty": pretty,
            "previous": previous,
            "since_seconds": since_seconds,
            "since_time": since_time,
            "timestamps": timestamps,
            "tail_lines": tail_lines,
            "limit_bytes": limit_bytes,
            "follow": follow,
        }
        log_params(**kwargs)  # a naive since_time fails here, not on the first line

        async def make() -> LogLines | _PrefixedLines:
            pods = await self._log_pods(pod_timeout)
            if not all_pods:
                return self._pod_lines(pods[0], container, timeout, kwargs)[1]
            return _PrefixedLines([self._pod_lines(p, container, timeout, kwargs) for p in pods])

        return _WorkloadLines(make)

    @asynccontextmanager
    async def open_logs(
        self,
        container: str | None = None,
        *,
        all_pods: bool = False,
        pod_timeout: float = POD_TIMEOUT,
        timeout: float | None = None,  # noqa: ASYNC109 (kr8s's signature)
        **kwargs: Any,
    ) -> AsyncIterator[AsyncIterator[str]]:
        """``async with deploy.open_logs(follow=True) as lines: async for line in lines:``:
        the arguments of `logs`. The pod is picked and the request sent on entry; with
        ``all_pods`` every pod's log is read concurrently (follow included), lines interleaved
        as they arrive, each prefixed ``[pod/<pod>/<container>] ``; the iteration ends when
        every log has ended.

        Raises:
            As `logs` (on entry); with ``all_pods``, a pod's failure while reading ends the
            block with that error.

        Cancellation:
            Safe at every phase; every request is closed on exit.
        """
        log_params(**kwargs)
        pods = await self._log_pods(pod_timeout)
        if not all_pods:
            lines = self._pod_lines(pods[0], container, timeout, kwargs)[1]
            async with lines:
                yield lines
            return
        parts = [self._pod_lines(p, container, timeout, kwargs) for p in pods]
        try:
            for _, lines in parts:
                await lines.open()  # errors now, on entry
        except BaseException:
            for _, lines in parts:
                await lines.aclose()
            raise
        send, receive = trio.open_memory_channel[str](0)
        with unwrap_single_exception():
            async with trio.open_nursery() as nursery:

                async def pump(
                    prefix: str, lines: LogLines, send: trio.MemorySendChannel[str]
                ) -> None:
                    async with send, lines:
                        async for line in lines:
                            await send.send(prefix + line)

                async with send:
                    for prefix, lines in parts:
                        nursery.start_soon(pump, prefix, lines, send.clone())
                try:
                    yield receive
                finally:
                    nursery.cancel_scope.cancel()  # before closing: no pump sees it broken
                    receive.close()
