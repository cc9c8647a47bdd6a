"""Streams on objects: Pod.logs; WorkloadLogs: Deployment.logs / Job.logs over the pods kubectl
would pick (filled in by the streams issue)."""

from __future__ import annotations

from kr8s_trio._objects._base import APIObject

__all__ = ["PodLogs", "WorkloadLogs"]


class PodLogs(APIObject):
    """Mixed into the kinds that have it; no kind of its own."""

    __slots__ = ()


class WorkloadLogs(APIObject):
    """Mixed into the kinds that have it; no kind of its own."""

    __slots__ = ()
