"""The sync portal (kr8s_trio.sync._portal): the loop thread and its call / iterate / enter
bridges. No sleeps: every wait is on an event (or trio.testing.wait_all_tasks_blocked in the
portal)."""

from __future__ import annotations

import asyncio
import gc
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import pytest
import trio
import trio.testing

import kr8s_trio
from kr8s_trio.sync._bridges import PortalIterator
from kr8s_trio.sync._portal import Portal, portal
from kr8s_trio.testing import FakeClusterThread

WAIT = 5  # seconds: only a bound for events that are expected to be set


@pytest.fixture
def p() -> Iterator[Portal]:
    """A private portal per test, stopped (and checked stopped) afterwards."""
    instance = Portal()
    yield instance
    thread = instance.thread
    instance.stop()
    assert not instance.running
    assert thread is None or not thread.is_alive()


async def double(x: int) -> int:
    await trio.lowlevel.checkpoint()
    return 2 * x


# -- the thread ----------------------------------------------------------------------------


def test_portal_is_process_wide() -> None:
    assert portal() is portal()
    assert isinstance(portal(), Portal)


def test_portal_starts_lazily_one_thread(p: Portal) -> None:
    assert not p.running
    assert p.thread is None
    go = threading.Barrier(8)

    def first_use() -> threading.Thread | None:
        go.wait()
        p.call(trio.lowlevel.checkpoint)
        return p.thread

    with ThreadPoolExecutor(8) as pool:
        threads = set(pool.map(lambda _: first_use(), range(8)))
    assert len(threads) == 1
    (thread,) = threads
    assert thread is not None
    assert thread.name == "kr8s_trio-sync"
    assert thread.daemon
    assert p.running


def test_portal_stop_and_restart(p: Portal) -> None:
    assert p.call(double, 1) == 2
    first = p.thread
    assert first is not None
    p.stop()
    assert not first.is_alive()
    assert not p.running
    assert p.call(double, 2) == 4  # a new loop
    assert p.thread is not first


def test_portal_stop_fails_blocked_callers(p: Portal) -> None:
    started = threading.Event()
    outcome: list[BaseException] = []

    async def hang() -> None:
        started.set()
        await trio.sleep_forever()

    def blocked() -> None:
        try:
            p.call(hang)
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=blocked)
    caller.start()
    assert started.wait(WAIT)
    p.stop()
    caller.join(WAIT)
    assert not caller.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], RuntimeError)
    assert "stopped" in str(outcome[0])


_AT_EXIT = """
import atexit, threading, trio
from kr8s_trio.sync._portal import portal

# registered before the portal starts, so it runs after the portal's own atexit stop
atexit.register(lambda: print("after stop:", portal().running, flush=True))

started = threading.Event()

async def hang():
    started.set()
    try:
        await trio.sleep_forever()
    finally:
        print("task finally", flush=True)

def caller():
    try:
        portal().call(hang)
    except RuntimeError:
        pass

threading.Thread(target=caller, daemon=True).start()
started.wait()
print(portal().call(trio.lowlevel.checkpoint), flush=True)
"""


def test_portal_stops_at_interpreter_exit() -> None:
    # a task still hangs in the portal when the script ends: the atexit stop cancels it,
    # joins the thread, and the process exits promptly and cleanly
    done = subprocess.run(
        [sys.executable, "-c", _AT_EXIT], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["None", "task finally", "after stop: False"]
    assert done.stderr == ""


def test_portal_call_from_portal_thread_raises(p: Portal) -> None:
    async def reenter() -> int:
        return p.call(double, 1)

    with pytest.raises(RuntimeError, match="deadlock"):
        p.call(reenter)

    async def iterate_inside() -> int:
        return next(p.iterate(_count))

    with pytest.raises(RuntimeError, match="deadlock"):
        p.call(iterate_inside)

    async def enter_inside() -> None:
        with p.enter(_Recorder()):
            pass

    with pytest.raises(RuntimeError, match="deadlock"):
        p.call(enter_inside)
    assert p.call(double, 3) == 6  # still usable


# -- call ----------------------------------------------------------------------------------


def test_call_returns_value_and_kwargs(p: Portal) -> None:
    async def combine(a: int, *, b: str) -> str:
        await trio.lowlevel.checkpoint()
        return f"{a}{b}"

    assert p.call(double, 21) == 42
    assert p.call(combine, 1, b="x") == "1x"


def test_call_reraises_the_exception_itself(p: Portal) -> None:
    error = KeyError("nope")

    async def fail() -> None:
        await trio.lowlevel.checkpoint()
        raise error

    with pytest.raises(KeyError) as info:
        p.call(fail)
    assert info.value is error
    assert p.call(double, 1) == 2


def test_call_runs_in_the_portal_thread(p: Portal) -> None:
    async def where() -> threading.Thread:
        await trio.lowlevel.checkpoint()
        return threading.current_thread()

    assert p.call(where) is p.thread
    assert p.thread is not threading.current_thread()


async def test_call_from_inside_a_trio_loop(p: Portal) -> None:
    # a pytest-trio test: this thread is inside trio.run (trio.from_thread.run would refuse)
    assert p.call(double, 5) == 10
    with pytest.raises(ValueError, match="x"):
        p.call(_raise_value_error, "x")
    assert list(p.iterate(_count)) == list(range(5))


def test_call_from_inside_an_asyncio_loop(p: Portal) -> None:
    async def main() -> tuple[int, list[int]]:
        return p.call(double, 7), list(p.iterate(_count))

    assert asyncio.run(main()) == (14, list(range(5)))


def test_call_from_8_threads_concurrently(p: Portal) -> None:
    arrived = 0
    everyone = trio.Event()

    async def rendezvous(i: int) -> int:
        # returns only once all 8 tasks are in the portal at once
        nonlocal arrived
        arrived += 1
        if arrived == 8:
            everyone.set()
        with trio.fail_after(WAIT):
            await everyone.wait()
        return i

    def worker(i: int) -> list[int]:
        out = [p.call(rendezvous, i)]
        out += [p.call(double, i + k) for k in range(20)]
        out += list(p.iterate(_count))
        return out

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(worker, range(8)))
    for i, out in enumerate(results):
        assert out == [i, *(2 * (i + k) for k in range(20)), *range(5)]


def test_call_shares_the_registry(
    fake_cluster_thread: FakeClusterThread, p: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(fake_cluster_thread.kubeconfig_path))
    first = p.call(kr8s_trio.api)
    assert p.call(kr8s_trio.api) is first
    with ThreadPoolExecutor(4) as pool:
        others = list(pool.map(lambda _: p.call(kr8s_trio.api), range(4)))
    assert all(other is first for other in others)
    assert p.registry.clients == [first]
    version = p.call(kr8s_trio.version)
    assert "gitVersion" in version
    assert p.call(first.version) == version


def test_call_keyboard_interrupt_cancels_the_task(p: Portal) -> None:
    assert threading.current_thread() is threading.main_thread()
    started = threading.Event()
    cancelled = threading.Event()

    async def hang() -> None:
        started.set()
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            cancelled.set()
            raise

    def interrupt() -> None:
        assert started.wait(WAIT)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    helper = threading.Thread(target=interrupt)
    try:
        helper.start()
        with pytest.raises(KeyboardInterrupt):
            p.call(hang)
    finally:
        helper.join()
        signal.signal(signal.SIGINT, previous)
    assert cancelled.is_set()  # call waited for the task to observe it
    assert p.call(double, 4) == 8  # the portal is still usable


# -- iterate -------------------------------------------------------------------------------


async def _count(n: int = 5) -> AsyncIterator[int]:
    for i in range(n):
        await trio.lowlevel.checkpoint()
        yield i


async def _raise_value_error(message: str) -> None:
    await trio.lowlevel.checkpoint()
    raise ValueError(message)


class _Watched:
    """An async generator factory that yields ``n`` items then waits forever, recording how
    it ended."""

    def __init__(self, n: int = 3) -> None:
        self.n = n
        self.waiting = threading.Event()
        self.finished = threading.Event()
        self.ended_by: type[BaseException] | None = None

    async def __call__(self) -> AsyncIterator[int]:
        try:
            for i in range(self.n):
                yield i
            self.waiting.set()
            await trio.sleep_forever()
        except BaseException as exc:
            self.ended_by = type(exc)
            raise
        finally:
            self.finished.set()


def test_iterate_yields_everything(p: Portal) -> None:
    assert list(p.iterate(lambda: _count(100))) == list(range(100))
    assert list(p.iterate(lambda: _count(0))) == []


def test_iterate_backpressure(p: Portal) -> None:
    produced = 0

    async def fast() -> AsyncIterator[int]:
        nonlocal produced
        for i in range(1000):
            produced += 1
            yield i

    buffer, batch = 4, 3
    it = p.iterate(fast, buffer=buffer, batch=batch)
    consumed = []
    for _ in range(10):
        consumed.append(next(it))
        p.call(trio.testing.wait_all_tasks_blocked)  # the producer is as far ahead as it gets
        assert len(consumed) + buffer <= produced <= len(consumed) + buffer + batch + 1
    consumed += it
    assert consumed == list(range(1000))


def test_iterate_fetches_batches(p: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    hops = 0
    real_call = p.call

    def counting_call(afn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal hops
        hops += afn.__name__ == "fetch"
        return real_call(afn, *args, **kwargs)

    async def burst() -> AsyncIterator[int]:
        for i in range(64):
            yield i

    monkeypatch.setattr(p, "call", counting_call)
    it = p.iterate(burst, buffer=16, batch=16)
    assert next(it) == 0  # takes what is there already (at least item 0)
    assert hops == 1
    for expected in range(1, 48):
        # the producer fills the channel (16) before each item is taken
        real_call(trio.testing.wait_all_tasks_blocked)
        assert next(it) == expected
    assert hops <= 4  # then 16 per hop: a hop per batch, not per item
    it.close()


def test_iterate_close_cancels_the_async_side(p: Portal) -> None:
    gen = _Watched()
    it = p.iterate(gen)
    assert next(it) == 0
    assert gen.waiting.wait(WAIT)
    it.close()
    assert gen.finished.is_set()  # close waited for it
    assert gen.ended_by is trio.Cancelled
    with pytest.raises(StopIteration):
        next(it)
    it.close()  # idempotent


def test_iterate_with_block_closes(p: Portal) -> None:
    gen = _Watched()
    with p.iterate(gen) as it:
        assert next(it) == 0
        assert gen.waiting.wait(WAIT)
    assert gen.finished.is_set()
    assert gen.ended_by is trio.Cancelled


def test_iterate_break_cancels_the_async_side(p: Portal) -> None:
    gen = _Watched()
    for item in p.iterate(gen):
        assert item == 0
        assert gen.waiting.wait(WAIT)
        break
    assert gen.finished.wait(WAIT)
    assert gen.ended_by is trio.Cancelled


def test_iterate_garbage_collection_cancels_the_async_side(p: Portal) -> None:
    gen = _Watched()
    it: PortalIterator[int] | None = p.iterate(gen)
    assert it is not None
    assert next(it) == 0
    assert gen.waiting.wait(WAIT)
    cycle: list[Any] = [it]
    cycle.append(cycle)  # only the cycle collector can free it
    del it, cycle
    assert not gen.finished.is_set()
    gc.collect()
    assert gen.finished.wait(WAIT)
    assert gen.ended_by is trio.Cancelled


def test_iterate_close_while_producer_blocked_acloses(p: Portal) -> None:
    gen = _Watched(n=100)  # more than the buffer: the producer blocks in send
    it = p.iterate(gen, buffer=2, batch=1)
    assert next(it) == 0
    p.call(trio.testing.wait_all_tasks_blocked)
    it.close()
    assert gen.finished.is_set()
    assert gen.ended_by is GeneratorExit  # suspended at a yield: aclose()d
    assert not gen.waiting.is_set()


def test_iterate_keyboard_interrupt_during_next_closes(p: Portal) -> None:
    assert threading.current_thread() is threading.main_thread()
    gen = _Watched(n=0)
    it = p.iterate(gen)

    def interrupt() -> None:
        assert gen.waiting.wait(WAIT)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    helper = threading.Thread(target=interrupt)
    try:
        helper.start()
        with pytest.raises(KeyboardInterrupt):
            next(it)
    finally:
        helper.join()
        signal.signal(signal.SIGINT, previous)
    assert gen.finished.is_set()
    assert gen.ended_by is trio.Cancelled
    with pytest.raises(StopIteration):
        next(it)
    assert list(p.iterate(_count)) == list(range(5))


def test_iterate_reraises_the_async_side_exception(p: Portal) -> None:
    error = ValueError("boom")

    async def broken() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise error

    it = p.iterate(broken)
    assert next(it) == 1
    assert next(it) == 2
    with pytest.raises(ValueError, match="boom") as info:
        next(it)
    assert info.value is error
    with pytest.raises(StopIteration):
        next(it)


def test_iterate_factory_error_is_reraised(p: Portal) -> None:
    def factory() -> AsyncIterator[int]:
        raise LookupError("no such thing")

    with pytest.raises(LookupError):
        next(p.iterate(factory))


def test_iterate_runs_lazily_in_the_portal(p: Portal) -> None:
    threads: list[threading.Thread] = []

    def factory() -> AsyncIterator[int]:
        threads.append(threading.current_thread())
        return _count(2)

    it = p.iterate(factory)
    assert threads == []
    assert list(it) == [0, 1]
    assert threads == [p.thread]


def test_iterate_rejects_bad_sizes(p: Portal) -> None:
    with pytest.raises(ValueError, match="batch"):
        p.iterate(_count, batch=0)


# -- enter ---------------------------------------------------------------------------------


class _Recorder:
    """An async context manager recording what it saw."""

    def __init__(self, suppress: bool = False, aexit_raises: BaseException | None = None):
        self.suppress = suppress
        self.aexit_raises = aexit_raises
        self.tasks: list[trio.lowlevel.Task] = []
        self.exit_info: tuple[Any, Any, Any] | None = None

    async def __aenter__(self) -> str:
        await trio.lowlevel.checkpoint()
        self.tasks.append(trio.lowlevel.current_task())
        return "value"

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self.tasks.append(trio.lowlevel.current_task())
        self.exit_info = (exc_type, exc, tb)
        await trio.lowlevel.checkpoint()
        if self.aexit_raises is not None:
            raise self.aexit_raises
        return self.suppress


def test_enter_same_task_and_value(p: Portal) -> None:
    cm = _Recorder()
    with p.enter(cm) as value:
        assert value == "value"
        assert len(cm.tasks) == 1
    assert len(cm.tasks) == 2
    assert cm.tasks[0] is cm.tasks[1]
    assert cm.exit_info == (None, None, None)


def test_enter_body_exception_reaches_aexit(p: Portal) -> None:
    cm = _Recorder()
    error = ValueError("in the body")
    with pytest.raises(ValueError, match="in the body") as info, p.enter(cm):
        raise error
    assert info.value is error
    assert cm.exit_info is not None
    assert cm.exit_info[0] is ValueError
    assert cm.exit_info[1] is error


def test_enter_suppression(p: Portal) -> None:
    cm = _Recorder(suppress=True)
    with p.enter(cm):
        raise ValueError("swallowed")
    assert cm.exit_info is not None
    assert cm.exit_info[0] is ValueError


def test_enter_aexit_raising_replaces(p: Portal) -> None:
    cm = _Recorder(aexit_raises=KeyError("from aexit"))
    with pytest.raises(KeyError, match="from aexit"), p.enter(cm):
        raise ValueError("body")


class _Refuses(_Recorder):
    async def __aenter__(self) -> str:
        await trio.lowlevel.checkpoint()
        raise PermissionError("no")


def test_enter_aenter_failure(p: Portal) -> None:
    cm = _Refuses()
    entered = False
    with pytest.raises(PermissionError), p.enter(cm):
        entered = True  # pragma: no cover
    assert not entered
    assert cm.exit_info is None  # __aexit__ is not called when __aenter__ fails
    assert p.call(double, 1) == 2


def test_enter_cm_owning_a_nursery(p: Portal) -> None:
    running = threading.Event()
    cancelled = threading.Event()

    async def background() -> None:
        running.set()
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            cancelled.set()
            raise

    @asynccontextmanager
    async def with_nursery() -> AsyncIterator[trio.Nursery]:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(background)
            yield nursery
            nursery.cancel_scope.cancel()

    with p.enter(with_nursery()) as nursery:
        assert isinstance(nursery, trio.Nursery)
        assert running.wait(WAIT)  # the nursery's task runs while the body does
        assert not cancelled.is_set()
    assert cancelled.is_set()


async def test_enter_from_inside_a_trio_loop(p: Portal) -> None:
    cm = _Recorder()
    with p.enter(cm) as value:
        assert value == "value"
    assert cm.tasks[0] is cm.tasks[1]
