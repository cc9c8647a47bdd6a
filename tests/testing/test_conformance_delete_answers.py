"""What deletions answer and record: deletecollection's list and generation on graceful delete."""

from __future__ import annotations

from kr8s_trio.testing import FakeCluster


def _pod(name: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"batch": "b"}},
        "spec": {"containers": [{"name": "c", "image": "img"}], **spec},
    }


async def test_deletecollection_answers_with_the_items_as_listed(api_cluster: FakeCluster) -> None:
    before = [api_cluster.create(_pod(f"p{i}")) for i in range(2)]
    async with api_cluster.http_client() as http:
        response = await http.delete(
            "/api/v1/namespaces/default/pods", params={"labelSelector": "batch=b"}
        )
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "PodList"
    # the items as they were listed, with their resourceVersions from before the deletion
    assert [(p["metadata"]["name"], p["metadata"]["resourceVersion"]) for p in body["items"]] == [
        (p["metadata"]["name"], p["metadata"]["resourceVersion"]) for p in before
    ]
    assert api_cluster.list("pods", "default") == []


async def test_graceful_deletion_bumps_generation(api_cluster: FakeCluster) -> None:
    created = api_cluster.create(_pod("bound", nodeName="node-1"))
    assert created["metadata"]["generation"] == 1
    async with api_cluster.http_client() as http:
        response = await http.delete("/api/v1/namespaces/default/pods/bound")
    assert response.status_code == 200
    meta = response.json()["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 30
    assert meta["generation"] == 2
