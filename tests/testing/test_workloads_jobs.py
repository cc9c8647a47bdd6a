"""The Job controller of the fake (pods run and finished by the test), and inert CronJobs."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing
from workload_support import (
    controllers_only,
    finish_pod,
    job,
    names,
    owner,
    pods,
    run_pending,
    suffix_of,
    writes,
)

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing import _recorder, _workloadctx

JSON = dict[str, Any]
INDEX = "batch.kubernetes.io/job-completion-index"


def conditions(status: JSON) -> list[tuple[str, str, str, str]]:
    return [(c["type"], c["status"], c["reason"], c["message"]) for c in status["conditions"]]


def running(cluster: Any) -> list[str]:
    return [p["metadata"]["name"] for p in pods(cluster) if p["status"]["phase"] == "Running"]


async def test_job_runs_to_completion() -> None:
    async with controllers_only() as cluster:
        created = cluster.create(job("pi", completions=3, parallelism=2))
        uid = created["metadata"]["uid"]
        assert created["spec"]["selector"] == {
            "matchLabels": {"batch.kubernetes.io/controller-uid": uid}
        }
        labels = {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": "pi",
            "controller-uid": uid,
            "job-name": "pi",
        }
        assert created["spec"]["template"]["metadata"]["labels"] == labels
        assert created["metadata"]["labels"] == labels
        assert created["spec"]["podReplacementPolicy"] == "TerminatingOrFailed"
        first = pods(cluster)
        assert len(first) == 2
        for pod in first:
            suffix_of(pod["metadata"]["name"], "pi-")
            assert pod["metadata"]["labels"] == labels
            assert pod["spec"]["restartPolicy"] == "Never"
            assert owner(pod) == {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": "pi",
                "uid": uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        status = cluster.get("jobs", "pi")["status"]
        start = status["startTime"]
        assert status == {
            "startTime": start,
            "active": 2,
            "terminating": 0,
            "uncountedTerminatedPods": {},
            "ready": 0,
        }
        run_pending(cluster)
        assert cluster.get("jobs", "pi")["status"]["ready"] == 2
        finish_pod(cluster, first[0]["metadata"]["name"])
        assert len(pods(cluster)) == 3  # one more started for the third completion
        status = cluster.get("jobs", "pi")["status"]
        assert (status["active"], status["succeeded"], status["ready"]) == (2, 1, 1)
        for name in names(pods(cluster)):
            if cluster.get("pods", name)["status"]["phase"] != "Succeeded":
                finish_pod(cluster, name)
        assert len(pods(cluster)) == 3
        status = cluster.get("jobs", "pi")["status"]
        done = status["completionTime"]
        assert status == {
            "conditions": status["conditions"],
            "startTime": start,
            "completionTime": done,
            "succeeded": 3,
            "terminating": 0,
            "uncountedTerminatedPods": {},
            "ready": 0,
        }
        assert conditions(status) == [
            (
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            ),
            ("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
        ]
        assert set(status["conditions"][0]) == {
            "type",
            "status",
            "lastProbeTime",
            "lastTransitionTime",
            "reason",
            "message",
        }
        reasons = [e["reason"] for e in cluster.list("events", "default")]
        assert reasons.count("SuccessfulCreate") == 3
        assert reasons.count("Completed") == 1


async def test_job_fails_after_its_backoff_limit(mock_clock: trio.testing.MockClock) -> None:
    async with controllers_only() as cluster:
        cluster.create(job("flaky", backoffLimit=1))
        (pod,) = pods(cluster)
        finish_pod(cluster, pod["metadata"]["name"], exit_code=1)
        status = cluster.get("jobs", "flaky")["status"]
        assert status["failed"] == 1
        assert "active" not in status
        # the replacement waits for the pod-failure backoff (10 s)
        assert len(pods(cluster)) == 1
        mock_clock.jump(9)
        await trio.testing.wait_all_tasks_blocked()
        assert len(pods(cluster)) == 1
        mock_clock.jump(1)
        await trio.testing.wait_all_tasks_blocked()
        second = [p for p in pods(cluster) if p["status"]["phase"] == "Pending"]
        assert len(second) == 1
        finish_pod(cluster, second[0]["metadata"]["name"], exit_code=1)
        status = cluster.get("jobs", "flaky")["status"]
        assert conditions(status) == [
            (
                "FailureTarget",
                "True",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            ),
            (
                "Failed",
                "True",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            ),
        ]
        assert status["failed"] == 2
        assert "completionTime" not in status
        assert (status["ready"], status["terminating"]) == (0, 0)
        mock_clock.jump(600)
        await trio.testing.wait_all_tasks_blocked()
        assert len(pods(cluster)) == 2  # nothing more is started
        warnings = [e for e in cluster.list("events", "default") if e["type"] == "Warning"]
        assert [e["reason"] for e in warnings] == ["BackoffLimitExceeded"]


async def test_job_active_deadline(mock_clock: trio.testing.MockClock) -> None:
    async with controllers_only() as cluster:
        cluster.create(job("slow", activeDeadlineSeconds=30))
        run_pending(cluster)
        mock_clock.jump(30)
        await trio.testing.wait_all_tasks_blocked()
        status = cluster.get("jobs", "slow")["status"]
        assert conditions(status) == [
            (
                "FailureTarget",
                "True",
                "DeadlineExceeded",
                "Job was active longer than specified deadline",
            ),
            ("Failed", "True", "DeadlineExceeded", "Job was active longer than specified deadline"),
        ]
        assert status["failed"] == 1  # the running pod was deleted and counts as failed
        assert pods(cluster, deleting=True) == []


async def test_suspended_job_creates_no_pods_until_resumed() -> None:
    async with controllers_only() as cluster:
        cluster.create(job("later", suspend=True, parallelism=2, completions=2))
        assert pods(cluster) == []
        status = cluster.get("jobs", "later")["status"]
        assert conditions(status) == [("Suspended", "True", "JobSuspended", "Job suspended")]
        assert "startTime" not in status
        cluster.patch("jobs", "later", {"spec": {"suspend": False}})
        assert len(pods(cluster)) == 2
        status = cluster.get("jobs", "later")["status"]
        assert conditions(status) == [("Suspended", "False", "JobResumed", "Job resumed")]
        assert status["startTime"]
        cluster.patch("jobs", "later", {"spec": {"suspend": True}})
        assert pods(cluster) == []
        status = cluster.get("jobs", "later")["status"]
        assert "failed" not in status  # pods removed by suspension are not failures
        assert conditions(status) == [("Suspended", "True", "JobSuspended", "Job suspended")]


async def test_indexed_job_names_and_tracks_indexes() -> None:
    async with controllers_only() as cluster:
        cluster.create(job("idx", completions=3, parallelism=3, completionMode="Indexed"))
        found = pods(cluster)
        by_index = {
            p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p
            for p in found
        }
        assert sorted(by_index) == ["0", "1", "2"]
        for index, pod in by_index.items():
            suffix_of(pod["metadata"]["name"], f"idx-{index}-")
            assert pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == index
            assert pod["spec"]["hostname"] == f"idx-{index}"
            assert pod["spec"]["containers"][0]["env"] == [
                {
                    "name": "JOB_COMPLETION_INDEX",
                    "valueFrom": {
                        "fieldRef": {
                            "apiVersion": "v1",
                            "fieldPath": f"metadata.annotations['{INDEX}']",
                        }
                    },
                }
            ]
        finish_pod(cluster, by_index["0"]["metadata"]["name"])
        finish_pod(cluster, by_index["2"]["metadata"]["name"])
        status = cluster.get("jobs", "idx")["status"]
        assert (status["completedIndexes"], status["succeeded"], status["active"]) == ("0,2", 2, 1)
        finish_pod(cluster, by_index["1"]["metadata"]["name"])
        status = cluster.get("jobs", "idx")["status"]
        assert status["completedIndexes"] == "0-2"
        assert conditions(status)[-1][:3] == ("Complete", "True", "CompletionsReached")


async def test_work_queue_job_completes_when_one_pod_succeeds_and_the_rest_end() -> None:
    async with controllers_only() as cluster:
        created = cluster.create(job("queue", parallelism=2))
        assert "completions" not in created["spec"]
        first, second = names(pods(cluster))
        finish_pod(cluster, first)
        assert names(pods(cluster)) == [first, second]  # no new pod after a success
        assert "conditions" not in cluster.get("jobs", "queue")["status"]
        finish_pod(cluster, second)
        status = cluster.get("jobs", "queue")["status"]
        assert status["succeeded"] == 2
        assert conditions(status)[-1][0] == "Complete"


async def test_deleted_pod_counts_as_failed_and_is_replaced_after_backoff(
    mock_clock: trio.testing.MockClock,
) -> None:
    async with controllers_only() as cluster:
        cluster.create(job("w"))
        (pod,) = pods(cluster)
        cluster.delete("pods", pod["metadata"]["name"])
        status = cluster.get("jobs", "w")["status"]
        assert status["failed"] == 1
        assert pods(cluster) == []
        mock_clock.jump(10)
        await trio.testing.wait_all_tasks_blocked()
        (replacement,) = pods(cluster)
        assert replacement["metadata"]["uid"] != pod["metadata"]["uid"]


async def test_job_reactions_settle_and_deletion_collects() -> None:
    async with controllers_only() as cluster:
        cluster.create(job("pi", completions=2, parallelism=2))
        run_pending(cluster)
        settled = writes(cluster)
        workloads = cluster.state.workloads
        assert workloads is not None
        workloads.enqueue(("Job", "default", "pi"))
        cluster.state.controllers.drain()
        assert writes(cluster) == settled
        cluster.delete("jobs", "pi", propagation_policy="Background")
        assert pods(cluster, deleting=True) == []


async def test_cronjob_stays_inert_with_a_valid_status(mock_clock: trio.testing.MockClock) -> None:
    async with controllers_only() as cluster:
        cj = cluster.create(
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": "tick"},
                "spec": {
                    "schedule": "* * * * *",
                    "jobTemplate": {"spec": job("x")["spec"]},
                },
            }
        )
        assert cj["status"] == {}
        assert (cj["spec"]["concurrencyPolicy"], cj["spec"]["suspend"]) == ("Allow", False)
        assert (cj["spec"]["successfulJobsHistoryLimit"], cj["spec"]["failedJobsHistoryLimit"]) == (
            3,
            1,
        )
        mock_clock.jump(180)
        await trio.testing.wait_all_tasks_blocked()
        assert cluster.list("jobs", "default") == []
        assert cluster.get("cronjobs", "tick")["status"] == {}


async def test_job_tracking_is_forgotten_once_the_job_finishes_or_is_gone() -> None:
    async with controllers_only() as cluster:
        workloads = cluster.state.workloads
        assert workloads is not None
        cluster.create(job("done"))
        cluster.create(job("dropped"))
        assert set(workloads.jobs._jobs) == {("default", "done"), ("default", "dropped")}
        (pod,) = [p for p in pods(cluster) if p["metadata"]["name"].startswith("done-")]
        finish_pod(cluster, pod["metadata"]["name"])
        assert conditions(cluster.get("jobs", "done")["status"])[-1][0] == "Complete"
        cluster.delete("jobs", "dropped", propagation_policy="Background")
        cluster.state.controllers.drain()
        assert workloads.jobs._jobs == {}


async def test_controller_errors_and_event_aggregation_keys_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with controllers_only() as cluster:
        workloads = cluster.state.workloads
        assert workloads is not None
        ctx = workloads.ctx
        errors = [APIError({"code": 409, "message": str(i)}) for i in range(150)]
        for error in errors:
            ctx.note_error(error)
        assert ctx.errors == errors[-_workloadctx.MAX_ERRORS :]

        monkeypatch.setattr(_recorder, "_MAX_SEEN", 2)
        obj = cluster.create(job("noisy"))
        for message in ("a", "b", "a", "c", "a", "b"):  # "b" is the least recent when "c" comes
            ctx.event(obj, "job-controller", "Test", message)
        counts = sorted(
            (e["message"], e["count"])
            for e in cluster.list("events", "default")
            if e["reason"] == "Test"
        )
        assert counts == [("a", 3), ("b", 1), ("b", 1), ("c", 1)]
