"""exec and attach over WebSocket: negotiation, frames, statuses, refusals, commands, attach.

The cluster runs without the simulated kubelet (``api_cluster``), and each test puts its own
running containers in ``state.runtime``, so this suite depends only on the exec machinery. The
client is the raw WebSocket client of ``wsclient``: every frame is checked byte for byte.
Expected statuses and messages are spelled out here, as kube-apiserver, the kubelet and
containerd write them; they are not computed with the code under test.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
import trio
import trio.testing
from kubectl_support import Kubectl, require_kubectl
from kubernetes import client, config
from kubernetes.stream import stream
from support import failure
from wsclient import WSClient, WSRejected, open_ws

from kr8s_trio.testing import (
    FakeCluster,
    FakeClusterThread,
    open_fake_cluster,
    run_fake_cluster_in_thread,
)
from kr8s_trio.testing._commands import AttachContext, Commands, ExecContext
from kr8s_trio.testing._coreutils import BUILTINS
from kr8s_trio.testing._runtime import ContainerRuntime, PodRuntime

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
JSON = dict[str, Any]

SUCCESS = b'\x03{"metadata":{},"status":"Success"}'


def exit_status_v5(code: int) -> bytes:
    return (
        b'\x03{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit '
        b'code: command terminated with exit code %d","reason":"NonZeroExitCode","details'
        b'":{"causes":[{"reason":"ExitCode","message":"%d"}]}}' % (code, code)
    )


def internal_error(message: str) -> JSON:
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }


# -- pods with running containers ------------------------------------------------------------


def running_pod(
    cluster: FakeCluster,
    name: str = "p",
    containers: Sequence[str] = ("c",),
    *,
    namespace: str = "default",
    tty: bool = False,
    stdin: bool = False,
    state: str = "running",
    extra: JSON | None = None,
    node: str | None = "node-1",
    admitted: bool = True,
) -> JSON:
    """A pod bound to a node whose containers run (as the kubelet would report them)."""
    spec: JSON = {
        "containers": [
            {"name": c, "image": "busybox", "tty": tty, "stdin": stdin, **(extra or {})}
            for c in containers
        ]
    }
    if node:
        spec["nodeName"] = node
    pod = cluster.create(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec},
        namespace=namespace,
    )
    if admitted:
        runtime = PodRuntime(pod["metadata"]["uid"], namespace, name, node or "")
        for c in containers:
            runtime.containers[c] = ContainerRuntime(
                c, "busybox", state=state, tty=tty, stdin=stdin
            )  # type: ignore[arg-type]
        cluster.state.runtime.add(runtime)
    return pod


def container(cluster: FakeCluster, pod: str = "p", name: str = "c") -> ContainerRuntime:
    running = cluster.state.runtime.pod("default", pod)
    assert running is not None
    found = running.container(name)
    assert found is not None
    return found


def path(
    command: Sequence[str] = (),
    pod: str = "p",
    *,
    subresource: str = "exec",
    stdin: bool = False,
    stdout: bool = True,
    stderr: bool = True,
    tty: bool = False,
    container: str | None = None,
    namespace: str = "default",
) -> str:
    query: list[tuple[str, str]] = [("command", c) for c in command]
    if container:
        query.append(("container", container))
    for flag, on in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr), ("tty", tty)):
        if on:
            query.append((flag, "true"))
    return f"/api/v1/namespaces/{namespace}/pods/{pod}/{subresource}?{urlencode(query)}"


async def run(
    cluster: FakeCluster,
    command: Sequence[str],
    *,
    protocols: Sequence[str] = (V5,),
    stdin: bytes | None = None,
    **flags: Any,
) -> tuple[list[bytes | str], WSClient]:
    """Exec ``command``; send ``stdin`` then close it (v5); every message the server sent."""
    async with open_ws(
        cluster, path(command, stdin=stdin is not None, **flags), subprotocols=protocols
    ) as ws:
        if stdin is not None:
            await ws.send(b"\x00" + stdin)
            await ws.send(b"\xff\x00")
        return await ws.receive_all(), ws


def output(frames: Sequence[bytes | str], channel: int = 1) -> bytes:
    """Everything on one channel (the empty "established" marker contributes nothing)."""
    return b"".join(f[1:] for f in frames if isinstance(f, bytes) and f[:1] == bytes((channel,)))


def status(frames: Sequence[bytes | str]) -> JSON:
    last = frames[-1]
    assert isinstance(last, bytes)
    assert last[:1] == b"\x03"
    decoded: JSON = json.loads(last[1:])
    return decoded


def exit_code(frames: Sequence[bytes | str]) -> int:
    body = status(frames)
    if body["status"] == "Success":
        return 0
    return int(body["details"]["causes"][0]["message"])


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    start = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    async with open_fake_cluster(kubelet=False, controllers=False, start_time=start) as c:
        running_pod(c, extra={"env": [{"name": "FOO", "value": "bar"}]})
        yield c


# -- the session -------------------------------------------------------------------------------


async def test_exec_echo_frames_byte_for_byte(cluster: FakeCluster) -> None:
    frames, ws = await run(cluster, ["echo", "hi", "there"])
    assert ws.subprotocol == V5
    assert frames == [b"\x01", b"\x01hi there\n", SUCCESS]
    assert ws.close_code == 1000


async def test_exec_established_marker_is_on_the_lowest_requested_channel(
    cluster: FakeCluster,
) -> None:
    frames, _ = await run(cluster, ["echo", "x"], stdout=False)
    assert frames[0] == b"\x02"
    frames, _ = await run(cluster, ["cat"], stdin=b"", stdout=False, stderr=False)
    assert frames == [b"\x03", SUCCESS]


async def test_exec_stderr_on_its_own_channel_and_joined_to_stdout_on_a_terminal(
    cluster: FakeCluster,
) -> None:
    script = ["sh", "-c", "echo out; echo err >&2"]
    frames, _ = await run(cluster, script)
    assert (output(frames, 1), output(frames, 2)) == (b"out\n", b"err\n")
    frames, _ = await run(cluster, script, tty=True)
    assert (output(frames, 1), output(frames, 2)) == (b"out\nerr\n", b"")
    # a stream nobody asked for goes nowhere
    frames, _ = await run(cluster, script, stderr=False)
    assert (output(frames, 1), output(frames, 2)) == (b"out\n", b"")


async def test_exec_stdin_then_close_reaches_cat(cluster: FakeCluster) -> None:
    async with open_ws(cluster, path(["cat"], stdin=True), subprotocols=[V5]) as ws:
        assert await ws.receive() == b"\x01"
        await ws.send(b"\x00hello ")
        assert await ws.receive() == b"\x01hello "
        await ws.send(b"\x00world\n")
        assert await ws.receive() == b"\x01world\n"
        await ws.send(b"\xff\x00")  # v5: half-close stdin, cat sees the end
        assert await ws.receive_all() == [SUCCESS]


async def test_exec_exit_codes_and_their_status(cluster: FakeCluster) -> None:
    frames, _ = await run(cluster, ["sh", "-c", "exit 3"])
    assert frames == [b"\x01", exit_status_v5(3)]
    frames, _ = await run(cluster, ["false"])
    assert frames[-1] == exit_status_v5(1)
    frames, _ = await run(cluster, ["sh", "-c", "exit 258"])
    assert exit_code(frames) == 2


async def test_exec_v4_status_carries_the_runtime_message(cluster: FakeCluster) -> None:
    frames, ws = await run(cluster, ["sh", "-c", "exit 3"], protocols=[V4])
    assert ws.subprotocol == V4
    assert status(frames) == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing command "
        "[sh -c exit 3], exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }


async def test_exec_v1_protocols_write_only_failures_as_text(cluster: FakeCluster) -> None:
    frames, ws = await run(cluster, ["echo", "ok"], protocols=["channel.k8s.io"])
    assert ws.subprotocol == "channel.k8s.io"
    assert frames == [b"\x01", b"\x01ok\n"]
    frames, _ = await run(cluster, ["sh", "-c", "exit 4"], protocols=["channel.k8s.io"])
    assert frames[-1] == (
        b"\x03command terminated with non-zero exit code: error executing command "
        b"[sh -c exit 4], exit code 4"
    )
    # no subprotocol at all: the same protocol, and none is echoed
    frames, ws = await run(cluster, ["echo", "ok"], protocols=[])
    assert ws.subprotocol is None
    assert frames == [b"\x01", b"\x01ok\n"]


async def test_exec_base64_protocol_sends_text_frames(cluster: FakeCluster) -> None:
    frames, ws = await run(cluster, ["echo", "hi"], protocols=["v4.base64.channel.k8s.io"])
    assert ws.subprotocol == "v4.base64.channel.k8s.io"
    assert frames[:2] == ["1", "1aGkK"]
    assert frames[2] == "3eyJtZXRhZGF0YSI6e30sInN0YXR1cyI6IlN1Y2Nlc3MifQ=="


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [([V5, V4], V5), ([V4, V5], V5), ([V4], V4), (["x", V4], V4)],
)
async def test_exec_negotiation(cluster: FakeCluster, offered: list[str], chosen: str) -> None:
    # whoever offers v5 is served by the stream translator, which speaks only v5
    _, ws = await run(cluster, ["true"], protocols=offered)
    assert ws.subprotocol == chosen


async def test_exec_v4_stdin_ends_with_the_websocket(cluster: FakeCluster) -> None:
    seen: list[bytes] = []
    done = trio.Event()

    async def record(ctx: ExecContext) -> int:
        seen.append(await ctx.stdin.read())
        done.set()
        return 0

    cluster.register_command(["record"], record)
    async with open_ws(cluster, path(["record"], stdin=True), subprotocols=[V4]) as ws:
        assert await ws.receive() == b"\x01"
        await ws.send(b"\x00some ")
        await ws.send(b"\x00data")
        await ws.send(b"\xff\x00")  # no close signal in v4: just an unknown channel
        await ws.close()
        await done.wait()
    assert seen == [b"some data"]


async def test_exec_terminal_resizes_reach_the_handler(cluster: FakeCluster) -> None:
    sizes: list[tuple[int, int]] = []

    async def shell(ctx: ExecContext) -> int:
        assert ctx.tty
        assert ctx.env["TERM"] == "xterm"
        async for size in ctx.resize:
            sizes.append((size.width, size.height))
            await ctx.stderr.write(f"{size.width}x{size.height}\n")
            if len(sizes) == 2:
                return 0
        return 1

    cluster.register_command("fancy-shell", shell)
    query = path(["fancy-shell"], stdin=True, stderr=False, tty=True)
    async with open_ws(cluster, query, subprotocols=[V5]) as ws:
        assert await ws.receive() == b"\x01"
        await ws.send(b'\x04{"Width":120,"Height":40}\n')
        assert await ws.receive() == b"\x01120x40\n"  # a terminal: stderr joins stdout
        await ws.send(b'\x04{"Width":80,')  # a JSON stream: objects may be split
        await ws.send(b'\x04"Height":24}\n')
        assert await ws.receive_all() == [b"\x0180x24\n", SUCCESS]
    assert sizes == [(120, 40), (80, 24)]


async def test_exec_client_disconnect_cancels_the_command(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    started, cancelled = trio.Event(), trio.Event()

    async def long_sleep(ctx: ExecContext) -> int:
        started.set()
        try:
            return await ctx.run(["sleep", "3600"])
        except trio.Cancelled:
            cancelled.set()
            raise

    cluster.register_command(["long"], long_sleep)
    async with open_ws(cluster, path(["long"]), subprotocols=[V5]) as ws:
        await started.wait()
        await ws.close()
        await cancelled.wait()
    assert trio.current_time() == 0  # the clock never moved: the sleep was cancelled


async def test_exec_sleep_runs_on_trio_time(
    cluster: FakeCluster, autojump_clock: trio.testing.MockClock
) -> None:
    frames, _ = await run(cluster, ["sh", "-c", "date +%s; sleep 1m; date +%s"])
    before, after = output(frames).split()
    assert int(after) - int(before) == 60
    assert frames[-1] == SUCCESS


async def test_exec_output_larger_than_a_frame_arrives_whole(cluster: FakeCluster) -> None:
    blob = bytes(range(256)) * 1024

    async def dump(ctx: ExecContext) -> None:
        await ctx.stdout.send_all(blob)

    cluster.register_command(["dump"], dump)
    frames, _ = await run(cluster, ["dump"])
    assert output(frames) == blob
    assert frames[-1] == SUCCESS


async def test_exec_a_failing_handler_is_a_runtime_error(
    cluster: FakeCluster, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(ctx: ExecContext) -> int:
        raise ValueError("handler bug")

    cluster.register_command(["broken"], broken)
    frames, _ = await run(cluster, ["broken"], protocols=[V4])
    assert status(frames) == internal_error(
        "error executing command in container: ValueError: handler bug"
    )
    # the test author gets the traceback in the log, not only the client's one-line status
    (record,) = [r for r in caplog.records if r.name == "kr8s_trio.testing.exec"]
    assert record.getMessage() == "exec handler for ['broken'] failed"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)


# -- refusals ------------------------------------------------------------------------------------


async def refused(cluster: FakeCluster, query: str, protocols: Sequence[str] = (V5,)) -> WSRejected:
    with pytest.raises(WSRejected) as caught:
        async with open_ws(cluster, query, subprotocols=protocols):
            pass
    return caught.value


@pytest.mark.parametrize("protocols", [[V5], [V4]])
async def test_exec_apiserver_refusals_are_status_objects(
    cluster: FakeCluster, protocols: list[str]
) -> None:
    exc = await refused(cluster, path(["ls"], pod="nope"), protocols)
    assert (exc.status, exc.json()) == (
        404,
        failure(404, "NotFound", 'pods "nope" not found', {"name": "nope", "kind": "pods"}),
    )
    running_pod(cluster, "two", ["a", "b"])
    exc = await refused(cluster, path(["ls"], pod="two"), protocols)
    message = "a container name must be specified for pod two, choose one of: [a b]"
    assert (exc.status, exc.json()) == (400, failure(400, "BadRequest", message))
    exc = await refused(cluster, path(["ls"], pod="two", container="x"), protocols)
    message = "container x is not valid for pod two"
    assert (exc.status, exc.json()) == (400, failure(400, "BadRequest", message))
    running_pod(cluster, "pending", node=None, admitted=False)
    exc = await refused(cluster, path(["ls"], pod="pending"), protocols)
    message = "pod pending does not have a host assigned"
    assert (exc.status, exc.json()) == (400, failure(400, "BadRequest", message))


async def test_exec_container_name_choices_list_init_containers_first(
    cluster: FakeCluster,
) -> None:
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "init"},
            "spec": {
                "nodeName": "node-1",
                "initContainers": [{"name": "i", "image": "busybox"}],
                "containers": [{"name": "a", "image": "busybox"}, {"name": "b", "image": "x"}],
            },
        }
    )
    exc = await refused(cluster, path(["ls"], pod="init"))
    message = "a container name must be specified for pod init, choose one of: [i a b]"
    assert exc.json() == failure(400, "BadRequest", message)


async def test_exec_kubelet_refusals_are_plain_text_without_the_translator(
    cluster: FakeCluster,
) -> None:
    exc = await refused(cluster, path(["ls"], stdout=False, stderr=False), [V4])
    assert (exc.status, exc.body) == (400, b"you must specify at least 1 of stdin, stdout, stderr")
    # a terminal has no stderr stream: asking for it alone asks for nothing
    exc = await refused(cluster, path(["ls"], stdout=False, tty=True), [V4])
    assert exc.status == 400
    running_pod(cluster, "waiting", state="waiting")
    exc = await refused(cluster, path(["ls"], pod="waiting"), [V4])
    assert (exc.status, exc.body) == (500, b'container not found ("c")')
    running_pod(cluster, "unadmitted", admitted=False)
    exc = await refused(cluster, path(["ls"], pod="unadmitted"), [V4])
    assert (exc.status, exc.body) == (404, b"pod does not exist")
    exc = await refused(cluster, path(["ls"]), ["v9.channel.k8s.io"])
    assert (exc.status, exc.body) == (403, b"")
    await trio.testing.wait_all_tasks_blocked()  # the server records after answering
    record = list(cluster.requests)[-1]
    assert (record.subresource, record.status) == ("exec", 403)


async def test_exec_kubelet_refusals_arrive_as_status_through_the_translator(
    cluster: FakeCluster,
) -> None:
    frames, ws = await run(cluster, ["ls"], stdout=False, stderr=False)
    assert ws.subprotocol == V5
    assert frames[0] == b"\x03"
    assert status(frames) == internal_error(
        "unable to upgrade connection: you must specify at least 1 of stdin, stdout, stderr"
    )
    running_pod(cluster, "done", state="terminated")
    async with open_ws(cluster, path(["ls"], pod="done"), subprotocols=[V5]) as ws:
        frames = await ws.receive_all()
    assert frames[0] == b"\x01"
    assert status(frames) == internal_error(
        'unable to upgrade connection: container not found ("c")'
    )


@pytest.mark.parametrize(
    ("program", "why"),
    [
        ("nope", 'exec: "nope": executable file not found in $PATH'),
        ("/bin/bash5", 'exec: "/bin/bash5": stat /bin/bash5: no such file or directory'),
    ],
)
async def test_exec_unknown_commands_fail_as_the_runtime_fails(
    cluster: FakeCluster, program: str, why: str
) -> None:
    frames, _ = await run(cluster, [program], protocols=[V4])
    body = status(frames)
    inner = body["details"]["causes"][0]["message"]
    prefix = (
        'error executing command in container: failed to exec in container: failed to start exec "'
    )
    assert inner.startswith(prefix)
    exec_id, _, rest = inner[len(prefix) :].partition('"')
    assert len(exec_id) == 64
    assert rest == (
        f": OCI runtime exec failed: exec failed: unable to start container process: {why}: unknown"
    )
    assert body == internal_error(inner)
    # the translator wraps the runtime's error once more
    frames, _ = await run(cluster, [program])
    body = status(frames)
    assert body["message"].startswith(
        "Internal error occurred: Internal error occurred: error executing command in container: "
    )
    assert body["reason"] == "InternalError"


async def test_exec_over_plain_http_answers_the_apiserver_checks_then_400(
    cluster: FakeCluster,
) -> None:
    async with cluster.http_client(timeout=None) as http:
        # kubectl's fallback after a refused WebSocket is a SPDY POST: same checks, same answers
        answer = await http.post(path(["ls"], container="nope"), headers={"Upgrade": "SPDY/3.1"})
        assert (answer.status_code, answer.json()) == (
            400,
            failure(400, "BadRequest", "container nope is not valid for pod p"),
        )
        answer = await http.post(path(["ls"], pod="gone"))
        assert answer.status_code == 404
        answer = await http.get(path(["ls"]))
        assert answer.json() == failure(400, "BadRequest", "Upgrade request required")
        answer = await http.post(
            path(pod="p", subresource="attach"), headers={"Upgrade": "SPDY/3.1"}
        )
        assert answer.status_code == 400
        assert "not SPDY/3.1" in answer.json()["message"]


# -- commands ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "out", "err", "code"),
    [
        (["echo", "-n", "a", "b"], b"a b", b"", 0),
        (["/bin/echo", "-e", "x\\ty"], b"x\ty\n", b"", 0),
        (["true"], b"", b"", 0),
        (["false"], b"", b"", 1),
        (["hostname"], b"p\n", b"", 0),
        (["printenv", "FOO", "HOSTNAME"], b"bar\np\n", b"", 0),
        (["printenv", "NOPE"], b"", b"", 1),
        (["printf", "%s=%d\\n", "a", "1", "b", "2"], b"a=1\nb=2\n", b"", 0),
        (["printf", "%5.1f|%-3s|%%\\n", "3.14159", "x"], b"  3.1|x  |%\n", b"", 0),
        (["date"], b"Wed Jan  2 03:04:05 UTC 2030\n", b"", 0),
        (["date", "+%Y-%m-%dT%H:%M:%SZ"], b"2030-01-02T03:04:05Z\n", b"", 0),
        (["ls", "/etc"], b"hostname\nhosts\nresolv.conf\n", b"", 0),
        (["ls", "/nope"], b"", b"ls: cannot access '/nope': No such file or directory\n", 2),
        (["cat", "/etc/hostname"], b"p\n", b"", 0),
        (["cat", "/nope"], b"", b"cat: /nope: No such file or directory\n", 1),
        (["cat", "/etc"], b"", b"cat: /etc: Is a directory\n", 1),
        (["pwd"], b"/\n", b"", 0),
        (["whoami"], b"root\n", b"", 0),
        (["uname", "-sn"], b"Linux p\n", b"", 0),
        (
            ["sleep", "x"],
            b"",
            b"sleep: invalid time interval 'x'\nTry 'sleep --help' for more information.\n",
            1,
        ),
        (["sleep", "0"], b"", b"", 0),
        (["sh", "-c", "echo $FOO ${HOSTNAME}; echo '$FOO'"], b"bar p\n$FOO\n", b"", 0),
        (["sh", "-c", "false || echo fallback && echo then; true"], b"fallback\nthen\n", b"", 0),
        (["sh", "-c", 'X=1; echo "x=$X" "$?"'], b"x=1 0\n", b"", 0),
        (["sh", "-c", "echo one | cat | cat"], b"one\n", b"", 0),
        (["sh", "-c", "nope"], b"", b"sh: 1: nope: not found\n", 127),
        (["bash", "-c", "nope"], b"", b"bash: line 1: nope: command not found\n", 127),
        (["sh", "-c", "echo hidden 2>/dev/null >/dev/null; echo shown"], b"shown\n", b"", 0),
        (
            ["sh", "-c", "if true; then echo; fi"],
            b"",
            b'sh: 1: Syntax error: "if" is not supported by this shell\n',
            2,
        ),
        (["sh", "-c", "echo 'open"], b"", b"sh: 1: Syntax error: Unterminated quoted string\n", 2),
        (["env", "A=1", "printenv", "A"], b"1\n", b"", 0),
        # a pipeline's stages are subshells: exit leaves its stage, the last stage's status wins
        (["sh", "-c", "echo hi | exit 3"], b"", b"", 3),
        (["sh", "-c", "exit 3 | cat; echo after"], b"after\n", b"", 0),
    ],
)
async def test_exec_builtin_commands(
    cluster: FakeCluster, command: list[str], out: bytes, err: bytes, code: int
) -> None:
    frames, _ = await run(cluster, command)
    assert (output(frames, 1), output(frames, 2), exit_code(frames)) == (out, err, code)


async def test_exec_env_prints_the_container_environment(cluster: FakeCluster) -> None:
    frames, _ = await run(cluster, ["env"])
    lines = output(frames).decode().splitlines()
    assert lines[:3] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=p",
        "FOO=bar",
    ]
    assert "KUBERNETES_SERVICE_HOST=10.96.0.1" in lines
    assert lines[-1] == "HOME=/root"


async def test_exec_env_resolves_references_and_volumes(cluster: FakeCluster) -> None:
    cluster.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": "v"}}
    )
    cluster.create(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec"}, "data": {"pw": "czNj"}}
    )
    extra = {
        "env": [
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}},
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "pw"}}},
        ],
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "volumeMounts": [
            {"name": "conf", "mountPath": "/etc/conf"},
            {"name": "secret", "mountPath": "/run/pw", "subPath": "pw"},
        ],
    }
    spec = {
        "nodeName": "node-1",
        "containers": [{"name": "c", "image": "busybox", **extra}],
        "volumes": [
            {"name": "conf", "configMap": {"name": "cfg"}},
            {"name": "secret", "secret": {"secretName": "sec"}},
        ],
    }
    created = cluster.create(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "vols"}, "spec": spec}
    )
    runtime = PodRuntime(created["metadata"]["uid"], "default", "vols", "node-1")
    runtime.containers["c"] = ContainerRuntime("c", "busybox", state="running")
    cluster.state.runtime.add(runtime)
    script = "printenv POD NS K PW CFG_k; cat /etc/conf/k; echo; cat /run/pw; echo; ls /etc/conf"
    async with open_ws(cluster, path(["sh", "-c", script], pod="vols"), subprotocols=[V5]) as ws:
        frames = await ws.receive_all()
    assert output(frames) == b"vols\ndefault\nv\ns3c\nv\nv\ns3c\nk\n"


async def test_exec_files_written_by_tests_and_by_commands(cluster: FakeCluster) -> None:
    fs = cluster.container_fs("p", "c")
    fs.write("/data/in.txt", "from the test\n")
    script = "cat /data/in.txt; echo one > /tmp/f; echo two >> /tmp/f; cat < /tmp/f; ls /data /tmp"
    frames, _ = await run(cluster, ["sh", "-c", script])
    assert output(frames) == b"from the test\none\ntwo\n/data:\nin.txt\n\n/tmp:\nf\n"
    assert fs.read("/tmp/f") == b"one\ntwo\n"
    frames, _ = await run(cluster, ["sh", "-c", "echo x > /missing/dir/f"])
    assert output(frames, 2) == b"sh: 1: cannot create /missing/dir/f: Directory nonexistent\n"
    assert exit_code(frames) == 2


async def test_exec_interactive_shell_reads_commands_from_stdin(cluster: FakeCluster) -> None:
    frames, _ = await run(cluster, ["sh"], stdin=b"echo a\ncd /etc\npwd\nexit 5\necho never\n")
    assert output(frames) == b"a\n/etc\n"
    assert exit_code(frames) == 5
    frames, _ = await run(cluster, ["sh"], stdin=b"echo on a tty\n", tty=True, stderr=False)
    assert output(frames) == b"# on a tty\n# "


async def test_exec_registered_handlers_most_specific_first(cluster: FakeCluster) -> None:
    running_pod(cluster, "other", ["c", "side"])

    def answering(text: str) -> Any:
        async def handler(ctx: ExecContext) -> int:
            await ctx.stdout.write(f"{text} {' '.join(ctx.argv[1:])}".strip())
            return 0

        return handler

    cluster.register_command(None, answering("any"))
    cluster.register_command("tool", answering("by-name"))
    cluster.register_command(lambda argv: len(argv) == 3, answering("predicate"))
    cluster.register_command(["tool", "exact"], answering("exact"))
    cluster.register_command("tool", answering("in-side"), container="side")
    unregister = cluster.register_command("tool", answering("in-p"), pod="p")

    async def answer(command: list[str], pod: str = "p", **flags: Any) -> bytes:
        async with open_ws(cluster, path(command, pod=pod, **flags), subprotocols=[V5]) as ws:
            return output(await ws.receive_all())

    assert await answer(["tool", "exact"], pod="other", container="c") == b"exact exact"
    assert await answer(["/usr/bin/tool", "x"], pod="other", container="c") == b"by-name x"
    assert await answer(["tool", "a", "b"], pod="other", container="c") == b"predicate a b"
    assert await answer(["echo", "a", "b"], pod="other", container="c") == b"predicate a b"
    assert await answer(["echo", "hi"], pod="other", container="c") == b"any hi"
    assert await answer(["tool", "exact"], pod="other", container="side") == b"in-side exact"
    assert await answer(["tool", "exact"]) == b"in-p exact"
    unregister()
    assert await answer(["tool", "exact"]) == b"exact exact"


async def test_exec_handlers_run_other_commands(cluster: FakeCluster) -> None:
    async def wrapper(ctx: ExecContext) -> int:
        code = await ctx.run(["sh", "-c", "echo inner; exit 7"])
        await ctx.stdout.write(f"inner exited {code}\n")
        return code + 1

    cluster.register_command(["wrapper"], wrapper)
    frames, _ = await run(cluster, ["sh", "-c", "wrapper"])
    assert output(frames) == b"inner\ninner exited 7\n"
    assert exit_code(frames) == 8


async def test_exec_handlers_run_without_a_server() -> None:
    # an ExecContext without a client captures what the command writes: handlers are testable
    commands = Commands(BUILTINS)
    ctx = ExecContext(argv=(), resolve=commands.resolver("default", "p", "c"))
    code = await ctx.run(["sh", "-c", "echo hi; echo err >&2; exit 4"])
    assert (bytes(ctx.stdout.captured), bytes(ctx.stderr.captured), code) == (b"hi\n", b"err\n", 4)


# -- attach --------------------------------------------------------------------------------------


async def test_attach_follows_the_log_and_echoes_stdin(cluster: FakeCluster) -> None:
    running_pod(cluster, "tty-less", stdin=True)
    log = container(cluster, "tty-less").log
    log.append("before attaching", time=cluster.state.now())
    query = path(pod="tty-less", subresource="attach", stdin=True)
    async with open_ws(cluster, query, subprotocols=[V5]) as ws:
        assert await ws.receive() == b"\x01"
        log.append("line one", time=cluster.state.now())
        assert await ws.receive() == b"\x01line one\n"
        log.append("oops", time=cluster.state.now(), stream="stderr")
        assert await ws.receive() == b"\x02oops\n"
        await ws.send(b"\x00typed\n")  # the default attach handler echoes it into the log
        assert await ws.receive() == b"\x01typed\n"
        log.close()  # the container stopped
        assert await ws.receive_all() == [SUCCESS]
        assert ws.close_code == 1000
    assert [line.text for line in log.lines] == ["before attaching", "line one", "oops", "typed"]


async def test_attach_to_a_terminal_joins_stderr_and_uses_a_registered_handler(
    cluster: FakeCluster,
) -> None:
    running_pod(cluster, "term", stdin=True, tty=True)
    received: list[bytes] = []

    async def console(ctx: AttachContext) -> None:
        assert ctx.tty
        async for line in ctx.stdin.lines():
            received.append(line)
            ctx.write(f"got {line.decode().strip()}", stream="stderr")

    cluster.register_attach(console, pod="term")
    query = path(pod="term", subresource="attach", stdin=True, stderr=False, tty=True)
    async with open_ws(cluster, query, subprotocols=[V5]) as ws:
        assert await ws.receive() == b"\x01"
        await ws.send(b"\x00ls\n")
        assert await ws.receive() == b"\x01got ls\n"
        container(cluster, "term").log.close()
        assert await ws.receive_all() == [SUCCESS]
    assert received == [b"ls\n"]


async def test_attach_stdin_is_dropped_when_the_container_has_none(cluster: FakeCluster) -> None:
    query = path(subresource="attach", stdin=True)
    log = container(cluster).log
    async with open_ws(cluster, query, subprotocols=[V4]) as ws:
        assert await ws.receive() == b"\x01"
        await ws.send(b"\x00ignored\n")
        log.append("after", time=cluster.state.now())
        assert await ws.receive() == b"\x01after\n"
        log.close()
        assert await ws.receive_all() == [SUCCESS]
    assert [line.text for line in log.lines] == ["after"]


async def test_attach_refusals_match_exec(cluster: FakeCluster) -> None:
    running_pod(cluster, "waiting", state="waiting")
    exc = await refused(cluster, path(pod="waiting", subresource="attach"), [V4])
    assert (exc.status, exc.body) == (500, b'container not found ("c")')
    exc = await refused(cluster, path(pod="nope", subresource="attach"))
    assert exc.status == 404


# -- the official client ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def official() -> Iterator[tuple[FakeClusterThread, client.CoreV1Api]]:
    """A cluster served from a thread with a running pod, and the official client's API."""
    with run_fake_cluster_in_thread(kubelet=False, controllers=False) as fake:
        fake.call(lambda c: running_pod(c, "oc"))
        configuration = client.Configuration()
        config.load_kube_config(
            config_file=str(fake.kubeconfig_path), client_configuration=configuration
        )
        with client.ApiClient(configuration) as api:
            yield fake, client.CoreV1Api(api)


@contextmanager
def official_exec(
    core: client.CoreV1Api, command: list[str], *, stdin: bool = False
) -> Iterator[Any]:
    """The official client's ``stream()`` exec session (``_preload_content=False``), with its
    socket closed at the end: once the server has closed the WebSocket, ``WSClient.close()``
    leaves the socket open (websocket-client skips its shutdown)."""
    resp = stream(
        core.connect_get_namespaced_pod_exec,
        "oc",
        "default",
        command=command,
        stderr=True,
        stdin=stdin,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    try:
        yield resp
    finally:
        resp.close()
        resp.sock.shutdown()


def test_exec_official_client_stream_returns_the_output(
    official: tuple[FakeClusterThread, client.CoreV1Api],
) -> None:
    _, core = official
    # what stream() does with _preload_content=True, without leaving the socket open
    with official_exec(core, ["sh", "-c", "echo hi; echo err >&2"]) as resp:
        resp.run_forever(timeout=30)
        assert resp.returncode == 0  # (read_all() drops the status channel too)
        assert resp.read_all() == "hi\nerr\n"


def test_exec_official_client_reads_the_exit_code(
    official: tuple[FakeClusterThread, client.CoreV1Api],
) -> None:
    _, core = official
    with official_exec(core, ["sh", "-c", "exit 3"]) as resp:
        resp.run_forever(timeout=30)
        assert resp.returncode == 3


def test_exec_official_client_writes_stdin_to_cat(
    official: tuple[FakeClusterThread, client.CoreV1Api],
) -> None:
    _, core = official
    with official_exec(core, ["cat"], stdin=True) as resp:
        assert resp.subprotocol == V5
        resp.write_stdin("hello\n")
        assert resp.readline_stdout(timeout=30) == "hello"
        resp.write_stdin(b"bytes too\n")
        resp.close_channel(0)  # v5: stdin ends, so cat exits
        resp.run_forever(timeout=30)
        assert resp.read_stdout() == "bytes too\n"
        assert resp.returncode == 0


# -- kubectl -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kubectl(
    official: tuple[FakeClusterThread, client.CoreV1Api], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run kubectl against the module's cluster (its own HOME: a discovery cache of its own)."""
    require_kubectl()
    fake, _ = official
    return Kubectl(fake.kubeconfig_path, tmp_path_factory.mktemp("kubectl-home")).run


@pytest.mark.kubectl
def test_exec_kubectl(kubectl: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    done = kubectl("exec", "oc", "--", "echo", "hi")
    assert (done.returncode, done.stdout, done.stderr) == (0, "hi\n", "")
    done = kubectl("exec", "-i", "oc", "--", "cat", input="piped\nstdin\n")
    assert (done.returncode, done.stdout) == (0, "piped\nstdin\n")
    done = kubectl("exec", "oc", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (done.returncode, done.stdout, done.stderr) == (
        3,
        "out\n",
        "err\ncommand terminated with exit code 3\n",
    )
    # the WebSocket is refused, kubectl falls back to SPDY, and shows the apiserver's answer
    done = kubectl("exec", "oc", "-c", "nope", "--", "ls")
    assert (done.returncode, done.stderr) == (
        1,
        "Error from server (BadRequest): container nope is not valid for pod oc\n",
    )


def test_exec_context_repr_leaves_out_the_environment() -> None:
    # the environment may hold Secret values (secretKeyRef, envFrom)
    ctx = ExecContext(argv=("env",), env={"DB_PASSWORD": "hunter2"}, pod_name="p")
    assert "hunter2" not in repr(ctx)
    assert "argv=('env',)" in repr(ctx)
