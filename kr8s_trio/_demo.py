"""``python -m kr8s_trio demo``: a short tour, against the embedded fake cluster.

Until the client API lands, the tour speaks HTTP to the fake API server directly (with httpx, on
trio), which shows what the server does: discovery, create with server-set metadata, a watch that
sees the changes as they happen, the four kinds of patch, optimistic concurrency, selectors and
pagination, and cascading deletion.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import trio

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-0", "labels": {"app": "web", "tier": "frontend"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
}


def _say(step: str, detail: str = "") -> None:
    print(f"• {step}" + (f": {detail}" if detail else ""), flush=True)


async def tour(cluster: Any) -> None:
    """The demo itself, given a running fake cluster."""
    async with cluster.http_client() as http:
        version = (await http.get("/version")).json()
        _say("connected", f"{cluster.url} reports Kubernetes {version['gitVersion']}")
        groups = (await http.get("/apis")).json()["groups"]
        _say("discovery", f"{len(groups)} API groups besides the core group")

        ns = "/api/v1/namespaces/demo"
        await http.post("/api/v1/namespaces", json={"metadata": {"name": "demo"}})
        events: list[str] = []
        ready = trio.Event()

        async def watch() -> None:
            params = {"watch": "true", "timeoutSeconds": "30"}
            async with http.stream("GET", f"{ns}/pods", params=params) as stream:
                ready.set()
                async for line in stream.aiter_lines():
                    event = json.loads(line)
                    meta = event["object"]["metadata"]
                    events.append(f"{event['type']} {meta['name']} rv={meta['resourceVersion']}")
                    if event["type"] == "DELETED":
                        return

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            await ready.wait()
            pod = (await http.post(f"{ns}/pods", json=POD)).json()
            meta = pod["metadata"]
            _say(
                "created pod web-0",
                f"uid {meta['uid'][:8]}…, resourceVersion {meta['resourceVersion']}, "
                f"restartPolicy defaulted to {pod['spec']['restartPolicy']}",
            )
            merge = {"metadata": {"labels": {"release": "stable"}}}
            headers = {"content-type": "application/merge-patch+json"}
            await http.patch(f"{ns}/pods/web-0", json=merge, headers=headers)
            op = [{"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:1.28"}]
            headers = {"content-type": "application/json-patch+json"}
            await http.patch(f"{ns}/pods/web-0", json=op, headers=headers)
            _say("patched", "a merge patch added a label, a JSON patch changed the image")
            stale = {
                **POD,
                "metadata": {**POD["metadata"], "resourceVersion": meta["resourceVersion"]},
            }
            conflict = (await http.put(f"{ns}/pods/web-0", json=stale)).json()
            _say(
                "optimistic concurrency",
                f"a stale update gets {conflict['code']}: {conflict['message']}",
            )
            for i in range(1, 5):
                body = {
                    **POD,
                    "metadata": {"name": f"web-{i}", "labels": {"app": "web", "n": str(i)}},
                }
                await http.post(f"{ns}/pods", json=body)
            page = (
                await http.get(
                    f"{ns}/pods", params={"labelSelector": "app=web,n notin (2)", "limit": "2"}
                )
            ).json()
            _say(
                "selectors and pages",
                f"first page {[p['metadata']['name'] for p in page['items']]}, "
                f"continue token {'present' if page['metadata'].get('continue') else 'absent'}",
            )
            await http.delete(f"{ns}/pods/web-0")
        _say("the watch saw", "; ".join(events))

        apply_headers = {"content-type": "application/apply-patch+yaml"}
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings"},
            "data": {"mode": "fast"},
        }
        await http.patch(
            f"{ns}/configmaps/settings",
            params={"fieldManager": "alice"},
            json=cm,
            headers=apply_headers,
        )
        cm["data"] = {"mode": "slow"}
        clash = await http.patch(
            f"{ns}/configmaps/settings",
            params={"fieldManager": "bob"},
            json=cm,
            headers=apply_headers,
        )
        _say(
            "server-side apply",
            f"bob's change to alice's field: {clash.status_code} {clash.json()['message']}",
        )

        await http.delete(ns)
        gone = await http.get(f"{ns}/pods")
        _say("namespace deleted", f"its pods went with it ({len(gone.json()['items'])} left)")


async def run_fake() -> None:
    from kr8s_trio.testing import open_fake_cluster

    async with open_fake_cluster() as cluster:
        await tour(cluster)


def main(args: argparse.Namespace) -> int:
    if args.kubeconfig:
        print(
            "running the demo against your own cluster needs the kubeconfig-reading client, "
            "which lands with the core client; run it without --kubeconfig to use the embedded "
            "fake cluster",
            file=sys.stderr,
        )
        return 2
    trio.run(run_fake)
    return 0
