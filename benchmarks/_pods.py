"""Deterministic Deployment-style pods, shaped like the ones in perf-anchors.md ("Method").

One container with env, ports, a probe and volume mounts; a projected service-account volume;
tolerations; an owning ReplicaSet; labels and annotations; status Running with 5 conditions and
containerStatuses; two managedFields entries (kube-controller-manager's Update of metadata and
spec, the kubelet's Update of the status subresource). `pod_object` returns a pod as a cluster
stores it (server fields included), so the benchmark can put 10,000 of them into the fake's
store in well under a second; going through the REST layer (create, then a status write) costs
~5 ms per pod, most of it computing managedFields, which is not what this benchmark measures.

The served pods are ~6 KB of compact JSON (the median is printed by the benchmark; the anchors'
pods have a median of 6,055 B). Everything comes from ``random.Random(f"{seed}:{index}")``: the
same seed and index give the same pod on every run and machine.
"""

from __future__ import annotations

import json
import random
import string
from typing import Any

__all__ = [
    "APPS",
    "app_of",
    "pod_manifest",
    "pod_name",
    "pod_object",
    "pod_status",
    "replicaset_manifest",
]

JSONObject = dict[str, Any]

#: (app, image, container port): one ReplicaSet each, pods spread over them round-robin
APPS: tuple[tuple[str, str, int], ...] = (
    ("checkout", "quay.io/shop/checkout:v2.14.3", 8080),
    ("payments", "quay.io/shop/payments:v1.9.0", 8443),
    ("catalog", "quay.io/shop/catalog:v3.2.1", 8080),
    ("frontend", "quay.io/shop/frontend:v5.0.7", 3000),
    ("inventory", "quay.io/shop/inventory:v0.31.2", 9090),
    ("shipping", "quay.io/shop/shipping:v1.4.12", 8080),
    ("accounts", "quay.io/shop/accounts:v2.0.0", 8081),
    ("search", "quay.io/shop/search:v7.1.4", 9200),
)
_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"  # kube's generated-name alphabet
_HEX = string.hexdigits[:16]


def _rng(seed: int, index: int) -> random.Random:
    return random.Random(f"{seed}:{index}")


def _template_hash(app: str, seed: int) -> str:
    r = random.Random(f"{seed}:rs:{app}")
    return "".join(r.choice("bcdf6789") for _ in range(9))


def pod_name(seed: int, index: int) -> str:
    """The name of pod ``index`` (unique for indexes below 27**5 per app)."""
    app = APPS[index % len(APPS)][0]
    n = index // len(APPS)
    suffix = "".join(_SUFFIX[(n // 27**k) % 27] for k in range(5))
    return f"{app}-{_template_hash(app, seed)}-{suffix}"


def app_of(index: int) -> str:
    """The app (and so the ReplicaSet) pod ``index`` belongs to."""
    return APPS[index % len(APPS)][0]


def replicaset_manifest(seed: int, app: str, namespace: str = "default") -> JSONObject:
    """The ReplicaSet owning the pods of ``app`` (create it first: its uid goes into the pods'
    ownerReferences, else the fake's garbage collector deletes them as orphans)."""
    rs_hash = _template_hash(app, seed)
    labels = {"app.kubernetes.io/name": app, "pod-template-hash": rs_hash}
    image = next(i for a, i, _ in APPS if a == app)
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": f"{app}-{rs_hash}", "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": app, "image": image}]},
            },
        },
    }


def pod_manifest(seed: int, index: int, owner_uid: str, namespace: str = "default") -> JSONObject:
    """Pod ``index`` as a ReplicaSet controller would create it (no status, no server fields).

    ``owner_uid`` is the uid of the ReplicaSet of ``app_of(index)`` (see `replicaset_manifest`).
    """
    r = _rng(seed, index)
    app, image, port = APPS[index % len(APPS)]
    rs_hash = _template_hash(app, seed)
    name = pod_name(seed, index)
    sa_volume = "kube-api-access-" + "".join(r.choice(_SUFFIX) for _ in range(5))
    env = [
        {"name": "APP_NAME", "value": app},
        {"name": "LOG_LEVEL", "value": r.choice(("info", "warn", "debug"))},
        {
            "name": "POD_NAME",
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
        },
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": f"{app}-{rs_hash}-",
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": app,
                "pod-template-hash": rs_hash,
            },
            "annotations": {"prometheus.io/scrape": "true"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{app}-{rs_hash}",
                    "uid": owner_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": app,
                    "image": image,
                    "env": env,
                    "ports": [
                        {"name": "http", "containerPort": port, "protocol": "TCP"},
                    ],
                    "resources": {
                        "requests": {"cpu": f"{r.choice((100, 250, 500))}m", "memory": "256Mi"},
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"},
                        "initialDelaySeconds": 5,
                        "periodSeconds": 10,
                        "timeoutSeconds": 1,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                    "volumeMounts": [
                        {
                            "name": sa_volume,
                            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                            "readOnly": True,
                        },
                    ],
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            "volumes": [
                {
                    "name": sa_volume,
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {
                                "configMap": {
                                    "name": "kube-root-ca.crt",
                                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                }
                            },
                            {
                                "downwardAPI": {
                                    "items": [
                                        {
                                            "path": "namespace",
                                            "fieldRef": {
                                                "apiVersion": "v1",
                                                "fieldPath": "metadata.namespace",
                                            },
                                        }
                                    ]
                                }
                            },
                        ],
                        "defaultMode": 420,
                    },
                },
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": app,
            "serviceAccount": app,
            "nodeName": f"node-{r.randrange(40):02d}.cluster.internal",
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {
                    "key": f"node.kubernetes.io/{t}",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
                for t in ("not-ready", "unreachable")
            ],
            "priority": 0,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
        },
    }


_FLAGS = ("new-cart", "fast-search", "beta-ui", "async-tax", "edge-cache", "v2-api", "dark-mode")


def pod_status(seed: int, index: int) -> JSONObject:
    """What the kubelet reports for pod ``index``: Running, ready, 5 conditions."""
    r = _rng(seed, index + 1_000_003)
    app, image, _ = APPS[index % len(APPS)]
    node = r.randrange(40)
    host_ip = f"10.0.{node // 8}.{10 + node}"
    pod_ip = f"10.244.{node}.{r.randrange(2, 250)}"
    minute, second = r.randrange(60), r.randrange(60)
    start = f"2026-11-21T09:{minute:02d}:{second:02d}Z"
    ready = f"2026-11-21T09:{minute:02d}:{min(second + 7, 59):02d}Z"
    digest = "".join(r.choice(_HEX) for _ in range(64))
    container_id = "".join(r.choice(_HEX) for _ in range(64))
    return {
        "phase": "Running",
        "conditions": [
            {
                "type": "PodReadyToStartContainers",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": start,
            },
            {
                "type": "Initialized",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": start,
            },
            {"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": ready},
            {
                "type": "ContainersReady",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": ready,
            },
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": start,
            },
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": start,
        "containerStatuses": [
            {
                "name": app,
                "state": {"running": {"startedAt": start}},
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "image": image,
                "imageID": f"{image.rsplit(':', 1)[0]}@sha256:{digest}",
                "containerID": f"containerd://{container_id}",
                "started": True,
            }
        ],
        "qosClass": "Burstable",
    }


#: the merge key of each list of objects in a pod (default: ``name``)
_MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "ownerReferences": ("uid",),
    "volumeMounts": ("mountPath",),
    "ports": ("containerPort", "protocol"),
    "conditions": ("type",),
    "hostIPs": ("ip",),
    "podIPs": ("ip",),
}


def fields_v1(value: Any, top: bool = True) -> JSONObject:
    """A FieldsV1 set for ``value``, the way the API server records it: ``f:`` for fields,
    ``k:`` for list items by merge key, ``.`` for a map or item that is owned itself; a list
    without a merge key (or None: a placeholder) is atomic (``{}``)."""
    if not isinstance(value, dict):
        return {}
    out: JSONObject = {} if top or not value else {".": {}}
    for k in sorted(value):
        v = value[k]
        keys = _MERGE_KEYS.get(k, ("name",))
        if isinstance(v, list) and v and all(isinstance(i, dict) and keys[0] in i for i in v):
            items: JSONObject = {}
            for item in v:
                key = json.dumps({f: item[f] for f in keys}, separators=(",", ":"))
                items[f"k:{key}"] = fields_v1(item, top=False)
            out[f"f:{k}"] = {".": {}, **dict(sorted(items.items()))}
        else:
            out[f"f:{k}"] = fields_v1(v, top=top and k in ("metadata", "spec", "status"))
    return out


_NOT_FROM_TEMPLATE = frozenset(
    (
        "nodeName",
        "priority",
        "enableServiceLinks",
        "preemptionPolicy",
        "tolerations",
        "serviceAccount",
        "schedulerName",
        "terminationGracePeriodSeconds",
        "terminationMessagePath",
        "terminationMessagePolicy",
        "imagePullPolicy",
    )
)


def pod_object(
    seed: int,
    index: int,
    owner_uid: str,
    namespace: str = "default",
    created: str = "2026-11-21T09:00:00Z",
) -> JSONObject:
    """Pod ``index`` as the cluster stores it: the manifest, server-set metadata (uid,
    creationTimestamp, generation, two managedFields entries) and the kubelet's status.
    ``metadata.resourceVersion`` is left to the store."""
    pod = pod_manifest(seed, index, owner_uid, namespace)
    status = pod_status(seed, index)
    meta = pod["metadata"]
    r = _rng(seed, index + 2_000_003)
    uid = r.getrandbits(128).to_bytes(16, "big").hex()
    meta["uid"] = f"{uid[:8]}-{uid[8:12]}-4{uid[13:16]}-8{uid[17:20]}-{uid[20:32]}"
    meta["creationTimestamp"] = created
    meta["generation"] = 1
    owned_meta = {
        k: v
        for k, v in meta.items()
        if k in ("generateName", "labels", "annotations", "ownerReferences")
    }
    # what the ReplicaSet controller sends: the template, not what the server defaults or the
    # scheduler sets
    owned_spec = {k: v for k, v in pod["spec"].items() if k not in _NOT_FROM_TEMPLATE}
    owned_spec["containers"] = [
        {k: v for k, v in c.items() if k not in _NOT_FROM_TEMPLATE}
        for c in pod["spec"]["containers"]
    ]
    meta["managedFields"] = [
        {
            "manager": "kube-controller-manager",
            "operation": "Update",
            "apiVersion": "v1",
            "time": created,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields_v1({"metadata": owned_meta, "spec": owned_spec}),
        },
        {
            "manager": "kubelet",
            "operation": "Update",
            "apiVersion": "v1",
            "time": status["startTime"],
            "fieldsType": "FieldsV1",
            # containerStatuses is atomic: owned as a whole
            "fieldsV1": fields_v1({"status": {**status, "containerStatuses": None}}),
            "subresource": "status",
        },
    ]
    pod["status"] = status
    return pod


def create_replicasets(cluster: Any, seed: int) -> dict[str, str]:
    """Create, in a fake cluster, the ReplicaSets the seeded pods belong to: their uids by app."""
    return {
        app: cluster.create(replicaset_manifest(seed, app), manager="kube-controller-manager")[
            "metadata"
        ]["uid"]
        for app, _, _ in APPS
    }
