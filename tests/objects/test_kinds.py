"""The built-in kinds of `kr8s_trio.objects` against the fake API server over TLS.

Every class's version / plural / scope / scale attributes agree with the fake's discovery (the
same data kube-apiserver serves), every served kind survives a create / get / delete round
trip, and the special methods of kr8s's inventory §1.7 (Pod, Node, Deployment,
ReplicationController, Service, ConfigMap, Secret, Job, Table) do what kubectl would.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
import trio.testing

import kr8s_trio
from kr8s_trio import Api, NotFoundError, ServerError
from kr8s_trio.objects import (
    APIObject,
    Binding,
    CertificateSigningRequest,
    ClusterRole,
    ClusterRoleBinding,
    ComponentStatus,
    ConfigMap,
    ControllerRevision,
    CronJob,
    CustomResourceDefinition,
    DaemonSet,
    Deployment,
    Endpoints,
    EndpointSlice,
    Event,
    HorizontalPodAutoscaler,
    Ingress,
    IngressClass,
    IPAddress,
    Job,
    Lease,
    LimitRange,
    MutatingWebhookConfiguration,
    Namespace,
    NetworkPolicy,
    Node,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    PodDisruptionBudget,
    PodTemplate,
    PriorityClass,
    ReplicaSet,
    ReplicationController,
    ResourceQuota,
    Role,
    RoleBinding,
    Secret,
    Service,
    ServiceAccount,
    ServiceCIDR,
    StatefulSet,
    StorageClass,
    Table,
    ValidatingWebhookConfiguration,
)
from kr8s_trio.testing import FakeCluster, open_fake_cluster

JSON = dict[str, Any]

# -- the inventory ------------------------------------------------------------------------------

#: (class, version, plural, namespaced, scalable_spec or None): kr8s's table 1.6 plus the kinds
#: kr8s makes on demand that we define
INVENTORY: list[tuple[type[APIObject], str, str, bool, str | None]] = [
    (Binding, "v1", "bindings", True, None),
    (ComponentStatus, "v1", "componentstatuses", False, None),
    (ConfigMap, "v1", "configmaps", True, None),
    (Endpoints, "v1", "endpoints", True, None),
    (Event, "v1", "events", True, None),
    (LimitRange, "v1", "limitranges", True, None),
    (Namespace, "v1", "namespaces", False, None),
    (Node, "v1", "nodes", False, None),
    (PersistentVolume, "v1", "persistentvolumes", False, None),
    (PersistentVolumeClaim, "v1", "persistentvolumeclaims", True, None),
    (Pod, "v1", "pods", True, None),
    (PodTemplate, "v1", "podtemplates", True, None),
    (ReplicationController, "v1", "replicationcontrollers", True, "replicas"),
    (ResourceQuota, "v1", "resourcequotas", True, None),
    (Secret, "v1", "secrets", True, None),
    (ServiceAccount, "v1", "serviceaccounts", True, None),
    (Service, "v1", "services", True, None),
    (ControllerRevision, "apps/v1", "controllerrevisions", True, None),
    (DaemonSet, "apps/v1", "daemonsets", True, None),
    (Deployment, "apps/v1", "deployments", True, "replicas"),
    (ReplicaSet, "apps/v1", "replicasets", True, "replicas"),
    (StatefulSet, "apps/v1", "statefulsets", True, "replicas"),
    (HorizontalPodAutoscaler, "autoscaling/v2", "horizontalpodautoscalers", True, None),
    (CronJob, "batch/v1", "cronjobs", True, None),
    (Job, "batch/v1", "jobs", True, "parallelism"),
    (Ingress, "networking.k8s.io/v1", "ingresses", True, None),
    (IngressClass, "networking.k8s.io/v1", "ingressclasses", False, None),
    (NetworkPolicy, "networking.k8s.io/v1", "networkpolicies", True, None),
    (IPAddress, "networking.k8s.io/v1", "ipaddresses", False, None),
    (ServiceCIDR, "networking.k8s.io/v1", "servicecidrs", False, None),
    (PodDisruptionBudget, "policy/v1", "poddisruptionbudgets", True, None),
    (ClusterRole, "rbac.authorization.k8s.io/v1", "clusterroles", False, None),
    (ClusterRoleBinding, "rbac.authorization.k8s.io/v1", "clusterrolebindings", False, None),
    (Role, "rbac.authorization.k8s.io/v1", "roles", True, None),
    (RoleBinding, "rbac.authorization.k8s.io/v1", "rolebindings", True, None),
    (
        CustomResourceDefinition,
        "apiextensions.k8s.io/v1",
        "customresourcedefinitions",
        False,
        None,
    ),
    (Table, "meta.k8s.io/v1", "tables", False, None),
    (StorageClass, "storage.k8s.io/v1", "storageclasses", False, None),
    (Lease, "coordination.k8s.io/v1", "leases", True, None),
    (EndpointSlice, "discovery.k8s.io/v1", "endpointslices", True, None),
    (PriorityClass, "scheduling.k8s.io/v1", "priorityclasses", False, None),
    (
        MutatingWebhookConfiguration,
        "admissionregistration.k8s.io/v1",
        "mutatingwebhookconfigurations",
        False,
        None,
    ),
    (
        ValidatingWebhookConfiguration,
        "admissionregistration.k8s.io/v1",
        "validatingwebhookconfigurations",
        False,
        None,
    ),
    (
        CertificateSigningRequest,
        "certificates.k8s.io/v1",
        "certificatesigningrequests",
        False,
        None,
    ),
]

#: kinds the fake (like a recent kube-apiserver without feature gates) does not serve as
#: top-level resources: Binding is only pods/binding, ComponentStatus is gone from the fake,
#: IPAddress / ServiceCIDR are behind feature gates; Table is a response format
UNSERVED = {Binding, ComponentStatus, IPAddress, ServiceCIDR, Table}
SERVED = [row for row in INVENTORY if row[0] not in UNSERVED]


def _id(row: tuple[type[APIObject], ...]) -> str:
    return row[0].__name__


def _discovered(resources: list[JSON], cls: type[APIObject]) -> JSON:
    (entry,) = [r for r in resources if r["version"] == cls.version and r["kind"] == cls.kind]
    return entry


# -- attributes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("row", INVENTORY, ids=_id)
def test_kind_attributes_match_kr8s_inventory(
    row: tuple[type[APIObject], str, str, bool, str | None],
) -> None:
    cls, version, plural, namespaced, scalable_spec = row
    assert cls.kind == cls.__name__
    assert cls.version == version
    assert cls.plural == cls.endpoint == plural
    assert cls.singular == cls.kind.lower()
    assert cls.namespaced is namespaced
    assert cls.scalable is (scalable_spec is not None)
    if scalable_spec is not None:
        assert cls.scalable_spec == scalable_spec
    assert cls.builtin is True


@pytest.mark.parametrize("row", SERVED, ids=_id)
async def test_kind_attributes_match_discovery(
    row: tuple[type[APIObject], str, str, bool, str | None], cluster: FakeCluster, api: Api
) -> None:
    cls = row[0]
    entry = _discovered(await api.api_resources(), cls)
    assert entry["name"] == cls.plural
    assert entry["singularName"] == cls.singular
    assert entry["namespaced"] is cls.namespaced
    assert set(entry.get("shortNames") or ()) == set(cls.short_names)
    # scalable: served with a scale subresource (read from the group version's full
    # discovery document, which lists subresources), except a Job's parallelism
    group, _, version = cls.version.rpartition("/")
    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    async with cluster.http_client(timeout=None) as client:
        names = {r["name"] for r in (await client.get(path)).json()["resources"]}
    has_scale = f"{cls.plural}/scale" in names
    assert cls.scale_subresource is has_scale
    assert cls.scalable is (has_scale or cls is Job)


@pytest.mark.parametrize("cls", sorted(UNSERVED, key=lambda c: c.__name__), ids=lambda c: c.kind)
async def test_kind_not_served_by_fake_has_attributes_only(cls: type[APIObject], api: Api) -> None:
    resources = await api.api_resources()
    assert not [r for r in resources if r["kind"] == cls.kind and r["version"] == cls.version]
    assert cls.plural == cls.endpoint
    assert cls.plural.islower()


# -- round trips --------------------------------------------------------------------------------

POD_SPEC: JSON = {"containers": [{"name": "c", "image": "busybox"}]}
TEMPLATE: JSON = {"metadata": {"labels": {"app": "rt"}}, "spec": POD_SPEC}
SELECTOR: JSON = {"matchLabels": {"app": "rt"}}
RULES: list[JSON] = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]

#: a minimal valid body (besides apiVersion / kind / metadata.name) per served kind
MANIFESTS: dict[type[APIObject], JSON] = {
    ConfigMap: {"data": {"k": "v"}},
    Endpoints: {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]},
    Event: {
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Test",
        "message": "round trip",
        "type": "Normal",
    },
    LimitRange: {"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}},
    Namespace: {},
    Node: {},
    PersistentVolume: {
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/rt"},
        }
    },
    PersistentVolumeClaim: {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    },
    Pod: {"spec": POD_SPEC},
    PodTemplate: {"template": TEMPLATE},
    ReplicationController: {
        "spec": {"replicas": 1, "selector": {"app": "rt"}, "template": TEMPLATE}
    },
    ResourceQuota: {"spec": {"hard": {"pods": "10"}}},
    Secret: {"data": {"k": "dg=="}},
    ServiceAccount: {},
    Service: {"spec": {"ports": [{"port": 80}], "selector": {"app": "rt"}}},
    ControllerRevision: {"revision": 1, "data": {}},
    DaemonSet: {"spec": {"selector": SELECTOR, "template": TEMPLATE}},
    Deployment: {"spec": {"replicas": 1, "selector": SELECTOR, "template": TEMPLATE}},
    ReplicaSet: {"spec": {"replicas": 1, "selector": SELECTOR, "template": TEMPLATE}},
    StatefulSet: {
        "spec": {"replicas": 1, "serviceName": "rt", "selector": SELECTOR, "template": TEMPLATE}
    },
    HorizontalPodAutoscaler: {
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rt"},
            "minReplicas": 1,
            "maxReplicas": 3,
        }
    },
    CronJob: {
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": {"spec": {**POD_SPEC, "restartPolicy": "Never"}}}},
        }
    },
    Job: {"spec": {"template": {"spec": {**POD_SPEC, "restartPolicy": "Never"}}}},
    Ingress: {"spec": {"defaultBackend": {"service": {"name": "rt", "port": {"number": 80}}}}},
    IngressClass: {"spec": {"controller": "example.com/ingress"}},
    NetworkPolicy: {"spec": {"podSelector": {}}},
    PodDisruptionBudget: {"spec": {"minAvailable": 1, "selector": SELECTOR}},
    ClusterRole: {"rules": RULES},
    ClusterRoleBinding: {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "x"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
    },
    Role: {"rules": RULES},
    RoleBinding: {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "x"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
    },
    StorageClass: {"provisioner": "example.com/disk"},
    Lease: {"spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}},
    EndpointSlice: {"addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"]}]},
    PriorityClass: {"value": 1000},
    MutatingWebhookConfiguration: {"webhooks": []},
    ValidatingWebhookConfiguration: {"webhooks": []},
}


def _csr_request() -> str:
    """A real PEM PKCS#10 request, base64-encoded as ``spec.request`` wants it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rt")]))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


MANIFESTS[CertificateSigningRequest] = {
    "spec": {
        "request": _csr_request(),
        "signerName": "example.com/signer",
        "usages": ["client auth"],
    }
}

ROUND_TRIP = [row for row in SERVED if row[0] in MANIFESTS]


def test_kind_round_trip_covers_every_served_kind_but_crds() -> None:
    # CustomResourceDefinition is exercised by test_classes, with its custom resources
    missing = {row[0] for row in SERVED} - set(MANIFESTS)
    assert missing == {CustomResourceDefinition}


@pytest.mark.parametrize("row", ROUND_TRIP, ids=_id)
async def test_kind_create_get_delete_round_trip(
    row: tuple[type[APIObject], str, str, bool, str | None], cluster: FakeCluster, api: Api
) -> None:
    cls = row[0]
    manifest = {"metadata": {"name": "rt"}, **copy.deepcopy(MANIFESTS[cls])}
    obj = cls(manifest)
    assert obj.raw is manifest
    assert manifest["apiVersion"] == cls.version
    assert manifest["kind"] == cls.kind
    await obj.create()
    uid = obj.metadata.uid
    assert uid
    assert obj.metadata.resourceVersion
    assert obj.namespace == ("default" if cls.namespaced else None)
    served = cluster.get(cls.plural, "rt", namespace=obj.namespace)
    assert served["metadata"]["uid"] == uid
    got = await cls.get("rt")
    assert type(got) is cls
    assert got == obj
    assert got.metadata.uid == uid
    listed = [o async for o in cls.list()]
    assert "rt" in [o.name for o in listed]  # (namespaces and ServiceAccounts are seeded)
    assert {type(o) for o in listed} == {cls}
    await obj.delete()
    if cls is Namespace:
        # a namespace is finalized by the namespace controller (not running here)
        gone = not await obj.exists() or obj.raw["status"].get("phase") == "Terminating"
        assert gone
    else:
        assert not await obj.exists()
        with pytest.raises(NotFoundError):
            await cls.get("rt")


# -- Pod ----------------------------------------------------------------------------------------


@pytest.fixture
async def slow_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[FakeCluster, Api]]:
    """A living cluster whose pods become ready 5 s (trio time) after they run."""
    async with open_fake_cluster(pod_ready_delay=5) as c:
        monkeypatch.setenv("KUBECONFIG", str(c.kubeconfig_path))
        yield c, await kr8s_trio.api()


def _pod(name: str, **labels: str) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": copy.deepcopy(POD_SPEC),
    }


READY = {
    "conditions": [
        {"type": "Ready", "status": "True"},
        {"type": "ContainersReady", "status": "True"},
    ]
}


async def test_pod_ready_false_then_true_on_living_cluster(
    autojump_clock: trio.testing.MockClock, slow_api: tuple[FakeCluster, Api]
) -> None:
    pod = Pod(_pod("web"))
    await pod.create()
    assert await pod.ready() is False
    await trio.sleep(6)
    assert await pod.ready() is True
    assert pod.raw["status"]["phase"] == "Running"


async def test_pod_ready_needs_both_conditions(cluster: FakeCluster, api: Api) -> None:
    cluster.create(_pod("p"))
    pod = await Pod.get("p")
    cluster.patch_status("pods", "p", {"conditions": [{"type": "Ready", "status": "True"}]})
    assert await pod.ready() is False
    cluster.patch_status("pods", "p", READY)
    assert await pod.ready() is True


async def test_pod_tolerate_appends_keeping_existing(cluster: FakeCluster, api: Api) -> None:
    existing = {"key": "a", "operator": "Exists", "effect": "NoSchedule"}
    manifest = _pod("p")
    manifest["spec"]["tolerations"] = [existing]
    cluster.create(manifest)
    pod = Pod("p")
    await pod.tolerate("b", operator="Equal", value="1", effect="NoExecute", toleration_seconds=30)
    added = {
        "key": "b",
        "operator": "Equal",
        "value": "1",
        "effect": "NoExecute",
        "tolerationSeconds": 30,
    }
    assert cluster.get("pods", "p")["spec"]["tolerations"] == [existing, added]
    assert pod.tolerations == [existing, added]
    assert pod.tolerations[1]["tolerationSeconds"] == 30


async def test_pod_tolerate_invalid_raises_value_error_before_any_request(
    cluster: FakeCluster, api: Api
) -> None:
    before = cluster.create(_pod("p"))["spec"].get("tolerations")
    pod = Pod("p")
    cluster.requests.clear()
    with pytest.raises(ValueError, match="value"):
        await pod.tolerate("a", operator="Exists", value="x", effect="NoSchedule")
    with pytest.raises(ValueError, match="effect"):
        await pod.tolerate("a", operator="Exists", effect="Sometimes")
    with pytest.raises(ValueError, match="tolerationSeconds"):
        await pod.tolerate("a", operator="Exists", effect="NoSchedule", toleration_seconds=5)
    assert not cluster.requests.filter(verb="patch")
    assert cluster.get("pods", "p")["spec"].get("tolerations") == before


def test_pod_tolerations_empty_when_missing() -> None:
    assert Pod(_pod("p")).tolerations == []


def test_pod_gen_requires_exactly_one_name_and_an_image() -> None:
    with pytest.raises(ValueError, match="name"):
        Pod.gen(image="busybox")
    with pytest.raises(ValueError, match="name"):
        Pod.gen(name="a", generate_name="a-", image="busybox")
    with pytest.raises(TypeError, match="image"):
        Pod.gen(name="a")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="image"):
        Pod.gen(name="a", image="  ")
    with pytest.raises(ValueError, match="name"):
        Pod.gen(name="Not_Valid", image="busybox")
    with pytest.raises(TypeError, match="keyword"):
        Pod.gen("a", "busybox")


def test_pod_gen_ports_and_env_forms() -> None:
    pod = Pod.gen(
        name="web",
        image="nginx",
        ports=[80, {"containerPort": 443, "name": "https"}],
        env={"A": "1", "B": 2},
        labels={"app": "web"},
        restart="Never",
        command=["nginx", "-g", "daemon off;"],
    )
    assert type(pod) is Pod
    (container,) = pod.raw["spec"]["containers"]
    assert container["name"] == "web"
    assert container["ports"] == [{"containerPort": 80}, {"containerPort": 443, "name": "https"}]
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert pod.raw["spec"]["restartPolicy"] == "Never"
    assert pod.labels == {"app": "web"}
    single = Pod.gen(name="one", image="x", ports=8080, env=[{"name": "X", "value": "y"}])
    assert single.raw["spec"]["containers"][0]["ports"] == [{"containerPort": 8080}]
    assert single.raw["spec"]["containers"][0]["env"] == [{"name": "X", "value": "y"}]
    with pytest.raises(ValueError, match="ports"):
        Pod.gen(name="bad", image="x", ports=70000)
    dotted = Pod.gen(name="web.v2", image="x")
    assert dotted.raw["spec"]["containers"][0]["name"] == "container"  # not a DNS label


async def test_pod_gen_then_create(cluster: FakeCluster, api: Api) -> None:
    pod = Pod.gen(generate_name="job-", image="busybox", namespace="default")
    assert pod.raw["spec"]["containers"][0]["name"] == "container"
    await pod.create()
    assert pod.name.startswith("job-")
    assert len(pod.name) > len("job-")
    served = cluster.get("pods", pod.name)
    assert served["spec"]["containers"][0]["image"] == "busybox"


# -- Node ---------------------------------------------------------------------------------------


@pytest.fixture
async def node(cluster: FakeCluster, api: Api) -> Node:
    cluster.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    return await Node.get("n1")


def _served_node(cluster: FakeCluster) -> JSON:
    return cluster.get("nodes", "n1", namespace=None)


async def test_node_cordon_uncordon_unschedulable(cluster: FakeCluster, node: Node) -> None:
    assert node.unschedulable is False
    await node.cordon()
    assert node.unschedulable is True
    assert _served_node(cluster)["spec"]["unschedulable"] is True
    await node.uncordon()
    assert node.unschedulable is False
    assert not _served_node(cluster)["spec"].get("unschedulable")


async def test_node_taint_add_replace_and_remove(cluster: FakeCluster, node: Node) -> None:
    assert node.taints == []
    await node.taint("a", "1", effect="NoSchedule")
    assert _served_node(cluster)["spec"]["taints"] == [
        {"key": "a", "value": "1", "effect": "NoSchedule"}
    ]
    await node.taint("a", "2", effect="NoSchedule")  # same key and effect: value replaced
    await node.taint("a", effect="PreferNoSchedule")
    await node.taint("b", "x", effect="NoExecute")
    taints = _served_node(cluster)["spec"]["taints"]
    assert [(t["key"], t.get("value"), t["effect"]) for t in taints] == [
        ("a", "2", "NoSchedule"),
        ("a", None, "PreferNoSchedule"),
        ("b", "x", "NoExecute"),
    ]
    assert node.taints == taints
    await node.taint("a", effect="NoSchedule-")  # that key and effect only
    assert [(t["key"], t["effect"]) for t in node.taints] == [
        ("a", "PreferNoSchedule"),
        ("b", "NoExecute"),
    ]
    await node.taint("a", effect="-")  # every taint of the key
    assert [t["key"] for t in _served_node(cluster)["spec"]["taints"]] == ["b"]
    await node.taint("b", effect="-")
    assert not _served_node(cluster)["spec"].get("taints")
    assert node.taints == []


async def test_node_taint_removing_missing_taint_raises(cluster: FakeCluster, node: Node) -> None:
    await node.taint("a", "1", effect="NoSchedule")
    with pytest.raises(LookupError, match="a:NoExecute"):
        await node.taint("a", effect="NoExecute-")
    with pytest.raises(LookupError, match="'zz'"):
        await node.taint("zz", effect="-")
    with pytest.raises(ValueError, match="effect"):
        await node.taint("a", "1", effect="Never")
    assert len(_served_node(cluster)["spec"]["taints"]) == 1


# -- workloads ----------------------------------------------------------------------------------


def _deployment(
    name: str, replicas: int = 1, labels: dict[str, str] | None = None, **selector: Any
) -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": selector or {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": labels or {"app": name}}, "spec": POD_SPEC},
        },
    }


async def test_deployment_pods_honour_match_expressions(cluster: FakeCluster, api: Api) -> None:
    deploy = Deployment(
        _deployment(
            "web",
            labels={"app": "web", "tier": "front"},
            matchLabels={"app": "web"},
            matchExpressions=[{"key": "tier", "operator": "In", "values": ["front"]}],
        )
    )
    await deploy.create()
    cluster.create(_pod("front", app="web", tier="front"))
    cluster.create(_pod("back", app="web", tier="back"))  # kr8s would return this one too
    cluster.create(_pod("untiered", app="web"))
    cluster.create(_pod("other", app="db", tier="front"))
    pods = await deploy.pods()
    assert [p.name for p in pods] == ["front"]
    assert all(type(p) is Pod for p in pods)
    assert await deploy.ready_pods() == []
    cluster.patch_status("pods", "front", READY)
    cluster.patch_status("pods", "back", READY)
    assert [p.name for p in await deploy.ready_pods()] == ["front"]


async def test_deployment_pods_only_in_its_namespace(cluster: FakeCluster, api: Api) -> None:
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    deploy = Deployment(_deployment("web"))
    await deploy.create()
    cluster.create(_pod("here", app="web"))
    cluster.create(
        {
            **_pod("there", app="web"),
            "metadata": {"name": "there", "namespace": "other", "labels": {"app": "web"}},
        }
    )
    assert [p.name for p in await deploy.pods()] == ["here"]


async def test_deployment_ready_on_living_cluster(
    autojump_clock: trio.testing.MockClock, slow_api: tuple[FakeCluster, Api]
) -> None:
    deploy = Deployment(_deployment("web", replicas=2))
    await deploy.create()
    assert await deploy.ready() is False
    await trio.sleep(6)
    assert await deploy.ready() is True
    assert deploy.raw["status"]["readyReplicas"] == 2
    assert len(await deploy.ready_pods()) == 2


async def test_replicationcontroller_ready_on_living_cluster(
    autojump_clock: trio.testing.MockClock, slow_api: tuple[FakeCluster, Api]
) -> None:
    rc = ReplicationController(
        {
            "metadata": {"name": "rc"},
            "spec": {
                "replicas": 2,
                "selector": {"app": "rc"},
                "template": {"metadata": {"labels": {"app": "rc"}}, "spec": POD_SPEC},
            },
        }
    )
    await rc.create()
    assert await rc.ready() is False
    await trio.sleep(6)
    assert await rc.ready() is True
    assert rc.replicas == 2


async def test_job_scale_sets_parallelism(cluster: FakeCluster, api: Api) -> None:
    job = Job(
        {
            "metadata": {"name": "j"},
            "spec": {
                "parallelism": 1,
                "template": {"spec": {**POD_SPEC, "restartPolicy": "Never"}},
            },
        }
    )
    await job.create()
    assert job.replicas == 1
    cluster.requests.clear()
    await job.scale(3)
    assert job.replicas == 3
    assert cluster.get("jobs", "j")["spec"]["parallelism"] == 3
    assert [r.subresource for r in cluster.requests.filter(verb="patch")] == [""]


# -- Service ------------------------------------------------------------------------------------


def _service(name: str, **spec: Any) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 8080, "name": "http"}], "selector": {"app": name}, **spec},
    }


async def test_service_proxy_verbs_reach_the_proxy_subresource(
    cluster: FakeCluster, api: Api
) -> None:
    svc = Service(_service("web"))
    await svc.create()
    cluster.requests.clear()
    calls = [
        (svc.proxy_http_get, "GET"),
        (svc.proxy_http_post, "POST"),
        (svc.proxy_http_put, "PUT"),
        (svc.proxy_http_delete, "DELETE"),
    ]
    for call, method in calls:
        # the fake's API machinery does not proxy: 503 ServiceUnavailable, as a kube-apiserver
        # with no route to the pods
        with pytest.raises(ServerError) as info:
            await call("/hello/there", params={"q": "1"})
        assert info.value.code == 503
        assert info.value.reason == "ServiceUnavailable"
        assert "proxy" in str(info.value)
        record = cluster.requests.filter(method=method)[-1]
        assert record.path == "/api/v1/namespaces/default/services/web:8080/proxy/hello/there"
        assert record.query == {"q": ["1"]}
    with pytest.raises(ServerError):
        await svc.proxy_http_get("x", port="http")
    assert cluster.requests.filter(method="GET")[-1].path.endswith("/services/web:http/proxy/x")


async def test_service_ready_with_a_ready_pod(cluster: FakeCluster, api: Api) -> None:
    svc = Service(_service("web"))
    await svc.create()
    cluster.create(_pod("a", app="web"))
    cluster.create(_pod("b", app="web"))
    cluster.create(_pod("c", app="db"))
    assert await svc.ready_pods() == []
    assert await svc.ready() is False
    cluster.patch_status("pods", "b", READY)
    cluster.patch_status("pods", "c", READY)
    assert [p.name for p in await svc.ready_pods()] == ["b"]
    assert await svc.ready() is True


async def test_service_without_selector_has_no_pods(cluster: FakeCluster, api: Api) -> None:
    manifest = _service("bare")
    del manifest["spec"]["selector"]
    svc = Service(manifest)
    await svc.create()
    cluster.create(_pod("a", app="web"))
    cluster.patch_status("pods", "a", READY)
    assert await svc.ready_pods() == []
    assert await svc.ready() is False


async def test_service_load_balancer_needs_ingress(cluster: FakeCluster, api: Api) -> None:
    svc = Service(_service("lb", type="LoadBalancer"))
    await svc.create()
    cluster.create(_pod("a", app="lb"))
    cluster.patch_status("pods", "a", READY)
    assert len(await svc.ready_pods()) == 1
    assert await svc.ready() is False
    cluster.patch_status("services", "lb", {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}})
    assert await svc.ready() is True


# -- ConfigMap / Secret -------------------------------------------------------------------------


async def test_configmap_data_read_and_write(cluster: FakeCluster, api: Api) -> None:
    cluster.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1"}}
    )
    cm = await ConfigMap.get("cm")
    assert cm.data == {"a": "1"}
    assert cm.data["a"] == "1"
    cm.data["b"] = "2"
    assert cm.raw["data"] == {"a": "1", "b": "2"}
    await cm.replace()
    assert cluster.get("configmaps", "cm")["data"] == {"a": "1", "b": "2"}
    cm.data = {"only": "this"}
    await cm.replace()
    assert cluster.get("configmaps", "cm")["data"] == {"only": "this"}
    empty = ConfigMap("empty")
    assert empty.data == {}
    empty.data["k"] = "v"
    await empty.create()
    assert cluster.get("configmaps", "empty")["data"] == {"k": "v"}


async def test_secret_data_is_base64_and_decoded_is_bytes(cluster: FakeCluster, api: Api) -> None:
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "data": {"user": "YWRtaW4=", "bin": "AP8="},
        }
    )
    secret = await Secret.get("s")
    assert secret.data == {"user": "YWRtaW4=", "bin": "AP8="}
    assert secret.decoded == {"user": b"admin", "bin": b"\x00\xff"}
    secret.data["user"] = "cm9vdA=="
    await secret.replace()
    assert cluster.get("secrets", "s")["data"]["user"] == "cm9vdA=="
    assert (await Secret.get("s")).decoded["user"] == b"root"


def test_secret_decoded_bad_base64_names_key_not_value() -> None:
    secret = Secret({"metadata": {"name": "s"}, "data": {"ok": "YQ==", "token": "s3cr3t!*"}})
    with pytest.raises(ValueError, match="token") as info:
        _ = secret.decoded
    assert "s3cr3t" not in str(info.value)
    assert Secret("empty").decoded == {}
    wrapped = Secret({"metadata": {"name": "w"}, "data": {"k": "YWRt\naW4="}})
    assert wrapped.decoded == {"k": b"admin"}  # line breaks ignored, as Go's decoder does


# -- Table --------------------------------------------------------------------------------------


async def test_table_from_get_as_object(cluster: FakeCluster, api: Api) -> None:
    for name in ("a", "b", "c"):
        cluster.create(_pod(name))
    tables = [t async for t in kr8s_trio.get("pods", as_object=Table)]
    (table,) = tables
    assert type(table) is Table
    names = [c["name"] for c in table.column_definitions]
    # kubectl's pod columns (k8s.io/kubernetes pkg/printers/internalversion)
    assert names == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]
    assert [c["priority"] for c in table.column_definitions][:5] == [0] * 5
    assert len(table.rows) == 3
    assert [row["cells"][0] for row in table.rows] == ["a", "b", "c"]
    assert cluster.requests.filter(verb="list")[-1].accept.startswith(
        "application/json;as=Table;v=v1;g=meta.k8s.io"
    )
