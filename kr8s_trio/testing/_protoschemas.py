"""Protobuf message schemas for the kinds kubectl's typed commands send, as small tables.

client-go's typed clients encode request bodies as protobuf (``kubectl create namespace|configmap|
secret|deployment|serviceaccount|token|role...``, ``auth whoami``, ``auth can-i``, evictions), and
a protobuf message carries field *numbers*, not names. These tables map each number to the JSON
field name and a value type, so `_protobuf` can rebuild the JSON object the JSON path would have
received. The numbers are the ones of the ``generated.proto`` files of ``k8s.io/api`` and
``k8s.io/apimachinery``; fields a table leaves out are skipped when decoding.

One message per entry: ``"<number> <jsonName> <type>[flags]; ..."``. Types: ``str``, ``i32``,
``i64``, ``bool``, ``bytes`` (base64, as JSON carries it), ``time`` (metav1.Time), ``intstr``
(IntOrString), ``quantity``, ``fieldsv1``, ``extra`` (ExtraValue: a list of strings),
``map<type>`` (string keys), or another message's name. Flags: ``*`` repeated, ``!`` keep zero
values (pointer fields, and fields whose JSON tag has no omitempty: protobuf always carries the
zero value of a non-pointer field, JSON omits it), ``^`` inlined (the JSON of an embedded struct
is merged into its parent).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["KINDS", "MESSAGES", "SCALARS", "Field", "Message", "message_for"]

#: value types that decode from a varint or bytes without a schema of their own
SCALARS = frozenset({"str", "i32", "i64", "bool", "bytes"})
#: well-known messages with a JSON form of their own (decoded by `_protobuf`)
SPECIAL = frozenset({"time", "intstr", "quantity", "fieldsv1", "extra"})


@attrs.frozen
class Field:
    number: int
    name: str
    type: str
    repeated: bool = False
    keep_zero: bool = False
    inline: bool = False
    map_value: str | None = None  # for map fields: the value type


@attrs.frozen
class Message:
    name: str
    fields: Mapping[int, Field]


_TABLES: dict[str, str] = {
    # -- k8s.io/apimachinery/pkg/apis/meta/v1 ----------------------------------------------------
    "ObjectMeta": "1 name str; 2 generateName str; 3 namespace str; 5 uid str;"
    " 6 resourceVersion str; 7 generation i64; 8 creationTimestamp time;"
    " 9 deletionTimestamp time; 10 deletionGracePeriodSeconds i64!; 11 labels map<str>;"
    " 12 annotations map<str>; 13 ownerReferences OwnerReference*; 14 finalizers str*;"
    " 17 managedFields ManagedFieldsEntry*",
    "OwnerReference": "5 apiVersion str!; 1 kind str!; 3 name str!; 4 uid str!;"
    " 6 controller bool!; 7 blockOwnerDeletion bool!",
    "ManagedFieldsEntry": "1 manager str; 2 operation str; 3 apiVersion str; 4 time time;"
    " 6 fieldsType str; 7 fieldsV1 fieldsv1; 8 subresource str",
    "LabelSelector": "1 matchLabels map<str>; 2 matchExpressions LabelSelectorRequirement*",
    "LabelSelectorRequirement": "1 key str!; 2 operator str!; 3 values str*",
    "DeleteOptions": "1 gracePeriodSeconds i64!; 2 preconditions Preconditions;"
    " 3 orphanDependents bool!; 4 propagationPolicy str!; 5 dryRun str*",
    "Preconditions": "1 uid str!; 2 resourceVersion str!",
    # -- core/v1: the objects --------------------------------------------------------------------
    "Namespace": "1 metadata ObjectMeta; 2 spec NamespaceSpec; 3 status NamespaceStatus",
    "NamespaceSpec": "1 finalizers str*",
    "NamespaceStatus": "1 phase str",
    "ConfigMap": "1 metadata ObjectMeta; 2 data map<str>; 3 binaryData map<bytes>;"
    " 4 immutable bool!",
    "Secret": "1 metadata ObjectMeta; 2 data map<bytes>; 3 type str; 4 stringData map<str>;"
    " 5 immutable bool!",
    "ServiceAccount": "1 metadata ObjectMeta; 2 secrets ObjectReference*;"
    " 3 imagePullSecrets LocalObjectReference*; 4 automountServiceAccountToken bool!",
    "ObjectReference": "1 kind str; 2 namespace str; 3 name str; 4 uid str; 5 apiVersion str;"
    " 6 resourceVersion str; 7 fieldPath str",
    "LocalObjectReference": "1 name str",
    "Service": "1 metadata ObjectMeta; 2 spec ServiceSpec; 3 status ServiceStatus",
    "ServiceSpec": "1 ports ServicePort*; 2 selector map<str>; 3 clusterIP str; 4 type str;"
    " 5 externalIPs str*; 7 sessionAffinity str; 8 loadBalancerIP str;"
    " 9 loadBalancerSourceRanges str*; 10 externalName str; 11 externalTrafficPolicy str;"
    " 12 healthCheckNodePort i32; 13 publishNotReadyAddresses bool; 17 ipFamilyPolicy str!;"
    " 18 clusterIPs str*; 19 ipFamilies str*; 20 allocateLoadBalancerNodePorts bool!;"
    " 21 loadBalancerClass str!; 22 internalTrafficPolicy str!",
    "ServicePort": "1 name str; 2 protocol str; 3 port i32!; 4 targetPort intstr;"
    " 5 nodePort i32; 6 appProtocol str!",
    "ServiceStatus": "",
    # a status the fake does not decode (create and update ignore it): ``{}`` as in JSON
    "StatusNotModelled": "",
    "Pod": "1 metadata ObjectMeta; 2 spec PodSpec; 3 status StatusNotModelled",
    "PodTemplateSpec": "1 metadata ObjectMeta; 2 spec PodSpec",
    "ResourceQuota": "1 metadata ObjectMeta; 2 spec ResourceQuotaSpec; 3 status StatusNotModelled",
    "ResourceQuotaSpec": "1 hard map<quantity>; 2 scopes str*",
    # -- core/v1: pod specs ----------------------------------------------------------------------
    "PodSpec": "1 volumes Volume*; 2 containers Container*; 3 restartPolicy str;"
    " 4 terminationGracePeriodSeconds i64!; 5 activeDeadlineSeconds i64!; 6 dnsPolicy str;"
    " 7 nodeSelector map<str>; 8 serviceAccountName str; 9 serviceAccount str;"
    " 10 nodeName str; 11 hostNetwork bool; 12 hostPID bool; 13 hostIPC bool;"
    " 14 securityContext PodSecurityContext; 15 imagePullSecrets LocalObjectReference*;"
    " 16 hostname str; 17 subdomain str; 19 schedulerName str; 20 initContainers Container*;"
    " 21 automountServiceAccountToken bool!; 22 tolerations Toleration*;"
    " 24 priorityClassName str; 25 priority i32!; 27 shareProcessNamespace bool!;"
    " 29 runtimeClassName str!; 30 enableServiceLinks bool!; 31 preemptionPolicy str!;"
    " 35 setHostnameAsFQDN bool!",
    "Container": "1 name str!; 2 image str; 3 command str*; 4 args str*; 5 workingDir str;"
    " 6 ports ContainerPort*; 7 env EnvVar*; 8 resources ResourceRequirements;"
    " 9 volumeMounts VolumeMount*; 10 livenessProbe Probe; 11 readinessProbe Probe;"
    " 12 lifecycle Lifecycle; 13 terminationMessagePath str; 14 imagePullPolicy str;"
    " 15 securityContext SecurityContext; 16 stdin bool; 17 stdinOnce bool; 18 tty bool;"
    " 19 envFrom EnvFromSource*; 20 terminationMessagePolicy str; 22 startupProbe Probe",
    "ContainerPort": "1 name str; 2 hostPort i32; 3 containerPort i32!; 4 protocol str;"
    " 5 hostIP str",
    "EnvVar": "1 name str!; 2 value str; 3 valueFrom EnvVarSource",
    "EnvVarSource": "1 fieldRef ObjectFieldSelector; 2 resourceFieldRef ResourceFieldSelector;"
    " 3 configMapKeyRef ConfigMapKeySelector; 4 secretKeyRef SecretKeySelector",
    "ObjectFieldSelector": "1 apiVersion str; 2 fieldPath str!",
    "ResourceFieldSelector": "1 containerName str; 2 resource str!; 3 divisor quantity",
    "ConfigMapKeySelector": "1 localObjectReference LocalObjectReference^; 2 key str!;"
    " 3 optional bool!",
    "SecretKeySelector": "1 localObjectReference LocalObjectReference^; 2 key str!;"
    " 3 optional bool!",
    "EnvFromSource": "1 prefix str; 2 configMapRef ConfigMapEnvSource; 3 secretRef SecretEnvSource",
    "ConfigMapEnvSource": "1 localObjectReference LocalObjectReference^; 2 optional bool!",
    "SecretEnvSource": "1 localObjectReference LocalObjectReference^; 2 optional bool!",
    "ResourceRequirements": "1 limits map<quantity>; 2 requests map<quantity>",
    "VolumeMount": "1 name str!; 2 readOnly bool; 3 mountPath str!; 4 subPath str;"
    " 5 mountPropagation str!; 6 subPathExpr str",
    "Volume": "1 name str!; 2 volumeSource VolumeSource^",
    "VolumeSource": "1 hostPath HostPathVolumeSource; 2 emptyDir EmptyDirVolumeSource;"
    " 6 secret SecretVolumeSource; 10 persistentVolumeClaim PersistentVolumeClaimVolumeSource;"
    " 19 configMap ConfigMapVolumeSource",
    "HostPathVolumeSource": "1 path str!; 2 type str!",
    "EmptyDirVolumeSource": "1 medium str; 2 sizeLimit quantity",
    "SecretVolumeSource": "1 secretName str; 2 items KeyToPath*; 3 defaultMode i32!;"
    " 4 optional bool!",
    "ConfigMapVolumeSource": "1 localObjectReference LocalObjectReference^; 2 items KeyToPath*;"
    " 3 defaultMode i32!; 4 optional bool!",
    "KeyToPath": "1 key str!; 2 path str!; 3 mode i32!",
    "PersistentVolumeClaimVolumeSource": "1 claimName str!; 2 readOnly bool",
    "Probe": "1 handler ProbeHandler^; 2 initialDelaySeconds i32; 3 timeoutSeconds i32;"
    " 4 periodSeconds i32; 5 successThreshold i32; 6 failureThreshold i32;"
    " 7 terminationGracePeriodSeconds i64!",
    "ProbeHandler": "1 exec ExecAction; 2 httpGet HTTPGetAction; 3 tcpSocket TCPSocketAction",
    "Lifecycle": "1 postStart ProbeHandler; 2 preStop ProbeHandler",
    "ExecAction": "1 command str*",
    "HTTPGetAction": "1 path str; 2 port intstr; 3 host str; 4 scheme str;"
    " 5 httpHeaders HTTPHeader*",
    "HTTPHeader": "1 name str!; 2 value str!",
    "TCPSocketAction": "1 port intstr; 2 host str",
    "SecurityContext": "1 capabilities Capabilities; 2 privileged bool!; 4 runAsUser i64!;"
    " 5 runAsNonRoot bool!; 6 readOnlyRootFilesystem bool!; 7 allowPrivilegeEscalation bool!;"
    " 8 runAsGroup i64!",
    "Capabilities": "1 add str*; 2 drop str*",
    "PodSecurityContext": "2 runAsUser i64!; 3 runAsNonRoot bool!; 4 supplementalGroups i64*;"
    " 5 fsGroup i64!; 6 runAsGroup i64!",
    "Toleration": "1 key str; 2 operator str; 3 value str; 4 effect str; 5 tolerationSeconds i64!",
    # -- apps/v1 ---------------------------------------------------------------------------------
    "Deployment": "1 metadata ObjectMeta; 2 spec DeploymentSpec; 3 status DeploymentStatus",
    "DeploymentSpec": "1 replicas i32!; 2 selector LabelSelector; 3 template PodTemplateSpec;"
    " 4 strategy DeploymentStrategy; 5 minReadySeconds i32; 6 revisionHistoryLimit i32!;"
    " 7 paused bool; 9 progressDeadlineSeconds i32!",
    "DeploymentStrategy": "1 type str; 2 rollingUpdate RollingUpdateDeployment",
    "RollingUpdateDeployment": "1 maxUnavailable intstr; 2 maxSurge intstr",
    "DeploymentStatus": "1 observedGeneration i64; 2 replicas i32; 3 updatedReplicas i32;"
    " 4 availableReplicas i32; 5 unavailableReplicas i32; 7 readyReplicas i32;"
    " 8 collisionCount i32!",
    "ReplicaSet": "1 metadata ObjectMeta; 2 spec ReplicaSetSpec; 3 status StatusNotModelled",
    "ReplicaSetSpec": "1 replicas i32!; 2 selector LabelSelector; 3 template PodTemplateSpec;"
    " 4 minReadySeconds i32",
    "StatefulSet": "1 metadata ObjectMeta; 2 spec StatefulSetSpec; 3 status StatusNotModelled",
    "StatefulSetSpec": "1 replicas i32!; 2 selector LabelSelector; 3 template PodTemplateSpec;"
    " 5 serviceName str; 6 podManagementPolicy str; 7 updateStrategy StatefulSetUpdateStrategy;"
    " 8 revisionHistoryLimit i32!; 9 minReadySeconds i32",
    "StatefulSetUpdateStrategy": "1 type str; 2 rollingUpdate RollingUpdateStatefulSetStrategy",
    "RollingUpdateStatefulSetStrategy": "1 partition i32!; 2 maxUnavailable intstr",
    "DaemonSet": "1 metadata ObjectMeta; 2 spec DaemonSetSpec; 3 status StatusNotModelled",
    "DaemonSetSpec": "1 selector LabelSelector; 2 template PodTemplateSpec;"
    " 3 updateStrategy DaemonSetUpdateStrategy; 4 minReadySeconds i32;"
    " 6 revisionHistoryLimit i32!",
    "DaemonSetUpdateStrategy": "1 type str; 2 rollingUpdate RollingUpdateDaemonSet",
    "RollingUpdateDaemonSet": "1 maxUnavailable intstr; 2 maxSurge intstr",
    # -- batch/v1 --------------------------------------------------------------------------------
    "Job": "1 metadata ObjectMeta; 2 spec JobSpec; 3 status StatusNotModelled",
    "JobSpec": "1 parallelism i32!; 2 completions i32!; 3 activeDeadlineSeconds i64!;"
    " 4 selector LabelSelector; 5 manualSelector bool!; 6 template PodTemplateSpec;"
    " 7 backoffLimit i32!; 8 ttlSecondsAfterFinished i32!; 9 completionMode str!;"
    " 10 suspend bool!",
    "JobTemplateSpec": "1 metadata ObjectMeta; 2 spec JobSpec",
    "CronJob": "1 metadata ObjectMeta; 2 spec CronJobSpec; 3 status StatusNotModelled",
    "CronJobSpec": "1 schedule str!; 2 startingDeadlineSeconds i64!; 3 concurrencyPolicy str;"
    " 4 suspend bool!; 5 jobTemplate JobTemplateSpec; 6 successfulJobsHistoryLimit i32!;"
    " 7 failedJobsHistoryLimit i32!; 8 timeZone str!",
    # -- policy/v1, scheduling/v1, rbac/v1 -------------------------------------------------------
    "Eviction": "1 metadata ObjectMeta; 2 deleteOptions DeleteOptions",
    "PodDisruptionBudget": "1 metadata ObjectMeta; 2 spec PodDisruptionBudgetSpec;"
    " 3 status StatusNotModelled",
    "PodDisruptionBudgetSpec": "1 minAvailable intstr; 2 selector LabelSelector;"
    " 3 maxUnavailable intstr; 4 unhealthyPodEvictionPolicy str!",
    "PriorityClass": "1 metadata ObjectMeta; 2 value i32!; 3 globalDefault bool;"
    " 4 description str; 5 preemptionPolicy str!",
    "Role": "1 metadata ObjectMeta; 2 rules PolicyRule*",
    "ClusterRole": "1 metadata ObjectMeta; 2 rules PolicyRule*",
    "PolicyRule": "1 verbs str*; 2 apiGroups str*; 3 resources str*; 4 resourceNames str*;"
    " 5 nonResourceURLs str*",
    "RoleBinding": "1 metadata ObjectMeta; 2 subjects Subject*; 3 roleRef RoleRef",
    "Subject": "1 kind str!; 2 apiGroup str; 3 name str!; 4 namespace str",
    "RoleRef": "1 apiGroup str!; 2 kind str!; 3 name str!",
    # -- autoscaling/v1 and v2 (kubectl autoscale tries v2, then v1) -----------------------------
    "HorizontalPodAutoscalerV1": "1 metadata ObjectMeta; 2 spec HorizontalPodAutoscalerSpecV1;"
    " 3 status StatusNotModelled",
    "HorizontalPodAutoscalerSpecV1": "1 scaleTargetRef CrossVersionObjectReference;"
    " 2 minReplicas i32!; 3 maxReplicas i32!; 4 targetCPUUtilizationPercentage i32!",
    "HorizontalPodAutoscaler": "1 metadata ObjectMeta; 2 spec HorizontalPodAutoscalerSpec;"
    " 3 status StatusNotModelled",
    "HorizontalPodAutoscalerSpec": "1 scaleTargetRef CrossVersionObjectReference;"
    " 2 minReplicas i32!; 3 maxReplicas i32!; 4 metrics MetricSpec*",
    "CrossVersionObjectReference": "1 kind str!; 2 name str!; 3 apiVersion str",
    "MetricSpec": "1 type str!; 3 pods PodsMetricSource; 4 resource ResourceMetricSource",
    "PodsMetricSource": "1 metric MetricIdentifier; 2 target MetricTarget",
    "ResourceMetricSource": "1 name str!; 2 target MetricTarget",
    "MetricIdentifier": "1 name str!; 2 selector LabelSelector",
    "MetricTarget": "1 type str!; 2 value quantity; 3 averageValue quantity;"
    " 4 averageUtilization i32!",
    # -- networking.k8s.io/v1 --------------------------------------------------------------------
    "Ingress": "1 metadata ObjectMeta; 2 spec IngressSpec; 3 status IngressStatus",
    "IngressSpec": "1 defaultBackend IngressBackend; 2 tls IngressTLS*; 3 rules IngressRule*;"
    " 4 ingressClassName str!",
    "IngressStatus": "",
    "IngressBackend": "3 resource TypedLocalObjectReference; 4 service IngressServiceBackend",
    "TypedLocalObjectReference": "1 apiGroup str!; 2 kind str!; 3 name str!",
    "IngressServiceBackend": "1 name str!; 2 port ServiceBackendPort",
    "ServiceBackendPort": "1 name str; 2 number i32",
    "IngressTLS": "1 hosts str*; 2 secretName str",
    "IngressRule": "1 host str; 2 ingressRuleValue IngressRuleValue^",
    "IngressRuleValue": "1 http HTTPIngressRuleValue",
    "HTTPIngressRuleValue": "1 paths HTTPIngressPath*",
    "HTTPIngressPath": "1 path str; 2 backend IngressBackend; 3 pathType str!",
    # -- authentication.k8s.io/v1 ----------------------------------------------------------------
    "TokenRequest": "1 metadata ObjectMeta; 2 spec TokenRequestSpec",
    "TokenRequestSpec": "1 audiences str*; 3 boundObjectRef BoundObjectReference;"
    " 4 expirationSeconds i64!",
    "BoundObjectReference": "1 kind str; 2 apiVersion str; 3 name str; 4 uid str",
    "TokenReview": "1 metadata ObjectMeta; 2 spec TokenReviewSpec",
    "TokenReviewSpec": "1 token str; 2 audiences str*",
    "SelfSubjectReview": "1 metadata ObjectMeta",
    # -- authorization.k8s.io/v1 -----------------------------------------------------------------
    "SelfSubjectAccessReview": "1 metadata ObjectMeta; 2 spec SelfSubjectAccessReviewSpec",
    "SelfSubjectAccessReviewSpec": "1 resourceAttributes ResourceAttributes;"
    " 2 nonResourceAttributes NonResourceAttributes",
    "SubjectAccessReview": "1 metadata ObjectMeta; 2 spec SubjectAccessReviewSpec",
    "SubjectAccessReviewSpec": "1 resourceAttributes ResourceAttributes;"
    " 2 nonResourceAttributes NonResourceAttributes; 3 user str; 4 groups str*;"
    " 5 extra map<extra>; 6 uid str",
    "ResourceAttributes": "1 namespace str; 2 verb str; 3 group str; 4 version str;"
    " 5 resource str; 6 subresource str; 7 name str",
    "NonResourceAttributes": "1 path str; 2 verb str",
    "SelfSubjectRulesReview": "1 metadata ObjectMeta; 2 spec SelfSubjectRulesReviewSpec",
    "SelfSubjectRulesReviewSpec": "1 namespace str",
}

#: (apiVersion, kind) of a request body -> the message it is encoded as
KINDS: dict[tuple[str, str], str] = {
    ("v1", kind): kind
    for kind in (
        "Namespace",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Service",
        "Pod",
        "ResourceQuota",
    )
}
KINDS.update(
    {("apps/v1", kind): kind for kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")}
)
KINDS.update({("batch/v1", "Job"): "Job", ("batch/v1", "CronJob"): "CronJob"})
KINDS.update(
    {
        ("policy/v1", "Eviction"): "Eviction",
        ("policy/v1beta1", "Eviction"): "Eviction",
        ("policy/v1", "PodDisruptionBudget"): "PodDisruptionBudget",
        ("scheduling.k8s.io/v1", "PriorityClass"): "PriorityClass",
        ("networking.k8s.io/v1", "Ingress"): "Ingress",
        ("autoscaling/v1", "HorizontalPodAutoscaler"): "HorizontalPodAutoscalerV1",
        ("autoscaling/v2", "HorizontalPodAutoscaler"): "HorizontalPodAutoscaler",
        ("rbac.authorization.k8s.io/v1", "Role"): "Role",
        ("rbac.authorization.k8s.io/v1", "ClusterRole"): "ClusterRole",
        ("rbac.authorization.k8s.io/v1", "RoleBinding"): "RoleBinding",
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "RoleBinding",
        ("authentication.k8s.io/v1", "TokenRequest"): "TokenRequest",
        ("authentication.k8s.io/v1", "TokenReview"): "TokenReview",
        ("authentication.k8s.io/v1", "SelfSubjectReview"): "SelfSubjectReview",
        ("authentication.k8s.io/v1beta1", "SelfSubjectReview"): "SelfSubjectReview",
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): "SelfSubjectAccessReview",
        ("authorization.k8s.io/v1", "SubjectAccessReview"): "SubjectAccessReview",
        ("authorization.k8s.io/v1", "LocalSubjectAccessReview"): "SubjectAccessReview",
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): "SelfSubjectRulesReview",
    }
)


def _parse_field(text: str) -> Field:
    number, name, spec = text.split()
    flags = ""
    while spec[-1] in "*!^":
        flags += spec[-1]
        spec = spec[:-1]
    map_value = None
    if spec.startswith("map<"):
        map_value = spec[4:-1]
        spec = "map"
    return Field(
        number=int(number),
        name=name,
        type=spec,
        repeated="*" in flags,
        keep_zero="!" in flags,
        inline="^" in flags,
        map_value=map_value,
    )


def _compile(tables: Mapping[str, str]) -> dict[str, Message]:
    messages: dict[str, Message] = {}
    for name, table in tables.items():
        fields = [_parse_field(part) for part in table.split(";") if part.strip()]
        messages[name] = Message(name, {f.number: f for f in fields})
    known = SCALARS | SPECIAL | messages.keys()
    for message in messages.values():
        for f in message.fields.values():
            wanted = f.map_value if f.type == "map" else f.type
            if wanted not in known:
                raise AssertionError(f"{message.name}.{f.name}: unknown type {wanted}")
    return messages


MESSAGES: dict[str, Message] = _compile(_TABLES)


def message_for(api_version: str, kind: str) -> Message | None:
    """The schema a request body of this apiVersion and kind is encoded with, if the fake has it.

    ``DeleteOptions`` is registered in every group version, as in kube-apiserver.
    """
    if kind == "DeleteOptions":
        return MESSAGES["DeleteOptions"]
    name = KINDS.get((api_version, kind))
    return MESSAGES[name] if name is not None else None
