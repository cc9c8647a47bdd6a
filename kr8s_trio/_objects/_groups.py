"""The built-in kinds of the other API groups (batch, networking, policy, RBAC, storage,
coordination, discovery, scheduling, admission, certificates, apiextensions, autoscaling), and
`Table`, the server-side printing that ``as_object=Table`` asks for."""

from __future__ import annotations

from typing import ClassVar

from kr8s_trio._core._views import ListView
from kr8s_trio._objects._base import APIObject
from kr8s_trio._objects._podlogs import WorkloadLogs

__all__ = [
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "CronJob",
    "CustomResourceDefinition",
    "EndpointSlice",
    "HorizontalPodAutoscaler",
    "IPAddress",
    "Ingress",
    "IngressClass",
    "Job",
    "Lease",
    "MutatingWebhookConfiguration",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "PriorityClass",
    "Role",
    "RoleBinding",
    "ServiceCIDR",
    "StorageClass",
    "Table",
    "ValidatingWebhookConfiguration",
]


class _Builtin(APIObject):
    __slots__ = ()
    builtin: ClassVar[bool] = True


class HorizontalPodAutoscaler(_Builtin):
    version = "autoscaling/v2"
    kind = "HorizontalPodAutoscaler"
    plural = "horizontalpodautoscalers"
    short_names = ("hpa",)
    namespaced = True


class CronJob(_Builtin):
    version = "batch/v1"
    kind = "CronJob"
    plural = "cronjobs"
    short_names = ("cj",)
    namespaced = True


class Job(WorkloadLogs, _Builtin):
    """A Job; `scale` sets its ``parallelism`` (Jobs have no scale subresource)."""

    version = "batch/v1"
    kind = "Job"
    plural = "jobs"
    namespaced = True
    scalable = True
    scalable_spec = "parallelism"


class Ingress(_Builtin):
    version = "networking.k8s.io/v1"
    kind = "Ingress"
    plural = "ingresses"
    short_names = ("ing",)
    namespaced = True


class IngressClass(_Builtin):
    version = "networking.k8s.io/v1"
    kind = "IngressClass"
    plural = "ingressclasses"


class NetworkPolicy(_Builtin):
    version = "networking.k8s.io/v1"
    kind = "NetworkPolicy"
    plural = "networkpolicies"
    short_names = ("netpol",)
    namespaced = True


class IPAddress(_Builtin):
    version = "networking.k8s.io/v1"
    kind = "IPAddress"
    plural = "ipaddresses"
    short_names = ("ip",)


class ServiceCIDR(_Builtin):
    version = "networking.k8s.io/v1"
    kind = "ServiceCIDR"
    plural = "servicecidrs"


class PodDisruptionBudget(_Builtin):
    version = "policy/v1"
    kind = "PodDisruptionBudget"
    plural = "poddisruptionbudgets"
    short_names = ("pdb",)
    namespaced = True


class ClusterRole(_Builtin):
    version = "rbac.authorization.k8s.io/v1"
    kind = "ClusterRole"
    plural = "clusterroles"


class ClusterRoleBinding(_Builtin):
    version = "rbac.authorization.k8s.io/v1"
    kind = "ClusterRoleBinding"
    plural = "clusterrolebindings"


class Role(_Builtin):
    version = "rbac.authorization.k8s.io/v1"
    kind = "Role"
    plural = "roles"
    namespaced = True


class RoleBinding(_Builtin):
    version = "rbac.authorization.k8s.io/v1"
    kind = "RoleBinding"
    plural = "rolebindings"
    namespaced = True


class CustomResourceDefinition(_Builtin):
    version = "apiextensions.k8s.io/v1"
    kind = "CustomResourceDefinition"
    plural = "customresourcedefinitions"
    short_names = ("crd", "crds")


class StorageClass(_Builtin):
    version = "storage.k8s.io/v1"
    kind = "StorageClass"
    plural = "storageclasses"
    short_names = ("sc",)


class Lease(_Builtin):
    version = "coordination.k8s.io/v1"
    kind = "Lease"
    plural = "leases"
    namespaced = True


class EndpointSlice(_Builtin):
    version = "discovery.k8s.io/v1"
    kind = "EndpointSlice"
    plural = "endpointslices"
    namespaced = True


class PriorityClass(_Builtin):
    version = "scheduling.k8s.io/v1"
    kind = "PriorityClass"
    plural = "priorityclasses"
    short_names = ("pc",)


class MutatingWebhookConfiguration(_Builtin):
    version = "admissionregistration.k8s.io/v1"
    kind = "MutatingWebhookConfiguration"
    plural = "mutatingwebhookconfigurations"


class ValidatingWebhookConfiguration(_Builtin):
    version = "admissionregistration.k8s.io/v1"
    kind = "ValidatingWebhookConfiguration"
    plural = "validatingwebhookconfigurations"


class CertificateSigningRequest(_Builtin):
    version = "certificates.k8s.io/v1"
    kind = "CertificateSigningRequest"
    plural = "certificatesigningrequests"
    short_names = ("csr",)


class Table(_Builtin):
    """The server's printed form of a list (``kubectl get``'s columns), from
    ``get(kind, as_object=Table)``: `column_definitions` and `rows`."""

    version = "meta.k8s.io/v1"
    kind = "Table"
    plural = "tables"

    @property
    def column_definitions(self) -> ListView:
        """The columns: ``name``, ``type``, ``format``, ``description``, ``priority``."""
        return ListView(self._raw.get("columnDefinitions") or [])

    @property
    def rows(self) -> ListView:
        """The rows: ``cells`` (one per column) and ``object`` (a PartialObjectMetadata unless
        ``includeObject=Object`` was asked for)."""
        return ListView(self._raw.get("rows") or [])
