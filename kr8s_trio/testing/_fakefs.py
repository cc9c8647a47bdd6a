"""A simulated container's files: enough for ``ls`` and ``cat`` in exec sessions.

Nothing touches the host's disk. Each container of a pod has a `FakeFS`: the files tests wrote
(``cluster.container_fs(pod, container).write(...)``) or commands wrote (``echo x > /tmp/f``),
over a generated layer that mirrors what the kubelet puts in every container: ``/etc/hostname``,
``/etc/hosts``, ``/etc/resolv.conf``, the service account's namespace file, and the keys of
mounted ConfigMap and Secret volumes (read when the session starts, so they follow the API).
Directories exist when something is stored below them, or when made explicitly; a skeleton of
the usual top-level directories is always there.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio.testing._configdata import config_data

if TYPE_CHECKING:
    from kr8s_trio.testing._state import ClusterState

__all__ = ["FakeFS", "pod_files"]

JSONObject = dict[str, Any]

#: the directories of a minimal Linux image
SKELETON = (
    "/bin",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/tmp",
    "/usr",
    "/usr/bin",
    "/usr/local",
    "/usr/local/bin",
    "/usr/sbin",
    "/var",
    "/var/log",
)

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def normalize(path: str, cwd: str = "/") -> str:
    """An absolute, normalised path (relative paths are taken from ``cwd``)."""
    full = posixpath.normpath(posixpath.join(cwd, path))
    # normpath keeps a leading "//"
    return "/" + full.lstrip("/")


class FakeFS:
    """The files of one container: written ones over a generated layer (see the module)."""

    def __init__(self, files: Mapping[str, bytes | str] | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = {"/", *SKELETON}
        #: files computed from the pod (hostname, hosts, volumes); written files win
        self.generated: dict[str, bytes] = {}
        for path, data in (files or {}).items():
            self.write(path, data)

    # -- reading ------------------------------------------------------------------------------

    def _all_files(self) -> dict[str, bytes]:
        return {**self.generated, **self.files}

    def is_file(self, path: str) -> bool:
        path = normalize(path)
        return path in self.files or path in self.generated

    def is_dir(self, path: str) -> bool:
        path = normalize(path)
        if path in self.dirs:
            return True
        prefix = path.rstrip("/") + "/"
        return any(p.startswith(prefix) for p in self._all_files()) or any(
            d.startswith(prefix) for d in self.dirs
        )

    def exists(self, path: str) -> bool:
        return self.is_file(path) or self.is_dir(path)

    def read(self, path: str) -> bytes:
        """A file's contents.

        Raises:
            IsADirectoryError: ``path`` is a directory.
            FileNotFoundError: nothing is there.
        """
        path = normalize(path)
        found = self.files.get(path, self.generated.get(path))
        if found is not None:
            return found
        if self.is_dir(path):
            raise IsADirectoryError(path)
        raise FileNotFoundError(path)

    def listdir(self, path: str = "/") -> list[str]:
        """The sorted names in a directory.

        Raises:
            NotADirectoryError: ``path`` is a file.
            FileNotFoundError: nothing is there.
        """
        path = normalize(path)
        if self.is_file(path):
            raise NotADirectoryError(path)
        if not self.is_dir(path):
            raise FileNotFoundError(path)
        prefix = "/" if path == "/" else path + "/"
        names = {
            p[len(prefix) :].split("/", 1)[0]
            for p in (*self._all_files(), *self.dirs)
            if p.startswith(prefix) and p != prefix
        }
        return sorted(names)

    # -- writing ------------------------------------------------------------------------------

    def write(self, path: str, data: bytes | str, *, append: bool = False) -> None:
        """Store a file (parent directories appear with it).

        Raises:
            IsADirectoryError: ``path`` is a directory.
            NotADirectoryError: a parent is a file.
        """
        path = normalize(path)
        if self.is_dir(path):
            raise IsADirectoryError(path)
        parent = posixpath.dirname(path)
        while parent != "/":
            if self.is_file(parent):
                raise NotADirectoryError(parent)
            parent = posixpath.dirname(parent)
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if append:
            raw = self.files.get(path, self.generated.get(path, b"")) + raw
        self.files[path] = raw

    def mkdir(self, path: str) -> None:
        """Make a directory (and its parents)."""
        path = normalize(path)
        if self.is_file(path):
            raise FileExistsError(path)
        while path != "/":
            self.dirs.add(path)
            path = posixpath.dirname(path)

    def remove(self, path: str) -> None:
        """Remove a written file.

        Raises:
            FileNotFoundError: no written file is there (generated files cannot be removed).
        """
        path = normalize(path)
        if path not in self.files:
            raise FileNotFoundError(path)
        del self.files[path]


# -- the generated layer ----------------------------------------------------------------------


def _hosts(pod: Mapping[str, Any]) -> bytes:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    name, ip = meta.get("name", ""), status.get("podIP") or ""
    lines = [
        "# Kubernetes-managed hosts file.",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "fe00::0\tip6-mcastprefix",
        "fe00::1\tip6-allnodes",
        "fe00::2\tip6-allrouters",
    ]
    if ip:
        lines.append(f"{ip}\t{name}")
    return ("\n".join(lines) + "\n").encode()


def _resolv_conf(namespace: str) -> bytes:
    return (
        f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\n"
        "options ndots:5\n"
    ).encode()


def _volume_files(
    state: ClusterState, namespace: str, volume: Mapping[str, Any]
) -> dict[str, bytes] | None:
    """The files of a ConfigMap or Secret volume, by relative path (None: another kind; an
    empty dict when the object is missing)."""
    if "configMap" in volume:
        source, resource, name_field = volume["configMap"] or {}, "configmaps", "name"
    elif "secret" in volume:
        source, resource, name_field = volume["secret"] or {}, "secrets", "secretName"
    else:
        return None
    name = str(source.get(name_field, ""))
    values = config_data(state, namespace, resource, name, binary_data=True)
    items = source.get("items")
    if not items:
        return values
    return {
        str(item.get("path") or item["key"]): values[item["key"]]
        for item in items
        if item.get("key") in values
    }


def pod_files(
    state: ClusterState, pod: Mapping[str, Any], container: Mapping[str, Any]
) -> dict[str, bytes]:
    """The generated layer of one container of ``pod`` (see the module)."""
    meta = pod.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    files = {
        "/etc/hostname": f"{meta.get('name', '')}\n".encode(),
        "/etc/hosts": _hosts(pod),
        "/etc/resolv.conf": _resolv_conf(namespace),
        f"{SERVICE_ACCOUNT_DIR}/namespace": namespace.encode(),
    }
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        if volume is None:
            continue
        mounted = _volume_files(state, namespace, volume)
        if mounted is None:
            continue
        base = normalize(str(mount.get("mountPath") or "/"))
        sub = mount.get("subPath")
        if sub:
            if sub in mounted:
                files[base] = mounted[sub]
            continue
        for rel, data in mounted.items():
            files[normalize(rel, base)] = data
    return files
