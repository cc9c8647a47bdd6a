"""``kubectl port-forward`` (1.31+: SPDY/3.1 tunnelled in a WebSocket) against the fake.

The cluster runs in a thread; kubectl, with a HOME of its own, forwards local ports to a pod
made Running by hand (kubectl apply, then a status patch), and the test connects to them: httpx
to the default HTTP responder, a raw socket to a registered handler, and a closed port, after
which kubectl gives up as it does with a real pod. Skipped when kubectl is absent. Nothing
sleeps: kubectl's output is read line by line with a deadline.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubectl_support import DEADLINE, Kubectl, require_kubectl

from kr8s_trio.testing import FakeClusterThread, ForwardedStream, run_fake_cluster_in_thread

#: what a containerd node writes when nothing listens on port 81 (sandbox id: 64 hex digits)
REFUSED = re.compile(
    r"error forwarding port 81 to pod (?P<sandbox>[0-9a-f]{64}), uid : failed to execute "
    r'portforward in network namespace "/var/run/netns/cni-[0-9a-f-]{36}": failed to connect '
    r'to localhost:81 inside namespace "(?P=sandbox)", IPv4: dial tcp4 127\.0\.0\.1:81: connect: '
    r"connection refused IPv6 dial tcp6 \[::1\]:81: connect: connection refused $"
)


def pod_manifest() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}],
        },
    }


@pytest.fixture
def kubectl_cluster(tmp_path: Path) -> Iterator[tuple[FakeClusterThread, Kubectl]]:
    """A cluster in a thread, and kubectl with a discovery cache of this cluster's own."""
    require_kubectl()
    with run_fake_cluster_in_thread(kubelet=False, controllers=False) as handle:
        kubectl = Kubectl(handle.kubeconfig_path, tmp_path, timeout=DEADLINE)
        try:
            yield handle, kubectl
        finally:
            kubectl.close()


@pytest.mark.kubectl
def test_kubectl_port_forward_reaches_the_pod(
    kubectl_cluster: tuple[FakeClusterThread, Kubectl],
) -> None:
    cluster, kubectl = kubectl_cluster
    kubectl.apply_ok(pod_manifest(), flags=("--validate=false",))
    kubectl.ok(
        "patch",
        "pod",
        "web",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"phase":"Running"}}',
    )

    async def greet(stream: ForwardedStream) -> None:
        while data := await stream.receive_some():
            await stream.send_all(b"pg:" + data)

    cluster.call(lambda c: c.ports.register("default", "web", 5432, greet))
    proc = kubectl.background("port-forward", "pod/web", ":80", ":5432")
    try:
        http_port = int(proc.stdout.expect(r"^Forwarding from 127\.0\.0\.1:(\d+) -> 80$")[1])
        pg_port = int(proc.stdout.expect(r"^Forwarding from 127\.0\.0\.1:(\d+) -> 5432$")[1])
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=DEADLINE) as http:
            for path in ("/", "/healthz"):  # two requests, one kept-alive connection
                response = http.get(path)
                assert response.status_code == 200
                assert response.text == f"fake pod default/web port 80: GET {path}\n"
        with socket.create_connection(("127.0.0.1", pg_port), timeout=DEADLINE) as conn:
            conn.sendall(b"select 1")
            assert conn.recv(100) == b"pg:select 1"
        assert proc.running
    finally:
        proc.close()
    (request, *_) = cluster.requests.filter(subresource="portforward")
    assert request.status == 101
    assert request.query == {}  # kubectl names no ports: they travel in the SPDY headers


@pytest.mark.kubectl
def test_kubectl_port_forward_to_a_closed_port(
    kubectl_cluster: tuple[FakeClusterThread, Kubectl],
) -> None:
    cluster, kubectl = kubectl_cluster
    cluster.create(pod_manifest())
    cluster.patch_status("pods", "web", {"phase": "Running"})
    proc = kubectl.background("port-forward", "pod/web", ":81")
    local = int(proc.stdout.expect(r"^Forwarding from 127\.0\.0\.1:(\d+) -> 81$")[1])
    with socket.create_connection(("127.0.0.1", local), timeout=DEADLINE) as conn:
        conn.sendall(b"hello")
        assert conn.recv(100) == b""
    assert proc.wait() == 1  # kubectl gives up on the pod, as with a real one
    errors = proc.stderr.text()
    assert "error: lost connection to pod" in errors
    match = re.search(r"an error occurred forwarding \d+ -> 81: (.*?)\"?\n", errors)
    assert match is not None, errors
    assert REFUSED.fullmatch(match[1].replace('\\"', '"')), match[1]
