"""Trio-native port-forward (`kr8s_trio.portforward.PortForward`) against the fake cluster.

Pods are made Running (and Ready) by hand on an API-only cluster; the fake's default HTTP
responder answers on every declared ``containerPort``, registered handlers on the others. No
sleeps: every wait is on an event, a stream or ``wait_all_tasks_blocked``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from kr8s_trio import Api
from kr8s_trio._portforward import PortForward, PortForwardError
from kr8s_trio.objects import ConfigMap, Deployment, Pod, Service
from kr8s_trio.testing import FakeCluster, ForwardedStream, PortRefused

JSON = dict[str, Any]
REFUSED = "connect: connection refused"


def pod_body(name: str, ports: tuple[int, ...], labels: dict[str, str] | None = None) -> JSON:
    container = {"name": "c", "image": "nginx", "ports": [{"containerPort": p} for p in ports]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": "web"}},
        "spec": {"containers": [container], "nodeName": "node-1"},
    }


def make_running(
    cluster: FakeCluster, name: str = "web", ports: tuple[int, ...] = (80,), *, ready: bool = True
) -> None:
    cluster.create(pod_body(name, ports))
    conditions = [
        {"type": t, "status": "True" if ready else "False"} for t in ("Ready", "ContainersReady")
    ]
    cluster.patch_status("pods", name, {"phase": "Running", "conditions": conditions})


async def http_get(port: int, path: str = "/", host: str = "127.0.0.1") -> bytes:
    """One ``Connection: close`` GET on a raw trio stream; the whole answer (read to EOF)."""
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all(
            f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while data := await stream.receive_some():
            answer += data
    return answer


async def refused_get(port: int) -> None:
    """A GET whose connection the forward closes without an answer (a close with our request
    unread may reach the client as a reset)."""
    try:
        answer = await http_get(port)
    except trio.BrokenResourceError:
        return
    assert answer == b""


def body_of(answer: bytes) -> bytes:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n"), answer
    return body


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def count_tasks() -> int:
    def walk(task: trio.lowlevel.Task) -> int:
        return 1 + sum(walk(t) for n in task.child_nurseries for t in n.child_tasks)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    return walk(root)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else 0


@pytest.fixture
async def web(api: Api, cluster: FakeCluster) -> Pod:
    make_running(cluster, "web", (80, 8080))
    return await Pod.get("web")


class Tracked:
    """A port handler counting the fake's open sides of forwarded connections."""

    def __init__(self) -> None:
        self.open = 0
        self.started = trio.Event()
        self.finished = trio.Event()

    async def __call__(self, stream: ForwardedStream) -> None:
        self.open += 1
        self.started.set()
        try:
            await stream.send_all(b"hello")
            while data := await stream.receive_some():
                await stream.send_all(data.upper())
            await trio.sleep_forever()  # the client half-closed: stay until torn down
        finally:
            self.open -= 1
            self.finished.set()


# -- basics -------------------------------------------------------------------------------------


async def test_portforward_auto_with_50_concurrent_connections(web: Pod) -> None:
    async with web.portforward(80, local_port="auto") as pf:
        assert pf.local_port != 80
        assert pf.sockets == (("127.0.0.1", pf.local_port),)
        answers: dict[int, bytes] = {}

        async def one(i: int) -> None:
            answers[i] = await http_get(pf.local_port, f"/raw/{i}")

        async with trio.open_nursery() as nursery:
            for i in range(50):
                nursery.start_soon(one, i)
        for i in range(50):
            assert body_of(answers[i]) == f"fake pod default/web port 80: GET /raw/{i}\n".encode()

        # and with httpx: 50 GETs at once, kept-alive connections
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(limits=limits) as client:
            url = f"http://127.0.0.1:{pf.local_port}"
            responses: list[httpx.Response] = []

            async def fetch(i: int) -> None:
                responses.append(await client.get(f"{url}/httpx/{i}"))

            async with trio.open_nursery() as nursery:
                for i in range(50):
                    nursery.start_soon(fetch, i)
        assert sorted(r.text for r in responses) == sorted(
            f"fake pod default/web port 80: GET /httpx/{i}\n" for i in range(50)
        )
        assert not pf.errors
    assert pf.active_connections == 0


async def test_portforward_two_remote_ports(web: Pod) -> None:
    async with web.portforward([80, 8080], "auto") as pf:
        assert len(pf.local_ports) == 2
        assert len(set(pf.local_ports)) == 2
        assert pf.remote_ports == (80, 8080)
        for local, remote in zip(pf.local_ports, pf.remote_ports, strict=True):
            answer = body_of(await http_get(local, "/two"))
            assert answer == f"fake pod default/web port {remote}: GET /two\n".encode()


async def test_portforward_match_and_int(api: Api, cluster: FakeCluster) -> None:
    port = free_port()
    make_running(cluster, "matched", (port,))
    pod = await Pod.get("matched")
    forward = pod.portforward(port)  # "match" is the default
    assert forward.local_port == port  # known before listening
    async with forward as pf:
        assert pf.local_port == port
        assert body_of(await http_get(port, "/m")).endswith(f"port {port}: GET /m\n".encode())
    chosen = free_port()
    async with pod.portforward(port, chosen) as pf:
        assert pf.local_ports == (chosen,)
        assert body_of(await http_get(chosen, "/i")).endswith(b"GET /i\n")
    # several remote ports: a list of local ports
    ports = [free_port(), free_port()]
    async with pod.portforward([port, port], ports) as pf:
        assert list(pf.local_ports) == ports
        for local in ports:
            assert body_of(await http_get(local)).endswith(b"GET /\n")


async def test_portforward_auto_port_is_known_once_listening(web: Pod) -> None:
    forward = web.portforward(80, None)  # None is "auto", as in kr8s
    with pytest.raises(RuntimeError, match="once the forward listens"):
        _ = forward.local_port
    async with trio.open_nursery() as nursery:
        started = await nursery.start(forward.run)
        assert started is forward
        assert forward.local_port > 0
        assert body_of(await http_get(forward.local_port)).endswith(b"GET /\n")
        with pytest.raises(RuntimeError, match="already running"):
            await forward.run()
        nursery.cancel_scope.cancel()


async def test_portforward_address_list(web: Pod) -> None:
    addresses = ["127.0.0.1", "::1"] if ipv6_loopback() else ["127.0.0.1"]
    if len(addresses) == 1:
        pytest.skip("no IPv6 loopback")
    async with web.portforward(80, "auto", addresses) as pf:
        assert pf.addresses == tuple(addresses)
        assert [host for host, _ in pf.sockets] == addresses
        assert {port for _, port in pf.sockets} == {pf.local_port}  # "auto": one port for all
        for host in addresses:
            body = body_of(await http_get(pf.local_port, f"/{host}", host=host))
            assert body == f"fake pod default/web port 80: GET /{host}\n".encode()


async def test_portforward_host_name_listens_on_its_addresses(web: Pod) -> None:
    async with web.portforward(80, "auto", "localhost") as pf:
        assert pf.sockets
        assert {port for _, port in pf.sockets} == {pf.local_port}
        assert body_of(await http_get(pf.local_port, host="localhost")).endswith(b"GET /\n")


async def test_portforward_busy_local_port_fails_to_start(web: Pod) -> None:
    async with web.portforward(80, "auto") as pf:
        with pytest.raises(OSError, match="in use"):
            async with web.portforward(80, pf.local_port):
                pass


async def test_portforward_rejects_bad_arguments(api: Api, web: Pod) -> None:
    with pytest.raises(ValueError, match="not a Pod"):
        PortForward(ConfigMap({"metadata": {"name": "cm"}}), 80)
    with pytest.raises(ValueError, match="several remote ports"):
        web.portforward([80, 81], 8080)
    with pytest.raises(ValueError, match="2 remote ports"):
        web.portforward([80, 81], [8080])
    with pytest.raises(ValueError, match="local_port must be"):
        web.portforward(80, "any")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="out of range"):
        web.portforward(70000)
    with pytest.raises(TypeError):
        web.portforward("80")  # type: ignore[arg-type]


# -- the bytes ----------------------------------------------------------------------------------


async def test_portforward_bytes_both_ways_and_client_half_close(
    web: Pod, cluster: FakeCluster
) -> None:
    async def echo(stream: ForwardedStream) -> None:
        data = b""
        while chunk := await stream.receive_some():
            data += chunk
            if data.endswith(b"."):
                await stream.send_all(data.upper())
                data = b""

    cluster.ports.register("default", "web", 9000, echo)
    async with web.portforward(9000, "auto", eof_linger=None) as pf:
        stream = await trio.open_tcp_stream("127.0.0.1", pf.local_port)
        async with stream:
            payload = bytes(range(256)) * 4096 + b"."  # 1 MiB, several messages
            async with trio.open_nursery() as nursery:
                nursery.start_soon(stream.send_all, payload)
                received = b""
                while len(received) < len(payload):
                    received += await stream.receive_some()
            assert received == payload.upper()
            # half-close: the tunnel stops sending but still delivers what the pod answers
            await stream.send_all(b"last")
            await stream.send_eof()
            await trio.testing.wait_all_tasks_blocked()
            assert pf.active_connections == 1


async def test_portforward_half_closed_client_gets_the_answer(web: Pod) -> None:
    async with web.portforward(80, "auto") as pf:
        stream = await trio.open_tcp_stream("127.0.0.1", pf.local_port)
        async with stream:
            await stream.send_all(b"GET /eof HTTP/1.1\r\nHost: x\r\n\r\n")
            await stream.send_eof()
            expected = b"fake pod default/web port 80: GET /eof\n"
            answer = b""
            while not answer.endswith(expected):
                answer += await stream.receive_some()
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


async def test_portforward_pod_closing_closes_the_connection(
    web: Pod, cluster: FakeCluster
) -> None:
    async def goodbye(stream: ForwardedStream) -> None:
        await stream.send_all(b"bye")

    cluster.ports.register("default", "web", 9001, goodbye)
    async with web.portforward(9001, "auto") as pf:
        stream = await trio.open_tcp_stream("127.0.0.1", pf.local_port)
        async with stream:
            answer = b""
            while data := await stream.receive_some():
                answer += data
            assert answer == b"bye"
    assert not pf.errors


async def test_portforward_error_channel_closes_one_connection(
    web: Pod, cluster: FakeCluster, caplog: pytest.LogCaptureFixture
) -> None:
    async with web.portforward(81, "auto") as pf:  # nothing listens on 81 in the pod
        stream = await trio.open_tcp_stream("127.0.0.1", pf.local_port)
        async with stream:
            assert await stream.receive_some() == b""
        (error,) = pf.errors
        assert isinstance(error, PortForwardError)
        assert error.remote_port == 81
        assert error.pod == "default/web"
        assert error.message.startswith("error forwarding port 81 to pod ")
        assert REFUSED in error.message
        assert "port-forward to default/web port 81 failed" in caplog.text
        # the forwarder carries on: once something listens, connections go through
        cluster.ports.register("default", "web", 81, Tracked())
        stream = await trio.open_tcp_stream("127.0.0.1", pf.local_port)
        async with stream:
            assert await stream.receive_some() == b"hello"
        assert len(pf.errors) == 1


async def test_portforward_deleted_pod_fails_connections_not_the_forward(
    web: Pod, cluster: FakeCluster
) -> None:
    async with web.portforward(80, "auto") as pf:
        cluster.delete("pods", "web", grace_period_seconds=0)
        for _ in range(2):
            await refused_get(pf.local_port)
        assert pf.pod is web  # a Pod is never replaced
    assert [e.pod for e in pf.errors] == ["default/web", "default/web"]
    assert all("cannot open the port-forward WebSocket" in e.message for e in pf.errors)
    assert all("not found" in e.message for e in pf.errors)


# -- Service and Deployment ---------------------------------------------------------------------


def chosen(pf: PortForward) -> Pod | None:
    """The forward's current pod (a call, so that type checkers do not narrow it)."""
    return pf.pod


async def refuse(stream: ForwardedStream) -> None:
    raise PortRefused


async def make_service(api: Api, selector: dict[str, str]) -> Service:
    svc = Service(
        {
            "metadata": {"name": "web"},
            "spec": {"selector": selector, "ports": [{"port": 8000, "targetPort": 80}]},
        }
    )
    await svc.create()
    return svc


async def test_portforward_service_uses_a_ready_pod_and_sticks(
    api: Api, cluster: FakeCluster
) -> None:
    for name in ("a", "b", "c"):
        make_running(cluster, name, (80,), ready=name != "c")
    svc = await make_service(api, {"app": "web"})
    async with svc.portforward(80, "auto") as pf:
        assert chosen(pf) is None
        bodies = {body_of(await http_get(pf.local_port)) for _ in range(5)}
        assert pf.pod is not None
        (body,) = bodies  # sticky: always the same pod
        assert body == f"fake pod default/{pf.pod.name} port 80: GET /\n".encode()
        assert pf.pod.name in {"a", "b"}  # never the unready one


async def test_portforward_service_picks_again_after_a_failure(
    api: Api, cluster: FakeCluster
) -> None:
    for name in ("a", "b"):
        make_running(cluster, name, (80,))
    svc = await make_service(api, {"app": "web"})
    async with svc.portforward(80, "auto") as pf:
        await http_get(pf.local_port)
        assert pf.pod is not None
        first = pf.pod.name
        other = "b" if first == "a" else "a"
        # the chosen pod goes: its WebSocket is refused, another pod serves the connection
        cluster.delete("pods", first, grace_period_seconds=0)
        assert body_of(await http_get(pf.local_port)).startswith(
            f"fake pod default/{other} ".encode()
        )
        assert pf.pod.name == other
        # an error on the error channel also makes the next connection pick again
        cluster.ports.register("default", other, 80, refuse)
        await refused_get(pf.local_port)
        assert chosen(pf) is None
        assert [e.pod for e in pf.errors] == [f"default/{other}"]


async def test_portforward_deployment_and_ready_wait(api: Api, cluster: FakeCluster) -> None:
    deployment = Deployment(
        {
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
    )
    await deployment.create()
    async with deployment.portforward(80, "auto", ready_timeout=60) as pf:
        answer: list[bytes] = []
        async with trio.open_nursery() as nursery:

            async def get() -> None:
                answer.append(await http_get(pf.local_port, "/late"))

            nursery.start_soon(get)
            await trio.testing.wait_all_tasks_blocked()  # the forward waits for a ready pod
            assert pf.pod is None
            make_running(cluster, "late", (80,))
        assert body_of(answer[0]) == b"fake pod default/late port 80: GET /late\n"


async def test_portforward_ready_wait_is_bounded(api: Api, cluster: FakeCluster) -> None:
    svc = await make_service(api, {"app": "nothing"})
    async with svc.portforward(80, "auto", ready_timeout=0.05) as pf:
        # connections arriving together share one bounded wait, and all fail
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(refused_get, pf.local_port)
        assert pf.active_connections == 0
    assert len(pf.errors) == 3
    assert all("no ready pod for Service web within 0.05 s" in e.message for e in pf.errors)


# -- cancellation and cleanup -------------------------------------------------------------------


@pytest.fixture
async def baseline(web: Pod) -> tuple[int, int]:
    await web.refresh()  # the client's pooled connection exists before the count
    await trio.testing.wait_all_tasks_blocked()
    return count_tasks(), open_fds()


async def settled(baseline: tuple[int, int]) -> None:
    """No task and no file descriptor more than before (fewer is fine: cancelling a watch
    closes the client's connection it used, and the fake's task serving it)."""
    await trio.testing.wait_all_tasks_blocked()
    tasks, fds = baseline
    assert count_tasks() <= tasks
    assert open_fds() <= fds


async def test_cancel_while_listening_leaves_nothing(web: Pod, baseline: tuple[int, int]) -> None:
    with trio.CancelScope() as scope:
        async with web.portforward(80, "auto") as pf:
            port = pf.local_port
            scope.cancel()
    await settled(baseline)
    with pytest.raises(OSError, match="failed"):
        await trio.open_tcp_stream("127.0.0.1", port)


async def test_cancel_mid_transfer_closes_both_sides(
    web: Pod, cluster: FakeCluster, baseline: tuple[int, int]
) -> None:
    tracked = Tracked()
    cluster.ports.register("default", "web", 9002, tracked)
    async with web.portforward(9002, "auto", eof_linger=None) as pf:
        streams = [await trio.open_tcp_stream("127.0.0.1", pf.local_port) for _ in range(5)]
        for stream in streams:
            assert await stream.receive_some() == b"hello"
            await stream.send_all(b"abc")
            assert await stream.receive_some() == b"ABC"
        await streams[0].send_eof()  # one in the lingering phase
        await trio.testing.wait_all_tasks_blocked()
        assert tracked.open == 5
        assert pf.active_connections == 5
    assert pf.active_connections == 0
    with trio.fail_after(5):
        while tracked.open:
            await tracked.finished.wait()
            tracked.finished = trio.Event()
    for stream in streams:  # the local side sees the connection end (EOF, or a reset)
        with trio.fail_after(5), contextlib.suppress(trio.BrokenResourceError):
            while await stream.receive_some():
                pass
        await stream.aclose()
    await settled(baseline)


async def test_cancel_while_waiting_for_a_ready_pod(
    api: Api, cluster: FakeCluster, baseline: tuple[int, int]
) -> None:
    svc = await make_service(api, {"app": "nothing"})
    async with svc.portforward(80, "auto") as pf:
        stream = await trio.open_tcp_stream("127.0.0.1", pf.local_port)
        await trio.testing.wait_all_tasks_blocked()
        assert pf.active_connections == 1
    assert await stream.receive_some() == b""
    await stream.aclose()
    assert not pf.errors  # cancelled, not failed
    await settled(baseline)


async def test_cancel_from_outside_the_nursery(
    web: Pod, cluster: FakeCluster, baseline: tuple[int, int]
) -> None:
    tracked = Tracked()
    cluster.ports.register("default", "web", 9003, tracked)
    async with trio.open_nursery() as nursery:
        pf = await nursery.start(web.portforward(9003, "auto").run)
        stream = await trio.open_tcp_stream("127.0.0.1", pf.local_port)
        assert await stream.receive_some() == b"hello"
        nursery.cancel_scope.cancel()
    await tracked.finished.wait()
    assert tracked.open == 0
    assert await stream.receive_some() == b""
    await stream.aclose()
    await settled(baseline)


# -- no asyncio ---------------------------------------------------------------------------------


def test_portforward_in_a_plain_trio_program(tmp_path: Path) -> None:
    script = tmp_path / "forward.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys
            import trio
            from kr8s_trio.objects import Pod
            from kr8s_trio.portforward import PortForward
            from kr8s_trio.testing import open_fake_cluster

            async def main():
                async with open_fake_cluster(kubelet=False, controllers=False) as cluster:
                    os.environ["KUBECONFIG"] = str(cluster.kubeconfig_path)
                    cluster.create({
                        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                        "spec": {"nodeName": "n", "containers": [
                            {"name": "c", "image": "i", "ports": [{"containerPort": 80}]}]},
                    })
                    cluster.patch_status("pods", "web", {"phase": "Running"})
                    pod = await Pod.get("web")
                    async with PortForward(pod, 80, "auto") as pf:
                        stream = await trio.open_tcp_stream("127.0.0.1", pf.local_port)
                        await stream.send_all(b"GET /plain HTTP/1.1\\r\\nHost: x\\r\\n"
                                              b"Connection: close\\r\\n\\r\\n")
                        answer = b""
                        while data := await stream.receive_some():
                            answer += data
                        await stream.aclose()
                    print(answer.rsplit(b"\\r\\n", 1)[-1].decode().strip())
                assert "asyncio" not in sys.modules, "asyncio was imported"

            trio.run(main)
            print("asyncio" in sys.modules)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["fake pod default/web port 80: GET /plain", "False"]
