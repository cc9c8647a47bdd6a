"""Streams on objects: exec, open_exec, attach and open_attach on a pod (`PodExec`); the same on a
Service or Deployment, through one of its ready pods (`ReadyPodExec`).

Before starting, a pod is waited for until it runs (``status.phase`` Running, or Ready), with a
bound (``ready_timeout``): the wait watches the pod (kr8s polls ``ready()`` every 0.1 s, for
ever). A pod that already ended is not waited for: the server's refusal says why.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, aclosing
from typing import IO, TYPE_CHECKING, Any

import trio

from kr8s_trio._core._objectedits import pod_is_ready
from kr8s_trio._core._selectorbuild import label_selector_query
from kr8s_trio._exec import CompletedExec, ExecProcess, StdinSource, open_process, run_process
from kr8s_trio._objects._base import APIObject

if TYPE_CHECKING:
    from kr8s_trio._objects._core_v1 import Pod

__all__ = ["DEFAULT_READY_TIMEOUT", "PodExec", "ReadyPodExec"]

#: how long exec and attach wait for a pod to run (seconds)
DEFAULT_READY_TIMEOUT = 60.0

_DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


def _runs(raw: dict[str, Any]) -> bool:
    phase = (raw.get("status") or {}).get("phase")
    return phase in ("Running", "Succeeded", "Failed") or pod_is_ready(raw)


def _default_container(raw: dict[str, Any]) -> str | None:
    """kubectl's choice: the ``default-container`` annotation, else the first container."""
    annotations = (raw.get("metadata") or {}).get("annotations") or {}
    if annotations.get(_DEFAULT_CONTAINER):
        return str(annotations[_DEFAULT_CONTAINER])
    containers = (raw.get("spec") or {}).get("containers") or []
    return str(containers[0].get("name")) if containers else None


class PodExec(APIObject):
    """exec and attach on a pod (mixed into `Pod`)."""

    __slots__ = ()

    async def _wait_running(self, ready_timeout: float | None) -> None:
        from kr8s_trio._objects._waiting import wait_until

        await wait_until(self, _runs, timeout=ready_timeout, what="running")

    async def exec(
        self,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: StdinSource | None = None,
        stdout: IO[bytes] | None = None,
        stderr: IO[bytes] | None = None,
        check: bool = True,
        capture_output: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109 (kr8s's signature)
        tty: bool = False,
        ready_timeout: float | None = DEFAULT_READY_TIMEOUT,
    ) -> CompletedExec:
        """Run ``command`` in the pod, to completion (``kubectl exec``).

        Args:
            command: the argv (no shell: ``["sh", "-c", "..."]`` for one).
            container: the container (default: kubectl's default container, else the first).
            stdin: sent to the command, then closed: bytes, str (UTF-8), a binary or text file,
                or an async iterable of bytes or str.
            stdout, stderr: binary files to also write the output to, as it arrives (an
                async ``write`` is awaited).
            check: raise `ExecError` when the exit code is non-zero.
            capture_output: keep the output in the result.
            timeout: seconds for the whole command (None: no limit).
            tty: ask for a terminal (stderr then joins stdout).
            ready_timeout: seconds to wait for the pod to run (None: no limit).

        Returns:
            ``CompletedExec(args, stdout, stderr, returncode)``.

        Raises:
            ExecError: ``check`` and a non-zero exit (``.exit_code``, ``.status``).
            APIError: refused (no pod, bad container, forbidden), or the command could not
                run (not found: an ``InternalError``).
            TimeoutError: the pod did not run within ``ready_timeout``, or the command did not
                finish within ``timeout``.
            LocalProtocolError: stdin given and the server only speaks v4 (cannot end stdin).

        Cancellation:
            Safe at every phase; the session is closed and the remote command stopped.
        """
        api = await self._client()
        await self._wait_running(ready_timeout)
        return await run_process(
            api,
            self._namespace_for(api),
            self.name,
            command,
            container=container or _default_container(self._raw),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            check=check,
            capture_output=capture_output,
            timeout=timeout,
            tty=tty,
        )

    @contextlib.asynccontextmanager
    async def _open(
        self, subresource: str, command: Sequence[str], ready_timeout: float | None, **kw: Any
    ) -> AsyncIterator[ExecProcess]:
        api = await self._client()
        await self._wait_running(ready_timeout)
        kw["container"] = kw["container"] or _default_container(self._raw)
        async with open_process(
            api, self._namespace_for(api), self.name, command, subresource=subresource, **kw
        ) as proc:
            yield proc

    def open_exec(
        self,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
        ready_timeout: float | None = DEFAULT_READY_TIMEOUT,
    ) -> AbstractAsyncContextManager[ExecProcess]:
        """Start ``command`` and interact with it: ``async with pod.open_exec(cmd) as proc``.

        ``proc.stdin`` (with ``stdin=True``) is a trio SendStream whose ``aclose()`` ends the
        command's stdin; ``proc.stdout`` / ``proc.stderr`` are ReceiveStreams (``b""`` at the
        end); ``await proc.resize(w, h)`` sizes the terminal (``tty=True``); ``await
        proc.wait()`` returns the exit code. Read the streams you ask for: unread output holds
        the command back. Leaving the block stops the command if it still runs.

        Raises:
            APIError, TimeoutError: as `exec`.

        Cancellation:
            Safe at every phase; the session is closed.
        """
        return self._open(
            "exec",
            command,
            ready_timeout,
            container=container,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            tty=tty,
        )

    async def attach(
        self,
        *,
        container: str | None = None,
        stdin: StdinSource | None = None,
        stdout: IO[bytes] | None = None,
        stderr: IO[bytes] | None = None,
        capture_output: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109 (as exec's)
        tty: bool = False,
        ready_timeout: float | None = DEFAULT_READY_TIMEOUT,
    ) -> CompletedExec:
        """Attach to the container's main process until it ends (``kubectl attach``): what it
        writes from now on, and ``stdin`` sent to it (the container needs ``stdin: true``).

        Raises:
            APIError, TimeoutError: as `exec`.

        Cancellation:
            Safe; the session is closed (the process runs on).
        """
        api = await self._client()
        await self._wait_running(ready_timeout)
        return await run_process(
            api,
            self._namespace_for(api),
            self.name,
            (),
            subresource="attach",
            container=container or _default_container(self._raw),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            check=False,
            capture_output=capture_output,
            timeout=timeout,
            tty=tty,
        )

    def open_attach(
        self,
        *,
        container: str | None = None,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
        ready_timeout: float | None = DEFAULT_READY_TIMEOUT,
    ) -> AbstractAsyncContextManager[ExecProcess]:
        """Attach to the container's main process and interact with it, as `open_exec`.

        Cancellation:
            Safe at every phase; the session is closed (the process runs on).
        """
        return self._open(
            "attach",
            (),
            ready_timeout,
            container=container,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            tty=tty,
        )


class ReadyPodExec(APIObject):
    """exec and attach on a Service or Deployment: through one of its ready pods, chosen at
    random, waiting (event driven, bounded by ``ready_timeout``) for one to be ready."""

    __slots__ = ()

    async def wait_ready_pod(self, timeout: float | None = DEFAULT_READY_TIMEOUT) -> Pod:  # noqa: ASYNC109
        """One ready pod of this object (at random), waiting for one up to ``timeout`` s.

        Raises:
            TimeoutError: none was ready in time.

        Cancellation:
            Safe; the watch is closed.
        """
        from kr8s_trio._objects._core_v1 import Pod
        from kr8s_trio._watch import watch_events

        with trio.move_on_after(float("inf") if timeout is None else timeout):
            await self.refresh()
            # the kinds mixing this in (Service, Deployment) have ready_pods
            pods: list[Pod] = await self.ready_pods()  # type: ignore[attr-defined]
            if pods:
                return random.choice(pods)
            api = await self._client()
            selector = (self._raw.get("spec") or {}).get("selector")
            if selector:
                events = watch_events(
                    api,
                    version="v1",
                    plural="pods",
                    namespace=self._namespace_for(api),
                    label_selector=label_selector_query(selector),
                )
                async with aclosing(events):
                    async for event in events:
                        if event.type in ("ADDED", "MODIFIED") and pod_is_ready(event.object):
                            return Pod(event.object, api=api)
            else:
                await trio.sleep_forever()  # selects nothing: nothing will become ready
        raise TimeoutError(f"{self.kind} {self.name!r} had no ready pod within {timeout} s")

    async def exec(self, command: Sequence[str], **kwargs: Any) -> CompletedExec:
        """`Pod.exec` on a ready pod (see `wait_ready_pod`; ``ready_timeout`` bounds the wait).

        Cancellation:
            As `Pod.exec`.
        """
        pod = await self.wait_ready_pod(kwargs.get("ready_timeout", DEFAULT_READY_TIMEOUT))
        return await pod.exec(command, **kwargs)

    @contextlib.asynccontextmanager
    async def open_exec(self, command: Sequence[str], **kwargs: Any) -> AsyncIterator[ExecProcess]:
        """`Pod.open_exec` on a ready pod (see `wait_ready_pod`).

        Cancellation:
            As `Pod.open_exec`.
        """
        pod = await self.wait_ready_pod(kwargs.get("ready_timeout", DEFAULT_READY_TIMEOUT))
        async with pod.open_exec(command, **kwargs) as proc:
            yield proc
