"""Helpers shared by the fake API server's test modules: expected Status bodies, object bodies,
and watch streams read by a background task.

Imported as ``from support import ...``: pytest's default ("prepend") import mode puts this
folder on ``sys.path`` for the test modules in it (there is no ``__init__.py`` here), so this works
for ``pytest``, ``python -m pytest`` and a single file alike, whether or not the project is
installed in editable mode. Fixtures live in ``conftest.py`` next to it.

Expected Status bodies are spelled out here, independently of the fake's own builders in
``kr8s_trio.testing._status``: a test must not compute what it expects with the code it tests.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import trio

from kr8s_trio.testing import FakeCluster

JSON = dict[str, Any]

CORE = "/api/v1/namespaces/default"
APPS = "/apis/apps/v1/namespaces/default"
MERGE = {"Content-Type": "application/merge-patch+json"}


# -- expected Status bodies -------------------------------------------------------------------


def failure(
    code: int,
    reason: str,
    message: str,
    details: JSON | None = None,
    *,
    metadata: JSON | None = None,
) -> JSON:
    """The ``Status`` kube-apiserver answers a refused request with (``details`` only if given)."""
    status: JSON = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {} if metadata is None else metadata,
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        status["details"] = details
    status["code"] = code
    return status


def success(details: JSON | None = None) -> JSON:
    """The ``Status`` of a request that succeeded without an object to show, such as a DELETE
    of a kind without graceful deletion (``details`` only if given)."""
    status: JSON = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details is not None:
        status["details"] = details
    return status


def list_options_invalid(*errors: tuple[str, str, str]) -> JSON:
    """The 422 for ListOptions errors, given as (reason, field, body) like field.ErrorList."""
    rendered = [f"{field}: {text}" for _, field, text in errors]
    shown = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    return failure(
        422,
        "Invalid",
        f'ListOptions.meta.k8s.io "" is invalid: {shown}',
        {
            "group": "meta.k8s.io",
            "kind": "ListOptions",
            "causes": [
                {"reason": reason, "message": text, "field": field}
                for reason, field, text in errors
            ],
        },
    )


# -- object bodies ----------------------------------------------------------------------------


def namespace(name: str) -> JSON:
    """A Namespace body."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def configmap(
    name: str,
    labels: dict[str, str] | None = None,
    *,
    namespace: str | None = None,
    metadata: JSON | None = None,
    **data: str,
) -> JSON:
    """A ConfigMap body with ``data`` (always present); ``namespace``, ``labels`` and any other
    ``metadata`` fields (finalizers, ownerReferences...) only when given."""
    meta: JSON = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels is not None:
        meta["labels"] = labels
    if metadata is not None:
        meta.update(metadata)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def pod(name: str, node: str | None = None, *, namespace: str | None = None, **meta: Any) -> JSON:
    """A Pod body with one nginx container; ``spec.nodeName`` when ``node`` is given, and
    ``meta`` (labels, finalizers, ownerReferences...) added to its metadata."""
    metadata: JSON = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    spec: JSON = {"containers": [{"name": "c", "image": "nginx"}]}
    if node is not None:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {**metadata, **meta}, "spec": spec}


def workload(
    kind: str,
    name: str,
    *containers: str,
    app: str | None = None,
    replicas: int | None = 1,
    **meta: Any,
) -> JSON:
    """An apps/v1 ``kind`` (Deployment, ReplicaSet...) selecting the pods labelled app=``app``
    (default: its name), with one container per name in ``containers`` (image "<name>:1"; default
    one "c"), ``spec.replicas`` unless None, and ``meta`` added to its metadata."""
    labels = {"app": app or name}
    spec: JSON = {} if replicas is None else {"replicas": replicas}
    spec["selector"] = {"matchLabels": labels}
    spec["template"] = {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": c, "image": f"{c}:1"} for c in containers or ("c",)]},
    }
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, **meta}, "spec": spec}


def deployment(name: str, *containers: str, replicas: int = 1, **meta: Any) -> JSON:
    """A Deployment (see `workload`)."""
    return workload("Deployment", name, *containers, replicas=replicas, **meta)


def crd_version(
    name: str = "v1", *, storage: bool = True, status_and_scale: bool = False, **fields: Any
) -> JSON:
    """A served CRD version whose schema keeps whatever fields it is given; with
    ``status_and_scale``, the status subresource and a scale at .spec/.status.replicas; plus
    ``fields`` as given (additionalPrinterColumns, selectableFields...)."""
    version: JSON = {
        "name": name,
        "served": True,
        "storage": storage,
        "schema": {
            "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        },
    }
    if status_and_scale:
        version["subresources"] = {
            "status": {},
            "scale": {
                "specReplicasPath": ".spec.replicas",
                "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": ".status.selector",
            },
        }
    return {**version, **fields}


def crd(
    group: str,
    plural: str,
    kind: str,
    *versions: JSON,
    scope: str = "Namespaced",
    **names: Any,
) -> JSON:
    """A CustomResourceDefinition named ``<plural>.<group>`` (singular: the lower-cased kind;
    ``names`` adds shortNames, categories...), serving ``versions`` (default: one ``v1``)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, **names},
            "versions": list(versions) or [crd_version()],
        },
    }


# -- objects seeded on the cluster handle (the same registry HTTP writes go through) -----------


def seed_namespace(cluster: FakeCluster, name: str) -> None:
    """Create namespace ``name`` directly on the cluster."""
    cluster.create(namespace(name))


def seed_configmap(
    cluster: FakeCluster,
    name: str,
    ns: str = "default",
    labels: dict[str, str] | None = None,
    **data: str,
) -> JSON:
    """Create a ConfigMap (see `configmap`) in ``ns`` directly on the cluster; the stored object."""
    return cluster.create(configmap(name, labels, namespace=ns, **data))


def seed_pod(cluster: FakeCluster, name: str, ns: str = "default", node: str | None = None) -> JSON:
    """Create a Pod (see `pod`) in ``ns`` directly on the cluster; the stored object."""
    return cluster.create(pod(name, node, namespace=ns))


def current_rv(cluster: FakeCluster) -> str:
    """The cluster's current resourceVersion."""
    return str(cluster.state.store.revision)


# -- requests -----------------------------------------------------------------------------------


async def create(client: httpx.AsyncClient, path: str, body: JSON, **params: str) -> JSON:
    """POST ``body`` to ``path``, which must answer 201; the created object."""
    r = await client.post(path, json=body, params=params)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def patch(
    client: httpx.AsyncClient,
    path: str,
    body: object,
    headers: dict[str, str] = MERGE,
    expect: int = 200,
    **params: str,
) -> JSON:
    """PATCH ``path`` with ``body`` (a merge patch unless ``headers`` say otherwise), which must
    answer ``expect``; the body of the answer."""
    r = await client.patch(path, content=json.dumps(body), headers=headers, params=params)
    assert r.status_code == expect, r.text
    return dict(r.json())


# -- watches ------------------------------------------------------------------------------------

Chunk = bytes | Exception | None


def summary(event: JSON) -> tuple[str, str]:
    """A watch event as (type, name of its object); the name is "" for objects without one."""
    return event["type"], event["object"].get("metadata", {}).get("name", "")


class EventStream:
    """The newline-delimited events of one watch response, as the pump task of `watch` received
    them. Transport errors are handed over (raised by the read that reaches them), not swallowed;
    each event must arrive within ``event_deadline`` seconds."""

    def __init__(
        self,
        response: httpx.Response,
        chunks: trio.MemoryReceiveChannel[Chunk],
        event_deadline: float = math.inf,
    ) -> None:
        self.response = response
        self._chunks = chunks
        self._event_deadline = event_deadline
        self._buffer = b""
        self.ended = False

    async def raw_chunk(self) -> bytes:
        """The next chunk exactly as the transport delivered it."""
        item = await self._chunks.receive()
        if isinstance(item, Exception):
            raise item
        if item is None:
            self.ended = True
            raise EOFError
        return item

    async def next(self) -> JSON | None:
        """The next event, or None at a clean end of the stream."""
        with trio.fail_after(self._event_deadline):
            while b"\n" not in self._buffer:
                try:
                    self._buffer += await self.raw_chunk()
                except EOFError:
                    assert self._buffer == b"", "the stream ended inside an event"
                    return None
        line, _, self._buffer = self._buffer.partition(b"\n")
        event: JSON = json.loads(line)
        return event

    async def event(self) -> JSON:
        """The next event; the stream must not end first."""
        event = await self.next()
        assert event is not None, "the stream ended early"
        return event

    async def change(self) -> tuple[str, JSON]:
        """The next event as (type, object); the stream must not end first."""
        event = await self.event()
        return event["type"], event["object"]

    async def take(self, n: int) -> list[tuple[str, str]]:
        """The next ``n`` events as (type, name); the stream must not end first."""
        return [summary(await self.event()) for _ in range(n)]

    async def rest(self) -> list[JSON]:
        """Every remaining event, until the server ends the stream."""
        out = []
        while (event := await self.next()) is not None:
            out.append(event)
        return out


@asynccontextmanager
async def watch(
    client: httpx.AsyncClient,
    path: str,
    guard: float = 10,
    headers: dict[str, str] | None = None,
    *,
    event_deadline: float = math.inf,
    **params: str,
) -> AsyncIterator[EventStream]:
    """A watch request on ``path`` with query ``params``, read into a memory channel by a pump
    task that is cancelled when the block ends (cancellation finalizes httpx's stream
    iterators). The block fails instead of hanging after ``guard`` seconds."""
    send, receive = trio.open_memory_channel[Chunk](math.inf)

    async def pump(task_status: trio.TaskStatus[httpx.Response]) -> None:
        async with client.stream(
            "GET", path, params={"watch": "true", **params}, headers=headers, timeout=None
        ) as response:
            task_status.started(response)
            try:
                async for chunk in response.aiter_raw():
                    send.send_nowait(chunk)
            except httpx.TransportError as exc:
                send.send_nowait(exc)
                return
            send.send_nowait(None)

    with trio.fail_after(guard):
        async with trio.open_nursery() as nursery:
            response = await nursery.start(pump)
            assert response.status_code == 200
            yield EventStream(response, receive, event_deadline)
            nursery.cancel_scope.cancel()


@asynccontextmanager
async def watch_from_now(
    client: httpx.AsyncClient, path: str, **params: str
) -> AsyncIterator[EventStream]:
    """A `watch` on ``path`` from its current resourceVersion (so only new changes arrive), as a
    controller that has just listed would open it. The block has no overall deadline (tests
    may jump a mock clock inside it); each event must arrive within 10 seconds instead."""
    listed = await client.get(path, params=params)
    assert listed.status_code == 200, listed.text
    rv = listed.json()["metadata"]["resourceVersion"]
    async with watch(
        client,
        path,
        guard=math.inf,
        event_deadline=10,
        **params,
        resourceVersion=rv,
        timeoutSeconds="120",
    ) as events:
        yield events
