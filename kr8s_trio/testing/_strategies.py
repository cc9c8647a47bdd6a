"""Per-kind behaviour of the fake: defaulting, validation and update rules.

kube-apiserver gives each kind a "strategy" (``PrepareForCreate``, ``Validate``,
``ValidateUpdate``...). This module keeps the part of that behaviour clients observe: the defaults
they read back (pod ``restartPolicy``, deployment ``strategy``, service ``clusterIP``), the 422s
for objects that cannot be stored, and the fields that may not change. It is deliberately a
subset: what is modelled is modelled faithfully, the rest is stored as sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kr8s_trio._core._exceptions import SelectorError
from kr8s_trio._core._jsonpath import dig
from kr8s_trio._core._names import (
    dns_label_errors,
    dns_subdomain_errors,
    label_key_errors,
    label_value_errors,
)
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._crd import validate_crd
from kr8s_trio.testing._status import FieldError

__all__ = ["CRD_FINALIZER", "default_object", "validate_object", "validate_update"]

#: the finalizer that makes a CRD wait for its custom resources to be deleted
CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"

JSONObject = dict[str, Any]

#: kinds whose names are DNS-1123 labels (not subdomains)
_LABEL_NAMED = {("", "Namespace"), ("", "Service")}
#: kinds whose names are path segments (RBAC allows "system:foo")
_PATH_SEGMENT_NAMED = {
    ("rbac.authorization.k8s.io", k)
    for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
}


def validate_name(group: str, kind: str, name: str) -> list[FieldError]:
    """Problems with an object's name: a DNS-1123 subdomain for most kinds, a DNS-1123 label
    for namespaces and services, a path segment for RBAC kinds (``system:foo`` is fine)."""
    if (group, kind) in _PATH_SEGMENT_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            return [FieldError.invalid_value("metadata.name", name, "may not contain '/' or '%'")]
        return []
    check = dns_label_errors if (group, kind) in _LABEL_NAMED else dns_subdomain_errors
    return [FieldError.invalid_value("metadata.name", name, msg) for msg in check(name)]


def _validate_labels(labels: object, field: str) -> list[FieldError]:
    """apimachinery ``ValidateLabels``: one error per broken rule of each key and value."""
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [FieldError.invalid_value(field, labels, "must be a map of strings")]
    errors: list[FieldError] = []
    for key, value in labels.items():
        errors += [FieldError.invalid_value(field, key, msg) for msg in label_key_errors(key)]
        if not isinstance(value, str):
            errors.append(FieldError.invalid_value(field, value, "must be a string"))
            continue
        errors += [FieldError.invalid_value(field, value, msg) for msg in label_value_errors(value)]
    return errors


def _validate_meta(obj: JSONObject) -> list[FieldError]:
    meta = obj.get("metadata") or {}
    errors = _validate_labels(meta.get("labels"), "metadata.labels")
    annotations = meta.get("annotations")
    if annotations is not None and (
        not isinstance(annotations, dict)
        or not all(isinstance(v, str) for v in annotations.values())
    ):
        errors.append(
            FieldError.invalid_value(
                "metadata.annotations", annotations, "must be a map of strings"
            )
        )
    finalizers = meta.get("finalizers")
    if finalizers is not None and (
        not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers)
    ):
        errors.append(
            FieldError.invalid_value("metadata.finalizers", finalizers, "must be a list of strings")
        )
    return errors


# -- pods ------------------------------------------------------------------------------------


def _default_container(c: JSONObject) -> None:
    image = c.get("image")
    if "imagePullPolicy" not in c and isinstance(image, str):
        tag = image.rsplit("/", 1)[-1]
        latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
        c["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def _default_pod_spec(spec: JSONObject) -> None:
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                _default_container(c)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")


def _default_pod(obj: JSONObject) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        _default_pod_spec(spec)
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        spec.setdefault(
            "tolerations",
            [
                {
                    "key": f"node.kubernetes.io/{t}",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
                for t in ("not-ready", "unreachable")
            ],
        )
    obj["status"] = {
        "phase": "Pending",
        "qosClass": _qos_class(spec if isinstance(spec, dict) else {}),
    }


def _qos_class(spec: JSONObject) -> str:
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    requests_limits = [
        (c.get("resources") or {}).get(k) or {} for c in containers for k in ("requests", "limits")
    ]
    if not any(requests_limits):
        return "BestEffort"
    guaranteed = all(
        (c.get("resources") or {}).get("limits", {}).get(r)
        for c in containers
        for r in ("cpu", "memory")
    ) and all(
        (c.get("resources") or {})
        .get("requests", {})
        .get(r, (c.get("resources") or {}).get("limits", {}).get(r))
        == (c.get("resources") or {}).get("limits", {}).get(r)
        for c in containers
        for r in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _validate_pod_spec(spec: object, field: str) -> list[FieldError]:
    if not isinstance(spec, dict):
        return [FieldError.required(field)]
    containers = spec.get("containers")
    if not containers:
        return [FieldError.required(f"{field}.containers")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, c in enumerate(containers):
        where = f"{field}.containers[{i}]"
        if not isinstance(c, dict):
            errors.append(FieldError.invalid_value(where, c, "must be an object"))
            continue
        name = c.get("name")
        if not name:
            errors.append(FieldError.required(f"{where}.name"))
        elif not isinstance(name, str):
            errors.append(FieldError.invalid_value(f"{where}.name", name, "must be a string"))
        elif problems := dns_label_errors(name):
            errors += [FieldError.invalid_value(f"{where}.name", name, m) for m in problems]
        elif name in seen:
            errors.append(FieldError("Duplicate", f"{where}.name", "", name, True))
        else:
            seen.add(name)
        if not c.get("image"):
            errors.append(FieldError.required(f"{where}.image"))
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in ("Always", "OnFailure", "Never"):
        errors.append(
            FieldError.not_supported(
                f"{field}.restartPolicy", policy, ["Always", "OnFailure", "Never"]
            )
        )
    return errors


#: pod spec fields that may change after creation
_POD_MUTABLE = {"activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"}


def _validate_pod_update(new: JSONObject, old: JSONObject) -> list[FieldError]:
    new_spec, old_spec = dict(new.get("spec") or {}), dict(old.get("spec") or {})

    def strip(spec: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in spec.items() if k not in _POD_MUTABLE}
        for key in ("containers", "initContainers"):
            if isinstance(out.get(key), list):
                out[key] = [
                    {k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c
                    for c in out[key]
                ]
        return out

    if strip(new_spec) != strip(old_spec):
        return [
            FieldError.forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,"
                "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                "`spec.tolerations` (only additions to existing tolerations),"
                "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                "previously negative)",
            )
        ]
    return []


# -- workloads ---------------------------------------------------------------------------------


def _default_template(obj: JSONObject) -> None:
    template = dig(obj, "spec", "template")
    if isinstance(template, dict):
        spec = template.setdefault("spec", {})
        if isinstance(spec, dict):
            _default_pod_spec(spec)
        template.setdefault("metadata", {}).setdefault("creationTimestamp", None)


def _default_deployment(obj: JSONObject) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"})
    _default_template(obj)
    obj["status"] = {}


def _default_replicated(obj: JSONObject) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    _default_template(obj)
    obj["status"] = {"replicas": 0}


def _default_statefulset(obj: JSONObject) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    spec.setdefault(
        "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
    )
    _default_template(obj)
    obj["status"] = {"replicas": 0, "availableReplicas": 0}


def _default_daemonset(obj: JSONObject) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault(
        "updateStrategy",
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
    )
    _default_template(obj)
    obj["status"] = {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    }


def _default_job(obj: JSONObject) -> None:
    spec = obj.setdefault("spec", {})
    if "completions" not in spec and "parallelism" not in spec:
        spec["completions"] = 1  # both unset: one pod, once; parallelism alone: a work queue
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault(
        "podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed"
    )
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("spec", {}).setdefault("restartPolicy", "Never")
    _default_template(obj)
    if isinstance(template, dict) and spec.get("manualSelector") is not True:
        _generate_job_selector(obj, template)
    obj["status"] = {}


def _generate_job_selector(obj: JSONObject, template: JSONObject) -> None:
    """The job registry's ``generateSelector``: pods get the job's name and UID as labels and
    the selector picks the UID; a Job without labels takes its template's (as read back)."""
    meta = obj.setdefault("metadata", {})
    name, uid = str(meta.get("name") or ""), str(meta.get("uid") or "")
    template_meta = template.setdefault("metadata", {})
    user_labels = dict(template_meta.get("labels") or {})
    labels = template_meta.setdefault("labels", {})
    for key in ("job-name", "batch.kubernetes.io/job-name"):
        labels.setdefault(key, name)
    for key in ("controller-uid", "batch.kubernetes.io/controller-uid"):
        labels[key] = uid
    selector = obj["spec"].setdefault("selector", {})
    if isinstance(selector, dict):
        selector.setdefault("matchLabels", {}).setdefault("batch.kubernetes.io/controller-uid", uid)
    if not meta.get("labels"):
        meta["labels"] = user_labels or dict(labels)


def _default_cronjob(obj: JSONObject) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    pod_spec = dig(spec, "jobTemplate", "spec", "template", "spec")
    if isinstance(pod_spec, dict):
        _default_pod_spec(pod_spec)
    obj["status"] = {}


def _validate_selector_matches_template(
    obj: JSONObject, *, required: bool = True
) -> list[FieldError]:
    selector = dig(obj, "spec", "selector")
    if selector is None:
        return [FieldError.required("spec.selector")] if required else []
    try:
        parsed = LabelSelector.from_label_selector(selector)
    except SelectorError as exc:
        return [FieldError.invalid_value("spec.selector", selector, str(exc))]
    errors: list[FieldError] = []
    if parsed.empty and required:
        errors.append(
            FieldError.invalid_value(
                "spec.selector", selector, "empty selector is invalid for deployment"
            )
        )
    labels = dig(obj, "spec", "template", "metadata", "labels") or {}
    if not parsed.matches(labels):
        errors.append(
            FieldError.invalid_value(
                "spec.template.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
        )
    return errors


def _validate_workload(obj: JSONObject) -> list[FieldError]:
    errors = _validate_selector_matches_template(obj)
    errors += _validate_pod_spec(dig(obj, "spec", "template", "spec"), "spec.template.spec")
    replicas = dig(obj, "spec", "replicas")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
        errors.append(
            FieldError.invalid_value(
                "spec.replicas", replicas, "must be greater than or equal to 0"
            )
        )
    return errors


def _validate_job(obj: JSONObject) -> list[FieldError]:
    errors = _validate_pod_spec(dig(obj, "spec", "template", "spec"), "spec.template.spec")
    policy = dig(obj, "spec", "template", "spec", "restartPolicy")
    if policy not in ("OnFailure", "Never"):
        errors.append(
            FieldError.not_supported(
                "spec.template.spec.restartPolicy", policy, ["OnFailure", "Never"]
            )
        )
    return errors


def _immutable(field: str, new: object, old: object) -> list[FieldError]:
    if new != old:
        return [FieldError.invalid_value(field, new, "field is immutable")]
    return []


# -- services, namespaces, config ------------------------------------------------------------


def _default_service(obj: JSONObject, allocate_ip: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        if "clusterIP" not in spec or spec["clusterIP"] == "":
            spec["clusterIP"] = allocate_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    obj["status"] = {"loadBalancer": {}}


def _validate_service(obj: JSONObject) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errors: list[FieldError] = []
    if (
        spec.get("type") not in ("ExternalName",)
        and spec.get("clusterIP") != "None"
        and not spec.get("ports")
    ):
        errors.append(FieldError.required("spec.ports"))
    for i, port in enumerate(spec.get("ports") or []):
        p = port.get("port") if isinstance(port, dict) else None
        if not isinstance(p, int) or not 0 < p < 65536:
            errors.append(
                FieldError.invalid_value(
                    f"spec.ports[{i}].port", p, "must be between 1 and 65535, inclusive"
                )
            )
    return errors


def _default_namespace(obj: JSONObject) -> None:
    # the namespace strategy keeps finalizers the client asked for and adds its own
    spec = obj.setdefault("spec", {})
    finalizers = list(spec.get("finalizers") or [])
    if "kubernetes" not in finalizers:
        finalizers.append("kubernetes")
    spec["finalizers"] = finalizers
    obj["status"] = {"phase": "Active"}
    meta = obj.setdefault("metadata", {})
    labels = meta.setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = meta.get("name", "")


# -- dispatch ----------------------------------------------------------------------------------


def default_object(
    group: str, kind: str, obj: JSONObject, *, allocate_ip: Callable[[], str]
) -> None:
    """Apply kube-apiserver's defaults for a new object of this kind (in place)."""
    match (group, kind):
        case ("", "Pod"):
            _default_pod(obj)
        case ("", "Namespace"):
            _default_namespace(obj)
        case ("", "Service"):
            _default_service(obj, allocate_ip)
        case ("", "ReplicationController") | ("apps", "ReplicaSet"):
            _default_replicated(obj)
        case ("apps", "Deployment"):
            _default_deployment(obj)
        case ("apps", "StatefulSet"):
            _default_statefulset(obj)
        case ("apps", "DaemonSet"):
            _default_daemonset(obj)
        case ("batch", "Job"):
            _default_job(obj)
        case ("batch", "CronJob"):
            _default_cronjob(obj)
        case ("", "Secret"):
            obj.setdefault("type", "Opaque")


def validate_object(group: str, kind: str, obj: JSONObject) -> list[FieldError]:
    """Problems that make ``obj`` unstorable (422), besides the name."""
    errors = _validate_meta(obj)
    match (group, kind):
        case ("", "Pod"):
            errors += _validate_pod_spec(obj.get("spec"), "spec")
        case ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"):
            errors += _validate_workload(obj)
        case ("", "ReplicationController"):
            errors += _validate_pod_spec(dig(obj, "spec", "template", "spec"), "spec.template.spec")
        case ("batch", "Job"):
            errors += _validate_job(obj)
        case ("", "Service"):
            errors += _validate_service(obj)
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            errors += validate_crd(obj)
        case ("", "ConfigMap") | ("", "Secret"):
            for field in ("data", "binaryData", "stringData"):
                value = obj.get(field)
                if value is not None and not isinstance(value, dict):
                    errors.append(FieldError.invalid_value(field, value, "must be a map"))
    return errors


def validate_update(group: str, kind: str, new: JSONObject, old: JSONObject) -> list[FieldError]:
    """Problems with changing ``old`` into ``new`` (immutable fields)."""
    errors: list[FieldError] = []
    match (group, kind):
        case ("", "Pod"):
            errors += _validate_pod_update(new, old)
        case ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"):
            errors += _immutable(
                "spec.selector", dig(new, "spec", "selector"), dig(old, "spec", "selector")
            )
        case ("batch", "Job"):
            errors += _immutable(
                "spec.selector", dig(new, "spec", "selector"), dig(old, "spec", "selector")
            )
            errors += _immutable(
                "spec.template", dig(new, "spec", "template"), dig(old, "spec", "template")
            )
        case ("", "Service"):
            old_ip = dig(old, "spec", "clusterIP")
            new_ip = dig(new, "spec", "clusterIP")
            if new_ip not in (None, "", old_ip):
                errors += _immutable("spec.clusterIPs[0]", new_ip, old_ip)
        case ("", "ConfigMap") | ("", "Secret"):
            if old.get("immutable") is True:
                for field in ("data", "binaryData"):
                    if new.get(field) != old.get(field):
                        errors.append(
                            FieldError.forbidden(
                                field, "field is immutable when `immutable` is set"
                            )
                        )
                if new.get("immutable") is not True:
                    errors.append(
                        FieldError.forbidden(
                            "immutable", "field is immutable when `immutable` is set"
                        )
                    )
    return errors


def carry_over_on_update(group: str, kind: str, new: JSONObject, old: JSONObject) -> None:
    """Fields the server keeps from the stored object on update (allocated values)."""
    if (group, kind) == ("", "Service"):
        spec, old_spec = new.get("spec"), old.get("spec") or {}
        if isinstance(spec, dict):
            for field in ("clusterIP", "clusterIPs"):
                if not spec.get(field) and field in old_spec:
                    spec[field] = old_spec[field]
