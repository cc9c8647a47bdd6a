"""Conformance of the fake API server's LIST over raw HTTP: selectors, pagination and the
resourceVersion rules, with kube-apiserver's exact Status bodies for every refusal.

Everything goes through a real TLS connection to 127.0.0.1 with httpx; objects are seeded
directly on the cluster handle (the same registry HTTP writes go through).
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from support import JSON, failure, list_options_invalid, seed_configmap, seed_namespace, seed_pod

from kr8s_trio.testing import FakeCluster

CM_PATH = "/api/v1/namespaces/{ns}/configmaps"


# -- helpers ------------------------------------------------------------------------------------


def names(body: JSON) -> list[str]:
    return [item["metadata"]["name"] for item in body["items"]]


async def list_(client: httpx.AsyncClient, path: str, **params: str) -> httpx.Response:
    return await client.get(path, params=params)


def numbered_configmaps(cluster: FakeCluster, ns: str, count: int, **data: str) -> str:
    """Namespace ``ns`` with ConfigMaps cm-0 ... cm-<count-1> (each with ``data``), seeded on the
    cluster; the path of their collection."""
    seed_namespace(cluster, ns)
    for i in range(count):
        seed_configmap(cluster, f"cm-{i}", ns, **data)
    return CM_PATH.format(ns=ns)


def token(data: JSON) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(value: str) -> JSON:
    decoded: JSON = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    return decoded


# -- pre-created namespaces ---------------------------------------------------------------------


async def test_namespaces_four_precreated_active(api_cluster: FakeCluster) -> None:
    async with api_cluster.http_client() as client:
        r = await list_(client, "/api/v1/namespaces")
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "NamespaceList"
    assert body["apiVersion"] == "v1"
    assert names(body) == ["default", "kube-node-lease", "kube-public", "kube-system"]
    for item in body["items"]:
        name = item["metadata"]["name"]
        assert item["status"] == {"phase": "Active"}
        assert item["metadata"]["labels"] == {"kubernetes.io/metadata.name": name}
        assert item["spec"] == {"finalizers": ["kubernetes"]}


# -- label selectors ----------------------------------------------------------------------------

LABELLED = {
    "a": {"env": "prod", "tier": "web", "ver": "3"},
    "b": {"env": "dev", "tier": "db", "ver": "10"},
    "c": {"env": "prod"},
    "d": None,
    "e": {"env": "qa", "tier": "web", "ver": "x"},
    "f": {"env": "", "tier": ""},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("env=prod", "ac"),
        ("env==prod", "ac"),
        ("env!=prod", "bdef"),  # != matches objects without the key
        ("env in (prod,qa)", "ace"),
        ("tier in (web)", "ae"),  # in needs the key
        ("tier notin (web)", "bcdf"),  # notin matches absent keys
        ("tier", "abef"),
        ("!tier", "cd"),
        ("ver>5", "b"),  # integer comparison; "x" is no integer
        ("ver<5", "a"),
        ("ver>2,ver<4", "a"),
        ("env=prod,tier=web", "a"),
        ("env=prod,!tier", "c"),
        ("  env = prod ,  !tier ", "c"),
        ("env in ( prod , qa ) , tier notin ( db )", "ace"),
        ("env=", "f"),  # the empty value is a value
        ("tier in ()", "f"),  # () reads as the set {""}
        ("env", "abcef"),
        ("", "abcdef"),
    ],
)
async def test_label_selector_operator_matches_like_apiserver(
    api_cluster: FakeCluster, selector: str, expected: str
) -> None:
    seed_namespace(api_cluster, "sel")
    for name, labels in LABELLED.items():
        seed_configmap(api_cluster, name, "sel", labels)
    seed_configmap(api_cluster, "elsewhere", "default", {"env": "prod", "tier": "web", "ver": "3"})
    async with api_cluster.http_client() as client:
        r = await list_(client, CM_PATH.format(ns="sel"), labelSelector=selector)
    assert r.status_code == 200, r.text
    assert names(r.json()) == list(expected)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("env in (prod", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("env=prod,", "found '', expected: identifier after ','"),
        ("env=prod tier=web", "found 'tier', expected: ',' or 'end of string'"),
        (",env", "found ',', expected: !, identifier, or 'end of string'"),
        ("env in prod", "unable to parse requirement: found 'prod' expected: '('"),
        (
            "ver>x",
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', "
            "'Lt' operators, the value must be an integer",
        ),
    ],
)
async def test_label_selector_parse_error_is_400(
    api_cluster: FakeCluster, selector: str, message: str
) -> None:
    async with api_cluster.http_client() as client:
        r = await list_(client, CM_PATH.format(ns="default"), labelSelector=selector)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/json"
    assert r.json() == failure(400, "BadRequest", message)


# -- field selectors ----------------------------------------------------------------------------


@pytest.fixture
async def pods(api_cluster: FakeCluster) -> FakeCluster:
    seed_namespace(api_cluster, "fs")
    seed_pod(api_cluster, "p1", "fs", node="n1")
    seed_pod(api_cluster, "p2", "fs", node="n2")
    seed_pod(api_cluster, "p3", "fs")
    seed_pod(api_cluster, "q1", "default", node="n1")
    api_cluster.patch_status("pods", "p1", {"phase": "Running"}, namespace="fs")
    return api_cluster


@pytest.mark.parametrize(
    ("path", "selector", "expected"),
    [
        ("/api/v1/namespaces/fs/pods", "spec.nodeName=n1", ["p1"]),
        ("/api/v1/namespaces/fs/pods", "spec.nodeName==n1", ["p1"]),
        ("/api/v1/namespaces/fs/pods", "spec.nodeName!=n1", ["p2", "p3"]),
        ("/api/v1/namespaces/fs/pods", "spec.nodeName=", ["p3"]),  # missing reads as ""
        ("/api/v1/namespaces/fs/pods", "spec.host=n2", ["p2"]),  # the legacy alias
        ("/api/v1/namespaces/fs/pods", "status.phase=Running", ["p1"]),
        ("/api/v1/namespaces/fs/pods", "status.phase=Pending,spec.nodeName!=n2", ["p3"]),
        ("/api/v1/namespaces/fs/pods", "metadata.name=p2,metadata.name=p2", ["p2"]),  # kr8s
        ("/api/v1/namespaces/fs/pods", "metadata.name=p2,metadata.name=p1", []),
        ("/api/v1/pods", "spec.nodeName=n1", ["q1", "p1"]),  # key order: default/ < fs/
        ("/api/v1/pods", "metadata.namespace=fs", ["p1", "p2", "p3"]),
        ("/api/v1/pods", "metadata.namespace!=fs", ["q1"]),
        ("/api/v1/pods", "metadata.namespace==default,spec.nodeName=n1", ["q1"]),
    ],
)
async def test_field_selector_pods(
    pods: FakeCluster, path: str, selector: str, expected: list[str]
) -> None:
    async with pods.http_client() as client:
        r = await list_(client, path, fieldSelector=selector)
    assert r.status_code == 200, r.text
    assert names(r.json()) == expected


async def test_field_selector_secret_type_with_escaped_comma_and_equals(
    api_cluster: FakeCluster,
) -> None:
    for name, type_ in [("s1", "example.com/a,b=c"), ("s2", "Opaque"), ("s3", "example.com/a")]:
        api_cluster.create(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": type_}
        )
    path = "/api/v1/namespaces/default/secrets"
    async with api_cluster.http_client() as client:
        escaped = await list_(client, path, fieldSelector=r"type=example.com/a\,b\=c")
        opaque = await list_(client, path, fieldSelector="type=Opaque")
        not_opaque = await list_(client, path, fieldSelector="type!=Opaque")
        unescaped = await list_(client, path, fieldSelector="type=a=b")
        bad_escape = await list_(client, path, fieldSelector=r"type=a\b")
    assert names(escaped.json()) == ["s1"]
    assert names(opaque.json()) == ["s2"]
    assert names(not_opaque.json()) == ["s1", "s3"]
    assert unescaped.status_code == 400
    assert unescaped.json() == failure(
        400, "BadRequest", "invalid field selector: unescaped character in value: 61"
    )
    assert bad_escape.json() == failure(
        400, "BadRequest", r"invalid field selector: invalid escape sequence: \b"
    )


async def test_field_selector_events_involved_object(api_cluster: FakeCluster) -> None:
    for name, target in [("e1", "web-1"), ("e2", "web-2")]:
        api_cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name},
                "involvedObject": {"kind": "Pod", "name": target, "namespace": "default"},
                "reason": "Started",
                "message": "hello",
                "type": "Normal",
            }
        )
    path = "/api/v1/namespaces/default/events"
    async with api_cluster.http_client() as client:
        # kubectl describe's selector
        one = await list_(
            client,
            path,
            fieldSelector="involvedObject.name=web-1,involvedObject.namespace=default",
        )
        kind = await list_(client, path, fieldSelector="involvedObject.kind=Pod,type=Normal")
    assert names(one.json()) == ["e1"]
    assert names(kind.json()) == ["e1", "e2"]


async def test_field_selector_nodes_unschedulable(api_cluster: FakeCluster) -> None:
    api_cluster.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    api_cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "n2"},
            "spec": {"unschedulable": True},
        }
    )
    async with api_cluster.http_client() as client:
        cordoned = await list_(client, "/api/v1/nodes", fieldSelector="spec.unschedulable=true")
        free = await list_(client, "/api/v1/nodes", fieldSelector="spec.unschedulable=false")
        not_free = await list_(client, "/api/v1/nodes", fieldSelector="spec.unschedulable!=false")
    assert names(cordoned.json()) == ["n2"]
    assert names(free.json()) == ["n1"]  # an absent bool reads as "false"
    assert names(not_free.json()) == ["n2"]


async def test_field_selector_namespaces_status_phase(api_cluster: FakeCluster) -> None:
    seed_namespace(api_cluster, "doomed")
    api_cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "held", "namespace": "doomed", "finalizers": ["example.com/x"]},
        }
    )
    api_cluster.delete("namespaces", "doomed", None)
    async with api_cluster.http_client() as client:
        terminating = await list_(
            client, "/api/v1/namespaces", fieldSelector="status.phase=Terminating"
        )
        active = await list_(client, "/api/v1/namespaces", fieldSelector="status.phase==Active")
        by_name = await list_(client, "/api/v1/namespaces", fieldSelector="metadata.name=default")
    assert names(terminating.json()) == ["doomed"]
    assert names(active.json()) == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert names(by_name.json()) == ["default"]


@pytest.mark.parametrize(
    ("path", "selector", "field"),
    [
        ("/api/v1/namespaces/default/pods", "spec.foo=1", "spec.foo"),
        ("/api/v1/pods", "status.hostIP=10.0.0.1", "status.hostIP"),
        ("/api/v1/namespaces/default/secrets", "data.x=1", "data.x"),
        ("/api/v1/nodes", "spec.podCIDR=x", "spec.podCIDR"),
        # cluster-scoped Namespaces have no metadata.namespace
        ("/api/v1/namespaces", "metadata.namespace=default", "metadata.namespace"),
        # sorted order decides which unsupported field is reported
        ("/api/v1/namespaces/default/pods", "zzz=1,spec.nodeName=n,aaa=2", "aaa"),
    ],
)
async def test_field_selector_unsupported_field_is_400(
    api_cluster: FakeCluster, path: str, selector: str, field: str
) -> None:
    async with api_cluster.http_client() as client:
        r = await list_(client, path, fieldSelector=selector)
    assert r.status_code == 400
    assert r.json() == failure(400, "BadRequest", f"field label not supported: {field}")


async def test_field_selector_unsupported_on_default_kinds_names_the_defaults(
    api_cluster: FakeCluster,
) -> None:
    # kinds without their own field label conversion use apimachinery's default one, which
    # also accepts metadata.namespace on cluster-scoped kinds (where it is always "")
    api_cluster.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "cr1"},
            "rules": [],
        }
    )
    roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
    async with api_cluster.http_client() as client:
        r = await list_(client, CM_PATH.format(ns="default"), fieldSelector="data.x=1")
        empty_ns = await list_(client, roles, fieldSelector="metadata.namespace=")
        some_ns = await list_(client, roles, fieldSelector="metadata.namespace=default")
    assert r.status_code == 400
    assert r.json() == failure(
        400,
        "BadRequest",
        '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"',
    )
    assert "cr1" in names(empty_ns.json())
    assert names(some_ns.json()) == []


# -- pagination ---------------------------------------------------------------------------------


async def test_pagination_returns_every_item_once_in_key_order(api_cluster: FakeCluster) -> None:
    seed_namespace(api_cluster, "pg")
    seed_namespace(api_cluster, "ph")
    for i in (4, 0, 6, 2, 1, 5, 3):
        seed_configmap(api_cluster, f"cm-{i}", "pg")
    seed_configmap(api_cluster, "cm-x", "ph")  # a neighbour namespace must not leak in
    path = CM_PATH.format(ns="pg")
    pages: list[JSON] = []
    async with api_cluster.http_client() as client:
        r = await list_(client, path, limit="3")
        pages.append(r.json())
        while cont := pages[-1]["metadata"].get("continue"):
            r = await list_(client, path, limit="3", **{"continue": cont})
            assert r.status_code == 200
            pages.append(r.json())
    assert [names(p) for p in pages] == [
        ["cm-0", "cm-1", "cm-2"],
        ["cm-3", "cm-4", "cm-5"],
        ["cm-6"],
    ]
    assert [p["metadata"].get("remainingItemCount") for p in pages] == [4, 1, None]
    assert "continue" not in pages[-1]["metadata"]
    assert len({p["metadata"]["resourceVersion"] for p in pages}) == 1
    first = decode_token(pages[0]["metadata"]["continue"])
    assert first == {
        "v": "meta.k8s.io/v1",
        "rv": int(pages[0]["metadata"]["resourceVersion"]),
        "start": "pg/cm-2\x00",
    }


async def test_pagination_all_namespaces_matches_unpaged_list(api_cluster: FakeCluster) -> None:
    for ns in ("n1", "n2", "n3"):
        seed_namespace(api_cluster, ns)
        for i in range(3):
            seed_configmap(api_cluster, f"c{i}", ns)
    seen: list[tuple[str, str]] = []
    async with api_cluster.http_client() as client:
        full = (await list_(client, "/api/v1/configmaps")).json()
        params: dict[str, str] = {"limit": "2"}
        while True:
            body = (await list_(client, "/api/v1/configmaps", **params)).json()
            assert len(body["items"]) <= 2
            seen += [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]]
            if "continue" not in body["metadata"]:
                break
            params["continue"] = body["metadata"]["continue"]
    expected = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in full["items"]]
    assert seen == expected
    assert seen == sorted(seen)
    assert len(seen) >= 9


async def test_pagination_later_pages_serve_the_first_page_snapshot(
    api_cluster: FakeCluster,
) -> None:
    path = numbered_configmaps(api_cluster, "pg", 6, v="old")
    async with api_cluster.http_client() as client:
        page1 = (await list_(client, path, limit="2")).json()
        # writes between pages: a new object, a deletion, a modification, all after page 1
        seed_configmap(api_cluster, "cm-5a", "pg", v="new")
        seed_configmap(api_cluster, "cm-0a", "pg", v="new")  # sorts inside page 1's range
        api_cluster.delete("configmaps", "cm-3", "pg")
        api_cluster.patch("configmaps", "cm-4", {"data": {"v": "new"}}, namespace="pg")
        page2 = await list_(client, path, limit="2", **{"continue": page1["metadata"]["continue"]})
        page2_body = page2.json()
        page3 = (
            await list_(client, path, limit="2", **{"continue": page2_body["metadata"]["continue"]})
        ).json()
        latest = (await list_(client, path)).json()
    assert names(page1) == ["cm-0", "cm-1"]
    assert names(page2_body) == ["cm-2", "cm-3"]
    assert names(page3) == ["cm-4", "cm-5"]
    assert page3["items"][0]["data"] == {"v": "old"}
    rv = page1["metadata"]["resourceVersion"]
    assert page2_body["metadata"]["resourceVersion"] == rv
    assert page3["metadata"]["resourceVersion"] == rv
    assert all(int(i["metadata"]["resourceVersion"]) <= int(rv) for i in page3["items"])
    assert names(latest) == ["cm-0", "cm-0a", "cm-1", "cm-2", "cm-4", "cm-5", "cm-5a"]
    assert int(latest["metadata"]["resourceVersion"]) > int(rv)


async def test_pagination_with_selector_has_no_remaining_item_count(
    api_cluster: FakeCluster,
) -> None:
    seed_namespace(api_cluster, "pg")
    for i in range(6):
        seed_configmap(api_cluster, f"cm-{i}", "pg", {"odd": str(i % 2)})
    path = CM_PATH.format(ns="pg")
    async with api_cluster.http_client() as client:
        page1 = (await list_(client, path, limit="2", labelSelector="odd=1")).json()
        page2 = (
            await list_(
                client,
                path,
                limit="2",
                labelSelector="odd=1",
                **{"continue": page1["metadata"]["continue"]},
            )
        ).json()
        unselected = (await list_(client, path, limit="2")).json()
    assert names(page1) == ["cm-1", "cm-3"]
    assert "remainingItemCount" not in page1["metadata"]
    assert names(page2) == ["cm-5"]
    assert "continue" not in page2["metadata"]
    assert unselected["metadata"]["remainingItemCount"] == 4


async def test_pagination_limit_larger_than_collection_has_no_continue(
    api_cluster: FakeCluster,
) -> None:
    path = numbered_configmaps(api_cluster, "pg", 3)
    async with api_cluster.http_client() as client:
        exact = (await list_(client, path, limit="3")).json()
        larger = (await list_(client, path, limit="50")).json()
    for body in (exact, larger):
        assert names(body) == ["cm-0", "cm-1", "cm-2"]
        assert set(body["metadata"]) == {"resourceVersion"}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("not*base64", "illegal base64 data at input byte 3"),
        (
            token({"v": "meta.k8s.io/v2", "rv": 5, "start": "x"}),
            "server does not recognize this encoded version meta.k8s.io/v2",
        ),
        (
            token({"v": "meta.k8s.io/v1", "rv": 0, "start": "x"}),
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ),
        (
            token({"v": "meta.k8s.io/v1", "rv": 5, "start": ""}),
            "encoded start key empty (version meta.k8s.io/v1)",
        ),
        (token({"v": "meta.k8s.io/v1", "rv": 5, "start": "../kube-system/x"}), "../kube-system/x"),
    ],
)
async def test_pagination_invalid_continue_token_is_400(
    api_cluster: FakeCluster, value: str, why: str
) -> None:
    async with api_cluster.http_client() as client:
        r = await list_(client, CM_PATH.format(ns="default"), **{"continue": value})
    assert r.status_code == 400
    message = f"invalid continue token: continue key is not valid: {why}"
    assert r.json() == failure(400, "BadRequest", message)


async def test_pagination_continue_with_resource_version_is_400(
    api_cluster: FakeCluster,
) -> None:
    path = numbered_configmaps(api_cluster, "pg", 3)
    async with api_cluster.http_client() as client:
        page1 = (await list_(client, path, limit="1")).json()
        cont = page1["metadata"]["continue"]
        rv = page1["metadata"]["resourceVersion"]
        r = await list_(client, path, limit="1", resourceVersion=rv, **{"continue": cont})
        zero = await list_(client, path, limit="1", resourceVersion="0", **{"continue": cont})
    assert r.status_code == 400
    assert r.json() == failure(
        400, "BadRequest", "specifying resource version is not allowed when using continue"
    )
    assert zero.status_code == 200  # "0" is tolerated with continue
    assert names(zero.json()) == ["cm-1"]


EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list."
)


async def test_pagination_expired_token_is_410_with_fresh_token_from_latest(
    api_cluster: FakeCluster,
) -> None:
    path = numbered_configmaps(api_cluster, "pg", 5, v="old")
    async with api_cluster.http_client() as client:
        page1 = (await list_(client, path, limit="2")).json()
        api_cluster.delete("configmaps", "cm-2", "pg")
        api_cluster.patch("configmaps", "cm-3", {"data": {"v": "new"}}, namespace="pg")
        api_cluster.compact()
        seed_configmap(api_cluster, "cm-9", "pg", v="new")
        expired = await list_(
            client, path, limit="2", **{"continue": page1["metadata"]["continue"]}
        )
        body = expired.json()
        fresh = body["metadata"]["continue"]
        resumed = (await list_(client, path, limit="2", **{"continue": fresh})).json()
        rest = (
            await list_(client, path, limit="2", **{"continue": resumed["metadata"]["continue"]})
        ).json()
    assert expired.status_code == 410
    assert body == failure(410, "Expired", EXPIRED_CONTINUE, metadata={"continue": fresh})
    assert decode_token(fresh) == {"v": "meta.k8s.io/v1", "rv": -1, "start": "pg/cm-1\x00"}
    # the fresh token continues after the last item seen, from the latest state
    assert names(resumed) == ["cm-3", "cm-4"]
    assert resumed["items"][0]["data"] == {"v": "new"}
    latest = str(api_cluster.state.store.revision)
    assert resumed["metadata"]["resourceVersion"] == latest
    # the following pages are pinned to the revision the resumed page was read at
    assert decode_token(resumed["metadata"]["continue"])["rv"] == int(latest)
    assert names(rest) == ["cm-9"]
    assert rest["metadata"]["resourceVersion"] == latest


async def test_pagination_compaction_at_the_token_revision_keeps_it_valid(
    api_cluster: FakeCluster,
) -> None:
    # like etcd: compacting at revision R forgets revisions before R, R itself stays readable
    path = numbered_configmaps(api_cluster, "pg", 3)
    async with api_cluster.http_client() as client:
        page1 = (await list_(client, path, limit="2")).json()
        token_rv = int(page1["metadata"]["resourceVersion"])
        assert api_cluster.state.store.compact(token_rv) == token_rv
        page2 = await list_(client, path, limit="2", **{"continue": page1["metadata"]["continue"]})
    assert page2.status_code == 200
    assert names(page2.json()) == ["cm-2"]


async def test_pagination_expire_continue_tokens_without_writes(api_cluster: FakeCluster) -> None:
    # the fault expires every token handed out so far, even with no write since
    path = numbered_configmaps(api_cluster, "px", 3)
    async with api_cluster.http_client() as client:
        page1 = (await list_(client, path, limit="2")).json()
        api_cluster.expire_continue_tokens()
        expired = await list_(
            client, path, limit="2", **{"continue": page1["metadata"]["continue"]}
        )
        assert expired.status_code == 410
        fresh = expired.json()["metadata"]["continue"]
        rest = await list_(client, path, limit="2", **{"continue": fresh})
    assert expired.json()["reason"] == "Expired"
    assert rest.status_code == 200
    assert names(rest.json()) == ["cm-2"]


# -- resourceVersion rules ----------------------------------------------------------------------


#: the ConfigMaps of the `history` fixture
HISTORY_PATH = CM_PATH.format(ns="rv")


@pytest.fixture
async def history(api_cluster: FakeCluster) -> tuple[FakeCluster, str]:
    """Namespace "rv" with a, b at resourceVersion N, then c created and a deleted after N."""
    seed_namespace(api_cluster, "rv")
    seed_configmap(api_cluster, "a", "rv")
    b = seed_configmap(api_cluster, "b", "rv", v="1")
    rv = b["metadata"]["resourceVersion"]
    seed_configmap(api_cluster, "c", "rv")
    api_cluster.delete("configmaps", "a", "rv")
    api_cluster.patch("configmaps", "b", {"data": {"v": "2"}}, namespace="rv")
    return api_cluster, rv


async def test_resource_version_unset_and_zero_serve_latest(
    history: tuple[FakeCluster, str],
) -> None:
    cluster, _ = history
    async with cluster.http_client() as client:
        unset = (await list_(client, HISTORY_PATH)).json()
        zero = (await list_(client, HISTORY_PATH, resourceVersion="0")).json()
    current = str(cluster.state.store.revision)
    for body in (unset, zero):
        assert names(body) == ["b", "c"]
        assert body["items"][0]["data"] == {"v": "2"}
        assert body["metadata"]["resourceVersion"] == current


async def test_resource_version_without_limit_is_not_older_than(
    history: tuple[FakeCluster, str],
) -> None:
    cluster, rv = history
    async with cluster.http_client() as client:
        legacy = (await list_(client, HISTORY_PATH, resourceVersion=rv)).json()
        explicit = (
            await list_(
                client,
                HISTORY_PATH,
                resourceVersion=rv,
                resourceVersionMatch="NotOlderThan",
                limit="10",
            )
        ).json()
    for body in (legacy, explicit):
        assert names(body) == ["b", "c"]
        assert body["metadata"]["resourceVersion"] == str(cluster.state.store.revision)


async def test_resource_version_with_limit_is_exact_legacy_rule(
    history: tuple[FakeCluster, str],
) -> None:
    cluster, rv = history
    async with cluster.http_client() as client:
        legacy = (await list_(client, HISTORY_PATH, resourceVersion=rv, limit="10")).json()
        paged = (await list_(client, HISTORY_PATH, resourceVersion=rv, limit="1")).json()
        rest = (
            await list_(
                client,
                HISTORY_PATH,
                limit="1",
                **{"continue": paged["metadata"]["continue"]},
            )
        ).json()
    assert names(legacy) == ["a", "b"]
    assert legacy["items"][1]["data"] == {"v": "1"}
    assert legacy["metadata"]["resourceVersion"] == rv
    # the snapshot is kept across pages of an exact list
    assert names(paged) == ["a"]
    assert names(rest) == ["b"]
    assert rest["metadata"]["resourceVersion"] == rv


async def test_resource_version_match_exact_serves_old_snapshot(
    history: tuple[FakeCluster, str],
) -> None:
    cluster, rv = history
    async with cluster.http_client() as client:
        r = await list_(client, HISTORY_PATH, resourceVersion=rv, resourceVersionMatch="Exact")
    body = r.json()
    assert r.status_code == 200
    assert names(body) == ["a", "b"]
    assert body["items"][1]["data"] == {"v": "1"}
    assert body["items"][1]["metadata"]["resourceVersion"] == rv
    assert body["metadata"]["resourceVersion"] == rv


async def test_resource_version_match_exact_compacted_is_410(
    history: tuple[FakeCluster, str],
) -> None:
    cluster, rv = history
    cluster.compact()
    async with cluster.http_client() as client:
        exact = await list_(client, HISTORY_PATH, resourceVersion=rv, resourceVersionMatch="Exact")
        legacy = await list_(client, HISTORY_PATH, resourceVersion=rv, limit="5")
        not_older = await list_(client, HISTORY_PATH, resourceVersion=rv)
    expected = failure(410, "Expired", "The resourceVersion for the provided list is too old.")
    assert exact.status_code == 410
    assert exact.json() == expected
    assert legacy.json() == expected
    assert not_older.status_code == 200  # NotOlderThan an old version: any newer state will do


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"resourceVersionMatch": "NotOlderThan"},
            [
                (
                    "FieldValueForbidden",
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is "
                    "provided",
                )
            ],
        ),
        (
            {"resourceVersionMatch": "Exact", "resourceVersion": "0"},
            [
                (
                    "FieldValueForbidden",
                    "resourceVersionMatch",
                    'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
                )
            ],
        ),
        (
            {"resourceVersionMatch": "Latest", "resourceVersion": "1"},
            [
                (
                    "FieldValueNotSupported",
                    "resourceVersionMatch",
                    'Unsupported value: "Latest": supported values: "Exact", "NotOlderThan", ""',
                )
            ],
        ),
        (
            {"resourceVersionMatch": "NotOlderThan", "resourceVersion": "1", "continue": "x"},
            [
                (
                    "FieldValueForbidden",
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden when continue is provided",
                )
            ],
        ),
        (
            {"sendInitialEvents": "true"},
            [
                (
                    "FieldValueForbidden",
                    "sendInitialEvents",
                    "Forbidden: sendInitialEvents is forbidden for list",
                )
            ],
        ),
    ],
)
async def test_resource_version_match_invalid_list_options_is_422(
    api_cluster: FakeCluster, params: dict[str, str], errors: list[tuple[str, str, str]]
) -> None:
    async with api_cluster.http_client() as client:
        r = await list_(client, CM_PATH.format(ns="default"), **params)
    assert r.status_code == 422
    assert r.json() == list_options_invalid(*errors)


@pytest.mark.parametrize(
    "params",
    [
        {"resourceVersion": "999999"},
        {"resourceVersion": "999999", "limit": "5"},
        {"resourceVersion": "999999", "resourceVersionMatch": "Exact"},
        {"resourceVersion": "999999", "resourceVersionMatch": "NotOlderThan"},
    ],
)
async def test_resource_version_in_the_future_is_504_too_large(
    api_cluster: FakeCluster, params: dict[str, str]
) -> None:
    async with api_cluster.http_client() as client:
        r = await list_(client, CM_PATH.format(ns="default"), **params)
    current = api_cluster.state.store.revision
    assert r.status_code == 504
    assert r.headers["retry-after"] == "1"
    assert r.json() == failure(
        504,
        "Timeout",
        f"Timeout: Too large resource version: 999999, current: {current}",
        details={
            "causes": [
                {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
            ],
            "retryAfterSeconds": 1,
        },
    )


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
async def test_resource_version_invalid_string_is_400(api_cluster: FakeCluster, value: str) -> None:
    async with api_cluster.http_client() as client:
        r = await list_(client, CM_PATH.format(ns="default"), resourceVersion=value)
    assert r.status_code == 400
    body = r.json()
    assert body["kind"] == "Status"
    assert body["reason"] == "BadRequest"
    assert body["code"] == 400
    assert value in body["message"]
