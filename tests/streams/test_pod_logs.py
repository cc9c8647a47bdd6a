"""``Pod.logs`` / ``Pod.open_logs`` and ``Deployment.logs`` / ``Job.logs`` against the fake cluster
(TLS on loopback, living kubelet). Time is a MockClock: tests jump it (``mock_clock``) or let it
jump when everything waits (``autojump_clock``); nothing sleeps for real.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
import trio
import trio.testing

import kr8s_trio
from kr8s_trio import Api, BadRequestError, InvalidError, NotFoundError
from kr8s_trio._logs import _LineSplitter, format_since_time, log_params, pod_sort_key
from kr8s_trio.objects import Deployment, Job, Pod
from kr8s_trio.testing import FakeCluster, open_fake_cluster

T0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
STARTUP = ['starting container "app" (image nginx:1.27)', 'container "app" is running']

JSON = dict[str, Any]


def a_pod(name: str, *containers: str, **spec: Any) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [{"name": c, "image": "nginx:1.27"} for c in containers or ("app",)],
            **spec,
        },
    }


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    """A living cluster (kubelet and controllers) whose clock starts at T0."""
    async with open_fake_cluster(start_time=T0) as c:
        yield c


@pytest.fixture
async def api(cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig_path))
    return await kr8s_trio.api()


def log_requests(cluster: FakeCluster) -> list[dict[str, list[str]]]:
    return [r.query for r in cluster.requests if r.subresource == "log"]


def followers(cluster: FakeCluster, pod: str, container: str = "app") -> int:
    """How many follow requests the fake is serving for the container's current log."""
    buffer = cluster.kubelet.pod(pod).containers[container].log
    return buffer._changed.statistics().tasks_waiting


def client_idle(api: Api) -> bool:
    """Whether the client has no request open (HTTP/2: no stream; HTTP/1.1: no busy
    connection)."""
    assert api._http is not None
    pool = api._http._transport._pool  # type: ignore[attr-defined]
    return all(c.is_idle() or c.is_closed() for c in pool.connections)


async def read(lines: AsyncIterator[str]) -> list[str]:
    return [line async for line in lines]


# -- the query --------------------------------------------------------------------------------


def test_log_params_map_as_kr8s_does() -> None:
    assert log_params() == {}
    assert log_params(
        container="c",
        pretty=True,
        previous=True,
        since_seconds=1.5,
        timestamps=True,
        tail_lines=3,
        limit_bytes=10,
        follow=True,
    ) == {
        "follow": "true",
        "container": "c",
        "pretty": "true",
        "previous": "true",
        "sinceSeconds": "2",
        "timestamps": "true",
        "tailLines": "3",
        "limitBytes": "10",
    }
    # sinceSeconds only when since_time is unset
    both = log_params(since_seconds=5, since_time="2025-01-01T00:00:00Z")
    assert both == {"sinceTime": "2025-01-01T00:00:00Z"}
    assert log_params(since_seconds=datetime.timedelta(minutes=1)) == {"sinceSeconds": "60"}


def test_since_time_is_rfc3339_in_utc() -> None:
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    assert format_since_time(datetime.datetime(2025, 1, 1, 2, tzinfo=plus_two)) == (
        "2025-01-01T00:00:00Z"
    )
    assert format_since_time(T0.replace(microsecond=5)) == "2025-01-01T00:00:00.000005Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_since_time(datetime.datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Pod("web").logs(since_time=datetime.datetime(2025, 1, 1))


def test_lines_split_on_newlines_and_decode_with_replacement() -> None:
    s = _LineSplitter()
    assert s.feed(b"a\r\nb") == ["a"]
    assert s.feed(b"c\n\xc3") == ["bc"]  # half of a UTF-8 sequence waits for the rest
    assert s.feed(b"\xa9\xff\n") == ["\u00e9\ufffd"]
    assert s.feed(b"tail", final=True) == ["tail"]
    assert s.feed(b"", final=True) == []


# -- each parameter against the fake ------------------------------------------------------------


async def test_logs_default_and_container(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    cluster.kubelet.write_log("web", "one\ntwo")
    assert await read(Pod("web").logs()) == [*STARTUP, "one", "two"]
    cluster.create(a_pod("multi", "a", "b"))
    cluster.kubelet.write_log("multi", "from b", container="b")
    assert (await read(Pod("multi").logs(container="b")))[-1] == "from b"
    assert log_requests(cluster)[-1] == {"container": ["b"]}


async def test_logs_errors_are_typed(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    with pytest.raises(NotFoundError, match='pods "nothere" not found'):
        await read(Pod("nothere").logs())
    cluster.create(a_pod("multi", "a", "b"))
    with pytest.raises(BadRequestError, match="container c is not valid for pod multi"):
        await read(Pod("multi").logs(container="c"))
    with pytest.raises(BadRequestError, match="a container name must be specified"):
        await read(Pod("multi").logs())
    with pytest.raises(InvalidError, match="tailLines"):
        await read(Pod("multi").logs(container="a", tail_lines=-1))
    # open_logs raises on entry
    with pytest.raises(NotFoundError):
        async with Pod("nothere").open_logs():
            pytest.fail("not reached")
    # a failed iterator is finished
    lines = Pod("nothere").logs()
    with pytest.raises(NotFoundError):
        await anext(lines)
    assert await read(lines) == []


async def test_logs_previous_after_a_restart(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    with pytest.raises(BadRequestError, match="previous terminated container"):
        await read(Pod("web").logs(previous=True))
    cluster.kubelet.write_log("web", "before the crash")
    cluster.kubelet.exit_container("web", 1)
    assert (await read(Pod("web").logs(previous=True)))[-1] == "before the crash"
    assert await read(Pod("web").logs()) == STARTUP
    assert log_requests(cluster)[-2]["previous"] == ["true"]


async def test_logs_since_seconds_and_since_time(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    mock_clock.jump(60)
    cluster.kubelet.write_log("web", "a minute later")
    mock_clock.jump(10)
    pod = Pod("web")
    assert await read(pod.logs(since_seconds=30)) == ["a minute later"]
    assert (await read(pod.logs(since_seconds=70)))[0] == STARTUP[0]
    later = T0 + datetime.timedelta(minutes=1)
    assert await read(pod.logs(since_time=later)) == ["a minute later"]
    assert await read(pod.logs(since_time="2025-01-01T00:01:01Z")) == []
    # since_time wins over since_seconds, as in kr8s
    assert await read(pod.logs(since_seconds=70, since_time=later)) == ["a minute later"]
    queries = log_requests(cluster)
    assert queries[0] == {"sinceSeconds": ["30"]}
    assert queries[2] == {"sinceTime": ["2025-01-01T00:01:00Z"]}
    assert queries[-1] == {"sinceTime": ["2025-01-01T00:01:00Z"]}


async def test_logs_timestamps_tail_lines_limit_bytes_and_pretty(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    mock_clock.jump(1.25)
    cluster.kubelet.write_log("web", "late")
    pod = Pod("web")
    assert await read(pod.logs(tail_lines=2)) == [STARTUP[-1], "late"]
    assert await read(pod.logs(tail_lines=0)) == []
    stamped = await read(pod.logs(timestamps=True))
    assert stamped[0] == f"2025-01-01T00:00:00.000000000Z {STARTUP[0]}"
    assert stamped[-1] == "2025-01-01T00:00:01.250000000Z late"
    # the cut last line comes without its newline and is yielded
    assert await read(pod.logs(limit_bytes=10)) == ["starting c"]
    assert await read(pod.logs(pretty=True, tail_lines=1)) == ["late"]
    assert log_requests(cluster)[-1] == {"pretty": ["true"], "tailLines": ["1"]}


async def test_logs_invalid_utf8_is_replaced(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    cluster.kubelet.write_log("web", "caf\u00e9")
    # the fake writes text: cut the two-byte character in half with limit_bytes
    body = "\n".join(STARTUP).encode() + b"\ncaf\xc3"
    assert await read(Pod("web").logs(limit_bytes=len(body))) == [*STARTUP, "caf\ufffd"]


# -- follow -----------------------------------------------------------------------------------


async def test_follow_yields_lines_as_written_and_ends_when_the_container_exits(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    lines = Pod("web").logs(follow=True, tail_lines=1)
    assert await anext(lines) == STARTUP[-1]
    assert followers(cluster, "web") == 1
    cluster.kubelet.write_log("web", "tick")
    assert await anext(lines) == "tick"
    cluster.kubelet.write_log("web", "tock\ntack")
    assert [await anext(lines), await anext(lines)] == ["tock", "tack"]
    cluster.kubelet.exit_container("web", 0)
    assert await read(lines) == []
    assert log_requests(cluster)[-1] == {"follow": ["true"], "tailLines": ["1"]}


async def test_follow_with_open_logs(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web", restartPolicy="Never"))
    async with Pod("web").open_logs(follow=True) as lines:
        assert followers(cluster, "web") == 1  # sent on entry
        assert [await anext(lines), await anext(lines)] == STARTUP
        cluster.kubelet.write_log("web", "bye")
        cluster.kubelet.exit_container("web", 0)
        assert await read(lines) == ["bye"]


async def test_cancelling_a_follow_closes_the_request(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    got: list[str] = []
    lines = Pod("web").logs(follow=True)

    async def follow() -> None:
        async for line in lines:
            got.append(line)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(follow)
        await trio.testing.wait_all_tasks_blocked()
        assert got == STARTUP
        assert followers(cluster, "web") == 1
        nursery.cancel_scope.cancel()
    await trio.testing.wait_all_tasks_blocked()
    assert followers(cluster, "web") == 0  # the fake's side saw the request go
    assert client_idle(api)
    assert lines._call is None
    assert await read(lines) == []  # a cancelled iterator is finished


async def test_cancelling_while_the_request_is_sent_leaves_nothing_open(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    lines = Pod("web").logs(follow=True)
    with trio.CancelScope() as scope:
        scope.cancel()
        await anext(lines)
    assert scope.cancelled_caught
    await trio.testing.wait_all_tasks_blocked()
    assert followers(cluster, "web") == 0
    assert client_idle(api)
    assert await read(lines) == []


async def test_breaking_out_closes_the_request(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    async for line in Pod("web").logs(follow=True):
        assert line == STARTUP[0]
        assert not client_idle(api)
        break
    await trio.testing.wait_all_tasks_blocked()  # a system task closes the dropped iterator
    assert followers(cluster, "web") == 0
    assert client_idle(api)
    # with aclosing, at a known point
    async with aclosing(Pod("web").logs(follow=True)) as lines:
        assert await anext(lines) == STARTUP[0]
        assert followers(cluster, "web") == 1
    assert client_idle(api)
    await trio.testing.wait_all_tasks_blocked()
    assert followers(cluster, "web") == 0


async def test_follow_ends_when_the_pod_is_deleted(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    async with Pod("web").open_logs(follow=True) as lines:
        assert [await anext(lines), await anext(lines)] == STARTUP
        cluster.delete("pods", "web")
        assert await read(lines) == []


async def test_idle_timeout_ends_quietly(
    cluster: FakeCluster, api: Api, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    got: list[str] = []
    done = trio.Event()

    async def follow() -> None:
        async for line in Pod("web").logs(follow=True, timeout=5):
            got.append(line)
        done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(follow)
        await trio.testing.wait_all_tasks_blocked()
        mock_clock.jump(4)
        cluster.kubelet.write_log("web", "within")
        await trio.testing.wait_all_tasks_blocked()
        mock_clock.jump(4)  # 4 s since the last line: still following
        await trio.testing.wait_all_tasks_blocked()
        assert not done.is_set()
        mock_clock.jump(1)
        await done.wait()
    assert got == [*STARTUP, "within"]
    await trio.testing.wait_all_tasks_blocked()
    assert followers(cluster, "web") == 0


# -- workloads ----------------------------------------------------------------------------------


def a_deployment(name: str, replicas: int) -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "main", "image": "nginx:1.27"},
                        {"name": "side", "image": "busybox"},
                    ]
                },
            },
        },
    }


async def running_pods(cluster: FakeCluster, name: str, count: int) -> list[JSON]:
    """The Deployment's pods, once ``count`` are ready (waiting with a watch, not sleeps)."""
    await Deployment(name).wait(f"jsonpath='{{.status.readyReplicas}}'={count}")
    pods = cluster.list("pods", label_selector=f"app={name}")
    assert len(pods) == count
    return sorted(pods, key=lambda p: p["metadata"]["name"])


async def test_deployment_logs_pick_the_pod_kubectl_would(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_deployment("web", 2))
    first, second = await running_pods(cluster, "web", 2)
    # a restart makes a pod less active: kubectl picks the other
    cluster.kubelet.exit_container(first["metadata"]["name"], 1, container="main")
    await trio.testing.wait_all_tasks_blocked()
    for p in (first, second):
        cluster.kubelet.write_log(
            p["metadata"]["name"], f"I am {p['metadata']['name']}", container="main"
        )
    deploy = Deployment("web")
    lines = await read(deploy.logs(tail_lines=1))
    assert lines == [f"I am {second['metadata']['name']}"]
    # the default container: the first, unless the annotation names another
    assert log_requests(cluster)[-1] == {"container": ["main"], "tailLines": ["1"]}
    async with deploy.open_logs(tail_lines=1) as one:
        assert await read(one) == lines
    # every pod, prefixed like kubectl --prefix
    both = await read(deploy.logs(tail_lines=1, all_pods=True))
    assert sorted(both) == sorted(
        f"[pod/{n}/main] I am {n}" for n in (first["metadata"]["name"], second["metadata"]["name"])
    )
    with pytest.raises(ValueError, match="open_logs"):
        deploy.logs(all_pods=True, follow=True)


async def test_workload_default_container_annotation(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    body = a_deployment("web", 1)
    body["spec"]["template"]["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/default-container": "side",
        "kr8s-trio.dev/log.side": "side says hi",
    }
    cluster.create(body)
    await running_pods(cluster, "web", 1)
    assert await read(Deployment("web").logs(tail_lines=1)) == ["side says hi"]
    assert log_requests(cluster)[-1] == {"container": ["side"], "tailLines": ["1"]}


async def test_deployment_open_logs_all_pods_follow_interleaves(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_deployment("web", 2))
    a, b = (p["metadata"]["name"] for p in await running_pods(cluster, "web", 2))
    async with Deployment("web").open_logs(
        all_pods=True, follow=True, tail_lines=0, container="side"
    ) as lines:
        cluster.kubelet.write_log(a, "from a", container="side")
        assert await anext(lines) == f"[pod/{a}/side] from a"
        cluster.kubelet.write_log(b, "from b", container="side")
        assert await anext(lines) == f"[pod/{b}/side] from b"
        assert followers(cluster, a, "side") == followers(cluster, b, "side") == 1
    await trio.testing.wait_all_tasks_blocked()
    assert followers(cluster, a, "side") == followers(cluster, b, "side") == 0
    assert client_idle(api)
    # the block's own exception comes out as itself, every stream closed

    async def fail_inside() -> None:
        async with Deployment("web").open_logs(all_pods=True, follow=True) as lines:
            await anext(lines)
            raise KeyError("mine")

    with pytest.raises(KeyError):
        await fail_inside()
    await trio.testing.wait_all_tasks_blocked()
    assert followers(cluster, a, "main") == followers(cluster, b, "main") == 0


async def test_workload_logs_wait_for_a_pod_then_give_up(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    body = a_deployment("none", 0)
    cluster.create(body)
    start = trio.current_time()
    with pytest.raises(NotFoundError, match="no pods of Deployment 'none'"):
        await read(Deployment("none").logs(pod_timeout=3))
    assert trio.current_time() - start == pytest.approx(3)
    start = trio.current_time()
    with pytest.raises(NotFoundError):
        await read(Deployment("none").logs(pod_timeout=0))  # looks once
    assert trio.current_time() == start


async def test_workload_logs_wait_for_a_pod_to_appear(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_deployment("later", 0))
    got: list[str] = []

    async def reader() -> None:
        got.extend(await read(Deployment("later").logs(tail_lines=1)))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        assert got == []
        cluster.patch("deployments", "later", {"spec": {"replicas": 1}})
    assert len(got) == 1


async def test_job_logs(
    cluster: FakeCluster, api: Api, autojump_clock: trio.testing.MockClock
) -> None:
    cluster.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "pi"},
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {
                            "kr8s-trio.dev/log": "3.14159",
                            "kr8s-trio.dev/exit-code": "0",
                            "kr8s-trio.dev/run-seconds": "5",
                        }
                    },
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "work", "image": "busybox"}],
                    },
                }
            },
        }
    )
    job = await Job.get("pi")
    assert (await read(job.logs(follow=True)))[-1] == "3.14159"


def test_pod_sort_key_orders_most_active_first() -> None:
    def pod(name: str, **kw: Any) -> JSON:
        ready = kw.get("ready_since")
        status: JSON = {"phase": kw.get("phase", "Running")}
        if ready:
            status["conditions"] = [
                {"type": "Ready", "status": "True", "lastTransitionTime": ready}
            ]
        status["containerStatuses"] = [{"restartCount": kw.get("restarts", 0)}]
        return {
            "metadata": {"name": name, "creationTimestamp": kw.get("created")},
            "spec": {"nodeName": kw.get("node", "n1")},
            "status": status,
        }

    pods = [
        pod("unassigned", node="", ready_since="2025-01-01T00:00:00Z"),
        pod("pending", phase="Pending"),
        pod("not-ready"),
        pod("ready-late", ready_since="2025-01-01T00:05:00Z"),
        pod("ready-early-restarted", ready_since="2025-01-01T00:01:00Z", restarts=2),
        pod("ready-early", ready_since="2025-01-01T00:01:00Z", created="2025-01-01T00:00:00Z"),
        pod("ready-early-new", ready_since="2025-01-01T00:01:00Z", created="2025-01-01T00:00:30Z"),
    ]
    order = [p["metadata"]["name"] for p in sorted(pods, key=pod_sort_key)]
    assert order == [
        "ready-early",
        "ready-early-new",
        "ready-early-restarted",
        "ready-late",
        "not-ready",
        "pending",
        "unassigned",
    ]
