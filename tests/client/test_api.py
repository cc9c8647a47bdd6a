"""`Api` against the fake API server over TLS: call_api and its Response, URL building, errors
from Status bodies, construction without I/O, closing, whoami and discovery.

The clients here are built from the fake's URL, CA and admin token directly
(`make_api`, through `Api._from_config`), so they do not depend on kubeconfig loading.
"""

from __future__ import annotations

import base64
import copy
import gc
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio
import trio.testing

import kr8s_trio
from kr8s_trio import (
    ALL,
    AlreadyExistsError,
    Api,
    NotFoundError,
    RetryPolicy,
    ServerError,
    TooManyRequestsError,
)
from kr8s_trio._auth import build_auth
from kr8s_trio._core._clientconfig import (
    AuthSpec,
    ClientConfig,
    ExecSpec,
    NoAuthSpec,
    TokenFileSpec,
    TokenSpec,
)
from kr8s_trio._core._requests import api_path
from kr8s_trio._discovery import parse_kind
from kr8s_trio._response import GC_PAUSE_BYTES, gc_paused
from kr8s_trio.testing import FakeCluster, open_fake_cluster

NO_RETRY = RetryPolicy(max_attempts=1)


def cluster_config(cluster: FakeCluster, **fields: Any) -> ClientConfig:
    auth: AuthSpec = fields.pop("auth", TokenSpec(cluster.token))
    ssl_context = fields.pop("ssl_context", None) or cluster.ssl_context()
    return ClientConfig(server=cluster.url, ssl_context=ssl_context, auth=auth, **fields)


def make_api(cluster: FakeCluster, config: ClientConfig | None = None, **options: Any) -> Api:
    """An uncached client of ``cluster`` as its admin (or as ``config`` says)."""
    config = config or cluster_config(cluster)
    return Api._from_config(config, build_auth(config.auth), **options)


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=False, controllers=False) as c:
        yield c


@pytest.fixture
async def api(cluster: FakeCluster) -> AsyncIterator[Api]:
    async with make_api(cluster) as client:
        yield client


def configmap(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"k": name},
    }


# -- URL building ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "path"),
    [
        ({"url": "pods"}, "/api/v1/pods"),
        ({"url": "pods", "namespace": ""}, "/api/v1/pods"),
        ({"url": "pods", "namespace": ALL}, "/api/v1/pods"),
        ({"url": "pods", "namespace": "all"}, "/api/v1/namespaces/all/pods"),
        ({"url": "pods/x/log", "namespace": "ns"}, "/api/v1/namespaces/ns/pods/x/log"),
        (
            {"version": "apps/v1", "url": "deployments", "namespace": "ns"},
            "/apis/apps/v1/namespaces/ns/deployments",
        ),
        ({"version": "", "base": "/version"}, "/version"),
        ({"version": "", "base": "/apis", "url": "apps/v1"}, "/apis/apps/v1"),
        ({"version": "v1", "base": "/api"}, "/api/v1"),
    ],
)
def test_api_path_as_kr8s_builds_it(args: dict[str, Any], path: str) -> None:
    assert api_path(**args) == path


def test_api_path_unknown_version_needs_a_base() -> None:
    with pytest.raises(ValueError, match="base must be specified"):
        api_path(version="foo")


# -- construction ---------------------------------------------------------------------------------


def test_api_construction_needs_the_factory_or_bypass() -> None:
    with pytest.raises(ValueError, match=r"kr8s_trio\.api"):
        Api()


async def test_api_construction_does_no_io(cluster: FakeCluster) -> None:
    client = Api(bypass_factory=True, url=cluster.url)
    other = Api(bypass_factory=True, url=cluster.url)
    assert client is not other
    assert client.config is None
    assert "not connected" in repr(client)
    assert client.namespace == "default"
    assert len(cluster.requests) == 0


async def test_api_repr_and_config_repr_hide_the_token(api: Api, cluster: FakeCluster) -> None:
    await api.version()
    assert cluster.token not in repr(api)
    assert cluster.token not in repr(api.config)
    assert cluster.url in repr(api)


async def test_api_closed_client_raises_a_clear_error(cluster: FakeCluster) -> None:
    client = make_api(cluster)
    async with client:
        assert (await client.version())["gitVersion"]
    assert client.closed
    with pytest.raises(RuntimeError, match="is closed"):
        await client.version()


async def test_api_client_is_built_lazily_on_first_use(cluster: FakeCluster) -> None:
    client = make_api(cluster)
    try:
        assert "not connected" in repr(client)
        version = await client.version()
        assert "connected" in repr(client)
        assert version["major"] == "1"
    finally:
        await client.aclose()


async def test_api_namespace_and_timeout_properties(cluster: FakeCluster) -> None:
    client = make_api(cluster, cluster_config(cluster, namespace="team"), timeout=5)
    assert client.namespace == "team"
    client.namespace = "other"
    assert client.namespace == "other"
    assert client.timeout == httpx.Timeout(5)
    async with client:
        client.timeout = httpx.Timeout(7, connect=3)
        assert client._http is not None
        assert client._http.timeout == httpx.Timeout(7, connect=3)


# -- call_api -------------------------------------------------------------------------------------


async def test_call_api_seed_examples(api: Api, cluster: FakeCluster) -> None:
    cluster.create(configmap("one"))
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    cluster.create(configmap("two", "other"))
    async with api.call_api("GET", url="configmaps", namespace="") as r:
        listed = await r.json()
    assert listed["kind"] == "ConfigMapList"
    assert {i["metadata"]["name"] for i in listed["items"]} >= {"one", "two"}
    async with api.call_api("GET", base="/version", version="") as r:
        version = await r.json()
    assert version == await api.version()
    paths = [rec.path for rec in cluster.requests]
    assert paths == ["/api/v1/configmaps", "/version", "/version"]


async def test_call_api_sends_json_and_params(api: Api, cluster: FakeCluster) -> None:
    async with api.call_api(
        "POST", url="configmaps", namespace="default", json=configmap("made")
    ) as r:
        assert r.status_code == 201
        created = await r.json()
    assert created["metadata"]["name"] == "made"
    async with api.call_api(
        "GET", version="v1", url="configmaps", namespace="default", params={"limit": "1"}
    ) as r:
        assert len((await r.json())["items"]) == 1
    assert cluster.get("configmaps", "made")["data"] == {"k": "made"}


async def test_call_api_response_read_text_and_bytes(api: Api) -> None:
    async with api.call_api("GET", base="/version", version="") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/json")
        assert r.is_success
        body = await r.read()
        assert await r.read() == body
        assert await r.text() == body.decode()
        assert json.loads(body) == await r.json()
        assert "GET /version" in repr(r)
    async with api.call_api("GET", base="/version", version="") as r:
        chunks = [c async for c in r.aiter_bytes()]
    assert b"".join(chunks) == body


async def test_call_api_aiter_lines_of_a_watch(api: Api, cluster: FakeCluster) -> None:
    for name in ("a", "b", "c"):
        cluster.create(configmap(name))
    names = []
    async with api.call_api(
        "GET",
        url="configmaps",
        namespace="default",
        params={"watch": "true", "resourceVersion": "0"},
    ) as r:
        async for line in r.aiter_lines():
            names.append(json.loads(line)["object"]["metadata"]["name"])
            if len(names) == 3:
                break
    assert sorted(names) == ["a", "b", "c"]
    # the watch's connection was released: the next request works
    assert (await api.version())["major"] == "1"


async def test_call_api_json_of_a_large_body_pauses_the_gc(
    api: Api, cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(40):
        cm = configmap(f"big-{i}")
        cm["data"] = {"blob": "x" * 30_000}
        cluster.create(cm)
    seen: list[bool] = []
    real_loads = json.loads

    def loads(body: bytes) -> Any:
        seen.append(gc.isenabled())
        return real_loads(body)

    monkeypatch.setattr("kr8s_trio._response.json.loads", loads)
    async with api.call_api("GET", url="configmaps", namespace="default") as r:
        assert len(await r.read()) >= GC_PAUSE_BYTES
        assert len((await r.json())["items"]) == 40
    async with api.call_api("GET", base="/version", version="") as r:
        await r.json()
    assert seen == [False, True]
    assert gc.isenabled()


def test_gc_paused_is_reentrant_and_keeps_a_disabled_gc_disabled() -> None:
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_gc_paused_promotes_what_was_decoded_to_the_oldest_generation() -> None:
    """The survivors of a paused decode skip the young collections (which would traverse all of
    them again right after the pause) and go straight to the oldest generation."""
    gc.unfreeze()  # some interpreters start with frozen objects (seen: 3.12.1); see the next test
    with gc_paused():
        decoded = json.loads('{"items": [{"a": [1]}, {"b": [2]}]}')
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(decoded) in oldest
    assert id(decoded["items"][1]["b"]) in oldest
    young = {id(o) for g in (0, 1) for o in gc.get_objects(generation=g)}
    assert id(decoded) not in young


def test_gc_paused_leaves_the_applications_frozen_objects_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused():
            json.loads("[[1], [2]]")
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


async def test_call_api_uses_http2(api: Api) -> None:
    async with api.call_api("GET", base="/version", version="") as r:
        assert r.http_version == "HTTP/2"


async def test_call_api_yields_once_and_does_not_catch_the_body_errors(api: Api) -> None:
    class Boom(Exception):
        pass

    async def raise_in_block(error: Exception) -> None:
        async with api.call_api("GET", base="/version", version="") as r:
            await r.read()
            raise error

    with pytest.raises(Boom):
        await raise_in_block(Boom())
    # an API error raised by the caller passes through untouched (no retry, no second yield)
    with pytest.raises(NotFoundError):
        await raise_in_block(NotFoundError({"code": 404}))


# -- errors ---------------------------------------------------------------------------------------


async def test_call_api_404_raises_not_found_with_the_status(api: Api) -> None:
    with pytest.raises(NotFoundError) as info:
        async with api.call_api("GET", url="configmaps/missing", namespace="default"):
            pytest.fail("yielded an error response")
    assert info.value.code == 404
    assert info.value.reason == "NotFound"
    assert info.value.message == 'configmaps "missing" not found'
    assert info.value.details["name"] == "missing"


async def test_call_api_409_already_exists(api: Api) -> None:
    async def create() -> None:
        async with api.call_api(
            "POST", url="configmaps", namespace="default", json=configmap("dup")
        ):
            pass

    await create()
    with pytest.raises(AlreadyExistsError) as info:
        await create()
    assert info.value.reason == "AlreadyExists"
    assert info.value.code == 409


async def test_call_api_non_json_error_body_is_a_status_too(cluster: FakeCluster, api: Api) -> None:
    cluster.faults.fail_next(429, retry_after=3)
    api._retry = NO_RETRY
    with pytest.raises(TooManyRequestsError) as info:
        async with api.call_api("GET", url="configmaps", namespace="default"):
            pass
    assert info.value.code == 429
    assert info.value.reason == "TooManyRequests"
    assert info.value.message == "Too many requests, please try again later."
    assert info.value.retry_after == 3


async def test_call_api_5xx_is_a_server_error(cluster: FakeCluster, api: Api) -> None:
    cluster.faults.fail_next(500)
    with pytest.raises(ServerError) as info:
        async with api.call_api("POST", url="configmaps", namespace="default", json={}):
            pass
    assert info.value.code == 500
    assert info.value.reason == "InternalError"


async def test_call_api_raise_for_status_false_hands_back_the_response(api: Api) -> None:
    async with api.call_api(
        "GET", url="configmaps/missing", namespace="default", raise_for_status=False
    ) as r:
        assert r.status_code == 404
        assert (await r.json())["reason"] == "NotFound"


# -- basics ---------------------------------------------------------------------------------------


async def test_api_version_and_whoami(api: Api) -> None:
    version = await api.version()
    assert version["gitVersion"].startswith("v1.")
    assert await api.whoami() == "fake-admin"


async def test_api_whoami_with_a_client_certificate(cluster: FakeCluster) -> None:
    config = cluster_config(
        cluster, auth=NoAuthSpec(), ssl_context=cluster.ssl_context(client_cert=cluster.client_cert)
    )
    async with make_api(cluster, config) as client:
        assert await client.whoami() == "fake-cert-admin"


async def test_api_whoami_answers_the_certificates_name_when_the_server_cannot(
    cluster: FakeCluster,
) -> None:
    cert = cluster.issue_client_cert("carol", ["ops"])
    kubeconfig = copy.deepcopy(cluster.kubeconfig)
    kubeconfig["users"][0]["user"] = {
        "client-certificate-data": base64.b64encode(cert.cert_pem).decode(),
        "client-key-data": base64.b64encode(cert.key_pem).decode(),
    }
    async with Api(bypass_factory=True, kubeconfig=kubeconfig) as client:
        cluster.faults.fail_next(404, resource="selfsubjectreviews")  # an old server
        assert await client.whoami() == "carol"
        assert await client.whoami() == "carol"  # the server's own answer this time


async def test_api_whoami_falls_back_to_token_review(cluster: FakeCluster, api: Api) -> None:
    cluster.faults.fail_next(404, resource="selfsubjectreviews")
    assert await api.whoami() == "fake-admin"
    assert [r.resource for r in cluster.requests] == ["selfsubjectreviews", "tokenreviews"]


async def test_top_level_functions_take_an_api(api: Api) -> None:
    assert await kr8s_trio.version(api) == await api.version()
    assert await kr8s_trio.whoami(api) == "fake-admin"
    assert "apps/v1" in await kr8s_trio.api_versions(api)
    assert any(r["name"] == "pods" for r in await kr8s_trio.api_resources(api))


# -- discovery ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("pods", ("pods", None, None)),
        ("Deployment.apps", ("deployment", "apps", None)),
        ("deployment.v1.apps", ("deployment", "apps", "v1")),
        ("deployment.apps/v1", ("deployment", "apps", "v1")),
        ("pod.v1", ("pod", "", "v1")),
        ("ingresses.networking.k8s.io", ("ingresses", "networking.k8s.io", None)),
    ],
)
def test_parse_kind(kind: str, expected: tuple[str, str | None, str | None]) -> None:
    assert parse_kind(kind) == expected


LOOKUPS = [
    ("po", ("pod/v1", "pods", True)),
    ("pod", ("pod/v1", "pods", True)),
    ("pods", ("pod/v1", "pods", True)),
    ("Pod", ("pod/v1", "pods", True)),
    ("pod.v1", ("pod/v1", "pods", True)),
    ("ns", ("namespace/v1", "namespaces", False)),
    ("deploy", ("deployment.apps/v1", "deployments", True)),
    ("Deployment.apps", ("deployment.apps/v1", "deployments", True)),
    ("deployment.v1.apps", ("deployment.apps/v1", "deployments", True)),
    ("deployments.apps/v1", ("deployment.apps/v1", "deployments", True)),
    ("roles.rbac.authorization.k8s.io", ("role.rbac.authorization.k8s.io/v1", "roles", True)),
    ("clusterrole", ("clusterrole.rbac.authorization.k8s.io/v1", "clusterroles", False)),
]


@pytest.mark.parametrize("aggregated", [True, False])
async def test_api_lookup_kind(aggregated: bool) -> None:
    async with (
        open_fake_cluster(kubelet=False, controllers=False, aggregated_discovery=aggregated) as c,
        make_api(c) as client,
    ):
        for kind, expected in LOOKUPS:
            assert await client.lookup_kind(kind) == expected, kind
        with pytest.raises(ValueError, match="not found"):
            await client.lookup_kind("deployment.v1")  # not in the core group
        fetches = [r.path for r in c.requests]
    if aggregated:
        assert sorted(fetches) == ["/api", "/apis"]
    else:
        assert sorted(fetches[:2]) == ["/api", "/apis"]
        assert "/api/v1" in fetches
        assert "/apis/apps/v1" in fetches


@pytest.mark.parametrize("aggregated", [True, False])
async def test_api_resources_and_versions(aggregated: bool) -> None:
    async with (
        open_fake_cluster(kubelet=False, controllers=False, aggregated_discovery=aggregated) as c,
        make_api(c) as client,
    ):
        resources = await client.api_resources()
        versions = await client.api_versions()
    pods = next(r for r in resources if r["name"] == "pods")
    assert pods["version"] == "v1"
    assert pods["kind"] == "Pod"
    assert pods["namespaced"] is True
    assert pods["shortNames"] == ["po"]
    assert not any("/" in r["name"] for r in resources)  # no subresources
    assert versions[0] == "v1"
    assert {"apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1"} <= set(versions)


async def test_api_discovery_is_fetched_once_for_concurrent_users(
    api: Api, cluster: FakeCluster
) -> None:
    async with trio.open_nursery() as nursery:
        for _ in range(10):
            nursery.start_soon(api.lookup_kind, "pods")
    await api.api_resources()
    assert sorted(r.path for r in cluster.requests) == ["/api", "/apis"]


async def test_api_discovery_miss_refreshes_at_most_once_per_interval(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with (
        open_fake_cluster(kubelet=False, controllers=False) as cluster,
        make_api(cluster, timeout=None) as client,
    ):
        await client.api_resources()
        with pytest.raises(ValueError, match="widget"):
            await client.lookup_kind("widget")  # cached < refresh_interval ago: no refetch
        assert len(cluster.requests) == 2
        await trio.sleep(client.discovery.refresh_interval)
        with pytest.raises(ValueError, match="widget"):
            await client.lookup_kind("widget")  # one refresh
        with pytest.raises(ValueError, match="widget"):
            await client.lookup_kind("widget")  # negative-cached
        assert len(cluster.requests) == 4
        cluster.create(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "widgets.example.com"},
                "spec": {
                    "group": "example.com",
                    "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
                    "scope": "Namespaced",
                    "versions": [
                        {
                            "name": "v1",
                            "served": True,
                            "storage": True,
                            "schema": {"openAPIV3Schema": {"type": "object"}},
                        }
                    ],
                },
            }
        )
        await trio.sleep(client.discovery.refresh_interval)
        found = await client.lookup_kind("widget")
    assert found == ("widget.example.com/v1", "widgets", True)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- review fixes --------------------------------------------------------------------------------


async def test_api_closed_while_its_configuration_loads_stays_closed(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    loading, release = trio.Event(), trio.Event()

    async def slow_load(client: Api) -> ClientConfig:
        loading.set()
        await release.wait()
        return cluster_config(cluster)

    monkeypatch.setattr(Api, "_load_config", slow_load)
    client = Api(bypass_factory=True)
    async with trio.open_nursery() as nursery:

        async def use() -> None:
            with pytest.raises(RuntimeError, match="is closed"):
                await client.version()

        nursery.start_soon(use)
        await loading.wait()
        await client.aclose()
        release.set()
    assert client._http is None


async def test_api_reprs_and_errors_hide_credentials(cluster: FakeCluster) -> None:
    server = "https://user:SERVERSECRET@127.0.0.1:9"
    config = ClientConfig(
        server=server,
        proxy_url="http://puser:PROXYSECRET@127.0.0.1:3128",
        auth=ExecSpec(command="kubelogin", api_version="v1", args=("--secret=ARGSECRET",)),
    )
    assert "SECRET" not in repr(config)
    assert "https://user:***@127.0.0.1:9" in repr(config)
    bare = ClientConfig(server=server.replace(":9", f":{closed_port()}"))
    async with make_api(cluster, bare, retry=NO_RETRY) as client:
        assert "SECRET" not in repr(client)
        with pytest.raises(kr8s_trio.TransportError) as caught:
            await client.version()
    assert "SECRET" not in str(caught.value)
    assert "user:***@127.0.0.1" in str(caught.value)


async def test_api_whoami_uses_the_token_a_token_file_gave(
    cluster: FakeCluster, tmp_path: Any
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(cluster.add_user("dana") + "\n")
    config = cluster_config(cluster, auth=TokenFileSpec(str(token_file)))
    async with make_api(cluster, config) as client:
        cluster.faults.fail_next(404, resource="selfsubjectreviews")  # an old server
        assert await client.whoami() == "dana"  # through a TokenReview of the file's token


async def test_api_watch_params_in_any_form_stream_without_a_read_timeout(
    cluster: FakeCluster, autojump_clock: trio.testing.MockClock
) -> None:
    async with make_api(cluster, timeout=1) as client:
        for params in ([("watch", "1")], "watch=true", {"watch": "true"}):
            with trio.move_on_after(5) as scope:
                async with client.call_api("GET", url="namespaces", params=params) as r:
                    async for _ in r.aiter_lines():  # a quiet watch outlives the 1 s read timeout
                        pass
            assert scope.cancelled_caught, params
