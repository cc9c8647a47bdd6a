"""The data of a ConfigMap or Secret as the kubelet reads it, for env vars and volumes."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kr8s_trio.testing._state import ClusterState

__all__ = ["config_data"]


def _b64decode(value: object) -> bytes | None:
    try:
        return base64.b64decode(str(value))
    except binascii.Error:
        return None


def config_data(
    state: ClusterState, namespace: str, resource: str, name: str, *, binary_data: bool = False
) -> dict[str, bytes]:
    """The keys of ConfigMap (``resource="configmaps"``) or Secret (``"secrets"``) ``name``:
    a Secret's values base64-decoded (undecodable ones are left out), a ConfigMap's ``data``
    encoded as UTF-8 and, with ``binary_data``, its ``binaryData`` decoded too. Empty when the
    object does not exist."""
    rt = state.registry.get("", "v1", resource)
    stored = state.rest.find(rt, namespace, name) if rt is not None else None
    if stored is None:
        return {}
    values: dict[str, bytes] = {}
    for key, value in (stored.obj.get("data") or {}).items():
        if resource == "secrets":
            if (decoded := _b64decode(value)) is not None:
                values[str(key)] = decoded
        else:
            values[str(key)] = str(value).encode("utf-8", "surrogatepass")
    if binary_data:
        for key, value in (stored.obj.get("binaryData") or {}).items():
            if (decoded := _b64decode(value)) is not None:
                values[str(key)] = decoded
    return values
