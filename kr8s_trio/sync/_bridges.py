"""The bridges `Portal.iterate` and `Portal.enter` return: an async iterable as a blocking
iterator with a bounded buffer, and an async context manager entered and exited in one portal
task (see `kr8s_trio.sync._portal` for the portal itself and what Ctrl-C does)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Generic, TypeVar

import trio

from kr8s_trio.sync._portal import CANCEL_TIMEOUT, Portal, _Job, _Loop

__all__ = ["PortalContextManager", "PortalIterator"]

T = TypeVar("T")

#: the marker a finished async side leaves in an iterator's buffer
_END: Any = object()


class PortalIterator(Iterator[T]):
    """An async iterable consumed from blocking code (made by `Portal.iterate`).

    A task in the portal iterates the async side and feeds a trio memory channel of
    ``buffer`` items; each `next` that finds the local buffer empty makes one cross-thread hop
    and takes every item waiting (at most ``batch``). The async side is thus never more than
    ``buffer + batch + 1`` items ahead of the consumer (the channel, the local buffer, and the
    one item the producer holds while it waits for room): backpressure, not unbounded memory.

    Exceptions from the async side are re-raised by `next` (after the items before them).

    Closing:
        `close`, leaving a ``with`` block over the iterator, and Ctrl-C during `next` cancel the
        async side in the loop thread (the async iterator sees `trio.Cancelled` and is
        ``aclose``-d) and wait for it, at most `CANCEL_TIMEOUT` seconds. Garbage collection
        (including ``break`` out of a ``for`` loop that held the only reference) cancels it
        without waiting. Once closed, `next` raises StopIteration.

    One consumer at a time: do not call `next` on the same iterator from two threads at once.
    """

    def __init__(
        self,
        portal: Portal,
        aiterable_factory: Callable[[], AsyncIterable[T]],
        *,
        buffer: int = 16,
        batch: int = 16,
        context: contextvars.Context | None = None,
        convert: Callable[[Any], T] | None = None,
    ) -> None:
        if buffer < 0 or batch < 1:
            raise ValueError("buffer must be >= 0 and batch >= 1")
        self._portal = portal
        self._factory = aiterable_factory
        self._context = context
        self._convert = convert
        self._buffer = buffer
        self._batch = batch
        self._items: list[T] = []
        self._closed = False
        self._loop: _Loop | None = None
        self._pump: _Job[None] | None = None
        self._receive: trio.MemoryReceiveChannel[T] | None = None
        self._pump_error: list[BaseException] = []

    def __iter__(self) -> PortalIterator[T]:
        return self

    def __enter__(self) -> PortalIterator[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __next__(self) -> T:
        if not self._items:
            if self._closed:
                raise StopIteration
            self._fill()
        if not self._items:
            raise StopIteration
        item = self._items.pop()
        if item is _END:  # the async side is finished: nothing to cancel any more
            self._closed = True
            raise StopIteration
        return item

    def _start(self) -> None:
        send, receive = trio.open_memory_channel[T](self._buffer)
        self._receive = receive
        factory = self._factory
        error = self._pump_error
        convert = self._convert

        async def pump() -> None:
            aiterator: AsyncIterator[T] | None = None
            async with send:
                try:
                    aiterator = factory().__aiter__()
                    while True:
                        try:
                            item = await aiterator.__anext__()
                        except StopAsyncIteration:
                            break
                        await send.send(item if convert is None else convert(item))
                except trio.Cancelled:
                    raise
                except BaseException as exc:  # re-raised by the consumer's next()
                    error.append(exc)
                finally:
                    aclose = getattr(aiterator, "aclose", None)
                    if aclose is not None:
                        with trio.CancelScope(shield=True), trio.move_on_after(CANCEL_TIMEOUT):
                            await aclose()

        self._pump = _Job(pump)
        self._loop = self._portal._submit(self._pump, self._context)

    def _fill(self) -> None:
        """One hop: wait for at least one item (or the end) and take what is waiting."""
        if self._pump is None:
            self._start()
        receive = self._receive
        assert receive is not None
        batch = self._batch
        errors = self._pump_error

        async def fetch() -> list[T]:
            items: list[T] = []
            try:
                items.append(await receive.receive())
                while len(items) < batch:
                    items.append(receive.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                pass
            if not items:  # the end
                if errors:
                    raise errors[0]
                items.append(_END)
            return items

        try:
            items = self._portal.call(fetch)
        except BaseException:
            self.close()
            raise
        items.reverse()
        self._items = items

    def close(self) -> None:
        """Cancel the async side (see the class docstring) and wait for it to finish; items
        still buffered are dropped. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._items = []
        loop, pump = self._loop, self._pump
        if loop is not None and pump is not None:
            self._portal._cancel(loop, pump)
            if not self._portal.in_portal_thread():
                pump.done.wait(CANCEL_TIMEOUT)

    def __del__(self) -> None:
        # never block in a finalizer (it may run in the portal thread): cancel only
        if not getattr(self, "_closed", True):
            self._closed = True
            loop, pump = self._loop, self._pump
            if loop is not None and pump is not None:
                self._portal._cancel(loop, pump)


class PortalContextManager(Generic[T]):
    """An async context manager used from blocking code (made by `Portal.enter`).

    One task in the portal awaits ``__aenter__``, hands its value to ``__enter__``, waits while
    the ``with`` body runs, then awaits ``__aexit__`` with the body's exception (trio needs both
    in the same task: nurseries and cancel scopes opened by ``__aenter__`` stay valid while the
    body runs). ``__aexit__``'s result (suppress or not) and exceptions come back unchanged.

    Ctrl-C:
        A KeyboardInterrupt while waiting in ``__enter__`` or ``__exit__`` cancels the task
        (``__aenter__``/``__aexit__`` see `trio.Cancelled`), waits up to `CANCEL_TIMEOUT`
        seconds for it and is re-raised. One raised by the body itself goes to ``__aexit__``
        like any exception.

    Not reentrant: each ``with`` needs its own `Portal.enter`. Calling ``__enter__`` without
    ever calling ``__exit__`` leaves the task waiting until the portal stops.
    """

    def __init__(
        self,
        portal: Portal,
        async_cm: AbstractAsyncContextManager[Any],
        *,
        context: contextvars.Context | None = None,
        convert: Callable[[Any], T] | None = None,
    ) -> None:
        self._portal = portal
        self._cm = async_cm
        self._context = context
        self._convert = convert
        self._entered = threading.Event()
        self._value: tuple[T] | None = None
        self._exit_info: tuple[Any, Any, Any] = (None, None, None)
        self._exit_requested: trio.Event | None = None
        self._job: _Job[bool | None] | None = None
        self._loop: _Loop | None = None

    async def _hold(self) -> bool | None:
        exit_requested = self._exit_requested = trio.Event()
        try:
            value = await self._cm.__aenter__()
            self._value = (value if self._convert is None else self._convert(value),)
        finally:
            self._entered.set()  # entered, or failed (then the job's done is set too)
        try:
            await exit_requested.wait()
        except BaseException as exc:  # cancelled while the body ran (Ctrl-C in __exit__...)
            if await self._cm.__aexit__(type(exc), exc, exc.__traceback__):
                return None
            raise
        return await self._cm.__aexit__(*self._exit_info)

    def __enter__(self) -> T:
        if self._job is not None:
            raise RuntimeError("PortalContextManager is not reentrant")
        job = self._job = _Job(self._hold)
        loop = self._loop = self._portal._ensure()
        try:
            self._portal._spawn(loop, job, self._context)
            self._entered.wait()
        except BaseException:
            self._portal._cancel(loop, job)
            job.done.wait(CANCEL_TIMEOUT)
            raise
        if self._value is None:  # __aenter__ failed
            job.done.wait()
            job.result()
            raise AssertionError("unreachable")  # pragma: no cover
        return self._value[0]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        job, loop, exit_requested = self._job, self._loop, self._exit_requested
        assert job is not None
        assert loop is not None
        assert exit_requested is not None
        self._exit_info = (exc_type, exc, tb)
        try:
            loop.token.run_sync_soon(exit_requested.set)
        except trio.RunFinishedError:
            job.fail(RuntimeError("the sync portal is stopped"))
        try:
            suppress_ = self._portal._wait(loop, job)
        except BaseException as raised:
            if raised is exc:  # __aexit__ let the body's exception through
                return False
            raise
        finally:
            self._exit_info = (None, None, None)
        return bool(suppress_)
