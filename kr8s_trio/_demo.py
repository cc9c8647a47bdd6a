"""``python -m kr8s_trio demo``: a short tour, against the embedded fake cluster.

Until the client API lands, the tour speaks HTTP to the fake API server directly (with httpx, on
trio), which shows what the server does: discovery, create with server-set metadata, a watch that
sees the changes as they happen, the four kinds of patch, optimistic concurrency, selectors and
pagination, cascading deletion, and the living cluster: a Deployment whose pods the simulated
kubelets run, their logs, and scaling.
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


def _runs(events: list[str]) -> str:
    """``ADDED rv=1; MODIFIED rv=2..rv=6 (5); DELETED rv=9``: runs of one type shortened."""
    out: list[str] = []
    i = 0
    while i < len(events):
        kind = events[i].split()[0]
        j = i
        while j + 1 < len(events) and events[j + 1].split()[0] == kind:
            j += 1
        if j == i:
            out.append(events[i])
        else:
            out.append(f"{events[i]}..{events[j].split()[1]} ({j - i + 1})")
        i = j + 1
    return "; ".join(out)


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
            params = {
                "watch": "true",
                "timeoutSeconds": "30",
                "fieldSelector": "metadata.name=web-0",
            }
            async with http.stream("GET", f"{ns}/pods", params=params) as stream:
                ready.set()
                async for line in stream.aiter_lines():
                    event = json.loads(line)
                    meta = event["object"]["metadata"]
                    events.append(f"{event['type']} rv={meta['resourceVersion']}")
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
        _say("the watch on web-0 saw", _runs(events))

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

        await living(http, ns)
        await through_the_client(cluster)

        await http.delete(ns)
        gone = await http.get(f"{ns}/pods")
        _say("namespace deleted", f"its pods went with it ({len(gone.json()['items'])} left)")


DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "shop"},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "shop"}},
        "template": {
            "metadata": {"labels": {"app": "shop"}},
            "spec": {
                "containers": [
                    {"name": "shop", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
                ]
            },
        },
    },
}


async def living(http: Any, ns: str) -> None:
    """The living cluster: controllers make pods, kubelets run them, and they log."""
    deployments = f"/apis/apps/v1{ns.removeprefix('/api/v1')}/deployments"
    await http.post(deployments, json=DEPLOYMENT)
    status = (await http.get(f"{deployments}/shop")).json()["status"]
    pods = (await http.get(f"{ns}/pods", params={"labelSelector": "app=shop"})).json()["items"]
    nodes = sorted({p["spec"]["nodeName"] for p in pods})
    _say(
        "deployment shop",
        f"{status['readyReplicas']}/{DEPLOYMENT['spec']['replicas']} pods ready on "
        f"{', '.join(nodes)}",
    )
    name = pods[0]["metadata"]["name"]
    log = (await http.get(f"{ns}/pods/{name}/log", params={"tailLines": "2"})).text
    _say(f"logs of {name}", " | ".join(log.splitlines()))
    scale = {"spec": {"replicas": 1}}
    headers = {"content-type": "application/merge-patch+json"}
    await http.patch(f"{deployments}/shop/scale", json=scale, headers=headers)
    pods = (await http.get(f"{ns}/pods", params={"labelSelector": "app=shop"})).json()["items"]
    _say("scaled to 1", f"{len(pods)} pod left, {pods[0]['status']['phase']}")


async def run_fake() -> None:
    from kr8s_trio.testing import open_fake_cluster

    async with open_fake_cluster() as cluster:
        await tour(cluster)


async def look(kubeconfig: str) -> None:
    """A read-only look at the cluster of ``kubeconfig``, through the client: nothing is
    created or changed there."""
    import kr8s_trio

    async with kr8s_trio.open_registry():
        api = await kr8s_trio.api(kubeconfig=kubeconfig)
        version = await api.version()
        config = api.config
        server = config.server if config is not None else "?"
        _say("connected", f"{server} reports Kubernetes {version['gitVersion']}")
        _say("you are", str(await api.whoami()))
        resources = await api.api_resources()
        _say("discovery", f"{len(await api.api_versions())} API versions, {len(resources)} kinds")
        namespaces = [ns.name async for ns in kr8s_trio.get("namespaces", api=api)]
        _say("namespaces", ", ".join(namespaces[:8]) + (" ..." if len(namespaces) > 8 else ""))
        phases: dict[str, int] = {}
        async for pod in kr8s_trio.get("pods", namespace=kr8s_trio.ALL, raw=True, api=api):
            phase = pod.get("status", {}).get("phase", "?")
            phases[phase] = phases.get(phase, 0) + 1
        summary = ", ".join(f"{n} {phase}" for phase, n in sorted(phases.items()))
        _say("pods in all namespaces", summary or "none")


async def through_the_client(cluster: Any) -> None:
    """The same cluster through kr8s_trio's objects and verbs."""
    import kr8s_trio
    from kr8s_trio.objects import ConfigMap, Deployment

    async with kr8s_trio.open_registry():
        api = await kr8s_trio.api(kubeconfig=str(cluster.kubeconfig_path))
        deploy = await Deployment.get("shop", namespace="demo", api=api)
        await deploy.scale(2)
        await deploy.wait("condition=Available")
        ready = [pod.name for pod in await deploy.ready_pods()]
        _say("client: Deployment.scale(2)", f"{len(ready)} ready pods: {', '.join(ready)}")
        settings = await ConfigMap.get("settings", namespace="demo", api=api)
        await settings.label("team=shop")
        await deploy.adopt(settings)
        owners = [ref["name"] for ref in settings.metadata.ownerReferences]
        _say("client: label and adopt", f"{dict(settings.labels)} owned by {owners}")
        names = [
            pod.name
            async for pod in kr8s_trio.get(
                "po", namespace=kr8s_trio.ALL, label_selector={"app": "shop"}, api=api
            )
        ]
        _say("client: get('po', ALL, app=shop)", ", ".join(names))


def main(args: argparse.Namespace) -> int:
    if args.kubeconfig:
        try:
            trio.run(look, args.kubeconfig)
        except Exception as exc:  # the user's cluster: say what went wrong, in one line
            print(f"demo: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        return 0
    trio.run(run_fake)
    return 0
