"""Template hashes and ControllerRevisions: how workload controllers tell pod templates apart.

A Deployment names its ReplicaSets ``<deployment>-<hash>`` and labels them (and their pods)
``pod-template-hash``; StatefulSets and DaemonSets snapshot their template into
ControllerRevisions named ``<owner>-<hash>`` and label pods ``controller-revision-hash``. The
hash only has to be stable and change with the template: like kube-controller-manager it is an
FNV-1a 32-bit hash (of the canonical JSON here), mixed with the owner's ``collisionCount``, its
decimal digits spelled in the alphabet of generated names.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._rest import NAME_ALPHABET
from kr8s_trio.testing._store import copy_json
from kr8s_trio.testing._workloadctx import controller_ref

if TYPE_CHECKING:
    from kr8s_trio.testing._workloadctx import WorkloadContext

__all__ = [
    "HASH_LABEL",
    "compute_hash",
    "ensure_revision",
    "revision_number",
    "template_patch",
    "truncate_history",
]

JSONObject = dict[str, Any]

#: the label of a ControllerRevision of a StatefulSet that holds its hash
HASH_LABEL = "controller.kubernetes.io/hash"


def _fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def compute_hash(obj: object, collision_count: int | None = None) -> str:
    """A short, stable, name-safe hash of ``obj`` (a pod template, a revision's data)."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += struct.pack("<I", collision_count & 0xFFFFFFFF)
    return "".join(NAME_ALPHABET[ord(c) % len(NAME_ALPHABET)] for c in str(_fnv1a32(data)))


def template_patch(template: Mapping[str, Any]) -> JSONObject:
    """What a StatefulSet or DaemonSet revision stores: a patch replacing the pod template."""
    return {"spec": {"template": {**copy_json(dict(template)), "$patch": "replace"}}}


def revision_number(revision: Mapping[str, Any]) -> int:
    value = revision.get("revision")
    return value if isinstance(value, int) else 0


def _sorted(revisions: list[JSONObject]) -> list[JSONObject]:
    return sorted(
        revisions,
        key=lambda r: (
            revision_number(r),
            str(r["metadata"].get("creationTimestamp")),
            r["metadata"]["name"],
        ),
    )


def ensure_revision(
    ctx: WorkloadContext,
    owner: Mapping[str, Any],
    revisions: list[JSONObject],
    *,
    labels: Mapping[str, str],
    hash_label: str,
    collision_count: int,
    annotations: Mapping[str, str] | None = None,
) -> tuple[JSONObject | None, int]:
    """The revision of ``owner``'s current template, created if missing, and renumbered to
    be the newest when an older revision has the same template (a rollback).

    ``revisions`` are the owner's claimed ControllerRevisions; ``hash_label`` is the label
    carrying the hash on the revision. Returns (revision, collision count): on a name clash
    with an unrelated revision the count goes up and a new name is tried, as the real
    controllers do.
    """
    data = template_patch(owner["spec"]["template"])
    ordered = _sorted(revisions)
    latest = revision_number(ordered[-1]) if ordered else 0
    equal = [r for r in ordered if r.get("data") == data]
    if equal:
        found = equal[-1]
        if ordered and found["metadata"]["uid"] == ordered[-1]["metadata"]["uid"]:
            return found, collision_count

        def renumber(r: JSONObject) -> None:
            r["revision"] = latest + 1

        return ctx.update("ControllerRevision", found, renumber), collision_count
    namespace = owner["metadata"].get("namespace")
    for _ in range(8):
        digest = compute_hash(data, collision_count)
        revision: JSONObject = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": f"{owner['metadata']['name']}-{digest}",
                "namespace": namespace,
                "labels": {**labels, hash_label: digest},
                "ownerReferences": [controller_ref(owner)],
            },
            "data": data,
            "revision": latest + 1,
        }
        if annotations:
            revision["metadata"]["annotations"] = dict(annotations)
        try:
            return ctx.create("ControllerRevision", namespace, revision), collision_count
        except APIError as exc:
            if exc.code != 409:
                ctx.note_error(exc)
                return None, collision_count
            clash = ctx.get("ControllerRevision", namespace, revision["metadata"]["name"])
            if clash is not None and clash.get("data") == data:
                return clash, collision_count
            collision_count += 1
    return None, collision_count


def truncate_history(
    ctx: WorkloadContext, revisions: list[JSONObject], live: set[str], limit: int
) -> None:
    """Delete the oldest revisions not in use (``live`` names) beyond ``limit``."""
    history = [r for r in _sorted(revisions) if r["metadata"]["name"] not in live]
    for revision in history[: max(len(history) - limit, 0)]:
        ctx.delete("ControllerRevision", revision)
