"""The blocking facade's streams against a living fake cluster served from a thread: watch
(breaking out, close, garbage collection and Ctrl-C close the server-side watch), exec,
port-forward and logs. No sleeps: every wait is on an event set by the fake's loop thread."""

from __future__ import annotations

import gc
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import trio

import kr8s_trio.sync as kr8s
from kr8s_trio.sync._portal import portal
from kr8s_trio.sync.objects import Pod
from kr8s_trio.testing import FakeClusterThread, ForwardedStream

WAIT = 10  # seconds: only a bound for events that are expected to be set
QUIET = "quiet"  # a namespace nothing is created in: watches there never yield


class WatchTracker:
    """Sets threading events when the fake registers (opens) and unregisters (closes) a watch,
    from its loop thread. With ``hold`` given, the fake's loop waits for it after registering
    (before the response headers go out)."""

    def __init__(self, cluster: FakeClusterThread, monkeypatch: pytest.MonkeyPatch) -> None:
        self.cluster = cluster
        self.opened = threading.Event()
        self.closed = threading.Event()
        self.hold: threading.Event | None = None
        faults = cluster.faults
        register, unregister = faults.register_watch, faults.unregister_watch

        def on_register(stream: Any, record: Any) -> None:
            register(stream, record)
            self.opened.set()
            if self.hold is not None:
                assert self.hold.wait(WAIT)

        def on_unregister(stream: Any) -> None:
            unregister(stream)
            self.closed.set()

        monkeypatch.setattr(faults, "register_watch", on_register)
        monkeypatch.setattr(faults, "unregister_watch", on_unregister)

    def open_watches(self) -> int:
        return self.cluster.call(lambda c: len(c.faults.active_watches(verb="watch")))


@pytest.fixture
def tracker(sync_cluster: FakeClusterThread, monkeypatch: pytest.MonkeyPatch) -> WatchTracker:
    return WatchTracker(sync_cluster, monkeypatch)


def pod_body(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
    }


def portal_tasks() -> int:
    """Operations running in the portal, besides the one asking (idle workers waiting for a
    job do not count)."""

    async def count() -> int:
        await trio.lowlevel.checkpoint()
        loop = portal()._loop
        assert loop is not None
        idle = {worker.task for worker in getattr(loop, "idle", ())}
        me = trio.lowlevel.current_task()
        return len([t for t in loop.nursery.child_tasks if t is not me and t not in idle])

    return portal().call(count)


def interrupt_main_when(event: threading.Event) -> threading.Thread:
    """A thread delivering SIGINT to the main thread once ``event`` is set (a real signal:
    `_thread.interrupt_main` only sets a flag, which a blocked lock acquire never sees)."""

    def interrupt() -> None:
        assert event.wait(WAIT)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    helper = threading.Thread(target=interrupt)
    helper.start()
    return helper


@pytest.fixture
def sigint() -> Iterator[None]:
    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def running_pod(sync_cluster: FakeClusterThread) -> Pod:
    pod = Pod.gen(name="runner", image="busybox")
    pod.create()
    pod.wait("condition=Ready", timeout=30)
    return pod


# -- watch ---------------------------------------------------------------------------------


def next_over_the_watch(watch: Any, cluster: FakeClusterThread, tracker: WatchTracker) -> None:
    """Once the fake registered the watch, create pod "b" and read until its ADDED event: it
    came over the watch's response, so the client has that response (not only asked for it)."""
    assert tracker.opened.wait(WAIT)
    cluster.create(pod_body("b"))
    for event, obj in watch:
        if (event, obj.name) == ("ADDED", "b"):
            return
    raise AssertionError("the watch ended")


@pytest.mark.parametrize("how", ["break", "close", "gc"])
def test_facade_watch_leaving_closes_the_server_side_watch(
    sync_cluster: FakeClusterThread, tracker: WatchTracker, how: str
) -> None:
    sync_cluster.create(pod_body("a"))
    if how == "break":
        for event, obj in kr8s.watch("pods", namespace="default"):
            if (event, obj.name) == ("ADDED", "a"):  # from the list, before the watch
                assert tracker.opened.wait(WAIT)
                sync_cluster.create(pod_body("b"))
            elif (event, obj.name) == ("ADDED", "b"):  # over the watch
                assert not tracker.closed.is_set()
                break
    else:
        watch = kr8s.watch("pods", namespace="default")
        event, obj = next(watch)
        assert (event, obj.name) == ("ADDED", "a")
        next_over_the_watch(watch, sync_cluster, tracker)
        assert not tracker.closed.is_set()
        if how == "close":
            watch.close()
            with pytest.raises(StopIteration):
                next(watch)
        else:
            cycle: list[Any] = [watch]
            cycle.append(cycle)  # only the cycle collector can free it
            del watch, cycle
            gc.collect()
    assert tracker.closed.wait(WAIT)
    assert tracker.open_watches() == 0
    (request,) = sync_cluster.requests.filter(verb="watch", resource="pods")
    assert request.namespace == "default"
    if how == "close":  # close waits for the async side; break and gc only cancel it
        assert portal_tasks() == 0


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
def test_facade_watch_closed_before_its_response_closes_the_server_side_watch(
    sync_cluster: FakeClusterThread, tracker: WatchTracker, http2: bool
) -> None:
    # the client gives up while waiting for the response headers (HTTP/2: the stream must be
    # reset, or the server keeps the watch open)
    sync_cluster.create(pod_body("a"))
    api = kr8s.Api(bypass_factory=True, http2=http2)
    tracker.hold = threading.Event()
    watch = kr8s.watch("pods", namespace="default", api=api)
    try:
        assert next(watch)[1].name == "a"  # from the list
        assert tracker.opened.wait(WAIT)  # the watch is asked for; its headers are held
        watch.close()
        assert portal_tasks() == 0
    finally:
        tracker.hold.set()
    try:
        assert tracker.closed.wait(WAIT)
        assert tracker.open_watches() == 0
    finally:
        api.close()


def test_facade_watch_yields_sync_objects_and_event_types(
    sync_cluster: FakeClusterThread, tracker: WatchTracker
) -> None:
    sync_cluster.create(pod_body("old"))
    seen: list[tuple[str, str]] = []
    with kr8s.watch("pods", namespace="default") as watch:
        for event, obj in watch:
            assert type(obj) is Pod
            assert obj.namespace == "default"
            seen.append((event, obj.name))
            if (event, obj.name) == ("ADDED", "old"):
                assert tracker.opened.wait(WAIT)
                sync_cluster.create(pod_body("new"))  # the kubelet then starts it: MODIFIED
            elif (event, obj.name) == ("MODIFIED", "new") and ("MODIFIED", "new") not in seen[:-1]:
                sync_cluster.delete("pods", "new", grace_period_seconds=0)
            elif event == "DELETED":
                break
    assert seen[:2] == [("ADDED", "old"), ("ADDED", "new")]
    assert ("MODIFIED", "new") in seen
    assert seen[-1] == ("DELETED", "new")
    assert tracker.closed.wait(WAIT)


# -- Ctrl-C --------------------------------------------------------------------------------


def test_facade_keyboard_interrupt_in_watch_cancels_it(
    sync_cluster: FakeClusterThread, tracker: WatchTracker, sigint: None
) -> None:
    # HTTP/1.1: interrupted as soon as the fake registered the watch, the client may still
    # wait for the headers (see the test above for that case on HTTP/2)
    api = kr8s.Api(bypass_factory=True, http2=False)
    watch = kr8s.watch("pods", namespace=QUIET, api=api)
    helper = interrupt_main_when(tracker.opened)
    try:
        with pytest.raises(KeyboardInterrupt):
            next(watch)  # nothing to yield: blocks until interrupted
    finally:
        helper.join()
    assert tracker.closed.wait(WAIT)
    assert tracker.open_watches() == 0
    assert portal_tasks() == 0
    with pytest.raises(StopIteration):
        next(watch)
    assert "gitVersion" in kr8s.version()  # the facade still works
    assert kr8s.version(api=api) == kr8s.version()
    api.close()


def test_facade_keyboard_interrupt_in_call_cancels_it(
    sync_cluster: FakeClusterThread, monkeypatch: pytest.MonkeyPatch, sigint: None
) -> None:
    asked = threading.Event()
    log = sync_cluster.requests
    append = log.append

    def on_append(record: Any) -> None:
        append(record)
        if record.name == "missing":
            asked.set()

    monkeypatch.setattr(log, "append", on_append)
    helper = interrupt_main_when(asked)
    try:
        with pytest.raises(KeyboardInterrupt):
            Pod.get("missing", timeout=600)  # keeps looking: blocks until interrupted
    finally:
        helper.join()
    assert portal_tasks() == 0  # the lookup was cancelled in the portal
    assert "gitVersion" in kr8s.version()
    with pytest.raises(kr8s.NotFoundError):
        Pod.get("missing")


# -- exec ----------------------------------------------------------------------------------


def test_facade_exec_runs_to_completion(running_pod: Pod) -> None:
    result = running_pod.exec(["echo", "hi"])
    assert (result.stdout, result.returncode) == (b"hi\n", 0)
    assert running_pod.exec(["cat"], stdin=b"fed\n").stdout == b"fed\n"
    failed = running_pod.exec(["sh", "-c", "echo bad >&2; exit 3"], check=False)
    assert (failed.stderr, failed.returncode) == (b"bad\n", 3)
    with pytest.raises(kr8s.ExecError) as err:
        running_pod.exec(["sh", "-c", "exit 42"])
    assert err.value.exit_code == 42


def test_facade_open_exec_streams(running_pod: Pod) -> None:
    with running_pod.open_exec(["cat"], stdin=True) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.send_all(b"x")
        proc.stdin.send_all(b"yz\n")
        proc.stdin.close()
        out = b""
        while chunk := proc.stdout.receive_some():
            out += chunk
        assert proc.wait() == 0
    assert out == b"xyz\n"
    assert portal_tasks() == 0


# -- port-forward --------------------------------------------------------------------------


@pytest.fixture
def echo_pod(sync_cluster: FakeClusterThread, running_pod: Pod) -> Pod:
    """``running_pod`` with an upper-casing echo server on its port 9000."""

    async def echo(stream: ForwardedStream) -> None:
        while data := await stream.receive_some():
            await stream.send_all(data.upper())

    sync_cluster.call(lambda c: c.ports.register("default", running_pod.name, 9000, echo))
    return running_pod


def round_trip(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(data)
        answer = b""
        while len(answer) < len(data):
            chunk = sock.recv(65536)
            assert chunk, f"closed after {answer!r}"
            answer += chunk
    return answer


def test_facade_portforward_with_block(echo_pod: Pod) -> None:
    with echo_pod.portforward(9000, "auto") as pf:
        assert pf.local_port != 9000
        assert round_trip(pf.local_port, b"hello") == b"HELLO"
        assert round_trip(pf.local_port, b"again") == b"AGAIN"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", pf.local_port), timeout=WAIT)


def test_facade_portforward_start_stop(echo_pod: Pod) -> None:
    pf = echo_pod.portforward(9000, "auto")
    port = pf.start()
    try:
        assert port == pf.local_port
        assert round_trip(port, b"kr8s style") == b"KR8S STYLE"
    finally:
        pf.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    assert portal_tasks() == 0


# -- logs ----------------------------------------------------------------------------------


def test_facade_logs_yields_str_lines(running_pod: Pod) -> None:
    lines = list(running_pod.logs(follow=False))
    assert all(type(line) is str for line in lines)
    assert lines[:2] == [
        'starting container "runner" (image busybox)',
        'container "runner" is running',
    ]
    assert list(running_pod.logs(tail_lines=1)) == lines[-1:]


# -- conversions -----------------------------------------------------------------------------

_TWIN_IMPORTS = """
import os
from kr8s_trio.testing import run_fake_cluster_in_thread

def show(fn):
    try:
        print(type(fn()).__module__)
    except Exception as exc:
        print(type(exc).__name__, exc)

with run_fake_cluster_in_thread() as cluster:
    os.environ["KUBECONFIG"] = str(cluster.kubeconfig_path)
    import kr8s_trio.sync as kr8s
    cluster.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
                    "spec": {"containers": [{"name": "app", "image": "busybox"}]}})
    show(lambda: next(iter(kr8s.get("pods", namespace="default"))))
    show(lambda: next(iter(kr8s.watch("pods", namespace="default")))[1])
    from kr8s_trio.sync.objects import Pod
    pod = Pod.get("a")
    show(lambda: pod.portforward(80))
    with pod.open_exec(["cat"], stdin=True) as proc:
        show(lambda: proc)
        show(lambda: proc.stdin)
"""


def test_facade_twins_work_without_importing_their_modules() -> None:
    # what a user imports: kr8s_trio.sync (and .objects), never _twins or .portforward
    done = subprocess.run(
        [sys.executable, "-c", _TWIN_IMPORTS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "kr8s_trio.sync.objects",
        "kr8s_trio.sync.objects",
        "kr8s_trio.sync.portforward",
        "kr8s_trio.sync._twins",
        "kr8s_trio.sync._twins",
    ]
