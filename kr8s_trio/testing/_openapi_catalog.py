"""The hand-written OpenAPI schemas of the common built-in kinds, as compact text.

Data, not code: one line per field, in the small format described below, so that the catalog reads
like ``kubectl explain`` output and stays easy to extend. `kr8s_trio.testing._openapi_schemas`
parses it into OpenAPI v3 schemas.
"""

__all__ = ["CATALOG_TEXT"]

#: The built-in schemas this fake publishes, one line per field. A block starts with
#: ``Name: description [required, fields]`` (``Name!`` for a kind: apiVersion, kind and metadata
#: are added); each field line is ``field: type description``. Types: ``string``, ``integer``,
#: ``int64``, ``boolean``, ``string(A|B)`` (enum), ``loose`` (an object not modelled field by
#: field), a schema name (a reference), ``{}T`` (a map of T), ``[]T`` (an atomic list),
#: ``[]T/key`` (a list merged by key; ``/k1,k2`` adds map keys, ``+retainKeys`` the strategy),
#: ``[]string/set`` (a merged set of strings). ``@ package`` sets the package of the blocks below.
CATALOG_TEXT = """
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
