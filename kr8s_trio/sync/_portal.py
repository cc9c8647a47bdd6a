"""The sync portal: one trio loop in a daemon thread, and the bridges blocking code uses to run
async code in it.

`portal()` returns the process-wide `Portal`. Its thread ("kr8s_trio-sync") runs ``trio.run``
hosting `kr8s_trio.open_registry` (so clients made by ``api()`` through the portal are cached and
shared by every caller thread) and a nursery in which each bridged operation runs in a task
with its own cancel scope (tasks that finished a job wait for the next one: cheaper than a
new task per call). The thread starts lazily on first use (a handshake: the loop
publishes its TrioToken and sets a `threading.Event`; a lock makes concurrent first callers start
one thread) and is stopped at interpreter exit.

The bridges are built on ``TrioToken.run_sync_soon`` and `threading.Event`, not on
``trio.from_thread.run``, so they work from any thread: a plain one, one running asyncio, and
one that is itself inside ``trio.run`` (a pytest-trio test calling sync code). Calling them
from the portal thread itself raises `RuntimeError` (it would deadlock).

- `Portal.call`: run a coroutine function in the portal and block for its result.
- `Portal.iterate`: an async iterable as an iterator, with a bounded buffer.
- `Portal.enter`: an async context manager as a sync one (entered and exited in one task).

Ctrl-C (or any `BaseException` raised in the waiting thread, e.g. by a signal handler) while a
caller is blocked cancels the operation's task, waits for it to finish (at most
`CANCEL_TIMEOUT` seconds) and re-raises; the portal stays usable.
"""

from __future__ import annotations

import atexit
import contextvars
import threading
import weakref
from collections.abc import AsyncIterable, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, suppress
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

import trio

from kr8s_trio import Registry, open_registry

if TYPE_CHECKING:
    from kr8s_trio.sync._bridges import PortalContextManager, PortalIterator

__all__ = ["CANCEL_TIMEOUT", "Portal", "portal"]

T = TypeVar("T")
P = ParamSpec("P")

#: Seconds a caller waits for a cancelled operation (Ctrl-C, `PortalIterator.close`) to finish
#: in the loop thread before giving up on it and going on.
CANCEL_TIMEOUT = 5.0
#: Seconds `Portal.stop` waits for the loop thread to end.
STOP_TIMEOUT = 5.0
THREAD_NAME = "kr8s_trio-sync"


class _Done:
    """A one-shot flag for threads, on a bare lock (cheaper than `threading.Event`, whose
    Condition costs a lock allocation per wait): held until `set`; `wait` acquires and
    releases it, so any number of waits succeed once it is set. Waiting is interruptible by
    Ctrl-C, as `threading.Event.wait` is."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def set(self) -> None:
        with suppress(RuntimeError):  # already set
            self._lock.release()

    def is_set(self) -> bool:
        return not self._lock.locked()

    def wait(self, timeout: float | None = None) -> bool:
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        self._lock.release()
        return True


class _Job(Generic[T]):
    """One operation running as a task in the portal: its cancel scope and its result slot.

    The loop thread writes the result and sets ``done``; the caller thread reads it after
    ``done`` is set. ``cancel_in_loop`` runs in the loop thread only.
    """

    def __init__(self, afn: Callable[[], Awaitable[T]]) -> None:
        self._afn = afn
        self.done = _Done()
        self._value: tuple[T] | None = None
        self._error: BaseException | None = None
        self._scope: trio.CancelScope | None = None
        self._cancel_requested = False
        self.cancelled = False
        #: handed to the loop (set in the loop thread, before any cancel_in_loop for it runs)
        self.spawned = False

    def cancel_in_loop(self) -> None:
        self._cancel_requested = True
        if self._scope is not None:
            self._scope.cancel()
        elif not self.spawned:  # the caller was interrupted before handing the job over
            self.cancelled = True
            self.fail(RuntimeError("the operation was cancelled"))

    async def run(self) -> None:
        try:
            with trio.CancelScope() as scope:
                self._scope = scope
                if self._cancel_requested:
                    scope.cancel()
                try:
                    self._value = (await self._afn(),)
                except trio.Cancelled:
                    raise
                except BaseException as exc:  # handed to the caller thread
                    self._error = exc
            if scope.cancelled_caught:
                self.cancelled = True
                self._error = RuntimeError("the operation was cancelled")
        except trio.Cancelled:
            self.cancelled = True
            self._error = RuntimeError("the sync portal was stopped")
            raise
        finally:
            self._scope = None
            self.done.set()

    def fail(self, error: BaseException) -> None:
        """Finish without running (the portal is not there to run it)."""
        self._error = error
        self.done.set()

    def result(self) -> T:
        """The value, or raise the exception (itself, not wrapped). Only after ``done``."""
        error = self._error
        if error is not None:
            try:
                raise error
            finally:
                del error
        assert self._value is not None, "result() before done"
        return self._value[0]


class _Worker:
    """A task of the portal that runs jobs one after another (see `_work`)."""

    __slots__ = ("job", "task")

    def __init__(self, task: trio.lowlevel.Task) -> None:
        self.task = task
        self.job: _Job[Any] | None = None


#: idle workers kept for the next jobs (more concurrent jobs spawn more tasks)
MAX_IDLE_WORKERS = 8


async def _work(loop: _Loop, job: _Job[Any], reusable: bool) -> None:
    """Run ``job``, then, if ``reusable``, wait in the loop's idle list for the next one.

    Handing a job to an idle task (``reschedule``) costs less than starting a task per job,
    which is most of a bridged call's cost in the loop thread. Only tasks in the portal's own
    context are reused: a job for another context (a sync ``open_registry`` block) gets a task
    of its own."""
    worker = _Worker(trio.lowlevel.current_task())
    current: _Job[Any] | None = job
    while current is not None:
        await current.run()
        if not reusable or len(loop.idle) >= MAX_IDLE_WORKERS:
            return
        worker.job = None
        loop.idle.append(worker)

        def abort(_: Any) -> trio.lowlevel.Abort:
            with suppress(ValueError):
                loop.idle.remove(worker)
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)
        current = worker.job


class _Loop:
    """What the running loop publishes to callers (set once, before the handshake event)."""

    def __init__(
        self,
        token: trio.lowlevel.TrioToken,
        nursery: trio.Nursery,
        context: contextvars.Context,
        registry: Registry,
        stop_scope: trio.CancelScope,
    ) -> None:
        self.token = token
        self.nursery = nursery
        self.context = context
        self.registry = registry
        self.stop_scope = stop_scope
        #: workers waiting for a job (touched in the loop thread only)
        self.idle: list[_Worker] = []


class Portal:
    """A trio loop in a daemon thread, for blocking callers (see the module docstring).

    Use the process-wide instance from `portal`. Every method may be called from any number of
    threads at once, except from the portal thread itself (`RuntimeError`: it would deadlock).
    """

    def __init__(self, *, name: str = THREAD_NAME) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: _Loop | None = None
        self._error: BaseException | None = None
        self._atexit_registered = False

    def __repr__(self) -> str:
        state = "running" if self._loop is not None else "stopped"
        return f"<Portal {self._name} {state}>"

    # -- the thread -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the loop thread is up (it starts on first use)."""
        return self._loop is not None

    @property
    def thread(self) -> threading.Thread | None:
        """The loop thread, or None before the first use (and after `stop`)."""
        return self._thread

    @property
    def registry(self) -> Registry:
        """The registry hosted by the portal (starts the portal). For inspection: use it only
        from code running in the portal."""
        return self._ensure().registry

    def in_portal_thread(self) -> bool:
        """Whether the caller is the portal's loop thread."""
        thread = self._thread
        return thread is not None and thread is threading.current_thread()

    def _ensure(self) -> _Loop:
        """The running loop, starting the thread on first use (the handshake)."""
        if self.in_portal_thread():
            raise RuntimeError(
                "a blocking kr8s_trio.sync call from the portal's own loop thread would deadlock;"
                " use the async API there"
            )
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._loop is None:
                self._start()
            assert self._loop is not None
            return self._loop

    def _start(self) -> None:
        started = threading.Event()
        self._error = None

        async def main() -> None:
            with trio.CancelScope() as stop_scope:
                async with open_registry() as registry, trio.open_nursery() as nursery:
                    self._loop = _Loop(
                        trio.lowlevel.current_trio_token(),
                        nursery,
                        contextvars.copy_context(),
                        registry,
                        stop_scope,
                    )
                    started.set()
                    await trio.sleep_forever()

        def target() -> None:
            try:
                trio.run(main)
            except BaseException as exc:  # kept for the next start's report
                self._error = exc
            finally:
                self._loop = None
                started.set()

        thread = threading.Thread(target=target, name=self._name, daemon=True)
        self._thread = thread
        thread.start()
        started.wait()
        if self._loop is None:
            thread.join()
            self._thread = None
            raise RuntimeError("the kr8s_trio sync portal failed to start") from self._error
        if not self._atexit_registered:
            atexit.register(_stop_at_exit, weakref.ref(self))
            self._atexit_registered = True

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Cancel everything running in the portal, close the registry's clients and join the
        thread (waiting at most ``timeout`` seconds). Registered with `atexit`. Blocked callers
        get `RuntimeError`; the next use starts a new loop (with a new registry)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            if thread is threading.current_thread():
                raise RuntimeError("the sync portal cannot stop itself from its own thread")
            with suppress(trio.RunFinishedError):
                loop.token.run_sync_soon(loop.stop_scope.cancel)
            thread.join(timeout)
            if not thread.is_alive():
                self._thread = None
                self._loop = None

    # -- jobs -------------------------------------------------------------------------------

    def _submit(self, job: _Job[Any], context: contextvars.Context | None = None) -> _Loop:
        """Start ``job`` as a task in the portal, in ``context`` (a copy of a context captured
        in the portal; default: the portal's own, inside its registry)."""
        loop = self._ensure()
        self._spawn(loop, job, context)
        return loop

    def _spawn(
        self, loop: _Loop, job: _Job[Any], context: contextvars.Context | None = None
    ) -> None:
        """Hand ``job`` to the loop (`_submit` once the loop is known). Callers wrap this and
        their wait in one ``try``: an interruption between the two must cancel the job too."""
        reusable = context is None
        spawn_context = loop.context if context is None else context

        def spawn() -> None:
            job.spawned = True
            if reusable and loop.idle:
                worker = loop.idle.pop()
                worker.job = job
                trio.lowlevel.reschedule(worker.task)
                return
            try:
                spawn_context.run(loop.nursery.start_soon, _work, loop, job, reusable)
            except RuntimeError as exc:  # the nursery is closing: the portal is stopping
                job.fail(RuntimeError("the sync portal is stopping"))
                del exc

        try:
            loop.token.run_sync_soon(spawn)
        except trio.RunFinishedError:
            job.fail(RuntimeError("the sync portal is stopped"))

    def _cancel(self, loop: _Loop, job: _Job[Any]) -> None:
        """Ask the loop to cancel ``job`` (does not block; safe in finalizers)."""
        with suppress(trio.RunFinishedError):
            loop.token.run_sync_soon(job.cancel_in_loop)

    def _wait(
        self,
        loop: _Loop,
        job: _Job[T],
        *,
        spawn: bool = False,
        context: contextvars.Context | None = None,
    ) -> T:
        """Block until ``job`` is done and return its result (after handing it to the loop, in
        ``context``, if ``spawn``: inside the same ``try``); an exception raised in this thread
        meanwhile (KeyboardInterrupt...) cancels the job, waits for it (bounded) and is
        re-raised."""
        try:
            if spawn:
                self._spawn(loop, job, context)
            job.done.wait()
        except BaseException:
            self._cancel(loop, job)
            job.done.wait(CANCEL_TIMEOUT)
            raise
        return job.result()

    # -- the bridges ------------------------------------------------------------------------

    def call(self, afn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``await afn(*args, **kwargs)`` in a new task in the portal and block for the
        result.

        The task runs inside the portal's registry, so ``kr8s_trio.api()`` there returns the
        client shared by every caller. An exception raised by ``afn`` is re-raised here as
        itself (not wrapped).

        Ctrl-C:
            A KeyboardInterrupt (or any exception) raised in this thread while it waits cancels
            the task, waits up to `CANCEL_TIMEOUT` seconds for it to finish and is re-raised;
            the portal stays usable. A second Ctrl-C during that wait stops the waiting (the
            task is still cancelled).

        Raises:
            RuntimeError: called from the portal thread, or the portal was stopped meanwhile.
        """
        return self.run(lambda: afn(*args, **kwargs))

    def run(
        self, thunk: Callable[[], Awaitable[T]], context: contextvars.Context | None = None
    ) -> T:
        """`call` for a thunk, in ``context`` (see `_submit`): ``await thunk()`` in a new task
        in the portal, blocking for the result (Ctrl-C as in `call`)."""
        return self._wait(self._ensure(), _Job(thunk), spawn=True, context=context)

    def iterate(
        self,
        aiterable_factory: Callable[[], AsyncIterable[T]],
        *,
        buffer: int = 16,
        batch: int = 16,
        context: contextvars.Context | None = None,
        convert: Callable[[Any], T] | None = None,
    ) -> PortalIterator[T]:
        """An iterator over the async iterable ``aiterable_factory()``, which is called (and
        iterated) in the portal, in ``context``, when the first item is asked for; ``convert``
        is applied to each item in the portal.

        See `PortalIterator` for buffering, closing and Ctrl-C.
        """
        from kr8s_trio.sync._bridges import PortalIterator

        return PortalIterator(
            self, aiterable_factory, buffer=buffer, batch=batch, context=context, convert=convert
        )

    def enter(
        self,
        async_cm: AbstractAsyncContextManager[Any],
        *,
        context: contextvars.Context | None = None,
        convert: Callable[[Any], T] | None = None,
    ) -> PortalContextManager[T]:
        """A sync context manager over ``async_cm`` (entered in ``context``; ``convert`` applied
        to the value it yields); see `PortalContextManager`."""
        from kr8s_trio.sync._bridges import PortalContextManager

        return PortalContextManager(self, async_cm, context=context, convert=convert)


def _stop_at_exit(ref: weakref.ReferenceType[Portal]) -> None:
    instance = ref()
    if instance is not None:
        instance.stop()


_portal = Portal()


def portal() -> Portal:
    """The process-wide `Portal` (its thread starts on first use, stops at interpreter exit)."""
    return _portal
