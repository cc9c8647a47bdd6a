"""The service-account controller: a ``default`` ServiceAccount in every active namespace."""

from __future__ import annotations

import trio.testing

from kr8s_trio.testing import FakeCluster, open_fake_cluster

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}


def accounts(cluster: FakeCluster, namespace: str | None = None) -> list[tuple[str, str]]:
    return sorted(
        (sa["metadata"]["namespace"], sa["metadata"]["name"])
        for sa in cluster.list("serviceaccounts", namespace)
    )


async def test_serviceaccounts_every_namespace_has_a_default_account() -> None:
    async with open_fake_cluster() as cluster:
        assert accounts(cluster) == [
            ("default", "default"),
            ("kube-node-lease", "default"),
            ("kube-public", "default"),
            ("kube-system", "default"),
        ]
        cluster.create(NAMESPACE)
        assert accounts(cluster, "team") == [("team", "default")]
        async with cluster.http_client() as http:
            r = await http.post(
                "/api/v1/namespaces/team/serviceaccounts/default/token",
                json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest"},
            )
        assert r.status_code == 201, r.text
        assert r.json()["status"]["token"]


async def test_serviceaccounts_a_deleted_default_account_comes_back() -> None:
    async with open_fake_cluster() as cluster:
        cluster.create(NAMESPACE)
        first = cluster.get("serviceaccounts", "default", "team")["metadata"]["uid"]
        cluster.delete("serviceaccounts", "default", "team")
        again = cluster.get("serviceaccounts", "default", "team")["metadata"]["uid"]
        assert again != first
        # other accounts are not the controller's business
        cluster.create(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"}},
            namespace="team",
        )
        cluster.delete("serviceaccounts", "builder", "team")
        assert accounts(cluster, "team") == [("team", "default")]


async def test_serviceaccounts_a_deleted_namespace_takes_its_account_along() -> None:
    async with open_fake_cluster() as cluster:
        cluster.create(NAMESPACE)
        cluster.delete("namespaces", "team", None)
        await trio.testing.wait_all_tasks_blocked()
        assert accounts(cluster, "team") == []
        assert [ns["metadata"]["name"] for ns in cluster.list("namespaces")].count("team") == 0


async def test_serviceaccounts_without_controllers_there_are_none() -> None:
    async with open_fake_cluster(controllers=False) as cluster:
        assert accounts(cluster) == []
