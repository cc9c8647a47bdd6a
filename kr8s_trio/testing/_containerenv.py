"""The environment of a process in a simulated container, as the kubelet builds it.

``PATH`` and ``HOSTNAME`` (and ``TERM`` on a terminal), then the container spec's ``envFrom``
and ``env`` (literal values, ``fieldRef`` s of the pod, ConfigMap and Secret keys, read from the
API when the session starts), the variables of the ``kubernetes`` Service, and ``HOME``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio.testing._configdata import config_data

if TYPE_CHECKING:
    from kr8s_trio.testing._state import ClusterState

__all__ = ["DEFAULT_PATH", "container_env"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: what the ``kubernetes`` Service puts in every container's environment
KUBERNETES_SERVICE_ENV = {
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "KUBERNETES_SERVICE_PORT": "443",
    "KUBERNETES_SERVICE_PORT_HTTPS": "443",
    "KUBERNETES_PORT": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
    "KUBERNETES_PORT_443_TCP_PORT": "443",
    "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
}


def _field_ref(pod: Mapping[str, Any], path: str) -> str:
    meta, spec, status = (pod.get(k) or {} for k in ("metadata", "spec", "status"))
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": status.get("podIP"),
        "status.hostIP": status.get("hostIP"),
    }
    if path in simple:
        return str(simple[path] or "")
    for field in ("labels", "annotations"):
        prefix = f"metadata.{field}['"
        if path.startswith(prefix) and path.endswith("']"):
            return str((meta.get(field) or {}).get(path[len(prefix) : -2], ""))
    return ""


def _object_data(state: ClusterState, namespace: str, resource: str, name: str) -> dict[str, str]:
    """The ConfigMap's or Secret's keys as text (binaryData is not offered to env vars)."""
    data = config_data(state, namespace, resource, name)
    return {k: v.decode("utf-8", "replace") for k, v in data.items()}


def container_env(
    state: ClusterState | None,
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    *,
    tty: bool = False,
) -> dict[str, str]:
    """The environment of a process in ``container``: ``PATH``, ``HOSTNAME`` (and ``TERM``
    with a terminal), then the spec's ``envFrom`` and ``env`` (values, field references,
    ConfigMap and Secret keys), the ``kubernetes`` Service variables, and ``HOME``."""
    meta = pod.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": str(meta.get("name") or "")}
    if tty:
        env["TERM"] = "xterm"
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        for kind, resource in (("configMapRef", "configmaps"), ("secretRef", "secrets")):
            ref = source.get(kind)
            if ref and state is not None:
                data = _object_data(state, namespace, resource, str(ref.get("name", "")))
                env.update({prefix + k: v for k, v in data.items()})
    for var in container.get("env") or []:
        name = str(var.get("name", ""))
        value_from = var.get("valueFrom")
        if not value_from:
            env[name] = str(var.get("value", ""))
        elif "fieldRef" in value_from:
            env[name] = _field_ref(pod, str(value_from["fieldRef"].get("fieldPath", "")))
        elif state is not None:
            for kind, resource in (("configMapKeyRef", "configmaps"), ("secretKeyRef", "secrets")):
                ref = value_from.get(kind)
                if ref:
                    data = _object_data(state, namespace, resource, str(ref.get("name", "")))
                    if ref.get("key") in data:
                        env[name] = data[ref["key"]]
    for key, value in KUBERNETES_SERVICE_ENV.items():
        env.setdefault(key, value)
    env.setdefault("HOME", "/root")
    return env
