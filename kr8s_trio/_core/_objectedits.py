"""Pure helpers behind APIObject methods: owner references, readiness, tolerations, taints,
scaling patches and Secret data. Each takes raw dicts and returns a value or a merge patch; the
I/O layer sends it. Validation follows kube-apiserver's rules so mistakes fail before a request.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence

from ._jsonpath import dig, dig_dotted
from ._names import label_key_errors, label_value_errors
from ._selectorbuild import label_selector_query
from ._selectors import LabelSelector

__all__ = [
    "TAINT_EFFECTS",
    "decode_secret_data",
    "dotted_merge_patch",
    "encode_secret_data",
    "get_dotted",
    "owner_reference",
    "owner_references_patch",
    "owner_references_with",
    "pod_is_ready",
    "pod_selector_query",
    "scale_patch",
    "selector_query_from_label_selector",
    "service_is_ready",
    "taints_after",
    "toleration",
    "tolerations_with",
    "workload_is_ready",
]

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _copy(value: object) -> object:
    if isinstance(value, Mapping):
        return _copy_map(value)
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def _copy_map(value: Mapping[str, object]) -> dict[str, object]:
    return {k: _copy(v) for k, v in value.items()}


# --- owner references ---------------------------------------------------------------------------


def owner_reference(
    owner_raw: Mapping[str, object], *, controller: bool = True, block_owner_deletion: bool = True
) -> dict[str, object]:
    """The ``ownerReference`` pointing at ``owner_raw`` (as kr8s's ``set_owner`` builds it).

    Raises:
        ValueError: the owner lacks ``apiVersion``, ``kind``, ``metadata.name`` or
            ``metadata.uid`` (an owner must exist in the cluster to have a uid); the message
            names the missing field.
    """
    fields = {
        "apiVersion": owner_raw.get("apiVersion"),
        "kind": owner_raw.get("kind"),
        "name": dig(owner_raw, "metadata", "name"),
        "uid": dig(owner_raw, "metadata", "uid"),
    }
    for field, value in fields.items():
        if not isinstance(value, str) or not value:
            where = field if field in ("apiVersion", "kind") else f"metadata.{field}"
            hint = " (create or refresh the owner first)" if field == "uid" else ""
            raise ValueError(f"owner reference: the owner has no {where}{hint}")
    return {**fields, "controller": controller, "blockOwnerDeletion": block_owner_deletion}


def owner_references_with(
    child_raw: Mapping[str, object], ref: Mapping[str, object]
) -> list[dict[str, object]]:
    """The child's ``ownerReferences`` with ``ref`` added (kr8s replaces the whole list).

    A reference with the same uid is replaced in place; otherwise ``ref`` is appended. Existing
    references are kept, in order.

    Raises:
        ValueError: ``ref`` is a controller reference and another owner already controls the
            child (the apiserver allows one ``controller: true`` reference).
    """
    found = dig(child_raw, "metadata", "ownerReferences")
    current = [r for r in found if isinstance(r, Mapping)] if isinstance(found, list) else []
    uid = ref.get("uid")
    if ref.get("controller") is True:
        for other in current:
            if other.get("controller") is True and other.get("uid") != uid:
                raise ValueError(
                    "only one owner reference can have controller set to true: "
                    f"{other.get('kind')}/{other.get('name')} already controls this object"
                )
    out: list[dict[str, object]] = []
    for other in current:
        if other.get("uid") != uid:
            out.append(_copy_map(other))
        elif not any(r.get("uid") == uid for r in out):
            out.append(_copy_map(ref))
    if not any(r.get("uid") == uid for r in out):
        out.append(_copy_map(ref))
    return out


def owner_references_patch(
    child_raw: Mapping[str, object], ref: Mapping[str, object]
) -> dict[str, object]:
    """A merge patch setting the child's owner references to `owner_references_with`.

    A merge patch replaces the whole list, so the patch carries the child's
    ``metadata.resourceVersion`` (when known): if the list changed since ``child_raw`` was read,
    the apiserver answers 409 Conflict instead of silently dropping the other change.
    """
    metadata: dict[str, object] = {"ownerReferences": owner_references_with(child_raw, ref)}
    version = dig(child_raw, "metadata", "resourceVersion")
    if isinstance(version, str) and version:
        metadata["resourceVersion"] = version
    return {"metadata": metadata}


# --- readiness ----------------------------------------------------------------------------------


def _condition_status(raw: Mapping[str, object], kind: str) -> str | None:
    for entry in dig(raw, "status", "conditions") or []:
        if isinstance(entry, Mapping) and entry.get("type") == kind:
            status = entry.get("status")
            return status if isinstance(status, str) else None
    return None


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def pod_is_ready(raw: Mapping[str, object]) -> bool:
    """Whether the Pod's ``Ready`` and ``ContainersReady`` conditions are both ``"True"``."""
    return all(_condition_status(raw, k) == "True" for k in ("Ready", "ContainersReady"))


def workload_is_ready(raw: Mapping[str, object]) -> bool:
    """Whether a Deployment / ReplicaSet / StatefulSet / ReplicationController is ready.

    ``status.observedGeneration >= metadata.generation`` (the controller has seen the latest
    spec; a missing generation counts as 0) and ``status.readyReplicas == spec.replicas``
    (a missing ``readyReplicas`` is 0, a missing ``replicas`` is 1, the apps/v1 default).
    """
    generation = _int(dig(raw, "metadata", "generation"), 0)
    observed = _int(dig(raw, "status", "observedGeneration"), 0)
    ready = _int(dig(raw, "status", "readyReplicas"), 0)
    wanted = _int(dig(raw, "spec", "replicas"), 1)
    return observed >= generation and ready == wanted


def service_is_ready(raw: Mapping[str, object], ready_pod_count: int) -> bool:
    """Whether a Service is ready: at least one ready pod, and for ``type: LoadBalancer`` an
    entry in ``status.loadBalancer.ingress``."""
    if dig(raw, "spec", "type") == "LoadBalancer" and not dig(
        raw, "status", "loadBalancer", "ingress"
    ):
        return False
    return ready_pod_count >= 1


def selector_query_from_label_selector(selector: Mapping[str, object]) -> str:
    """The canonical ``labelSelector`` text of a ``LabelSelector`` object.

    ``matchLabels`` and ``matchExpressions`` (``In``, ``NotIn``, ``Exists``, ``DoesNotExist``)
    are ANDed. ``{}`` selects everything (``""``). For a plain ``{label: value}`` map (a Service's
    ``spec.selector``) use `kr8s_trio._core._selectorbuild.label_selector_query`.

    Raises:
        SelectorError: the object is malformed (a `ValueError`); the message gives the path.
    """
    return str(LabelSelector.from_label_selector(selector))


def pod_selector_query(raw: Mapping[str, object]) -> str | None:
    """The ``labelSelector`` text selecting the pods of a Service or a workload, or None.

    A Service's ``spec.selector`` is a plain label map; workloads have a ``LabelSelector``
    object. None means the object selects no pods (a missing or empty selector: a Service without
    selector has manually managed endpoints), never "all pods".

    Raises:
        SelectorError: the selector is malformed.
    """
    selector = dig(raw, "spec", "selector")
    if not isinstance(selector, Mapping) or not selector:
        return None
    if raw.get("kind") == "Service":
        text = label_selector_query(dict(selector))
    else:
        text = selector_query_from_label_selector(selector)
    return text or None


# --- tolerations and taints ---------------------------------------------------------------------


def toleration(
    key: str,
    *,
    operator: str,
    effect: str,
    value: str | None = None,
    toleration_seconds: int | None = None,
) -> dict[str, object]:
    """A Pod toleration, validated like the apiserver does.

    Args:
        key: the taint key; ``""`` (with ``Exists``) tolerates every taint.
        operator: ``Equal`` (``""`` means ``Equal``) or ``Exists``.
        effect: ``NoSchedule``, ``PreferNoSchedule``, ``NoExecute``, or ``""`` for all effects.
        value: the taint value for ``Equal``; must be empty/None with ``Exists``.
        toleration_seconds: how long a ``NoExecute`` taint is tolerated (only with NoExecute).

    Raises:
        ValueError: the toleration is invalid; the message names the field.
    """
    errors: list[str] = []
    if key:
        errors += [f"key: {e}" for e in label_key_errors(key)]
    op = operator or "Equal"
    if op not in ("Equal", "Exists"):
        errors.append(f"operator: {operator!r} is not supported: expected 'Equal' or 'Exists'")
    if not key and op != "Exists":
        errors.append("operator: must be Exists when key is empty (match all keys and values)")
    if op == "Exists" and value:
        errors.append("value: must be empty when operator is 'Exists'")
    if op == "Equal" and value:
        errors += [f"value: {e}" for e in label_value_errors(value)]
    if effect and effect not in TAINT_EFFECTS:
        errors.append(f"effect: {effect!r} is not one of {', '.join(TAINT_EFFECTS)} or ''")
    if toleration_seconds is not None:
        if not isinstance(toleration_seconds, int) or isinstance(toleration_seconds, bool):
            errors.append("tolerationSeconds: must be an integer")
        if effect != "NoExecute":
            errors.append("effect: must be 'NoExecute' when tolerationSeconds is set")
    if errors:
        raise ValueError(f"invalid toleration {key!r}: " + "; ".join(errors))
    out: dict[str, object] = {"key": key, "operator": op} if key else {"operator": op}
    if value:
        out["value"] = value
    if effect:
        out["effect"] = effect
    if toleration_seconds is not None:
        out["tolerationSeconds"] = toleration_seconds
    return out


def tolerations_with(
    current: Sequence[Mapping[str, object]] | None, tol: Mapping[str, object]
) -> list[dict[str, object]]:
    """``current`` tolerations plus ``tol`` (not added again when an equal one is there)."""
    out = [_copy_map(t) for t in current or []]
    if dict(tol) not in out:
        out.append(_copy_map(tol))
    return out


def taints_after(
    current: Sequence[Mapping[str, object]] | None, key: str, value: str | None, effect: str
) -> list[dict[str, object]]:
    """A Node's ``spec.taints`` after kubectl-style taint edit (kr8s ``Node.taint``).

    ``effect`` ``"NoSchedule"`` (or another effect) adds ``key=value:effect``; a taint with the
    same key and effect gets the new value in place (``kubectl taint --overwrite``).
    ``effect`` ending in ``-`` removes: ``"NoSchedule-"`` removes the taint with that key and
    effect (``kubectl taint node n key:NoSchedule-``), a bare ``"-"`` removes every taint with
    that key (``key-``); ``value`` is ignored when removing, as kubectl ignores it.

    Raises:
        ValueError: an invalid key, value or effect.
        LookupError: nothing matched a removal (kubectl: ``taint "key:Effect" not found``).
    """
    taints = [_copy_map(t) for t in current or []]
    if effect.endswith("-"):
        wanted = effect[:-1]
        if wanted and wanted not in TAINT_EFFECTS:
            raise ValueError(f"taint effect {wanted!r} is not one of {', '.join(TAINT_EFFECTS)}")
        kept = [
            t
            for t in taints
            if not (t.get("key") == key and (not wanted or t.get("effect") == wanted))
        ]
        if len(kept) == len(taints):
            shown = f"{key}:{wanted}" if wanted else key
            raise LookupError(f"taint {shown!r} not found")
        return kept
    errors = [f"key: {e}" for e in label_key_errors(key)]
    if value:
        errors += [f"value: {e}" for e in label_value_errors(value)]
    if effect not in TAINT_EFFECTS:
        errors.append(f"effect: {effect!r} is not one of {', '.join(TAINT_EFFECTS)}")
    if errors:
        raise ValueError(f"invalid taint {key!r}: " + "; ".join(errors))
    new: dict[str, object] = {"key": key, "effect": effect}
    if value:
        new["value"] = value
    for i, taint in enumerate(taints):
        if taint.get("key") == key and taint.get("effect") == effect:
            taints[i] = new
            return taints
    taints.append(new)
    return taints


# --- dotted paths and scaling -------------------------------------------------------------------


def get_dotted(raw: Mapping[str, object], path: str, default: object = None) -> object:
    """The value at a dotted path (``"spec.replicas"``), or ``default`` when missing or null."""
    value = dig_dotted(raw, path)
    return default if value is None else value


def dotted_merge_patch(path: str, value: object) -> dict[str, object]:
    """The JSON merge patch setting a dotted path: ``"spec.parallelism", 3`` ->
    ``{"spec": {"parallelism": 3}}``.

    Raises:
        ValueError: the path is empty or has an empty segment.
    """
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise ValueError(f"invalid dotted path {path!r}: segments must be non-empty")
    patch: dict[str, object] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        patch = {part: patch}
    return patch


def scale_patch(scalable_spec: str, replicas: int) -> dict[str, object]:
    """The merge patch scaling an object: ``spec.<scalable_spec> = replicas``.

    Raises:
        ValueError: ``replicas`` is not a non-negative integer.
    """
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise ValueError(f"replicas must be a non-negative integer, got {replicas!r}")
    return dotted_merge_patch(f"spec.{scalable_spec}", replicas)


# --- Secret data --------------------------------------------------------------------------------

_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")


def decode_secret_data(data: Mapping[str, str] | None) -> dict[str, bytes]:
    """Decode a Secret's ``data`` (base64 text per key) to bytes.

    Line breaks inside the text are ignored (as Go's decoder does); anything else that is not
    standard padded base64 is an error.

    Raises:
        ValueError: a value is not valid base64. The message names the key and never contains
            the value.
        TypeError: a value is not a string (the message names the key only).
    """
    out: dict[str, bytes] = {}
    for key, text in (data or {}).items():
        if not isinstance(text, str):
            raise TypeError(f"secret data key {key!r}: expected base64 text, got a non-string")
        compact = text.replace("\r", "").replace("\n", "")
        try:
            out[key] = base64.b64decode(compact.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error, ValueError):
            raise ValueError(
                f"secret data key {key!r}: the value is not valid base64 "
                f"({len(text)} characters; value not shown)"
            ) from None
    return out


def encode_secret_data(data: Mapping[str, bytes | str] | None) -> dict[str, str]:
    """Encode values (bytes, or str as UTF-8) as a Secret's ``data`` (base64 text).

    Raises:
        ValueError: a key is not a valid Secret key (``[-._a-zA-Z0-9]+``, at most 253
            characters, not ``.``/``..``) or a str value is not encodable. Values are never
            shown in messages.
        TypeError: a value is neither bytes nor str.
    """
    out: dict[str, str] = {}
    for key, value in (data or {}).items():
        if (
            not isinstance(key, str)
            or len(key) > 253
            or key in (".", "..")
            or not _SECRET_KEY.fullmatch(key)
        ):
            raise ValueError(
                f"secret data key {key!r}: a valid Secret key must consist of alphanumeric "
                "characters, '-', '_' or '.' (at most 253, not '.' or '..')"
            )
        if isinstance(value, str):
            try:
                value = value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    f"secret data key {key!r}: the str value is not encodable as UTF-8 "
                    "(value not shown)"
                ) from None
        if not isinstance(value, bytes | bytearray):
            raise TypeError(f"secret data key {key!r}: expected bytes or str, got a non-string")
        out[key] = base64.b64encode(value).decode("ascii")
    return out
