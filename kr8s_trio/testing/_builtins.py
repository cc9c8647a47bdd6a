"""The built-in resources of the fake, with the discovery data kube-apiserver publishes for them.

Names, short names, categories, verbs and subresources follow what a v1.33 kube-apiserver
advertises; selectable fields follow the per-kind field label conversion functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kr8s_trio._core._jsonpath import dig
from kr8s_trio.testing._resources import (
    STANDARD_VERBS,
    ResourceType,
    ScaleSpec,
    SubresourceInfo,
    flag_field,
    number_field,
    text_field,
)

__all__ = ["builtin_resources"]

_NO_COLLECTION = tuple(v for v in STANDARD_VERBS if v != "deletecollection")
_CREATE_ONLY = ("create",)


def _pod_ips(obj: dict[str, Any]) -> str:
    ips = dig(obj, "status", "podIPs")
    if isinstance(ips, list):
        return ",".join(str(ip.get("ip", "")) for ip in ips if isinstance(ip, dict))
    return ""


def _sub(
    name: str, kind: str, verbs: Iterable[str], group: str | None = None, version: str | None = None
) -> SubresourceInfo:
    return SubresourceInfo(name=name, kind=kind, verbs=tuple(verbs), group=group, version=version)


def _status(kind: str) -> SubresourceInfo:
    return _sub("status", kind, ("get", "patch", "update"))


def _scale() -> SubresourceInfo:
    return _sub("scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1")


_POD_FIELDS = {
    "spec.nodeName": text_field("spec.nodeName"),
    "spec.host": text_field("spec.nodeName"),
    "spec.restartPolicy": text_field("spec.restartPolicy"),
    "spec.schedulerName": text_field("spec.schedulerName"),
    "spec.serviceAccountName": text_field("spec.serviceAccountName"),
    "spec.hostNetwork": flag_field("spec.hostNetwork"),
    "status.phase": text_field("status.phase"),
    "status.podIP": text_field("status.podIP"),
    "status.podIPs": _pod_ips,
    "status.nominatedNodeName": text_field("status.nominatedNodeName"),
}

_EVENT_FIELDS = {
    **{
        f"involvedObject.{f}": text_field(f"involvedObject.{f}")
        for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    },
    "reason": text_field("reason"),
    "reportingComponent": text_field("reportingComponent"),
    "source": text_field("source.component"),
    "type": text_field("type"),
}

_EVENTS_V1_FIELDS = {
    **{
        f"regarding.{f}": text_field(f"regarding.{f}") for f in ("kind", "namespace", "name", "uid")
    },
    "reason": text_field("reason"),
    "reportingController": text_field("reportingController"),
    "type": text_field("type"),
}


_PROXY = ("create", "delete", "get", "patch", "update")
_POD_SUBRESOURCES = (
    _sub("attach", "PodAttachOptions", ("create", "get")),
    _sub("binding", "Binding", ("create",)),
    _sub("ephemeralcontainers", "Pod", ("get", "patch", "update")),
    _sub("eviction", "Eviction", ("create",), "policy", "v1"),
    _sub("exec", "PodExecOptions", ("create", "get")),
    _sub("log", "Pod", ("get",)),
    _sub("portforward", "PodPortForwardOptions", ("create", "get")),
    _sub("proxy", "PodProxyOptions", _PROXY),
    _sub("resize", "Pod", ("get", "patch", "update")),
)
_ALL = ("all",)
_EXT = ("api-extensions",)


def _kind(
    api_version: str,
    kind: str,
    plural: str,
    short: str = "",
    *,
    cluster: bool = False,
    categories: tuple[str, ...] = (),
    subs: tuple[SubresourceInfo, ...] = (),
    status: bool = False,
    scale: ScaleSpec | None = None,
    fields: dict[str, Callable[[dict[str, Any]], str]] | None = None,
    gen: bool = False,
    deleted: bool = False,
    verbs: tuple[str, ...] = STANDARD_VERBS,
    virtual: bool = False,
    storage: str = "",
) -> ResourceType:
    """One row of the table: ``scale`` and ``status`` add their subresources (status last, as
    kube-apiserver lists it); the singular name is the lower-cased kind, as for every built-in."""
    group, _, version = api_version.rpartition("/")
    if scale is not None:
        subs += (_scale(),)
    if status:
        subs += (_status(kind),)
    return ResourceType(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=not cluster,
        verbs=verbs,
        short_names=tuple(short.split()),
        categories=categories,
        subresources=subs,
        field_getters=fields or {},
        status_subresource=status,
        generation=gen,
        return_deleted_object=deleted,
        virtual=virtual,
        scale=scale,
        storage_version=storage,
    )


def _review(api_version: str, kind: str, plural: str) -> ResourceType:
    """A virtual resource: POST only, answered and not stored."""
    return _kind(api_version, kind, plural, cluster=True, verbs=_CREATE_ONLY, virtual=True)


def builtin_resources() -> list[ResourceType]:
    """A fresh list of the built-in resource types."""
    ns_fields = {"status.phase": text_field("status.phase")}
    svc_fields = {
        "spec.clusterIP": text_field("spec.clusterIP"),
        "spec.type": text_field("spec.type"),
    }
    replicas = {"status.replicas": number_field("status.replicas")}
    sa_token = _sub("token", "TokenRequest", ("create",), "authentication.k8s.io", "v1")
    approval = _sub("approval", "CertificateSigningRequest", ("get", "patch", "update"))
    rbac = "rbac.authorization.k8s.io/v1"
    admission = "admissionregistration.k8s.io/v1"
    events = "events.k8s.io/v1"
    net = "networking.k8s.io/v1"
    authn, authz = "authentication.k8s.io/v1", "authorization.k8s.io/v1"
    hpa = ("HorizontalPodAutoscaler", "horizontalpodautoscalers", "hpa")
    return [
        # core/v1
        _kind(
            "v1",
            "Namespace",
            "namespaces",
            "ns",
            cluster=True,
            verbs=_NO_COLLECTION,
            subs=(_sub("finalize", "Namespace", ("update",)),),
            status=True,
            fields=ns_fields,
        ),
        _kind(
            "v1",
            "Pod",
            "pods",
            "po",
            categories=_ALL,
            subs=_POD_SUBRESOURCES,
            status=True,
            fields=_POD_FIELDS,
            gen=True,
            deleted=True,
        ),
        _kind(
            "v1",
            "Service",
            "services",
            "svc",
            categories=_ALL,
            subs=(_sub("proxy", "ServiceProxyOptions", _PROXY),),
            status=True,
            fields=svc_fields,
            deleted=True,
        ),
        _kind("v1", "Endpoints", "endpoints", "ep"),
        _kind("v1", "ConfigMap", "configmaps", "cm"),
        _kind("v1", "Secret", "secrets", fields={"type": text_field("type")}),
        _kind("v1", "ServiceAccount", "serviceaccounts", "sa", subs=(sa_token,), deleted=True),
        _kind("v1", "Event", "events", "ev", fields=_EVENT_FIELDS),
        _kind(
            "v1",
            "Node",
            "nodes",
            "no",
            cluster=True,
            subs=(_sub("proxy", "NodeProxyOptions", _PROXY),),
            status=True,
            fields={"spec.unschedulable": flag_field("spec.unschedulable")},
        ),
        _kind(
            "v1",
            "PersistentVolume",
            "persistentvolumes",
            "pv",
            cluster=True,
            status=True,
            deleted=True,
        ),
        _kind(
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            "pvc",
            status=True,
            deleted=True,
        ),
        _kind("v1", "LimitRange", "limitranges", "limits"),
        _kind("v1", "ResourceQuota", "resourcequotas", "quota", status=True),
        _kind("v1", "PodTemplate", "podtemplates"),
        _kind(
            "v1",
            "ReplicationController",
            "replicationcontrollers",
            "rc",
            categories=_ALL,
            scale=ScaleSpec(label_selector=None),
            status=True,
            fields=replicas,
            gen=True,
        ),
        # apps/v1
        _kind(
            "apps/v1",
            "Deployment",
            "deployments",
            "deploy",
            categories=_ALL,
            scale=ScaleSpec(),
            status=True,
            gen=True,
        ),
        _kind(
            "apps/v1",
            "ReplicaSet",
            "replicasets",
            "rs",
            categories=_ALL,
            scale=ScaleSpec(),
            status=True,
            fields=replicas,
            gen=True,
        ),
        _kind(
            "apps/v1",
            "StatefulSet",
            "statefulsets",
            "sts",
            categories=_ALL,
            scale=ScaleSpec(),
            status=True,
            gen=True,
        ),
        _kind("apps/v1", "DaemonSet", "daemonsets", "ds", categories=_ALL, status=True, gen=True),
        _kind("apps/v1", "ControllerRevision", "controllerrevisions"),
        # batch/v1
        _kind(
            "batch/v1",
            "Job",
            "jobs",
            categories=_ALL,
            status=True,
            fields={"status.successful": number_field("status.succeeded")},
            gen=True,
        ),
        _kind("batch/v1", "CronJob", "cronjobs", "cj", categories=_ALL, status=True, gen=True),
        # autoscaling: v2 preferred and stored, v1 still served
        _kind("autoscaling/v2", *hpa, categories=_ALL, status=True, gen=True),
        _kind("autoscaling/v1", *hpa, categories=_ALL, status=True, gen=True, storage="v2"),
        # networking, policy, rbac, coordination, storage, scheduling, events, discovery
        _kind(net, "Ingress", "ingresses", "ing", status=True, gen=True),
        _kind(net, "IngressClass", "ingressclasses", cluster=True),
        _kind(net, "NetworkPolicy", "networkpolicies", "netpol", gen=True),
        _kind(
            "policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", "pdb", status=True, gen=True
        ),
        _kind(rbac, "Role", "roles"),
        _kind(rbac, "RoleBinding", "rolebindings"),
        _kind(rbac, "ClusterRole", "clusterroles", cluster=True),
        _kind(rbac, "ClusterRoleBinding", "clusterrolebindings", cluster=True),
        _kind("coordination.k8s.io/v1", "Lease", "leases"),
        _kind(
            "storage.k8s.io/v1", "StorageClass", "storageclasses", "sc", cluster=True, deleted=True
        ),
        _kind("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", "pc", cluster=True),
        _kind(events, "Event", "events", "ev", fields=_EVENTS_V1_FIELDS),
        _kind("discovery.k8s.io/v1", "EndpointSlice", "endpointslices"),
        _kind(
            "certificates.k8s.io/v1",
            "CertificateSigningRequest",
            "certificatesigningrequests",
            "csr",
            cluster=True,
            subs=(approval,),
            status=True,
            fields={"spec.signerName": text_field("spec.signerName")},
        ),
        _kind(
            admission,
            "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations",
            cluster=True,
            categories=_EXT,
            gen=True,
        ),
        _kind(
            admission,
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            cluster=True,
            categories=_EXT,
            gen=True,
        ),
        _kind(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            "crd crds",
            cluster=True,
            categories=_EXT,
            status=True,
            gen=True,
        ),
        # virtual resources: reviews, answered from the authenticator and the rule table
        _review(authn, "TokenReview", "tokenreviews"),
        _review(authn, "SelfSubjectReview", "selfsubjectreviews"),
        _review(authz, "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
        _review(authz, "SubjectAccessReview", "subjectaccessreviews"),
        _review(authz, "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
    ]
