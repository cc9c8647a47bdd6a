"""Server-side Tables: when a request asks for one, and what kube-apiserver's printers put in it.

Rows are checked against what ``kubectl get`` shows for realistic objects (a crash-looping
container, a terminating pod, a completed job...), with a fixed ``now`` so ages are exact.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kr8s_trio._core._exceptions import APIError
from kr8s_trio._core._jsonpath import evaluate_jsonpath
from kr8s_trio.testing._builtins import builtin_resources
from kr8s_trio.testing._clock import human_duration
from kr8s_trio.testing._http import Request
from kr8s_trio.testing._resources import PrinterColumn, ResourceType
from kr8s_trio.testing._tables import TableRequest, table_request, table_row_event, to_table

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
KUBECTL_GET = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
TYPES = {(rt.group, rt.kind): rt for rt in builtin_resources()}
V1 = TableRequest()


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "uid": f"uid-{name}", **extra}


def table(kind: str, *objects: dict[str, Any], group: str = "", **kw: Any) -> dict[str, Any]:
    kw.setdefault("resource_version", "7")
    return to_table(TYPES[(group, kind)], list(objects), kw.pop("tr", V1), now=NOW, **kw)


def row(kind: str, obj: dict[str, Any], group: str = "") -> dict[str, Any]:
    """One row as a {column name: cell} dict."""
    t = table(kind, obj, group=group)
    [r] = t["rows"]
    return dict(zip([c["name"] for c in t["columnDefinitions"]], r["cells"], strict=True))


def request(accept: str, query: str = "") -> Request:
    return Request("GET", "/api/v1/pods", query, {"accept": accept})


# -- when a Table is wanted ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (KUBECTL_GET, "meta.k8s.io/v1"),
        (
            "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
            "meta.k8s.io/v1beta1",
        ),
        ("application/json;g=meta.k8s.io;v=v1;as=Table", "meta.k8s.io/v1"),
        (
            "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io," + KUBECTL_GET,
            "meta.k8s.io/v1",
        ),
        ("application/json;as=Table;v=v2;g=meta.k8s.io,application/json", None),
        ("application/json", None),
        ("*/*", None),
        ("application/json, application/json;as=Table;v=v1;g=meta.k8s.io", None),
        ("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io," + KUBECTL_GET, None),
        ("text/plain," + KUBECTL_GET, "meta.k8s.io/v1"),
    ],
)
def test_table_request_follows_the_first_acceptable_clause(
    accept: str, expected: str | None
) -> None:
    tr = table_request(request(accept))
    assert (tr.api_version if tr else None) == expected


def test_table_request_include_object() -> None:
    assert table_request(request(KUBECTL_GET)) == TableRequest("meta.k8s.io/v1", "Metadata")
    for value in ("None", "Metadata", "Object"):
        tr = table_request(request(KUBECTL_GET, f"includeObject={value}"))
        assert tr is not None
        assert tr.include_object == value
    with pytest.raises(APIError) as err:
        table_request(request(KUBECTL_GET, "includeObject=all"))
    assert err.value.code == 400
    assert err.value.message == 'unrecognized includeObject value: "all"'
    assert table_request(request("application/json", "includeObject=all")) is None


# -- durations and JSONPath ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1.5, "0s"),
        (0, "0s"),
        (59.9, "59s"),
        (119, "119s"),
        (120, "2m"),
        (182, "3m2s"),
        (599, "9m59s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 10 * 60 + 59, "5h10m"),
        (8 * 3600 + 59 * 60, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (51 * 3600, "2d3h"),
        (8 * 86400 + 5 * 3600, "8d"),
        (400 * 86400, "400d"),
        (2 * 365 * 86400, "2y"),
        (2 * 365 * 86400 + 30 * 86400, "2y30d"),
        (9 * 365 * 86400 + 30 * 86400, "9y"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_evaluate_jsonpath() -> None:
    obj = {
        "metadata": {"annotations": {"example.com/size": "L"}, "labels": {"app": "web"}},
        "spec": {"items": [{"n": 1}, {"n": 2}], "flag": False},
        "status": {
            "conditions": [
                {"type": "Synced", "status": "False"},
                {"type": "Ready", "status": "True", "reason": "Up"},
            ]
        },
    }
    assert evaluate_jsonpath(obj, ".metadata.labels.app") == "web"
    assert evaluate_jsonpath(obj, "{.metadata.labels.app}") == "web"
    assert evaluate_jsonpath(obj, ".spec.items[1].n") == 2
    assert evaluate_jsonpath(obj, ".spec.items[-1].n") == 2
    assert evaluate_jsonpath(obj, ".spec.items[*].n") == 1
    assert evaluate_jsonpath(obj, ".spec.flag") is False
    assert evaluate_jsonpath(obj, r".metadata.annotations.example\.com/size") == "L"
    assert evaluate_jsonpath(obj, ".metadata.annotations['example.com/size']") == "L"
    assert evaluate_jsonpath(obj, '.status.conditions[?(@.type=="Ready")].reason') == "Up"
    assert evaluate_jsonpath(obj, ".status.conditions[?(@.type != 'Ready')].type") == "Synced"
    assert evaluate_jsonpath(obj, ".spec.items[5].n") is None
    assert evaluate_jsonpath(obj, ".spec.missing.deeper") is None
    assert evaluate_jsonpath(obj, ".spec.flag.deeper") is None
    with pytest.raises(ValueError, match="unsupported JSONPath"):
        evaluate_jsonpath(obj, ".spec..items")


# -- pods ---------------------------------------------------------------------------------------


def running(name: str, restarts: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "ready": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ago(minutes=4)}},
    }


POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": meta("web-1", creationTimestamp=ago(minutes=5), resourceVersion="5"),
    "spec": {
        "nodeName": "node-a",
        "containers": [{"name": "app", "image": "nginx"}, {"name": "side", "image": "busybox"}],
    },
    "status": {
        "phase": "Running",
        "podIP": "10.0.0.5",
        "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}],
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [
            running("app"),
            {
                "name": "side",
                "ready": False,
                "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {
                    "terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(minutes=3)}
                },
            },
        ],
    },
}


def pod(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(POD)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target: Any = out
        for p in parents:
            target = target[p]
        target[leaf] = value
    return out


def test_pod_columns_and_crash_loop_row() -> None:
    t = table("Pod", POD)
    assert [(c["name"], c["priority"]) for c in t["columnDefinitions"]] == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]
    assert t["columnDefinitions"][0]["format"] == "name"
    assert all(
        set(c) == {"name", "type", "format", "description", "priority"}
        for c in t["columnDefinitions"]
    )
    assert t["rows"][0]["cells"] == [
        "web-1",
        "1/2",
        "CrashLoopBackOff",
        "3 (3m ago)",
        "5m",
        "10.0.0.5",
        "node-a",
        "<none>",
        "<none>",
    ]
    assert "conditions" not in t["rows"][0]


def test_pod_running_and_ready() -> None:
    ok = pod(
        status__containerStatuses=[running("app"), running("side", restarts=0)],
        status__conditions=[{"type": "Ready", "status": "True"}],
    )
    cells = row("Pod", ok)
    assert (cells["Ready"], cells["Status"], cells["Restarts"]) == ("2/2", "Running", "0")


def test_pod_terminating_and_node_lost() -> None:
    terminating = pod(metadata__deletionTimestamp=ago(seconds=10))
    assert row("Pod", terminating)["Status"] == "Terminating"
    lost = pod(metadata__deletionTimestamp=ago(seconds=10), status__reason="NodeLost")
    assert row("Pod", lost)["Status"] == "Unknown"
    finished = pod(metadata__deletionTimestamp=ago(seconds=10), status__phase="Succeeded")
    finished["status"]["containerStatuses"] = []
    assert row("Pod", finished)["Status"] == "Succeeded"


def test_pod_completed() -> None:
    done = pod(
        status__phase="Succeeded",
        status__containerStatuses=[
            {
                "name": n,
                "ready": False,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
            }
            for n in ("app", "side")
        ],
    )
    t = table("Pod", done)
    assert t["rows"][0]["cells"][1:4] == ["0/2", "Completed", "0"]
    assert t["rows"][0]["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    # one container done, another still running and ready: the pod is Running again
    mixed = copy.deepcopy(done)
    mixed["status"]["containerStatuses"][0] = running("app")
    mixed["status"]["phase"] = "Running"
    mixed["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    assert row("Pod", mixed)["Status"] == "Running"
    mixed["status"]["conditions"] = []
    assert row("Pod", mixed)["Status"] == "NotReady"


def test_pod_terminated_without_reason_and_pending() -> None:
    killed = pod(
        status__containerStatuses=[
            running("app"),
            {
                "name": "side",
                "ready": False,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 137, "signal": 9}},
            },
        ]
    )
    assert row("Pod", killed)["Status"] == "Signal:9"
    killed["status"]["containerStatuses"][1]["state"]["terminated"] = {"exitCode": 2}
    assert row("Pod", killed)["Status"] == "ExitCode:2"
    pending = pod(status={"phase": "Pending"})
    cells = row("Pod", pending)
    assert (cells["Ready"], cells["Status"], cells["IP"]) == ("0/2", "Pending", "<none>")
    gated = pod(
        status={
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
            ],
        }
    )
    assert row("Pod", gated)["Status"] == "SchedulingGated"


def test_pod_init_containers() -> None:
    base = pod(spec__initContainers=[{"name": "setup", "image": "busybox"}])
    waiting = copy.deepcopy(base)
    waiting["status"] = {
        "phase": "Pending",
        "initContainerStatuses": [
            {
                "name": "setup",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
        ],
    }
    assert row("Pod", waiting)["Status"] == "Init:0/1"
    waiting["status"]["initContainerStatuses"][0]["state"] = {
        "waiting": {"reason": "ImagePullBackOff"}
    }
    assert row("Pod", waiting)["Status"] == "Init:ImagePullBackOff"
    failed = copy.deepcopy(waiting)
    failed["status"]["initContainerStatuses"][0].update(
        restartCount=2,
        state={"terminated": {"exitCode": 1, "reason": "Error"}},
        lastState={"terminated": {"exitCode": 1, "finishedAt": ago(seconds=30)}},
    )
    cells = row("Pod", failed)
    assert (cells["Status"], cells["Restarts"]) == ("Init:Error", "2 (30s ago)")
    failed["status"]["initContainerStatuses"][0]["state"] = {"terminated": {"exitCode": 3}}
    assert row("Pod", failed)["Status"] == "Init:ExitCode:3"


def test_pod_sidecar_counts_towards_ready() -> None:
    sidecar = pod(
        spec__initContainers=[{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
        status__conditions=[
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"},
        ],
        status__initContainerStatuses=[
            {
                "name": "proxy",
                "ready": True,
                "started": True,
                "restartCount": 1,
                "state": {"running": {}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=1)}},
            }
        ],
        status__containerStatuses=[running("app"), running("side")],
    )
    cells = row("Pod", sidecar)
    assert (cells["Ready"], cells["Status"], cells["Restarts"]) == ("3/3", "Running", "1 (60s ago)")


def test_pod_readiness_gates() -> None:
    gated = pod(
        spec__readinessGates=[{"conditionType": "example.com/lb"}, {"conditionType": "other"}],
        status__conditions=[{"type": "example.com/lb", "status": "True"}],
    )
    assert row("Pod", gated)["Readiness Gates"] == "1/2"


# -- include object, metadata, watch events -----------------------------------------------------


def test_table_rows_object_and_metadata() -> None:
    t = table("Pod", POD, continue_token="abc", remaining=12)
    assert (t["kind"], t["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert t["metadata"] == {"resourceVersion": "7", "continue": "abc", "remainingItemCount": 12}
    assert t["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": POD["metadata"],
    }
    beta = table("Pod", POD, tr=TableRequest("meta.k8s.io/v1beta1", "Metadata"))
    assert beta["apiVersion"] == "meta.k8s.io/v1beta1"
    assert beta["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"
    full = table("Pod", POD, tr=TableRequest(include_object="Object"))
    assert full["rows"][0]["object"] == POD
    bare = table("Pod", POD, tr=TableRequest(include_object="None"))
    assert "object" not in bare["rows"][0]
    assert table("Pod")["rows"] == []
    assert table("Pod", POD)["metadata"] == {"resourceVersion": "7"}


def test_table_row_event_sends_columns_first_only() -> None:
    rt = TYPES[("", "Pod")]
    first = table_row_event(rt, POD, V1, now=NOW, first=True)
    later = table_row_event(rt, POD, V1, now=NOW, first=False)
    assert len(first["columnDefinitions"]) == 9
    assert later["columnDefinitions"] == []
    assert first["rows"] == later["rows"]
    assert len(first["rows"]) == 1
    assert first["metadata"] == {"resourceVersion": "5"}


def test_naive_now_is_taken_as_utc() -> None:
    naive = to_table(
        TYPES[("", "Pod")], [POD], V1, resource_version="1", now=NOW.replace(tzinfo=None)
    )
    assert naive["rows"][0]["cells"][4] == "5m"


# -- workloads and other built-ins --------------------------------------------------------------

TEMPLATE = {
    "spec": {
        "containers": [{"name": "app", "image": "nginx:1.25"}, {"name": "log", "image": "fluentd"}]
    }
}


def test_deployment_row() -> None:
    dep = {
        "metadata": meta("web", creationTimestamp=ago(hours=3)),
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"tier": "front", "app": "web"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}],
            },
            "template": TEMPLATE,
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    t = table("Deployment", dep, group="apps")
    assert [(c["name"], c["priority"]) for c in t["columnDefinitions"]] == [
        ("Name", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]
    assert t["rows"][0]["cells"] == [
        "web",
        "2/3",
        3,
        2,
        "3h",
        "app,log",
        "nginx:1.25,fluentd",
        "app=web,env in (dev,prod),tier=front",
    ]
    fresh = {"metadata": meta("new", creationTimestamp=ago(seconds=5)), "spec": {}}
    assert table("Deployment", fresh, group="apps")["rows"][0]["cells"][:5] == [
        "new",
        "0/1",
        0,
        0,
        "5s",
    ]


def test_replica_controllers_rows() -> None:
    rs = {
        "metadata": meta("web-abc", creationTimestamp=ago(days=2)),
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert row("ReplicaSet", rs, group="apps") | {} == {
        "Name": "web-abc",
        "Desired": 2,
        "Current": 2,
        "Ready": 1,
        "Age": "2d",
        "Containers": "app,log",
        "Images": "nginx:1.25,fluentd",
        "Selector": "app=web",
    }
    rc = {**rs, "spec": {**rs["spec"], "selector": {"app": "web", "tier": "x"}}}
    assert row("ReplicationController", rc)["Selector"] == "app=web,tier=x"
    sts = {**rs, "status": {"readyReplicas": 1}}
    assert list(row("StatefulSet", sts, group="apps").values()) == [
        "web-abc",
        "1/2",
        "2d",
        "app,log",
        "nginx:1.25,fluentd",
    ]
    ds = {
        "metadata": meta("agent", creationTimestamp=ago(minutes=30)),
        "spec": {
            "selector": {},
            "template": {"spec": {**TEMPLATE["spec"], "nodeSelector": {"os": "linux"}}},
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert list(row("DaemonSet", ds, group="apps").values()) == [
        "agent",
        3,
        3,
        2,
        3,
        2,
        "os=linux",
        "30m",
        "app,log",
        "nginx:1.25,fluentd",
        "<none>",
    ]


def test_job_and_cronjob_rows() -> None:
    job = {
        "metadata": meta("pi", creationTimestamp=ago(minutes=10)),
        "spec": {
            "completions": 1,
            "template": TEMPLATE,
            "selector": {"matchLabels": {"job": "pi"}},
        },
        "status": {
            "succeeded": 1,
            "startTime": ago(minutes=10),
            "completionTime": ago(minutes=8),
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    cells = row("Job", job, group="batch")
    assert (cells["Status"], cells["Completions"], cells["Duration"], cells["Age"]) == (
        "Complete",
        "1/1",
        "2m",
        "10m",
    )
    running_job = {
        **job,
        "spec": {"parallelism": 3, "template": TEMPLATE},
        "status": {"startTime": ago(seconds=40)},
    }
    cells = row("Job", running_job, group="batch")
    assert (cells["Status"], cells["Completions"], cells["Duration"]) == (
        "Running",
        "0/1 of 3",
        "40s",
    )
    cron = {
        "metadata": meta("nightly", creationTimestamp=ago(days=1)),
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": TEMPLATE}}},
        "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": ago(hours=4)},
    }
    assert list(row("CronJob", cron, group="batch").values()) == [
        "nightly",
        "0 3 * * *",
        "<none>",
        "False",
        1,
        "4h",
        "24h",
        "app,log",
        "nginx:1.25,fluentd",
        "<none>",
    ]


def test_service_rows() -> None:
    svc = {
        "metadata": meta("web", creationTimestamp=ago(minutes=1)),
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ports": [
                {"port": 80, "protocol": "TCP", "nodePort": 30080},
                {"port": 53, "protocol": "UDP"},
            ],
            "selector": {"app": "web"},
        },
    }
    assert list(row("Service", svc).values()) == [
        "web",
        "NodePort",
        "10.96.0.10",
        "<none>",
        "80:30080/TCP,53/UDP",
        "60s",
        "app=web",
    ]
    lb = copy.deepcopy(svc)
    lb["spec"]["type"] = "LoadBalancer"
    assert row("Service", lb)["External-IP"] == "<pending>"
    lb["status"] = {
        "loadBalancer": {"ingress": [{"ip": "203.0.113.7"}, {"hostname": "lb.example"}]}
    }
    assert row("Service", lb)["External-IP"] == "203.0.113.7,lb.example"
    external = {
        "metadata": meta("db"),
        "spec": {"type": "ExternalName", "externalName": "db.example"},
    }
    cells = row("Service", external)
    assert (cells["Cluster-IP"], cells["External-IP"], cells["Port(s)"], cells["Age"]) == (
        "<none>",
        "db.example",
        "<none>",
        "<unknown>",
    )


def test_node_namespace_and_data_rows() -> None:
    node = {
        "metadata": {
            "name": "n1",
            "creationTimestamp": ago(days=40),
            "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker"},
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian"},
            "addresses": [{"type": "InternalIP", "address": "192.168.1.2"}],
        },
    }
    assert list(row("Node", node).values()) == [
        "n1",
        "Ready,SchedulingDisabled",
        "control-plane,worker",
        "40d",
        "v1.32.0",
        "192.168.1.2",
        "<none>",
        "Debian",
        "<unknown>",
        "<unknown>",
    ]
    assert row("Node", {"metadata": {"name": "n2"}})["Status"] == "Unknown"
    ns = {
        "metadata": {"name": "team", "creationTimestamp": ago(hours=30)},
        "status": {"phase": "Terminating"},
    }
    assert list(row("Namespace", ns).values()) == ["team", "Terminating", "30h"]
    cm = {
        "metadata": meta("cfg", creationTimestamp=ago(days=3)),
        "data": {"a": "1", "b": "2"},
        "binaryData": {"c": "AA=="},
    }
    assert list(row("ConfigMap", cm).values()) == ["cfg", 3, "3d"]
    secret = {
        "metadata": meta("tls"),
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "", "tls.key": ""},
    }
    assert list(row("Secret", secret).values()) == ["tls", "kubernetes.io/tls", 2, "<unknown>"]
    sa = {"metadata": meta("default", creationTimestamp=ago(days=3))}
    assert list(row("ServiceAccount", sa).values()) == ["default", 0, "3d"]
    pvc = {
        "metadata": meta("data", creationTimestamp=ago(days=1)),
        "spec": {"volumeName": "pv-1", "storageClassName": "standard"},
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
        },
    }
    assert list(row("PersistentVolumeClaim", pvc).values()) == [
        "data",
        "Bound",
        "pv-1",
        "1Gi",
        "RWO,RWX",
        "standard",
        "<unset>",
        "24h",
        "<unset>",
    ]


def test_event_rows() -> None:
    event = {
        "metadata": meta("web-1.17a"),
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container ",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "node-a"},
        "firstTimestamp": ago(minutes=9),
        "lastTimestamp": ago(seconds=30),
        "count": 12,
    }
    assert list(row("Event", event).values()) == [
        "30s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "spec.containers{app}",
        "kubelet, node-a",
        "Back-off restarting failed container",
        "9m",
        12,
        "web-1.17a",
    ]
    new_style = {
        "metadata": meta("web-1.17b"),
        "regarding": {"kind": "Pod", "name": "web-1"},
        "reason": "Scheduled",
        "note": "assigned",
        "type": "Normal",
        "eventTime": ago(seconds=5),
        "reportingController": "default-scheduler",
    }
    cells = row("Event", new_style, group="events.k8s.io")
    assert (
        cells["Last Seen"],
        cells["Object"],
        cells["Source"],
        cells["Message"],
        cells["Count"],
    ) == ("5s", "pod/web-1", "default-scheduler", "assigned", 1)


# -- custom resources and the default printer ---------------------------------------------------


def crd_type(*columns: PrinterColumn) -> ResourceType:
    return ResourceType(
        group="example.com",
        version="v1",
        kind="Widget",
        plural="widgets",
        singular="widget",
        namespaced=True,
        builtin=False,
        printer_columns=columns,
        crd_name="widgets.example.com",
    )


WIDGET = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": meta("w1", creationTimestamp=ago(hours=1)),
    "spec": {"size": 7.0, "ratio": 2, "tags": ["a"], "enabled": True, "since": ago(days=3)},
    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
}


def test_custom_resource_printer_columns() -> None:
    rt = crd_type(
        PrinterColumn(name="Size", type="integer", json_path=".spec.size"),
        PrinterColumn(
            name="Ready", type="string", json_path='.status.conditions[?(@.type=="Ready")].status'
        ),
        PrinterColumn(name="Ratio", type="number", json_path=".spec.ratio", priority=1),
        PrinterColumn(name="On", type="boolean", json_path=".spec.enabled"),
        PrinterColumn(name="Since", type="date", json_path=".spec.since", description="Started."),
        PrinterColumn(name="Tags", type="string", json_path=".spec.tags"),
        PrinterColumn(name="Missing", type="string", json_path=".spec.nothing"),
        PrinterColumn(name="Wrong", type="integer", json_path=".spec.enabled"),
        PrinterColumn(name="Bad", type="string", json_path=".spec[?(@.x > 1)]"),
    )
    t = to_table(rt, [WIDGET], V1, resource_version="3", now=NOW)
    defs = t["columnDefinitions"]
    assert [c["name"] for c in defs] == [
        "Name",
        "Size",
        "Ready",
        "Ratio",
        "On",
        "Since",
        "Tags",
        "Missing",
        "Wrong",
        "Bad",
    ]
    assert defs[3]["priority"] == 1
    assert (
        defs[1]["description"]
        == "Custom resource definition column (in JSONPath format): .spec.size"
    )
    assert defs[5]["description"] == "Started."
    assert t["rows"][0]["cells"] == ["w1", 7, "True", 2.0, True, "3d", '["a"]', None, None, None]
    assert isinstance(t["rows"][0]["cells"][1], int)


def test_custom_resource_default_age_column() -> None:
    t = to_table(crd_type(), [WIDGET], V1, resource_version="3", now=NOW)
    assert [(c["name"], c["type"]) for c in t["columnDefinitions"]] == [
        ("Name", "string"),
        ("Age", "date"),
    ]
    assert t["rows"][0]["cells"] == ["w1", "60m"]


def test_default_printer_for_kinds_without_one() -> None:
    role = {"metadata": {"name": "reader", "creationTimestamp": "2024-04-30T10:11:12Z"}}
    t = to_table(
        TYPES[("rbac.authorization.k8s.io", "ClusterRole")],
        [role],
        V1,
        resource_version="1",
        now=NOW,
    )
    assert [(c["name"], c["type"], c["format"]) for c in t["columnDefinitions"]] == [
        ("Name", "string", "name"),
        ("Created At", "date", ""),
    ]
    assert t["rows"][0]["cells"] == ["reader", "2024-04-30T10:11:12Z"]
    crd = to_table(
        TYPES[("apiextensions.k8s.io", "CustomResourceDefinition")],
        [{"metadata": {"name": "x"}}],
        V1,
        resource_version="1",
        now=NOW,
    )
    assert crd["rows"][0]["cells"] == ["x", "0001-01-01T00:00:00Z"]
