"""Conformance of the fake API server, over raw httpx: authentication and authorization.

Bearer tokens (added, revoked, expired), client certificates (CN is the user, O the groups),
anonymous requests (401 unless allowed), impersonation headers, allow-rules with kube-apiserver's
exact 403 messages, the review resources (SelfSubjectReview, SelfSubjectAccessReview,
TokenReview), and HTTP/2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import trio
from support import CORE, JSON, configmap, failure, pod

from kr8s_trio.testing import ClusterConfig, FakeCluster, Rule, open_fake_cluster

AUTHN = "/apis/authentication.k8s.io/v1"
AUTHZ = "/apis/authorization.k8s.io/v1"


def forbidden(subject: str, details: JSON, what: str) -> JSON:
    return failure(403, "Forbidden", f"{subject} is forbidden: {what}", details)


async def whoami(client: httpx.AsyncClient) -> JSON:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    r = await client.post(f"{AUTHN}/selfsubjectreviews", json=body)
    assert r.status_code == 201, r.text
    review: JSON = r.json()
    assert (review["apiVersion"], review["kind"]) == (
        "authentication.k8s.io/v1",
        "SelfSubjectReview",
    )
    user: JSON = review["status"]["userInfo"]
    return user


async def can_i(client: httpx.AsyncClient, **attributes: str) -> JSON:
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }
    r = await client.post(f"{AUTHZ}/selfsubjectaccessreviews", json=body)
    assert r.status_code == 201, r.text
    review: JSON = r.json()
    assert review["spec"] == body["spec"]
    return review


@pytest.fixture
async def admin(api_cluster: FakeCluster) -> AsyncIterator[httpx.AsyncClient]:
    async with api_cluster.http_client() as client:
        yield client


# -- tokens -------------------------------------------------------------------------------------


async def test_authn_token_user_and_admin(
    api_cluster: FakeCluster, admin: httpx.AsyncClient
) -> None:
    me = await whoami(admin)
    assert me["username"] == "fake-admin"
    assert me["groups"] == ["system:masters", "system:authenticated"]

    token = api_cluster.add_user("bob", ["dev", "qa"])
    async with api_cluster.http_client(token=token) as bob:
        assert await whoami(bob) == {
            "username": "bob",
            "groups": ["dev", "qa", "system:authenticated"],
        }
        assert (await bob.get(f"{CORE}/pods")).status_code == 200
    assert [r.user for r in api_cluster.requests][-2:] == ["bob", "bob"]


@pytest.mark.parametrize("how", ["revoke", "expire"])
async def test_authn_revoked_or_expired_token_is_401(api_cluster: FakeCluster, how: str) -> None:
    token = api_cluster.add_user("bob")
    async with api_cluster.http_client(token=token) as bob:
        assert (await bob.get(f"{CORE}/configmaps")).status_code == 200
        if how == "revoke":
            api_cluster.revoke_token(token)
        else:
            api_cluster.expire_token(token)
        r = await bob.get(f"{CORE}/configmaps")
    assert r.status_code == 401
    assert r.json() == failure(401, "Unauthorized", "Unauthorized")


async def test_authn_token_ttl_runs_on_the_cluster_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_fake_cluster() as cluster:
        token = cluster.add_user("short-lived", ttl=60)
        async with cluster.http_client(token=token, timeout=None) as client:
            assert (await client.get(f"{CORE}/configmaps")).status_code == 200
            await trio.sleep(61)
            r = await client.get(f"{CORE}/configmaps")
    assert r.json() == failure(401, "Unauthorized", "Unauthorized")


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Bearer", "Basic dXNlcjpwYXNz"])
async def test_authn_bad_credentials_are_401(api_cluster: FakeCluster, authorization: str) -> None:
    async with api_cluster.http_client(token="", headers={"Authorization": authorization}) as c:
        r = await c.get(f"{CORE}/configmaps")
    assert r.status_code == 401
    assert r.json() == failure(401, "Unauthorized", "Unauthorized")


# -- client certificates ------------------------------------------------------------------------


async def test_authn_client_certificate_user_and_groups(api_cluster: FakeCluster) -> None:
    cert = api_cluster.issue_client_cert("alice", ["dev"])
    verify = api_cluster.ssl_context(client_cert=cert)
    async with httpx.AsyncClient(base_url=api_cluster.url, verify=verify) as alice:
        assert await whoami(alice) == {
            "username": "alice",
            "groups": ["dev", "system:authenticated"],
        }
        r = await alice.get(f"{CORE}/configmaps")
        assert r.status_code == 200
    assert api_cluster.requests.filter(verb="list")[-1].user == "alice"


async def test_authn_client_certificate_wins_over_a_bearer_token(api_cluster: FakeCluster) -> None:
    # kube-apiserver's authenticator union tries x509 before bearer tokens
    cert = api_cluster.issue_client_cert("alice", ["dev"])
    verify = api_cluster.ssl_context(client_cert=cert)
    token = api_cluster.add_user("bob")
    for authorization in (f"Bearer {token}", "Bearer not-a-token"):
        headers = {"Authorization": authorization}
        async with httpx.AsyncClient(base_url=api_cluster.url, verify=verify, headers=headers) as c:
            assert (await whoami(c))["username"] == "alice"


async def test_authn_cluster_client_certificate_is_an_admin(api_cluster: FakeCluster) -> None:
    verify = api_cluster.ssl_context(client_cert=api_cluster.client_cert)
    api_cluster.set_rules([])
    async with httpx.AsyncClient(base_url=api_cluster.url, verify=verify) as client:
        me = await whoami(client)
        assert "system:masters" in me["groups"]
        assert (await client.get("/api/v1/nodes")).status_code == 200


# -- anonymous ----------------------------------------------------------------------------------


async def test_authn_anonymous_is_401_by_default(api_cluster: FakeCluster) -> None:
    async with api_cluster.http_client(token="") as anonymous:
        r = await anonymous.get(f"{CORE}/configmaps")
        assert r.status_code == 401
        assert r.json() == failure(401, "Unauthorized", "Unauthorized")
        r = await anonymous.get("/version")
        assert r.status_code == 401


async def test_authn_anonymous_allowed_is_system_anonymous() -> None:
    config = ClusterConfig(allow_anonymous=True)
    async with open_fake_cluster(config) as cluster, cluster.http_client(token="") as anonymous:
        assert await whoami(anonymous) == {
            "username": "system:anonymous",
            "groups": ["system:unauthenticated"],
        }
        assert (await anonymous.get(f"{CORE}/configmaps")).status_code == 200
        # a bad token is still refused: anonymity is only for requests without credentials
        r = await anonymous.get(f"{CORE}/configmaps", headers={"Authorization": "Bearer x"})
        assert r.status_code == 401


# -- impersonation ------------------------------------------------------------------------------


async def test_authn_impersonation_of_user_groups_and_extra(
    api_cluster: FakeCluster, admin: httpx.AsyncClient
) -> None:
    headers = [
        ("Impersonate-User", "jane"),
        ("Impersonate-Group", "dev"),
        ("Impersonate-Group", "ops"),
        ("Impersonate-Extra-Scopes", "view"),
    ]
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    r = await admin.post(f"{AUTHN}/selfsubjectreviews", json=body, headers=headers)
    assert r.status_code == 201
    assert r.json()["status"]["userInfo"] == {
        "username": "jane",
        "groups": ["dev", "ops", "system:authenticated"],
        "extra": {"scopes": ["view"]},
    }
    record = api_cluster.requests.filter(resource="selfsubjectreviews")[-1]
    assert record.user == "jane"
    assert record.impersonation == {
        "impersonate-user": "jane",
        "impersonate-group": "dev, ops",
        "impersonate-extra-scopes": "view",
    }


async def test_authn_impersonation_needs_permission(api_cluster: FakeCluster) -> None:
    token = api_cluster.add_user("alice")
    api_cluster.set_rules([Rule(users=("alice",), verbs=("list",), resources=("pods",))])
    async with api_cluster.http_client(token=token) as alice:
        r = await alice.get(f"{CORE}/pods", headers={"Impersonate-User": "root"})
        assert r.status_code == 403
        assert r.json() == forbidden(
            'users "root"',
            {"name": "root", "kind": "users"},
            'User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
        )
        api_cluster.set_rules(
            [
                Rule(users=("alice",), verbs=("list",), resources=("pods",)),
                Rule(users=("alice",), verbs=("impersonate",), resources=("users",)),
            ]
        )
        r = await alice.get("/api/v1/nodes", headers={"Impersonate-User": "root"})
        # impersonating works, and the rules then apply to the impersonated user
        assert r.json() == forbidden(
            "nodes",
            {"kind": "nodes"},
            'User "root" cannot list resource "nodes" in API group "" at the cluster scope',
        )


# -- authorization rules ------------------------------------------------------------------------


@pytest.fixture
async def alice(
    api_cluster: FakeCluster, admin: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """alice may get and list pods in default, nothing else."""
    assert (await admin.post(f"{CORE}/pods", json=pod("web"))).status_code == 201
    token = api_cluster.add_user("alice", ["dev"])
    api_cluster.set_rules(
        [
            Rule(
                users=("alice",),
                verbs=("get", "list"),
                resources=("pods",),
                namespaces=("default",),
            )
        ]
    )
    async with api_cluster.http_client(token=token) as client:
        yield client


async def test_authz_rules_allow_what_they_list(alice: httpx.AsyncClient) -> None:
    r = await alice.get(f"{CORE}/pods")
    assert r.status_code == 200
    assert [p["metadata"]["name"] for p in r.json()["items"]] == ["web"]
    assert (await alice.get(f"{CORE}/pods/web")).status_code == 200
    # allowed, and then not found
    assert (await alice.get(f"{CORE}/pods/nope")).status_code == 404


async def test_authz_forbidden_namespaced_request(alice: httpx.AsyncClient) -> None:
    r = await alice.get("/api/v1/namespaces/kube-system/pods")
    assert r.status_code == 403
    assert r.json() == forbidden(
        "pods",
        {"kind": "pods"},
        'User "alice" cannot list resource "pods" in API group "" in the namespace "kube-system"',
    )
    r = await alice.get(f"{CORE}/configmaps", params={"watch": "true"})
    assert r.json() == forbidden(
        "configmaps",
        {"kind": "configmaps"},
        'User "alice" cannot watch resource "configmaps" in API group "" in the namespace '
        '"default"',
    )
    r = await alice.get("/apis/apps/v1/namespaces/default/deployments")
    assert r.json() == forbidden(
        "deployments.apps",
        {"group": "apps", "kind": "deployments"},
        'User "alice" cannot list resource "deployments" in API group "apps" in the namespace '
        '"default"',
    )


async def test_authz_forbidden_cluster_scope_request(alice: httpx.AsyncClient) -> None:
    r = await alice.get("/api/v1/pods")
    assert r.json() == forbidden(
        "pods",
        {"kind": "pods"},
        'User "alice" cannot list resource "pods" in API group "" at the cluster scope',
    )
    r = await alice.get("/api/v1/nodes")
    assert r.json() == forbidden(
        "nodes",
        {"kind": "nodes"},
        'User "alice" cannot list resource "nodes" in API group "" at the cluster scope',
    )
    r = await alice.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/admin")
    assert r.json() == forbidden(
        'clusterroles.rbac.authorization.k8s.io "admin"',
        {"name": "admin", "group": "rbac.authorization.k8s.io", "kind": "clusterroles"},
        'User "alice" cannot get resource "clusterroles" in API group '
        '"rbac.authorization.k8s.io" at the cluster scope',
    )


async def test_authz_forbidden_named_request(alice: httpx.AsyncClient) -> None:
    r = await alice.delete(f"{CORE}/pods/web")
    assert r.status_code == 403
    assert r.json() == forbidden(
        'pods "web"',
        {"name": "web", "kind": "pods"},
        'User "alice" cannot delete resource "pods" in API group "" in the namespace "default"',
    )
    r = await alice.get(f"{CORE}/pods/web/log")
    assert r.json() == forbidden(
        'pods "web"',
        {"name": "web", "kind": "pods"},
        'User "alice" cannot get resource "pods/log" in API group "" in the namespace "default"',
    )
    r = await alice.get("/api/v1/namespaces/default")
    assert r.json() == forbidden(
        'namespaces "default"',
        {"name": "default", "kind": "namespaces"},
        'User "alice" cannot get resource "namespaces" in API group "" in the namespace "default"',
    )
    r = await alice.post(f"{CORE}/pods", json=pod("other"))
    assert r.json() == forbidden(
        "pods",
        {"kind": "pods"},
        'User "alice" cannot create resource "pods" in API group "" in the namespace "default"',
    )


async def test_authz_masters_and_clearing_the_rules(
    api_cluster: FakeCluster, alice: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    assert (await admin.get("/api/v1/nodes")).status_code == 200
    assert (await alice.get("/api/v1/nodes")).status_code == 403
    api_cluster.set_rules(None)
    assert (await alice.get("/api/v1/nodes")).status_code == 200


async def test_authz_group_rules_apply_to_members(api_cluster: FakeCluster) -> None:
    api_cluster.set_rules([Rule(groups=("viewers",), verbs=("list",))])
    member = api_cluster.add_user("m", ["viewers"])
    other = api_cluster.add_user("o", ["doers"])
    async with (
        api_cluster.http_client(token=member) as m,
        api_cluster.http_client(token=other) as o,
    ):
        assert (await m.get("/api/v1/nodes")).status_code == 200
        assert (await m.get(f"{CORE}/secrets")).status_code == 200
        assert (await m.delete(f"{CORE}/secrets/x")).status_code == 403
        assert (await o.get("/api/v1/nodes")).status_code == 403


async def test_authz_self_subject_access_review_answers_from_the_rules(
    alice: httpx.AsyncClient,
) -> None:
    # self reviews need no rule: every authenticated user may create them (system:basic-user)
    assert (await whoami(alice))["username"] == "alice"
    allowed = await can_i(alice, verb="list", resource="pods", namespace="default")
    assert allowed["status"]["allowed"] is True
    denied = await can_i(alice, verb="list", resource="pods", namespace="kube-system")
    assert denied["status"]["allowed"] is False
    denied = await can_i(alice, verb="delete", resource="pods", namespace="default", name="web")
    assert denied["status"]["allowed"] is False
    denied = await can_i(
        alice, verb="list", group="apps", resource="deployments", namespace="default"
    )
    assert denied["status"]["allowed"] is False
    review = await can_i(alice, verb="get", resource="pods", namespace="default", name="web")
    assert (review["apiVersion"], review["kind"]) == (
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
    )
    assert review["status"]["allowed"] is True


async def test_authz_self_subject_access_review_without_rules_allows(
    admin: httpx.AsyncClient,
) -> None:
    review = await can_i(admin, verb="delete", resource="nodes")
    assert review["status"]["allowed"] is True


# -- token review -------------------------------------------------------------------------------


async def test_authn_token_review_of_valid_and_invalid_tokens(
    api_cluster: FakeCluster, admin: httpx.AsyncClient
) -> None:
    token = api_cluster.add_user("carol", ["dev"])
    body = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token},
    }
    r = await admin.post(f"{AUTHN}/tokenreviews", json=body)
    assert r.status_code == 201
    review = r.json()
    assert (review["apiVersion"], review["kind"]) == ("authentication.k8s.io/v1", "TokenReview")
    assert review["status"]["authenticated"] is True
    assert review["status"]["user"] == {
        "username": "carol",
        "groups": ["dev", "system:authenticated"],
    }

    body["spec"] = {"token": "garbage"}
    r = await admin.post(f"{AUTHN}/tokenreviews", json=body)
    assert r.status_code == 201
    status = r.json()["status"]
    assert status.get("authenticated", False) is False
    assert status["user"] == {}

    api_cluster.revoke_token(token)
    body["spec"] = {"token": token}
    r = await admin.post(f"{AUTHN}/tokenreviews", json=body)
    assert r.json()["status"].get("authenticated", False) is False
    # nothing was stored
    assert (await admin.get(f"{AUTHN}/tokenreviews")).status_code == 405


# -- HTTP/2 -------------------------------------------------------------------------------------


async def test_http2_crud_and_errors(api_cluster: FakeCluster) -> None:
    async with api_cluster.http_client(http2=True) as client:
        r = await client.post(f"{CORE}/configmaps", json=configmap("h2", k="v"))
        assert (r.status_code, r.http_version) == (201, "HTTP/2")
        r = await client.get(f"{CORE}/configmaps/h2")
        assert (r.status_code, r.http_version) == (200, "HTTP/2")
        assert r.json()["data"] == {"k": "v"}
        r = await client.patch(
            f"{CORE}/configmaps/h2",
            json={"data": {"k": "w"}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert (r.status_code, r.json()["data"]) == (200, {"k": "w"})
        r = await client.delete(f"{CORE}/configmaps/h2")
        assert (r.status_code, r.http_version) == (200, "HTTP/2")
        r = await client.get(f"{CORE}/configmaps/h2")
        assert r.http_version == "HTTP/2"
        assert r.json() == failure(
            404, "NotFound", 'configmaps "h2" not found', {"name": "h2", "kind": "configmaps"}
        )
    async with api_cluster.http_client(http2=False) as client:
        r = await client.get(f"{CORE}/configmaps")
        assert r.http_version == "HTTP/1.1"
