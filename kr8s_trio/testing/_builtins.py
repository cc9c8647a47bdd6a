"""The built-in resources of the fake, with the discovery data kube-apiserver publishes for them.

Names, short names, categories, verbs and subresources follow what a v1.33 kube-apiserver
advertises; selectable fields follow the per-kind field label conversion functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kr8s_trio.testing._resources import (
    STANDARD_VERBS,
    ResourceType,
    ScaleSpec,
    SubresourceInfo,
)

__all__ = ["builtin_resources"]

_NO_COLLECTION = tuple(v for v in STANDARD_VERBS if v != "deletecollection")
_CREATE_ONLY = ("create",)


def _dig(obj: dict[str, Any], path: str) -> object:
    cur: object = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _text(path: str) -> Callable[[dict[str, Any]], str]:
    def get(obj: dict[str, Any]) -> str:
        value = _dig(obj, path)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return get


def _flag(path: str) -> Callable[[dict[str, Any]], str]:
    """A boolean field selected as ``true``/``false`` (absent means false)."""

    def get(obj: dict[str, Any]) -> str:
        return "true" if _dig(obj, path) is True else "false"

    return get


def _number(path: str) -> Callable[[dict[str, Any]], str]:
    def get(obj: dict[str, Any]) -> str:
        value = _dig(obj, path)
        return str(value) if isinstance(value, int) else "0"

    return get


def _pod_ips(obj: dict[str, Any]) -> str:
    ips = _dig(obj, "status.podIPs")
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
    "spec.nodeName": _text("spec.nodeName"),
    "spec.host": _text("spec.nodeName"),
    "spec.restartPolicy": _text("spec.restartPolicy"),
    "spec.schedulerName": _text("spec.schedulerName"),
    "spec.serviceAccountName": _text("spec.serviceAccountName"),
    "spec.hostNetwork": _flag("spec.hostNetwork"),
    "status.phase": _text("status.phase"),
    "status.podIP": _text("status.podIP"),
    "status.podIPs": _pod_ips,
    "status.nominatedNodeName": _text("status.nominatedNodeName"),
}

_EVENT_FIELDS = {
    **{
        f"involvedObject.{f}": _text(f"involvedObject.{f}")
        for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    },
    "reason": _text("reason"),
    "reportingComponent": _text("reportingComponent"),
    "source": _text("source.component"),
    "type": _text("type"),
}

_EVENTS_V1_FIELDS = {
    **{f"regarding.{f}": _text(f"regarding.{f}") for f in ("kind", "namespace", "name", "uid")},
    "reason": _text("reason"),
    "reportingController": _text("reportingController"),
    "type": _text("type"),
}


def builtin_resources() -> list[ResourceType]:
    """A fresh list of the built-in resource types."""
    all_ = ("all",)
    core = ""
    r = ResourceType
    pod_subresources = (
        _sub("attach", "PodAttachOptions", ("create", "get")),
        _sub("binding", "Binding", ("create",)),
        _sub("ephemeralcontainers", "Pod", ("get", "patch", "update")),
        _sub("eviction", "Eviction", ("create",), "policy", "v1"),
        _sub("exec", "PodExecOptions", ("create", "get")),
        _sub("log", "Pod", ("get",)),
        _sub("portforward", "PodPortForwardOptions", ("create", "get")),
        _sub("proxy", "PodProxyOptions", ("create", "delete", "get", "patch", "update")),
        _sub("resize", "Pod", ("get", "patch", "update")),
        _status("Pod"),
    )
    return [
        # core/v1
        r(
            group=core,
            version="v1",
            kind="Namespace",
            plural="namespaces",
            singular="namespace",
            namespaced=False,
            verbs=_NO_COLLECTION,
            short_names=("ns",),
            subresources=(_sub("finalize", "Namespace", ("update",)), _status("Namespace")),
            field_getters={"status.phase": _text("status.phase")},
            status_subresource=True,
        ),
        r(
            group=core,
            version="v1",
            kind="Pod",
            plural="pods",
            singular="pod",
            namespaced=True,
            short_names=("po",),
            categories=all_,
            subresources=pod_subresources,
            field_getters=_POD_FIELDS,
            status_subresource=True,
            generation=True,
            return_deleted_object=True,
        ),
        r(
            group=core,
            version="v1",
            kind="Service",
            plural="services",
            singular="service",
            namespaced=True,
            short_names=("svc",),
            categories=all_,
            subresources=(
                _sub(
                    "proxy", "ServiceProxyOptions", ("create", "delete", "get", "patch", "update")
                ),
                _status("Service"),
            ),
            field_getters={
                "spec.clusterIP": _text("spec.clusterIP"),
                "spec.type": _text("spec.type"),
            },
            status_subresource=True,
            return_deleted_object=True,
        ),
        r(
            group=core,
            version="v1",
            kind="Endpoints",
            plural="endpoints",
            singular="endpoints",
            namespaced=True,
            short_names=("ep",),
        ),
        r(
            group=core,
            version="v1",
            kind="ConfigMap",
            plural="configmaps",
            singular="configmap",
            namespaced=True,
            short_names=("cm",),
        ),
        r(
            group=core,
            version="v1",
            kind="Secret",
            plural="secrets",
            singular="secret",
            namespaced=True,
            field_getters={"type": _text("type")},
        ),
        r(
            group=core,
            version="v1",
            kind="ServiceAccount",
            plural="serviceaccounts",
            singular="serviceaccount",
            namespaced=True,
            short_names=("sa",),
            subresources=(
                _sub("token", "TokenRequest", ("create",), "authentication.k8s.io", "v1"),
            ),
            return_deleted_object=True,
        ),
        r(
            group=core,
            version="v1",
            kind="Event",
            plural="events",
            singular="event",
            namespaced=True,
            short_names=("ev",),
            field_getters=_EVENT_FIELDS,
        ),
        r(
            group=core,
            version="v1",
            kind="Node",
            plural="nodes",
            singular="node",
            namespaced=False,
            short_names=("no",),
            subresources=(
                _sub("proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
                _status("Node"),
            ),
            field_getters={"spec.unschedulable": _flag("spec.unschedulable")},
            status_subresource=True,
        ),
        r(
            group=core,
            version="v1",
            kind="PersistentVolume",
            plural="persistentvolumes",
            singular="persistentvolume",
            namespaced=False,
            short_names=("pv",),
            subresources=(_status("PersistentVolume"),),
            status_subresource=True,
            return_deleted_object=True,
        ),
        r(
            group=core,
            version="v1",
            kind="PersistentVolumeClaim",
            plural="persistentvolumeclaims",
            singular="persistentvolumeclaim",
            namespaced=True,
            short_names=("pvc",),
            subresources=(_status("PersistentVolumeClaim"),),
            status_subresource=True,
            return_deleted_object=True,
        ),
        r(
            group=core,
            version="v1",
            kind="LimitRange",
            plural="limitranges",
            singular="limitrange",
            namespaced=True,
            short_names=("limits",),
        ),
        r(
            group=core,
            version="v1",
            kind="ResourceQuota",
            plural="resourcequotas",
            singular="resourcequota",
            namespaced=True,
            short_names=("quota",),
            subresources=(_status("ResourceQuota"),),
            status_subresource=True,
        ),
        r(
            group=core,
            version="v1",
            kind="PodTemplate",
            plural="podtemplates",
            singular="podtemplate",
            namespaced=True,
        ),
        r(
            group=core,
            version="v1",
            kind="ReplicationController",
            plural="replicationcontrollers",
            singular="replicationcontroller",
            namespaced=True,
            short_names=("rc",),
            categories=all_,
            subresources=(_scale(), _status("ReplicationController")),
            field_getters={"status.replicas": _number("status.replicas")},
            status_subresource=True,
            generation=True,
            scale=ScaleSpec(label_selector=None),
        ),
        # apps/v1
        r(
            group="apps",
            version="v1",
            kind="Deployment",
            plural="deployments",
            singular="deployment",
            namespaced=True,
            short_names=("deploy",),
            categories=all_,
            subresources=(_scale(), _status("Deployment")),
            status_subresource=True,
            generation=True,
            scale=ScaleSpec(),
        ),
        r(
            group="apps",
            version="v1",
            kind="ReplicaSet",
            plural="replicasets",
            singular="replicaset",
            namespaced=True,
            short_names=("rs",),
            categories=all_,
            subresources=(_scale(), _status("ReplicaSet")),
            field_getters={"status.replicas": _number("status.replicas")},
            status_subresource=True,
            generation=True,
            scale=ScaleSpec(),
        ),
        r(
            group="apps",
            version="v1",
            kind="StatefulSet",
            plural="statefulsets",
            singular="statefulset",
            namespaced=True,
            short_names=("sts",),
            categories=all_,
            subresources=(_scale(), _status("StatefulSet")),
            status_subresource=True,
            generation=True,
            scale=ScaleSpec(),
        ),
        r(
            group="apps",
            version="v1",
            kind="DaemonSet",
            plural="daemonsets",
            singular="daemonset",
            namespaced=True,
            short_names=("ds",),
            categories=all_,
            subresources=(_status("DaemonSet"),),
            status_subresource=True,
            generation=True,
        ),
        r(
            group="apps",
            version="v1",
            kind="ControllerRevision",
            plural="controllerrevisions",
            singular="controllerrevision",
            namespaced=True,
        ),
        # batch/v1
        r(
            group="batch",
            version="v1",
            kind="Job",
            plural="jobs",
            singular="job",
            namespaced=True,
            categories=all_,
            subresources=(_status("Job"),),
            field_getters={"status.successful": _number("status.succeeded")},
            status_subresource=True,
            generation=True,
        ),
        r(
            group="batch",
            version="v1",
            kind="CronJob",
            plural="cronjobs",
            singular="cronjob",
            namespaced=True,
            short_names=("cj",),
            categories=all_,
            subresources=(_status("CronJob"),),
            status_subresource=True,
            generation=True,
        ),
        # autoscaling
        r(
            group="autoscaling",
            version="v2",
            kind="HorizontalPodAutoscaler",
            plural="horizontalpodautoscalers",
            singular="horizontalpodautoscaler",
            namespaced=True,
            short_names=("hpa",),
            categories=all_,
            subresources=(_status("HorizontalPodAutoscaler"),),
            status_subresource=True,
            generation=True,
        ),
        r(
            group="autoscaling",
            version="v1",
            kind="HorizontalPodAutoscaler",
            plural="horizontalpodautoscalers",
            singular="horizontalpodautoscaler",
            namespaced=True,
            short_names=("hpa",),
            categories=all_,
            subresources=(_status("HorizontalPodAutoscaler"),),
            status_subresource=True,
            generation=True,
            storage_version="v2",
        ),
        # networking.k8s.io/v1
        r(
            group="networking.k8s.io",
            version="v1",
            kind="Ingress",
            plural="ingresses",
            singular="ingress",
            namespaced=True,
            short_names=("ing",),
            subresources=(_status("Ingress"),),
            status_subresource=True,
            generation=True,
        ),
        r(
            group="networking.k8s.io",
            version="v1",
            kind="IngressClass",
            plural="ingressclasses",
            singular="ingressclass",
            namespaced=False,
        ),
        r(
            group="networking.k8s.io",
            version="v1",
            kind="NetworkPolicy",
            plural="networkpolicies",
            singular="networkpolicy",
            namespaced=True,
            short_names=("netpol",),
            generation=True,
        ),
        # policy/v1
        r(
            group="policy",
            version="v1",
            kind="PodDisruptionBudget",
            plural="poddisruptionbudgets",
            singular="poddisruptionbudget",
            namespaced=True,
            short_names=("pdb",),
            subresources=(_status("PodDisruptionBudget"),),
            status_subresource=True,
            generation=True,
        ),
        # rbac.authorization.k8s.io/v1
        r(
            group="rbac.authorization.k8s.io",
            version="v1",
            kind="Role",
            plural="roles",
            singular="role",
            namespaced=True,
        ),
        r(
            group="rbac.authorization.k8s.io",
            version="v1",
            kind="RoleBinding",
            plural="rolebindings",
            singular="rolebinding",
            namespaced=True,
        ),
        r(
            group="rbac.authorization.k8s.io",
            version="v1",
            kind="ClusterRole",
            plural="clusterroles",
            singular="clusterrole",
            namespaced=False,
        ),
        r(
            group="rbac.authorization.k8s.io",
            version="v1",
            kind="ClusterRoleBinding",
            plural="clusterrolebindings",
            singular="clusterrolebinding",
            namespaced=False,
        ),
        # coordination, storage, scheduling, events, certificates, admissionregistration
        r(
            group="coordination.k8s.io",
            version="v1",
            kind="Lease",
            plural="leases",
            singular="lease",
            namespaced=True,
        ),
        r(
            group="storage.k8s.io",
            version="v1",
            kind="StorageClass",
            plural="storageclasses",
            singular="storageclass",
            namespaced=False,
            short_names=("sc",),
            return_deleted_object=True,
        ),
        r(
            group="scheduling.k8s.io",
            version="v1",
            kind="PriorityClass",
            plural="priorityclasses",
            singular="priorityclass",
            namespaced=False,
            short_names=("pc",),
        ),
        r(
            group="events.k8s.io",
            version="v1",
            kind="Event",
            plural="events",
            singular="event",
            namespaced=True,
            short_names=("ev",),
            field_getters=_EVENTS_V1_FIELDS,
        ),
        r(
            group="discovery.k8s.io",
            version="v1",
            kind="EndpointSlice",
            plural="endpointslices",
            singular="endpointslice",
            namespaced=True,
        ),
        r(
            group="certificates.k8s.io",
            version="v1",
            kind="CertificateSigningRequest",
            plural="certificatesigningrequests",
            singular="certificatesigningrequest",
            namespaced=False,
            short_names=("csr",),
            subresources=(
                _sub("approval", "CertificateSigningRequest", ("get", "patch", "update")),
                _status("CertificateSigningRequest"),
            ),
            field_getters={"spec.signerName": _text("spec.signerName")},
            status_subresource=True,
        ),
        r(
            group="admissionregistration.k8s.io",
            version="v1",
            kind="MutatingWebhookConfiguration",
            plural="mutatingwebhookconfigurations",
            singular="mutatingwebhookconfiguration",
            namespaced=False,
            categories=("api-extensions",),
            generation=True,
        ),
        r(
            group="admissionregistration.k8s.io",
            version="v1",
            kind="ValidatingWebhookConfiguration",
            plural="validatingwebhookconfigurations",
            singular="validatingwebhookconfiguration",
            namespaced=False,
            categories=("api-extensions",),
            generation=True,
        ),
        r(
            group="apiextensions.k8s.io",
            version="v1",
            kind="CustomResourceDefinition",
            plural="customresourcedefinitions",
            singular="customresourcedefinition",
            namespaced=False,
            short_names=("crd", "crds"),
            categories=("api-extensions",),
            subresources=(_status("CustomResourceDefinition"),),
            status_subresource=True,
            generation=True,
        ),
        # virtual resources: reviews, answered from the authenticator and the rule table
        r(
            group="authentication.k8s.io",
            version="v1",
            kind="TokenReview",
            plural="tokenreviews",
            singular="tokenreview",
            namespaced=False,
            verbs=_CREATE_ONLY,
            virtual=True,
        ),
        r(
            group="authentication.k8s.io",
            version="v1",
            kind="SelfSubjectReview",
            plural="selfsubjectreviews",
            singular="selfsubjectreview",
            namespaced=False,
            verbs=_CREATE_ONLY,
            virtual=True,
        ),
        r(
            group="authorization.k8s.io",
            version="v1",
            kind="SelfSubjectAccessReview",
            plural="selfsubjectaccessreviews",
            singular="selfsubjectaccessreview",
            namespaced=False,
            verbs=_CREATE_ONLY,
            virtual=True,
        ),
        r(
            group="authorization.k8s.io",
            version="v1",
            kind="SubjectAccessReview",
            plural="subjectaccessreviews",
            singular="subjectaccessreview",
            namespaced=False,
            verbs=_CREATE_ONLY,
            virtual=True,
        ),
        r(
            group="authorization.k8s.io",
            version="v1",
            kind="SelfSubjectRulesReview",
            plural="selfsubjectrulesreviews",
            singular="selfsubjectrulesreview",
            namespaced=False,
            verbs=_CREATE_ONLY,
            virtual=True,
        ),
    ]
