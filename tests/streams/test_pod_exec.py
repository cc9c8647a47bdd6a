"""Pod.exec / open_exec / attach and Service/Deployment exec against the living fake cluster.

Pods really run there (the simulated kubelet starts them); commands are the fake's built-ins
(echo, cat, sh...) or handlers registered with ``cluster.register_command``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.testing

from kr8s_trio import Api
from kr8s_trio._core._exceptions import APIError, ExecError, LocalProtocolError, NotFoundError
from kr8s_trio._exec import CompletedExec
from kr8s_trio.objects import Deployment, Pod, Service
from kr8s_trio.testing import AttachContext, ExecContext, FakeCluster


async def running(name: str = "p", **kwargs: object) -> Pod:
    pod = Pod.gen(name=name, image="busybox", **kwargs)  # type: ignore[arg-type]
    await pod.create()
    return pod


@pytest.fixture
async def pod(living_api: Api) -> Pod:
    return await running()


def leftover_tasks() -> list[str]:
    """Tasks still alive besides the test's own and the fake cluster's."""
    root = trio.lowlevel.current_root_task()
    assert root is not None
    names: list[str] = []

    def walk(task: trio.lowlevel.Task) -> None:
        for nursery in task.child_nurseries:
            for child in nursery.child_tasks:
                names.append(child.name)
                walk(child)

    walk(root)
    return [n for n in names if "_exec." in n or "_ws." in n]


# -- exec to completion -------------------------------------------------------------------------


async def test_exec_stdout_stderr_and_exit_code(pod: Pod) -> None:
    result = await pod.exec(["sh", "-c", "echo out; echo err >&2; exit 3"], check=False)
    assert isinstance(result, CompletedExec)
    assert result.args == ["sh", "-c", "echo out; echo err >&2; exit 3"]
    assert (result.stdout, result.stderr, result.returncode) == (b"out\n", b"err\n", 3)
    ok = await pod.exec(["echo", "hello"])
    assert (ok.stdout, ok.returncode) == (b"hello\n", 0)


async def test_exec_check_raises_exec_error_with_the_exit_code(pod: Pod) -> None:
    with pytest.raises(ExecError) as err:
        await pod.exec(["sh", "-c", "exit 42"])
    assert err.value.exit_code == 42
    assert err.value.status["reason"] == "NonZeroExitCode"
    result = await pod.exec(["sh", "-c", "exit 42"], check=False)
    with pytest.raises(ExecError):
        result.check_returncode()


async def test_exec_unknown_command_is_an_api_error(pod: Pod) -> None:
    with pytest.raises(APIError, match="executable file not found"):
        await pod.exec(["no-such-program"], check=False)


async def test_exec_stdin_bytes_str_file_and_async_iterable_reach_cat(pod: Pod) -> None:
    assert (await pod.exec(["cat"], stdin=b"bytes\n")).stdout == b"bytes\n"
    assert (await pod.exec(["cat"], stdin="text \u00e9\n")).stdout == "text \u00e9\n".encode()
    assert (await pod.exec(["cat"], stdin=io.BytesIO(b"x" * 3_000_000))).stdout == b"x" * 3_000_000
    assert (await pod.exec(["cat"], stdin=io.StringIO("a\nb\n"))).stdout == b"a\nb\n"

    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            yield b"part %d\n" % i

    assert (await pod.exec(["cat"], stdin=parts())).stdout == b"".join(
        b"part %d\n" % i for i in range(5)
    )
    # a command that does not read stdin: the rest is dropped, as with a closed pipe
    assert (await pod.exec(["echo", "x"], stdin=b"y" * 100_000)).stdout == b"x\n"


async def test_exec_writes_output_to_files_without_capturing(pod: Pod) -> None:
    out, err = io.BytesIO(), io.BytesIO()
    result = await pod.exec(
        ["sh", "-c", "echo o; echo e >&2"], stdout=out, stderr=err, capture_output=False
    )
    assert (result.stdout, result.stderr) == (b"", b"")
    assert (out.getvalue(), err.getvalue()) == (b"o\n", b"e\n")


async def test_exec_chooses_the_container(living_api: Api) -> None:
    pod = Pod(
        {
            "metadata": {"name": "two"},
            "spec": {
                "containers": [
                    {"name": "a", "image": "busybox", "env": [{"name": "W", "value": "a"}]},
                    {"name": "b", "image": "busybox", "env": [{"name": "W", "value": "b"}]},
                ]
            },
        }
    )
    await pod.create()
    assert (await pod.exec(["sh", "-c", "echo $W"])).stdout == b"a\n"  # the first
    assert (await pod.exec(["sh", "-c", "echo $W"], container="b")).stdout == b"b\n"


async def test_exec_on_a_missing_pod_is_not_found(living_api: Api) -> None:
    with pytest.raises(NotFoundError):
        await Pod("missing").exec(["true"])


async def test_exec_waits_for_the_pod_to_run_with_a_bound(
    living_cluster: FakeCluster, living_api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    pod = Pod.gen(name="unschedulable", image="busybox")
    pod.raw["spec"]["nodeSelector"] = {"no": "such-node"}
    await pod.create()
    with pytest.raises(TimeoutError):
        await pod.exec(["true"], ready_timeout=5)
    assert trio.current_time() == pytest.approx(5, abs=0.5)
    # a fresh pod: exec waits until it runs
    fresh = Pod.gen(name="fresh", image="busybox")
    await fresh.create()
    assert (await fresh.exec(["echo", "ran"])).stdout == b"ran\n"


async def test_exec_timeout(
    living_cluster: FakeCluster, pod: Pod, autojump_clock: trio.testing.MockClock
) -> None:
    cancelled = trio.Event()

    async def hang(ctx: ExecContext) -> int:
        try:
            await trio.sleep_forever()
        finally:
            cancelled.set()

    living_cluster.register_command(["hang"], hang)
    await pod.exec(["true"])  # running
    start = trio.current_time()
    with pytest.raises(TimeoutError):
        await pod.exec(["hang"], timeout=3)
    assert trio.current_time() - start == pytest.approx(3)
    await cancelled.wait()  # the server side stopped
    assert not leftover_tasks()


# -- interactive ---------------------------------------------------------------------------------


async def test_open_exec_streams(pod: Pod) -> None:
    async with pod.open_exec(["cat"], stdin=True) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        assert proc.protocol.name == "v5.channel.k8s.io"
        for i in range(3):
            await proc.stdin.send_all(b"line %d\n" % i)
            assert await proc.stdout.receive_some() == b"line %d\n" % i
        await proc.stdin.aclose()
        assert await proc.stdout.receive_some() == b""
        assert await proc.wait() == 0
        assert proc.returncode == 0
    assert not leftover_tasks()


async def test_open_exec_exit_code_and_stderr(pod: Pod) -> None:
    async with pod.open_exec(["sh", "-c", "echo bad >&2; exit 7"]) as proc:
        assert proc.stderr is not None
        assert proc.stdout is not None
        assert await proc.stderr.receive_some() == b"bad\n"
        assert await proc.stdout.receive_some() == b""
        assert await proc.wait() == 7
    assert proc.status is not None
    assert proc.status["reason"] == "NonZeroExitCode"


async def test_open_exec_tty_and_resize_reach_a_registered_handler(
    living_cluster: FakeCluster, pod: Pod
) -> None:
    seen: list[tuple[int, int]] = []

    async def shell(ctx: ExecContext) -> int:
        assert ctx.tty
        async for size in ctx.resize:
            seen.append((size.width, size.height))
            await ctx.stderr.write(f"{size.width}x{size.height}\n")  # joins stdout on a tty
            if len(seen) == 2:
                return 5
        return 1

    living_cluster.register_command("fancy-shell", shell)
    async with pod.open_exec(["fancy-shell"], stdin=True, tty=True) as proc:
        assert proc.stdout is not None
        await proc.resize(120, 40)
        assert await proc.stdout.receive_some() == b"120x40\n"
        await proc.resize(80, 24)
        assert await proc.stdout.receive_some() == b"80x24\n"
        assert await proc.wait() == 5
    assert seen == [(120, 40), (80, 24)]


async def test_exec_tty_joins_stderr(pod: Pod) -> None:
    result = await pod.exec(["sh", "-c", "echo a; echo b >&2"], tty=True)
    assert b"a" in result.stdout
    assert b"b" in result.stdout
    assert result.stderr == b""


async def test_open_exec_leaving_early_stops_the_command(
    living_cluster: FakeCluster, pod: Pod
) -> None:
    started, cancelled = trio.Event(), trio.Event()

    async def hang(ctx: ExecContext) -> int:
        started.set()
        try:
            await trio.sleep_forever()
        finally:
            cancelled.set()

    living_cluster.register_command(["hang"], hang)
    async with pod.open_exec(["hang"]):
        await started.wait()
    await cancelled.wait()
    assert not leftover_tasks()


async def test_open_exec_errors_in_the_block_propagate_unwrapped(pod: Pod) -> None:
    with pytest.raises(KeyError):
        async with pod.open_exec(["cat"], stdin=True):
            raise KeyError("mine")
    assert not leftover_tasks()


@pytest.mark.parametrize("phase", ["handshake", "mid-stream", "wait"])
async def test_exec_cancellation_at_each_phase_leaves_nothing(
    living_cluster: FakeCluster, pod: Pod, phase: str
) -> None:
    started, cancelled = trio.Event(), trio.Event()

    async def talker(ctx: ExecContext) -> int:
        started.set()
        try:
            await ctx.stdout.write("hello\n")
            await trio.sleep_forever()
        finally:
            cancelled.set()

    living_cluster.register_command(["talker"], talker)
    await pod.exec(["true"])
    with trio.CancelScope() as scope:
        if phase == "handshake":
            scope.cancel()
        async with pod.open_exec(["talker"]) as proc:
            assert proc.stdout is not None
            await started.wait()
            if phase == "mid-stream":
                assert await proc.stdout.receive_some() == b"hello\n"
                scope.cancel()
                await proc.stdout.receive_some()
            scope.cancel()
            await proc.wait()
    assert scope.cancelled_caught
    if phase != "handshake":
        await cancelled.wait()
    assert not leftover_tasks()
    api = await pod._client()
    pool = api._upgrade_http._transport._pool  # type: ignore[union-attr]
    assert not pool._requests  # no upgraded connection left open
    assert all(c.is_closed() or c.is_idle() for c in pool.connections)


# -- attach ---------------------------------------------------------------------------------------


async def test_open_attach_echoes_stdin_into_the_log(living_api: Api) -> None:
    pod = Pod.gen(name="att", image="busybox")
    pod.raw["spec"]["containers"][0]["stdin"] = True
    await pod.create()
    async with pod.open_attach(stdin=True) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        await proc.stdin.send_all(b"hi there\n")
        assert await proc.stdout.receive_some() == b"hi there\n"


async def test_attach_with_a_registered_handler_runs_until_the_session_ends(
    living_cluster: FakeCluster, living_api: Api
) -> None:
    async def greeter(ctx: AttachContext) -> None:
        async for line in ctx.stdin.lines():
            ctx.write("hello " + line.decode().strip())

    pod = Pod.gen(name="greet", image="busybox")
    pod.raw["spec"]["containers"][0]["stdin"] = True
    await pod.create()
    living_cluster.register_attach(greeter, pod="greet")
    async with pod.open_attach(stdin=True) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        await proc.stdin.send_all(b"bob\n")
        assert await proc.stdout.receive_some() == b"hello bob\n"
        await proc.stdin.aclose()


# -- through a Service or Deployment ---------------------------------------------------------


async def test_deployment_and_service_exec_choose_a_ready_pod(living_api: Api) -> None:
    labels = {"app": "web"}
    deployment = Deployment(
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        }
    )
    await deployment.create()
    service = Service(
        {"metadata": {"name": "web"}, "spec": {"selector": labels, "ports": [{"port": 80}]}}
    )
    await service.create()
    names = {(await deployment.exec(["hostname"])).stdout.strip() for _ in range(2)}
    assert all(n.startswith(b"web-") for n in names)
    result = await service.exec(["hostname"])
    assert result.stdout.startswith(b"web-")
    async with deployment.open_exec(["echo", "x"]) as proc:
        assert await proc.wait() == 0


async def test_service_without_ready_pods_times_out(
    living_api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    service = Service(
        {
            "metadata": {"name": "empty"},
            "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]},
        }
    )
    await service.create()
    with pytest.raises(TimeoutError):
        await service.exec(["true"], ready_timeout=2)


# -- no asyncio anywhere ------------------------------------------------------------------------


def test_exec_from_a_plain_trio_program(tmp_path: Path) -> None:
    program = tmp_path / "prog.py"
    program.write_text(
        textwrap.dedent(
            """
            import sys
            import trio
            import kr8s_trio
            from kr8s_trio.objects import Pod
            from kr8s_trio.testing import open_fake_cluster

            async def main():
                async with open_fake_cluster(kubelet=True, controllers=True) as cluster:
                    async with kr8s_trio.Api(
                        bypass_factory=True, kubeconfig=cluster.kubeconfig
                    ) as api:
                        pod = Pod.gen(name="p", image="busybox")
                        pod._api = api
                        await pod.create()
                        result = await pod.exec(["cat"], stdin=b"no asyncio\\n")
                        assert result.stdout == b"no asyncio\\n", result
                        async with pod.open_exec(["sh", "-c", "exit 4"]) as proc:
                            assert await proc.wait() == 4
                print("ok")

            trio.run(main)
            assert "asyncio" not in sys.modules, "asyncio was imported"
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# -- v4 fallback ---------------------------------------------------------------------------------


async def test_exec_over_v4_when_the_server_has_no_v5(
    pod: Pod, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kr8s_trio._exec

    monkeypatch.setattr(kr8s_trio._exec, "V5", "v5.not-offered")  # only the kubelet's v4 is left
    result = await pod.exec(["sh", "-c", "echo hi; exit 2"], check=False)
    assert (result.stdout, result.returncode) == (b"hi\n", 2)
    async with pod.open_exec(["cat"], stdin=True) as proc:
        assert proc.protocol.name == "v4.channel.k8s.io"
        assert proc.stdin is not None
        await proc.stdin.send_all(b"x\n")
        assert proc.stdout is not None
        assert await proc.stdout.receive_some() == b"x\n"
        with pytest.raises(LocalProtocolError, match="cannot close stdin"):
            await proc.stdin.aclose()
    with pytest.raises(LocalProtocolError, match="v5"):
        await pod.exec(["cat"], stdin=b"data")


# -- no sockets left -------------------------------------------------------------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
async def test_exec_cancelled_mid_stream_leaves_no_file_descriptors(
    living_cluster: FakeCluster, pod: Pod
) -> None:
    started = trio.Event()

    async def talker(ctx: ExecContext) -> int:
        started.set()
        await ctx.stdout.write("x" * 100_000)
        await trio.sleep_forever()
        return 0

    living_cluster.register_command(["talker"], talker)
    await pod.exec(["true"])
    await trio.testing.wait_all_tasks_blocked()
    before = open_fds()
    for _ in range(5):
        with trio.CancelScope() as scope:
            async with pod.open_exec(["talker"]) as proc:
                await started.wait()
                assert proc.stdout is not None
                await proc.stdout.receive_some(10)
                scope.cancel()
                await proc.wait()
    await trio.testing.wait_all_tasks_blocked()
    assert open_fds() == before
    assert not leftover_tasks()
