"""OpenAPI v3 documents of the fake API server: enough for ``kubectl apply`` and ``explain``.

kubectl reads ``/openapi/v3`` for three things: whether a PATCH operation of a kind carries a
``fieldValidation`` parameter (then it leaves validation to the server), the
``x-kubernetes-patch-*`` extensions of a kind's schema (to compute a client-side-apply strategic
merge patch), and the schemas themselves (``explain``). This module builds one document per
served group-version from the `ResourceRegistry`: hand-written schemas for the common built-in
kinds, a permissive schema for the others, and the CRD's ``openAPIV3Schema`` for custom
resources. Documents are cached per registry generation and served with kube-openapi's hash
protocol (``?hash=`` URLs, 301 for a stale hash, immutable caching for a current one).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import attrs

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._http import Request, Response, dumps
from kr8s_trio.testing._resources import ResourceRegistry, ResourceType, SubresourceInfo
from kr8s_trio.testing._status import path_not_found

__all__ = ["OpenAPI", "gv_path", "schema_name"]

JSONObject = dict[str, Any]
SchemaSource = Callable[[ResourceType], JSONObject | None]

_REF = "#/components/schemas/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_OBJECT_META = _META + "ObjectMeta"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)


def gv_path(group: str, version: str) -> str:
    """The key of a group-version in the ``/openapi/v3`` index (``api/v1``, ``apis/apps/v1``)."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def schema_name(group: str, version: str, kind: str, *, builtin: bool = True) -> str:
    """The ``components.schemas`` key of a kind, named the way kube-apiserver names it.

    Built-ins: ``io.k8s.api.core.v1.Pod``, ``io.k8s.api.networking.v1.Ingress``; custom
    resources: the reversed group, ``com.example.v1.Widget`` for ``example.com``.
    """
    if not builtin:
        return ".".join([*reversed(group.split(".")), version, kind])
    if group == "apiextensions.k8s.io":
        return f"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{kind}"
    if group == "apiregistration.k8s.io":
        return f"io.k8s.kube-aggregator.pkg.apis.apiregistration.{version}.{kind}"
    package = group.split(".")[0] if group else "core"
    return f"io.k8s.api.{package}.{version}.{kind}"


# -- hand-written schemas ---------------------------------------------------------------------

#: The built-in schemas this fake publishes, one line per field. A block starts with
#: ``Name: description [required, fields]`` (``Name!`` for a kind: apiVersion, kind and metadata
#: are added); each field line is ``field: type description``. Types: ``string``, ``integer``,
#: ``int64``, ``boolean``, ``string(A|B)`` (enum), ``loose`` (an object not modelled field by
#: field), a schema name (a reference), ``{}T`` (a map of T), ``[]T`` (an atomic list),
#: ``[]T/key`` (a list merged by key; ``/k1,k2`` adds map keys, ``+retainKeys`` the strategy),
#: ``[]string/set`` (a merged set of strings). ``@ package`` sets the package of the blocks below.
_CATALOG_TEXT = """
@ io.k8s.apimachinery.pkg.apis.meta.v1
ObjectMeta: Metadata every persisted resource has.
  name: string Name, unique within a namespace for a kind; mostly immutable.
  generateName: string A prefix the server completes into a unique name when name is empty.
  namespace: string The namespace the object lives in; empty for cluster-scoped kinds.
  uid: string A unique identifier set by the server, never reused.
  resourceVersion: string Opaque version of the object, for optimistic concurrency.
  generation: int64 Sequence number of the desired state, bumped by the server.
  creationTimestamp: Time When the server created the object.
  deletionTimestamp: Time When graceful deletion began; set by the server.
  deletionGracePeriodSeconds: int64 Seconds the object is given to terminate.
  labels: {}string Key/value pairs for organising and selecting objects.
  annotations: {}string Key/value pairs for tools and libraries; not queryable.
  ownerReferences: []OwnerReference/uid Objects this one depends on.
  finalizers: []string/set Conditions to satisfy before the object is removed from storage.
  managedFields: []ManagedFieldsEntry Which manager owns which fields.
OwnerReference: Identifies an owning object in the same namespace. [apiVersion, kind, name, uid]
  apiVersion: string API version of the owner.
  kind: string Kind of the owner.
  name: string Name of the owner.
  uid: string UID of the owner.
  controller: boolean Whether the owner is the managing controller.
  blockOwnerDeletion: boolean Whether foreground deletion of the owner waits for this object.
ManagedFieldsEntry: The fields one manager owns, from server-side apply.
  manager: string The manager's name.
  operation: string(Apply|Update) How the manager wrote the fields.
  apiVersion: string The version the fields are expressed in.
  time: Time When the entry last changed.
  fieldsType: string The format of fieldsV1 (FieldsV1).
  fieldsV1: loose The owned fields, as a trie.
  subresource: string The subresource the manager wrote through.
ListMeta: Metadata of a list.
  resourceVersion: string The version of the list, to watch from.
  continue: string A token for the next page, when the list is paginated.
  remainingItemCount: int64 Items left after this page (approximate).
LabelSelector: Selects objects by label; an empty selector matches everything.
  matchLabels: {}string Labels that must all be present with these values.
  matchExpressions: []LabelSelectorRequirement Requirements that must all hold.
LabelSelectorRequirement: A key, an operator and values. [key, operator]
  key: string The label key.
  operator: string(DoesNotExist|Exists|In|NotIn) How the values apply.
  values: []string Values for In and NotIn.
Status: The result of an operation that returns no object.
  apiVersion: string The version of the schema (v1).
  kind: string Status.
  metadata: ListMeta Standard list metadata.
  status: string(Failure|Success) Whether the operation succeeded.
  message: string A human-readable description.
  reason: string A machine-readable reason (NotFound, Conflict...).
  details: loose Details of the failure: name, kind, causes.
  code: integer The HTTP status code.
DeleteOptions: Options for deletion.
  apiVersion: string The version of the schema.
  kind: string DeleteOptions.
  gracePeriodSeconds: int64 Seconds before the object is deleted.
  propagationPolicy: string(Background|Foreground|Orphan) What happens to dependents.
  preconditions: loose uid and resourceVersion that must match.
  dryRun: []string All: do not persist anything.
Patch: A patch body; its format depends on the Content-Type.

@ io.k8s.api.core.v1
Pod!: A pod: co-located containers sharing a network namespace and volumes.
  spec: PodSpec The desired state of the pod.
  status: PodStatus The observed state of the pod, written by the kubelet.
PodSpec: The desired state of a pod. [containers]
  containers: []Container/name The containers of the pod.
  initContainers: []Container/name Containers run in order before the others.
  volumes: []Volume/name+retainKeys Volumes the containers can mount.
  restartPolicy: string(Always|Never|OnFailure) What to do when a container exits.
  nodeName: string The node the pod runs on; set by the scheduler or directly.
  nodeSelector: {}string Labels a node must have to run the pod.
  serviceAccountName: string The service account the pod runs as.
  automountServiceAccountToken: boolean Mount the service account token.
  terminationGracePeriodSeconds: int64 Seconds to stop gracefully (default 30).
  activeDeadlineSeconds: int64 Seconds the pod may run before it is failed.
  dnsPolicy: string ClusterFirst (default), Default, None or ClusterFirstWithHostNet.
  hostNetwork: boolean Use the node's network namespace.
  hostname: string The pod's hostname; defaults to its name.
  subdomain: string With hostname, gives the pod a DNS name under a headless service.
  schedulerName: string The scheduler that places the pod.
  priorityClassName: string The priority class of the pod.
  priority: integer The priority value, resolved from the priority class.
  tolerations: []Toleration Taints the pod tolerates.
  affinity: loose Node and pod (anti-)affinity rules.
  securityContext: loose Pod-level security options.
  imagePullSecrets: []LocalObjectReference/name Secrets to pull images with.
  readinessGates: []PodReadinessGate Extra conditions for readiness.
  runtimeClassName: string The RuntimeClass to run the pod with.
  enableServiceLinks: boolean Inject service environment variables (default true).
  topologySpreadConstraints: []loose How to spread pods across topology domains.
Container: A container to run in a pod. [name]
  name: string Name of the container, unique within the pod (a DNS label).
  image: string The container image to run.
  imagePullPolicy: string(Always|IfNotPresent|Never) When to pull the image.
  command: []string The entrypoint; replaces the image's ENTRYPOINT.
  args: []string Arguments to the entrypoint; replace the image's CMD.
  workingDir: string The working directory of the process.
  env: []EnvVar/name Environment variables to set.
  envFrom: []loose ConfigMaps and Secrets to import variables from.
  ports: []ContainerPort/containerPort,protocol Ports the container exposes (informational).
  resources: ResourceRequirements Compute resources for the container.
  volumeMounts: []VolumeMount/mountPath Volumes to mount into the filesystem.
  livenessProbe: Probe Restart the container when this fails.
  readinessProbe: Probe Stop routing traffic to the pod when this fails.
  startupProbe: Probe The other probes wait until this succeeds.
  lifecycle: loose postStart and preStop hooks.
  securityContext: loose Security options: user, capabilities, privileges.
  restartPolicy: string For init containers only: Always makes it a sidecar.
  stdin: boolean Allocate a buffer for stdin.
  stdinOnce: boolean Close stdin after the first attach disconnects.
  tty: boolean Allocate a TTY (needs stdin).
  terminationMessagePath: string The file the termination message is read from.
  terminationMessagePolicy: string(FallbackToLogsOnError|File) Where the message comes from.
EnvVar: An environment variable. [name]
  name: string The variable name.
  value: string The value; $(VAR) references are expanded.
  valueFrom: loose A source for the value: fieldRef, secretKeyRef, configMapKeyRef...
ContainerPort: A network port of a container. [containerPort]
  containerPort: integer The port number on the pod's IP address.
  name: string A name services can refer to (an IANA_SVC_NAME).
  protocol: string(SCTP|TCP|UDP) The protocol (TCP by default).
  hostPort: integer A port on the host to expose (rarely needed).
  hostIP: string The host IP to bind the host port to.
ResourceRequirements: Compute resources: requests are guaranteed, limits are enforced.
  limits: {}Quantity Maximum amounts per resource.
  requests: {}Quantity Minimum amounts per resource.
VolumeMount: Where a volume is mounted in a container. [name, mountPath]
  name: string The name of a volume of the pod.
  mountPath: string The path in the container.
  readOnly: boolean Mount read-only.
  subPath: string A path within the volume to mount instead of its root.
Volume: A named volume pods can mount; exactly one source is set. [name]
  name: string The volume's name, unique within the pod.
  configMap: loose A ConfigMap's keys as files.
  secret: loose A Secret's keys as files.
  emptyDir: loose A scratch directory that lives as long as the pod.
  hostPath: loose A path on the node.
  persistentVolumeClaim: loose A claim on a persistent volume.
  projected: loose Several sources merged into one directory.
  downwardAPI: loose Pod fields as files.
Probe: A health check of a container.
  exec: loose Run a command; exit code 0 is success.
  httpGet: loose An HTTP GET; 2xx and 3xx are success.
  tcpSocket: loose A TCP connection.
  grpc: loose A gRPC health check.
  initialDelaySeconds: integer Seconds after start before the first probe.
  periodSeconds: integer Seconds between probes.
  timeoutSeconds: integer Seconds before a probe times out.
  successThreshold: integer Consecutive successes to be considered healthy.
  failureThreshold: integer Consecutive failures to be considered unhealthy.
Toleration: Lets a pod schedule onto nodes with a matching taint.
  key: string The taint key; empty matches all keys.
  operator: string(Equal|Exists) How the value is compared (Equal by default).
  value: string The taint value to match.
  effect: string NoSchedule, PreferNoSchedule or NoExecute; empty matches all.
  tolerationSeconds: int64 How long a NoExecute taint is tolerated.
LocalObjectReference: A reference to an object in the same namespace.
  name: string The object's name.
PodReadinessGate: A pod condition that must be true for the pod to be ready.
  conditionType: string The condition type.
PodStatus: The observed state of a pod.
  phase: string(Failed|Pending|Running|Succeeded|Unknown) Where the pod is in its lifecycle.
  conditions: []PodCondition/type Current conditions.
  message: string Why the pod is in this condition.
  reason: string A CamelCase reason (Evicted...).
  hostIP: string The IP of the node.
  podIP: string The pod's IP address.
  podIPs: []PodIP/ip All IP addresses of the pod.
  startTime: Time When the kubelet accepted the pod.
  containerStatuses: []ContainerStatus One per container.
  initContainerStatuses: []ContainerStatus One per init container.
  qosClass: string(BestEffort|Burstable|Guaranteed) The quality of service class.
  nominatedNodeName: string The node preemption made room on.
PodIP: An IP address of a pod.
  ip: string The address.
PodCondition: A condition of a pod. [type, status]
  type: string PodScheduled, Initialized, ContainersReady or Ready.
  status: string(False|True|Unknown) Whether the condition holds.
  reason: string A CamelCase reason for the last transition.
  message: string A human-readable message.
  lastProbeTime: Time When the condition was last probed.
  lastTransitionTime: Time When the status last changed.
ContainerStatus: The observed state of a container. [name, ready, restartCount, image, imageID]
  name: string The container's name.
  ready: boolean Whether the readiness probe passes.
  started: boolean Whether the startup probe passed.
  restartCount: integer How many times the container restarted.
  image: string The image it runs.
  imageID: string The image's digest.
  containerID: string The runtime's ID of the container.
  state: ContainerState The current state.
  lastState: ContainerState The state before the last restart.
ContainerState: What a container is doing: exactly one of waiting, running, terminated.
  waiting: ContainerStateWaiting Not running yet.
  running: ContainerStateRunning Running.
  terminated: ContainerStateTerminated Finished.
ContainerStateWaiting: A container that is not running yet.
  reason: string Why (ContainerCreating, CrashLoopBackOff, ImagePullBackOff...).
  message: string Details.
ContainerStateRunning: A running container.
  startedAt: Time When it started.
ContainerStateTerminated: A finished container. [exitCode]
  exitCode: integer The exit code.
  signal: integer The signal that ended it.
  reason: string Why (Completed, Error, OOMKilled...).
  message: string Details.
  startedAt: Time When it started.
  finishedAt: Time When it finished.
  containerID: string The runtime's ID of the container.
PodTemplateSpec: The pods a controller creates.
  metadata: ObjectMeta Metadata of the pods.
  spec: PodSpec The spec of the pods.
Service!: A set of pods reachable at a stable virtual IP and DNS name.
  spec: ServiceSpec The desired state of the service.
  status: loose The observed state: load balancer ingress points, conditions.
ServiceSpec: The desired state of a service.
  type: string(ClusterIP|ExternalName|LoadBalancer|NodePort) How the service is exposed.
  selector: {}string Pods with these labels receive the traffic.
  ports: []ServicePort/port,protocol The ports exposed.
  clusterIP: string The virtual IP; None makes a headless service.
  clusterIPs: []string The virtual IPs, one per IP family.
  externalIPs: []string Extra addresses that route to the service.
  externalName: string The DNS name an ExternalName service points to.
  sessionAffinity: string(ClientIP|None) Whether a client sticks to one pod.
  externalTrafficPolicy: string(Cluster|Local) Routing of external traffic.
  internalTrafficPolicy: string(Cluster|Local) Routing of internal traffic.
  ipFamilies: []string IPv4 and/or IPv6.
  ipFamilyPolicy: string(PreferDualStack|RequireDualStack|SingleStack) Dual-stack behaviour.
  publishNotReadyAddresses: boolean Publish endpoints of pods that are not ready.
ServicePort: A port a service exposes. [port]
  name: string The port's name; required when there are several.
  protocol: string(SCTP|TCP|UDP) The protocol (TCP by default).
  port: integer The port the service listens on.
  targetPort: IntOrString The pods' port number or name.
  nodePort: integer The port on every node (NodePort, LoadBalancer).
  appProtocol: string The application protocol.
ConfigMap!: Non-confidential configuration as key/value pairs.
  data: {}string UTF-8 values.
  binaryData: {}byte Binary values, base64 encoded.
  immutable: boolean When true, data cannot change.
Secret!: Confidential data as key/value pairs.
  data: {}byte Base64-encoded values.
  stringData: {}string Plain-text values, merged into data on write.
  type: string How to interpret the data (Opaque by default).
  immutable: boolean When true, data cannot change.
Namespace!: A scope for names.
  spec: NamespaceSpec The desired state.
  status: NamespaceStatus The observed state.
NamespaceSpec: The desired state of a namespace.
  finalizers: []string Must be empty before the namespace is removed.
NamespaceStatus: The observed state of a namespace.
  phase: string(Active|Terminating) Whether the namespace is being deleted.
  conditions: []loose Conditions of the namespace.
Binding!: Binds a pod to a node.
  target: loose The node to bind to: kind Node and its name.

@ io.k8s.api.apps.v1
Deployment!: Declarative updates for pods, through ReplicaSets.
  spec: DeploymentSpec The desired state of the deployment.
  status: DeploymentStatus The observed state of the deployment.
DeploymentSpec: The desired state of a deployment. [selector, template]
  replicas: integer How many pods to run (default 1).
  selector: LabelSelector Which pods belong to the deployment; immutable.
  template: PodTemplateSpec The pods to create.
  strategy: DeploymentStrategy How pods are replaced.
  minReadySeconds: integer Seconds a pod must be ready to count as available.
  revisionHistoryLimit: integer Old ReplicaSets to keep (default 10).
  paused: boolean Stop rolling out template changes.
  progressDeadlineSeconds: integer Seconds before a stuck rollout is reported.
DeploymentStrategy: How pods are replaced.
  type: string(Recreate|RollingUpdate) The strategy (RollingUpdate by default).
  rollingUpdate: RollingUpdateDeployment Parameters of a rolling update.
RollingUpdateDeployment: Parameters of a rolling update.
  maxUnavailable: IntOrString Pods that may be unavailable during the update.
  maxSurge: IntOrString Pods that may exceed the desired number during the update.
DeploymentStatus: The observed state of a deployment.
  observedGeneration: int64 The generation last acted on.
  replicas: integer Pods targeted by the deployment.
  updatedReplicas: integer Pods with the latest template.
  readyReplicas: integer Ready pods.
  availableReplicas: integer Pods ready for at least minReadySeconds.
  unavailableReplicas: integer Pods still needed for 100% availability.
  conditions: []loose Available, Progressing...
ReplicaSet!: Keeps a number of identical pods running.
  spec: ReplicaSetSpec The desired state.
  status: loose The observed state, written by the controller.
ReplicaSetSpec: The desired state of a ReplicaSet. [selector]
  replicas: integer How many pods to run (default 1).
  selector: LabelSelector Which pods belong to the ReplicaSet.
  template: PodTemplateSpec The pods to create.
  minReadySeconds: integer Seconds a pod must be ready to count as available.
StatefulSet!: Pods with stable identities and storage.
  spec: StatefulSetSpec The desired state.
  status: loose The observed state, written by the controller.
StatefulSetSpec: The desired state of a StatefulSet. [selector, template]
  replicas: integer How many pods to run (default 1).
  selector: LabelSelector Which pods belong to the StatefulSet.
  template: PodTemplateSpec The pods to create.
  serviceName: string The headless service governing the pods.
  podManagementPolicy: string(OrderedReady|Parallel) How pods are created and deleted.
  updateStrategy: loose RollingUpdate or OnDelete.
  volumeClaimTemplates: []loose Claims made for every pod.
  minReadySeconds: integer Seconds a pod must be ready to count as available.
DaemonSet!: One pod per node.
  spec: DaemonSetSpec The desired state.
  status: loose The observed state, written by the controller.
DaemonSetSpec: The desired state of a DaemonSet. [selector, template]
  selector: LabelSelector Which pods belong to the DaemonSet.
  template: PodTemplateSpec The pods to create.
  updateStrategy: loose RollingUpdate or OnDelete.
  minReadySeconds: integer Seconds a pod must be ready to count as available.

@ io.k8s.api.batch.v1
Job!: A task run to completion.
  spec: JobSpec The desired state.
  status: loose The observed state, written by the controller.
JobSpec: The desired state of a job. [template]
  parallelism: integer Pods running at once.
  completions: integer Successful pods needed.
  backoffLimit: integer Retries before the job fails (default 6).
  activeDeadlineSeconds: int64 Seconds the job may run.
  ttlSecondsAfterFinished: integer Seconds to keep the job once finished.
  completionMode: string(Indexed|NonIndexed) How completions are counted.
  suspend: boolean Do not create pods.
  selector: LabelSelector Which pods belong to the job.
  manualSelector: boolean Let the selector be set by hand.
  template: PodTemplateSpec The pods to create.
CronJob!: Jobs on a schedule.
  spec: CronJobSpec The desired state.
  status: loose The observed state: active jobs, last schedule time.
CronJobSpec: The desired state of a cron job. [schedule, jobTemplate]
  schedule: string The schedule, in cron format.
  timeZone: string The time zone of the schedule.
  suspend: boolean Do not start new jobs.
  concurrencyPolicy: string(Allow|Forbid|Replace) What to do when runs overlap.
  startingDeadlineSeconds: int64 Seconds a missed start may be late.
  successfulJobsHistoryLimit: integer Finished jobs to keep (default 3).
  failedJobsHistoryLimit: integer Failed jobs to keep (default 1).
  jobTemplate: JobTemplateSpec The jobs to create.
JobTemplateSpec: The jobs a cron job creates.
  metadata: ObjectMeta Metadata of the jobs.
  spec: JobSpec The spec of the jobs.

@ io.k8s.api.autoscaling.v1
Scale!: The scale subresource of a scalable resource.
  spec: ScaleSpec The desired scale.
  status: ScaleStatus The observed scale.
ScaleSpec: The desired scale.
  replicas: integer The desired number of replicas.
ScaleStatus: The observed scale. [replicas]
  replicas: integer The observed number of replicas.
  selector: string The pods' label selector, in query-parameter syntax.

@ io.k8s.api.policy.v1
Eviction!: Evicts a pod, honouring disruption budgets.
  deleteOptions: DeleteOptions How to delete the pod.
"""

_API_VERSION = {
    "type": "string",
    "description": "The versioned schema of this representation of an object (group/version).",
}
_KIND = {"type": "string", "description": "The REST resource this object represents (CamelCase)."}
_METADATA = {
    "description": "Standard object metadata: name, namespace, labels, annotations...",
    "default": {},
    "allOf": [{"$ref": _REF + _OBJECT_META}],
}
_SCALARS = {
    _META + "Time": {"type": "string", "format": "date-time", "description": "An RFC 3339 time."},
    _QUANTITY: {"type": "string", "description": "A fixed-point number: 100m, 1Gi, 2."},
    _INT_OR_STRING: {
        "type": "string",
        "format": "int-or-string",
        "description": "An integer or a string.",
    },
}
_SCALAR_TYPES: dict[str, JSONObject] = {
    "string": {"type": "string"},
    "integer": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "boolean": {"type": "boolean"},
    "byte": {"type": "string", "format": "byte"},
}


def _loose(description: str) -> JSONObject:
    """An object this fake does not model field by field."""
    return {
        "type": "object",
        "description": description,
        "x-kubernetes-preserve-unknown-fields": True,
    }


def _ref(name: str) -> JSONObject:
    """A reference as kube-apiserver writes it for a property (``allOf`` keeps the description)."""
    ref: JSONObject = {"allOf": [{"$ref": _REF + name}]}
    return ref if name in _SCALARS else {"default": {}, **ref}


def _kind(description: str) -> JSONObject:
    props = {"apiVersion": _API_VERSION, "kind": _KIND, "metadata": _METADATA}
    return {"description": description, "type": "object", "properties": dict(props)}


def _parse_type(token: str, names: dict[str, str]) -> JSONObject:
    """The schema of one field type of the catalog text (see `_CATALOG_TEXT`)."""
    if token in _SCALAR_TYPES:
        return dict(_SCALAR_TYPES[token])
    if token == "loose":
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    if token.startswith("string("):
        return {"type": "string", "enum": token[7:-1].split("|")}
    if token.startswith("{}"):
        return {"type": "object", "additionalProperties": _parse_type(token[2:], names)}
    if token.startswith("[]"):
        item, _, keys = token[2:].partition("/")
        out: JSONObject = {"type": "array", "items": _parse_type(item, names)}
        keys, _, retain = keys.partition("+")
        if keys == "set":
            out.update({"x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"})
        elif keys:
            out["x-kubernetes-list-type"] = "map"
            out["x-kubernetes-list-map-keys"] = keys.split(",")
            out["x-kubernetes-patch-merge-key"] = keys.split(",")[0]
            out["x-kubernetes-patch-strategy"] = "merge" + (f",{retain}" if retain else "")
        else:
            out["x-kubernetes-list-type"] = "atomic"
        return out
    return _ref(names[token])


def _parse_catalog(text: str) -> dict[str, JSONObject]:
    blocks: list[tuple[str, JSONObject, list[tuple[str, str, str]]]] = []
    names: dict[str, str] = {n.rsplit(".", 1)[1]: n for n in _SCALARS}
    package = ""
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("@ "):
            package = line[2:].strip()
        elif not line.startswith(" "):
            head, _, description = line.partition(": ")
            required = re.search(r" \[([\w, ]+)\]$", description)
            if required:
                description = description[: required.start()]
            short = head.removesuffix("!")
            if head.endswith("!"):
                schema = _kind(description)
            else:
                schema = {"description": description, "type": "object", "properties": {}}
            if required:
                schema["required"] = required.group(1).split(", ")
            names[short] = f"{package}.{short}"
            blocks.append((names[short], schema, []))
        else:
            field, _, rest = line.strip().partition(": ")
            token, _, description = rest.partition(" ")
            blocks[-1][2].append((field, token, description))
    schemas = dict(_SCALARS)
    for name, schema, fields in blocks:
        for field, token, description in fields:
            schema["properties"][field] = {"description": description, **_parse_type(token, names)}
        if not schema["properties"]:
            del schema["properties"]
        schemas[name] = schema
    return schemas


_CATALOG: dict[str, JSONObject] = {}


def _catalog() -> dict[str, JSONObject]:
    """Every hand-written schema by name (parsed on first use)."""
    if not _CATALOG:
        _CATALOG.update(_parse_catalog(_CATALOG_TEXT))
    return _CATALOG


def _list(item: str, description: str) -> JSONObject:
    return {"type": "array", "description": description, "items": _ref(item)}


def _gvk(group: str, version: str, kind: str) -> JSONObject:
    return {"group": group, "kind": kind, "version": version}


# -- paths ------------------------------------------------------------------------------------


def _query(name: str, description: str, type_: str = "string") -> JSONObject:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": type_, "uniqueItems": True},
    }


_P_DRY_RUN = _query("dryRun", "All: process the request without persisting it.")
_P_MANAGER = _query("fieldManager", "The name of the actor making the change.")
_P_VALIDATION = _query(
    "fieldValidation", "Ignore, Warn or Strict: what to do about unknown or duplicate fields."
)
_P_FORCE = _query("force", "Take ownership of conflicting fields (apply only).", "boolean")
_LIST_PARAMS = [
    _query("allowWatchBookmarks", "Ask for BOOKMARK events.", "boolean"),
    _query("continue", "The token of the next page."),
    _query("fieldSelector", "Select by fields."),
    _query("labelSelector", "Select by labels."),
    _query("limit", "The page size.", "integer"),
    _query("resourceVersion", "Which version of the collection to serve."),
    _query("resourceVersionMatch", "How resourceVersion is applied."),
    _query("sendInitialEvents", "Start a watch with the current state.", "boolean"),
    _query("timeoutSeconds", "End the list or watch after this long.", "integer"),
    _query("watch", "Stream changes instead of listing.", "boolean"),
]
_DELETE_PARAMS = [
    _P_DRY_RUN,
    _query("gracePeriodSeconds", "Seconds before deletion.", "integer"),
    _query("propagationPolicy", "Orphan, Background or Foreground."),
]
_VERB_METHOD = {
    "get": "get",
    "create": "post",
    "update": "put",
    "patch": "patch",
    "delete": "delete",
}


@attrs.frozen
class _Target:
    """What an operation returns, and the GVK it is tagged with."""

    group: str
    version: str
    kind: str
    schema: str | None  # the schema name, when the document has one


class _DocumentBuilder:
    """Builds the OpenAPI document of one group-version."""

    def __init__(self, group: str, version: str, schemas: SchemaSource | None) -> None:
        self.group, self.version = group, version
        self._source = schemas
        self._catalog = _catalog()
        self.paths: dict[str, JSONObject] = {}
        self.schemas: dict[str, JSONObject] = {}

    def add(self, rt: ResourceType) -> None:
        main = self._kind_schema(rt)
        list_schema = self._list_schema(rt, main)
        prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
        ns = "/namespaces/{namespace}" if rt.namespaced else ""
        collection = f"{prefix}{ns}/{rt.plural}"
        target = _Target(rt.group, rt.version, rt.kind, main)
        lst = _Target(rt.group, rt.version, rt.list_kind, list_schema)
        verbs = set(rt.verbs)
        ops: JSONObject = {}
        if "list" in verbs:
            ops["get"] = self._op(rt, "list", lst, _LIST_PARAMS)
        if "create" in verbs:
            ops["post"] = self._op(rt, "post", target, [_P_DRY_RUN, _P_MANAGER, _P_VALIDATION])
        if "deletecollection" in verbs:
            ops["delete"] = self._op(rt, "deletecollection", None, _LIST_PARAMS + _DELETE_PARAMS)
        self._path(collection, ops, rt.namespaced, named=False)
        if rt.namespaced and "list" in verbs:
            self._path(
                f"{prefix}/{rt.plural}",
                {"get": self._op(rt, "list", lst, _LIST_PARAMS, all_namespaces=True)},
                namespaced=False,
                named=False,
            )
        item_ops: JSONObject = {}
        for verb in ("get", "update", "patch", "delete"):
            if verb in verbs:
                item_ops[_VERB_METHOD[verb]] = self._item_op(rt, verb, target, "")
        self._path(f"{collection}/{{name}}", item_ops, rt.namespaced, named=True)
        for sub in rt.subresources:
            self._subresource(rt, sub, f"{collection}/{{name}}/{sub.name}")

    def _subresource(self, rt: ResourceType, sub: SubresourceInfo, path: str) -> None:
        group = rt.group if sub.group is None else sub.group
        version = sub.version or rt.version
        schema: str | None = None
        if (group, version, sub.kind) == (rt.group, rt.version, rt.kind):
            schema = self._kind_schema(rt)  # status, ephemeralcontainers, finalize...
        elif (name := schema_name(group, version, sub.kind)) in self._catalog:
            schema = self._add_catalog(name, _gvk(group, version, sub.kind))  # Scale, Eviction
        target = _Target(group, version, sub.kind, schema)
        ops: JSONObject = {}
        for verb in sub.verbs:
            method = _VERB_METHOD.get(verb)
            if method is not None:
                ops[method] = self._item_op(rt, verb, target, sub.name)
        self._path(path, ops, rt.namespaced, named=True)

    # -- schemas --

    def _kind_schema(self, rt: ResourceType) -> str:
        name = schema_name(rt.group, rt.version, rt.kind, builtin=rt.builtin)
        if name in self.schemas:
            return name
        gvk = _gvk(rt.group, rt.version, rt.kind)
        custom = self._source(rt) if self._source is not None and not rt.builtin else None
        if custom is not None:
            schema = _from_crd(custom)
        elif name in self._catalog:
            schema = copy.deepcopy(self._catalog[name])
        else:
            schema = _kind(f"{rt.kind} ({rt.api_version}).")
            schema["properties"]["spec"] = _loose("The desired state.")
            schema["properties"]["status"] = _loose("The observed state.")
            schema["x-kubernetes-preserve-unknown-fields"] = True
        schema["x-kubernetes-group-version-kind"] = [gvk]
        self.schemas[name] = schema
        self._add_refs(schema)
        return name

    def _list_schema(self, rt: ResourceType, item: str) -> str:
        name = schema_name(rt.group, rt.version, rt.list_kind, builtin=rt.builtin)
        self.schemas[name] = {
            "description": f"A list of {rt.kind} objects.",
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": _API_VERSION,
                "kind": _KIND,
                "items": _list(item, "The objects."),
                "metadata": {"description": "Standard list metadata.", **_ref(_META + "ListMeta")},
            },
            "x-kubernetes-group-version-kind": [_gvk(rt.group, rt.version, rt.list_kind)],
        }
        self._add_refs(self.schemas[name])
        return name

    def _add_catalog(self, name: str, gvk: JSONObject | None = None) -> str:
        if name not in self.schemas:
            schema = copy.deepcopy(self._catalog[name])
            if gvk is not None:
                schema["x-kubernetes-group-version-kind"] = [gvk]
            self.schemas[name] = schema
            self._add_refs(schema)
        return name

    def _add_refs(self, node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF):
                name = ref.removeprefix(_REF)
                if name in self._catalog:
                    self._add_catalog(name)
            for value in node.values():
                self._add_refs(value)
        elif isinstance(node, list):
            for value in node:
                self._add_refs(value)

    # -- operations --

    def _path(self, path: str, ops: JSONObject, namespaced: bool, *, named: bool) -> None:
        if not ops:
            return
        params = []
        if named:
            params.append(_path_param("name", "The name of the object."))
        if namespaced:
            params.append(_path_param("namespace", "The namespace of the object."))
        params.append(_query("pretty", "Pretty-print the output."))
        self.paths[path] = {**ops, "parameters": params}

    def _item_op(self, rt: ResourceType, verb: str, target: _Target, sub: str) -> JSONObject:
        if verb == "get":
            return self._op(rt, "get", target, [], sub=sub)
        if verb == "update":
            return self._op(rt, "put", target, [_P_DRY_RUN, _P_MANAGER, _P_VALIDATION], sub=sub)
        if verb == "patch":
            params = [_P_DRY_RUN, _P_MANAGER, _P_VALIDATION, _P_FORCE]
            return self._op(rt, "patch", target, params, sub=sub)
        if verb == "create":
            return self._op(rt, "post", target, [_P_DRY_RUN, _P_MANAGER, _P_VALIDATION], sub=sub)
        return self._op(rt, "delete", target, _DELETE_PARAMS, sub=sub)

    def _op(
        self,
        rt: ResourceType,
        action: str,
        target: _Target | None,
        params: list[JSONObject],
        *,
        sub: str = "",
        all_namespaces: bool = False,
    ) -> JSONObject:
        words = {"list": "list", "get": "read", "post": "create", "put": "replace"}
        words.update(patch="patch", delete="delete", deletecollection="deletecollection")
        scope = "Namespaced" if rt.namespaced and not all_namespaces else ""
        suffix = "ForAllNamespaces" if all_namespaces else ""
        op_id = f"{words[action]}{_camel_gv(rt)}{scope}{rt.kind}{sub.title()}{suffix}"
        returned = target or _Target("", "v1", "Status", self._add_catalog(_META + "Status"))
        media = ["application/json", "application/yaml"]
        if rt.builtin:
            media.append("application/vnd.kubernetes.protobuf")
        if action == "list":
            media.append("application/json;stream=watch")
        schema = {"$ref": _REF + returned.schema} if returned.schema else {"type": "object"}
        body = {"schema": schema}
        ok: JSONObject = {"description": "OK", "content": dict.fromkeys(media, body)}
        responses: JSONObject = {"200": ok}
        if action in ("post", "put", "patch"):
            responses["201"] = {"description": "Created", "content": dict.fromkeys(media, body)}
        responses["401"] = {"description": "Unauthorized"}
        op: JSONObject = {
            "tags": [gv_path(rt.group, rt.version)],
            "description": f"{words[action]} {sub + ' of ' if sub else ''}{rt.kind}",
            "operationId": op_id,
        }
        if params:
            op["parameters"] = params
        if action in ("post", "put") and target is not None and target.schema:
            op["requestBody"] = {
                "content": {"*/*": {"schema": {"$ref": _REF + target.schema}}},
                "required": True,
            }
        elif action == "patch":
            patch = {"schema": {"$ref": _REF + self._add_catalog(_META + "Patch")}}
            types = [t for t in _PATCH_TYPES if rt.builtin or "strategic" not in t]
            op["requestBody"] = {"content": dict.fromkeys(types, patch), "required": True}
        elif action in ("delete", "deletecollection"):
            options = self._add_catalog(_META + "DeleteOptions")
            op["requestBody"] = {"content": {"*/*": {"schema": {"$ref": _REF + options}}}}
        op["responses"] = responses
        op["x-kubernetes-action"] = action
        tagged = target or _Target(rt.group, rt.version, rt.kind, None)
        op["x-kubernetes-group-version-kind"] = _gvk(tagged.group, tagged.version, tagged.kind)
        return op


def _path_param(name: str, description: str) -> JSONObject:
    return {
        "name": name,
        "in": "path",
        "description": description,
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }


def _camel_gv(rt: ResourceType) -> str:
    if not rt.group:
        parts = ["core"]
    elif rt.builtin:
        parts = rt.group.removesuffix(".k8s.io").split(".")
    else:
        parts = list(reversed(rt.group.split(".")))
    return "".join(p.replace("-", "").title() for p in parts) + rt.version.title()


def _from_crd(schema: JSONObject) -> JSONObject:
    """A CRD version's openAPIV3Schema as kube-apiserver publishes it."""
    out = copy.deepcopy(schema)
    out.setdefault("type", "object")
    props = out.setdefault("properties", {})
    props.setdefault("apiVersion", _API_VERSION)
    props.setdefault("kind", _KIND)
    props["metadata"] = _METADATA
    return out


# -- the service ------------------------------------------------------------------------------


@attrs.frozen
class _Served:
    body: bytes
    hash: str  # sha512, upper-case hex, unquoted


def _served(doc: JSONObject) -> _Served:
    body = dumps(doc)
    return _Served(body, hashlib.sha512(body).hexdigest().upper())


class OpenAPI:
    """Serves ``/openapi/v3`` (index and per group-version documents) and a 404 ``/openapi/v2``.

    Args:
        registry: the served resource types.
        schemas: gives a custom resource version's ``openAPIV3Schema`` (None when it has none);
            built-in kinds use the schemas written here.
    """

    def __init__(self, registry: ResourceRegistry, schemas: SchemaSource | None = None) -> None:
        self._registry = registry
        self._schemas = schemas
        self._generation = -1
        self._docs: dict[str, _Served] = {}
        self._index = _Served(b"", "")

    def invalidate(self) -> None:
        """Rebuild the documents on next use (a CRD's schema changed, its served set did not)."""
        self._generation = -1

    def document(self, path: str) -> JSONObject | None:
        """The OpenAPI document of a group-version (``api/v1``, ``apis/apps/v1``), if served."""
        group, version = _parse_gv_path(path)
        if version is None or not self._registry.in_group_version(group, version):
            return None
        builder = _DocumentBuilder(group, version, self._schemas)
        for rt in self._registry.in_group_version(group, version):
            builder.add(rt)
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "unversioned"},
            "paths": builder.paths,
            "components": {
                "schemas": dict(sorted(builder.schemas.items())),
                "securitySchemes": {
                    "BearerToken": {
                        "type": "apiKey",
                        "description": "Bearer Token authentication",
                        "name": "authorization",
                        "in": "header",
                    }
                },
            },
            "security": [{"BearerToken": []}],
        }

    def handle(self, request: Request) -> Response | None:
        """Answer ``GET /openapi/v3[/<gv>]`` and ``GET /openapi/v2``; None for other requests."""
        if request.method != "GET":
            return None
        path = request.path.rstrip("/")
        if path == "/openapi/v2" or path.startswith("/openapi/v2/"):
            return _error(path_not_found())
        if path != "/openapi/v3" and not path.startswith("/openapi/v3/"):
            return None
        self._refresh()
        if path == "/openapi/v3":
            return _serve(request, self._index, [])
        gv = path.removeprefix("/openapi/v3/")
        served = self._docs.get(gv)
        if served is None:
            return _error(path_not_found())
        headers = [("Vary", "Accept")]
        if not any(c.matches_json() for c in request.accept):
            return Response(status=406, body=b"", content_type="", headers=headers)
        wanted = request.param("hash")
        if wanted and wanted != served.hash:
            location = f"/openapi/v3/{gv}?hash={served.hash}"
            body = f'<a href="{location}">Moved Permanently</a>.\n\n'.encode()
            headers += [("ETag", f'"{served.hash}"'), ("Location", location)]
            return Response(301, body, "text/html; charset=utf-8", headers)
        if wanted:
            expires = format_datetime(datetime.now(UTC) + timedelta(days=365), usegmt=True)
            headers += [("Cache-Control", "public, immutable"), ("Expires", expires)]
        return _serve(request, served, headers)

    def _refresh(self) -> None:
        if self._registry.generation == self._generation:
            return
        docs: dict[str, _Served] = {}
        for group, versions in self._registry.group_versions().items():
            for version in versions:
                key = gv_path(group, version)
                doc = self.document(key)
                if doc is not None:
                    docs[key] = _served(doc)
        index = {
            "paths": {
                key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={docs[key].hash}"}
                for key in sorted(docs)
            }
        }
        self._docs, self._index = docs, _served(index)
        self._generation = self._registry.generation


def _parse_gv_path(path: str) -> tuple[str, str | None]:
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return "", parts[1]
    if len(parts) == 3 and parts[0] == "apis" and parts[1]:
        return parts[1], parts[2]
    return "", None


def _serve(request: Request, served: _Served, headers: list[tuple[str, str]]) -> Response:
    """200 with the document and its ETag, or 304 when the client has it (If-None-Match)."""
    etag = f'"{served.hash}"'
    headers = [*headers, ("ETag", etag)]
    if request.header("if-none-match") == etag:
        return Response(status=304, body=b"", content_type="", headers=headers)
    return Response(body=served.body, headers=headers)


def _error(exc: APIError) -> Response:
    return Response(status=exc.code, body=dumps(exc.status))
