"""Resource objects: `APIObject`, every built-in kind kr8s has, and the class factories.

```python
from kr8s_trio.objects import Pod, Deployment, new_class

pod = await Pod.get("web-0")              # the cached default client
await pod.wait("condition=Ready")
deploy = await Deployment.get("web", namespace="prod")
await deploy.scale(3)
Widget = new_class("Widget.example.com/v1")   # plural and scope from discovery
```

An object wraps the dict the server sent (``raw``) without copying it; ``pod.metadata.name``
reads through lazy views. Objects are hashable and equal when they name the same resource.
`ObjectData` is the data-only base (no verbs) that these classes and the sync facade's
(`kr8s_trio.sync.objects`) share.
"""

from kr8s_trio._objects._apps import (
    ControllerRevision as ControllerRevision,
    DaemonSet as DaemonSet,
    Deployment as Deployment,
    ReplicaSet as ReplicaSet,
    StatefulSet as StatefulSet,
)
from kr8s_trio._objects._base import APIObject as APIObject
from kr8s_trio._objects._classes import get_class as get_class, new_class as new_class
from kr8s_trio._objects._core_v1 import (
    Binding as Binding,
    ComponentStatus as ComponentStatus,
    ConfigMap as ConfigMap,
    Endpoints as Endpoints,
    Event as Event,
    LimitRange as LimitRange,
    Namespace as Namespace,
    Node as Node,
    PersistentVolume as PersistentVolume,
    PersistentVolumeClaim as PersistentVolumeClaim,
    Pod as Pod,
    PodTemplate as PodTemplate,
    ReplicationController as ReplicationController,
    ResourceQuota as ResourceQuota,
    Secret as Secret,
    Service as Service,
    ServiceAccount as ServiceAccount,
)
from kr8s_trio._objects._data import ObjectData as ObjectData
from kr8s_trio._objects._factories import (
    object_from_name_type as object_from_name_type,
    object_from_spec as object_from_spec,
    objects_from_files as objects_from_files,
)
from kr8s_trio._objects._groups import (
    CertificateSigningRequest as CertificateSigningRequest,
    ClusterRole as ClusterRole,
    ClusterRoleBinding as ClusterRoleBinding,
    CronJob as CronJob,
    CustomResourceDefinition as CustomResourceDefinition,
    EndpointSlice as EndpointSlice,
    HorizontalPodAutoscaler as HorizontalPodAutoscaler,
    Ingress as Ingress,
    IngressClass as IngressClass,
    IPAddress as IPAddress,
    Job as Job,
    Lease as Lease,
    MutatingWebhookConfiguration as MutatingWebhookConfiguration,
    NetworkPolicy as NetworkPolicy,
    PodDisruptionBudget as PodDisruptionBudget,
    PriorityClass as PriorityClass,
    Role as Role,
    RoleBinding as RoleBinding,
    ServiceCIDR as ServiceCIDR,
    StorageClass as StorageClass,
    Table as Table,
    ValidatingWebhookConfiguration as ValidatingWebhookConfiguration,
)

__all__ = [
    "APIObject",
    "Binding",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "ConfigMap",
    "ControllerRevision",
    "CronJob",
    "CustomResourceDefinition",
    "DaemonSet",
    "Deployment",
    "EndpointSlice",
    "Endpoints",
    "Event",
    "HorizontalPodAutoscaler",
    "IPAddress",
    "Ingress",
    "IngressClass",
    "Job",
    "Lease",
    "LimitRange",
    "MutatingWebhookConfiguration",
    "Namespace",
    "NetworkPolicy",
    "Node",
    "ObjectData",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "PodDisruptionBudget",
    "PodTemplate",
    "PriorityClass",
    "ReplicaSet",
    "ReplicationController",
    "ResourceQuota",
    "Role",
    "RoleBinding",
    "Secret",
    "Service",
    "ServiceAccount",
    "ServiceCIDR",
    "StatefulSet",
    "StorageClass",
    "Table",
    "ValidatingWebhookConfiguration",
    "get_class",
    "new_class",
    "object_from_name_type",
    "object_from_spec",
    "objects_from_files",
]
