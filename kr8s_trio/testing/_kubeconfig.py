"""Write the kubeconfig that points clients (ours, kubectl, the official client) at the fake.

A kubeconfig is how every Kubernetes client finds a cluster, so the fake cluster emits a real
one: the CA inline (``certificate-authority-data``), one user authenticating with a bearer
token and, when a client certificate was issued, one with ``client-certificate-data`` /
``client-key-data``. The file holds credentials, so it is created with mode 0600 from the
first byte (``os.open`` with that mode), never written first and ``chmod``-ed afterwards.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import yaml

from kr8s_trio.testing._tls import ClientCert

__all__ = [
    "CERT_CONTEXT",
    "CLUSTER_NAME",
    "TOKEN_CONTEXT",
    "build_kubeconfig",
    "write_kubeconfig",
]

CLUSTER_NAME = "fake"
#: The current context: the bearer-token user.
TOKEN_CONTEXT = "fake"
#: The client-certificate user's context (present only when a certificate was given).
CERT_CONTEXT = "fake-cert"
_TOKEN_USER = "fake-token"
_CERT_USER = "fake-cert"


def build_kubeconfig(
    server_url: str,
    ca_pem: bytes,
    *,
    token: str,
    client_cert: ClientCert | None,
    namespace: str = "default",
) -> dict[str, Any]:
    """Build a kubeconfig document for the fake cluster.

    Args:
        server_url: The API server's URL, e.g. ``https://127.0.0.1:6443``.
        ca_pem: The cluster CA certificate (PEM).
        token: The bearer token of the ``fake-token`` user.
        client_cert: The ``fake-cert`` user's certificate and key, or ``None`` to leave that
            user and its context out.
        namespace: The namespace of every context.

    Returns:
        The kubeconfig as plain data (``apiVersion: v1``, ``kind: Config``), current context
        ``fake``.
    """
    users: list[dict[str, Any]] = [{"name": _TOKEN_USER, "user": {"token": token}}]
    contexts: list[dict[str, Any]] = [_context(TOKEN_CONTEXT, _TOKEN_USER, namespace)]
    if client_cert is not None:
        users.append(
            {
                "name": _CERT_USER,
                "user": {
                    "client-certificate-data": _b64(client_cert.cert_pem),
                    "client-key-data": _b64(client_cert.key_pem),
                },
            }
        )
        contexts.append(_context(CERT_CONTEXT, _CERT_USER, namespace))
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {"server": server_url, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": users,
        "contexts": contexts,
        "current-context": TOKEN_CONTEXT,
    }


def write_kubeconfig(path: str | os.PathLike[str], config: dict[str, Any]) -> None:
    """Write ``config`` as YAML to ``path``, readable by its owner only.

    The file is created (or truncated) with mode 0600; an existing file's mode is tightened
    to 0600 through its open descriptor before anything is written.

    Args:
        path: Where to write; the directory must exist.
        config: A kubeconfig document, e.g. from :func:`build_kubeconfig`.

    Raises:
        OSError: The file could not be created or written.
    """
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with open(fd, "w", encoding="utf-8") as file:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file that already existed
        file.write(text)


def _context(name: str, user: str, namespace: str) -> dict[str, Any]:
    return {
        "name": name,
        "context": {"cluster": CLUSTER_NAME, "user": user, "namespace": namespace},
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
