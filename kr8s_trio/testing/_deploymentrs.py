"""The ReplicaSets of a Deployment: which one is new, making it, resizing, trimming history.

The new ReplicaSet is the oldest one whose pod template equals the Deployment's, ignoring the
``pod-template-hash`` label; when there is none it is created as ``<deployment>-<hash>`` with the
hash in its labels, selector and template, a controller owner reference, the Deployment's
annotations and ``deployment.kubernetes.io/revision`` (one above the old ReplicaSets'; reusing an
old template renumbers it and records ``revision-history``), ``desired-replicas`` and
``max-replicas``. The Deployment gets the new revision too. Old ReplicaSets scaled to zero are
deleted beyond ``revisionHistoryLimit``. Name clashes bump ``status.collisionCount``, as in
kube-controller-manager.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._revisions import compute_hash
from kr8s_trio.testing._rollouts import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    REVISION,
    REVISION_HISTORY,
    TEMPLATE_HASH,
    by_creation,
    condition,
    get_condition,
    max_surge,
    new_rs_new_replicas,
    replicas,
    revision,
    set_condition,
    status_replicas,
)
from kr8s_trio.testing._store import copy_json
from kr8s_trio.testing._strategies import default_object
from kr8s_trio.testing._workloadctx import controller_ref, controller_uid

if TYPE_CHECKING:
    from kr8s_trio.testing._workloadctx import WorkloadContext

__all__ = ["COMPONENT", "DeploymentReplicaSets", "without_hash"]

JSONObject = dict[str, Any]
#: the event source of everything the Deployment controller records
COMPONENT = "deployment-controller"
#: annotations of a Deployment its ReplicaSets do not copy
_SKIP_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)
_REVISION_HISTORY_CHARS = 2000


def without_hash(template: Mapping[str, Any]) -> JSONObject:
    """A pod template as the API server stores it in a ReplicaSet (defaults applied: a template
    changed by a patch may lack them), without the ``pod-template-hash`` label: what
    ``EqualIgnoreHash`` compares and the template hash is computed from."""
    holder: JSONObject = {"spec": {"template": copy_json(dict(template))}}
    default_object("apps", "ReplicaSet", holder, allocate_ip=lambda: "")
    out: JSONObject = holder["spec"]["template"]
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(TEMPLATE_HASH, None)
    return out


def _annotations(obj: JSONObject) -> dict[str, str]:
    annotations: dict[str, str] = obj["metadata"].setdefault("annotations", {})
    return annotations


def _set_replicas_annotations(rs: JSONObject, desired: int, most: int) -> bool:
    annotations = _annotations(rs)
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(most))):
        if annotations.get(key) != value:
            annotations[key] = value
            changed = True
    return changed


def _set_new_rs_annotations(d: JSONObject, rs: JSONObject, new_revision: int, exists: bool) -> None:
    """``SetNewReplicaSetAnnotations``: copy the Deployment's annotations, raise the revision
    (remembering the old one in ``revision-history`` on a rollback), set replica counts on a
    new ReplicaSet."""
    annotations = _annotations(rs)
    for key, value in (d["metadata"].get("annotations") or {}).items():
        if key not in _SKIP_ANNOTATIONS:
            annotations[key] = value
    old_text = annotations.get(REVISION)
    try:
        old = int(old_text) if old_text is not None else 0
    except ValueError:
        return
    if old < new_revision:
        annotations[REVISION] = str(new_revision)
        if old_text is not None:
            history = annotations.get(REVISION_HISTORY, "")
            parts = history.split(",") if history else []
            parts.append(old_text)
            while len(",".join(parts)) > _REVISION_HISTORY_CHARS and len(parts) > 1:
                parts.pop(0)
            annotations[REVISION_HISTORY] = ",".join(parts)
    if not exists:
        _set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d))


class DeploymentReplicaSets:
    """Reads and writes of a Deployment's ReplicaSets (and of the Deployment itself)."""

    def __init__(self, ctx: WorkloadContext) -> None:
        self.ctx = ctx

    def write_status(self, d: JSONObject) -> None:
        self.ctx.update_status("Deployment", d, d["status"])

    def write_annotations(self, d: JSONObject) -> None:
        annotations = d["metadata"].get("annotations")

        def put(o: JSONObject) -> None:
            o["metadata"]["annotations"] = copy_json(annotations or {})

        self.ctx.update("Deployment", d, put)

    def scale(
        self, rs: JSONObject, size: int, d: JSONObject, *, resize_only: bool = True
    ) -> tuple[bool, JSONObject]:
        """Set a ReplicaSet's size (and its replica annotations); (resized?, latest object).
        With ``resize_only`` an unchanged size writes nothing (``scaleReplicaSetAndRecordEvent``);
        without, stale annotations are refreshed too (``scaleReplicaSet``)."""
        old_size = replicas(rs)
        most = replicas(d) + max_surge(d)
        annotations = rs["metadata"].get("annotations") or {}
        if old_size == size and (
            resize_only
            or (
                annotations.get(DESIRED_REPLICAS) == str(replicas(d))
                and annotations.get(MAX_REPLICAS) == str(most)
            )
        ):
            return False, rs

        def put(o: JSONObject) -> None:
            o["spec"]["replicas"] = size
            _set_replicas_annotations(o, replicas(d), most)

        updated = self.ctx.update("ReplicaSet", rs, put)
        if updated is None:
            return False, rs
        if old_size != size:
            direction = "up" if size > old_size else "down"
            name = rs["metadata"]["name"]
            self.ctx.event(
                d,
                COMPONENT,
                "ScalingReplicaSet",
                f"Scaled {direction} replica set {name} from {old_size} to {size}",
            )
        return old_size != size, updated

    def get_all(
        self, d: JSONObject, rs_list: list[JSONObject], *, create: bool
    ) -> tuple[JSONObject | None, list[JSONObject]]:
        """(the new ReplicaSet, the old ones), creating the new one if asked."""
        template = without_hash(d["spec"].get("template") or {})
        existing = next(
            (
                rs
                for rs in by_creation(rs_list)
                if without_hash((rs.get("spec") or {}).get("template") or {}) == template
            ),
            None,
        )
        old = [rs for rs in rs_list if existing is None or rs is not existing]
        new = self._new_rs(d, old, existing, create)
        return new, old

    def _new_rs(
        self, d: JSONObject, old: list[JSONObject], existing: JSONObject | None, create: bool
    ) -> JSONObject | None:
        ctx = self.ctx
        new_revision = max((revision(rs) for rs in old), default=0) + 1
        has_deadline = isinstance(d["spec"].get("progressDeadlineSeconds"), int)
        status_changed = False
        if existing is not None:
            min_ready = d["spec"].get("minReadySeconds")

            def annotate(rs: JSONObject) -> None:
                _set_new_rs_annotations(d, rs, new_revision, exists=True)
                if min_ready:
                    rs["spec"]["minReadySeconds"] = min_ready
                else:
                    rs["spec"].pop("minReadySeconds", None)

            new = ctx.update("ReplicaSet", existing, annotate) or existing
            if has_deadline and get_condition(d["status"], "Progressing") is None:
                message = f'Found new replica set "{new["metadata"]["name"]}"'
                set_condition(
                    d["status"],
                    condition(
                        "Progressing", "True", "FoundNewReplicaSet", message, ctx.timestamp()
                    ),
                )
                status_changed = True
            self._set_revision(d, (new["metadata"].get("annotations") or {}).get(REVISION, ""))
            if status_changed:
                self.write_status(d)
            return new
        if not create:
            return None
        created = self._create_rs(d, old, new_revision)
        if created is None:
            return None
        self._set_revision(d, str(new_revision))
        if has_deadline:
            message = f'Created new replica set "{created["metadata"]["name"]}"'
            set_condition(
                d["status"],
                condition("Progressing", "True", "NewReplicaSetCreated", message, ctx.timestamp()),
            )
        self.write_status(d)
        return created

    def _set_revision(self, d: JSONObject, value: str) -> None:
        if value and _annotations(d).get(REVISION) != value:
            _annotations(d)[REVISION] = value
            self.write_annotations(d)

    def _create_rs(
        self, d: JSONObject, old: list[JSONObject], new_revision: int
    ) -> JSONObject | None:
        ctx = self.ctx
        meta = d["metadata"]
        collisions = d["status"].get("collisionCount")
        template = without_hash(d["spec"].get("template") or {})
        digest = compute_hash(template, collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[TEMPLATE_HASH] = digest
        selector = copy_json(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[TEMPLATE_HASH] = digest
        spec: JSONObject = {"replicas": 0, "selector": selector, "template": template}
        if d["spec"].get("minReadySeconds"):
            spec["minReadySeconds"] = d["spec"]["minReadySeconds"]
        rs: JSONObject = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{digest}",
                "namespace": meta.get("namespace"),
                "labels": dict(template["metadata"]["labels"]),
                "ownerReferences": [controller_ref(d)],
            },
            "spec": spec,
        }
        spec["replicas"] = new_rs_new_replicas(d, [*old, rs], rs)
        _set_new_rs_annotations(d, rs, new_revision, exists=False)
        try:
            created = ctx.create("ReplicaSet", meta.get("namespace"), rs)
        except APIError as exc:
            clash = ctx.get("ReplicaSet", meta.get("namespace"), rs["metadata"]["name"])
            if exc.code == 409 and clash is not None:
                if controller_uid(clash) == meta["uid"] and without_hash(
                    clash["spec"]["template"]
                ) == without_hash(template):
                    return clash
                d["status"]["collisionCount"] = (collisions or 0) + 1
                self.write_status(d)  # the write makes the Deployment sync again
                return None
            message = (
                f'Failed to create new replica set "{rs["metadata"]["name"]}": '
                f"{exc.status.get('message', exc)}"
            )
            if isinstance(d["spec"].get("progressDeadlineSeconds"), int):
                set_condition(
                    d["status"],
                    condition(
                        "Progressing", "False", "ReplicaSetCreateError", message, ctx.timestamp()
                    ),
                )
                self.write_status(d)
            ctx.event(d, COMPONENT, "ReplicaSetCreateError", message, warning=True)
            return None
        if replicas(created) > 0:
            ctx.event(
                d,
                COMPONENT,
                "ScalingReplicaSet",
                f"Scaled up replica set {created['metadata']['name']} "
                f"from 0 to {replicas(created)}",
            )
        return created

    def cleanup(self, d: JSONObject, old: list[JSONObject]) -> None:
        """Delete the oldest idle ReplicaSets beyond ``revisionHistoryLimit``."""
        limit = d["spec"].get("revisionHistoryLimit")
        if not isinstance(limit, int):
            return
        alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
        extra = len(alive) - limit
        if extra <= 0:
            return
        alive.sort(
            key=lambda rs: (
                revision(rs),
                str(rs["metadata"].get("creationTimestamp")),
                rs["metadata"]["name"],
            )
        )
        for rs in alive[:extra]:
            current = self.ctx.get(
                "ReplicaSet", rs["metadata"].get("namespace"), rs["metadata"]["name"]
            )
            if current is None or current["metadata"].get("uid") != rs["metadata"].get("uid"):
                continue
            if status_replicas(current) or replicas(current):
                continue
            if (current["metadata"].get("generation") or 0) > status_replicas(
                current, "observedGeneration"
            ):
                continue
            self.ctx.delete("ReplicaSet", current)
