"""The Job controller: run pods to completion, count successes and failures, finish.

As kube-controller-manager's ``job-controller`` (1.31+): the Job's selector and pod labels
(``batch.kubernetes.io/controller-uid``, ``batch.kubernetes.io/job-name`` and their legacy
twins) come from the API server; the controller keeps ``min(parallelism, completions -
succeeded)`` pods active (``generateName`` ``<job>-``; Indexed Jobs name ``<job>-<index>-``,
annotate and label the completion index and set the hostname), counts each finished pod once
(Succeeded; Failed, deleted while running, or vanished), recreates failed pods after the
exponential pod-failure backoff (10 s doubling, at most 6 min, on trio's clock), and reports
``active``, ``ready``, ``terminating``, ``succeeded``, ``failed``, ``startTime``,
``completedIndexes`` and ``uncountedTerminatedPods``. Reaching ``completions`` adds
``SuccessCriteriaMet`` then ``Complete`` (``CompletionsReached``) with ``completionTime``; more
failures than ``backoffLimit`` (or container restarts with ``OnFailure``), or
``activeDeadlineSeconds`` passing, add ``FailureTarget`` then ``Failed`` once the remaining pods
are gone. ``suspend`` deletes active pods and adds the ``Suspended`` condition. Pods do not get
the ``batch.kubernetes.io/job-tracking`` finalizer: finished pods are counted in memory instead.
``ttlSecondsAfterFinished`` and ``podFailurePolicy`` are not acted on.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio._core._exceptions import APIError, SelectorError
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._clock import parse_time
from kr8s_trio.testing._podhealth import (
    deletion_order,
    is_active,
    is_deleting,
    is_ready,
    is_terminal,
)
from kr8s_trio.testing._replicasets import pod_from_template

if TYPE_CHECKING:
    from kr8s_trio.testing._workloadctx import WorkloadContext

__all__ = ["JobController"]

JSONObject = dict[str, Any]
_COMPONENT = "job-controller"
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
_BACKOFF = 10.0
_MAX_BACKOFF = 360.0
_BURST = 500


def _condition(kind: str, status: str, reason: str, message: str, now: str) -> JSONObject:
    return {
        "type": kind,
        "status": status,
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def _has(conditions: list[JSONObject], kind: str) -> JSONObject | None:
    return next(
        (c for c in conditions if c.get("type") == kind and c.get("status") == "True"), None
    )


def _index(pod: Mapping[str, Any]) -> int | None:
    value = (pod["metadata"].get("annotations") or {}).get(INDEX_KEY)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _intervals(indexes: set[int]) -> str:
    """``completedIndexes`` text: ``"0-2,4"``."""
    parts: list[str] = []
    ordered = sorted(indexes)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def _parse_intervals(text: object) -> set[int]:
    out: set[int] = set()
    for part in str(text or "").split(","):
        lo, _, hi = part.partition("-")
        if lo.isdigit():
            out.update(range(int(lo), int(hi if hi.isdigit() else lo) + 1))
    return out


class _Tracking:
    """What the controller remembers of one Job's pods (the real one uses a finalizer)."""

    def __init__(self, uid: str) -> None:
        self.uid = uid
        self.counted: set[str] = set()
        self.seen: set[str] = set()
        self.failures_since_success = 0
        self.last_failure: datetime.datetime | None = None


class JobController:
    """Syncs Jobs (see the module docstring)."""

    def __init__(self, ctx: WorkloadContext) -> None:
        self.ctx = ctx
        #: (namespace, name) -> tracking of the Job with that name; forgotten once it finishes
        #: or is gone
        self._jobs: dict[tuple[str, str], _Tracking] = {}

    def sync(self, namespace: str, name: str) -> None:
        ctx = self.ctx
        job = ctx.get("Job", namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            self._jobs.pop((namespace, name), None)
            return
        status: JSONObject = dict(job.get("status") or {})
        conditions: list[JSONObject] = list(status.get("conditions") or [])
        if _has(conditions, "Complete") or _has(conditions, "Failed"):
            self._jobs.pop((namespace, name), None)
            return
        try:
            selector = LabelSelector.from_label_selector((job.get("spec") or {}).get("selector"))
        except SelectorError:
            return
        if selector.empty:
            return
        spec = job["spec"]
        track = self._jobs.get((namespace, name))
        if track is None or track.uid != job["metadata"]["uid"]:  # new, or a new Job by that name
            track = self._jobs[(namespace, name)] = _Tracking(job["metadata"]["uid"])
        pods = ctx.claim(job, "Pod", selector.matches)
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        succeeded = int(status.get("succeeded") or 0)
        failed = int(status.get("failed") or 0)
        done_indexes = _parse_intervals(status.get("completedIndexes"))
        now = ctx.now()
        present = {p["metadata"]["uid"] for p in pods}
        for pod in pods:
            uid = pod["metadata"]["uid"]
            if uid in track.counted:
                continue
            phase = (pod.get("status") or {}).get("phase")
            if phase == "Succeeded":
                track.counted.add(uid)
                index = _index(pod)
                if not indexed:
                    succeeded += 1
                elif index is not None and index not in done_indexes:
                    done_indexes.add(index)
                    succeeded += 1
                track.failures_since_success = 0
            elif phase == "Failed" or is_deleting(pod):
                track.counted.add(uid)
                failed += 1
                track.failures_since_success += 1
                track.last_failure = now
            else:
                track.seen.add(uid)
        for uid in sorted(track.seen - present):  # gone without a final phase: a failure
            if uid not in track.counted:
                track.counted.add(uid)
                failed += 1
                track.failures_since_success += 1
                track.last_failure = now
        track.seen &= present
        active = [p for p in pods if is_active(p)]
        stamp = ctx.timestamp()
        suspended = bool(spec.get("suspend"))
        if status.get("startTime") is None and not suspended:
            status["startTime"] = stamp
        finished: JSONObject | None = None
        target = _has(conditions, "FailureTarget")
        if target is not None:
            finished = target
        elif failed > int(spec.get("backoffLimit", 6)) or self._past_backoff_on_failure(
            job, active
        ):
            finished = _condition(
                "FailureTarget",
                "True",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                stamp,
            )
        elif self._past_deadline(job, status, now):
            finished = _condition(
                "FailureTarget",
                "True",
                "DeadlineExceeded",
                "Job was active longer than specified deadline",
                stamp,
            )
        if finished is not None:
            for pod in active:  # what still runs is counted as failed, as the real controller does
                if ctx.delete("Pod", pod):
                    track.counted.add(pod["metadata"]["uid"])
                    failed += 1
            active = []
        else:
            conditions = self._suspension(job, conditions, status, suspended, stamp)
            if suspended:
                for pod in active:
                    if ctx.delete("Pod", pod):
                        track.counted.add(pod["metadata"]["uid"])
                active = []
            else:
                active = self._manage(job, track, pods, active, succeeded, done_indexes)
            if completions is None:
                complete = succeeded > 0 and not active
            else:
                complete = succeeded >= int(completions) and not active
            if complete:
                finished = _has(conditions, "SuccessCriteriaMet") or _condition(
                    "SuccessCriteriaMet",
                    "True",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    stamp,
                )
        current = [
            p
            for p in ctx.owned(job["metadata"]["uid"], "Pod")
            if selector.matches(p["metadata"].get("labels"))
        ]
        terminating = sum(1 for p in current if is_deleting(p) and not is_terminal(p))
        if finished is not None:
            if not _has(conditions, finished["type"]):
                conditions.append(finished)
            if terminating == 0:
                conditions = self._finish(job, conditions, status, finished, stamp)
        self._write(job, status, conditions, current, succeeded, failed, terminating, done_indexes)

    # -- decisions ---------------------------------------------------------------------------------

    def _past_backoff_on_failure(self, job: JSONObject, active: list[JSONObject]) -> bool:
        template_spec = ((job["spec"].get("template") or {}).get("spec")) or {}
        if template_spec.get("restartPolicy") != "OnFailure":
            return False
        restarts = 0
        for pod in active:
            if (pod.get("status") or {}).get("phase") not in ("Running", "Pending"):
                continue
            for key in ("initContainerStatuses", "containerStatuses"):
                for cs in (pod.get("status") or {}).get(key) or []:
                    restarts += int(cs.get("restartCount") or 0)
        limit = int(job["spec"].get("backoffLimit", 6))
        return restarts > 0 if limit == 0 else restarts >= limit

    def _past_deadline(self, job: JSONObject, status: JSONObject, now: datetime.datetime) -> bool:
        seconds = job["spec"].get("activeDeadlineSeconds")
        start = parse_time(status.get("startTime"))
        if not isinstance(seconds, int) or start is None or job["spec"].get("suspend"):
            return False
        deadline = start + datetime.timedelta(seconds=seconds)
        if now >= deadline:
            return True
        meta = job["metadata"]
        self.ctx.requeue_at(("Job", meta.get("namespace") or "", meta["name"]), deadline)
        return False

    def _suspension(
        self,
        job: JSONObject,
        conditions: list[JSONObject],
        status: JSONObject,
        suspended: bool,
        stamp: str,
    ) -> list[JSONObject]:
        current = next((c for c in conditions if c.get("type") == "Suspended"), None)
        if suspended and (current is None or current.get("status") != "True"):
            cond = _condition("Suspended", "True", "JobSuspended", "Job suspended", stamp)
            self.ctx.event(job, _COMPONENT, "Suspended", "Job suspended")
        elif not suspended and current is not None and current.get("status") == "True":
            cond = _condition("Suspended", "False", "JobResumed", "Job resumed", stamp)
            self.ctx.event(job, _COMPONENT, "Resumed", "Job resumed")
            status["startTime"] = stamp  # the active deadline counts from the resumption
        else:
            return conditions
        if current is None:
            return [*conditions, cond]
        return [cond if c is current else c for c in conditions]  # updated in place

    def _manage(
        self,
        job: JSONObject,
        track: _Tracking,
        pods: list[JSONObject],
        active: list[JSONObject],
        succeeded: int,
        done_indexes: set[int],
    ) -> list[JSONObject]:
        """Create or delete pods towards the wanted number active; returns the active pods."""
        ctx = self.ctx
        spec = job["spec"]
        parallelism = int(spec.get("parallelism", 1) or 0)
        completions = spec.get("completions")
        if completions is None:
            want = len(active) if succeeded > 0 else parallelism
        else:
            want = max(min(int(completions) - succeeded, parallelism), 0)
        if len(active) > want:
            extra = sorted(active, key=deletion_order)[: len(active) - want]
            for pod in extra:
                if ctx.delete("Pod", pod):
                    track.counted.add(pod["metadata"]["uid"])
                    ctx.event(
                        job,
                        _COMPONENT,
                        "SuccessfulDelete",
                        f"Deleted pod: {pod['metadata']['name']}",
                    )
            gone = {p["metadata"]["uid"] for p in extra}
            return [p for p in active if p["metadata"]["uid"] not in gone]
        missing = min(want - len(active), _BURST)
        if missing <= 0:
            return active
        if track.failures_since_success and track.last_failure is not None:
            delay = min(_BACKOFF * 2 ** (track.failures_since_success - 1), _MAX_BACKOFF)
            ready_at = track.last_failure + datetime.timedelta(seconds=delay)
            if ready_at > ctx.now():
                meta = job["metadata"]
                ctx.requeue_at(("Job", meta.get("namespace") or "", meta["name"]), ready_at)
                return active
        indexes: list[int | None] = [None] * missing
        if spec.get("completionMode") == "Indexed":
            busy = done_indexes | {i for p in active if (i := _index(p)) is not None}
            free = [i for i in range(int(completions or 0)) if i not in busy]
            indexes = list(free[:missing])
        for index in indexes:
            try:
                created = ctx.create(
                    "Pod", job["metadata"].get("namespace"), self._new_pod(job, index)
                )
            except APIError as exc:
                ctx.event(
                    job,
                    _COMPONENT,
                    "FailedCreate",
                    f"Error creating: {exc.status.get('message', exc)}",
                    warning=True,
                )
                break
            active.append(created)
            track.seen.add(created["metadata"]["uid"])
            ctx.event(
                job, _COMPONENT, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}"
            )
        return active

    def _new_pod(self, job: JSONObject, index: int | None) -> JSONObject:
        name = job["metadata"]["name"]
        template = job["spec"].get("template") or {}
        prefix = f"{name}-" if index is None else f"{name}-{index}-"
        pod = pod_from_template(job, template, generate_name=prefix)
        if index is not None:
            meta = pod["metadata"]
            meta.setdefault("annotations", {})[INDEX_KEY] = str(index)
            meta.setdefault("labels", {})[INDEX_KEY] = str(index)
            pod["spec"]["hostname"] = f"{name}-{index}"
            env = {
                "name": "JOB_COMPLETION_INDEX",
                "valueFrom": {
                    "fieldRef": {
                        "apiVersion": "v1",
                        "fieldPath": f"metadata.annotations['{INDEX_KEY}']",
                    }
                },
            }
            for key in ("initContainers", "containers"):
                for container in pod["spec"].get(key) or []:
                    container["env"] = [*(container.get("env") or []), dict(env)]
        return pod

    def _finish(
        self,
        job: JSONObject,
        conditions: list[JSONObject],
        status: JSONObject,
        interim: JSONObject,
        stamp: str,
    ) -> list[JSONObject]:
        """Turn the interim condition into the final one, once no pod is terminating."""
        if interim["type"] == "SuccessCriteriaMet":
            final = _condition("Complete", "True", interim["reason"], interim["message"], stamp)
            status["completionTime"] = stamp
            self.ctx.event(job, _COMPONENT, "Completed", "Job completed")
        else:
            final = _condition("Failed", "True", interim["reason"], interim["message"], stamp)
            self.ctx.event(job, _COMPONENT, interim["reason"], interim["message"], warning=True)
        return [*conditions, final]

    # -- status ------------------------------------------------------------------------------------

    def _write(
        self,
        job: JSONObject,
        previous: JSONObject,
        conditions: list[JSONObject],
        pods: list[JSONObject],
        succeeded: int,
        failed: int,
        terminating: int,
        done_indexes: set[int],
    ) -> None:
        active = [p for p in pods if is_active(p)]
        status: JSONObject = {}
        if conditions:
            status["conditions"] = conditions
        for key in ("startTime", "completionTime"):
            if previous.get(key):
                status[key] = previous[key]
        for key, value in (("active", len(active)), ("succeeded", succeeded), ("failed", failed)):
            if value:
                status[key] = value
        status["terminating"] = terminating
        if job["spec"].get("completionMode") == "Indexed" and done_indexes:
            status["completedIndexes"] = _intervals(done_indexes)
        status["uncountedTerminatedPods"] = {}
        status["ready"] = sum(1 for p in active if is_ready(p))
        self.ctx.update_status("Job", job, status)
