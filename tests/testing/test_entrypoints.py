"""The ways in: the pytest fixtures, the thread runner, the CLI, the demo, and clean shutdown."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing
import yaml

from kr8s_trio.testing import FakeCluster, FakeClusterThread, open_fake_cluster

ROOT = Path(__file__).resolve().parents[2]


def _count_tasks() -> int:
    def walk(task: trio.lowlevel.Task) -> int:
        return 1 + sum(walk(t) for n in task.child_nurseries for t in n.child_tasks)

    return walk(trio.lowlevel.current_root_task())


async def test_entrypoints_fixture_serves_https(fake_cluster: FakeCluster) -> None:
    async with fake_cluster.http_client() as http:
        response = await http.get("/version")
    assert response.status_code == 200
    assert response.json()["gitVersion"] == "v1.33.1"
    assert fake_cluster.url.startswith("https://127.0.0.1:")


def test_entrypoints_thread_fixture_serves_sync_code(
    fake_cluster_thread: FakeClusterThread,
) -> None:
    ctx = httpx.create_ssl_context()
    ctx.load_verify_locations(cadata=fake_cluster_thread.ca_pem.decode())
    headers = {"Authorization": f"Bearer {fake_cluster_thread.token}"}
    with httpx.Client(base_url=fake_cluster_thread.url, verify=ctx, headers=headers) as http:
        body = {"metadata": {"name": "made-over-http"}, "data": {"a": "1"}}
        assert http.post("/api/v1/namespaces/default/configmaps", json=body).status_code == 201
    seen = fake_cluster_thread.get("configmaps", "made-over-http")
    assert seen["data"] == {"a": "1"}


async def test_entrypoints_shutdown_leaves_no_tasks_threads_or_files() -> None:
    await trio.testing.wait_all_tasks_blocked()
    tasks_before = _count_tasks()
    threads_before = threading.active_count()
    async with open_fake_cluster() as cluster:
        path = cluster.kubeconfig_path
        assert path.exists()
        assert (path.stat().st_mode & 0o777) == 0o600
        url = cluster.url
        async with (
            cluster.http_client() as http,
            http.stream("GET", "/api/v1/pods", params={"watch": "1"}) as watch,
        ):
            assert watch.status_code == 200
    await trio.testing.wait_all_tasks_blocked()
    assert _count_tasks() == tasks_before
    assert threading.active_count() == threads_before
    assert not path.exists()
    assert not path.parent.exists()
    async with httpx.AsyncClient(verify=False) as http:
        try:
            await http.get(url + "/version")
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the server still answers after shutdown")


def test_entrypoints_cli_serves_until_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kr8s_trio", "fake-cluster", "--kubeconfig", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("fake cluster serving at https://127.0.0.1:"), first
        config = yaml.safe_load(kubeconfig.read_text())
        assert config["current-context"] == "fake"
        assert {c["name"] for c in config["contexts"]} == {"fake", "fake-cert"}
        assert (kubeconfig.stat().st_mode & 0o777) == 0o600
        server = config["clusters"][0]["cluster"]["server"]
        token = next(u["user"]["token"] for u in config["users"] if "token" in u["user"])
        ctx = httpx.create_ssl_context(verify=False)
        with httpx.Client(verify=ctx) as http:
            got = http.get(
                server + "/api/v1/namespaces", headers={"Authorization": f"Bearer {token}"}
            )
        assert got.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_entrypoints_demo_runs_against_the_fake_cluster() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kr8s_trio", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"},
    )
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"the watch on web-0 saw: ADDED rv=\d+; MODIFIED .*; DELETED rv=\d+$", result.stdout, re.M
    )
    assert "409" in result.stdout
    assert "(0 left)" in result.stdout
    assert re.search(r"^• deployment shop: 3/3 pods ready on node-\d", result.stdout, re.M)
    assert "scaled to 1: 1 pod left, Running" in result.stdout


async def test_entrypoints_open_fake_cluster_hands_back_the_blocks_exception() -> None:
    # not wrapped in an ExceptionGroup by the server's nursery: pytest.raises works around it
    with pytest.raises(LookupError, match="from the block"):
        async with open_fake_cluster():
            raise LookupError("from the block")


def test_entrypoints_demo_looks_at_a_cluster_through_its_kubeconfig(
    fake_cluster_thread: FakeClusterThread,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kr8s_trio",
            "demo",
            "--kubeconfig",
            str(fake_cluster_thread.kubeconfig_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert f"connected: {fake_cluster_thread.url} reports Kubernetes v1." in result.stdout
    assert "you are: fake-admin" in result.stdout
    assert "namespaces: default, kube-node-lease, kube-public, kube-system" in result.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "kr8s_trio", "demo", "--kubeconfig", "/nonexistent/kubeconfig"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("demo: ConfigError: ")
    assert "/nonexistent/kubeconfig" in missing.stderr
