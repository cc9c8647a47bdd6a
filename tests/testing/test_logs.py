"""``GET pods/{name}/log`` on a living fake cluster, over raw HTTP.

Each query parameter (container, tailLines, sinceSeconds, sinceTime, timestamps, limitBytes,
previous, stream, follow) and each refusal with kube-apiserver's and the kubelet's exact words.
Following streams appended lines and ends when the container stops, when the pod goes, or when
the client leaves. Time is a MockClock that moves only when a test jumps it.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from support import CORE, JSON, failure

from kr8s_trio.testing import FakeCluster, open_fake_cluster

T0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
STARTUP = ['starting container "app" (image nginx:1.27)', 'container "app" is running']


def a_pod(name: str, *containers: str, **spec: Any) -> JSON:
    """A pod whose containers (default: "app") run nginx:1.27."""
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
    """A living cluster starting at T0 (tests ask for ``mock_clock`` to freeze time)."""
    async with open_fake_cluster(controllers=False, start_time=T0) as c:
        yield c


@pytest.fixture
async def client(cluster: FakeCluster) -> AsyncIterator[httpx.AsyncClient]:
    async with cluster.http_client(timeout=None) as c:
        yield c


async def log(client: httpx.AsyncClient, name: str, **params: str) -> httpx.Response:
    return await client.get(f"{CORE}/pods/{name}/log", params=params)


async def text(client: httpx.AsyncClient, name: str, **params: str) -> str:
    r = await log(client, name, **params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/plain"
    return r.text


async def test_logs_default_startup_lines(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    assert (await text(client, "web")).splitlines() == STARTUP
    cluster.kubelet.write_log("web", "one\ntwo\n")
    cluster.kubelet.write_log("web", "oops", stream="stderr")
    assert (await text(client, "web", container="app")).splitlines() == [
        *STARTUP,
        "one",
        "two",
        "oops",
    ]


async def test_logs_container_name_errors(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("multi", "a", "b", initContainers=[{"name": "i", "image": "busybox"}]))
    r = await log(client, "multi")
    assert (r.status_code, r.json()) == (
        400,
        failure(
            400,
            "BadRequest",
            "a container name must be specified for pod multi, choose one of: [i a b]",
        ),
    )
    r = await log(client, "multi", container="c")
    assert r.json() == failure(400, "BadRequest", "container c is not valid for pod multi")
    assert (await text(client, "multi", container="i")).splitlines() == [
        'starting container "i" (image busybox)',
        'container "i" is running',
    ]
    r = await log(client, "nothere")
    assert r.json() == failure(
        404, "NotFound", 'pods "nothere" not found', {"name": "nothere", "kind": "pods"}
    )


async def test_logs_tail_timestamps_and_limit(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    mock_clock.jump(1.25)
    cluster.kubelet.write_log("web", "late")
    assert await text(client, "web", tailLines="2") == 'container "app" is running\nlate\n'
    assert await text(client, "web", tailLines="0") == ""
    stamped = (await text(client, "web", timestamps="true")).splitlines()
    assert stamped[0] == f"2025-01-01T00:00:00.000000000Z {STARTUP[0]}"
    assert stamped[-1] == "2025-01-01T00:00:01.250000000Z late"
    assert await text(client, "web", limitBytes="10") == "starting c"
    assert await text(client, "web", limitBytes="10", tailLines="1") == "late\n"


async def test_logs_since_seconds_and_since_time(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    mock_clock.jump(60)
    cluster.kubelet.write_log("web", "a minute later")
    mock_clock.jump(10)
    assert await text(client, "web", sinceSeconds="30") == "a minute later\n"
    assert (await text(client, "web", sinceSeconds="70")).splitlines()[0] == STARTUP[0]
    assert await text(client, "web", sinceTime="2025-01-01T00:01:00Z") == "a minute later\n"
    assert await text(client, "web", sinceTime="2025-01-01T00:01:01Z") == ""


async def test_logs_stream_selects_stdout_or_stderr(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    cluster.kubelet.write_log("web", "bad", stream="stderr")
    assert await text(client, "web", stream="Stderr") == "bad\n"
    assert (await text(client, "web", stream="Stdout")).splitlines() == STARTUP


@pytest.mark.parametrize(
    ("params", "message", "causes"),
    [
        (
            {"sinceSeconds": "5", "sinceTime": "2025-01-01T00:00:00Z"},
            ": Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
            [
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be "
                    "specified",
                }
            ],
        ),
        (
            {"tailLines": "-1"},
            "tailLines: Invalid value: -1: must be greater than or equal to 0",
            [
                {
                    "reason": "FieldValueInvalid",
                    "message": "Invalid value: -1: must be greater than or equal to 0",
                    "field": "tailLines",
                }
            ],
        ),
        (
            {"limitBytes": "0", "sinceSeconds": "0"},
            "[limitBytes: Invalid value: 0: must be greater than 0, sinceSeconds: Invalid value: "
            "0: must be greater than 0]",
            [
                {
                    "reason": "FieldValueInvalid",
                    "message": "Invalid value: 0: must be greater than 0",
                    "field": "limitBytes",
                },
                {
                    "reason": "FieldValueInvalid",
                    "message": "Invalid value: 0: must be greater than 0",
                    "field": "sinceSeconds",
                },
            ],
        ),
    ],
)
async def test_logs_invalid_options_are_422(
    cluster: FakeCluster,
    client: httpx.AsyncClient,
    mock_clock: trio.testing.MockClock,
    params: dict[str, str],
    message: str,
    causes: list[JSON],
) -> None:
    cluster.create(a_pod("web"))
    r = await log(client, "web", **params)
    assert r.json() == failure(
        422,
        "Invalid",
        f'PodLogOptions "web" is invalid: {message}',
        {"name": "web", "kind": "PodLogOptions", "causes": causes},
    )


async def test_logs_unparsable_numbers_are_400(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    r = await log(client, "web", tailLines="ten")
    assert r.json() == failure(400, "BadRequest", 'strconv.ParseInt: parsing "ten": invalid syntax')


async def test_logs_previous_instance(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    r = await log(client, "web", previous="true")
    assert r.json() == failure(
        400, "BadRequest", 'previous terminated container "app" in pod "web" not found'
    )
    cluster.kubelet.write_log("web", "before the crash")
    cluster.kubelet.exit_container("web", 1)
    assert (await text(client, "web", previous="true")).splitlines()[-1] == "before the crash"
    assert (await text(client, "web")).splitlines() == STARTUP  # the new instance
    # crashing again puts it in CrashLoopBackOff: the plain log is the last instance's
    cluster.kubelet.write_log("web", "second life")
    cluster.kubelet.exit_container("web", 1)
    assert (await text(client, "web")).splitlines()[-1] == "second life"


async def test_logs_of_a_container_not_started_yet(mock_clock: trio.testing.MockClock) -> None:
    async with (
        open_fake_cluster(controllers=False, pod_start_delay=5) as cluster,
        cluster.http_client(timeout=None) as client,
    ):
        cluster.create(a_pod("slow"))
        r = await log(client, "slow")
        assert r.json() == failure(
            400,
            "BadRequest",
            'container "app" in pod "slow" is waiting to start: ContainerCreating',
        )
        mock_clock.jump(5)
        await trio.testing.wait_all_tasks_blocked()
        assert (await text(client, "slow")).splitlines() == STARTUP


async def test_logs_of_pods_no_kubelet_runs(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("unscheduled", schedulerName="someone-else"))
    assert await text(client, "unscheduled") == ""
    cluster.create(a_pod("lost", nodeName="node-9"))
    r = await log(client, "lost")
    assert r.json() == failure(
        404, "NotFound", 'nodes "node-9" not found', {"name": "node-9", "kind": "nodes"}
    )


async def test_logs_follow_streams_lines_until_the_container_exits(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    params = {"follow": "true", "tailLines": "1", "timestamps": "true"}
    async with client.stream("GET", f"{CORE}/pods/web/log", params=params) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/plain"
        assert r.headers["transfer-encoding"] == "chunked"
        lines = r.aiter_lines()
        assert await anext(lines) == f"2025-01-01T00:00:00.000000000Z {STARTUP[-1]}"
        mock_clock.jump(2)
        cluster.kubelet.write_log("web", "tick")
        assert await anext(lines) == "2025-01-01T00:00:02.000000000Z tick"
        cluster.kubelet.write_log("web", "tock\ntack")
        assert [await anext(lines), await anext(lines)] == [
            "2025-01-01T00:00:02.000000000Z tock",
            "2025-01-01T00:00:02.000000000Z tack",
        ]
        cluster.kubelet.exit_container("web", 0)  # restarted: this instance's log ends
        assert [line async for line in lines] == []
    assert cluster.kubelet.pod("web").containers["app"].restart_count == 1


async def test_logs_follow_ends_when_the_pod_is_deleted(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    async with client.stream("GET", f"{CORE}/pods/web/log", params={"follow": "true"}) as r:
        lines = r.aiter_lines()
        assert [await anext(lines), await anext(lines)] == STARTUP
        cluster.delete("pods", "web")
        assert [line async for line in lines] == []


async def test_logs_follow_of_a_stopped_container_returns_at_once(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("done", restartPolicy="Never"))
    cluster.kubelet.exit_container("done", 0)
    r = await log(client, "done", follow="true", limitBytes="8")
    assert (r.status_code, r.text) == (200, "starting")


async def test_logs_follow_stops_at_the_byte_limit(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    params = {"follow": "true", "tailLines": "0", "limitBytes": "6"}
    async with client.stream("GET", f"{CORE}/pods/web/log", params=params) as r:
        cluster.kubelet.write_log("web", "abc")
        cluster.kubelet.write_log("web", "defgh")
        assert b"".join([chunk async for chunk in r.aiter_bytes()]) == b"abc\nde"


async def test_logs_follower_that_leaves_stops_waiting(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    cluster.create(a_pod("web"))
    buffer = cluster.kubelet.pod("web").containers["app"].log
    got: list[str] = []

    async def follow() -> None:
        # cancelled while blocked inside the iteration, so httpx's generators end properly
        async with client.stream("GET", f"{CORE}/pods/web/log", params={"follow": "true"}) as r:
            async for line in r.aiter_lines():
                got.append(line)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(follow)
        await trio.testing.wait_all_tasks_blocked()
        assert got == STARTUP
        assert buffer._changed.statistics().tasks_waiting == 1
        nursery.cancel_scope.cancel()
    await trio.testing.wait_all_tasks_blocked()
    assert buffer._changed.statistics().tasks_waiting == 0


async def test_logs_annotation_writes_lines_when_it_changes(
    cluster: FakeCluster, client: httpx.AsyncClient, mock_clock: trio.testing.MockClock
) -> None:
    # how another process (kubectl annotate) makes a container log something
    body = a_pod("web", "app", "side")
    body["metadata"]["annotations"] = {"kr8s-trio.dev/log.side": "side car up"}
    cluster.create(body)
    assert (await text(client, "web", container="side")).splitlines()[-1] == "side car up"
    assert (await text(client, "web", container="app")).splitlines() == STARTUP
    patch = {"metadata": {"annotations": {"kr8s-trio.dev/log": "all of us\nsay hi"}}}
    cluster.patch("pods", "web", patch)
    assert (await text(client, "web", container="app")).splitlines()[-2:] == [
        "all of us",
        "say hi",
    ]
    # the container-specific value wins, and an unchanged value is not written again
    assert (await text(client, "web", container="side")).splitlines()[-1] == "side car up"
    cluster.patch("pods", "web", {"metadata": {"labels": {"touched": "yes"}}})
    assert (await text(client, "web", container="app")).count("say hi") == 1
    with pytest.raises(LookupError, match="several containers"):
        cluster.kubelet.write_log("web", "which one?")
